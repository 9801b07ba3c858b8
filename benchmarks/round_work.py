"""The work a cluster round does besides training and moving bytes, at a given V and d, on one machine: what
the cost model's L0 is made of, measured with the cluster's own functions on synthetic weights.

    python benchmarks/round_work.py [--vocab 919601] [--dim 300] [--synced 140071] [--changed 0.66]
                                    [--union 0.74] [--workers 16] [--reps 3]

One worker's view of a round of the sharded exchange: keep (the copy of the rows not synchronized, kept to redo a
round after a fault), changes (the bfloat16 change of the synchronized rows: exchange's rows with a change),
split (into N pieces), combine (its shard: N pieces of about |C|/N rows), apply (the N combined shards' changes
added to base, then base's synchronized rows into the local weights) and digest. The worker changed a fraction
--changed of the synchronized rows (all of them in a round, of the input vectors, the output vectors and bias);
the N parts together --union of them (the combined shards). Medians of --reps, seconds.
"""
import argparse
import statistics
import time

import numpy as np

from w2v_nce.cluster import bfloat16, exchange


def timed(fn, reps):
    out, times = None, []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vocab", type=int, default=919_601)
    p.add_argument("--dim", type=int, default=300)
    p.add_argument("--synced", type=int, default=140_071, help="rows synchronized in the round")
    p.add_argument("--changed", type=float, default=0.66, help="fraction of them this worker changed")
    p.add_argument("--union", type=float, default=0.74, help="fraction of them some worker changed")
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    rng = np.random.default_rng(1)
    V, d, n, N = a.vocab, a.dim, a.synced, a.workers
    base = (rng.random((V, d), dtype=np.float32), rng.random((V, d), dtype=np.float32),
            rng.random(V, dtype=np.float32))
    local = tuple(b.copy() for b in base)
    saved = tuple(np.empty_like(b) for b in base)
    for loc in local:  # the worker's round: a change on a fraction of the synchronized rows, and on rare rows
        lines = loc.reshape(V, -1)
        rows = np.flatnonzero(rng.random(n) < a.changed)
        lines[rows] += np.float32(1e-3)
        rare = n + np.flatnonzero(rng.random(V - n) < 0.05)
        lines[rare] += np.float32(1e-3)
    deltas = tuple((np.empty(n, np.int32), np.empty((n, b[:1].size), np.uint16)) for b in base)

    def keep():
        for loc, sv in zip(local, saved):
            np.copyto(sv[n:], loc[n:])

    def changes():
        out = []
        for loc, b, (ids, values) in zip(local, base, deltas):
            k, _ = bfloat16.changed_rows_into(loc[:n].reshape(n, -1), b[:n].reshape(n, -1), ids, values)
            out.append((ids[:k], values[:k]))
        return (n, n), tuple(out)

    bfloat16.changed_rows_into(local[0][:10], base[0][:10], deltas[0][0], deltas[0][1])  # compile
    _, t_keep = timed(keep, a.reps)
    change, t_changes = timed(changes, a.reps)
    pieces, t_split = timed(lambda: exchange.split(change, N), a.reps)
    # shard 0's N pieces: this worker's piece N times stands for the parts' (about |C|/N rows each)
    combined, t_combine = timed(lambda: exchange.combine(base, [pieces[0]] * N, 1.0), a.reps)
    # the N combined shards: rows of the union, in N slices
    union_rows = np.flatnonzero(rng.random(n) < a.union).astype(np.int32)
    shards = []
    for j in range(N):
        ids = union_rows[union_rows % N == j]
        # each row's combined change D in bfloat16: magnitudes 2⁻³¹ to 2⁻⁸, either sign
        shards.append(((n, n), tuple((ids, (rng.integers(0x3000, 0x3C00, (len(ids), b[:1].size))
                                            | (rng.integers(0, 2, (len(ids), b[:1].size)) << 15)).astype(np.uint16))
                                     for b in base)))
    scratch = tuple(b.copy() for b in base)

    def apply():
        written = exchange.apply_combined(scratch, shards)
        for loc, b in zip(local, scratch):
            np.copyto(loc[:n], b[:n])
        return written

    written, t_apply = timed(apply, a.reps)
    _, t_digest = timed(lambda: exchange.digest(scratch, written), a.reps)
    total = t_keep + t_changes + t_split + t_combine + t_apply + t_digest
    c = exchange.nbytes(change) / 1e6
    g = sum(exchange.nbytes(x) for x in shards) / 1e6
    print(f"V {V:,}, d {d}, synchronized rows {n:,}, changed {a.changed:.0%}, union {a.union:.0%}, N {N}; "
          f"a change {c:.1f} MB, the combined shards {g:.1f} MB")
    for name, t in (("keep", t_keep), ("changes", t_changes), ("split", t_split), ("combine", t_combine),
                    ("apply", t_apply), ("digest", t_digest), ("total", total)):
        print(f"  {name:8s} {t:7.3f} s")


if __name__ == "__main__":
    main()
