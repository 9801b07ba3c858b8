"""Full softmax: L = −s(w,c) + log Σ_{w'∈V} exp s(w',c), exact over the whole vocabulary.

∂L/∂s(w',c) = p(w'|c) − [w' = w] with p = softmax(s(·,c)); the log-sum-exp subtracts the maximum score.
The scores are log-probabilities up to the per-context constant log Z(c). This unit does one example at
a time (O(V·dim)); for larger vocabularies the engine computes the same loss on blocks of examples with
matrix products (see w2v_nce/kernels/blocked.py).
"""
import numpy as np

from .base import objective, output_step, score


@objective
def softmax(h, target, lr, out_w, out_b, use_bias, noise, state):
    n = out_w.shape[0]
    s = state.work
    top = -np.inf
    for w in range(n):
        x = score(h, w, out_w, out_b, use_bias)
        s[w] = x
        if x > top:
            top = x
    z = 0.0
    for w in range(n):
        z += np.exp(s[w] - top)
    log_z = np.log(z) + top
    loss = log_z - s[target]
    for w in range(n):
        g = -lr * (np.exp(s[w] - log_z) - (1.0 if w == target else 0.0))
        output_step(h, w, g, out_w, out_b, use_bias, state.dh)
    return loss
