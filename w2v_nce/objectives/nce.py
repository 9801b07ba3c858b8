"""Noise-contrastive estimation (Gutmann & Hyvärinen; Mnih & Teh), self-normalized.

Δ(w,c) = s(w,c) − log(k·Q(w));  L = −log σ(Δ(w,c)) − Σ_{i=1..k} log σ(−Δ(w_i,c)),  w_i ~ Q.
σ(Δ) is the posterior that w came from the data rather than from k draws of Q, when the model's probability
is exp s(w,c): at the optimum exp s(w,c) = p(w|c), so the scores are normalized log-probabilities
(Σ_w exp s(w,c) ≈ 1). Noise draws equal to the target are kept: the estimator assumes independent draws.
"""
from .base import objective, sampled_logistic_steps
from .window import sampled_cbow_batch, sampled_window


@objective
def nce(h, target, lr, out_w, out_b, use_bias, noise, state):
    return sampled_logistic_steps(h, target, lr, out_w, out_b, use_bias, noise, state, noise.log_kq, True)


@objective
def nce_window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state):
    """A skip-gram window of NCE as one minibatch (window.py): the target and its shared noise, shifted by log(k·Q)."""
    return sampled_window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state, True)


@objective
def nce_cbow_batch(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state):
    """A CBOW minibatch of NCE (window.py): each window's target and the noise all its windows share."""
    return sampled_cbow_batch(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state, True)
