"""InfoNCE: sampled softmax with the log Q correction (the ranking form of NCE; CPC, CLIP).

Candidates x_0 = target, x_1..x_m = noise draws from Q other than the target (draws equal to the target are
removed, so m ≤ k); logits ŝ_j = s(x_j,c) − log Q(x_j);  L = −ŝ_0 + log Σ_j exp ŝ_j.
∂L/∂ŝ_j = p_j − [j = 0] with p = softmax(ŝ). At the optimum s(w,c) = log p(w|c) + const(c): scores are
log-probabilities up to a per-context constant. log(k+1) − E[L] is a lower bound on the mutual information
between context and target (van den Oord et al., 2018).
"""
import numpy as np

from ..core.vecops import exp32
from .base import MAX_SCORE, objective, output_step, score


@objective
def infonce(h, target, lr, out_w, out_b, use_bias, noise, state):
    ids = state.ids
    logits = state.work
    ids[0] = target
    m = 1
    for i in range(noise.k):
        w = state.noise_ids[i]
        if w != target:
            ids[m] = w
            m += 1
    top = -np.inf
    for j in range(m):
        w = ids[j]
        x = score(h, w, out_w, out_b, use_bias) - noise.log_q[w]
        logits[j] = x
        if x > top:
            top = x
    s0 = logits[0]
    z = 0.0
    # e^(ŝ_j − max ŝ) by the branch-free float32 exp32, whose loop vectorizes (libm's exp, called once per
    # candidate, took a sixth of InfoNCE's time); p_j is cast to float32 for the step anyway.
    for j in range(m):
        x = logits[j] - top
        if x < -2.0 * MAX_SCORE:  # e^-40 is 0 in float32 anyway: clip the exponent, keep the term
            x = -2.0 * MAX_SCORE
        e = np.float64(exp32(np.float32(x)))
        logits[j] = e
        z += e
    loss = np.log(z) + top - s0
    for j in range(m):
        g = -lr * (logits[j] / z - (1.0 if j == 0 else 0.0))
        output_step(h, ids[j], g, out_w, out_b, use_bias, state.dh)
    return loss
