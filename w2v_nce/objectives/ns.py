"""Negative sampling (word2vec): L = −log σ(s(w,c)) − Σ_{i=1..k} log σ(−s(w_i,c)), w_i ~ Q.

Its optimum is s(w,c) = log p(w|c) − log(k·Q(w)) (shifted PMI): scores are not normalized log-probabilities.
Noise draws equal to the target are kept, so that optimum holds exactly.
"""
import numpy as np

from .base import add_loss, binary_logistic, objective


@objective
def negative_sampling(h, target, lr, out_w, out_b, use_bias, noise, state):
    loss, product = 0.0, binary_logistic(h, target, True, 0.0, lr, out_w, out_b, use_bias, state.dh)
    for i in range(noise.k):
        w = state.noise_ids[i]
        loss, product = add_loss(loss, product, binary_logistic(h, w, False, 0.0, lr, out_w, out_b, use_bias,
                                                                state.dh))
    return loss + np.log(product)
