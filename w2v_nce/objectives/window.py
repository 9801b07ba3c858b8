"""A skip-gram window, or a few CBOW windows, as one minibatch (HogBatch, Ji et al. 2016), for the binary-logistic
objectives.

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
state.work, and calls window_steps, which reads each row's bias b_r once for the whole minibatch. InfoNCE's
window form takes, instead of the binary-logistic g_jr, context j's sampled-softmax step over R (base.py
softmax_steps: g_jr = −lr·(p_jr − y_r), p_j· = softmax_r(x_jr)); the updates of the rows and contexts are the
same. Rows and biases the thread keeps private copies of (state.hot) are read and written through them.

CBOW has one example per window, h = the mean of its contexts. Its minibatch is CBOW_WINDOWS windows, one from
each of as many equal stretches of the sentence (kernels/loop.py visits the positions in that order), sharing one
noise sample: each window b scores its own target and the k shared noise words, and every shared row is written
once per minibatch instead of once per window (cbow_batch_steps). Windows far apart share no context word
and their means are unlike: adjacent windows sharing a noise sample pushed the same noise rows away from nearly the
same mean twice and lost 0.5 analogy points (2 windows) and 1.3 (4) on text8_2m; far apart they lost none
(docs/objectives.md). A CBOW minibatch form, for the sampling objectives (InfoNCE's each window's sampled softmax
over its target and the shared noise), is one jitted function

    (loss, examples) = batch(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state)

over the `batch` windows the loop has put into the state (cbow_batch_steps's scratch).
"""
import numba as nb
import numpy as np

from ..core.vecops import axpy, axpy2, axpy4, dot, dot2, dot4, zero
from .base import add_loss, add_to_bias, copied_bias, copied_row, logistic_gradient, softmax_steps

CBOW_WINDOWS = 2  # windows per CBOW minibatch (measured: docs/objectives.md)


@nb.njit(cache=True, nogil=True, inline="always")
def window_scratch(dim, window, rows):
    """(h, work, ids) sizes the minibatches need, for windows of up to `window` words a side and up to `rows` output
    rows an example: a skip-gram window a dim-vector per context, rows·(3 + contexts) floats and rows ids; a CBOW
    minibatch two dim-vectors per window, 3·(CBOW_WINDOWS + rows) + CBOW_WINDOWS·rows floats and CBOW_WINDOWS + rows
    ids, then 3 per window for the spans."""
    contexts = 2 * window
    return (dim * max(contexts, 2 * CBOW_WINDOWS),
            max(rows * (3 + contexts), 3 * (CBOW_WINDOWS + rows) + CBOW_WINDOWS * rows),
            CBOW_WINDOWS + rows + 3 * CBOW_WINDOWS)


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
    return window_steps(in_w, sent, lo, hi, center, lr, out_w, out_b, use_bias, n, state, False)


@nb.njit(cache=True, nogil=True, inline="always")
def row_index(q, own, first_shared):
    """Where the q-th row an input scores is in state.ids: its own row first (own ≥ 0), then the shared rows."""
    if own >= 0:
        return own if q == 0 else first_shared + q - 1
    return first_shared + q


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def input_scores_and_steps(x, own, first_shared, n_rows, lr, out_w, state, g, dx, loss, product, softmax):
    """One input vector x of a minibatch against its rows, from the rows' start values: its own row state.ids[own]
    (none when own < 0), then the shared rows state.ids[first_shared:n_rows]; labels in state.work[:n_rows], shifts
    in state.work[n_rows:2·n_rows], biases in state.work[2·n_rows:3·n_rows] (load_biases). Sets g (the own row's g
    first) to g_xr = lr·(y_r − σ(x·u_r + b_r − shift_r)), or with softmax to the sampled-softmax step over the
    rows (the positive first: softmax_steps; a shared row equal to the own row left out, as InfoNCE's candidates
    leave out a draw equal to the target), and dx to Σ_r g_xr·u_r; returns (loss, product) with the losses
    added (the logistic ones through add_loss)."""
    work = state.work
    count = (1 if own >= 0 else 0) + n_rows - first_shared
    q = 0
    while q + 3 < count:  # four rows a pass over x, then two, then one
        s, s2, s3, s4 = dot4(x, minibatch_row(q, own, first_shared, out_w, state),
                             minibatch_row(q + 1, own, first_shared, out_w, state),
                             minibatch_row(q + 2, own, first_shared, out_w, state),
                             minibatch_row(q + 3, own, first_shared, out_w, state))
        g[q] = shifted_score(s, q, own, first_shared, n_rows, work)
        g[q + 1] = shifted_score(s2, q + 1, own, first_shared, n_rows, work)
        g[q + 2] = shifted_score(s3, q + 2, own, first_shared, n_rows, work)
        g[q + 3] = shifted_score(s4, q + 3, own, first_shared, n_rows, work)
        q += 4
    if q + 1 < count:
        s, s2 = dot2(x, minibatch_row(q, own, first_shared, out_w, state),
                     minibatch_row(q + 1, own, first_shared, out_w, state))
        g[q] = shifted_score(s, q, own, first_shared, n_rows, work)
        g[q + 1] = shifted_score(s2, q + 1, own, first_shared, n_rows, work)
        q += 2
    if q < count:
        g[q] = shifted_score(dot(minibatch_row(q, own, first_shared, out_w, state), x), q, own, first_shared, n_rows,
                             work)
    if softmax:
        if own >= 0:  # a shared noise word equal to the input's own target is no candidate of its softmax
            for q in range(1, count):
                if state.ids[row_index(q, own, first_shared)] == state.ids[own]:
                    g[q] = -np.inf  # softmax_steps clips it to a weight e^(−2·MAX_SCORE) of the top logit's:
                    # a step far below the rounding of the float32 values it is added to
        loss += softmax_steps(g, count, lr)
    else:
        for q in range(count):  # independent iterations: their exps overlap
            g[q], factor = logistic_gradient(g[q], work[row_index(q, own, first_shared)] > 0.5, lr)
            loss, product = add_loss(loss, product, factor)
    zero(dx)
    q = 0
    while q + 3 < count:  # dx += g_q·u_q, four rows a pass over dx, then two, then one
        axpy4(g[q], minibatch_row(q, own, first_shared, out_w, state),
              g[q + 1], minibatch_row(q + 1, own, first_shared, out_w, state),
              g[q + 2], minibatch_row(q + 2, own, first_shared, out_w, state),
              g[q + 3], minibatch_row(q + 3, own, first_shared, out_w, state), dx)
        q += 4
    if q + 1 < count:
        axpy2(g[q], minibatch_row(q, own, first_shared, out_w, state),
              g[q + 1], minibatch_row(q + 1, own, first_shared, out_w, state), dx)
        q += 2
    if q < count:
        axpy(g[q], minibatch_row(q, own, first_shared, out_w, state), dx)
    return loss, product


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def minibatch_row(q, own, first_shared, out_w, state):
    """The q-th row an input of the minibatch scores (row_index), through the thread's copy when it holds one."""
    return copied_row(state.ids[row_index(q, own, first_shared)], out_w, state.hot)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def shifted_score(product, q, own, first_shared, n_rows, work):
    """x_r = product + b_r − shift_r for the q-th row (row_index) of the minibatch, float64."""
    r = row_index(q, own, first_shared)
    return np.float64(product) + work[2 * n_rows + r] - work[n_rows + r]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def load_biases(n_rows, out_b, use_bias, state):
    """state.work[2·n_rows + r] = b_r of the rows state.ids[:n_rows] (0 without biases), read once a minibatch."""
    for r in range(n_rows):
        state.work[2 * n_rows + r] = copied_bias(state.ids[r], out_b, state.hot) if use_bias else 0.0


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def window_steps(in_w, sent, lo, hi, center, lr, out_w, out_b, use_bias, n_rows, state, softmax):
    """The window's minibatch step (module docstring) on the rows state.ids[:n_rows], with labels
    state.work[:n_rows] (1.0 or 0.0) and shifts state.work[n_rows:2·n_rows]; binary-logistic, or with softmax each
    context's sampled softmax over the rows (the positive first). Returns (Σ_j L_j, m).

    Scratch: state.work[2·n_rows:3·n_rows] the rows' biases, state.work[3·n_rows:] g_jr (context j's row from
    3·n_rows + j·n_rows), state.h context j's Σ_r g_jr·u_r (dim floats from j·dim); window_scratch gives the
    sizes."""
    work = state.work
    dim = in_w.shape[1]
    load_biases(n_rows, out_b, use_bias, state)
    steps = 3 * n_rows
    loss, product = 0.0, 1.0
    m = 0
    for j in range(lo, hi):  # each context's scores, steps and Σ_r g_jr·u_r, from the rows' start values
        if j == center:
            continue
        loss, product = input_scores_and_steps(
            in_w[sent[j]], -1, 0, n_rows, lr, out_w, state,
            work[steps + m * n_rows:steps + (m + 1) * n_rows], state.h[m * dim:(m + 1) * dim], loss, product,
            softmax)
        m += 1
    for r in range(n_rows):  # u_r += Σ_j g_jr·v_j, the contexts still at their start values
        w = state.ids[r]
        add_contexts(copied_row(w, out_w, state.hot), work[steps + r:], n_rows, m, in_w, sent, lo, center)
        if use_bias:
            total = 0.0
            for jj in range(m):
                total += work[steps + jj * n_rows + r]
            add_to_bias(w, total, out_b, state.hot)
    jj = 0
    for j in range(lo, hi):  # v_j += Σ_r g_jr·u_r
        if j == center:
            continue
        axpy(1.0, state.h[jj * dim:(jj + 1) * dim], in_w[sent[j]])
        jj += 1
    return loss + np.log(product), m


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def add_contexts(u, g, stride, m, in_w, sent, lo, center):
    """u += Σ_j g[j·stride]·v_j over a window's m contexts v_j (context_at), four contexts a pass over u, then two,
    then one."""
    j = 0
    while j + 3 < m:
        axpy4(g[j * stride], context_row(j, in_w, sent, lo, center),
              g[(j + 1) * stride], context_row(j + 1, in_w, sent, lo, center),
              g[(j + 2) * stride], context_row(j + 2, in_w, sent, lo, center),
              g[(j + 3) * stride], context_row(j + 3, in_w, sent, lo, center), u)
        j += 4
    if j + 1 < m:
        axpy2(g[j * stride], context_row(j, in_w, sent, lo, center),
              g[(j + 1) * stride], context_row(j + 1, in_w, sent, lo, center), u)
        j += 2
    if j < m:
        axpy(g[j * stride], context_row(j, in_w, sent, lo, center), u)


@nb.njit(cache=True, nogil=True, inline="always")
def context_row(jj, in_w, sent, lo, center):
    """v of the window's jj-th context (context_at)."""
    return in_w[sent[context_at(jj, lo, center)]]


@nb.njit(cache=True, nogil=True, inline="always")
def context_at(jj, lo, center):
    """The sentence position of a window's jj-th context: lo + jj, the center skipped."""
    j = lo + jj
    return j + 1 if j >= center else j


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def cbow_batch_steps(in_w, sent, batch, lr, out_w, out_b, use_bias, n_rows, state, softmax):
    """A CBOW minibatch of `batch` windows: window b's mean h_b against its target state.ids[b] and the shared rows
    state.ids[batch:n_rows] (labels and shifts as window_steps's), all from the start values, then

        u_r += Σ_b g_br·h_b,   b_r += Σ_b g_br,   v_c += Σ_r g_br·u_r for every context c of window b

    (the whole change to each context, as CBOW one window at a time). Returns (Σ_b Σ_r L_br, batch).

    Scratch: h_b at state.h[b·dim..], its Σ_r g_br·u_r at state.h[(CBOW_WINDOWS + b)·dim..], the rows' biases at
    state.work[2·n_rows:3·n_rows], g_br at state.work[3·n_rows + b·(1 + n_rows − batch)..] (own row first), window
    b's (lo, hi, center) at state.ids[spans + 3b..], spans = cbow_spans(state): the loop fills h_b, the targets and
    the spans."""
    work = state.work
    dim = in_w.shape[1]
    load_biases(n_rows, out_b, use_bias, state)
    steps = 3 * n_rows
    per = 1 + n_rows - batch
    loss, product = 0.0, 1.0
    for b in range(batch):
        loss, product = input_scores_and_steps(
            state.h[b * dim:(b + 1) * dim], b, batch, n_rows, lr, out_w, state,
            work[steps + b * per:steps + (b + 1) * per], state.h[(CBOW_WINDOWS + b) * dim:(CBOW_WINDOWS + b + 1) * dim],
            loss, product, softmax)
    for b in range(batch):  # each window's own target
        w, g = state.ids[b], work[steps + b * per]
        axpy(g, state.h[b * dim:(b + 1) * dim], copied_row(w, out_w, state.hot))
        if use_bias:
            add_to_bias(w, g, out_b, state.hot)
    for r in range(batch, n_rows):  # the shared rows: u_r += Σ_b g_br·h_b
        w = state.ids[r]
        u = copied_row(w, out_w, state.hot)
        total = 0.0
        b = 0
        while b + 1 < batch:  # two windows a pass over u
            g = work[steps + b * per + 1 + r - batch]
            g2 = work[steps + (b + 1) * per + 1 + r - batch]
            axpy2(g, state.h[b * dim:(b + 1) * dim], g2, state.h[(b + 1) * dim:(b + 2) * dim], u)
            total += g
            total += g2
            b += 2
        if b < batch:
            g = work[steps + b * per + 1 + r - batch]
            axpy(g, state.h[b * dim:(b + 1) * dim], u)
            total += g
        if use_bias:
            add_to_bias(w, total, out_b, state.hot)
    spans = cbow_spans(state)
    for b in range(batch):  # every context of window b += Σ_r g_br·u_r
        lo, hi, center = state.ids[spans + 3 * b], state.ids[spans + 3 * b + 1], state.ids[spans + 3 * b + 2]
        dx = state.h[(CBOW_WINDOWS + b) * dim:(CBOW_WINDOWS + b + 1) * dim]
        for j in range(lo, hi):
            if j != center:
                axpy(1.0, dx, in_w[sent[j]])
    return loss + np.log(product), batch


@nb.njit(cache=True, nogil=True, inline="always")
def cbow_spans(state):
    """The first of the 3·CBOW_WINDOWS ids that hold a CBOW minibatch's window spans: the last ones of state.ids."""
    return state.ids.shape[0] - 3 * CBOW_WINDOWS


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def sampled_cbow_batch(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state, shifted):
    """ns (shifted False) and nce (shifted: x − log(k·Q(w))) on a CBOW minibatch of `batch` windows: each window's
    target (label 1) and the k noise words state.noise_ids[:k] (label 0) all of them share."""
    n = shared_noise_rows(batch, noise, noise.log_kq, shifted, state)
    return cbow_batch_steps(in_w, sent, batch, lr, out_w, out_b, use_bias, n, state, False)


@nb.njit(cache=True, nogil=True, inline="always")
def shared_noise_rows(batch, noise, shifts, shifted, state):
    """A CBOW minibatch's rows: the windows' targets state.ids[:batch] (label 1), then the k noise words
    state.noise_ids[:k] they share (label 0); row r's shift shifts[w_r] (0 unless shifted). Returns the rows'
    number batch + k."""
    rows, work = state.ids, state.work
    n = batch + noise.k
    for r in range(n):
        w = rows[r] if r < batch else state.noise_ids[r - batch]
        rows[r] = w
        work[r] = 1.0 if r < batch else 0.0
        work[n + r] = shifts[w] if shifted else 0.0
    return n
