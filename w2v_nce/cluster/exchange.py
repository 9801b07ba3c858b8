"""What the workers of a round exchange: the rows each part changed, and how every worker adds them.

A change (one part's round, or a piece of it) is (sizes, rows): sizes = (n_in, n_out), the rows synchronized
after the round (a prefix of the input vectors, of the output vectors and bias); rows = one (ids, values) pair per
array (input vectors, output vectors, bias): the int32 numbers of the rows < n whose change Δ since their last
synchronization is not zero in bfloat16, ascending, and their Δ in bfloat16 (uint16, one line per row; the bias
as lines of one value). A row the round left untouched is not in it.

The rule of a synchronization, whatever the exchange: base ← base + c · Σ_p Δ_p, the changes added in part order,
each value as base += c · float32(Δ) in float32 (bfloat16.add_rows). A value a part did not change adds nothing
(x + 0 = x), so adding only the rows named gives the weights of adding every row, bit for bit (save a weight of
exactly −0.0, which adding +0 would make +0.0, the same number).

Two exchanges ("direct" and "sharded"):
- direct: every worker takes every part's change and adds them in part order (apply_changes); a worker receives
  N − 1 changes.
- sharded (a reduce-scatter, then an all-gather): rows are cut into N shards by row number (row mod N); each part
  splits its change by shard (split); the worker of part j adds the N pieces of shard j, in part order, to its
  base rows (combine: the same additions as apply_changes makes there) and that combined shard — the rows'
  new float32 values — goes to every worker, which writes it into its base (apply_combined). With C the rows of
  a part's change and U the rows any part changed, a worker sends (N − 1)/N of its change (2 bytes a value) and
  its shard's combined rows (about |U|/N of them, 4 bytes a value) to N − 1 workers: about (N − 1)/N ·
  (2·|C| + 4·|U|)·d bytes, which does not grow with N except as U does (up to every row).
"""
import numba as nb
import numpy as np

from . import bfloat16

DIRECT, SHARDED = "direct", "sharded"
EXCHANGES = ("auto", DIRECT, SHARDED)
# "auto" shards from this many parts on: a worker sends (N − 1)·|C|·2 bytes per value directly, about
# (N − 1)/N · (2·|C| + 4·|U|) sharded (U ≥ C), fewer from four parts on.
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


def split(change, shards):
    """A change cut into `shards` pieces, piece j holding its rows r with r mod shards = j (each in order): the
    rows ordered by shard once (a stable sort keeps each shard's rows ascending), the pieces slices of that."""
    if shards == 1:
        return [change]
    sizes, rows = change
    cut = []
    for ids, values in rows:
        which = ids % shards
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(shards + 1))
        cut.append((ids[order], np.take(values, order, axis=0), bounds))
    return [(sizes, tuple((ids[b[j]:b[j + 1]], values[b[j]:b[j + 1]]) for ids, values, b in cut))
            for j in range(shards)]


def apply_changes(base, changes, scale):
    """base ← base + scale · Σ_p Δ_p over the changes (in part order) of the rows they name; returns the numbers
    of the rows written, per array."""
    written = []
    for i, target in enumerate(base):
        lines = _lines(target)
        for change in changes:
            ids, values = change[1][i]
            bfloat16.add_rows(lines, ids, values, scale)
        written.append(np.unique(np.concatenate([c[1][i][0] for c in changes])))
    return written


def combine(base, pieces, scale):
    """The combined shard of a round from its pieces (one per part, in part order): the union of the rows they
    name, with base's values plus scale · Σ_p Δ_p (the additions apply_changes makes on these rows), float32."""
    out = []
    for i, target in enumerate(base):
        ids = np.unique(np.concatenate([p[1][i][0] for p in pieces])).astype(np.int32)
        rows = _lines(target)[ids]
        for p in pieces:
            at, values = p[1][i]
            bfloat16.add_rows(rows, np.searchsorted(ids, at).astype(np.int32), values, scale)
        out.append((ids, rows))
    return pieces[0][0], tuple(out)


def apply_combined(base, shards):
    """Write every combined shard's rows into base; returns the numbers of the rows written, per array."""
    written = []
    for i, target in enumerate(base):
        lines = _lines(target)
        for shard in shards:
            ids, rows = shard[1][i]
            lines[ids] = rows
        written.append(np.unique(np.concatenate([s[1][i][0] for s in shards])))
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
