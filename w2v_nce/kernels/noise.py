"""The noise distribution Q(w) ∝ count(w)^α that negative sampling, NCE and InfoNCE draw from.

Q is held exactly (float64 probabilities and their logs, which NCE's log(k·Q(w)) and InfoNCE's log Q(w) use)
and as a Walker/Vose alias table for O(1) draws: pick a column i uniformly, keep it with probability
alias_prob[i], else take alias_idx[i]. The table represents Q exactly up to float64 rounding.
"""
import numba as nb
import numpy as np

from ..core.rng import new_state, randint, uniform


@nb.njit(cache=True)
def build_alias_table(q):
    """Vose's alias method: columns of mass 1/V each, split between the column's word and one alias."""
    n = q.shape[0]
    prob = np.empty(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    scaled = q * n
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    # whatever is left has mass 1 up to rounding
    for i in range(nl):
        prob[large[i]] = 1.0
    for i in range(ns):
        prob[small[i]] = 1.0
    return prob, alias


@nb.njit(cache=True, nogil=True, inline="always")
def draw(alias_prob, alias_idx, state):
    """One word drawn from Q."""
    i = randint(state, alias_prob.shape[0])
    a = np.int64(alias_idx[i])
    keep = np.int64(uniform(state) < alias_prob[i])
    return a + keep * (i - a)  # i if kept, else its alias, without a branch (the outcome is random)


@nb.njit(cache=True, nogil=True)
def draw_many(alias_prob, alias_idx, state, n):
    out = np.empty(n, dtype=np.int64)
    for j in range(n):
        out[j] = draw(alias_prob, alias_idx, state)
    return out


class NoiseDistribution:
    """Q(w) = count(w)^exponent / Σ_w' count(w')^exponent over the vocabulary."""

    def __init__(self, counts, exponent=0.75):
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 1 or counts.size == 0:
            raise ValueError("noise distribution needs a non-empty vector of counts")
        if np.any(counts <= 0):
            raise ValueError("noise distribution needs positive counts")
        if not 0.0 <= exponent <= 1.0:
            raise ValueError("noise exponent must lie in [0, 1]")
        self.exponent = float(exponent)
        # log-domain normalization avoids overflow of count^α for huge counts
        logw = self.exponent * np.log(counts)
        logw -= logw.max()
        w = np.exp(logw)
        total = w.sum()
        self.q = w / total
        self.log_q = logw - np.log(total)
        self.alias_prob, self.alias_idx = build_alias_table(self.q)

    def __len__(self):
        return self.q.shape[0]

    def sample(self, n, seed=0):
        """n draws from Q through the alias table (the same routine the kernels use)."""
        return draw_many(self.alias_prob, self.alias_idx, new_state(seed), int(n))
