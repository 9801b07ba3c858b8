"""Full softmax on blocks of examples with matrix products (BLAS-3).

The examples come from the same pair generation as the architecture loop (subsampled sentences, dynamic
windows), gathered into rows: a row has an input set (skip-gram: one context word; CBOW: the window's context
words, averaged) and a multiset of targets (skip-gram: every target whose window holds that context position;
CBOW: the one target). Rows sharing their input vector share one softmax, which cuts skip-gram's cost by the
number of targets per context. For a block of B rows with inputs H (B × dim) and targets Y (counts, B × V):

    S = H Uᵀ + b,  P = softmax(S) row-wise,  L = Σ_r n_r·log Z_r − Σ_{r,t} S_rt,  G = diag(n) P − Y,
    dH = G U,  dU = Gᵀ H,  db = Σ_r G_r;  then U −= lr·dU, b −= lr·db, and every input vector of row r
    receives −lr·dH_r (word2vec's CBOW convention: the whole update goes to each context word).

This is the gradient of the summed per-example softmax losses at the block's start: one minibatch SGD step.
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


@nb.njit(cache=True, nogil=True, parallel=True)
def softmax_block_gradient(scores, tg_off, tg_ids, r0, r1):
    """In place: scores (rows × V) → G = n_r·softmax − Y. Returns the block's summed loss (float64)."""
    loss = 0.0
    V = scores.shape[1]
    for r in nb.prange(r1 - r0):
        row = scores[r]
        a, b = tg_off[r0 + r], tg_off[r0 + r + 1]
        target_sum = 0.0
        for q in range(a, b):
            target_sum += row[tg_ids[q]]
        top = row[0]
        for w in range(1, V):
            if row[w] > top:
                top = row[w]
        z = 0.0
        for w in range(V):
            e = np.exp(np.float64(row[w]) - top)
            row[w] = e
            z += e
        loss += (b - a) * (np.log(z) + top) - target_sum
        scale = (b - a) / z
        for w in range(V):
            row[w] *= scale
        for q in range(a, b):
            row[tg_ids[q]] -= 1.0
    return loss


class BlockedSoftmax:
    """Trains chunks of the id stream with full softmax on blocks of rows.

    A block's summed gradient is one SGD step, whose curvature grows with the number of examples it sums
    (a frequent word's output row collects p_w·h from every row); plain SGD on it is stable while that number
    stays below about c/lr. Blocks therefore hold about c/lr examples (at least min_examples, at most
    max_rows rows): small while the learning rate is high, larger as it decays.
    """

    def __init__(self, arch, in_w, out_w, out_b, use_bias, c=1.0, rows=256):
        self.arch = arch
        self.in_w, self.out_w, self.out_b = in_w, out_w, out_b
        self.use_bias = use_bias
        self.c = c
        self.rows = rows
        self.h = np.empty((rows, in_w.shape[1]), np.float32)

    def block_end(self, tg_off, r0, lr):
        return min(r0 + self.rows, tg_off.shape[0] - 1)

    def train_chunk(self, stream, start, end, lr_start, lr_end, window, fixed_window, keep_prob, state):
        in_off, in_ids, tg_off, tg_ids, row_pos = collect_rows(
            self.arch, stream, start, end, window, fixed_window, keep_prob, state.sent, state.rng,
            state.sent.shape[0])
        rows = row_pos.shape[0]
        span = max(end - start, 1)
        loss = 0.0
        r0 = 0
        while r0 < rows:
            lr = lr_start + (lr_end - lr_start) * (row_pos[r0] / span)
            r1 = self.block_end(tg_off, r0, lr)
            h = self.h[:r1 - r0]
            gather_inputs(self.in_w, in_off, in_ids, r0, r1, h)
            g = h @ self.out_w.T
            if self.use_bias:
                g += self.out_b
            loss += softmax_block_gradient(g, tg_off, tg_ids, r0, r1)
            dh = g @ self.out_w
            lr_out = min(lr, self.c / (tg_off[r1] - tg_off[r0]))
            self.out_w -= np.float32(lr_out) * (g.T @ h)
            if self.use_bias:
                self.out_b -= np.float32(lr_out) * g.sum(axis=0)
            scatter_inputs(self.in_w, in_off, in_ids, r0, r1, dh, -lr)
            r0 = r1
        state.tally[0] += loss
        state.tally[1] += tg_ids.shape[0]
