"""The rows a cluster part's round changes and marks, and what its work besides training costs, on a real corpus.

    python benchmarks/touched_rows.py --corpus zipf30m.txt [--parts 16] [--dim 300] [--min-count 3]
                                      [--objective ns] [--arch sg] [--round-words 200000] [--rounds 8]

Trains one part (one thread) as a worker of a job of --parts parts would: rounds of --round-words words of the
corpus, the stratified synchronization of such a job (the rows whose words such a part expects at least once a
round every round, rarer ones every 2, 4 or 8). After each round it reports the rows marked (from the round's
words: cluster/local_rows.py) and the rows changed, below and above the round's synchronized prefix n, and times
the part's own bookkeeping on them:
keep (before the round: a copy of the marks), changes (the marked rows below n compared with base) and
the synchronization's local copy (base's rows written or marked below n into the local weights; here the part's own
change stands for the combined one). Per round, then medians.
"""
import argparse
import statistics
import tempfile
import time

import numpy as np

from w2v_nce.cluster.part import Part
from w2v_nce.cluster.pieces import plan_pieces
from w2v_nce.cluster.plan import round_chunks, sync_periods, synced_prefix
from w2v_nce.prepare.corpus import TextCorpus
from w2v_nce.prepare.vocab import Vocabulary
from w2v_nce.training.run import resolve_start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True)
    p.add_argument("--parts", type=int, default=16, help="parts of the job whose stratification is used")
    p.add_argument("--dim", type=int, default=300)
    p.add_argument("--min-count", type=int, default=3)
    p.add_argument("--objective", default="ns")
    p.add_argument("--arch", default="sg")
    p.add_argument("--round-words", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=8)
    a = p.parse_args()
    opts = resolve_start(options=dict(dim=a.dim, min_count=a.min_count, objective=a.objective, arch=a.arch,
                                      workers=1, seed=1)).opts
    t0 = time.perf_counter()
    vocab = Vocabulary.build(TextCorpus(a.corpus), a.min_count)
    V = len(vocab)
    rng = np.random.default_rng(1)
    weights = ((rng.random((V, a.dim), dtype=np.float32) - 0.5) / a.dim, np.zeros((V, a.dim), np.float32),
               np.zeros(V, np.float32))
    with tempfile.TemporaryDirectory() as tmp:
        pieces = plan_pieces(a.corpus, 1)
        part = Part(0, opts, vocab, pieces, [(0, 0, vocab.raw_sentences)], weights, 10 ** 12, tmp,
                    chunk_words=a.round_words // 4)
        raw = part.encoded.chunks[:, 2]
        corpus_rounds = max(1, int(raw.sum()) // a.round_words)
        shares = round_chunks(raw, corpus_rounds)
        # the stratification of a job of --parts parts over this corpus: each part's round is --round-words words
        job_rounds = max(1, int(raw.sum()) // (a.parts * a.round_words))
        periods = sync_periods(vocab.counts, a.round_words, raw.sum() / a.parts, job_rounds, "stratified")
        print(f"{a.corpus}: V {V:,}, d {a.dim}, {a.arch} {a.objective}; a job of {a.parts} parts: {job_rounds} "
              f"rounds an epoch, rows synchronized every round {int((periods == 1).sum()):,} (prepared in "
              f"{time.perf_counter() - t0:.1f} s)")
        print("round  n        input rows marked, changed: <n, >=n       output rows marked, changed: <n, >=n    "
              "keep s  changes s  sync s  train s")
        rows = []
        for r in range(min(a.rounds, corpus_rounds)):
            n = synced_prefix(periods, r % job_rounds, job_rounds)
            t = time.perf_counter()
            part.keep()
            t_keep = time.perf_counter() - t
            part.trained = r + 1
            t = time.perf_counter()
            part.train_round(0, shares[r], 0, 1)
            t_train = time.perf_counter() - t
            marks = part.rows.touched
            counts = []
            for side, local, base in ((0, part.weights[0], part.base[0]), (1, part.weights[1], part.base[1])):
                changed = (local != base).any(axis=1)
                counts.append(f"{int(marks[side, :n].sum()):,}, {int(changed[:n].sum()):,}; "
                              f"{int(marks[side, n:].sum()):,}, {int(changed[n:].sum()):,}")
            t = time.perf_counter()
            (_, change), _ = part.changes(r + 1, n, n)
            t_changes = time.perf_counter() - t
            written = []
            for base, (ids, values) in zip(part.base, change):  # the part's own change as the combined one
                lines = base.reshape(V, -1)
                lines[ids] = part.weights[len(written)].reshape(V, -1)[ids]
                written.append(ids)
            t = time.perf_counter()
            part.rows.synchronized((n, n, n), written)
            t_sync = time.perf_counter() - t
            part.synced = r + 1
            rows.append((t_keep, t_changes, t_sync, t_train))
            print(f"{r:5d}  {n:<8,d} {counts[0]:<40s} {counts[1]:<40s} {t_keep:<7.3f} {t_changes:<10.3f} "
                  f"{t_sync:<7.3f} {t_train:.3f}")
        med = [statistics.median(x) for x in zip(*rows)]
        print(f"median: keep {med[0]:.3f} s, changes {med[1]:.3f} s, sync {med[2]:.3f} s (training {med[3]:.3f} s)")
        part.close()


if __name__ == "__main__":
    main()
