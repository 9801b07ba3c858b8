"""The kernels' several-row vector forms give what the one-row forms give taken one after the other: the updates
bit for bit, the dot products to float32 rounding."""
import numpy as np
import pytest

from w2v_nce.core.vecops import axpy, axpy2, axpy4, dot, dot2, dot4, row_steps2


def vectors(n, count, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(np.float32) for _ in range(count)]


LENGTHS = [1, 3, 8, 17, 100, 300]


@pytest.mark.parametrize("n", LENGTHS)
def test_axpy2_and_axpy4_add_in_the_order_of_one_axpy_after_another(n):
    x, z, v, w, y = vectors(n, 5, n)
    a, b, c, d = 0.37, -1.25, 2.5e-3, -0.8
    expected = y.copy()
    for coef, row in [(a, x), (b, z)]:
        axpy(coef, row, expected)
    got = y.copy()
    axpy2(a, x, b, z, got)
    assert got.tobytes() == expected.tobytes()
    for coef, row in [(c, v), (d, w)]:
        axpy(coef, row, expected)
    got = y.copy()
    axpy4(a, x, b, z, c, v, d, w, got)
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("n", LENGTHS)
def test_row_steps2_is_two_output_steps_one_after_the_other(n):
    h, u, u2, dh = vectors(n, 4, 10 + n)
    g, g2 = 0.031, -0.047
    want_u, want_u2, want_dh = u.copy(), u2.copy(), dh.copy()
    for row, coef in [(want_u, g), (want_u2, g2)]:  # dh += g·u (old u), u += g·h, as output_step does
        old = row.copy()
        axpy(coef, old, want_dh)
        axpy(coef, h, row)
    got_u, got_u2, got_dh = u.copy(), u2.copy(), dh.copy()
    row_steps2(h, got_u, g, got_u2, g2, got_dh)
    assert got_u.tobytes() == want_u.tobytes() and got_u2.tobytes() == want_u2.tobytes()
    assert got_dh.tobytes() == want_dh.tobytes()


@pytest.mark.parametrize("n", LENGTHS)
def test_dot2_and_dot4_are_the_dot_products(n):
    x, y, z, v, w = vectors(n, 5, 20 + n)
    exact = [float(np.dot(x.astype(np.float64), r.astype(np.float64))) for r in (y, z, v, w)]
    scale = [float(np.dot(np.abs(x).astype(np.float64), np.abs(r).astype(np.float64))) for r in (y, z, v, w)]
    tol = [4 * n * np.finfo(np.float32).eps * s for s in scale]
    got2 = dot2(x, y, z)
    got4 = dot4(x, y, z, v, w)
    for i, value in enumerate(got2):
        assert abs(value - exact[i]) <= tol[i] and abs(value - dot(y if i == 0 else z, x)) <= tol[i]
    for i, value in enumerate(got4):
        assert abs(value - exact[i]) <= tol[i] and abs(value - dot((y, z, v, w)[i], x)) <= tol[i]
