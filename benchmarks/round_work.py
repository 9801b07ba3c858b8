"""The work a cluster round does besides training and moving bytes, at a given V and d, on one machine: what
the cost model's L0 is made of, measured with the cluster's own functions on synthetic weights.

    python benchmarks/round_work.py [--vocab 919601] [--dim 300] [--synced 140071] [--changed 0.2,0.74]
                                    [--rare 0.06,0.55] [--paths] [--union 0.74] [--workers 16] [--reps 3]
                                    [--overlap]

One worker's view of a round of the sharded exchange: keep (a copy of the marks, to undo a round after a fault;
the rows at or above the synchronized prefix marked), changes (the bfloat16 change of the marked synchronized
rows: exchange's rows with a change),
split (into N pieces), combine (its shard: N pieces of about |C|/N rows), apply (the N combined shards' changes
added to base, then base's rows written or marked into the local weights) and digest (cluster/local_rows.py,
exchange.py). The worker changed a fraction --changed of the synchronized rows and --rare of the others, of the
input vectors and of the output vectors and bias (two fractions; the defaults: skip-gram NS, zipf30m, d = 300, a
part of a job of 16, as benchmarks/touched_rows.py measures the rows its words and noise words reach); the rows
it changed are marked, and every output row unless --paths (the sampling objectives' marks; --paths: hs's, where
the words' paths are marked); the N parts together changed --union of the synchronized rows (the combined
shards). --overlap: the round's steps with the overlap (changes, the local rows set to what was sent;
apply as rebase, the combined shards added under the rows the next round trained). Medians of --reps, seconds.
"""
import argparse
import statistics
import time

import numpy as np

from w2v_nce.cluster import exchange
from w2v_nce.cluster.local_rows import LocalRows


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
    p.add_argument("--changed", default="0.2,0.74", help="fractions of them this worker changed: input, output")
    p.add_argument("--rare", default="0.06,0.55", help="fractions of the other rows this worker changed")
    p.add_argument("--paths", action="store_true", help="mark only the output rows changed (hs)")
    p.add_argument("--union", type=float, default=0.74, help="fraction of them some worker changed")
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--overlap", action="store_true")
    a = p.parse_args()
    rng = np.random.default_rng(1)
    V, d, n, N = a.vocab, a.dim, a.synced, a.workers
    base = (rng.random((V, d), dtype=np.float32), rng.random((V, d), dtype=np.float32),
            rng.random(V, dtype=np.float32))
    local = tuple(b.copy() for b in base)
    rows = LocalRows(local, base)
    fractions = [tuple(float(x) for x in f.split(",")) for f in (a.changed, a.rare)]
    for side, loc in zip(rows.sides, local):  # the worker's round: a change on a fraction of the synchronized
        lines = loc.reshape(V, -1)            # rows, and on rare rows, which are marked
        changed = np.concatenate([np.flatnonzero(rng.random(n) < fractions[0][side]),
                                  n + np.flatnonzero(rng.random(V - n) < fractions[1][side])])
        lines[changed] += np.float32(1e-3)
        rows.touched[side, changed] = 1
    if not a.paths:
        rows.touched[1] = 1
    deltas = tuple((np.empty(n, np.int32), np.empty((n, b[:1].size), np.uint16)) for b in base)

    after_round = rows.touched.copy()
    before_round = after_round.copy()
    before_round[:, :n] = 0  # what a keep finds: the marks below n cleared by the synchronization before it

    def keep():
        rows.touched[:] = before_round
        rows.keep(1)
        rows.touched[:] = after_round

    def changes():
        rows.touched[:] = after_round
        return (n, n), tuple(rows.changes((n, n, n), deltas, snap=a.overlap)[0])

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
    marks = rows.touched.copy()
    scratch_rows = LocalRows(local, scratch)

    def apply():
        if a.overlap:
            return scratch_rows.rebase(2, change[1], shards)
        written = exchange.apply_combined(scratch, shards)
        scratch_rows.touched[:] = marks  # (each repetition from the round's marks)
        scratch_rows.synchronized((n, n, n), written)
        return written

    written, t_apply = timed(apply, a.reps)
    _, t_digest = timed(lambda: exchange.digest(scratch, written), a.reps)
    total = t_keep + t_changes + t_split + t_combine + t_apply + t_digest
    c = exchange.nbytes(change) / 1e6
    g = sum(exchange.nbytes(x) for x in shards) / 1e6
    print(f"V {V:,}, d {d}, synchronized rows {n:,}, changed {a.changed} (others {a.rare}), union {a.union:.0%}, "
          f"N {N}{', overlap' if a.overlap else ''}; "
          f"a change {c:.1f} MB, the combined shards {g:.1f} MB")
    for name, t in (("keep", t_keep), ("changes", t_changes), ("split", t_split), ("combine", t_combine),
                    ("apply", t_apply), ("digest", t_digest), ("total", total)):
        print(f"  {name:8s} {t:7.3f} s")


if __name__ == "__main__":
    main()
