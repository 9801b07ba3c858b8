"""Throughput and quality of w2v-nce against gensim, each run as its own process on the same corpus and settings.

    python benchmarks/throughput.py [--corpus PATH] [--reps 3] [--configs sg-ns,sg-ns:per-example,cbow-ns,...]

A configuration is ARCH-OBJECTIVE, optionally followed by ":per-example" (skip-gram with fresh noise words for
every (context, target) example, as word2vec draws them, instead of shared among a target's contexts). ns and hs
configurations are compared with gensim's ns and hs (hs=1, negative=0); the others with gensim's ns.

Every run is a fresh process, timed from its start to its exit with the vectors on disk (word2vec text format):
ours is the installed `w2v-nce train` command; gensim's is a Python process that imports gensim, builds the
vocabulary and trains in corpus_file mode, and saves the vectors. Reported per row:
- whole s: the process's wall time (what a user waits for), and "whole × gensim", the median (range) of the
  per-repetition ratios gensim's whole time / ours;
- train s and words/s: training alone (raw corpus words, epochs × tokens, per second of training wall time, as
  gensim reports it), with "× gensim", the median (range) of the per-repetition words/s ratios, and "best", the
  ratio of the two systems' fastest training runs;
- prep s: reading, counting and encoding the corpus (ours: Model.stats["prep_seconds"], printed by the
  command; gensim: build_vocab), and a line of preparation words/s (raw words of one pass / prep seconds);
- quality: analogy accuracy (questions-words, restrict_vocab 30000) and WS353 / SimLex-999 Spearman of the saved
  vectors, with gensim's evaluators (after the timed process).
Each repetition runs every configuration once; the order of ours and gensim's run flips every repetition, so
that neither always runs first and the runs compared in a ratio are close in time. Repetition r uses seed
--seed + r for both systems: quality varies more between seeds than between runs with one seed. A warm-up run
of ours first fills Numba's cache, so that no measured run includes compilation.
"""
import json
import os
import statistics
import sys
import tempfile

import common


def ours_args(corpus, out, arch, objective, s, seed, shared_negatives=True):
    args = common.w2v_nce_command() + [
        "train", corpus, "-o", out, "--objective", objective, "--arch", arch, "--dim", str(s.dim),
        "--window", str(s.window), "--negative", str(s.negative), "--sample", str(s.sample),
        "--min-count", str(s.min_count), "--epochs", str(s.epochs), "--workers", str(s.workers),
        "--seed", str(seed)]
    if arch == "cbow":
        args += ["--alpha", str(s.alpha_cbow)]
    if not shared_negatives:
        args.append("--per-example-negatives")
    return args


def run_ours(corpus, out, arch, objective, s, seed, shared_negatives=True):
    run = common.run_child(ours_args(corpus, out, arch, objective, s, seed, shared_negatives))
    words, train_s, prep_s = common.train_summary(run.stderr)
    return dict(whole_seconds=run.wall_seconds, train_seconds=train_s, prep_seconds=prep_s,
                words_per_second=words / train_s, raw_words=words // s.epochs,
                **common.evaluate(common.load_vectors(out)))


# gensim's run, as its own process: argv[1] is a JSON object of the corpus, output path and settings.
GENSIM_PROCESS = """
import json, sys, time
a = json.loads(sys.argv[1])
from gensim.models import Word2Vec
m = Word2Vec(sg=a["sg"], vector_size=a["dim"], window=a["window"], negative=a["negative"], hs=a["hs"], sample=a["sample"],
             min_count=a["min_count"], epochs=a["epochs"], workers=a["workers"], seed=a["seed"], alpha=a["alpha"])
t0 = time.perf_counter()
m.build_vocab(corpus_file=a["corpus"])
prep = time.perf_counter() - t0
m.train(corpus_file=a["corpus"], total_examples=m.corpus_count, total_words=m.corpus_total_words, epochs=m.epochs)
m.wv.save_word2vec_format(a["out"])
print(json.dumps(dict(prep_seconds=prep, train_seconds=m.total_train_time, raw_words=m.corpus_total_words)))
"""


def run_gensim(corpus, out, arch, objective, s, seed):
    hs = objective == "hs"
    settings = dict(corpus=corpus, out=out, sg=1 if arch == "sg" else 0, dim=s.dim, window=s.window,
                    negative=0 if hs else s.negative, hs=int(hs), sample=s.sample, min_count=s.min_count, epochs=s.epochs,
                    workers=s.workers, seed=seed, alpha=s.alpha_cbow if arch == "cbow" else 0.025)
    run = common.run_child([sys.executable, "-c", GENSIM_PROCESS, json.dumps(settings)])
    st = json.loads(run.stdout.strip().splitlines()[-1])
    return dict(whole_seconds=run.wall_seconds, train_seconds=st["train_seconds"], prep_seconds=st["prep_seconds"],
                words_per_second=st["raw_words"] * s.epochs / st["train_seconds"], raw_words=st["raw_words"],
                **common.evaluate(common.load_vectors(out)))


KEYS = ["whole_seconds", "train_seconds", "prep_seconds", "words_per_second", "analogy", "ws353", "simlex"]


def summarize(rows):
    return {k: statistics.median(r[k] for r in rows) for k in KEYS}


def main(argv=None):
    p = common.parser(__doc__, reps=3, json_help="write every measurement here")
    p.add_argument("--configs", default="sg-ns,sg-ns:per-example,cbow-ns,sg-nce,sg-infonce")
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
    with tempfile.TemporaryDirectory(prefix="w2v-bench-", ignore_cleanup_errors=True) as tmp:
        corpus = common.plain_copy(s.corpus, tmp)
        out = os.path.join(tmp, "vectors.txt")
        common.warm_up(corpus, tmp, archs=("sg", "cbow"))
        print(f"corpus {s.corpus}; dim {s.dim}, window {s.window}, k {s.negative}, sample {s.sample}, "
              f"min_count {s.min_count}, epochs {s.epochs}, workers {s.workers}, reps {s.reps}; {common.cpu_model()}",
              flush=True)
        results = {}
        # repetitions outermost: the runs compared in a ratio are close in time (the machine's speed drifts)
        for rep in range(s.reps):
            seed = s.seed + rep  # one seed per repetition, the same for both systems
            for arch, objective, variant in configs:
                ours_key = f"w2v-nce {arch}-{objective}" + (f":{variant}" if variant else "")
                runs = [(ours_key, lambda: run_ours(corpus, out, arch, objective, s, seed,
                                                    shared_negatives=variant != "per-example"))]
                if objective in ("ns", "hs") and not variant and not s.no_gensim:
                    runs.append((f"gensim {arch}-{objective}",
                                 lambda: run_gensim(corpus, out, arch, objective, s, seed)))
                for key, run in (runs if rep % 2 == 0 else runs[::-1]):
                    results.setdefault(key, []).append(run())
                    print(f"  {key} rep {rep + 1}: {json.dumps(common.rounded(results[key][-1]))}", flush=True)
        print_table(results, s)
        common.write_json(s.json, results)


def print_table(results, s):
    """Medians; the "× gensim" columns are medians of per-repetition ratios (range in brackets), "best" the
    training-speed ratio of the two systems' fastest runs."""
    print(f"\n{'system':<30}{'whole s':>9}{'whole × gensim':>19}{'train s':>9}{'words/s':>12}"
          f"{'× gensim [range]':>19}{'best':>6}{'prep s':>8}{'analogy':>9}{'WS353':>8}{'SimLex':>8}")
    for key, rows in results.items():
        med = summarize(rows)
        arch, objective = key.split(" ", 1)[1].split(":")[0].split("-")
        g = results.get(f"gensim {arch}-{objective if objective == 'hs' else 'ns'}")
        whole = ratio = best = ""
        if g and not key.startswith("gensim"):
            whole = common.median_range([q["whole_seconds"] / r["whole_seconds"] for r, q in zip(rows, g)])
            ratio = common.median_range([r["words_per_second"] / q["words_per_second"] for r, q in zip(rows, g)])
            best = f"{min(q['train_seconds'] for q in g) / min(r['train_seconds'] for r in rows):.2f}"
        print(f"{key:<30}{med['whole_seconds']:>9.1f}{whole:>19}{med['train_seconds']:>9.1f}"
              f"{med['words_per_second']:>12,.0f}{ratio:>19}{best:>6}{med['prep_seconds']:>8.2f}"
              f"{100 * med['analogy']:>8.2f}%{med['ws353']:>8.3f}{med['simlex']:>8.3f}")
    prep = {}
    for key, rows in results.items():
        system = key.split(" ", 1)[0]
        prep.setdefault(system, []).extend(r["raw_words"] / r["prep_seconds"] for r in rows)
    print("preparation (raw words of one pass / prep seconds, median over all runs): " +
          "; ".join(f"{system} {statistics.median(v):,.0f} words/s" for system, v in prep.items()))
    sg_ns = results.get("w2v-nce sg-ns")
    for key in ("w2v-nce sg-nce", "w2v-nce sg-infonce"):
        if key in results and sg_ns:
            ratios = [a["train_seconds"] / b["train_seconds"] for a, b in zip(results[key], sg_ns)]
            print(f"{key} time / w2v-nce sg-ns time: median {common.median_range(ratios)}")


if __name__ == "__main__":
    main()
