"""Full softmax on blocks of examples with matrix products (BLAS-3).

The examples are gathered into rows (rows.py: an input set and a multiset of targets per row). Rows sharing
their input vector share one softmax, which cuts skip-gram's cost by the number of targets per context.
For a block of B rows with inputs H (B × dim) and targets Y (counts, B × V):

    S = H Uᵀ + b,  P = softmax(S) row-wise,  L = Σ_r n_r·log Z_r − Σ_{r,t} S_rt,  G = diag(n) P − Y,
    dH = G U,  dU = Gᵀ H,  db = Σ_r G_r;  then U −= lr·dU, b −= lr·db, and every input vector of row r
    receives −lr·dH_r (word2vec's CBOW convention: the whole update goes to each context word).

This is the gradient of the summed per-example softmax losses at the block's start: one minibatch SGD step.
"""
import numba as nb
import numpy as np

from .rows import collect_rows, gather_inputs, scatter_inputs


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
