"""One objective step against a float64 NumPy reference, and the reference against finite differences."""
import numpy as np
import pytest

import reference as ref
from w2v_nce.noise import NoiseDistribution, draw_many
from w2v_nce.objectives import OBJECTIVES
from w2v_nce.objectives.base import MAX_SCORE, empty_noise_tables, new_thread_state
from w2v_nce.rng import new_state

V, DIM, K = 40, 8, 5


def make_model(rng, use_bias):
    h = (rng.standard_normal(DIM) * 0.5).astype(np.float32)
    U = (rng.standard_normal((V, DIM)) * 0.5).astype(np.float32)
    b = (rng.standard_normal(V) * 0.3).astype(np.float32) if use_bias else np.zeros(V, np.float32)
    return h, U, b


def noise_tables(seed=3):
    counts = np.random.default_rng(seed).integers(1, 1000, size=V)
    nd = NoiseDistribution(counts, 0.75)
    return nd, empty_noise_tables(K, nd.alias_prob, nd.alias_idx, nd.log_q)


def distinct_draw_seed(nd, target, k=K):
    """A generator seed whose k draws are distinct and differ from target (then one sequential SGD step
    equals the exact gradient step)."""
    for seed in range(1000):
        d = draw_many(nd.alias_prob, nd.alias_idx, new_state(seed), k)
        if len(set(d.tolist()) | {target}) == k + 1:
            return seed, d
    raise AssertionError("no seed with distinct draws")


def kernel_step(name, h, U, b, target, lr, use_bias, tables, seed):
    h, U, b = h.copy(), U.copy(), b.copy()
    state = new_thread_state(DIM, 10, V, K + 1, new_state(seed))
    loss = OBJECTIVES[name].function(h, target, lr, U, b, use_bias, tables, state)
    return loss, state.dh.copy(), U, b


@pytest.mark.parametrize("use_bias", [False, True])
def test_negative_sampling_step_equals_reference(rng, use_bias):
    nd, tables = noise_tables()
    h, U, b = make_model(rng, use_bias)
    target, lr = 7, 0.05
    seed, noise = distinct_draw_seed(nd, target)
    loss, dh, U1, b1 = kernel_step("ns", h, U, b, target, lr, use_bias, tables, seed)
    h64, U64, b64 = h.astype(np.float64), U.astype(np.float64), b.astype(np.float64) if use_bias else None
    rloss, gh, gU, gb = ref.negative_sampling(h64, U64, b64, target, noise)
    assert loss == pytest.approx(rloss, rel=1e-5)
    np.testing.assert_allclose(dh, -lr * gh, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(U1, U64 - lr * gU, rtol=1e-5, atol=1e-6)
    if use_bias:
        np.testing.assert_allclose(b1, b64 - lr * gb, rtol=1e-5, atol=1e-6)
    else:
        assert np.all(b1 == 0)


@pytest.mark.parametrize("use_bias", [False, True])
def test_negative_sampling_reference_matches_finite_differences(rng, use_bias):
    h, U, b = (x.astype(np.float64) for x in make_model(rng, use_bias))
    b = b if use_bias else None
    target, noise = 3, np.array([5, 9, 9, 11])  # repeated noise words included
    _, gh, gU, gb = ref.negative_sampling(h, U, b, target, noise)
    fh, fU, fb = ref.finite_difference_check(
        lambda h_, U_, b_: ref.negative_sampling(h_, U_, b_, target, noise)[0], h, U, b)
    np.testing.assert_allclose(gh, fh, atol=1e-7)
    np.testing.assert_allclose(gU, fU, atol=1e-7)
    if use_bias:
        np.testing.assert_allclose(gb, fb, atol=1e-7)


def test_saturated_scores_are_clipped_not_skipped():
    nd, tables = noise_tables()
    h = np.full(DIM, 1.0, np.float32)
    U = np.full((V, DIM), 10.0, np.float32)  # every score is 80: far beyond the clip
    b = np.zeros(V, np.float32)
    seed, noise = distinct_draw_seed(nd, 0)
    loss, dh, U1, _ = kernel_step("ns", h, U, b, 0, 0.1, False, tables, seed)
    # each negative contributes log(1 + e^20) (clipped), not 0 and not inf; its row still moves
    assert loss == pytest.approx(K * np.log1p(np.exp(MAX_SCORE)) + np.log1p(np.exp(-MAX_SCORE)), rel=1e-6)
    sig = 1.0 / (1.0 + np.exp(-MAX_SCORE))
    for w in noise:
        np.testing.assert_allclose(U1[w], 10.0 - 0.1 * sig * h, rtol=1e-6)
    assert np.all(np.isfinite(dh)) and np.all(dh < 0)
