"""bfloat16, the format in which a cluster's workers exchange their changes: the top 16 bits of a float32 (sign,
8 exponent bits, 7 mantissa bits), rounded to nearest, ties to even. Half float32's bytes with its whole range;
relative error at most 2⁻⁸. Converting back is exact (the 16 low bits become zeros)."""
import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..training.engine import DIVERGED_MAGNITUDE

BYTES = 2  # per value


@intrinsic
def _bits(typingctx, x):
    """The IEEE-754 bit pattern of the float32 x, as a uint32 (a bit cast)."""
    sig = types.uint32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen


@intrinsic
def _widen(typingctx, h):
    """The float32 of the bfloat16 bit pattern h (uint16): h's bits followed by 16 zero bits."""
    sig = types.float32(types.uint16)

    def codegen(context, builder, signature, args):
        wide = builder.shl(builder.zext(args[0], ir.IntType(32)), ir.Constant(ir.IntType(32), 16))
        return builder.bitcast(wide, ir.FloatType())

    return sig, codegen


@nb.njit(cache=True, nogil=True, inline="always")
def _nearest(x):
    """The bfloat16 bit pattern nearest the float32 x: its bits u rounded at bit 16, (u + 0x7FFF + bit 16 of u)
    >> 16; a NaN stays a (quiet) NaN, a value beyond the largest bfloat16 becomes infinite."""
    u = _bits(x)
    rounded = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    nan = (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)  # rounding a NaN could carry into the sign
    return np.uint16(((u >> np.uint32(16)) | np.uint32(0x40)) if nan else rounded)


# The exponent bits from which a bfloat16 is at least DIVERGED_MAGNITUDE in magnitude, or infinite, or NaN.
_DIVERGED_EXPONENT = np.uint16((127 + int(math.log2(DIVERGED_MAGNITUDE))) << 7)


@nb.njit(cache=True, nogil=True, inline="always")
def _out_of_range(h):
    """Whether the bfloat16 h is NaN, infinite or at least DIVERGED_MAGNITUDE in magnitude (training diverged)."""
    return (h & np.uint16(0x7F80)) >= _DIVERGED_EXPONENT


@nb.njit(cache=True, nogil=True, inline="always")
def _row_change(a, b, r, out, k):
    """out[k] ← bfloat16(a[r] − b[r]) (to nearest); returns (the OR of its bit patterns, how many are out of range:
    _out_of_range)."""
    bits = np.uint16(0)  # (an OR and a sum over the row, not a branch per value: the loop vectorizes)
    row_bad = 0
    for e in range(a.shape[1]):
        h = _nearest(a[r, e] - b[r, e])
        out[k, e] = h
        bits |= h
        row_bad += _out_of_range(h)
    return bits, row_bad


@nb.njit(cache=True, nogil=True)
def changed_rows_into(a, b, ids, out, marks=None, snap=False):
    """The rows of a − b (2-D float32 a, b of n rows; with marks, only the rows r with marks[r] set) whose bfloat16
    difference has a bit set (is not +0 everywhere): their row numbers into ids[:k] (ascending), their bfloat16
    differences (to nearest, _nearest) into out[:k]. Returns (k, how many differences are out of range). snap: the
    rows compared also set to what their change sends, a[r] ← b[r] + float32(bfloat16(a[r] − b[r])) (b[r] where
    the change is zero: the rounding's remainder dropped)."""
    k = 0
    bad = 0
    for r in range(a.shape[0]):
        if marks is not None and marks[r] == 0:
            continue
        bits, row_bad = _row_change(a, b, r, out, k)
        if snap:
            for e in range(a.shape[1]):
                a[r, e] = b[r, e] + _widen(out[k, e])
        bad += row_bad
        if bits != np.uint16(0):
            ids[k] = r
            k += 1
    return k, bad


@nb.njit(cache=True, nogil=True)
def add_rows(rows, at, changes, scale):
    """rows[at[k]] += scale · float32(changes[k]) for k in order (2-D float32 rows, uint16 bfloat16 changes of
    the same width), each value in float32: a change's rows added to the weights."""
    s = np.float32(scale)
    for k in range(at.shape[0]):
        r = at[k]
        for e in range(rows.shape[1]):
            rows[r, e] += _widen(changes[k, e]) * s


@nb.njit(cache=True, nogil=True)
def rebase_rows(local, base, own_changes, own_at, ids, changes):
    """Add the combined changes (ids, changes: bfloat16) to base under rows trained since a change of their own
    (own_changes[k], of row r with own_at[r] = k ≥ 0; −1: none) was sent but not added: for each row r in ids,
    base_new = base[r] + float32(D), local[r] ← (local[r] − (base[r] + float32(own))) + base_new (own = 0 for a
    row without one), base[r] ← base_new; a row with its own change gets own_at[r] = −2 (done: rebase_own_rest
    skips it). A row holding exactly base + float32(own) ends exactly at base_new."""
    for k in range(ids.shape[0]):
        r = ids[k]
        o = own_at[r]
        for e in range(local.shape[1]):
            old = base[r, e]
            new = old + _widen(changes[k, e])
            sent = old + _widen(own_changes[o, e]) if o >= 0 else old
            local[r, e] = (local[r, e] - sent) + new
            base[r, e] = new
        if o >= 0:
            own_at[r] = -2


@nb.njit(cache=True, nogil=True)
def rebase_own_rest(local, base, own_ids, own_changes, own_at):
    """After rebase_rows: the rows of own_ids whose base no combined change wrote, local[r] ← (local[r] − (base[r]
    + float32(own))) + base[r] (what was trained since the change was sent, on base); own_at reset to −1."""
    for k in range(own_ids.shape[0]):
        r = own_ids[k]
        if own_at[r] == k:
            for e in range(local.shape[1]):
                local[r, e] = (local[r, e] - (base[r, e] + _widen(own_changes[k, e]))) + base[r, e]
        own_at[r] = -1
