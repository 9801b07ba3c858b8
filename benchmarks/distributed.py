"""Data-parallel training on a local Dask cluster against one local process, trained alternately.

    python benchmarks/distributed.py [--corpus PATH] [--seeds 1,2,3] [--configs local,dask,dask-epoch-average]
                                     [--extra-configs dask-average,dask:500000] [--dask-workers 2]
                                     [--local-threads 2] [--arch sg] [--objective ns] [--epochs 5] [--json OUT]

Settings: the reference ones (negative sampling unless --objective, d=100, window 5, k=5, sample 1e-3, min_count 5,
5 epochs).
Configurations: "local" is one process with --local-threads threads; "dask" is a LocalCluster of --dask-workers
worker processes × 1 thread with the default synchronization (stratified rows, "scaled" updates); a suffix selects
another: dask-full (every row every round), dask-sum (stratified, summed updates), dask-average (stratified,
averaged updates), dask-epoch-average (Spark MLlib's scheme: one round per epoch, averaged), :WORDS the round
length (dask:100000), @F the initial learning rate, F times the default (dask@0.5), ~on or ~off the overlap of a
round's exchange with the next round's training (dask~off; the default: auto), =windows or =examples the update
form (window_batch True or False, for local too: local=examples; the default: the objective's); "+kill" at the end
(dask+kill) kills the worker process of part 1 (SIGKILL) once round 3 of the first epoch is reported, with the next
round running: the run's quality is then that of a training that lost a worker (the nanny starts it again before the
next run). The cluster is started once, and every configuration trains once before the measurements (Numba's cache
loaded everywhere). Each seed runs every configuration once, the order rotated from one seed to the next, so that
the runs compared are close in time on a shared machine; the table gives medians over the seeds. Wall: the whole
train() call (counting, encoding, training); train: the training part (rounds, with their synchronization); words/s:
raw words × epochs per training second. Quality: analogy accuracy (questions-words, restrict_vocab 30000), WS353 and
SimLex-999 Spearman, by gensim's evaluators. Sync: bytes sent per round (both directions, all workers) and the share
of the rounds' time not spent training on the slowest part.
"""
import argparse
import json
import os
import signal
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # dask's worker processes import this file again without this folder on sys.path
from common import default_corpus  # noqa: E402
# this file's name is the dask package's: its directory must not shadow the package
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

KILL = "+kill"
SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5)


def parse_config(name):
    name, kill = (name[:-len(KILL)], True) if name.endswith(KILL) else (name, False)
    name, _, form = name.partition("=")
    if form not in ("", "windows", "examples"):
        raise SystemExit(f"unknown update form {form!r}: windows or examples")
    name, _, overlap = name.partition("~")
    name, _, rate = name.partition("@")
    base, _, words = name.partition(":")
    sync = dict(dask=("stratified", "scaled"), **{"dask-full": ("full", "scaled"), "dask-sum": ("stratified", "sum"),
                                                   "dask-average": ("stratified", "average"),
                                                   "dask-epoch-average": ("epoch-average", "average")}).get(base)
    if base != "local" and sync is None:
        raise SystemExit(f"unknown configuration {name!r}")
    if kill and base == "local":
        raise SystemExit(f"{KILL} needs a cluster configuration, not {name!r}")
    return (base, sync, int(words) if words else None, kill, float(rate) if rate else None, overlap or None,
            {"windows": True, "examples": False}.get(form))


def killer(client, victim=1, at_round=2):
    """An on_round_end that kills the worker process of part `victim` once round `at_round` of the first epoch is
    reported (the next round is then running on every worker)."""
    pids = client.run(os.getpid)
    killed = []

    def on_round_end(info):
        if not killed and info["epoch"] == 0 and info["round"] == at_round:
            killed.append(info["hosts"][victim])
            os.kill(pids[killed[0]], signal.SIGKILL)

    return on_round_end


def run(name, corpus, client, s, seed, epochs, evaluate=True):
    import w2v_nce
    from w2v_nce.model.evaluation import word_vector_metrics

    base, sync, words, kill, rate, overlap, window_batch = parse_config(name)
    kw = dict(SETTINGS, arch=s.arch, objective=s.objective, epochs=epochs, seed=seed)
    if window_batch is not None:
        kw["window_batch"] = window_batch
    t0 = time.perf_counter()
    if base == "local":
        m = w2v_nce.train(corpus, workers=s.local_threads, **kw)
    else:
        extra = dict(sync=sync[0], sync_combine=sync[1])
        if words:
            extra["sync_words"] = words
        if overlap:
            extra["sync_overlap"] = overlap
        if rate:
            from w2v_nce.training.options import default_alpha
            extra["alpha"] = rate * default_alpha(s.objective, s.arch)
        if kill and evaluate:
            extra["on_round_end"] = killer(client)
        m = w2v_nce.train(corpus, client=client, **extra, **kw)
    wall = time.perf_counter() - t0
    if kill:  # the nanny starts the killed worker again: the next run has every worker
        client.wait_for_workers(s.dask_workers, timeout=120)
    row = dict(config=name, seed=seed, wall_seconds=wall, train_seconds=m.stats["train_seconds"],
               words_per_second=m.stats["words_per_second"])
    if evaluate:
        row.update(word_vector_metrics(m.to_keyedvectors()))
    d = m.stats.get("distributed")
    if d:
        row.update(bytes_per_round=d["bytes_per_round"], rounds=d["rounds"], failed_rounds=d["failed_rounds"],
                   reopened_parts=d["reopened_parts"],
                   sync_share=d["sync_seconds"] / d["round_seconds"] if d["round_seconds"] else 0.0)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=default_corpus())
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--configs", default="local,dask,dask-epoch-average")
    p.add_argument("--extra-configs", default="",
                   help="configurations run after the others, with the first seed only")
    p.add_argument("--dask-workers", type=int, default=2)
    p.add_argument("--local-threads", type=int, default=2)
    p.add_argument("--arch", default="sg", choices=["sg", "cbow"])
    p.add_argument("--objective", default="ns", choices=["ns", "nce", "infonce", "hs", "softmax"])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--json")
    s = p.parse_args(argv)
    from distributed import Client, LocalCluster

    configs = s.configs.split(",")
    extras = [c for c in s.extra_configs.split(",") if c]
    for c in configs + extras:
        parse_config(c)
    seeds = [int(x) for x in s.seeds.split(",")]
    corpus = os.path.abspath(s.corpus)  # as given: a .gz file is cut and dealt like its plain text
    cluster = LocalCluster(n_workers=s.dask_workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster)
    print(f"corpus {s.corpus}; {s.arch} {s.objective}, d 100, window 5, k 5, sample 1e-3, min_count 5, epochs {s.epochs}; "
          f"local: 1 process × {s.local_threads} threads; dask: LocalCluster {s.dask_workers} processes × 1 thread",
          flush=True)
    for c in dict.fromkeys(configs + extras):  # warm-up: kernels loaded from Numba's cache in every process
        run(c, corpus, client, s, 0, 1, evaluate=False)
    rows = []
    for i, seed in enumerate(seeds):
        order = configs[i % len(configs):] + configs[:i % len(configs)]
        for c in order:
            row = run(c, corpus, client, s, seed, s.epochs)
            rows.append(row)
            print(json.dumps(row), flush=True)
    for c in extras:
        row = run(c, corpus, client, s, seeds[0], s.epochs)
        rows.append(row)
        print(json.dumps(row), flush=True)
    client.close()
    cluster.close()
    keys = ["wall_seconds", "train_seconds", "words_per_second", "analogy_accuracy", "ws353_spearman",
            "simlex_spearman", "bytes_per_round", "sync_share"]
    print(f"\nmedians over seeds {s.seeds}, extra configurations seed {seeds[0]} only (machine shared with other "
          f"jobs: configurations alternate per seed)")
    print(f"{'config':>22} {'wall s':>7} {'train s':>7} {'words/s':>9} {'analogy':>8} {'WS353':>6} {'SimLex':>6} "
          f"{'MB/round':>8} {'sync %':>6}")
    local = None
    for c in dict.fromkeys(configs + extras):
        mine = [r for r in rows if r["config"] == c]
        med = {k: statistics.median(r[k] for r in mine) if all(r.get(k) is not None for r in mine) else None
               for k in keys}
        if c == "local":
            local = {r["seed"]: r for r in mine}
        print(f"{c:>22} {med['wall_seconds']:7.1f} {med['train_seconds']:7.1f} {med['words_per_second']:9,.0f} "
              f"{100 * med['analogy_accuracy']:7.2f}% {med['ws353_spearman']:6.3f} {med['simlex_spearman']:6.3f} "
              + (f"{med['bytes_per_round'] / 1e6:8.2f} {100 * med['sync_share']:5.1f}%" if med["bytes_per_round"]
                 else f"{'-':>8} {'-':>6}"))
    if local:
        print("\nper seed against local (median of the per-seed differences / ratios)")
        for c in dict.fromkeys(configs + extras):
            if c == "local":
                continue
            mine = [r for r in rows if r["config"] == c and r["seed"] in local]
            wall = statistics.median(r["wall_seconds"] / local[r["seed"]]["wall_seconds"] for r in mine)
            train = statistics.median(r["train_seconds"] / local[r["seed"]]["train_seconds"] for r in mine)
            an = statistics.median(100 * (r["analogy_accuracy"] - local[r["seed"]]["analogy_accuracy"]) for r in mine)
            ws = statistics.median(r["ws353_spearman"] - local[r["seed"]]["ws353_spearman"] for r in mine)
            print(f"{c:>22}: wall ×{wall:.3f}, train ×{train:.3f}, analogy {an:+.2f} points, WS353 {ws:+.3f}")
    if s.json:
        with open(s.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
