"""Throughput and quality of w2v-nce against gensim, trained alternately on the same corpus and settings.

    python benchmarks/throughput.py [--corpus PATH] [--reps 3] [--configs sg-ns,sg-ns:per-example,cbow-ns,...]

A configuration is ARCH-OBJECTIVE, optionally followed by ":per-example" (skip-gram with fresh noise words for
every (context, target) example, as word2vec draws them, instead of shared among a target's contexts).
Words/s counts raw corpus words (epochs × tokens) per second of training wall time, as gensim reports it;
gensim runs in corpus_file mode. Each repetition runs every configuration once, ours then gensim's, so the runs
compared in a ratio are close in time; the table gives medians, the median and range of the per-repetition
speed ratios, and the ratio of the fastest runs. Repetition r uses seed --seed + r for both systems: quality
varies more between seeds than between runs with one seed. Quality: analogy accuracy (questions-words,
restrict_vocab 30000) and WS353 / SimLex-999 Spearman, with gensim's evaluators.
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_CORPORA = [os.path.join(ROOT, "..", "shared", "data", "text8_2m.txt.gz"),
                   os.path.join(ROOT, "data", "text8_sample.txt.gz")]


def default_corpus():
    """The first of DEFAULT_CORPORA that exists (None if none does)."""
    return next((c for c in DEFAULT_CORPORA if os.path.exists(c)), None)


def plain_copy(path, tmp):
    """gensim's corpus_file mode reads plain text: decompress .gz once."""
    if not path.endswith(".gz"):
        return path
    out = os.path.join(tmp, os.path.basename(path)[:-3])
    with gzip.open(path, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return out


def evaluate(kv):
    from gensim.test.utils import datapath

    analogy = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=30000)[0]
    ws = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0]
    sl = kv.evaluate_word_pairs(datapath("simlex999.txt"))[1][0]
    return dict(analogy=analogy, ws353=ws, simlex=sl)


def run_ours(corpus, arch, objective, s, seed, shared_negatives=True, **options):
    """options: further training options (e.g. alpha, min_alpha) for w2v_nce.train."""
    import w2v_nce

    options.setdefault("alpha", s.alpha_cbow if arch == "cbow" else None)
    t0 = time.perf_counter()
    m = w2v_nce.train(corpus, objective=objective, arch=arch, dim=s.dim, window=s.window, negative=s.negative,
                      sample=s.sample, min_count=s.min_count, epochs=s.epochs, workers=s.workers, seed=seed,
                      shared_negatives=shared_negatives, **options)
    total = time.perf_counter() - t0
    st = m.stats
    return dict(train_seconds=st["train_seconds"], total_seconds=total, words_per_second=st["words_per_second"],
                final_loss=m.epoch_losses[-1], **evaluate(m.to_keyedvectors()))


def run_gensim(corpus, arch, s, seed):
    from gensim.models import Word2Vec

    t0 = time.perf_counter()
    m = Word2Vec(corpus_file=corpus, sg=1 if arch == "sg" else 0, vector_size=s.dim, window=s.window,
                 negative=s.negative, hs=0, sample=s.sample, min_count=s.min_count, epochs=s.epochs,
                 workers=s.workers, seed=seed, alpha=s.alpha_cbow if arch == "cbow" else 0.025)
    total = time.perf_counter() - t0
    words = m.corpus_total_words * s.epochs
    return dict(train_seconds=m.total_train_time, total_seconds=total,
                words_per_second=words / m.total_train_time, final_loss=None, **evaluate(m.wv))


def summarize(rows):
    keys = ["train_seconds", "words_per_second", "analogy", "ws353", "simlex"]
    return {k: statistics.median(r[k] for r in rows) for k in keys}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=default_corpus())
    p.add_argument("--configs", default="sg-ns,sg-ns:per-example,cbow-ns,sg-nce,sg-infonce")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--alpha-cbow", type=float, default=0.05, help="CBOW learning rate for both systems")
    p.add_argument("--no-gensim", action="store_true")
    p.add_argument("--json", help="write every measurement here")
    s = p.parse_args(argv)
    from w2v_nce.objectives import OBJECTIVES

    configs = []
    for c in s.configs.split(","):
        name, _, variant = c.partition(":")
        arch, objective = name.split("-")
        if objective not in OBJECTIVES or variant not in ("", "per-example"):
            print(f"skipping {c}: unknown objective or variant", file=sys.stderr)
            continue
        configs.append((arch, objective, variant))
    tmp = tempfile.mkdtemp(prefix="w2v-bench-")
    try:
        corpus = plain_copy(os.path.abspath(s.corpus), tmp)
        print(f"corpus {s.corpus}; dim {s.dim}, window {s.window}, k {s.negative}, sample {s.sample}, "
              f"min_count {s.min_count}, epochs {s.epochs}, workers {s.workers}, reps {s.reps}", flush=True)
        results = {}
        # repetitions outermost: the runs compared in a ratio are close in time (the machine's speed drifts)
        for rep in range(s.reps):
            seed = s.seed + rep  # one seed per repetition, the same for both systems
            for arch, objective, variant in configs:
                ours_key = f"w2v-nce {arch}-{objective}" + (f":{variant}" if variant else "")
                results.setdefault(ours_key, []).append(
                    run_ours(corpus, arch, objective, s, seed, shared_negatives=variant != "per-example"))
                print(f"  {ours_key} rep {rep + 1}: {json.dumps(_rounded(results[ours_key][-1]))}", flush=True)
                if objective == "ns" and not variant and not s.no_gensim:
                    g_key = f"gensim {arch}-ns"
                    results.setdefault(g_key, []).append(run_gensim(corpus, arch, s, seed))
                    print(f"  {g_key} rep {rep + 1}: {json.dumps(_rounded(results[g_key][-1]))}", flush=True)
        print_table(results, s)
        if s.json:
            with open(s.json, "w") as f:
                json.dump(results, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _rounded(row):
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}


def print_table(results, s):
    """Medians; "× gensim" is the median of the per-repetition words/s ratios (range in brackets), "best" the
    ratio of the two systems' fastest runs."""
    print(f"\n{'system':<30}{'train s':>9}{'words/s':>12}{'× gensim [range]':>22}{'best':>6}"
          f"{'analogy':>9}{'WS353':>8}{'SimLex':>8}")
    for key, rows in results.items():
        med = summarize(rows)
        arch = key.split(" ", 1)[1].split("-")[0]
        g = results.get(f"gensim {arch}-ns")
        ratio = best = ""
        if g and not key.startswith("gensim"):
            ratios = [r["words_per_second"] / q["words_per_second"] for r, q in zip(rows, g)]
            ratio = f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]"
            best = f"{min(q['train_seconds'] for q in g) / min(r['train_seconds'] for r in rows):.2f}"
        print(f"{key:<30}{med['train_seconds']:>9.1f}{med['words_per_second']:>12,.0f}{ratio:>22}{best:>6}"
              f"{100 * med['analogy']:>8.2f}%{med['ws353']:>8.3f}{med['simlex']:>8.3f}")
    sg_ns = results.get("w2v-nce sg-ns")
    for key in ("w2v-nce sg-nce", "w2v-nce sg-infonce"):
        if key in results and sg_ns:
            ratios = [a["train_seconds"] / b["train_seconds"] for a, b in zip(results[key], sg_ns)]
            print(f"{key} time / w2v-nce sg-ns time: median {statistics.median(ratios):.2f} "
                  f"[{min(ratios):.2f}–{max(ratios):.2f}]")


if __name__ == "__main__":
    main()
