"""Full softmax on blocks of examples with matrix products (BLAS-3).

The examples are gathered into rows (rows.py: an input set and a multiset of targets per row). Rows sharing
their input vector share one softmax, which cuts skip-gram's cost by the number of targets per context.
For a block of B rows with inputs H (B × dim) and targets Y (counts, B × V):

    S = H Uᵀ + b,  P = softmax(S) row-wise,  L = Σ_r n_r·log Z_r − Σ_{r,t} S_rt,  G = diag(n) P − Y,
    dH = G U,  dU = Gᵀ H,  db = Σ_r G_r;  then U and b take the output step of dU and db (row-wise AdaGrad, or
    SGD: see BlockedSoftmax), and every input vector of row r receives −lr·dH_r (word2vec's CBOW convention: the
    whole update goes to each context word).

This is the gradient of the summed per-example softmax losses at the block's start: one minibatch step.

How it is computed. The three products (2·B·V·dim flops each) run in place in preallocated buffers through
BLAS's sgemm (no B × V or V × dim temporaries). Between them one parallel pass per row turns the scores into
E'_r = e_r − (z_r/n_r)·y_r with e_r = exp(S_r − m_r) (float32, m_r ≤ max S_r: see SHIFT_WORDS) and z_r = Σ e_r,
and keeps the factor c_r = n_r/z_r: then G = diag(c) E', so the B × V matrix is never rescaled; the factor goes to
the small matrices instead: dH = diag(c)(E' U) and dU = E'ᵀ (diag(c) H). A second pass sums the bias gradient.
"""
import queue
import threading
import weakref

import numba as nb
import numpy as np
from scipy.linalg.blas import sgemm

from ..core.resources import available_cores
from ..core.vecops import dot, exp32
from ..objectives import SOFTMAX_STEPS
from .rows import collect_rows, gather_inputs, scatter_inputs

# The row pass splits a block's rows into this many contiguous parts, each with its own bias-gradient sum,
# added in part order: results do not depend on the number of threads.
ROW_PARTS = 8

# The shift of a row's exponentials is the largest score among its SHIFT_WORDS most frequent words (ids are in
# frequency order): a lower bound of the row's maximum, found without a pass over the row, so that one pass
# computes the exponentials and their sum z (a pass that also took the maximum did not vectorize: measured 4x
# slower). z ≥ e^(max − shift), so z ≤ e^SHIFT_SLACK proves that no exponential came near float32's overflow at
# e^88; a row with a larger z is computed again, shifted by its maximum. Entries more than 87 below the shift are
# clamped to e^−87 (exp32): negligible against the largest one, which is ≥ 1.
SHIFT_WORDS = 256
SHIFT_SLACK = 60.0
_MAX_SUM = float(np.exp(SHIFT_SLACK))


@nb.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _exp_pass(row, out_b, use_bias, shift):
    """row ← e^(row + b − shift) in place; returns their sum (float64)."""
    z = 0.0
    if use_bias:
        for w in range(row.shape[0]):
            e = exp32(row[w] + out_b[w] - shift)
            row[w] = e
            z += e
    else:
        for w in range(row.shape[0]):
            e = exp32(row[w] - shift)
            row[w] = e
            z += e
    return z


@nb.njit(cache=True, nogil=True, fastmath=True)
def softmax_rows(scores, h, out_w, out_b, use_bias, tg_off, tg_ids, r0, row_scale, db_parts, part_loss, p0, p1):
    """Parts p0..p1−1 of the block's rows r0, r0+1, ... (scores[i] = H_i Uᵀ, without the bias), in place:

    scores[i] ← e − (z/n)·y with e = exp(s − m), s = scores[i] + b, m ≤ max s (see SHIFT_WORDS), z = Σ_w e_w,
    n the row's number of targets and y their counts over the vocabulary; row_scale[i] ← n/z, so that
    row_scale[i]·scores[i] is G_i = n·softmax(s) − y. With use_bias, db_parts[p] ← Σ G_i over part p's rows.
    part_loss[p] ← part p's loss Σ_i (n·log Z − Σ_targets s), float64, with log Z = log z + m.
    """
    rows, V = scores.shape
    parts = db_parts.shape[0]
    for p in range(p0, p1):
        db = db_parts[p]
        if use_bias:
            for w in range(V):
                db[w] = 0.0
        loss = 0.0
        for i in range(rows * p // parts, rows * (p + 1) // parts):
            row = scores[i]
            a, b = tg_off[r0 + i], tg_off[r0 + i + 1]
            target_sum = 0.0
            for q in range(a, b):
                t = tg_ids[q]
                target_sum += row[t] + (out_b[t] if use_bias else np.float32(0.0))
            shift = np.float32(-np.inf)
            for w in range(min(V, SHIFT_WORDS)):
                shift = max(shift, row[w] + (out_b[w] if use_bias else np.float32(0.0)))
            z = _exp_pass(row, out_b, use_bias, shift)
            if z > _MAX_SUM:  # the maximum lies far above the frequent words': again, shifted by it
                for w in range(V):
                    row[w] = dot(out_w[w], h[i])
                    shift = max(shift, row[w] + (out_b[w] if use_bias else np.float32(0.0)))
                z = _exp_pass(row, out_b, use_bias, shift)
            n = b - a
            loss += n * (np.log(z) + shift) - target_sum
            z_per_target = np.float32(z / n)
            for q in range(a, b):
                row[tg_ids[q]] -= z_per_target
            scale = np.float32(n / z)
            row_scale[i] = scale
            if use_bias:
                for w in range(V):
                    db[w] += scale * row[w]
        part_loss[p] = loss


@nb.njit(cache=True, nogil=True, fastmath=True)
def adagrad_rows(out_w, grad, acc, out_b, db, acc_b, use_bias, rate, p0, p1, parts):
    """Row-wise AdaGrad on the output rows of parts p0..p1−1 (of `parts` contiguous parts of the vocabulary):

    a_w ← a_w + |g_w|²/dim,  u_w ← u_w − rate·g_w/√(a_w + ε);  with use_bias, per word, a'_w ← a'_w + db_w²,
    b_w ← b_w − rate·db_w/√(a'_w + ε). g = dU (grad), db the bias gradient; a, a' float64 accumulators.
    """
    V, dim = out_w.shape
    eps = 1e-12
    for w in range(V * p0 // parts, V * p1 // parts):
        g = grad[w]
        sq = 0.0
        for t in range(dim):
            sq += g[t] * g[t]
        acc[w] += sq / dim
        step = np.float32(rate / np.sqrt(acc[w] + eps))
        u = out_w[w]
        for t in range(dim):
            u[t] -= step * g[t]
        if use_bias:
            acc_b[w] += db[w] * db[w]
            out_b[w] -= np.float32(rate / np.sqrt(acc_b[w] + eps)) * db[w]


class PartThreads:
    """Runs fn(p0, p1) over the parts 0..parts−1 split into one contiguous range per thread: the calling thread
    takes the first range, helper threads the others, and the call returns when all are done.

    The helpers wait on blocking queues between calls. (A Numba prange loop runs on an OpenMP pool whose threads
    spin for a while after each loop; on a small machine they then take cores from BLAS's threads during the
    matrix products that follow: measured, about 40% more CPU time per block.)
    """

    def __init__(self, threads, parts):
        self.ranges = [(parts * t // threads, parts * (t + 1) // threads) for t in range(threads)]
        self._tasks = [queue.SimpleQueue() for _ in self.ranges[1:]]
        self._done = queue.SimpleQueue()
        for tasks in self._tasks:
            threading.Thread(target=self._helper, args=(tasks,), daemon=True).start()

    def _helper(self, tasks):
        while True:
            job = tasks.get()
            if job is None:
                return
            fn, p0, p1 = job
            job = None
            try:
                fn(p0, p1)
                fn = None  # holds the block's buffers
                self._done.put(None)
            except BaseException as e:  # re-raised by the calling thread
                fn = None
                self._done.put(e)

    def run(self, fn):
        for tasks, (p0, p1) in zip(self._tasks, self.ranges[1:]):
            tasks.put((fn, p0, p1))
        error = None
        try:
            fn(*self.ranges[0])
        except BaseException as e:
            error = e
        for _ in self._tasks:  # wait for every helper, even after an error: they write the shared buffers
            e = self._done.get()
            error = error or e
        if error is not None:
            raise error

    def close(self):
        for tasks in self._tasks:
            tasks.put(None)
        self._tasks = []


def _gemm_into(c, alpha, a, b, beta=0.0, trans_a=0, trans_b=0):
    """c ← alpha·op(a) op(b) + beta·c in place (all Fortran-ordered views of the C-ordered buffers)."""
    out = sgemm(alpha, a, b, beta=beta, c=c, trans_a=trans_a, trans_b=trans_b, overwrite_c=1)
    if out.ctypes.data != c.ctypes.data:  # sgemm would have copied c: the update would be lost
        raise RuntimeError("sgemm did not write in place")


# The output rows' AdaGrad rate at the start of training (it falls with the learning-rate schedule); chosen on
# in-sample and held-out likelihood over a grid, on two corpora (docs/objectives.md, Full softmax's step).
ADAGRAD_RATE = 0.1


class BlockedSoftmax:
    """Trains chunks of the id stream with full softmax on blocks of rows.

    The input rows take plain SGD steps, −lr·dH_r, like word2vec's. The output rows take one of two steps:

    "adagrad" (the default): row-wise AdaGrad on the block's summed gradient (adagrad_rows) at the rate
    ADAGRAD_RATE·lr/alpha. A frequent word's row collects p_w·h from every row of the block and a rare word's
    little; AdaGrad scales each row's step by its own gradients' history, so rare words' rows move as much as
    frequent ones' and no step grows with the block's size. Its sums (state) continue in a resumed run.
    "sgd": plain SGD on the summed gradient, whose curvature grows with the number of examples it sums; it is
    stable while the output step stays below about c/(examples in the block), so the step is min(lr, c/examples):
    word2vec-style, but slow to converge (rare words' rows barely move).

    Blocks hold `rows` rows; the row pass runs on `threads` threads (default: all cores), the matrix products on
    BLAS's.
    """

    def __init__(self, arch, in_w, out_w, out_b, use_bias, alpha, step="adagrad", state=None, c=1.0, rows=256,
                 threads=None):
        self.arch = arch
        self.in_w, self.out_w, self.out_b = in_w, out_w, out_b
        for a in (in_w, out_w, out_b):
            if a.dtype != np.float32 or not a.flags.c_contiguous:
                raise ValueError("weights must be C-contiguous float32 arrays (updated in place)")
        if step not in SOFTMAX_STEPS:
            raise ValueError(f"unknown output step {step!r}")
        self.use_bias = use_bias
        self.alpha = alpha
        self.step = step
        self.c = c
        self.rows = rows
        vocab_size, dim = out_w.shape
        self.h = np.empty((rows, dim), np.float32)
        self.dh = np.empty((rows, dim), np.float32)
        self.scores = np.empty((rows, vocab_size), np.float32)
        self.row_scale = np.empty(rows, np.float32)
        self.db_parts = np.zeros((ROW_PARTS, vocab_size), np.float32)
        self.part_loss = np.zeros(ROW_PARTS)
        if step == "adagrad":
            self.out_grad = np.empty((vocab_size, dim), np.float32)
            state = state or {}
            self.sums = tuple(np.array(state.get(name, np.zeros(vocab_size)), np.float64)
                              for name in ("adagrad_output", "adagrad_bias"))
            if any(a.shape != (vocab_size,) for a in self.sums):
                raise ValueError("the AdaGrad sums do not fit the vocabulary")
        self.threads = PartThreads(min(available_cores(), ROW_PARTS) if threads is None else threads, ROW_PARTS)
        weakref.finalize(self, self.threads.close)

    def optimizer_state(self):
        """The AdaGrad sums a resumed run continues from (copies), {} for "sgd"."""
        if self.step != "adagrad":
            return {}
        return dict(adagrad_output=self.sums[0].copy(), adagrad_bias=self.sums[1].copy())

    def block_end(self, tg_off, r0, lr):
        return min(r0 + self.rows, tg_off.shape[0] - 1)

    def train_chunk(self, stream, start, end, lr_start, lr_end, window, fixed_window, keep_prob, state):
        """Train stream[start:end] in blocks of rows; adds (loss, examples) to state.tally. Returns the rows."""
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
            n = r1 - r0
            h, dh, s = self.h[:n], self.dh[:n], self.scores[:n]
            gather_inputs(self.in_w, in_off, in_ids, r0, r1, h)
            self.scores_into(h, s)
            loss += self.row_pass(s, tg_off, tg_ids, r0)
            self.input_gradient_into(s, dh)
            self.update_output(s, h, lr, tg_off[r1] - tg_off[r0])
            scatter_inputs(self.in_w, in_off, in_ids, r0, r1, dh, -lr)
            r0 = r1
        state.tally[0] += loss
        state.tally[1] += tg_ids.shape[0]
        return rows

    def row_pass(self, s, tg_off, tg_ids, r0):
        """softmax_rows over all parts of the block s (rows r0, ...), on self.threads; returns the block's loss."""
        args = (s, self.h[:s.shape[0]], self.out_w, self.out_b, self.use_bias, tg_off, tg_ids, r0, self.row_scale,
                self.db_parts, self.part_loss)
        self.threads.run(lambda p0, p1: softmax_rows(*args, p0, p1))
        return self.part_loss.sum()

    def close(self):
        """Stop the row pass's helper threads."""
        self.threads.close()

    def scores_into(self, h, s):
        """s ← H Uᵀ."""
        _gemm_into(s.T, 1.0, self.out_w.T, h.T, trans_a=1)

    def input_gradient_into(self, s, dh):
        """dh ← dH = diag(c) E' U (s holds E', row_scale holds c)."""
        _gemm_into(dh.T, 1.0, self.out_w.T, s.T)
        dh *= self.row_scale[:dh.shape[0], None]

    def update_output(self, s, h, lr, examples):
        """The output step (see the class) from E' (s) and H (h, scaled in place by c): dU = E'ᵀ diag(c) H."""
        h *= self.row_scale[:h.shape[0], None]
        if self.step == "adagrad":
            _gemm_into(self.out_grad.T, 1.0, h.T, s.T, trans_b=1)
            db = self.db_parts.sum(axis=0) if self.use_bias else self.out_b
            rate = ADAGRAD_RATE * lr / self.alpha if self.alpha > 0 else 0.0  # lr ≤ α: α = 0 takes no step
            args = (self.out_w, self.out_grad, self.sums[0], self.out_b, db, self.sums[1], self.use_bias, rate)
            self.threads.run(lambda p0, p1: adagrad_rows(*args, p0, p1, ROW_PARTS))
            return
        lr_out = min(lr, self.c / examples)  # U ← U − lr_out·dU, b ← b − lr_out·db
        _gemm_into(self.out_w.T, -lr_out, h.T, s.T, beta=1.0, trans_b=1)
        if self.use_bias:
            self.out_b -= np.float32(lr_out) * self.db_parts.sum(axis=0)
