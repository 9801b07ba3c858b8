"""Peak resident memory of `w2v-nce train` on a corpus and on the same corpus repeated ten times.

    python benchmarks/memory.py [--corpus PATH] [--epochs 1] [--repeat 10]

Each run is the installed CLI in its own process; its peak RSS is the child's ru_maxrss (os.wait4). The
repeated corpus has a larger vocabulary at the same --min-count (words seen 1–4 times become 10–40), so it is
also trained with --min-count multiplied by the repeat factor: exactly the vocabulary of the original run,
which isolates the memory that could grow with the corpus length. A warm-up run first fills Numba's cache, so
that no measured run includes compilation.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from throughput import default_corpus, plain_copy  # noqa: E402


def peak_rss_mb(args):
    """Run args; return (exit code, peak RSS in MB, last stderr line)."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [x for x in err.strip().splitlines() if x.strip()]
    return proc.returncode, usage.ru_maxrss / 1024.0, lines[-1] if lines else ""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=default_corpus())
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    s = p.parse_args(argv)
    exe = shutil.which("w2v-nce") or sys.exit("the w2v-nce command is not installed")
    tmp = tempfile.mkdtemp(prefix="w2v-mem-")
    try:
        base = plain_copy(os.path.abspath(s.corpus), tmp)
        big = os.path.join(tmp, f"x{s.repeat}.txt")
        with open(big, "wb") as dst:
            for _ in range(s.repeat):
                with open(base, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
        runs = [("corpus", base, s.min_count), (f"corpus x{s.repeat}", big, s.min_count),
                (f"corpus x{s.repeat}, same vocabulary", big, s.min_count * s.repeat)]
        warm = os.path.join(tmp, "warm.txt")
        with open(base, "rb") as src, open(warm, "wb") as dst:
            dst.write(src.read(200_000))
        code, _, last = peak_rss_mb([exe, "train", warm, "-o", os.path.join(tmp, "w.txt"), "--epochs", "1",
                                     "--min-count", "1", "--quiet"])
        if code != 0:
            sys.exit(f"warm-up: exit {code}: {last}")
        print(f"{s.corpus}; {s.epochs} epoch(s), {s.workers} workers")
        print(f"{'run':<32}{'min_count':>10}{'peak RSS MB':>13}{'ratio':>8}  vocabulary / words")
        first = None
        for name, path, min_count in runs:
            out = os.path.join(tmp, "v.txt")
            code, rss, last = peak_rss_mb([exe, "train", path, "-o", out, "--epochs", str(s.epochs),
                                           "--min-count", str(min_count), "--workers", str(s.workers)])
            if code != 0:
                sys.exit(f"{name}: exit {code}: {last}")
            with open(out) as f:
                vocab = f.readline().split()[0]
            first = first or rss
            print(f"{name:<32}{min_count:>10}{rss:>13.1f}{rss / first:>8.2f}  {int(vocab):,} words; {last}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
