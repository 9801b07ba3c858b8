"""w2v-nce at its defaults against gensim's Word2Vec in corpus_file and iterable mode: paired differences in
word-vector quality and the speed ratio, at several epoch counts.

    python benchmarks/parity.py [--corpus PATH] [--reps 5] [--epochs 3,5] [--archs sg,cbow] [--iterable-reps 2]
                                [--sg-options alpha=0.04:min_alpha=0.004] [--cbow-options ...]

Every repetition r trains, for each architecture and epoch count, ours (negative sampling, w2v-nce's default
learning rate and schedule), then gensim in corpus_file mode, then (in the first --iterable-reps repetitions)
gensim in iterable mode (sentences from gensim's LineSentence), all with seed --seed + r: a pair shares its seed
and is close in time. gensim keeps word2vec's rates (alpha 0.025 skip-gram, 0.05 CBOW, min_alpha 1e-4), as the
README's comparisons do. Printed: medians per system, then per architecture and epoch count the median of the
paired differences ours − gensim (analogy in points, WS353, SimLex) with their range, and the median
words/s ratio. Other settings as in throughput.py: d=100, window 5, k=5, sample 1e-3, min_count 5, 2 workers.
--sg-options / --cbow-options train ours with other options (e.g. alpha=0.04:min_alpha=0.004) instead.
"""
import json
import statistics
import sys
import tempfile
import time
from types import SimpleNamespace

import common

GENSIM_ALPHA = {"sg": 0.025, "cbow": 0.05}


def run_ours(corpus, arch, s, seed, options):
    """w2v-nce with negative sampling in this process; options: training options (e.g. alpha, min_alpha) instead
    of w2v-nce's defaults (alpha None: its own default rate for both architectures)."""
    import w2v_nce

    t0 = time.perf_counter()
    m = w2v_nce.train(corpus, objective="ns", arch=arch, dim=s.dim, window=s.window, negative=s.negative,
                      sample=s.sample, min_count=s.min_count, epochs=s.epochs, workers=s.workers, seed=seed,
                      shared_negatives=True, **{"alpha": None, **options})
    total = time.perf_counter() - t0
    return dict(train_seconds=m.stats["train_seconds"], total_seconds=total,
                words_per_second=m.stats["words_per_second"], final_loss=m.epoch_losses[-1],
                **common.evaluate(m.to_keyedvectors()))


def run_gensim(corpus, arch, s, seed, mode):
    """gensim Word2Vec, corpus_file mode ("file") or sentences from LineSentence ("iterable")."""
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    source = dict(corpus_file=corpus) if mode == "file" else dict(sentences=LineSentence(corpus))
    t0 = time.perf_counter()
    m = Word2Vec(**source, sg=1 if arch == "sg" else 0, vector_size=s.dim, window=s.window, negative=s.negative,
                 hs=0, sample=s.sample, min_count=s.min_count, epochs=s.epochs, workers=s.workers, seed=seed,
                 alpha=GENSIM_ALPHA[arch], min_alpha=1e-4)
    total = time.perf_counter() - t0
    return dict(train_seconds=m.total_train_time, total_seconds=total,
                words_per_second=m.corpus_total_words * s.epochs / m.total_train_time, **common.evaluate(m.wv))


def parse_options(text):
    """"alpha=0.04:min_alpha=0.004" → {"alpha": 0.04, "min_alpha": 0.004} (numbers as floats)."""
    pairs = (item.split("=", 1) for item in text.split(":") if item)
    return {k: float(v) for k, v in pairs}


def main(argv=None):
    p = common.parser(__doc__, reps=5, json_help="write every measurement here")
    p.add_argument("--epochs", default="3,5")
    p.add_argument("--archs", default="sg,cbow")
    p.add_argument("--iterable-reps", type=int, default=2, help="repetitions that also run gensim's iterable mode")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sg-options", default="", help="ours' skip-gram options instead of the defaults: a=v:b=v")
    p.add_argument("--cbow-options", default="", help="ours' CBOW options instead of the defaults: a=v:b=v")
    a = p.parse_args(argv)
    results = {}  # (arch, epochs, system) → rows, one per repetition (None where not run)
    with tempfile.TemporaryDirectory(prefix="w2v-parity-", ignore_cleanup_errors=True) as tmp:
        corpus = common.plain_copy(a.corpus, tmp)
        print(f"corpus {a.corpus}; reps {a.reps}; epochs {a.epochs}; workers {a.workers}; ours: sg "
              f"{a.sg_options or 'defaults'}, cbow {a.cbow_options or 'defaults'}; command: {' '.join(sys.argv)}",
              flush=True)
        for rep in range(a.reps):
            seed = a.seed + rep
            for arch in a.archs.split(","):
                for epochs in map(int, a.epochs.split(",")):
                    s = SimpleNamespace(dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=epochs,
                                        workers=a.workers)
                    options = parse_options(a.sg_options if arch == "sg" else a.cbow_options)
                    runs = [("w2v-nce", lambda: run_ours(corpus, arch, s, seed, options)),
                            ("gensim file", lambda: run_gensim(corpus, arch, s, seed, "file"))]
                    if rep < a.iterable_reps:
                        runs.append(("gensim iterable", lambda: run_gensim(corpus, arch, s, seed, "iterable")))
                    for system, run in runs:
                        row = dict(run(), seed=seed)
                        results.setdefault((arch, epochs, system), []).append(row)
                        print(f"  {arch} {epochs} ep {system} rep {rep + 1}: "
                              f"{json.dumps(common.rounded(row))}", flush=True)
        print_tables(results)
        common.write_json(a.json, [dict(arch=k[0], epochs=k[1], system=k[2], runs=v) for k, v in results.items()])


def print_tables(results):
    print(f"\n{'arch':<5}{'ep':>3}  {'system':<16}{'n':>3}{'train s':>9}{'words/s':>12}{'analogy':>9}{'WS353':>8}"
          f"{'SimLex':>8}")
    for (arch, epochs, system), rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("train_seconds", "words_per_second", "analogy",
                                                                  "ws353", "simlex")}
        print(f"{arch:<5}{epochs:>3}  {system:<16}{len(rows):>3}{med['train_seconds']:>9.1f}"
              f"{med['words_per_second']:>12,.0f}{100 * med['analogy']:>8.2f}%{med['ws353']:>8.3f}"
              f"{med['simlex']:>8.3f}")
    print("\npaired differences ours − gensim (median [min, max] over the seeds both ran); speed: words/s ratio")
    print(f"{'arch':<5}{'ep':>3}  {'against':<16}{'n':>3}{'Δ analogy (pt)':>22}{'Δ WS353':>24}{'Δ SimLex':>24}"
          f"{'× words/s':>20}")
    for (arch, epochs, system), rows in results.items():
        if system == "w2v-nce":
            continue
        ours = {r["seed"]: r for r in results[(arch, epochs, "w2v-nce")]}
        pairs = [(ours[r["seed"]], r) for r in rows if r["seed"] in ours]

        def cell(key, scale=1.0, ratio=False):
            d = [(o[key] / g[key]) if ratio else scale * (o[key] - g[key]) for o, g in pairs]
            return common.median_range(d) if ratio else common.median_range(d, "+.3f", ", ")

        print(f"{arch:<5}{epochs:>3}  {system:<16}{len(pairs):>3} {cell('analogy', 100):>22}{cell('ws353'):>24}"
              f"{cell('simlex'):>24}{cell('words_per_second', ratio=True):>20}")


if __name__ == "__main__":
    main()
