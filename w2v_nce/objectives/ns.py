"""Negative sampling (word2vec): L = −log σ(s(w,c)) − Σ_{i=1..k} log σ(−s(w_i,c)), w_i ~ Q.

Its optimum is s(w,c) = log p(w|c) − log(k·Q(w)) (shifted PMI): scores are not normalized log-probabilities.
Noise draws equal to the target are kept, so that optimum holds exactly.
"""
from .base import objective, sampled_logistic_steps


@objective
def negative_sampling(h, target, lr, out_w, out_b, use_bias, noise, state):
    return sampled_logistic_steps(h, target, lr, out_w, out_b, use_bias, noise, state, noise.log_kq, False)
