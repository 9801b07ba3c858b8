"""The architecture loop, written once: sentences → windows → examples → objective.

Skip-gram: every (context word c, target w) in a window is one example with h = v_c; the context vector gets
the objective's update dh. CBOW: each target w is one example with h = mean of the window's context vectors,
and every context vector gets the whole update dh (word2vec's convention for cbow_mean).
The learning rate falls linearly from lr_start to lr_end across the chunk.

The loop is compiled once per objective (objective_loops.py binds it to each): Numba then compiles the objective
into the loop, without an indirect call per example.

Noise words (k per example, for sampling objectives) are drawn one example ahead and their output rows
prefetched, as are the input row entering the window and the next target's output row: the random rows are
then in cache when the objective reads them. With shared_negatives, skip-gram draws k noise words per target
instead of per example and all the target's contexts use them (HogBatch's sharing, Ji et al. 2016): fewer
draws and rows, but correlated noise within a window. CBOW has one example per target; its minibatches (below)
share one draw between their windows.
With window_batch, skip-gram trains the examples of a window as one minibatch through the objective's window form
(objectives/window.py: every output row written once per window instead of once per example), for the
objectives that have one (ns, nce, infonce, hs); the others take the examples one at a time. CBOW, with
window_batch and an objective that has a CBOW minibatch form (ns, nce, infonce), visits a sentence's positions
from CBOW_WINDOWS equal stretches in turn (the first of each stretch, then the second of each, ...) and trains
each CBOW_WINDOWS windows so visited as one minibatch with one noise sample.
With several threads, hierarchical softmax reads and writes the inner nodes nearest the root, and the minibatches
of nce and infonce the most frequent words' biases, through private copies (hot: the thread's state.hot) merged
every few examples (hot_rows.py); with hot None, the loop is compiled without that code.
"""
import numba as nb
import numpy as np

from ..core.vecops import axpy, prefetch_row, zero
from ..objectives.base import KERNEL_OPTIONS
from ..objectives.window import CBOW_WINDOWS, add_contexts, cbow_spans, window_scratch
from .hot_rows import count_examples, load_hot_rows, merge_hot_rows
from .noise import draw
from .window import read_sentence, window_span

SKIPGRAM = 0
CBOW = 1
UNIT_WEIGHT = np.ones(1)  # every context's weight in CBOW's sum of its contexts (add_contexts with stride 0)


@nb.njit(cache=True, nogil=True, inline="always")
def draw_ahead(noise, state, out_w):
    """noise_ids[:k] ← the drawn-ahead noise_ids[k:2k]; draw the next k into noise_ids[k:2k], prefetch them."""
    ids = state.noise_ids
    k = noise.k
    for i in range(k):
        ids[i] = ids[k + i]
        w = draw(noise.alias_prob, noise.alias_idx, state.noise_rng)
        ids[k + i] = w
        prefetch_row(out_w, w)


@nb.njit(cache=True, nogil=True, inline="always")
def visit_order(step, n, streams):
    """The sentence position visited at `step` when the n positions are taken from `streams` equal stretches in
    turn: stretch step % streams, its (step // streams)-th position; n or more when that stretch has no more
    positions. One stream: position step."""
    stretch = (n + streams - 1) // streams
    return (step % streams) * stretch + step // streams


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def context_mean(in_w, sent, lo, hi, center, h):
    """h ← the mean of the input vectors of sent[lo:hi] but sent[center] (CBOW's h; at least one context)."""
    zero(h)
    add_contexts(h, UNIT_WEIGHT, 0, hi - lo - 1, in_w, sent, lo, center)  # h = Σ_j 1·v_j, four contexts a pass
    inv = 1.0 / (hi - lo - 1)
    for t in range(h.shape[0]):
        h[t] *= inv


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def add_cbow_window(in_w, sent, lo, hi, center, batch, state):
    """Put window `batch` of a CBOW minibatch into the state (objectives/window.py cbow_batch_logistic_steps): the
    mean of its contexts, its target and its span."""
    dim = in_w.shape[1]
    context_mean(in_w, sent, lo, hi, center, state.h[batch * dim:(batch + 1) * dim])
    state.ids[batch] = sent[center]
    spans = cbow_spans(state)
    state.ids[spans + 3 * batch] = lo
    state.ids[spans + 3 * batch + 1] = hi
    state.ids[spans + 3 * batch + 2] = center


@nb.njit(cache=True, nogil=True, inline="always")
def has_window_scratch(state, dim, window, rows):
    """Whether state holds the scratch of windows as minibatches (objectives/window.py window_scratch)."""
    h_size, work_size, ids_size = window_scratch(dim, window, rows)
    return state.h.shape[0] >= h_size and state.work.shape[0] >= work_size and state.ids.shape[0] >= ids_size


@nb.njit(**KERNEL_OPTIONS, inline="always")  # into each objective's entry point (objective_loops.py)
def train_chunk(objective, window_objective, batch_objective, arch, stream, start, end, lr_start, lr_end, window,
                fixed_window, keep_prob, in_w, out_w, out_b, use_bias, noise, state, shared_negatives, window_batch,
                hot):
    """Train on stream[start:end] (whole sentences); adds (loss sum, examples) to state.tally. window_objective,
    batch_objective: the objective's window and CBOW minibatch forms (objectives/window.py) or None; with
    window_batch, skip-gram trains each window through the first, CBOW CBOW_WINDOWS windows at a time through the
    second. hot: the thread's copies of hot output rows (state.hot) or None."""
    if state.noise_ids.shape[0] < 2 * noise.k:
        raise ValueError("state.noise_ids holds fewer than 2k noise words")
    dim = in_w.shape[1]
    windows = window_objective is not None and window_batch and arch == SKIPGRAM
    cbow_batches = batch_objective is not None and window_batch and arch == CBOW
    if (windows or cbow_batches) and not has_window_scratch(state, dim, window,
                                                             max(noise.k + 1, noise.hs_points.shape[1])):
        raise ValueError("the thread state is too small for minibatches (objectives/window.py)")
    streams = CBOW_WINDOWS if cbow_batches else 1
    loss = 0.0
    examples = 0
    sent = state.sent
    h = state.h[:dim]  # the CBOW mean; all of state.h is scratch for a minibatch
    dh = state.dh
    sampling = noise.k > 0
    per_example = arch == SKIPGRAM and not shared_negatives and not windows
    span = max(end - start, 1)
    pos = start
    batch = 0
    if hot is not None:
        load_hot_rows(out_w, out_b, use_bias, hot)
    draw_ahead(noise, state, out_w)  # the first example's draws
    while pos < end:
        lr = lr_start + (lr_end - lr_start) * ((pos - start) / span)
        n, pos = read_sentence(stream, pos, end, keep_prob, sent, state.rng)
        for step in range(streams * ((n + streams - 1) // streams)):
            i = visit_order(step, n, streams)
            if i >= n:
                continue
            if i + window + 1 < n:
                prefetch_row(in_w, sent[i + window + 1])
            if sampling and i + 1 < n:
                prefetch_row(out_w, sent[i + 1])
            lo, hi = window_span(i, n, window, fixed_window, state.rng)
            target = sent[i]
            if not per_example and not cbow_batches:
                draw_ahead(noise, state, out_w)
            if windows:
                window_loss, window_examples = window_objective(in_w, sent, lo, hi, i, target, lr, out_w, out_b,
                                                                use_bias, noise, state)
                loss += window_loss
                examples += window_examples
                if hot is not None:
                    count_examples(out_w, out_b, use_bias, hot, window_examples)
            elif cbow_batches:
                if hi - lo == 1:
                    continue
                if batch == 0:
                    draw_ahead(noise, state, out_w)  # one noise sample a minibatch
                add_cbow_window(in_w, sent, lo, hi, i, batch, state)
                batch += 1
                if batch == CBOW_WINDOWS:
                    loss += train_cbow_batch(batch_objective, in_w, sent, batch, lr, out_w, out_b, use_bias, noise,
                                             state, hot)
                    examples += batch
                    batch = 0
            elif arch == SKIPGRAM:
                for j in range(lo, hi):
                    if j == i:
                        continue
                    if per_example:
                        draw_ahead(noise, state, out_w)
                    v = in_w[sent[j]]
                    zero(dh)
                    loss += objective(v, target, lr, out_w, out_b, use_bias, noise, state)
                    axpy(1.0, dh, v)
                    examples += 1
                    if hot is not None:
                        count_examples(out_w, out_b, use_bias, hot, 1)
            else:
                if hi - lo == 1:
                    continue
                context_mean(in_w, sent, lo, hi, i, h)
                zero(dh)
                loss += objective(h, target, lr, out_w, out_b, use_bias, noise, state)
                for j in range(lo, hi):
                    if j != i:
                        axpy(1.0, dh, in_w[sent[j]])
                examples += 1
                if hot is not None:
                    count_examples(out_w, out_b, use_bias, hot, 1)
        if cbow_batches:
            if batch > 0:  # a minibatch does not reach into the next sentence
                loss += train_cbow_batch(batch_objective, in_w, sent, batch, lr, out_w, out_b, use_bias, noise,
                                         state, hot)
                examples += batch
                batch = 0
    if hot is not None:
        merge_hot_rows(out_w, out_b, use_bias, hot)
    state.tally[0] += loss
    state.tally[1] += examples


@nb.njit(**KERNEL_OPTIONS, inline="always")
def train_cbow_batch(batch_objective, in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state, hot):
    """The CBOW minibatch of the `batch` windows in the state; returns its loss."""
    batch_loss, batch_examples = batch_objective(in_w, sent, batch, lr, out_w, out_b, use_bias, noise, state)
    if hot is not None:
        count_examples(out_w, out_b, use_bias, hot, batch_examples)
    return batch_loss


@nb.njit(**KERNEL_OPTIONS, inline="always")
def run_chunk(objective, window_objective, batch_objective, arch, chunk, weights, settings, noise, state, hot):
    """train_chunk on chunk = (stream, start, end, lr_start, lr_end), weights = (in_w, out_w, out_b) and
    settings = (window, fixed_window, keep_prob, use_bias, shared_negatives, window_batch)."""
    stream, start, end, lr_start, lr_end = chunk
    in_w, out_w, out_b = weights
    window, fixed_window, keep_prob, use_bias, shared_negatives, window_batch = settings
    train_chunk(objective, window_objective, batch_objective, arch, stream, start, end, lr_start, lr_end, window,
                fixed_window, keep_prob, in_w, out_w, out_b, use_bias, noise, state, shared_negatives, window_batch,
                hot)
