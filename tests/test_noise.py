import numpy as np
import pytest
from scipy import stats

from w2v_nce.kernels.noise import NoiseDistribution


def test_q_is_counts_to_the_power_alpha_normalized():
    counts = np.array([1000, 300, 20, 7, 1])
    nd = NoiseDistribution(counts, 0.75)
    expected = counts ** 0.75 / np.sum(counts ** 0.75)
    np.testing.assert_allclose(nd.q, expected, rtol=1e-12)
    np.testing.assert_allclose(nd.log_q, np.log(expected), rtol=1e-12)
    np.testing.assert_allclose(NoiseDistribution(counts, 0.0).q, np.full(5, 0.2))


def test_alias_table_represents_q_exactly():
    counts = np.random.default_rng(0).integers(1, 10_000, size=500)
    nd = NoiseDistribution(counts, 0.75)
    v = len(nd)
    mass = nd.alias_prob / v
    np.add.at(mass, nd.alias_idx, (1 - nd.alias_prob) / v)
    np.testing.assert_allclose(mass, nd.q, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("exponent", [0.75, 1.0, 0.0])
def test_alias_draws_follow_q_chi_square(exponent):
    counts = np.array([5000, 2000, 900, 400, 100, 60, 30, 10, 5, 1] * 3)
    nd = NoiseDistribution(counts, exponent)
    n = 400_000
    observed = np.bincount(nd.sample(n, seed=7), minlength=len(counts))
    chi2, p = stats.chisquare(observed, nd.q * n)
    assert p > 1e-4, (chi2, p)


def test_bad_inputs():
    with pytest.raises(ValueError):
        NoiseDistribution([], 0.75)
    with pytest.raises(ValueError):
        NoiseDistribution([1, 2], 1.5)
