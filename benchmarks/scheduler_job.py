"""The Dask scheduler's CPU during a real cluster training, per round: a `dask scheduler` process and N `dask worker`
processes × 1 thread started here (scheduler_cost.Cluster), one epoch trained through the API
(benchmarks/scheduler_cost.py measures the same for no-op tasks of a round's graph).

    python benchmarks/scheduler_job.py CORPUS [--workers 8] [--sync-words 20000] [--dim 32]

Printed: the rounds, the tasks of a round, the training's wall time, the scheduler process's CPU seconds during it
(psutil: user + system) less its idle rate (measured over 4 s before, every worker connected) times the wall time,
per round and per round task (every task of the job in it: the parts' opening and the final weights' too).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# (scheduler_cost takes this folder off the path again: it holds distributed.py, whose name is the dask package's)
from scheduler_cost import Cluster, cpu_seconds  # noqa: E402


def measure(a, cluster):
    """One epoch on `cluster` (scheduler_cost.Cluster); prints the scheduler's CPU a round."""
    import w2v_nce

    scheduler = cluster.scheduler_procs
    time.sleep(2)
    c0, t0 = cpu_seconds(scheduler), time.perf_counter()
    time.sleep(4)
    idle = (cpu_seconds(scheduler) - c0) / (time.perf_counter() - t0)
    c0, t0 = cpu_seconds(scheduler), time.perf_counter()
    m = w2v_nce.train(a.corpus, client=cluster.client, workers=1, epochs=1, seed=1, dim=a.dim,
                      sync_words=a.sync_words)
    wall = time.perf_counter() - t0
    net = cpu_seconds(scheduler) - c0 - idle * wall
    d = m.stats["distributed"]
    tasks = d["rounds"] * d["tasks_per_round"]
    print(f"N {a.workers}, {d['exchange']}: {d['rounds']} rounds of {d['tasks_per_round']} tasks, wall {wall:.1f} s, "
          f"scheduler CPU {net:.2f} s net of idle ({1e3 * idle:.0f} ms/s): {1e3 * net / d['rounds']:.1f} ms a round, "
          f"{1e3 * net / tasks:.2f} ms a round task", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--sync-words", type=int, default=20_000)
    p.add_argument("--dim", type=int, default=32)
    a = p.parse_args()
    a.corpus = os.path.abspath(a.corpus)  # (the processes run in a directory of their own)
    tmp = tempfile.mkdtemp(prefix="w2v-scheduler-job-")
    try:
        with Cluster(a.workers, tmp, timeout=600) as cluster:
            measure(a, cluster)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
