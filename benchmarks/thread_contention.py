"""What two threads cost each other on this machine, with none of the package's code: random row walks.

    python benchmarks/thread_contention.py [--reps 3] [--rows 2000,22541,200000] [--dim 100] [--steps 20000000]

Each thread walks --steps random rows of a float32 matrix (rows × dim) and, as training does, reads every float of
the row and writes it back changed. Timed: one thread alone; two threads at once, each on a matrix of its own
(they share no data: what they cost each other is the machine's, its shared cache and memory); two threads on one
matrix (rows both write, as training's frequent rows: every such write moves the row's cache lines between the
cores). Printed per matrix size: the medians over --reps of the slower thread's seconds, and each thread's speed in
the two-thread runs as a fraction of one thread alone: 1.00 is no cost. A ceiling for 1 → 2 workers of code whose
time goes into rows scattered in memory: two threads reach at most twice the private-matrix fraction.
"""
import statistics
import threading
import time

import numba as nb
import numpy as np

import common


@nb.njit(nogil=True, fastmath=True)
def walk(matrix, rows):
    """For each row r in rows: acc += matrix[r]; matrix[r] *= 0.99999. Returns acc[0] (keeps the reads)."""
    acc = np.zeros(matrix.shape[1], np.float32)
    for t in range(rows.shape[0]):
        row = matrix[rows[t]]
        for i in range(row.shape[0]):
            acc[i] += row[i]
            row[i] *= np.float32(0.99999)
    return acc[0]


def slowest_thread_seconds(matrices, walks):
    """Run walk(matrices[i], walks[i]) in one thread each, all at once; the slowest thread's seconds."""
    seconds = []

    def run(matrix, rows):
        t = time.perf_counter()
        walk(matrix, rows)
        seconds.append(time.perf_counter() - t)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(matrices, walks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return max(seconds)


def main():
    p = common.parser(__doc__, corpus=False, reps=3)
    p.add_argument("--rows", default="2000,22541,200000", help="matrix heights, comma-separated")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--steps", type=int, default=20_000_000)
    a = p.parse_args()
    print(f"CPU: {common.cpu_model()}")
    rng = np.random.default_rng(1)
    for n_rows in (int(x) for x in a.rows.split(",")):
        walks = [rng.integers(0, n_rows, a.steps) for _ in range(2)]
        matrices = [rng.random((n_rows, a.dim), dtype=np.float32) for _ in range(2)]
        walk(matrices[0], walks[0][:10])  # compile
        runs = {"one": [], "private": [], "shared": []}
        for _ in range(a.reps):
            runs["one"].append(slowest_thread_seconds(matrices[:1], walks[:1]))
            runs["private"].append(slowest_thread_seconds(matrices, walks))
            runs["shared"].append(slowest_thread_seconds([matrices[0]] * 2, walks))
        one, private, shared = (statistics.median(runs[k]) for k in ("one", "private", "shared"))
        print(f"{n_rows:,} rows ({n_rows * a.dim * 4 / 1e6:.1f} MB per matrix): one thread {one:.3f} s; two threads, "
              f"a matrix each {private:.3f} s ({one / private:.2f} of one thread's speed each); two threads, one "
              f"matrix {shared:.3f} s ({one / shared:.2f})", flush=True)


if __name__ == "__main__":
    main()
