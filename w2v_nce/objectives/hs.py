"""Hierarchical softmax (word2vec): L = −Σ_d log σ((1 − 2·code_d) · s(point_d, c)) over the target's Huffman path.

Each step is a binary-logistic step on an inner node with label 1 − code. p(w|c) is normalized by
construction (Σ_w p(w|c) = 1), and log p(w|c) is the sum along the path; there is one output vector per inner
node (rows 0..V−2 of the output matrix).
"""
import numpy as np

from .base import add_loss, binary_logistic, objective


@objective
def hierarchical_softmax(h, target, lr, out_w, out_b, use_bias, noise, state):
    loss, product = 0.0, 1.0
    for d in range(noise.hs_lengths[target]):
        loss, product = add_loss(loss, product, binary_logistic(
            h, noise.hs_points[target, d], noise.hs_codes[target, d] == 0, 0.0, lr, out_w, out_b, use_bias,
            state.dh))
    return loss + np.log(product)
