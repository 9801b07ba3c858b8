"""Examples gathered into rows, the shared input of the blocked full softmax and of held-out evaluation.

The examples come from the same pair generation as the architecture loop (subsampled sentences, dynamic
windows). A row has an input set (skip-gram: one context word; CBOW: the window's context words, averaged)
and a multiset of targets (skip-gram: every target whose window holds that context position; CBOW: the one
target). The rows are CSR arrays: row r's inputs are in_ids[in_off[r]:in_off[r+1]], its targets
tg_ids[tg_off[r]:tg_off[r+1]].
"""
import numba as nb
import numpy as np

from .loop import CBOW, SKIPGRAM
from .window import read_sentence, window_span


@nb.njit(cache=True, nogil=True)
def collect_rows(arch, stream, start, end, window, fixed_window, keep_prob, sent, rng, max_sentence):
    """Rows of stream[start:end] as CSR arrays: (in_off, in_ids, tg_off, tg_ids, row_pos).

    row_pos is each row's stream position relative to start (for the learning-rate schedule).
    """
    cap = (end - start) * 2 * window + 1
    in_off = np.zeros(end - start + 1, np.int64)
    tg_off = np.zeros(end - start + 1, np.int64)
    in_ids = np.empty(cap if arch == CBOW else end - start + 1, np.int32)
    tg_ids = np.empty(cap if arch == SKIPGRAM else end - start + 1, np.int32)
    row_pos = np.empty(end - start + 1, np.int64)
    lo = np.empty(max_sentence, np.int64)
    hi = np.empty(max_sentence, np.int64)
    cnt = np.empty(max_sentence, np.int64)
    rows = 0
    n_in = 0
    n_tg = 0
    pos = start
    while pos < end:
        sentence_start = pos
        n, pos = read_sentence(stream, pos, end, keep_prob, sent, rng)
        for i in range(n):
            lo[i], hi[i] = window_span(i, n, window, fixed_window, rng)
        if arch == SKIPGRAM:
            # targets of context position j: every i ≠ j whose window holds j, in order of i
            for j in range(n):
                cnt[j] = 0
            for i in range(n):
                for j in range(lo[i], hi[i]):
                    if j != i:
                        cnt[j] += 1
            for j in range(n):
                if cnt[j] == 0:
                    continue
                in_ids[n_in] = sent[j]
                n_in += 1
                for i in range(n):
                    if i != j and lo[i] <= j < hi[i]:
                        tg_ids[n_tg] = sent[i]
                        n_tg += 1
                row_pos[rows] = sentence_start - start
                rows += 1
                in_off[rows] = n_in
                tg_off[rows] = n_tg
        else:
            for i in range(n):
                if hi[i] - lo[i] < 2:
                    continue
                for j in range(lo[i], hi[i]):
                    if j != i:
                        in_ids[n_in] = sent[j]
                        n_in += 1
                tg_ids[n_tg] = sent[i]
                n_tg += 1
                row_pos[rows] = sentence_start - start
                rows += 1
                in_off[rows] = n_in
                tg_off[rows] = n_tg
    return in_off[:rows + 1], in_ids[:n_in], tg_off[:rows + 1], tg_ids[:n_tg], row_pos[:rows]


@nb.njit(cache=True, nogil=True)
def gather_inputs(in_w, in_off, in_ids, r0, r1, out):
    """out[r − r0] = mean of the input vectors of row r, for r in [r0, r1)."""
    dim = in_w.shape[1]
    for r in range(r0, r1):
        a, b = in_off[r], in_off[r + 1]
        inv = np.float32(1.0 / (b - a))
        for t in range(dim):
            out[r - r0, t] = 0.0
        for q in range(a, b):
            row = in_w[in_ids[q]]
            for t in range(dim):
                out[r - r0, t] += row[t]
        for t in range(dim):
            out[r - r0, t] *= inv


@nb.njit(cache=True, nogil=True)
def scatter_inputs(in_w, in_off, in_ids, r0, r1, dh, scale):
    """Every input vector of row r receives scale · dh[r − r0]."""
    dim = in_w.shape[1]
    s = np.float32(scale)
    for r in range(r0, r1):
        for q in range(in_off[r], in_off[r + 1]):
            row = in_w[in_ids[q]]
            for t in range(dim):
                row[t] += s * dh[r - r0, t]
