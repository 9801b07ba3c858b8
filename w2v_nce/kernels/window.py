"""Pair generation: subsampled sentences and the (dynamic) context window around each position.

For the word at position i of a sentence of n kept words, the window is [i − b, i + b] ∩ [0, n) minus i,
with b = window (fixed) or b uniform in 1..window (word2vec's reduced window, drawn once per position).
Each position j ≠ i in the window gives the example (context = word j, target = word i).
"""
import numba as nb
import numpy as np

from ..core.rng import new_state, randint, uniform


@nb.njit(cache=True, nogil=True, inline="always")
def window_span(i, n, window, fixed_window, rng):
    """[lo, hi) of the window around position i (hi exclusive, i included)."""
    b = window if fixed_window else window - randint(rng, window)
    lo = i - b if i > b else 0
    hi = i + b + 1
    if hi > n:
        hi = n
    return lo, hi


@nb.njit(cache=True, nogil=True, inline="always")
def read_sentence(stream, pos, end, keep_prob, sent, rng):
    """Copy the sentence at stream[pos] into sent, keeping word w with probability keep_prob[w].

    Returns (kept words, position after the sentence). A sentence longer than the buffer is cut there.
    """
    n = 0
    cap = sent.shape[0]
    while pos < end:
        w = stream[pos]
        pos += 1
        if w < 0:
            break
        p = keep_prob[w]
        if p < 1.0 and uniform(rng) >= p:
            continue
        sent[n] = w
        n += 1
        if n == cap:
            break
    return n, pos


@nb.njit(cache=True)
def _sentence_pairs(sentence, window, fixed_window, rng):
    n = sentence.shape[0]
    out = np.empty((n * 2 * window, 2), dtype=np.int64)
    m = 0
    for i in range(n):
        lo, hi = window_span(i, n, window, fixed_window, rng)
        for j in range(lo, hi):
            if j != i:
                out[m, 0] = sentence[j]
                out[m, 1] = sentence[i]
                m += 1
    return out[:m]


def sentence_pairs(sentence, window, fixed_window=True, seed=1):
    """The (context, target) pairs of one sentence, in the order the skip-gram loop trains them."""
    sentence = np.asarray(sentence, dtype=np.int32)
    pairs = _sentence_pairs(sentence, int(window), bool(fixed_window), new_state(seed))
    return [tuple(p) for p in pairs.tolist()]
