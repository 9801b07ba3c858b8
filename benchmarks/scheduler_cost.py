"""What the Dask scheduler spends per task on the graph of a cluster round (the sharded exchange), against the
number of workers N: the cost model's tau (benchmarks/cost_model.py, docs/cluster.md) measured directly.

    python benchmarks/scheduler_cost.py [--workers 4,8,16,32,64] [--shape all-to-all,barrier] [--rounds 50]
                                        [--warmup 5] [--reps 3] [--max-tasks T] [--payload-kb 1]
                                        [--start-timeout 900] [--json OUT]

Each (rep, N) starts its own processes: a scheduler (`dask scheduler --host 127.0.0.1 --port P --no-dashboard`)
and N worker processes × 1 thread (`dask worker tcp://127.0.0.1:P --nworkers N --nthreads 1 --memory-limit 0
--no-dashboard`, each worker under its nanny), both restarted for every (rep, N, shape); the reps go through the
values of N in turn (and through the shapes at each N). The driver submits, every round s, the tasks the trainer does (cluster/job.py), all of them no-ops
pinned to one worker (workers=[address], allow_other_workers=False, pure=False): N round tasks (round[s][p] on
worker p, taking the N combine futures of round s − 1), N combine tasks (combine[s][j] on worker j, taking the N
round[s] futures, returning --payload-kb KB of bytes) and N report tasks (report[s][p] on worker p, taking
round[s][p], returning it); it submits round s + 1 before gathering round s's reports, and keeps only the futures
of the rounds s and s + 1. --warmup rounds, then --rounds measured rounds (--max-tasks T: at most T // 3N, and
at least 5: 64 worker processes on 2 cores take tens of seconds a round).
--shape (a comma-separated list; default all-to-all) chooses the graph of a round:
  all-to-all: the graph above, the trainer's: about 2N² + N dependency edges a round, 3N tasks a round.
  barrier: the same work with the stages joined through one barrier task instead of all-to-all: N round tasks
    (round[s][p] on worker p, taking ONE future, B2[s − 1]; none for s = 1), a barrier task B1[s] (pinned to
    worker 0, taking the list of the N round[s] futures, returning a small value), N combine tasks (combine[s][j]
    on worker j, taking only B1[s], returning --payload-kb KB), a barrier task B2[s] (pinned to worker 0, taking
    the N combine[s] futures, returning a small value) and the N report tasks as above; round[s + 1][p] takes
    B2[s]. About 6N + 2 edges and 3N + 2 tasks a round: the per-task figures of this shape divide by 3N + 2
    (and --max-tasks T allows T // (3N + 2) rounds).
    (A trainer of this shape would have its round tasks fetch the combined shards worker to worker, outside the
    scheduler; here the tasks are no-ops and only the scheduling is measured.)
  Several shapes alternate per N within a rep (each run on its own processes); the driver submits one round ahead
  and holds the futures of the rounds s and s + 1 (with B1 and B2) for every shape.
Per run: a round's wall time (between the driver's gathers of consecutive rounds; median and mean), and over the
measured rounds the CPU seconds (user + system, psutil) of the scheduler process, of the worker processes (the
nanny process's children), of the nanny process (the `dask worker` process, which runs the N nannies) and of the
driver, each per task (3N tasks a round; 3N + 2 for --shape barrier); the idle CPU rates of the scheduler and of
the workers (ms/s, over 4 s before the rounds, every worker connected: heartbeats, the workers' profilers...) and
their CPU per task net of them ("net": less the idle rate × the measured wall time).
The table: per N (and per shape, with a column for it, when --shape is not the default), the median over reps
of each run's figure, with its range [min–max]: the median and the mean wall of a round, the median wall ÷ the
tasks of a round (3N; 3N + 2 for barrier), then the CPU figures. On one machine the workers, the driver and the
scheduler share the cores: wall time is an upper bound there, and the scheduler's CPU per task is the figure for
a scheduler with a core of its own.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# this folder holds distributed.py, whose name is the dask package's: it must not shadow the package
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

REPORT = (1.0, 2.0, 0.1, True, (), (), None)


# -- the tasks: no-ops of the trainer's shape --
def round_task(s, p, combined):
    return REPORT


def combine_task(s, j, rounds, payload_bytes):
    return b"\0" * payload_bytes


def report_task(report):
    return report


def barrier_task(s, futures):
    return len(futures)


SHAPES = ("all-to-all", "barrier")


def tasks_per_round(shape, n):
    return 3 * n + 2 if shape == "barrier" else 3 * n


# -- processes --
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(procs):
    """User + system CPU seconds of the psutil processes `procs` (those gone count 0)."""
    import psutil

    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def stop(popen):
    """Terminate the process `popen` started and its descendants (SIGTERM, then SIGKILL after 30 s)."""
    import psutil

    if popen is None or popen.poll() is not None:
        return
    try:
        procs = [psutil.Process(popen.pid)] + psutil.Process(popen.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    popen.terminate()
    _, alive = psutil.wait_procs(procs, timeout=30)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)


class Cluster:
    """A scheduler and n worker processes started from the command line, and a client on them."""

    def __init__(self, n, tmp, timeout):
        self.n, self.tmp, self.timeout = n, tmp, timeout
        self.scheduler = self.workers = self.client = None

    def __enter__(self):
        import psutil
        from distributed import Client

        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        log = open(os.path.join(self.tmp, f"scheduler-{self.n}.log"), "w")
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"], cwd=self.tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        log = open(os.path.join(self.tmp, f"workers-{self.n}.log"), "w")
        self.workers = subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--nworkers", str(self.n), "--nthreads", "1",
             "--memory-limit", "0", "--no-dashboard", "--local-directory", self.tmp, "--death-timeout", "60"],
            cwd=self.tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        t0 = time.perf_counter()
        self.client = Client(address, timeout=60)
        self.client.wait_for_workers(self.n, timeout=self.timeout)
        self.start_seconds = time.perf_counter() - t0
        self.addresses = sorted(self.client.scheduler_info(n_workers=-1)["workers"])
        if len(self.addresses) != self.n:
            raise RuntimeError(f"{len(self.addresses)} workers connected, {self.n} expected")
        sched = psutil.Process(self.scheduler.pid)
        self.scheduler_procs = [sched] + sched.children(recursive=True)
        nanny = psutil.Process(self.workers.pid)
        self.nanny_procs = [nanny]
        self.worker_procs = nanny.children(recursive=True)
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            try:
                self.client.close(timeout=30)
            except Exception:
                pass
        stop(self.workers)
        stop(self.scheduler)


def run(cluster, s, shape="all-to-all"):
    """--warmup then --rounds rounds of the graph of `shape` on `cluster`: the run's figures."""
    import psutil

    client, addresses, n = cluster.client, cluster.addresses, cluster.n
    payload = int(s.payload_kb * 1024)

    def on(p, fn, *args):
        return client.submit(fn, *args, workers=[addresses[p]], allow_other_workers=False, pure=False)

    def submit(k, prev):  # round k's tasks; prev: the tasks of round k − 1 (None for the first)
        if shape == "barrier":  # stages joined by B1[k] and B2[k], on worker 0
            rounds = [on(p, round_task, k, p, None if prev is None else prev["b2"]) for p in range(n)]
            b1 = on(0, barrier_task, k, rounds)
            combines = [on(j, combine_task, k, j, b1, payload) for j in range(n)]
            b2 = on(0, barrier_task, k, combines)
            reports = [on(p, report_task, rounds[p]) for p in range(n)]
            return dict(rounds=rounds, b1=b1, combines=combines, b2=b2, reports=reports)
        rounds = [on(p, round_task, k, p, prev["combines"] if prev else []) for p in range(n)]
        combines = [on(j, combine_task, k, j, rounds, payload) for j in range(n)]
        reports = [on(p, report_task, rounds[p]) for p in range(n)]
        return dict(rounds=rounds, combines=combines, reports=reports)

    idle_t0 = time.perf_counter()
    idle_cpu0 = cpu_seconds(cluster.scheduler_procs), cpu_seconds(cluster.worker_procs)
    time.sleep(4.0)
    idle_cpu1 = cpu_seconds(cluster.scheduler_procs), cpu_seconds(cluster.worker_procs)
    idle_t = time.perf_counter() - idle_t0
    idle, idle_workers = ((b - a) / idle_t for a, b in zip(idle_cpu0, idle_cpu1))

    rounds = rounds_of(s, n, shape)
    total = s.warmup + rounds
    tasks = {1: submit(1, None)}
    walls = []
    t_last = time.perf_counter()
    cpu0 = None
    driver = [psutil.Process()]
    for k in range(1, total + 1):
        tasks[k + 1] = submit(k + 1, tasks[k])  # one round ahead, as the trainer
        got = client.gather(tasks[k]["reports"])
        assert len(got) == n and all(tuple(g) == REPORT for g in got)
        now = time.perf_counter()
        if k > s.warmup:
            walls.append(now - t_last)
        t_last = now
        tasks.pop(k - 1, None)  # keep rounds k (its combines feed k + 1) and k + 1
        if k == s.warmup:
            cpu0 = (cpu_seconds(cluster.scheduler_procs), cpu_seconds(cluster.worker_procs),
                    cpu_seconds(cluster.nanny_procs), cpu_seconds(driver), time.perf_counter())
    cpu1 = (cpu_seconds(cluster.scheduler_procs), cpu_seconds(cluster.worker_procs),
            cpu_seconds(cluster.nanny_procs), cpu_seconds(driver), time.perf_counter())
    client.gather(tasks[total + 1]["reports"])  # the round submitted ahead
    tasks.clear()
    n_tasks = tasks_per_round(shape, n) * rounds
    # the rows carry their shape unless the run is the default one's (whose output stays as it was)
    shape_field = {} if getattr(s, "shapes", ["all-to-all"]) == ["all-to-all"] else dict(shape=shape)
    return dict(workers=n, **shape_field, tasks_per_round=tasks_per_round(shape, n), rounds=rounds,
                start_seconds=cluster.start_seconds,
                wall_median=statistics.median(walls), wall_mean=statistics.mean(walls),
                measured_seconds=cpu1[4] - cpu0[4],
                scheduler_cpu=cpu1[0] - cpu0[0], workers_cpu=cpu1[1] - cpu0[1], nanny_cpu=cpu1[2] - cpu0[2],
                scheduler_ms_per_task=1e3 * (cpu1[0] - cpu0[0]) / n_tasks,
                workers_ms_per_task=1e3 * (cpu1[1] - cpu0[1]) / n_tasks,
                nanny_ms_per_task=1e3 * (cpu1[2] - cpu0[2]) / n_tasks,
                driver_ms_per_task=1e3 * (cpu1[3] - cpu0[3]) / n_tasks,
                scheduler_net_ms_per_task=1e3 * (cpu1[0] - cpu0[0] - idle * (cpu1[4] - cpu0[4])) / n_tasks,
                workers_net_ms_per_task=1e3 * (cpu1[1] - cpu0[1] - idle_workers * (cpu1[4] - cpu0[4])) / n_tasks,
                scheduler_idle_ms_per_s=1e3 * idle, workers_idle_ms_per_s=1e3 * idle_workers)


def rounds_of(s, n, shape="all-to-all"):
    """The measured rounds of a run with n workers: --rounds, or fewer (at least 5) if --max-tasks says so."""
    return s.rounds if s.max_tasks is None else min(s.rounds, max(5, s.max_tasks // tasks_per_round(shape, n)))


def spread(values, fmt):
    return f"{format(statistics.median(values), fmt)} [{format(min(values), fmt)}–{format(max(values), fmt)}]"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="4,8,16,32,64", help="values of N, worker processes × 1 thread")
    p.add_argument("--shape", default="all-to-all", help="the graph of a round, a comma-separated list of "
                   "all-to-all (the trainer's, N² edges a stage) and barrier (stages joined by one barrier task)")
    p.add_argument("--rounds", type=int, default=50, help="measured rounds per run")
    p.add_argument("--warmup", type=int, default=5, help="rounds before them, not measured")
    p.add_argument("--max-tasks", type=int, help="fewer measured rounds (at least 5) for a large N: at most "
                   "this many tasks measured per run")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--payload-kb", type=float, default=1.0, help="KB a combine task returns")
    p.add_argument("--start-timeout", type=float, default=900, help="seconds to wait for the N workers")
    p.add_argument("--json")
    s = p.parse_args(argv)
    s.shapes = [x.strip() for x in s.shape.split(",") if x.strip()]
    if not s.shapes or any(x not in SHAPES for x in s.shapes) or len(set(s.shapes)) != len(s.shapes):
        p.error(f"--shape: a comma-separated list of distinct values among {', '.join(SHAPES)}")
    import dask
    import distributed

    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}; CPU {model or platform.processor()}, {os.cpu_count()} cores; "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}, "
          f"dask {dask.__version__}, distributed {distributed.__version__}", flush=True)
    measured = s.rounds if s.max_tasks is None else f"{s.rounds} (at most {s.max_tasks} tasks, at least 5)"
    print(f"{s.warmup} warm-up + {measured} measured rounds, {s.reps} reps, combine payload {s.payload_kb:g} KB; "
          f"scheduler and workers restarted for every run", flush=True)
    if s.shapes != ["all-to-all"]:
        print(f"shapes {', '.join(s.shapes)}, alternating per N; tasks counted a round: "
              + "; ".join({"all-to-all": "all-to-all 3N (N round, N combine, N report; ~2N² + N edges)",
                           "barrier": "barrier 3N + 2 (N round, B1, N combine, B2, N report; ~6N + 2 edges)"}[x]
                          for x in s.shapes), flush=True)
    ns = [int(x) for x in s.workers.split(",")]
    tmp = tempfile.mkdtemp(prefix="w2v-scheduler-cost-")
    runs = []
    try:
        for rep in range(s.reps):
            for n in ns:
                for shape in s.shapes:
                    with Cluster(n, tmp, s.start_timeout) as cluster:
                        row = run(cluster, s, shape)
                    row["rep"] = rep
                    runs.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cols = [("wall/round ms", lambda r: 1e3 * r["wall_median"], ".1f"),
            ("mean ms", lambda r: 1e3 * r["wall_mean"], ".1f"),
            ("wall/task ms", lambda r: 1e3 * r["wall_median"] / r["tasks_per_round"], ".3f"),
            ("sched CPU ms/task", lambda r: r["scheduler_ms_per_task"], ".3f"),
            ("sched net ms/task", lambda r: r["scheduler_net_ms_per_task"], ".3f"),
            ("workers ms/task", lambda r: r["workers_ms_per_task"], ".3f"),
            ("workers net ms/task", lambda r: r["workers_net_ms_per_task"], ".3f"),
            ("nanny ms/task", lambda r: r["nanny_ms_per_task"], ".3f"),
            ("driver ms/task", lambda r: r["driver_ms_per_task"], ".3f"),
            ("sched idle ms/s", lambda r: r["scheduler_idle_ms_per_s"], ".1f"),
            ("workers idle ms/s", lambda r: r["workers_idle_ms_per_s"], ".0f")]
    multi = s.shapes != ["all-to-all"]
    print(f"\n{'N':>3} " + (f"{'shape':>10} " if multi else "") + f"{'tasks':>5} {'rounds':>6} "
          + " ".join(f"{name:>21}" for name, _, _ in cols))
    for n in ns:
        for shape in s.shapes:
            rs = [r for r in runs if r["workers"] == n and r.get("shape", "all-to-all") == shape]
            if rs:
                print(f"{n:3d} " + (f"{shape:>10} " if multi else "") + f"{tasks_per_round(shape, n):5d} "
                      f"{rs[0]['rounds']:6d} " + " ".join(f"{spread([f(r) for r in rs], fmt):>21}" for _, f, fmt in cols))
    if s.json:
        with open(s.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
