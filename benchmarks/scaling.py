"""Thread scaling: training speed with one worker and with two, for w2v-nce and gensim, alternately.

    python benchmarks/scaling.py [--corpus PATH] [--archs cbow] [--reps 5] [--workers 1,2] [--epochs 5]

Settings as in throughput.py (d=100, window 5, k=5, sample 1e-3, min_count 5, negative sampling; CBOW α = 0.05
for both systems); gensim in corpus_file mode. Each repetition trains every (system, workers) pair once, the
order of the worker counts reversed every other repetition, so that the runs compared in a ratio are close in
time. Words/s counts raw corpus words per second of training. Printed: per system and worker count the median
training seconds and words/s, then the speed-up from the first worker count to each other one, as the median
(range) of the per-repetition ratios of training times.
"""
import statistics
import tempfile

import common


def train_ours(corpus, arch, workers, s, seed):
    import w2v_nce

    m = w2v_nce.train(corpus, objective="ns", arch=arch, dim=100, window=5, negative=5, sample=1e-3, min_count=5,
                      epochs=s.epochs, workers=workers, seed=seed, alpha=s.alpha_cbow if arch == "cbow" else None)
    return m.stats["train_seconds"], m.stats["words_per_second"]


def train_gensim(corpus, arch, workers, s, seed):
    from gensim.models import Word2Vec

    m = Word2Vec(corpus_file=corpus, sg=1 if arch == "sg" else 0, vector_size=100, window=5, negative=5, hs=0,
                 sample=1e-3, min_count=5, epochs=s.epochs, workers=workers, seed=seed,
                 alpha=s.alpha_cbow if arch == "cbow" else 0.025)
    return m.total_train_time, m.corpus_total_words * s.epochs / m.total_train_time


def main(argv=None):
    p = common.parser(__doc__, reps=5, json_help="write every measurement here")
    p.add_argument("--archs", default="cbow", help="comma-separated: cbow, sg")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts; ratios are against the first")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--alpha-cbow", type=float, default=0.05)
    p.add_argument("--no-gensim", action="store_true")
    s = p.parse_args(argv)
    workers = [int(w) for w in s.workers.split(",")]
    systems = [("w2v-nce", train_ours)] + ([] if s.no_gensim else [("gensim", train_gensim)])
    with tempfile.TemporaryDirectory(prefix="w2v-scaling-", ignore_cleanup_errors=True) as tmp:
        corpus = common.plain_copy(s.corpus, tmp)
        print(f"corpus {s.corpus}; d 100, window 5, k 5, sample 1e-3, min_count 5, epochs {s.epochs}, "
              f"reps {s.reps}, workers {workers}", flush=True)
        results = {}
        for rep in range(s.reps):
            order = workers if rep % 2 == 0 else workers[::-1]
            for arch in s.archs.split(","):
                for name, train in systems:
                    for w in order:
                        secs, wps = train(corpus, arch, w, s, s.seed + rep)
                        results.setdefault(f"{name} {arch}", {}).setdefault(w, []).append((secs, wps))
                        print(f"  rep {rep + 1} {name} {arch} workers {w}: {secs:.2f} s, {wps:,.0f} words/s",
                              flush=True)
        print_table(results, workers)
        common.write_json(s.json, {k: {str(w): v for w, v in d.items()} for k, d in results.items()})


def print_table(results, workers):
    base = workers[0]
    print(f"\n{'system':<16}{'workers':>8}{'train s':>9}{'words/s':>12}{f'speed-up vs {base} [range]':>30}")
    for key, by_w in results.items():
        for w in workers:
            runs = by_w[w]
            speedup = ""
            if w != base:
                speedup = common.median_range([a[0] / b[0] for a, b in zip(by_w[base], runs)])
            print(f"{key:<16}{w:>8}{statistics.median(r[0] for r in runs):>9.2f}"
                  f"{statistics.median(r[1] for r in runs):>12,.0f}{speedup:>30}")


if __name__ == "__main__":
    main()
