"""Noise-contrastive estimation (Gutmann & Hyvärinen; Mnih & Teh), self-normalized.

Δ(w,c) = s(w,c) − log(k·Q(w));  L = −log σ(Δ(w,c)) − Σ_{i=1..k} log σ(−Δ(w_i,c)),  w_i ~ Q.
σ(Δ) is the posterior that w came from the data rather than from k draws of Q, when the model's probability
is exp s(w,c): at the optimum exp s(w,c) = p(w|c), so the scores are normalized log-probabilities
(Σ_w exp s(w,c) ≈ 1). Noise draws equal to the target are kept: the estimator assumes independent draws.
"""
import numpy as np

from ..noise import draw
from .base import binary_logistic, objective


@objective
def nce(h, target, lr, out_w, out_b, use_bias, noise, state):
    log_k = np.log(np.float64(noise.k))
    loss = binary_logistic(h, target, True, log_k + noise.log_q[target], lr, out_w, out_b, use_bias, state.dh)
    for _ in range(noise.k):
        w = draw(noise.alias_prob, noise.alias_idx, state.rng)
        loss += binary_logistic(h, w, False, log_k + noise.log_q[w], lr, out_w, out_b, use_bias, state.dh)
    return loss
