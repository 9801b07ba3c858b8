"""Thread scaling: training speed with one worker and with two, for w2v-nce and gensim, alternately.

    python benchmarks/scaling.py [--corpus PATH] [--configs cbow-ns,sg-hs,...] [--reps 5] [--workers 1,2]
                                 [--epochs 5] [--no-gensim] [--quality]

A configuration is ARCH-OBJECTIVE (sg or cbow; ns, nce, infonce or hs). Settings as in throughput.py (d=100,
window 5, k=5, sample 1e-3, min_count 5; CBOW α = 0.05 for both systems); gensim in corpus_file mode, for ns and
hs only. Each repetition trains every (system, workers) pair once, the order of the worker counts reversed every other repetition, so that the runs
compared in a ratio are close in time. Words/s counts raw corpus words per second of training; CPU s/Mw is the
process's CPU seconds during training (ours: its CPU time over the whole call less the preparation's wall time)
per million raw words: with perfect scaling it does not grow with the workers, and what it grows by is the cost
of the threads' contention. Printed: per system and worker count the median training seconds, words/s and CPU
s/Mw, then the speed-up from the first worker count to each other one, as the median (range) of the
per-repetition ratios of training times; with --quality, each run's analogy accuracy (questions-words, the 30,000
most frequent words) and WS353 Spearman, and their medians [ranges] (repetition r trains with seed --seed + r).
"""
import statistics
import tempfile
import time

import common


def train_ours(corpus, arch, objective, workers, s, seed):
    import w2v_nce

    cpu0 = time.process_time()
    m = w2v_nce.train(corpus, objective=objective, arch=arch, dim=100, window=5, negative=5, sample=1e-3,
                      min_count=5, epochs=s.epochs, workers=workers, seed=seed,
                      alpha=s.alpha_cbow if arch == "cbow" else None)
    cpu = time.process_time() - cpu0 - m.stats["prep_seconds"]
    out = (m.stats["train_seconds"], m.stats["words_per_second"], cpu / (m.stats["train_words"] / 1e6))
    if s.quality:
        from w2v_nce.model.evaluation import word_vector_metrics

        q = word_vector_metrics(m.to_keyedvectors())
        out += (q["analogy_accuracy"], q["ws353_spearman"])
    return out


def train_gensim(corpus, arch, objective, workers, s, seed):
    from gensim.models import Word2Vec

    hs = objective == "hs"
    cpu0 = time.process_time()
    m = Word2Vec(corpus_file=corpus, sg=1 if arch == "sg" else 0, vector_size=100, window=5, negative=0 if hs else 5,
                 hs=int(hs), sample=1e-3, min_count=5, epochs=s.epochs, workers=workers, seed=seed,
                 alpha=s.alpha_cbow if arch == "cbow" else 0.025)
    words = m.corpus_total_words * s.epochs
    out = (m.total_train_time, words / m.total_train_time, (time.process_time() - cpu0) / (words / 1e6))
    if s.quality:
        from w2v_nce.model.evaluation import word_vector_metrics

        q = word_vector_metrics(m.wv)
        out += (q["analogy_accuracy"], q["ws353_spearman"])
    return out


def main(argv=None):
    p = common.parser(__doc__, reps=5, json_help="write every measurement here")
    p.add_argument("--configs", default="cbow-ns", help="comma-separated ARCH-OBJECTIVE: sg-ns, cbow-hs, ...")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts; ratios are against the first")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--alpha-cbow", type=float, default=0.05)
    p.add_argument("--no-gensim", action="store_true")
    p.add_argument("--quality", action="store_true", help="also evaluate every run's vectors (analogy, WS353)")
    s = p.parse_args(argv)
    workers = [int(w) for w in s.workers.split(",")]
    configs = [c.split("-") for c in s.configs.split(",")]
    systems = [("w2v-nce", train_ours)] + ([] if s.no_gensim else [("gensim", train_gensim)])
    with tempfile.TemporaryDirectory(prefix="w2v-scaling-", ignore_cleanup_errors=True) as tmp:
        corpus = common.plain_copy(s.corpus, tmp)
        print(f"corpus {s.corpus}; d 100, window 5, k 5, sample 1e-3, min_count 5, epochs {s.epochs}, "
              f"reps {s.reps}, workers {workers}; {common.cpu_model()}", flush=True)
        results = {}
        for rep in range(s.reps):
            order = workers if rep % 2 == 0 else workers[::-1]
            for arch, objective in configs:
                for name, train in systems:
                    if name == "gensim" and objective not in ("ns", "hs"):
                        continue
                    for w in order:
                        run = train(corpus, arch, objective, w, s, s.seed + rep)
                        key = f"{name} {arch}-{objective}"
                        results.setdefault(key, {}).setdefault(w, []).append(run)
                        quality = f", analogy {run[3]:.2%}, WS353 {run[4]:.3f}" if s.quality else ""
                        print(f"  rep {rep + 1} {key} workers {w}: {run[0]:.2f} s, {run[1]:,.0f} words/s, "
                              f"{run[2]:.2f} CPU s/Mw{quality}", flush=True)
        print_table(results, workers)
        if s.quality:
            print_quality(results, workers)
        common.write_json(s.json, {k: {str(w): v for w, v in d.items()} for k, d in results.items()})


def print_table(results, workers):
    base = workers[0]
    width = max(len(k) for k in results) + 2
    print(f"\n{'system':<{width}}{'workers':>8}{'train s':>9}{'words/s':>12}{'CPU s/Mw':>10}"
          f"{f'speed-up vs {base} [range]':>30}")
    for key, by_w in results.items():
        for w in workers:
            runs = by_w[w]
            speedup = ""
            if w != base:
                speedup = common.median_range([a[0] / b[0] for a, b in zip(by_w[base], runs)])
            print(f"{key:<{width}}{w:>8}{statistics.median(r[0] for r in runs):>9.2f}"
                  f"{statistics.median(r[1] for r in runs):>12,.0f}{statistics.median(r[2] for r in runs):>10.2f}"
                  f"{speedup:>30}")


def print_quality(results, workers):
    """Per system and worker count: the median analogy accuracy and WS353 [ranges over the repetitions]."""
    print(f"\n{'system':<40}{'workers':>8}{'analogy [range]':>26}{'WS353 [range]':>24}")
    for key, by_w in results.items():
        for w in workers:
            runs = by_w[w]
            print(f"{key:<40}{w:>8}{common.median_range([r[3] * 100 for r in runs]):>26}"
                  f"{common.median_range([r[4] for r in runs], '.3f'):>24}")


if __name__ == "__main__":
    main()
