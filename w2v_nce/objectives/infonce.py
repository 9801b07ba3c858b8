"""InfoNCE: sampled softmax with the log Q correction (the ranking form of NCE; CPC, CLIP).

Candidates x_0 = target, x_1..x_m = noise draws from Q other than the target (draws equal to the target are
removed, so m ≤ k); logits ŝ_j = s(x_j,c) − log Q(x_j);  L = −ŝ_0 + log Σ_j exp ŝ_j.
∂L/∂ŝ_j = p_j − [j = 0] with p = softmax(ŝ). At the optimum s(w,c) = log p(w|c) + const(c): scores are
log-probabilities up to a per-context constant. log(k+1) − E[L] is a lower bound on the mutual information
between context and target (van den Oord et al., 2018).
"""
import numba as nb

from .base import objective, output_step, output_steps2, score, scores2, softmax_steps
from .window import cbow_batch_steps, shared_noise_rows, window_steps


@objective
def infonce(h, target, lr, out_w, out_b, use_bias, noise, state):
    ids = state.ids
    logits = state.work
    m = candidates(target, noise, state)
    for j in range(0, m - 1, 2):  # two candidates a pass over h
        logits[j], logits[j + 1] = scores2(h, ids[j], ids[j + 1], out_w, out_b, use_bias)
        logits[j] -= noise.log_q[ids[j]]
        logits[j + 1] -= noise.log_q[ids[j + 1]]
    if m % 2:
        logits[m - 1] = score(h, ids[m - 1], out_w, out_b, use_bias) - noise.log_q[ids[m - 1]]
    loss = softmax_steps(logits, m, lr)
    j = 0
    while j < m:  # two candidates a pass, unless the same word (its second step reads the first's result)
        if j + 1 < m and ids[j] != ids[j + 1]:
            output_steps2(h, ids[j], logits[j], ids[j + 1], logits[j + 1], out_w, out_b, use_bias, state.dh)
            j += 2
        else:
            output_step(h, ids[j], logits[j], out_w, out_b, use_bias, state.dh)
            j += 1
    return loss


@objective
def infonce_window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state):
    """A skip-gram window of InfoNCE as one minibatch (window.py): each context's softmax over the target (label 1)
    and the noise words other than it, shifts log Q(w)."""
    m = candidates(target, noise, state)
    for r in range(m):
        state.work[r] = 1.0 if r == 0 else 0.0
        state.work[m + r] = noise.log_q[state.ids[r]]
    return window_steps(in_w, sent, lo, hi, center, lr, out_w, out_b, use_bias, m, state, True)


@objective
def infonce_cbow_batch(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state):
    """A CBOW minibatch of InfoNCE (window.py): each window's softmax over its own target and the k noise words all
    its windows share (a noise word equal to the window's target left out), shifts log Q(w)."""
    n = shared_noise_rows(batch, noise, noise.log_q, True, state)
    return cbow_batch_steps(in_w, sent, batch, lr, out_w, out_b, use_bias, n, state, True)


@nb.njit(cache=True, nogil=True, inline="always")
def candidates(target, noise, state):
    """state.ids[:m] = the target, then the noise words state.noise_ids[:k] other than it; returns m ≤ k + 1."""
    ids = state.ids
    ids[0] = target
    m = 1
    for i in range(noise.k):
        w = state.noise_ids[i]
        if w != target:
            ids[m] = w
            m += 1
    return m
