"""Vector primitives of the kernels: float32 storage, loops that LLVM vectorizes (fastmath)."""
import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def dot(x, y):
    """x · y."""
    s = np.float32(0.0)
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    return s


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def axpy(a, x, y):
    """y += a * x."""
    a32 = np.float32(a)
    for i in range(x.shape[0]):
        y[i] += a32 * x[i]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def zero(x):
    """x[:] = 0."""
    for i in range(x.shape[0]):
        x[i] = np.float32(0.0)


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
