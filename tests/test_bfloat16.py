"""bfloat16, the format of the changes a cluster's workers exchange: round to nearest (ties to even) against the
exact float64 distances, special values, and the exact way back."""
import numpy as np

from w2v_nce.training.engine import DIVERGED_MAGNITUDE

from reference import add_into, difference_into


def to_float32(bits):
    """The float32 values of bfloat16 bit patterns (uint16): the bits followed by 16 zero bits."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def nearest_bfloat16_bits(x):
    """The reference: of the two bfloat16 values around each finite float32 x, the nearer in float64 arithmetic,
    the one with an even last bit on a tie."""
    u = x.view(np.uint32)
    low = (u >> 16).astype(np.uint32)  # truncation: toward zero in magnitude
    high = low + 1
    d_low = np.abs(x.astype(np.float64) - to_float32(low.astype(np.uint16)).astype(np.float64))
    d_high = np.abs(x.astype(np.float64) - (high << np.uint32(16)).view(np.float32).astype(np.float64))
    take_high = (d_high < d_low) | ((d_high == d_low) & (low % 2 == 1))
    return np.where(take_high, high, low).astype(np.uint16)


def random_float32(rng, n):
    """Finite values over the float32 range, subnormals included, both signs, and exact ties."""
    u = rng.integers(0, 0x7F7F0000, n, dtype=np.uint32)  # below the values that round up to infinity
    u[: n // 4] = (u[: n // 4] & np.uint32(0xFFFF0000)) | np.uint32(0x8000)  # halfway between two bfloat16
    u[n // 4: n // 2] &= np.uint32(0x007FFFFF)  # subnormals
    u[::2] |= np.uint32(0x80000000)
    return u.view(np.float32)


def test_rounds_to_the_nearest_bfloat16_ties_to_even():
    rng = np.random.default_rng(0)
    x = random_float32(rng, 200_000)
    out = np.empty(x.shape, np.uint16)
    out_of_range = difference_into(x, np.zeros_like(x), out)
    np.testing.assert_array_equal(out, nearest_bfloat16_bits(x))
    assert np.isfinite(to_float32(out)).all()  # finite values throughout float32's range: the count is of the large
    assert out_of_range == np.count_nonzero(np.abs(to_float32(out)) >= DIVERGED_MAGNITUDE) > 0
    # relative error at most 2^-8 on normal numbers
    normal = np.abs(x) >= np.finfo(np.float32).tiny
    rel = np.abs(to_float32(out)[normal].astype(np.float64) / x[normal] - 1)
    assert rel.max() <= 2.0 ** -8


def test_the_difference_is_taken_in_float32_first():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(10_000).astype(np.float32)
    b = (a + rng.standard_normal(10_000).astype(np.float32) * np.float32(1e-3)).astype(np.float32)
    out = np.empty(a.shape, np.uint16)
    difference_into(a, b, out)
    np.testing.assert_array_equal(out, nearest_bfloat16_bits(a - b))


def test_special_values_and_the_count_of_non_finite_differences():
    big = np.finfo(np.float32).max
    a = np.array([np.nan, np.inf, -np.inf, big, -big, 1.0, 0.0, -0.0, -np.nan], np.float32)
    out = np.empty(a.shape, np.uint16)
    assert difference_into(a, np.zeros_like(a), out) == 6  # ±NaN, ±inf, ±max (beyond the largest bfloat16)
    back = to_float32(out)
    assert np.isnan(back[0]) and np.isnan(back[8])
    assert back[1] == np.inf and back[2] == -np.inf and back[3] == np.inf and back[4] == -np.inf
    assert back[5] == 1.0 and back[6] == 0.0 and back[7] == 0.0 and np.signbit(back[7])


def test_a_change_as_large_as_the_divergence_magnitude_is_counted():
    """Finite bfloat16 changes of DIVERGED_MAGNITUDE (2^14) or more count as out of range, as do NaN and inf."""
    m = np.float32(DIVERGED_MAGNITUDE)
    a = np.array([m, -m, m * 1e20, m * 0.99, -m * 0.99, 1.0, np.inf], np.float32)
    out = np.empty(a.shape, np.uint16)
    assert difference_into(a, np.zeros_like(a), out) == 4
    assert np.isfinite(to_float32(out)[:6]).all()


def test_adding_the_changes_is_exact_float32_arithmetic():
    rng = np.random.default_rng(2)
    rows = rng.standard_normal(5_000).astype(np.float32)
    changes = np.empty(rows.shape, np.uint16)
    difference_into(rng.standard_normal(5_000).astype(np.float32), np.zeros_like(rows), changes)
    for scale in (1.0, 0.5, 1 / 3):
        expected = rows + to_float32(changes) * np.float32(scale)
        got = rows.copy()
        add_into(got, changes, scale)
        np.testing.assert_array_equal(got, expected)
