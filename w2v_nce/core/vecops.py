"""Vector primitives of the kernels: float32 storage, loops that LLVM vectorizes (fastmath)."""
import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# The several-row forms below (dot2, dot4, axpy2, axpy4, row_steps2) read each shared vector once for two or four
# rows: a skip-gram window's scores, for one, load the context once per four rows instead of once per row. They
# give the values of the one-row forms taken one after the other: the updates exactly, being compiled without
# "reassoc" (each y[i] receives its products in the order the one-row calls would add them); the dots as far as
# LLVM orders their sums as it orders dot's (it did on the machines measured: the same vectors, bit for bit).
_IN_ORDER = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def dot(x, y):
    """x · y."""
    s = np.float32(0.0)
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    return s


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def dot2(x, y, z):
    """(x · y, x · z) in one pass over x."""
    s = np.float32(0.0)
    t = np.float32(0.0)
    for i in range(x.shape[0]):
        s += x[i] * y[i]
        t += x[i] * z[i]
    return s, t


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def dot4(x, y, z, v, w):
    """(x · y, x · z, x · v, x · w) in one pass over x."""
    s = np.float32(0.0)
    t = np.float32(0.0)
    p = np.float32(0.0)
    q = np.float32(0.0)
    for i in range(x.shape[0]):
        s += x[i] * y[i]
        t += x[i] * z[i]
        p += x[i] * v[i]
        q += x[i] * w[i]
    return s, t, p, q


@nb.njit(cache=True, nogil=True, fastmath=_IN_ORDER, inline="always")
def axpy4(a, x, b, z, c, v, d, w, y):
    """y += a·x, then b·z, c·v and d·w, in one pass over y."""
    a32 = np.float32(a)
    b32 = np.float32(b)
    c32 = np.float32(c)
    d32 = np.float32(d)
    for i in range(x.shape[0]):
        y[i] = (((y[i] + a32 * x[i]) + b32 * z[i]) + c32 * v[i]) + d32 * w[i]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def axpy(a, x, y):
    """y += a * x."""
    a32 = np.float32(a)
    for i in range(x.shape[0]):
        y[i] += a32 * x[i]


@nb.njit(cache=True, nogil=True, fastmath=_IN_ORDER, inline="always")
def axpy2(a, x, b, z, y):
    """y += a·x, then b·z, in one pass over y."""
    a32 = np.float32(a)
    b32 = np.float32(b)
    for i in range(x.shape[0]):
        y[i] = (y[i] + a32 * x[i]) + b32 * z[i]


@nb.njit(cache=True, nogil=True, fastmath=_IN_ORDER, inline="always")
def row_steps2(h, u, g, u2, g2, dh):
    """Two output steps on distinct rows u and u2 in one pass: dh += g·u, then dh += g2·u2 (both rows' old
    values), u += g·h, u2 += g2·h (the same values as the two steps taken one after the other)."""
    g32 = np.float32(g)
    g2_32 = np.float32(g2)
    for i in range(u.shape[0]):
        a = u[i]
        b = u2[i]
        dh[i] = (dh[i] + g32 * a) + g2_32 * b
        u[i] = a + g32 * h[i]
        u2[i] = b + g2_32 * h[i]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def zero(x):
    """x[:] = 0."""
    for i in range(x.shape[0]):
        x[i] = np.float32(0.0)


@intrinsic
def float32_from_bits(typingctx, bits):
    """The float32 whose IEEE-754 bit pattern is the int32 `bits` (a bit cast)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


# exp(x) = 2^n · e^r with n = round(x / ln 2), r = x − n·ln 2 (ln 2 split in two parts, exact first part),
# |r| ≤ ln 2 / 2; e^r by its Taylor polynomial to degree 6 (truncation error below 1.2e-7 relative).
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_MIN = np.float32(-87.0)  # e^-87 ≈ 1.6e-38, the smallest normal float32 region
_EXP_MAX = np.float32(88.0)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def exp32(x):
    """e^x in float32 for x in [−87, 88] (clamped there), relative error below 5e-7 (measured against float64
    exp); branch-free, so loops over it vectorize (libm's expf does not)."""
    x = min(max(x, _EXP_MIN), _EXP_MAX)
    n = np.floor(x * _LOG2E + np.float32(0.5))
    r = x - n * _LN2_HI - n * _LN2_LO
    p = np.float32(1.0 / 720.0)
    p = p * r + np.float32(1.0 / 120.0)
    p = p * r + np.float32(1.0 / 24.0)
    p = p * r + np.float32(1.0 / 6.0)
    p = p * r + np.float32(0.5)
    p = p * r + np.float32(1.0)
    p = p * r + np.float32(1.0)
    return p * float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))


@intrinsic
def prefetch_row(typingctx, matrix, row):
    """Ask the CPU to start loading matrix[row, :] into cache (llvm.prefetch: read, keep, data), one hint per
    64-byte line. A hint only: no effect on results, no fault on any address."""
    sig = types.void(matrix, row)

    def codegen(context, builder, signature, args):
        mty, rty = signature.args
        m = context.make_array(mty)(context, builder, args[0])
        r = context.cast(builder, args[1], rty, types.intp)
        first = cgutils.get_item_pointer(context, builder, mty, m, [r, context.get_constant(types.intp, 0)],
                                         wraparound=False)
        byte_ptr = builder.bitcast(first, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr.type, i32, i32, i32]), "llvm.prefetch.p0")
        row_bytes = builder.mul(builder.extract_value(m.shape, 1),
                                context.get_constant(types.intp, mty.dtype.bitwidth // 8))
        with cgutils.for_range_slice(builder, context.get_constant(types.intp, 0), row_bytes,
                                     context.get_constant(types.intp, 64)) as (offset, _):
            builder.call(fn, [builder.gep(byte_ptr, [offset]), ir.Constant(i32, 0), ir.Constant(i32, 3),
                              ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
