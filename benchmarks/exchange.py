"""What a cluster round exchanges and what it costs, against the number of workers: bytes per worker per round,
the tasks and the time of a round not spent training, for each exchange.

    python benchmarks/exchange.py [--corpus PATH] [--workers 2,4,8] [--exchanges direct,sharded] [--dim 100]
                                  [--epochs 5] [--min-count 5] [--sync-words 200000] [--seed 1]
                                  [--overlap auto|on|off] [--json OUT]

Each number of workers gets its own LocalCluster of that many worker processes × 1 thread; a warm-up run on the
bundled sample loads Numba's cache in every process first. Settings: skip-gram, negative sampling, window 5,
k 5, sample 1e-3, the default synchronization (stratified rows, "scaled" updates). Per run: V, the rounds,
bytes per worker per round (model.stats["distributed"]["bytes_per_worker_round"]: the bytes that crossed between
workers in the job's rounds, per round and worker), the tasks of a round, r (a part's raw words per round over
the slowest part's training time in it, totals over the job) and L (a round's time not spent
training by the slowest part: waiting for the exchange, scheduling, applying and computing the changes; the mean
over the rounds, and the median round's) and the largest peak resident memory of a worker process so far (MB,
getrusage: its whole life, the runs before on the same cluster included).
"--exchanges -" passes no sync_exchange (for a version of w2v-nce that has none).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import SAMPLE_CORPUS, default_corpus, plain_copy  # noqa: E402
# this folder holds distributed.py, whose name is the dask package's: it must not shadow the package
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

SETTINGS = dict(objective="ns", arch="sg", window=5, negative=5, sample=1e-3)


def peak_resident_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def run(client, corpus, exchange, s, epochs):
    import w2v_nce

    extra = {} if exchange == "-" else dict(sync_exchange=exchange)
    if s.overlap:
        extra["sync_overlap"] = s.overlap
    idle = []  # each round's time not spent training by its slowest part

    def on_round_end(info):
        idle.append(info["seconds"] - info["compute_seconds"])

    t0 = time.perf_counter()
    m = w2v_nce.train(corpus, client=client, dim=s.dim, epochs=epochs, min_count=s.min_count, seed=s.seed,
                      sync_words=s.sync_words, on_round_end=on_round_end, **SETTINGS, **extra)
    wall = time.perf_counter() - t0
    d = m.stats["distributed"]
    rounds = max(d["rounds"], 1)
    part_words = m.stats["train_words"] / (d["parts"] * rounds)
    return dict(workers=d["parts"], exchange=d.get("exchange", "before") + ("+overlap" if d.get("overlap") else ""),
                vocab=len(m.vocab), dim=s.dim,
                rounds=d["rounds"], bytes_per_worker_round=d["bytes_per_worker_round"],
                tasks_per_round=d.get("tasks_per_round"), wall_seconds=wall, train_seconds=m.stats["train_seconds"],
                r=part_words * rounds / d["compute_seconds"], L=(d["round_seconds"] - d["compute_seconds"]) / rounds,
                L_median=statistics.median(idle),
                round_seconds=d["round_seconds"] / rounds, words_per_second=m.stats["words_per_second"],
                bytes_per_change=d.get("bytes_per_change"), bytes_combined_per_round=d.get("bytes_combined_per_round"),
                synced_rows_per_round=d.get("synced_rows_per_round"),
                worker_peak_mb=max(client.run(peak_resident_mb).values()), version=w2v_nce.__file__)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=default_corpus())
    p.add_argument("--workers", default="2,4,8")
    p.add_argument("--exchanges", default="direct,sharded")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sync-words", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--overlap", choices=("auto", "on", "off"), help="sync_overlap (default: the default, auto)")
    p.add_argument("--json")
    s = p.parse_args(argv)
    from distributed import Client, LocalCluster

    tmp = tempfile.mkdtemp(prefix="w2v-exchange-")
    corpus = plain_copy(os.path.abspath(s.corpus), tmp)
    warm = plain_copy(SAMPLE_CORPUS, tmp)
    rows = []
    for n in [int(x) for x in s.workers.split(",")]:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
        for exchange in s.exchanges.split(","):
            run(client, warm, exchange, s, 1)
            row = run(client, corpus, exchange, s, s.epochs)
            rows.append(row)
            print(json.dumps(row), flush=True)
        client.close()
        cluster.close()
    print(f"\ncorpus {s.corpus}, d {s.dim}, min_count {s.min_count}, {s.epochs} epochs, sync words {s.sync_words}")
    print(f"{'N':>3} {'exchange':>16} {'V':>9} {'rounds':>6} {'MB/worker/round':>15} {'tasks':>5} {'r words/s':>10} "
          f"{'L s':>6} {'median':>6} {'round s':>7} {'words/s':>10} {'peak MB':>8}")
    for r in rows:
        print(f"{r['workers']:3d} {r['exchange']:>16} {r['vocab']:9,d} {r['rounds']:6d} "
              f"{r['bytes_per_worker_round'] / 1e6:15.3f} {r['tasks_per_round'] or 0:5d} {r['r']:10,.0f} "
              f"{r['L']:6.3f} {r['L_median']:6.3f} {r['round_seconds']:7.3f} {r['words_per_second']:10,.0f} "
              f"{r['worker_peak_mb']:8,.0f}")
    if s.json:
        with open(s.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
