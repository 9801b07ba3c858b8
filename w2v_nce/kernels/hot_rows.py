"""Thread-private copies of the hottest output rows and biases, merged into the shared ones every few examples.

With several Hogwild threads, an output row that every thread writes all the time moves between the cores' caches
on every write: hierarchical softmax writes the root of the Huffman tree and the nodes near it in every example,
and nce and infonce the biases of their targets and noise words, 16 to a cache line, the most frequent words'
side by side.
Each thread therefore keeps its own copy of such rows or biases (state.hot: objectives/base.py HotRows; hs reads
and writes the rows through base.py copied_score and copied_output_step, the minibatches of objectives/window.py
rows and biases through copied_row, load_biases and add_to_bias) and, every `merge_every` examples and at the end
of each chunk, merges:

    u ← u + (copy − copy at the last merge),  then copy ← copy at the last merge ← u,

which adds its own changes to the shared row, keeps the other threads' (merged in between), and starts again
from their sum. A hot row's updates by other threads reach a thread at most merge_every examples late, as in
Hogwild with a delay. One worker keeps no copies, and its loop is compiled without this code (loop.py).
"""
import numba as nb


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _load_values(u, c, c0):
    """c ← c0 ← u (1-d: a row, or the biases of the copied rows)."""
    for t in range(u.shape[0]):
        c[t] = u[t]
        c0[t] = u[t]


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _merge_values(u, c, c0):
    """u ← u + (c − c0); c ← c0 ← u (1-d: a row, or the biases of the copied rows)."""
    for t in range(u.shape[0]):
        x = u[t] + (c[t] - c0[t])
        u[t] = x
        c[t] = x
        c0[t] = x


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def load_hot_rows(out_w, out_b, use_bias, hot):
    """copy ← copy at the last merge ← the shared rows and biases (at the start of a chunk)."""
    first = hot.meta[0]
    for i in range(hot.w.shape[0]):
        _load_values(out_w[first + i], hot.w[i], hot.w0[i])
    if use_bias:
        _load_values(out_b[first:first + hot.b.shape[0]], hot.b, hot.b0)
    hot.meta[2] = 0


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def merge_hot_rows(out_w, out_b, use_bias, hot):
    """u ← u + (copy − copy at the last merge); copy ← copy at the last merge ← u (rows and biases)."""
    first = hot.meta[0]
    for i in range(hot.w.shape[0]):
        _merge_values(out_w[first + i], hot.w[i], hot.w0[i])
    if use_bias:
        _merge_values(out_b[first:first + hot.b.shape[0]], hot.b, hot.b0)
    hot.meta[2] = 0


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def count_examples(out_w, out_b, use_bias, hot, n):
    """Count n examples; merge when merge_every of them have passed since the last merge."""
    hot.meta[2] += n
    if hot.meta[2] >= hot.meta[1]:
        merge_hot_rows(out_w, out_b, use_bias, hot)
