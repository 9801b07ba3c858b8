"""Peak resident memory of `w2v-nce train` on a corpus and on the same corpus repeated ten times.

    python benchmarks/memory.py [--corpus PATH] [--epochs 1] [--repeat 10]

Each run is the installed CLI in its own process; its peak RSS is the child's ru_maxrss (os.wait4). The
repeated corpus has a larger vocabulary at the same --min-count (words seen 1–4 times become 10–40), so it is
also trained with --min-count multiplied by the repeat factor: exactly the vocabulary of the original run,
which isolates the memory that could grow with the corpus length. A warm-up run first fills Numba's cache, so
that no measured run includes compilation.
"""
import os
import tempfile

import common


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    s = p.parse_args(argv)
    exe = common.w2v_nce_command()
    with tempfile.TemporaryDirectory(prefix="w2v-mem-", ignore_cleanup_errors=True) as tmp:
        base = common.plain_copy(s.corpus, tmp)
        big = common.repeated(base, os.path.join(tmp, f"x{s.repeat}.txt"), s.repeat)
        runs = [("corpus", base, s.min_count), (f"corpus x{s.repeat}", big, s.min_count),
                (f"corpus x{s.repeat}, same vocabulary", big, s.min_count * s.repeat)]
        common.warm_up(base, tmp)
        print(f"{s.corpus}; {s.epochs} epoch(s), {s.workers} workers")
        print(f"{'run':<32}{'min_count':>10}{'peak RSS MB':>13}{'ratio':>8}  vocabulary / words")
        first = None
        for name, path, min_count in runs:
            out = os.path.join(tmp, "v.txt")
            run = common.run_child(exe + ["train", path, "-o", out, "--epochs", str(s.epochs),
                                          "--min-count", str(min_count), "--workers", str(s.workers)],
                                   stdout=False, check=False)
            if run.code != 0:
                raise SystemExit(f"{name}: exit {run.code}: {run.last_line()}")
            rss, last = run.peak_rss_mb, run.last_line()
            with open(out) as f:
                vocab = f.readline().split()[0]
            first = first or rss
            print(f"{name:<32}{min_count:>10}{rss:>13.1f}{rss / first:>8.2f}  {int(vocab):,} words; {last}")


if __name__ == "__main__":
    main()
