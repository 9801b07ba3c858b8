"""What every objective shares: its signature, the tables it may read, and the binary-logistic step.

An objective, like a loss in fastText's loss.cc, is one jitted function

    loss = objective(h, target, lr, out_w, out_b, use_bias, noise, state)

that scores the example (context vector h, target word), applies its output-side update to out_w (and out_b
when use_bias), accumulates the update of the context vector, −lr·∂L/∂h, into state.dh, and returns the
example's loss L (float64). The architecture loop calls it through a first-class function type, so one
compiled loop serves every objective and all of it is cached on disk.
"""
from collections import namedtuple

import numba as nb
import numpy as np
from numba import types

from ..vecops import axpy, dot

# Scores are clipped to ±MAX_SCORE before the logistic (never skipped): exp stays finite and the gradient is
# the exact one everywhere |x| < MAX_SCORE.
MAX_SCORE = 20.0

NoiseTables = namedtuple("NoiseTables", "k alias_prob alias_idx log_q hs_points hs_codes hs_lengths")
NoiseTables.__doc__ = """Read-only tables shared by all threads.

k: noise samples per example; alias_prob, alias_idx: alias table of Q; log_q: log Q(w) (float64);
hs_points, hs_codes, hs_lengths: Huffman-tree inner nodes and branch bits of each word (hierarchical softmax).
"""

ThreadState = namedtuple("ThreadState", "rng h dh sent work ids tally")
ThreadState.__doc__ = """One thread's private state.

rng: uint64[1] generator state; h: float32[dim] context-vector buffer (CBOW mean); dh: float32[dim] update of
the context vector; sent: int32 buffer of the current (subsampled) sentence; work: float64 and ids: int64
scratch for objectives; tally: float64[2] = (loss sum, examples) accumulated over the epoch.
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
    [types.int64, f64_1d, i32_1d, f64_1d, i32_2d, u8_2d, i32_1d], NoiseTables)
thread_state_type = types.NamedTuple(
    [u64_1d, f32_1d, f32_1d, i32_1d, f64_1d, i64_1d, f64_1d], ThreadState)

objective_signature = types.float64(
    f32_1d, types.int64, types.float64, f32_2d, f32_1d, types.boolean, noise_tables_type, thread_state_type)
objective_type = types.FunctionType(objective_signature)


def objective(fn):
    """Compile fn as an objective: eagerly, with the shared signature, nogil, cached."""
    return nb.njit(objective_signature, cache=True, nogil=True, fastmath=True)(fn)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def score(h, word, out_w, out_b, use_bias):
    """s(word, c) = u_word·h (+ b_word), float64."""
    x = np.float64(dot(out_w[word], h))
    if use_bias:
        x += out_b[word]
    return x


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def output_step(h, word, g, out_w, out_b, use_bias, dh):
    """Apply g = −lr·∂L/∂s(word, c): dh += g·u_word, then u_word += g·h and b_word += g."""
    u = out_w[word]
    axpy(g, u, dh)
    axpy(g, h, u)
    if use_bias:
        out_b[word] += np.float32(g)


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def binary_logistic(h, word, label, shift, lr, out_w, out_b, use_bias, dh):
    """One logistic-regression step on x = u_word·h + b_word − shift with label y ∈ {0, 1}.

    L = −y·log σ(x) − (1−y)·log σ(−x) = log(1 + e^m), m = −x if y else x;
    g = lr·(y − σ(x)); dh += g·u_word; u_word += g·h; b_word += g. Returns L.
    """
    x = score(h, word, out_w, out_b, use_bias) - shift
    m = -x if label else x
    if m > MAX_SCORE:
        m = MAX_SCORE
    elif m < -MAX_SCORE:
        m = -MAX_SCORE
    e = np.exp(m)
    p = e / (1.0 + e)  # σ(m) = 1 − σ(x) if y else σ(x)
    output_step(h, word, lr * p if label else -lr * p, out_w, out_b, use_bias, dh)
    return np.log1p(e)


def empty_noise_tables(k, alias_prob, alias_idx, log_q):
    """NoiseTables without a Huffman tree (for every objective but hs)."""
    return NoiseTables(np.int64(k), alias_prob, alias_idx, log_q,
                       np.zeros((0, 0), np.int32), np.zeros((0, 0), np.uint8), np.zeros(0, np.int32))


def new_thread_state(dim, max_sentence, work_size, ids_size, rng):
    return ThreadState(rng, np.zeros(dim, np.float32), np.zeros(dim, np.float32),
                       np.zeros(max_sentence, np.int32), np.zeros(max(work_size, 1), np.float64),
                       np.zeros(max(ids_size, 1), np.int64), np.zeros(2, np.float64))
