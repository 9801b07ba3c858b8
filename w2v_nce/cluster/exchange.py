"""What the workers of a round exchange: the rows each part changed, and how every worker adds them.

A change (one part's round, or a piece of it) is (sizes, rows): sizes = (n_in, n_out), the rows synchronized
after the round (a prefix of the input vectors, of the output vectors and bias); rows = one (ids, values) pair per
array (input vectors, output vectors, bias): the int32 numbers of the rows < n whose change Δ since their last
synchronization is not zero in bfloat16, ascending, and their Δ in bfloat16 (uint16, one line per row; the bias
as lines of one value). A row the round left untouched is not in it.

The rule of a synchronization, whatever the exchange: for every row some part changed, the combined change
D = bfloat16(x − base) of x = base + c · Σ_p Δ_p (the changes added in part order, each value as x += c · float32(Δ)
in float32: bfloat16.add_rows), then base ← base + float32(D). Rounding the combined change, like each part's,
halves the bytes that carry it; every worker adds the same D to the same base, so all hold the same bits. A row
whose D is zero everywhere is left as it is (adding +0 would change nothing, save a weight of exactly −0.0).

Two exchanges ("direct" and "sharded"):
- direct: every worker takes every part's change and combines them itself (apply_changes); a worker receives
  N − 1 changes.
- sharded (a reduce-scatter, then an all-gather): rows are cut into N shards by row number (row mod N); each part
  splits its change by shard (split); the worker of part j combines the N pieces of shard j, in part order, on its
  base rows (combine: what apply_changes computes for those rows) and that combined shard — the rows' D in
  bfloat16 — goes to every worker, which adds it to its base (apply_combined). With C the rows of a part's change
  and U the rows any part changed, a worker sends (N − 1)/N of its change and its shard's combined rows (about
  |U|/N of them) to N − 1 workers, 2 bytes a value: about (N − 1)/N · 2·(|C| + |U|)·d bytes, which does not grow
  with N except as U does (up to every row).
"""
import numba as nb
import numpy as np

from . import bfloat16

DIRECT, SHARDED = "direct", "sharded"
EXCHANGES = ("auto", DIRECT, SHARDED)
# "auto" shards from this many parts on: a worker sends (N − 1)·2·|C| bytes per value directly, about
# (N − 1)/N · 2·(|C| + |U|) sharded (U ≥ C): no fewer with two parts, at most a third fewer with three, for 3N
# tasks a round against 2N and one more hop.
SHARD_FROM = 4


def exchange_of(exchange, n_parts):
    """The exchange a job of n_parts uses: direct or sharded ("auto": sharded from SHARD_FROM parts on)."""
    if exchange == "auto":
        return SHARDED if n_parts >= SHARD_FROM else DIRECT
    return exchange


def _lines(a):
    return a.reshape(len(a), -1)


def nbytes(change):
    """The bytes of a change's (or a combined shard's) arrays."""
    return sum(ids.nbytes + values.nbytes for ids, values in change[1])


@nb.njit(cache=True, nogil=True)
def _shard_order(ids, shards):
    """The order that sorts rows (ids ascending) by shard, ids mod shards, each shard's rows still ascending (a
    counting sort), and where each shard begins in it (shards + 1 bounds)."""
    bounds = np.zeros(shards + 1, np.int64)
    for k in range(ids.shape[0]):
        bounds[ids[k] % shards + 1] += 1
    for j in range(shards):
        bounds[j + 1] += bounds[j]
    at = bounds[:-1].copy()
    order = np.empty(ids.shape[0], np.int64)
    for k in range(ids.shape[0]):
        j = ids[k] % shards
        order[at[j]] = k
        at[j] += 1
    return order, bounds


def split(change, shards):
    """A change cut into `shards` pieces, piece j holding its rows r with r mod shards = j (each in order): the
    rows ordered by shard once (_shard_order), the pieces slices of that."""
    if shards == 1:
        return [change]
    sizes, rows = change
    cut = []
    for ids, values in rows:
        order, bounds = _shard_order(ids, shards)
        cut.append((ids[order], np.take(values, order, axis=0), bounds))
    return [(sizes, tuple((ids[b[j]:b[j + 1]], values[b[j]:b[j + 1]]) for ids, values, b in cut))
            for j in range(shards)]


def apply_changes(base, changes, scale):
    """Synchronize base from every part's change (in part order) by the rule above; returns the numbers of the
    rows written, per array."""
    return apply_combined(base, [combine(base, changes, scale)])


# combine works through the rows this many at a time, so that its float32 copies stay small whatever the rows
COMBINE_BLOCK_ROWS = 65_536


def combine(base, pieces, scale):
    """The combined change of the rows the pieces (one per part, in part order) name: (sizes, one (ids, D) pair
    per array), D = bfloat16(x − base) of x = base + scale · Σ_p Δ_p, the rows whose D is not zero, ascending."""
    out = []
    for i, target in enumerate(base):
        lines = _lines(target)
        named = [p[1][i] for p in pieces]
        ids = np.unique(np.concatenate([at for at, _ in named])).astype(np.int32)
        kept_ids = np.empty(len(ids), np.int32)
        kept = np.empty((len(ids), lines.shape[1]), np.uint16)
        k = 0
        for lo in range(0, len(ids), COMBINE_BLOCK_ROWS):
            block = ids[lo:lo + COMBINE_BLOCK_ROWS]
            before = lines[block]
            rows = before.copy()
            for at, values in named:
                a, b = np.searchsorted(at, (block[0], block[-1] + 1))
                bfloat16.add_rows(rows, np.searchsorted(block, at[a:b]).astype(np.int32), values[a:b], scale)
            n, _ = bfloat16.changed_rows_into(rows, before, kept_ids[k:], kept[k:])
            kept_ids[k:k + n] = block[kept_ids[k:k + n]]
            k += n
        out.append((kept_ids[:k], kept[:k]))
    return pieces[0][0], tuple(out)


def apply_combined(base, shards):
    """Add every combined shard's D to base (base += float32(D), the shards' rows disjoint); returns the numbers of
    the rows written, per array: each once, shard after shard (ascending within a shard; not sorted: their
    users, the digest and the marks, need no order)."""
    written = []
    for i, target in enumerate(base):
        lines = _lines(target)
        for shard in shards:
            ids, values = shard[1][i]
            bfloat16.add_rows(lines, ids, values, 1.0)
        written.append(np.concatenate([s[1][i][0] for s in shards]))
    return written


@nb.njit(cache=True, nogil=True)
def _weighted_sum(bits, ids):
    """Σ u · (2·(r·w + e) + 1) mod 2⁶⁴ over the values' bit patterns u = bits[r, e] of the rows r in ids (w
    values a row): a value that differs changes it (its factor is odd and |Δu| < 2³²)."""
    acc = np.uint64(0)
    w = bits.shape[1]
    for k in range(ids.shape[0]):
        r = ids[k]
        for e in range(w):
            acc += np.uint64(bits[r, e]) * np.uint64(2 * (r * w + e) + 1)
    return acc


def digest(base, written):
    """A digest of the rows of base a synchronization wrote (rows it did not write are the same on every worker
    as before it): the same on every worker when they hold the same bits; a value that differs changes it."""
    return tuple(int(_weighted_sum(_lines(target).view(np.uint32), ids)) for target, ids in zip(base, written))
