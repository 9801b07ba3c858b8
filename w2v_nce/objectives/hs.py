"""Hierarchical softmax (word2vec): L = −Σ_d log σ((1 − 2·code_d) · s(point_d, c)) over the target's Huffman path.

Each step is a binary-logistic step on an inner node with label 1 − code. p(w|c) is normalized by
construction (Σ_w p(w|c) = 1), and log p(w|c) is the sum along the path; there is one output vector per inner
node (rows 0..V−2 of the output matrix). Every example writes the root and the nodes near it: with several
threads, each reads and writes its private copies of those rows (state.hot, kernels/hot_rows.py).
"""
import numpy as np

from .base import (add_loss, copied_output_step, copied_output_steps2, copied_score, copied_scores2, logistic_gradient,
                   objective)
from .window import window_steps


@objective
def hierarchical_softmax(h, target, lr, out_w, out_b, use_bias, noise, state):
    # A path's nodes are distinct, so no step changes another's score: all scores first, then their exps (each
    # loop's iterations independent, so they overlap), then the steps, as when taken one at a time.
    n = noise.hs_lengths[target]
    points = noise.hs_points[target]
    codes = noise.hs_codes[target]
    buf = state.work  # g of each node, then its e^L
    loss, product = 0.0, 1.0
    hot = state.hot
    if buf.shape[0] < 2 * n:
        for d in range(n):
            g, factor = logistic_gradient(copied_score(h, points[d], out_w, out_b, use_bias, hot), codes[d] == 0, lr)
            copied_output_step(h, points[d], g, out_w, out_b, use_bias, state.dh, hot)
            loss, product = add_loss(loss, product, factor)
        return loss + np.log(product)
    for d in range(0, n - 1, 2):  # two nodes a pass over h
        buf[d], buf[d + 1] = copied_scores2(h, points[d], points[d + 1], out_w, out_b, use_bias, hot)
    if n % 2:
        buf[n - 1] = copied_score(h, points[n - 1], out_w, out_b, use_bias, hot)
    for d in range(n):
        buf[d], buf[n + d] = logistic_gradient(buf[d], codes[d] == 0, lr)
    for d in range(0, n - 1, 2):
        copied_output_steps2(h, points[d], buf[d], points[d + 1], buf[d + 1], out_w, out_b, use_bias, state.dh, hot)
    if n % 2:
        copied_output_step(h, points[n - 1], buf[n - 1], out_w, out_b, use_bias, state.dh, hot)
    for d in range(n):
        loss, product = add_loss(loss, product, buf[n + d])
    return loss + np.log(product)


@objective
def hierarchical_softmax_window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state):
    """A skip-gram window of hierarchical softmax as one minibatch (window.py): the target's path, label 1 − code."""
    n = noise.hs_lengths[target]
    points, codes = noise.hs_points[target], noise.hs_codes[target]
    for d in range(n):
        state.ids[d] = points[d]
        state.work[d] = 1.0 if codes[d] == 0 else 0.0
        state.work[n + d] = 0.0
    return window_steps(in_w, sent, lo, hi, center, lr, out_w, out_b, use_bias, n, state, False)
