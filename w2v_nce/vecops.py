"""Vector primitives of the kernels: float32 storage, loops that LLVM vectorizes (fastmath)."""
import numba as nb
import numpy as np


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
