"""Noise-contrastive estimation (Gutmann & Hyvärinen; Mnih & Teh), self-normalized.

Δ(w,c) = s(w,c) − log(k·Q(w));  L = −log σ(Δ(w,c)) − Σ_{i=1..k} log σ(−Δ(w_i,c)),  w_i ~ Q.
σ(Δ) is the posterior that w came from the data rather than from k draws of Q, when the model's probability
is exp s(w,c): at the optimum exp s(w,c) = p(w|c), so the scores are normalized log-probabilities
(Σ_w exp s(w,c) ≈ 1). Noise draws equal to the target are kept: the estimator assumes independent draws.
"""
import numpy as np

from .base import add_loss, binary_logistic, objective


@objective
def nce(h, target, lr, out_w, out_b, use_bias, noise, state):
    log_kq = noise.log_kq
    loss, product = 0.0, binary_logistic(h, target, True, log_kq[target], lr, out_w, out_b, use_bias, state.dh)
    for i in range(noise.k):
        w = state.noise_ids[i]
        loss, product = add_loss(loss, product, binary_logistic(h, w, False, log_kq[w], lr, out_w, out_b,
                                                                use_bias, state.dh))
    return loss + np.log(product)
