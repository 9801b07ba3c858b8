"""Negative sampling (word2vec): L = −log σ(s(w,c)) − Σ_{i=1..k} log σ(−s(w_i,c)), w_i ~ Q.

Its optimum is s(w,c) = log p(w|c) − log(k·Q(w)) (shifted PMI): scores are not normalized log-probabilities.
Noise draws equal to the target are kept, so that optimum holds exactly.
"""
from .base import objective, sampled_logistic_steps
from .window import sampled_cbow_batch, sampled_window


@objective
def negative_sampling(h, target, lr, out_w, out_b, use_bias, noise, state):
    return sampled_logistic_steps(h, target, lr, out_w, out_b, use_bias, noise, state, noise.log_kq, False)


@objective
def negative_sampling_window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state):
    """A skip-gram window of negative sampling as one minibatch (window.py): the target and its shared noise."""
    return sampled_window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state, False)


@objective
def negative_sampling_cbow_batch(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state):
    """A CBOW minibatch of negative sampling (window.py): each window's target and the noise all its windows share."""
    return sampled_cbow_batch(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state, False)
