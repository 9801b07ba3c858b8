"""A skip-gram window as one minibatch (HogBatch, Ji et al. 2016), for the binary-logistic objectives.

The m examples (c_j, w) of one target w share their output rows R: the target and the k noise words drawn for it
(ns, nce), or the inner nodes of its Huffman path (hs). With every row's value at the window's start,

    x_jr = v_j·u_r + b_r − shift_r,   g_jr = lr·(y_r − σ(x_jr))
    v_j ← v_j + Σ_r g_jr·u_r,   u_r ← u_r + Σ_j g_jr·v_j,   b_r ← b_r + Σ_j g_jr

is one gradient step on the window's loss Σ_j Σ_r L_jr. Taken one example at a time (word2vec) each of the m
examples writes every row of R; here each row is written once per window: m ≈ 6 times fewer writes of the output
rows, the ones every thread writes (the frequent words', the nodes near the root). Repeated rows (a noise word
drawn twice, or equal to the target) and repeated context words each add their own change, as in any minibatch.

A window objective, like an objective (base.py), is one jitted function of one signature,

    (loss, examples) = window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state)

over the contexts sent[lo:hi] but sent[center]: it puts R's rows into state.ids, their labels y_r and shifts into
state.work, and calls window_logistic_steps. Rows the thread keeps private copies of (state.hot) are read and
written through them.
"""
import numba as nb
import numpy as np

from ..core.vecops import axpy, dot, zero
from .base import add_loss, hot_index, logistic_gradient


@nb.njit(cache=True, nogil=True, inline="always")
def window_scratch(dim, window, rows):
    """(h, work, ids) sizes window_logistic_steps needs for windows of up to `window` words a side and up to `rows`
    output rows: a dim-vector per context, rows·(2 + contexts) floats and rows ids."""
    contexts = 2 * window
    return dim * contexts, rows * (2 + contexts), rows


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def sampled_window(in_w, sent, lo, hi, center, target, lr, out_w, out_b, use_bias, noise, state, shifted):
    """ns (shifted False) and nce (shifted: x − log(k·Q(w))): rows the target (label 1) and its k noise words
    state.noise_ids[:k] (label 0)."""
    k = noise.k
    rows, work = state.ids, state.work
    n = k + 1
    for r in range(n):
        w = target if r == 0 else state.noise_ids[r - 1]
        rows[r] = w
        work[r] = 1.0 if r == 0 else 0.0
        work[n + r] = noise.log_kq[w] if shifted else 0.0
    return window_logistic_steps(in_w, sent, lo, hi, center, lr, out_w, out_b, use_bias, n, state)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def window_logistic_steps(in_w, sent, lo, hi, center, lr, out_w, out_b, use_bias, n_rows, state):
    """The window's minibatch step (module docstring) on the rows state.ids[:n_rows], with labels
    state.work[:n_rows] (1.0 or 0.0) and shifts state.work[n_rows:2·n_rows]. Returns (Σ_j Σ_r L_jr, m).

    Scratch: state.work[2·n_rows:] holds g_jr (context j's row from 2·n_rows + j·n_rows), state.h context j's
    Σ_r g_jr·u_r (dim floats from j·dim); window_scratch gives the sizes."""
    rows = state.ids
    work = state.work
    hot = state.hot
    dim = in_w.shape[1]
    steps = 2 * n_rows
    loss, product = 0.0, 1.0
    m = 0
    for j in range(lo, hi):  # each context's scores, steps and Σ_r g_jr·u_r, from the rows' start values
        if j == center:
            continue
        v = in_w[sent[j]]
        g = work[steps + m * n_rows:steps + (m + 1) * n_rows]
        for r in range(n_rows):
            w = rows[r]
            i = hot_index(w, hot)
            x = np.float64(dot(hot.w[i] if i >= 0 else out_w[w], v))
            if use_bias:
                x += hot.b[i] if i >= 0 else out_b[w]
            g[r] = x - work[n_rows + r]
        for r in range(n_rows):  # independent iterations: their exps overlap
            g[r], factor = logistic_gradient(g[r], work[r] > 0.5, lr)
            loss, product = add_loss(loss, product, factor)
        dv = state.h[m * dim:(m + 1) * dim]
        zero(dv)
        for r in range(n_rows):
            w = rows[r]
            i = hot_index(w, hot)
            axpy(g[r], hot.w[i] if i >= 0 else out_w[w], dv)
        m += 1
    for r in range(n_rows):  # u_r += Σ_j g_jr·v_j, the contexts still at their start values
        w = rows[r]
        i = hot_index(w, hot)
        u = hot.w[i] if i >= 0 else out_w[w]
        total = 0.0
        jj = 0
        for j in range(lo, hi):
            if j == center:
                continue
            g_jr = work[steps + jj * n_rows + r]
            axpy(g_jr, in_w[sent[j]], u)
            total += g_jr
            jj += 1
        if use_bias:
            if i >= 0:
                hot.b[i] += np.float32(total)
            else:
                out_b[w] += np.float32(total)
    jj = 0
    for j in range(lo, hi):  # v_j += Σ_r g_jr·u_r
        if j == center:
            continue
        axpy(1.0, state.h[jj * dim:(jj + 1) * dim], in_w[sent[j]])
        jj += 1
    return loss + np.log(product), m
