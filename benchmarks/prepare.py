"""Corpus preparation (counting, vocabulary and the encoded id stream): the compiled one-pass path against the
Python reference path (TextCorpus → Vocabulary.build → EncodedCorpus.encode), alternately, medians of --reps.

    python benchmarks/prepare.py --reps 3                  # speed on text8_2m × 10: plain, .gz, 100 files; RSS
    python benchmarks/prepare.py --paths new --corpora split --no-rss   # the directory of 100 files only
    python benchmarks/prepare.py --distinct 4000000        # bytes per entry of the counting table
    python benchmarks/prepare.py --train                   # the share of preparation in `w2v-nce train`

Speed is raw corpus words per second of wall time (the preparation of train(), without training). Peak RSS
is measured in a fresh process per preparation (ru_maxrss, including the interpreter and libraries). The split
corpus is the plain one cut at line starts into --split files of a directory, read as one corpus.
"""
import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import common
from common import ROOT

PREPARE = """
import resource, sys, time, warnings
path, stream, how = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
cpu = time.process_time()  # all threads
if how == "old":
    from w2v_nce.prepare.corpus import TextCorpus
    from w2v_nce.prepare.stream import EncodedCorpus
    from w2v_nce.prepare.vocab import Vocabulary
    corpus = TextCorpus(path)
    vocab = Vocabulary.build(corpus, 5)
    enc = EncodedCorpus.encode(corpus, vocab.index, stream)
else:
    from w2v_nce.prepare.counting import CountedCorpus
    if len(sys.argv) > 4:  # counting alone, with this bound
        counted = CountedCorpus(path, stream, max_vocab_size=int(sys.argv[4]))
        print(counted.raw_words, int(counted.table.size[0]), time.perf_counter() - t,
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, time.process_time() - cpu)
        sys.exit()
    counted = CountedCorpus(path, stream, read_ahead=how != "new-1thread")
    vocab = counted.vocabulary(5)
    enc = counted.encode(vocab)
seconds = time.perf_counter() - t
print(vocab.raw_words, len(vocab), seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
      time.process_time() - cpu)
"""


def prepare(path, work, how, *extra):
    """(raw words, vocabulary, seconds, peak RSS bytes, CPU seconds of all threads) of one preparation in a fresh
    process."""
    stream = os.path.join(work, "ids.i32")
    r = subprocess.run([sys.executable, "-c", PREPARE, path, stream, how, *map(str, extra)], capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": ROOT})
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    os.remove(stream)
    words, vocab, seconds, rss, cpu = r.stdout.split()
    return int(words), int(vocab), float(seconds), int(rss), float(cpu)


def build_corpora(source, repeat, work, n_files):
    base = common.plain_copy(source, work, "base.txt")
    big = common.repeated(base, os.path.join(work, f"x{repeat}.txt"), repeat)
    with open(big, "rb") as f, gzip.open(big + ".gz", "wb") as out:
        shutil.copyfileobj(f, out)
    return base, big, big + ".gz", split_lines(big, os.path.join(work, f"x{repeat}-{n_files}files"), n_files)


def split_lines(path, directory, n_files):
    """The file at path cut at line starts into n_files files of about equal lines, in `directory`."""
    os.makedirs(directory)
    with open(path, "rb") as f:
        lines = f.readlines()
    for i in range(n_files):
        with open(os.path.join(directory, f"part-{i:04d}.txt"), "wb") as out:
            out.writelines(lines[i * len(lines) // n_files:(i + 1) * len(lines) // n_files])
    return directory


def speed(corpora, work, reps, hows):
    print(f"{'corpus':<14} {'path':<12} {'words/s (median)':>18} {'seconds':>9}  {'× old [range]':<16} "
          f"{'CPU s':>6} {'words/CPU-s':>12}")
    for path in corpora:
        times = {h: [] for h in hows}
        cpus = {h: [] for h in hows}
        for _ in range(reps):
            for h in hows:  # alternately
                words, _, seconds, _, cpu = prepare(path, work, h)
                times[h].append(seconds)
                cpus[h].append(cpu)
        name = os.path.basename(path)
        for h in hows:
            med = statistics.median(times[h])
            cpu = statistics.median(cpus[h])
            ratio = ""
            if h != "old" and "old" in times:
                ratio = common.median_range([o / n for o, n in zip(times["old"], times[h])], ".1f")
            print(f"{name:<14} {h:<12} {words / med:>18,.0f} {med:>9.2f}  {ratio:<16} {cpu:>6.2f} "
                  f"{words / cpu:>12,.0f}", flush=True)


def peak_rss(base, big, split, work, hows):
    print(f"\n{'corpus':<14} {'path':<6} {'words':>12} {'vocabulary':>10} {'peak RSS':>10}")
    for how in hows:
        sizes = []
        for path in (base, big) + ((split,) if how == "new" else ()):
            words, vocab, _, rss, _ = prepare(path, work, how)
            sizes.append(rss)
            print(f"{os.path.basename(path):<14} {how:<6} {words:>12,} {vocab:>10,} {rss / 2**20:>8.1f} MB")
        print(f"{'':<14} {how:<6} ratio {sizes[1] / sizes[0]:.2f}")


def distinct(n, work):
    """Peak RSS of counting a corpus of n distinct 12-byte tokens (each once, lines of 1,000) against the same
    count of tokens of 1,000 distinct ones, with the table bounded above n: the difference per entry."""
    import numpy as np

    rng = np.random.default_rng(0)
    many, few = os.path.join(work, "distinct.txt"), os.path.join(work, "repeated.txt")
    for path, ids in ((many, np.arange(n)), (few, rng.integers(0, 1000, n))):
        with open(path, "w") as out:
            for s in range(0, n, 1000):
                out.write(" ".join(f"t{i:011d}" for i in ids[s:s + 1000]) + "\n")
    rows = [prepare(p, work, "new", n + 1) for p in (few, many)]
    per_entry = (rows[1][3] - rows[0][3]) / n
    print(f"\n{n:,} distinct 12-byte tokens: peak RSS {rows[1][3] / 2**20:.1f} MB against {rows[0][3] / 2**20:.1f} MB "
          f"for 1,000 distinct: {per_entry:.1f} bytes per entry")
    bound = 10_000_000
    print(f"at 10,000,000 entries: {per_entry * bound / 2**30:.2f} GiB on top of the {rows[0][3] / 2**20:.0f} MB base")
    rows = [prepare(many, work, "new", n // 4)]
    print(f"the same corpus with --max-vocab-size {n // 4:,}: peak RSS {rows[0][3] / 2**20:.1f} MB")


def train_share(big, work, reps):
    """`w2v-nce train` (CBOW, 1 epoch) on the big corpus: training seconds against seconds in all."""
    print()
    for _ in range(reps):
        out = os.path.join(work, "v.txt")
        r = common.run_child([sys.executable, "-m", "w2v_nce", "train", big, "--arch", "cbow", "--epochs", "1", "-o",
                              out], env={**os.environ, "PYTHONPATH": ROOT})
        wall = r.wall_seconds
        m = re.search(r"in ([\d.]+) s .*?, ([\d.]+) s in all", r.last_line())
        train, total = float(m.group(1)), float(m.group(2))
        print(f"train {train:.1f} s, {total:.1f} s in all (process {wall:.1f} s): preparation and the rest "
              f"{total - train:.1f} s")


def main():
    ap = common.parser(__doc__, reps=3, whole_doc=True)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--paths", default="old,new,new-1thread", help="old, new, new-1thread (no read-ahead thread)")
    ap.add_argument("--corpora", default="plain,gz,split", help="plain, gz, split (the plain one in --split files)")
    ap.add_argument("--split", type=int, default=100, help="files of the split corpus")
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--distinct", type=int, default=0, help="measure the table's bytes per entry with N tokens")
    ap.add_argument("--train", action="store_true", help="time `w2v-nce train` on the repeated corpus")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="w2v-prepare-")
    try:
        print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f} (a shared machine: compare the paths' ratios)")
        prepare(common.SAMPLE_CORPUS, work, "new")  # Numba's cache warm
        if args.distinct:
            distinct(args.distinct, work)
            return
        base, big, big_gz, split = build_corpora(args.corpus, args.repeat, work, args.split)
        if args.train:
            train_share(big, work, args.reps)
            return
        corpora = dict(plain=big, gz=big_gz, split=split)
        speed([corpora[c] for c in args.corpora.split(",")], work, args.reps, args.paths.split(","))
        if not args.no_rss:
            peak_rss(base, big, split, work, [h for h in ("new", "old") if h in args.paths.split(",")])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
