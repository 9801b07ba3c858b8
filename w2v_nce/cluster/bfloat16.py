"""bfloat16, the format in which a cluster's workers exchange their changes: the top 16 bits of a float32 (sign,
8 exponent bits, 7 mantissa bits), rounded to nearest, ties to even. Half float32's bytes with its whole range;
relative error at most 2⁻⁸. Converting back is exact (the 16 low bits become zeros)."""
import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

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


@nb.njit(cache=True, nogil=True, inline="always")
def _not_finite(h):
    return (h & np.uint16(0x7F80)) == np.uint16(0x7F80)


@nb.njit(cache=True, nogil=True)
def changed_rows_into(a, b, ids, out, marks=None):
    """The rows of a − b (2-D float32 a, b of n rows; with marks, only the rows r with marks[r] set) whose bfloat16
    difference has a bit set (is not +0 everywhere): their row numbers into ids[:k] (ascending), their bfloat16
    differences (to nearest, _nearest) into out[:k]. Returns (k, how many differences are not finite)."""
    k = 0
    bad = 0
    for r in range(a.shape[0]):
        if marks is not None and marks[r] == 0:
            continue
        bits = np.uint16(0)  # (an OR and a sum over the row, not a branch per value: the loop vectorizes)
        row_bad = 0
        for e in range(a.shape[1]):
            h = _nearest(a[r, e] - b[r, e])
            out[k, e] = h
            bits |= h
            row_bad += _not_finite(h)
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
def detach_rows(local, base, own_ids, own_changes, written, flags):
    """The first half of moving rows onto a new base without losing what was trained on them: local[r] −=
    base[r] + float32(own_changes[k]) for r = own_ids[k] (rows whose bfloat16 change is still to be added to base),
    local[r] −= base[r] for the other rows r in written; flags[r] set for every row so treated (attach_rows undoes
    the flags). A row that holds exactly base + float32(change) (its change added by add_rows) becomes exactly 0."""
    for k in range(own_ids.shape[0]):
        r = own_ids[k]
        flags[r] = 1
        for e in range(local.shape[1]):
            local[r, e] -= base[r, e] + _widen(own_changes[k, e])
    for k in range(written.shape[0]):
        r = written[k]
        if flags[r] == 0:
            flags[r] = 1
            for e in range(local.shape[1]):
                local[r, e] -= base[r, e]


@nb.njit(cache=True, nogil=True)
def attach_rows(local, base, own_ids, written, flags):
    """The second half (after base changed): local[r] += base[r] for the rows detach_rows flagged; flags cleared."""
    for ids in (own_ids, written):
        for k in range(ids.shape[0]):
            r = ids[k]
            if flags[r]:
                flags[r] = 0
                for e in range(local.shape[1]):
                    local[r, e] += base[r, e]
