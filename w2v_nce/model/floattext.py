"""float32 matrices as text, byte for byte what Python's "%.9g" gives, without a Python float per value.

A finite nonzero float32 is x = m·2^q (2^23 ≤ m < 2^24 once subnormals are normalised). Its nine significant
digits are D = round-half-even(x·10^(8−e)), e = floor(log10|x|) (exact, from a table per binary exponent),
10^8 ≤ D < 10^9 (a rounding up to 10^9 is 10^8 at e + 1), computed exactly in uint64: x·10^k = m·5^k·2^(q+k)
for k = 8 − e ≥ 0 (m·5^k < 2^64 while k ≤ 17), and x·10^k = m·2^(q−j) / 5^j for k = −j < 0, rounded from the
exact remainder. Then the layout of %g at precision 9: trailing zeros dropped, fixed notation for −4 ≤ e < 9,
else d.dddddddde±XX. Values outside what 64 bits hold exactly (|x| below 1e-9 or from 2^78 ≈ 3.0e23 on, NaN,
infinity) are left to Python's own formatting, a row at a time.
"""
import math
from fractions import Fraction

import numba as nb
import numpy as np

MAX_CHARS = 15  # "-0.000123456789", "-1.23456789e-05"
POW5 = np.array([5 ** i for i in range(28)], dtype=np.uint64)  # 5^27 < 2^63
DIGIT_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode("ascii"), dtype=np.uint8)
MIN_BINARY_EXPONENT = -149  # of the smallest subnormal, 2^-149


def _decimal_exponent_tables():
    """Per binary exponent b of x = m·2^(b−23) (2^23 ≤ m < 2^24): floor(log10 2^b), and the least m from which
    floor(log10 x) is one more (2^24 when no power of ten lies in [2^b, 2^(b+1)))."""
    low, threshold = [], []
    for b in range(MIN_BINARY_EXPONENT, 128):
        lo, hi = Fraction(2) ** b, Fraction(2) ** (b + 1)
        e = math.floor(b * math.log10(2))
        while Fraction(10) ** e > lo:
            e -= 1
        while Fraction(10) ** (e + 1) <= lo:
            e += 1
        power = Fraction(10) ** (e + 1)
        low.append(e)
        threshold.append(math.ceil(power / Fraction(2) ** (b - 23)) if power < hi else 1 << 24)
    return np.array(low, dtype=np.int64), np.array(threshold, dtype=np.int64)


EXPONENT_LOW, EXPONENT_THRESHOLD = _decimal_exponent_tables()
_SPACE, _DOT, _MINUS, _PLUS, _ZERO, _E = 32, 46, 45, 43, 48, 101


@nb.njit(cache=True, nogil=True, inline="always")
def _bit_length(v):
    n = 0
    while v != 0:
        v >>= np.uint64(1)
        n += 1
    return n


@nb.njit(cache=True, nogil=True, inline="always")
def _round_scaled(m, q, k):
    """round-half-even(m·2^q·10^k), or -1 when the exact computation does not fit in 64 bits."""
    one = np.uint64(1)
    if k >= 0:
        if k > 17:
            return -1
        n = np.uint64(m) * POW5[k]  # < 2^24·5^17 < 0.7·2^64: room for the 2^(t−1) ≤ 2^62 added below
        s = q + k
        if s >= 0:
            if s + _bit_length(n) > 40:  # far above 10^9: not for an exact e, kept as a guard
                return -1
            return np.int64(n << np.uint64(s))
        t = -s
        if t >= 64:
            return -1
        # round half to even, without a branch: floor((n + 2^(t−1) − 1 + (bit t of n)) / 2^t)
        odd = (n >> np.uint64(t)) & one
        return np.int64((n + (one << np.uint64(t - 1)) - one + odd) >> np.uint64(t))
    j = -k
    if j >= POW5.shape[0]:
        return -1
    a = q - j  # x·10^k = m·2^a / 5^j
    if a >= 0:
        if a > 39:
            return -1
        num = np.uint64(m) << np.uint64(a)
        den = POW5[j]
    else:
        if -a + _bit_length(POW5[j]) > 63:
            return -1
        num = np.uint64(m)
        den = POW5[j] << np.uint64(-a)
    d = num // den
    r = num - d * den
    if r > den - r or (r == den - r and (d & one) == one):
        d += one
    return np.int64(d)


@nb.njit(cache=True, nogil=True, inline="always")
def _put_digits(out, end, d, count):
    """The last `count` decimal digits of d into out[end − count:end]; d without them."""
    while count >= 2:
        r = d % 100
        d //= 100
        out[end - 1] = DIGIT_PAIRS[2 * r + 1]
        out[end - 2] = DIGIT_PAIRS[2 * r]
        end -= 2
        count -= 2
    if count:
        out[end - 1] = _ZERO + d % 10
        d //= 10
    return d


@nb.njit(cache=True, nogil=True, inline="always")
def _put_float(out, p, bits):
    """The "%.9g" text of the float32 with these bits into out[p:]; the new end, or -1 if left to Python."""
    exp_bits = (bits >> np.uint32(23)) & np.uint32(0xFF)
    if exp_bits == 0xFF:  # NaN, infinity
        return -1
    out[p] = _MINUS  # kept only for a negative x (overwritten otherwise)
    p += np.int64(bits >> np.uint32(31))
    m = np.int64(bits & np.uint32(0x7FFFFF))
    if exp_bits == 0:
        if m == 0:
            out[p] = _ZERO
            return p + 1
        q = np.int64(-149)
        while m < (1 << 23):  # subnormal: normalised so that 2^23 ≤ m < 2^24
            m <<= 1
            q -= 1
    else:
        m |= 1 << 23
        q = np.int64(exp_bits) - 150
    b = q + 23 - MIN_BINARY_EXPONENT
    e = EXPONENT_LOW[b] + (1 if m >= EXPONENT_THRESHOLD[b] else 0)  # floor(log10 x)
    d = _round_scaled(m, q, 8 - e)
    if d < 0:
        return -1
    if d == 1_000_000_000:  # x·10^(8−e) rounded up to 10^9: 10^8 at the next power of ten, as in %g (though
        # no float32 formatted here lies that close below a power of ten: all bit patterns checked)
        d = 100_000_000
        e += 1
    elif d < 100_000_000 or d > 1_000_000_000:  # not for an exact e; kept as a guard
        return -1
    nd = 9
    while d % 10 == 0:
        d //= 10
        nd -= 1
    if e < -4 or e >= 9:  # d.ddde±XX
        if nd > 1:
            d = _put_digits(out, p + nd + 1, d, nd - 1)
            out[p + 1] = _DOT
            out[p] = _ZERO + d
            p += nd + 1
        else:
            out[p] = _ZERO + d
            p += 1
        out[p] = _E
        out[p + 1] = _MINUS if e < 0 else _PLUS
        _put_digits(out, p + 4, -e if e < 0 else e, 2)  # float32: |e| ≤ 45
        return p + 4
    point = e + 1  # digits before the decimal point
    if point <= 0:  # 0.000ddd
        out[p] = _ZERO
        out[p + 1] = _DOT
        for i in range(-point):
            out[p + 2 + i] = _ZERO
        end = p + 2 - point + nd
        _put_digits(out, end, d, nd)
        return end
    if point < nd:  # ddd.ddd
        end = p + nd + 1
        d = _put_digits(out, end, d, nd - point)
        out[p + point] = _DOT
        _put_digits(out, p + point, d, point)
        return end
    _put_digits(out, p + nd, d, nd)  # ddd000
    for i in range(nd, point):
        out[p + i] = _ZERO
    return p + point


@nb.njit(cache=True, nogil=True)
def format_rows(bits, out, ends, left):
    """Rows of float32 (as uint32 bits) as "%.9g" numbers joined by spaces, one row after another in out
    (MAX_CHARS + 1 bytes per value suffice). Row i is out[ends[i − 1]:ends[i]] (from 0 for the first); a row
    holding a value left to Python is empty, with left[i] = True."""
    n, dim = bits.shape
    p = 0
    for i in range(n):
        start = p
        left[i] = False
        for c in range(dim):
            if c:
                out[p] = _SPACE
                p += 1
            p = _put_float(out, p, bits[i, c])
            if p < 0:
                left[i] = True
                p = start
                break
        ends[i] = p
    return p


def row_texts(vectors):
    """Each row of a float32 matrix as bytes: its values as "%.9g" would give them, joined by spaces."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    out = np.empty(n * dim * (MAX_CHARS + 1), dtype=np.uint8)
    ends = np.empty(n, dtype=np.int64)
    left = np.empty(n, dtype=np.bool_)
    used = format_rows(vectors.view(np.uint32), out, ends, left)
    data = out[:used].tobytes()
    starts = [0] + ends[:-1].tolist()
    texts = [data[a:b] for a, b in zip(starts, ends.tolist())]
    if left.any():
        fmt = " ".join(["%.9g"] * dim)
        for i in np.flatnonzero(left).tolist():
            texts[i] = (fmt % tuple(vectors[i].tolist())).encode("ascii")
    return texts
