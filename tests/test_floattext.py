"""Vectors as text: the compiled formatter gives exactly the bytes of Python's "%.9g" for every float32."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from w2v_nce.model.export import write_word2vec
from w2v_nce.model.floattext import MAX_CHARS, format_rows, row_texts


def python_text(values):
    """What "%.9g" gives for each float32, as bytes."""
    return [("%.9g" % v).encode("ascii") for v in np.asarray(values, dtype=np.float32).tolist()]


def compiled_text(values):
    """format_rows on one value per row: (texts, left to Python) without the Python fallback."""
    x = np.ascontiguousarray(np.asarray(values, dtype=np.float32).reshape(-1, 1))
    out = np.empty(len(x) * (MAX_CHARS + 1), dtype=np.uint8)
    ends = np.empty(len(x), dtype=np.int64)
    left = np.empty(len(x), dtype=np.bool_)
    format_rows(x.view(np.uint32), out, ends, left)
    data = out.tobytes()
    starts = [0] + ends[:-1].tolist()
    return [data[a:b] for a, b in zip(starts, ends.tolist())], left


def assert_same_as_python(values):
    values = np.asarray(values, dtype=np.float32)
    texts, left = compiled_text(values)
    expected = python_text(values)
    wrong = [(float(v), t, e) for v, t, e, lf in zip(values.tolist(), texts, expected, left) if not lf and t != e]
    assert wrong == [], wrong[:10]
    assert row_texts(values.reshape(-1, 1)) == expected  # with the values left to Python
    return left


def in_compiled_range(values):
    """|x| in [1e-9, 1e23) or zero: what 64-bit integers format exactly."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    return (a == 0) | ((a >= 1e-9) & (a < 1e23))


def random_values(seed):
    rng = np.random.default_rng(seed)
    normal = (rng.standard_normal(70_000) * 0.3).astype(np.float32)
    magnitudes = 10.0 ** rng.uniform(np.log10(1.4e-45), np.log10(3.4e38), 70_000)
    log_uniform = (magnitudes * rng.choice([-1.0, 1.0], magnitudes.size)).astype(np.float32)
    bits = rng.integers(0, 2 ** 32, 70_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return {"normal": normal, "log-uniform": log_uniform, "bit patterns": bits[np.isfinite(bits)]}


@pytest.mark.parametrize("kind", ["normal", "log-uniform", "bit patterns"])
def test_random_float32_as_python_formats_them(kind):
    values = random_values(20240)[kind]
    left = assert_same_as_python(values)
    assert not left[in_compiled_range(values)].any()  # the compiled path, not the fallback, made these
    if kind == "normal":
        assert not left.any()


EDGES = [
    0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, 0.1, 0.3, 1.25, 123.125, 100.0, 1e8, 123456789.0, 16777216.0,
    3.001953125, -3.001953125,  # a tie at the ninth digit: half-even on the exact binary value
    1.00000006, 1.00000012, 9.99999905, 0.999999940,  # neighbours of powers of ten
    1e-4, -1e-4, 9.99999975e-5, 1.00000005e-4, 1e-5, 1.5e-5, 9.99999997e-6,  # fixed / exponent boundary
    999999940.0, 999999999.5, 9.99999999e8, 1e9, 1.00000006e9, 1e10, 1.5e10, 4294967296.0,  # carries, e >= 9
    1e22, 9.99999978e22, 1e23, 1.5e-9, 1.00000001e-9, 1e-9, 1e-10,
    3.4028235e38, -3.4028235e38, 1.17549435e-38, 1.17549421e-38, 1e-45, -1e-45, 2.8e-45,  # extremes, subnormals
]


def test_hand_picked_values_as_python_formats_them():
    values = np.array(EDGES, dtype=np.float32)
    assert_same_as_python(values)
    texts, left = compiled_text(values)
    assert texts[1] == b"-0" and texts[values.tolist().index(np.float32(3.001953125))] == b"3.00195312"
    assert not left[in_compiled_range(values)].any()


def test_every_power_of_two_and_its_neighbours():
    """All exponents, normal and subnormal, each with the mantissas 0, 1, and all ones, and next to them."""
    exponents = np.arange(256, dtype=np.uint32)[:255] << np.uint32(23)
    mantissas = np.array([0, 1, 2, 0x400000, 0x7FFFFE, 0x7FFFFF], dtype=np.uint32)
    bits = (exponents[:, None] | mantissas[None, :]).ravel()
    values = np.concatenate([bits, bits | np.uint32(1 << 31)]).view(np.float32)
    left = assert_same_as_python(values)
    assert not left[in_compiled_range(values)].any()


def test_values_near_every_power_of_ten():
    """The float32 just below, at and just above 10^p for every p a float32 reaches: where e changes."""
    powers = np.array([10.0 ** p for p in range(-45, 39)], dtype=np.float32)
    powers = powers[powers > 0]
    near = np.concatenate([np.nextafter(powers, np.float32(0)), powers, np.nextafter(powers, np.float32(np.inf))])
    left = assert_same_as_python(near)
    assert not left[in_compiled_range(near)].any()


def test_nan_and_infinity_in_a_row_leave_that_row_to_python():
    m = np.array([[0.25, np.nan, -1.5], [1e-30, 2.0, 3.0], [np.inf, -np.inf, 0.0], [1.0, 2.0, 3e-5]],
                 dtype=np.float32)
    assert row_texts(m) == [b"0.25 nan -1.5", b"1e-30 2 3", b"inf -inf 0", b"1 2 2.99999992e-05"]
    _, left = compiled_text(m.ravel())
    assert left.tolist() == [False, True, False, True, False, False, True, True, False, False, False, False]


@settings(max_examples=300)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=12),
                  elements=st.floats(width=32)))
def test_rows_as_python_formats_them(m):
    fmt = " ".join(["%.9g"] * m.shape[1])
    assert row_texts(m) == [(fmt % tuple(r)).encode("ascii") for r in m.tolist()]


def old_word2vec_text(words, vectors):
    """The text format as formatted by Python's %-operator: header, then per word its token and %.9g floats."""
    n, dim = vectors.shape
    fmt = " ".join(["%.9g"] * dim)
    lines = [f"{n} {dim}"] + [w + " " + fmt % tuple(r) for w, r in zip(words, vectors.tolist())]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_word2vec_text_file_is_the_python_formatting(tmp_path):
    rng = np.random.default_rng(7)
    n = 4096 + 50  # more than one block of rows
    words = [f"w{i}" for i in range(n - 6)] + ["naïve", "日本", "😀", "a\u0301", "-0", "x"]
    vectors = (rng.standard_normal((n, 7)) * 0.3).astype(np.float32)
    vectors[3, 2] = -0.0
    vectors[5, 0] = 1e-40  # left to Python
    vectors[n - 1] = [np.nan, np.inf, 3.001953125, 1e10, 1.5e-5, 3.4028235e38, 0.0]
    path = tmp_path / "v.txt"
    write_word2vec(path, words, vectors)
    assert path.read_bytes() == old_word2vec_text(words, vectors)


@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (1, 1)])
def test_word2vec_text_file_edge_shapes(tmp_path, shape):
    words = [f"w{i}" for i in range(shape[0])]
    vectors = np.full(shape, 0.5, dtype=np.float32)
    path = tmp_path / "v.txt"
    write_word2vec(path, words, vectors)
    assert path.read_bytes() == old_word2vec_text(words, vectors)
