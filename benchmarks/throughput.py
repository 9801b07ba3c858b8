"""Throughput and quality of w2v-nce against gensim, each run as its own process on the same corpus and settings.

    python benchmarks/throughput.py [--corpus PATH] [--reps 3] [--configs sg-ns,sg-ns:per-example,cbow-ns,...]

A configuration is ARCH-OBJECTIVE, optionally followed by ":per-example" (skip-gram with fresh noise words for
every (context, target) example, as word2vec draws them, instead of shared among a target's contexts).

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
import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
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


def w2v_nce_command():
    """The installed console script: the one next to this Python if there is one (a version manager's shim found
    first on PATH would add its own start-up time to every run), else the first on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "w2v-nce")
    exe = beside if os.access(beside, os.X_OK) else shutil.which("w2v-nce")
    if exe is None:
        sys.exit("the w2v-nce command is not installed (pip install -e .)")
    return [exe]


# The command's summary line: "N words in T s (R words/s; preparation P s, A s in all), vocabulary V, ..."
_SUMMARY = re.compile(r"([\d,]+) words in ([\d.]+) s \(([\d,]+) words/s; preparation ([\d.]+) s")


def timed_process(args):
    """Run args to completion; (wall seconds from start to exit, stdout, stderr). Exits on failure."""
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return wall, proc.stdout, proc.stderr


def train_in_process(corpus, arch, objective, s, seed, shared_negatives=True, **options):
    """Train in this process (no whole-process time); options: further training options (e.g. alpha, min_alpha)
    for w2v_nce.train."""
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


def load_vectors(path):
    from gensim.models import KeyedVectors

    return KeyedVectors.load_word2vec_format(path)


def ours_args(corpus, out, arch, objective, s, seed, shared_negatives=True):
    args = w2v_nce_command() + [
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
    wall, _, err = timed_process(ours_args(corpus, out, arch, objective, s, seed, shared_negatives))
    found = _SUMMARY.findall(err)
    if not found:
        sys.exit(f"no summary line in the output of w2v-nce train:\n{err[-2000:]}")
    words, train_s, _, prep_s = found[-1]
    words = int(words.replace(",", ""))
    return dict(whole_seconds=wall, train_seconds=float(train_s), prep_seconds=float(prep_s),
                words_per_second=words / float(train_s), raw_words=words // s.epochs, **evaluate(load_vectors(out)))


# gensim's run, as its own process: argv[1] is a JSON object of the corpus, output path and settings.
GENSIM_PROCESS = """
import json, sys, time
a = json.loads(sys.argv[1])
from gensim.models import Word2Vec
m = Word2Vec(sg=a["sg"], vector_size=a["dim"], window=a["window"], negative=a["negative"], hs=0, sample=a["sample"],
             min_count=a["min_count"], epochs=a["epochs"], workers=a["workers"], seed=a["seed"], alpha=a["alpha"])
t0 = time.perf_counter()
m.build_vocab(corpus_file=a["corpus"])
prep = time.perf_counter() - t0
m.train(corpus_file=a["corpus"], total_examples=m.corpus_count, total_words=m.corpus_total_words, epochs=m.epochs)
m.wv.save_word2vec_format(a["out"])
print(json.dumps(dict(prep_seconds=prep, train_seconds=m.total_train_time, raw_words=m.corpus_total_words)))
"""


def run_gensim(corpus, out, arch, s, seed):
    settings = dict(corpus=corpus, out=out, sg=1 if arch == "sg" else 0, dim=s.dim, window=s.window,
                    negative=s.negative, sample=s.sample, min_count=s.min_count, epochs=s.epochs,
                    workers=s.workers, seed=seed, alpha=s.alpha_cbow if arch == "cbow" else 0.025)
    wall, stdout, _ = timed_process([sys.executable, "-c", GENSIM_PROCESS, json.dumps(settings)])
    st = json.loads(stdout.strip().splitlines()[-1])
    return dict(whole_seconds=wall, train_seconds=st["train_seconds"], prep_seconds=st["prep_seconds"],
                words_per_second=st["raw_words"] * s.epochs / st["train_seconds"], raw_words=st["raw_words"],
                **evaluate(load_vectors(out)))


KEYS = ["whole_seconds", "train_seconds", "prep_seconds", "words_per_second", "analogy", "ws353", "simlex"]


def summarize(rows):
    return {k: statistics.median(r[k] for r in rows) for k in KEYS}


def warm_up(corpus, tmp):
    """One tiny run of ours fills Numba's cache (compilation is not what the benchmark measures)."""
    warm = os.path.join(tmp, "warm.txt")
    with open(corpus, "rb") as src, open(warm, "wb") as dst:
        dst.write(src.read(200_000))
    for arch in ("sg", "cbow"):
        timed_process(w2v_nce_command() + ["train", warm, "-o", os.path.join(tmp, "warm.vec"), "--epochs", "1",
                                           "--min-count", "1", "--arch", arch, "--quiet"])


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
        out = os.path.join(tmp, "vectors.txt")
        warm_up(corpus, tmp)
        print(f"corpus {s.corpus}; dim {s.dim}, window {s.window}, k {s.negative}, sample {s.sample}, "
              f"min_count {s.min_count}, epochs {s.epochs}, workers {s.workers}, reps {s.reps}", flush=True)
        results = {}
        # repetitions outermost: the runs compared in a ratio are close in time (the machine's speed drifts)
        for rep in range(s.reps):
            seed = s.seed + rep  # one seed per repetition, the same for both systems
            for arch, objective, variant in configs:
                ours_key = f"w2v-nce {arch}-{objective}" + (f":{variant}" if variant else "")
                runs = [(ours_key, lambda: run_ours(corpus, out, arch, objective, s, seed,
                                                    shared_negatives=variant != "per-example"))]
                if objective == "ns" and not variant and not s.no_gensim:
                    runs.append((f"gensim {arch}-ns", lambda: run_gensim(corpus, out, arch, s, seed)))
                for key, run in (runs if rep % 2 == 0 else runs[::-1]):
                    results.setdefault(key, []).append(run())
                    print(f"  {key} rep {rep + 1}: {json.dumps(_rounded(results[key][-1]))}", flush=True)
        print_table(results, s)
        if s.json:
            with open(s.json, "w") as f:
                json.dump(results, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _rounded(row):
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}


def _ratio_text(ratios):
    return f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]"


def print_table(results, s):
    """Medians; the "× gensim" columns are medians of per-repetition ratios (range in brackets), "best" the
    training-speed ratio of the two systems' fastest runs."""
    print(f"\n{'system':<30}{'whole s':>9}{'whole × gensim':>19}{'train s':>9}{'words/s':>12}"
          f"{'× gensim [range]':>19}{'best':>6}{'prep s':>8}{'analogy':>9}{'WS353':>8}{'SimLex':>8}")
    for key, rows in results.items():
        med = summarize(rows)
        arch = key.split(" ", 1)[1].split("-")[0]
        g = results.get(f"gensim {arch}-ns")
        whole = ratio = best = ""
        if g and not key.startswith("gensim"):
            whole = _ratio_text([q["whole_seconds"] / r["whole_seconds"] for r, q in zip(rows, g)])
            ratio = _ratio_text([r["words_per_second"] / q["words_per_second"] for r, q in zip(rows, g)])
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
            print(f"{key} time / w2v-nce sg-ns time: median {_ratio_text(ratios)}")


if __name__ == "__main__":
    main()
