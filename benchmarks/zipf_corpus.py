"""A synthetic corpus with a vocabulary near a million words: tokens drawn independently from a Zipf law over
`--types` word types (P(rank r) ∝ r^−a), written as lines of `--line` words (gzip if OUT ends in .gz).

    python benchmarks/zipf_corpus.py OUT [--tokens 30000000] [--types 3000000] [--exponent 1.0] [--line 40]
                                         [--seed 1]

With a = 1 the expected count of rank r is tokens / (r · H), H = Σ_{r ≤ types} 1/r (≈ 15.5 for 3M types): 30M
tokens give rank 1M about 2 occurrences, so min_count 2 keeps about a million words. The text has no meaning (no
word predicts its neighbours): it measures what a vocabulary's size costs (the rows a round touches, the bytes
the workers exchange), not quality.
"""
import argparse
import gzip
import time

import numpy as np


def word(rank):
    """The word of a rank: 'w' and the rank in base 36."""
    return "w" + np.base_repr(rank, 36).lower()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--tokens", type=int, default=30_000_000)
    ap.add_argument("--types", type=int, default=3_000_000)
    ap.add_argument("--exponent", type=float, default=1.0)
    ap.add_argument("--line", type=int, default=40, help="words per line")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    weights = np.arange(1, a.types + 1, dtype=np.float64) ** -a.exponent
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    words = np.array([word(r) for r in range(a.types)], dtype=object)
    opener = gzip.open if a.out.endswith(".gz") else open
    block = a.line * 25_000
    with opener(a.out, "wt", encoding="utf-8") as f:
        for start in range(0, a.tokens, block):
            n = min(block, a.tokens - start)
            ranks = np.searchsorted(cdf, rng.random(n), side="right")
            tokens = words[np.minimum(ranks, a.types - 1)]
            f.write("\n".join(" ".join(tokens[i:i + a.line]) for i in range(0, n, a.line)) + "\n")
    print(f"{a.tokens:,} tokens over {a.types:,} types (a = {a.exponent}) written to {a.out} in "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
