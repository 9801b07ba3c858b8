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


@nb.njit(cache=True, nogil=True)
def difference_into(a, b, out):
    """out ← bfloat16(a − b) elementwise (1-D float32 a, b; uint16 out). The float32 difference d's bits u are
    rounded at bit 16: (u + 0x7FFF + bit 16 of u) >> 16; a NaN stays a (quiet) NaN, a difference beyond the
    largest bfloat16 becomes infinite. Returns how many differences are not finite."""
    bad = 0
    for i in range(a.shape[0]):
        u = _bits(a[i] - b[i])
        rounded = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
        if (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000):  # NaN: rounding could carry into the sign
            rounded = (u >> np.uint32(16)) | np.uint32(0x40)
        h = np.uint16(rounded)
        out[i] = h
        bad += (h & np.uint16(0x7F80)) == np.uint16(0x7F80)
    return bad


@nb.njit(cache=True, nogil=True)
def add_into(rows, changes, scale):
    """rows += scale · float32(changes) elementwise (1-D float32 rows, uint16 bfloat16 changes)."""
    s = np.float32(scale)
    for i in range(rows.shape[0]):
        rows[i] += _widen(changes[i]) * s
