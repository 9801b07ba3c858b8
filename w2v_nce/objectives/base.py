"""What every objective shares: its signature, the tables it may read, and the binary-logistic step.

An objective, like a loss in fastText's loss.cc, is one jitted function

    loss = objective(h, target, lr, out_w, out_b, use_bias, noise, state)

that scores the example (context vector h, target word), applies its output-side update to out_w (and out_b
when use_bias), accumulates the update of the context vector, −lr·∂L/∂h, into state.dh, and returns the
example's loss L (float64). Sampling objectives read the example's k noise words from state.noise_ids[:k]: the
architecture loop draws them (one example ahead, so that their rows are already in cache). The loop is written
once and compiled once per objective, the objective inside it (kernels/objective_loops.py), all of it cached on
disk.
"""
from collections import namedtuple

import numba as nb
import numpy as np
from numba import types

from ..core.rng import NOISE_STREAM, seed_state
from ..core.vecops import dot, dot2, exp32, row_steps2

# Scores are clipped to ±MAX_SCORE before the logistic (never skipped): exp stays finite and the gradient is
# the exact one everywhere |x| < MAX_SCORE.
MAX_SCORE = 20.0

NoiseTables = namedtuple("NoiseTables", "k alias_prob alias_idx log_q log_kq hs_points hs_codes hs_lengths")
NoiseTables.__doc__ = """Read-only tables shared by all threads.

k: noise samples per example (0 for objectives that draw none); alias_prob, alias_idx: alias table of Q;
log_q: log Q(w) and log_kq: log(k·Q(w)) (float64);
hs_points, hs_codes, hs_lengths: Huffman-tree inner nodes and branch bits of each word (hierarchical softmax).
"""

HotRows = namedtuple("HotRows", "meta w w0 b b0")
HotRows.__doc__ = """One thread's private copies of the hottest output rows and biases (kernels/hot_rows.py).

meta: int64[3] = (first copied row, examples between merges, examples since the last merge); w: the copies of H
rows (H × dim; H = 0: none), b: of H_b ≥ H biases (the rows' and those of the next H_b − H words: the biases
alone of nce and infonce, H = 0); w0, b0: their values at the last merge.
"""

ThreadState = namedtuple("ThreadState", "rng noise_rng h dh sent work ids noise_ids tally hot")
ThreadState.__doc__ = """One thread's private state.

rng: uint64[1] generator of the pairs (subsampling, window sizes); noise_rng: uint64[1] generator of the noise
draws, separate so that the pairs do not depend on the objective; h: float32[≥ dim] context-vector buffer (the
CBOW mean in h[:dim]; all of it the scratch of a minibatch, objectives/window.py); dh:
float32[dim] update of the context vector; sent: int32 buffer of the current (subsampled) sentence;
work: float64 and ids: int64 scratch for objectives; noise_ids: int64[2k], the current example's noise words
then the next one's; tally: float64[2] = (loss sum, examples) accumulated over the epoch; hot: HotRows, the
thread's private copies of the hottest output rows (hierarchical softmax with several threads; else none).
"""

f32_1d = types.Array(types.float32, 1, "C")
f32_2d = types.Array(types.float32, 2, "C")
f64_1d = types.Array(types.float64, 1, "C")
i32_1d = types.Array(types.int32, 1, "C")
i32_2d = types.Array(types.int32, 2, "C")
i64_1d = types.Array(types.int64, 1, "C")
u8_2d = types.Array(types.uint8, 2, "C")
u64_1d = types.Array(types.uint64, 1, "C")

noise_tables_type = types.NamedTuple(
    [types.int64, f64_1d, i32_1d, f64_1d, f64_1d, i32_2d, u8_2d, i32_1d], NoiseTables)
hot_rows_type = types.NamedTuple([i64_1d, f32_2d, f32_2d, f32_1d, f32_1d], HotRows)
thread_state_type = types.NamedTuple(
    [u64_1d, u64_1d, f32_1d, f32_1d, i32_1d, f64_1d, i64_1d, i64_1d, f64_1d, hot_rows_type], ThreadState)

objective_signature = types.float64(
    f32_1d, types.int64, types.float64, f32_2d, f32_1d, types.boolean, noise_tables_type, thread_state_type)


# How the per-example kernels (the objectives and the architecture loop) are compiled: cached on disk, without
# the GIL, and without Numba's reference counting (_nrt=False). They allocate nothing; with counting, every row
# view (out_w[w]) atomically updated the count of the whole shared weight array, from every thread (measured:
# 19% of a profile's samples on two adjacent instructions, gone without counting). Division as numpy's
# (error_model="numpy": x/0 is ±inf or NaN, no check): with Python's, a run diverging to NaN raised
# ZeroDivisionError from a denominator that is at least 1 by construction (fastmath assumes no NaN, so the check on
# a NaN denominator is undefined), in 6 of 16 objective, architecture and update-form configurations, instead of
# reaching the divergence check (tests/test_robustness.py).
KERNEL_OPTIONS = dict(cache=True, nogil=True, fastmath=True, _nrt=False, error_model="numpy")

# The chunk kernels' arguments, flattened as Numba passes them (an array as its pointers, sizes and strides), are
# 204 machine words. A few more, even unused ones, made training 2.7 times slower (skip-gram NS, one thread: 206
# words trained as fast, 208 and 211 did not; docs/performance.md): new data for the kernels travels inside the
# arrays they already take, not as another argument. tests/test_kernel_cache.py holds them to this.
KERNEL_ARGUMENT_WORDS_LIMIT = 206


def objective(fn):
    """Compile fn as an objective, or as an objective's window form (objectives/window.py): lazily, for the types
    the loops call it with (an objective's: the shared signature, objective_signature). Each loop kernel
    (kernels/objective_loops.py) holds its objective's code, so a run that loads its loop from Numba's cache never
    loads the objectives' own machine code (five of them: 0.25 s of start-up)."""
    return nb.njit(**KERNEL_OPTIONS)(fn)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def score(h, word, out_w, out_b, use_bias):
    """s(word, c) = u_word·h (+ b_word), float64."""
    return with_bias(dot(out_w[word], h), word, out_b, use_bias)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def with_bias(product, word, out_b, use_bias):
    """The score of `word` from its row's product with h: float64(product) (+ b_word)."""
    x = np.float64(product)
    if use_bias:
        x += out_b[word]
    return x


# The one-example objectives but hs (ns, nce, infonce) read and write the shared rows directly, never the thread's
# copies (which their minibatch forms alone use): through copied_row, InfoNCE trained 2.4% slower (one worker).
@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def scores2(h, word, word2, out_w, out_b, use_bias):
    """(score(h, word, …), score(h, word2, …)) in one pass over h."""
    s, s2 = dot2(h, out_w[word], out_w[word2])
    return with_bias(s, word, out_b, use_bias), with_bias(s2, word2, out_b, use_bias)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def output_steps2(h, word, g, word2, g2, out_w, out_b, use_bias, dh):
    """output_step(h, word, g, …) then output_step(h, word2, g2, …) in one pass, for distinct words."""
    row_steps2(h, out_w[word], g, out_w[word2], g2, dh)
    if use_bias:
        out_b[word] += np.float32(g)
        out_b[word2] += np.float32(g2)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def output_step(h, word, g, out_w, out_b, use_bias, dh):
    """Apply g = −lr·∂L/∂s(word, c): dh += g·u_word, then u_word += g·h and b_word += g."""
    row_step(h, out_w[word], g, dh)
    if use_bias:
        out_b[word] += np.float32(g)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def row_step(h, u, g, dh):
    """dh += g·u (the old u), then u += g·h, in one pass."""
    g32 = np.float32(g)
    for i in range(u.shape[0]):
        ui = u[i]
        dh[i] += g32 * ui
        u[i] = ui + g32 * h[i]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def hot_index(word, hot):
    """Index of `word`'s row among the thread's private copies (H rows from hot.meta[0]), or −1."""
    i = word - hot.meta[0]
    return i if 0 <= i < hot.w.shape[0] else -1


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def hot_bias_index(word, hot):
    """Index of `word`'s bias among the thread's private copies (H_b biases from hot.meta[0]), or −1."""
    i = word - hot.meta[0]
    return i if 0 <= i < hot.b.shape[0] else -1


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def copied_score(h, word, out_w, out_b, use_bias, hot):
    """score(), read from the thread's copies of the row and the bias where it holds them."""
    x = np.float64(dot(copied_row(word, out_w, hot), h))
    if use_bias:
        x += copied_bias(word, out_b, hot)
    return x


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def copied_row(word, out_w, hot):
    """u_word: the thread's copy of the row when it holds one, else the shared row."""
    i = hot_index(word, hot)
    return hot.w[i] if i >= 0 else out_w[word]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def copied_scores2(h, word, word2, out_w, out_b, use_bias, hot):
    """(copied_score(h, word, …), copied_score(h, word2, …)) in one pass over h."""
    s, s2 = dot2(h, copied_row(word, out_w, hot), copied_row(word2, out_w, hot))
    x, x2 = np.float64(s), np.float64(s2)
    if use_bias:
        x += copied_bias(word, out_b, hot)
        x2 += copied_bias(word2, out_b, hot)
    return x, x2


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def copied_output_steps2(h, word, g, word2, g2, out_w, out_b, use_bias, dh, hot):
    """copied_output_step(h, word, g, …) then copied_output_step(h, word2, g2, …) in one pass, for distinct
    words."""
    row_steps2(h, copied_row(word, out_w, hot), g, copied_row(word2, out_w, hot), g2, dh)
    if use_bias:
        add_to_bias(word, g, out_b, hot)
        add_to_bias(word2, g2, out_b, hot)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def copied_bias(word, out_b, hot):
    """b_word, read from the thread's copy when it holds one."""
    i = hot_bias_index(word, hot)
    return hot.b[i] if i >= 0 else out_b[word]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def add_to_bias(word, g, out_b, hot):
    """b_word += g (the thread's copy of the bias when it holds one)."""
    i = hot_bias_index(word, hot)
    if i >= 0:
        hot.b[i] += np.float32(g)
    else:
        out_b[word] += np.float32(g)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def copied_output_step(h, word, g, out_w, out_b, use_bias, dh, hot):
    """output_step(), applied to the thread's copies of the row and the bias where it holds them."""
    row_step(h, copied_row(word, out_w, hot), g, dh)
    if use_bias:
        add_to_bias(word, g, out_b, hot)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def logistic_gradient(x, label, lr):
    """The binary-logistic step on score x with label y ∈ {0, 1}: L = −y·log σ(x) − (1−y)·log σ(−x)
    = log(1 + e^m), m = −x if y else x (clipped to ±MAX_SCORE). Returns (g, e^L) = (lr·(y − σ(x)), 1 + e^m)."""
    m = -x if label else x
    if m > MAX_SCORE:
        m = MAX_SCORE
    elif m < -MAX_SCORE:
        m = -MAX_SCORE
    e = np.exp(m)
    p = e / (1.0 + e)  # σ(m) = 1 − σ(x) if y else σ(x)
    return (lr * p if label else -lr * p), 1.0 + e


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def softmax_steps(x, m, lr):
    """The sampled-softmax step on the logits x[:m], the positive's first: p = softmax(x[:m]),
    L = −x_0 + log Σ_j e^x_j. Overwrites x[j] with g_j = −lr·(p_j − [j = 0]); returns L."""
    top = -np.inf
    for j in range(m):
        if x[j] > top:
            top = x[j]
    positive = x[0]
    z = 0.0
    # e^(x_j − max x) by the branch-free float32 exp32, whose loop vectorizes (libm's exp, called once per
    # candidate, took a sixth of InfoNCE's time); p_j is cast to float32 for the step anyway.
    for j in range(m):
        d = x[j] - top
        if d < -2.0 * MAX_SCORE:  # e^-40 is 0 in float32 anyway: clip the exponent, keep the term
            d = -2.0 * MAX_SCORE
        e = np.float64(exp32(np.float32(d)))
        x[j] = e
        z += e
    for j in range(m):
        x[j] = -lr * (x[j] / z - (1.0 if j == 0 else 0.0))
    return np.log(z) + top - positive


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def binary_logistic(h, word, label, shift, lr, out_w, out_b, use_bias, dh):
    """One logistic-regression step on x = u_word·h + b_word − shift with label y ∈ {0, 1}.

    L = −y·log σ(x) − (1−y)·log σ(−x); g = lr·(y − σ(x)); dh += g·u_word; u_word += g·h; b_word += g.
    Returns e^L (see add_loss).
    """
    g, factor = logistic_gradient(score(h, word, out_w, out_b, use_bias) - shift, label, lr)
    output_step(h, word, g, out_w, out_b, use_bias, dh)
    return factor


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def sampled_logistic_steps(h, target, lr, out_w, out_b, use_bias, noise, state, shift, shifted):
    """The binary-logistic steps of the target (label 1) and then of its k noise words state.noise_ids[:k]
    (label 0), one after another, on x = s(w, c) − shift[w] (− 0 unless shifted); returns Σ L.

    The scores of distinct words do not depend on each other's steps, so all k+1 are computed first, then their
    exps (each loop's iterations independent, so they overlap), then the steps applied; a word met again within
    the example is scored again after its earlier step, so the result is that of one word at a time (which is
    how the steps are taken when state.work cannot hold 2(k+1) values).
    """
    k = noise.k
    ids = state.noise_ids
    buf = state.work  # g of target, w_1..w_k, then their e^L
    if buf.shape[0] < 2 * (k + 1):
        loss, product = 0.0, 1.0
        for i in range(k + 1):
            w = target if i == 0 else ids[i - 1]
            loss, product = add_loss(loss, product, binary_logistic(
                h, w, i == 0, shift[w] if shifted else 0.0, lr, out_w, out_b, use_bias, state.dh))
        return loss + np.log(product)
    for i in range(0, k, 2):  # the target (i = 0) and noise word i (i + 1) in one pass over h, two at a time
        buf[i], buf[i + 1] = scores2(h, sampled_word(i, target, ids), ids[i], out_w, out_b, use_bias)
    if k % 2 == 0:
        buf[k] = score(h, sampled_word(k, target, ids), out_w, out_b, use_bias)
    if shifted:
        for i in range(k + 1):
            buf[i] -= shift[sampled_word(i, target, ids)]
    for i in range(k + 1):
        buf[i], buf[k + 1 + i] = logistic_gradient(buf[i], i == 0, lr)
    loss, product = 0.0, 1.0
    i = 0
    while i <= k:  # word i's step, with word i + 1's in the same pass when that word is new to the example
        w = sampled_word(i, target, ids)
        if i > 0 and repeated_noise(i, target, ids):  # scored again after the earlier step of the same word
            buf[i], buf[k + 1 + i] = logistic_gradient(
                score(h, w, out_w, out_b, use_bias) - (shift[w] if shifted else 0.0), False, lr)
        if i < k and not repeated_noise(i + 1, target, ids):
            output_steps2(h, w, buf[i], ids[i], buf[i + 1], out_w, out_b, use_bias, state.dh)
            loss, product = add_loss(loss, product, buf[k + 1 + i])
            loss, product = add_loss(loss, product, buf[k + 2 + i])
            i += 2
        else:
            output_step(h, w, buf[i], out_w, out_b, use_bias, state.dh)
            loss, product = add_loss(loss, product, buf[k + 1 + i])
            i += 1
    return loss + np.log(product)


@nb.njit(cache=True, nogil=True, inline="always")
def sampled_word(i, target, ids):
    """Word i of an example's binary-logistic steps: the target (i = 0), then the noise words ids[:k]."""
    return target if i == 0 else ids[i - 1]


@nb.njit(cache=True, nogil=True, inline="always")
def repeated_noise(i, target, ids):
    """Whether noise word i ≥ 1 (ids[i − 1]) is the target or an earlier noise word."""
    w = ids[i - 1]
    repeated = w == target
    for j in range(i - 1):
        repeated |= ids[j] == w
    return repeated


# A product of factors e^L ≤ 1 + e^MAX_SCORE < 2^29 is folded into a log before it could overflow float64.
FOLD_PRODUCT = 1e250


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def add_loss(loss, product, factor):
    """Sum the losses of binary-logistic steps with one log per example: Σ L_j = loss + log(product · Π e^L_j).

    Returns the new (loss, product); the caller adds log(product) at the end.
    """
    product *= factor
    if product > FOLD_PRODUCT:
        return loss + np.log(product), 1.0
    return loss, product


def empty_noise_tables(k, alias_prob, alias_idx, log_q):
    """NoiseTables without a Huffman tree (for every objective but hs)."""
    log_kq = np.log(np.float64(max(k, 1))) + log_q
    return NoiseTables(np.int64(k), alias_prob, alias_idx, log_q, log_kq,
                       np.zeros((0, 0), np.int32), np.zeros((0, 0), np.uint8), np.zeros(0, np.int32))


def with_tree(tables, tree):
    """tables with the Huffman tree's paths (hierarchical softmax)."""
    return tables._replace(hs_points=tree.points, hs_codes=tree.codes, hs_lengths=tree.lengths)


CACHE_LINE = 64


def line_aligned(a):
    """A copy of the 1-d array a that starts on a cache line and shares no line with other data.

    Threads write their private state constantly; two threads' arrays on one cache line would move the line
    between cores on every write (false sharing).
    """
    buf = np.zeros(a.nbytes + 2 * CACHE_LINE, np.uint8)
    start = -buf.ctypes.data % CACHE_LINE
    out = buf[start:start + a.nbytes].view(a.dtype)
    out[:] = a
    return out


def new_thread_state(dim, max_sentence, work_size, ids_size, rng, k=0, noise_rng=None, hot_first=0, hot_rows=0,
                     merge_every=1, h_size=0, hot_biases=0):
    """State for one thread, each array on cache lines of its own; noise_rng defaults to a generator seeded
    from rng's state; private copies of the hot_rows output rows and of max(hot_rows, hot_biases) biases from
    hot_first, merged every merge_every examples (kernels/hot_rows.py); h of max(dim, h_size) floats (the
    scratch of minibatches: objectives/window.py window_scratch)."""
    if noise_rng is None:
        noise_rng = np.zeros(1, np.uint64)
        seed_state(noise_rng, rng[0], NOISE_STREAM, 0)
    arrays = (rng, noise_rng, np.zeros(max(dim, h_size), np.float32), np.zeros(dim, np.float32),
              np.zeros(max_sentence, np.int32), np.zeros(max(work_size, 1), np.float64),
              np.zeros(max(ids_size, 1), np.int64), np.zeros(max(2 * k, 1), np.int64), np.zeros(2, np.float64))
    rows = tuple(line_aligned(np.zeros(hot_rows * dim, np.float32)).reshape(hot_rows, dim) for _ in range(2))
    biases = tuple(line_aligned(np.zeros(max(hot_rows, hot_biases), np.float32)) for _ in range(2))
    hot = HotRows(line_aligned(np.array([hot_first, max(merge_every, 1), 0], np.int64)), rows[0], rows[1],
                  biases[0], biases[1])
    return ThreadState(*(line_aligned(a) for a in arrays), hot)
