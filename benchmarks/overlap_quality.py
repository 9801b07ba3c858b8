"""The quality of overlapping a round's exchange with the next round's training, measured before building it.

    python benchmarks/overlap_quality.py [--corpus PATH] [--seeds 1,2,3] [--workers 4] [--arch sg]

Overlap means that round t + 1 trains while the changes of round t are still being combined: a worker starts round
t + 1 from its own weights (the last synchronization it has, t − 1, plus its own change of round t), and once round
t's combination arrives it takes it in place of its own change of round t, keeping its change of round t + 1:
W ← B_t + D_{t+1}, B_t = B_{t−1} + c · Σ_p bfloat16(D_t,p). Every worker's B stays the same, bit for bit; what each
round trains from is one synchronization older. The timing needs a new exchange; the rule does not: this script
trains it on a real LocalCluster by replacing the round task of the cluster's job with one that does exactly that,
still waiting for round t's exchange before it starts (so the times are not those of an overlap, the models
are). Every row is synchronized every round (--sync full) in both cluster configurations, so that the rows'
change is that of one round; the default round length and rule otherwise.

Per seed: a local run (2 threads), the cluster (`full`), the cluster with the overlap's rule; printed per
configuration the medians over the seeds and the median [range] of the per-seed differences to the local run.
Reference settings: negative sampling, d=100, window 5, k=5, sample 1e-3, min_count 5, 5 epochs.
"""
import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import default_corpus, evaluate, plain_copy  # noqa: E402
# this folder holds distributed.py, whose name is the dask package's: it must not shadow the package
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

SETTINGS = dict(objective="ns", dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5)


def overlapped_round(store_name, index, attempt, s, prev, shards, scale, epoch, chunk_ids, words_from, words_to,
                     n_in, n_out):
    """Round s with the overlap's rule (module description): train from the part's own weights, then take
    synchronization s − 1 (prev) into base and set the weights to base plus this round's own change. Sent to the
    workers by value (defined in __main__); its report is that of the cluster's round task."""
    import time

    import numpy as np

    from w2v_nce.cluster import exchange
    from w2v_nce.cluster.part import _store
    from w2v_nce.cluster.transport import received_exchange

    part = _store(store_name).parts[index]
    with part.lock:
        if attempt != part.attempt or part.trained >= s or (prev is not None and any(x is None for x in prev)):
            return None
        start = tuple(a.copy() for a in part.weights)
        part.trained = s
        t0 = time.perf_counter()
        tally = part.train_round(epoch, chunk_ids, words_from, words_to) if len(chunk_ids) else (0.0, 0.0)
        seconds = time.perf_counter() - t0
        applied, digest = (), None
        if prev is not None and part.synced < s - 1:  # synchronization s − 1, one round late (unless a
            # fetch of the weights took it already)
            received = received_exchange(store_name, s - 1, prev, shards)
            if shards == 1:
                written = exchange.apply_changes(part.base, received, scale)
            else:
                written = exchange.apply_combined(part.base, received)
            digest = exchange.digest(part.base, written)
            applied = tuple(exchange.nbytes(x) for x in received)
        part.synced = max(part.synced, s - 1)
        for local, before, base in zip(part.weights, start, part.base):
            own = local - before  # this round's own change
            np.add(base, own, out=local)
        return part.round_result(s, n_in, n_out, shards, tally, seconds, applied, digest)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=default_corpus())
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--arch", default="sg", choices=["sg", "cbow"])
    a = p.parse_args()
    from distributed import Client, LocalCluster

    import w2v_nce
    import w2v_nce.cluster.job as job_module

    synchronous_round = job_module._part_round
    tmp = tempfile.mkdtemp(prefix="w2v-overlap-")
    corpus = plain_copy(os.path.abspath(a.corpus), tmp)
    client = Client(LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=":0"))
    print(f"corpus {a.corpus}; {a.arch}, {a.workers} workers × 1 thread, --sync full; local: 2 threads", flush=True)
    results = {c: [] for c in ("local", "full", "full+overlap")}
    for seed in [int(x) for x in a.seeds.split(",")]:
        for config in results:
            job_module._part_round = overlapped_round if config == "full+overlap" else synchronous_round
            kw = dict(SETTINGS, arch=a.arch, seed=seed)
            if config == "local":
                m = w2v_nce.train(corpus, workers=2, **kw)
            else:
                m = w2v_nce.train(corpus, client=client, sync="full", **kw)
            q = evaluate(m.to_keyedvectors())
            results[config].append(q)
            print(f"  seed {seed} {config}: analogy {q['analogy']:.2%}, WS353 {q['ws353']:.3f}, "
                  f"SimLex {q['simlex']:.3f}", flush=True)
    job_module._part_round = synchronous_round
    local = results["local"]
    for config, qs in results.items():
        line = f"{config:14s} analogy {statistics.median(q['analogy'] for q in qs):.2%}, WS353 " \
               f"{statistics.median(q['ws353'] for q in qs):.3f}"
        if config != "local":
            da = [100 * (q["analogy"] - r["analogy"]) for q, r in zip(qs, local)]
            dw = [q["ws353"] - r["ws353"] for q, r in zip(qs, local)]
            line += (f"; against local: analogy {statistics.median(da):+.2f} points [{min(da):+.2f}, {max(da):+.2f}],"
                     f" WS353 {statistics.median(dw):+.3f} [{min(dw):+.3f}, {max(dw):+.3f}]")
        print(line)
    client.close()


if __name__ == "__main__":
    main()
