"""Per-thread random numbers for the kernels.

A thread's generator is a one-element uint64 array (its state) so that it can be passed to, and advanced by,
any jitted function. The generator is xorshift64* (Vigna 2016); states are seeded with splitmix64 so that
nearby seeds give unrelated streams.
"""
import numba as nb
import numpy as np

_U12 = np.uint64(12)
_U25 = np.uint64(25)
_U27 = np.uint64(27)
_U11 = np.uint64(11)
_MUL = np.uint64(0x2545F4914F6CDD1D)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SM1 = np.uint64(0xBF58476D1CE4E5B9)
_SM2 = np.uint64(0x94D049BB133111EB)
_U30 = np.uint64(30)
_U27b = np.uint64(27)
_U31 = np.uint64(31)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

# Stream tag of the noise draws: a thread's noise generator for (seed, epoch, chunk) is seeded from
# (seed ^ NOISE_STREAM, epoch, chunk), independent of its pair generator seeded from (seed, epoch, chunk).
NOISE_STREAM = np.uint64(0x6E6F697365)


@nb.njit(cache=True, nogil=True, inline="always")
def splitmix64(x):
    """One splitmix64 output for the 64-bit input x (used to derive seeds)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _U30)) * _SM1
    z = (z ^ (z >> _U27b)) * _SM2
    return z ^ (z >> _U31)


@nb.njit(cache=True, nogil=True)
def seed_state(state, seed, stream_a, stream_b):
    """Seed a generator from (seed, a, b): distinct triples give independent-looking streams."""
    z = splitmix64(np.uint64(seed))
    z = splitmix64(z ^ np.uint64(stream_a))
    z = splitmix64(z ^ np.uint64(stream_b))
    if z == np.uint64(0):
        z = _GOLDEN
    state[0] = z


@nb.njit(cache=True, nogil=True, inline="always")
def next_u64(state):
    """xorshift64*: x ^= x>>12; x ^= x<<25; x ^= x>>27; return x * 0x2545F4914F6CDD1D."""
    x = state[0]
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    state[0] = x
    return x * _MUL


@nb.njit(cache=True, nogil=True, inline="always")
def uniform(state):
    """A float64 uniform on [0, 1) from the top 53 bits."""
    return np.float64(next_u64(state) >> _U11) * _INV53


@nb.njit(cache=True, nogil=True, inline="always")
def randint(state, n):
    """An integer uniform on [0, n), n < 2**31 (bias below n / 2**53)."""
    return np.int64(uniform(state) * n)


def new_state(seed, stream_a=0, stream_b=0):
    """A fresh generator state array for Python callers."""
    state = np.zeros(1, dtype=np.uint64)
    seed_state(state, np.uint64(seed % 2**64), np.uint64(stream_a), np.uint64(stream_b))
    return state
