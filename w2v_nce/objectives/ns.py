"""Negative sampling (word2vec): L = −log σ(s(w,c)) − Σ_{i=1..k} log σ(−s(w_i,c)), w_i ~ Q.

Its optimum is s(w,c) = log p(w|c) − log(k·Q(w)) (shifted PMI): scores are not normalized log-probabilities.
Noise draws equal to the target are kept, so that optimum holds exactly.
"""
from ..noise import draw
from .base import binary_logistic, objective


@objective
def negative_sampling(h, target, lr, out_w, out_b, use_bias, noise, state):
    loss = binary_logistic(h, target, True, 0.0, lr, out_w, out_b, use_bias, state.dh)
    for _ in range(noise.k):
        w = draw(noise.alias_prob, noise.alias_idx, state.rng)
        loss += binary_logistic(h, w, False, 0.0, lr, out_w, out_b, use_bias, state.dh)
    return loss
