"""A corpus 100 times longer: preparation time, training time, whole-process time and peak memory.

    python benchmarks/scale.py [--corpus PATH] [--repeat 100] [--epochs 1] [--workers 2] [--min-count 5]
                               [--work-dir DIR]

The corpus (default text8_2m, 2.14M words) is decompressed and written --repeat times in a row into a temporary
file under --work-dir (text8_2m × 100: 214M words, 1.25 GB; deleted afterwards, as is the encoded corpus the
command writes there). Both corpora are trained with the installed `w2v-nce train`, each in its own process:
skip-gram, negative sampling, d=100, window 5, k=5, sample 1e-3, --epochs epochs, --workers threads. The long
corpus is trained with --min-count multiplied by --repeat, which keeps exactly the words of the short run (a
word seen c times in the short corpus is seen repeat·c times in the long one; the vocabulary files are compared
to confirm it), so that the two runs differ only in the corpus length. A warm-up run first fills Numba's cache.

Printed for each run: the preparation seconds (reading, counting and encoding: Model.stats["prep_seconds"], from
the command's summary line) and preparation words/s, the training seconds and words/s, the whole process's
wall time (start to exit, vectors on disk) and its ratio to the training time, and the peak resident memory
(the child's ru_maxrss, os.wait4) with its ratio to the short run's.
"""
import os
import shutil
import sys
import tempfile
import time

import common

# The figures a long corpus should reach: whole process within this factor of training alone, and peak memory
# within this factor of the short run's (memory does not grow with the corpus length).
WHOLE_OVER_TRAIN = 1.15
RSS_OVER_SHORT = 1.2


def vocabulary(vectors_path):
    """The words of a word2vec text file, in order."""
    with open(vectors_path, encoding="utf-8") as f:
        f.readline()
        return [line.split(" ", 1)[0] for line in f]


def train(corpus, out, min_count, s, tmp):
    args = common.w2v_nce_command() + [
        "train", corpus, "-o", out, "--arch", "sg", "--objective", "ns", "--dim", "100", "--window", "5",
        "--negative", "5", "--sample", "1e-3", "--min-count", str(min_count), "--epochs", str(s.epochs),
        "--workers", str(s.workers), "--tmp-dir", tmp]
    run = common.run_child(args, stdout=False)
    words, train_s, prep_s = common.train_summary(run.stderr)
    return dict(raw_words=words // s.epochs, prep_seconds=prep_s, train_seconds=train_s,
                whole_seconds=run.wall_seconds, peak_rss_mb=run.peak_rss_mb, vocabulary=vocabulary(out))


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--repeat", type=int, default=100)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--work-dir", default=None, help="where the long corpus and the encoded corpora go [$TMPDIR]")
    s = p.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="w2v-scale-", dir=s.work_dir)
    try:
        base = common.plain_copy(s.corpus, tmp)
        if base == os.path.abspath(s.corpus):  # a plain-text corpus: copy it so that both runs read from tmp
            base = shutil.copy(base, os.path.join(tmp, "corpus.txt"))
        need = os.path.getsize(base) * s.repeat * 2  # the text, then its encoded stream (at most as large)
        free = shutil.disk_usage(tmp).free
        if free < need:
            sys.exit(f"{tmp}: {free / 1e9:.1f} GB free, the long corpus needs about {need / 1e9:.1f} GB")
        long_corpus = os.path.join(tmp, f"x{s.repeat}.txt")
        t0 = time.perf_counter()
        common.repeated(base, long_corpus, s.repeat)
        print(f"{s.corpus} × {s.repeat}: {os.path.getsize(long_corpus) / 1e9:.2f} GB written in "
              f"{time.perf_counter() - t0:.1f} s; skip-gram NS, d 100, window 5, k 5, sample 1e-3, "
              f"{s.epochs} epoch(s), {s.workers} workers", flush=True)
        common.warm_up(base, tmp, extra=["--tmp-dir", tmp])
        out = os.path.join(tmp, "vectors.txt")
        runs = [("corpus", base, s.min_count), (f"corpus × {s.repeat}", long_corpus, s.min_count * s.repeat)]
        results = []
        for name, path, min_count in runs:
            r = train(path, out, min_count, s, tmp)
            results.append((name, min_count, r))
            print(f"  {name}: {r['raw_words']:,} words, vocabulary {len(r['vocabulary']):,}: prep "
                  f"{r['prep_seconds']:.1f} s, train {r['train_seconds']:.1f} s, whole {r['whole_seconds']:.1f} s, "
                  f"peak RSS {r['peak_rss_mb']:.1f} MB", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    short = results[0][2]
    same = results[1][2]["vocabulary"] == short["vocabulary"]
    print(f"\nvocabulary of the long run {'identical to' if same else 'DIFFERENT from'} the short run's "
          f"({len(short['vocabulary']):,} words{', same order' if same else ''})")
    print(f"{'run':<18}{'min_count':>10}{'words':>14}{'prep s':>9}{'prep words/s':>14}{'train s':>9}"
          f"{'words/s':>12}{'whole s':>9}{'whole/train':>12}{'peak RSS MB':>13}{'RSS ratio':>11}")
    for name, min_count, r in results:
        print(f"{name:<18}{min_count:>10}{r['raw_words']:>14,}{r['prep_seconds']:>9.1f}"
              f"{r['raw_words'] / r['prep_seconds']:>14,.0f}{r['train_seconds']:>9.1f}"
              f"{r['raw_words'] * s.epochs / r['train_seconds']:>12,.0f}{r['whole_seconds']:>9.1f}"
              f"{r['whole_seconds'] / r['train_seconds']:>12.2f}{r['peak_rss_mb']:>13.1f}"
              f"{r['peak_rss_mb'] / short['peak_rss_mb']:>11.2f}")
    long_run = results[1][2]
    whole_ratio = long_run["whole_seconds"] / long_run["train_seconds"]
    rss_ratio = long_run["peak_rss_mb"] / short["peak_rss_mb"]
    print(f"long corpus: whole process / training {whole_ratio:.2f} (target ≤ {WHOLE_OVER_TRAIN}: "
          f"{'met' if whole_ratio <= WHOLE_OVER_TRAIN else 'not met'}); peak RSS / short run's {rss_ratio:.2f} "
          f"(target ≤ {RSS_OVER_SHORT}: {'met' if rss_ratio <= RSS_OVER_SHORT else 'not met'})")


if __name__ == "__main__":
    main()
