"""Plain float64 NumPy references of the objectives: loss and exact gradient of one example; and, at the end,
the cluster's bfloat16 difference and addition elementwise (the dense form of its sparse kernels).

Each reference takes h (dim), the output weights U (V × dim), the bias b (V, or None) and the example's words,
and returns (loss, dL/dh, dL/dU, dL/db).
"""
import numpy as np

from w2v_nce.cluster.bfloat16 import add_rows, changed_rows_into


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def scores(h, U, b, words):
    s = U[words] @ h
    if b is not None:
        s = s + b[words]
    return s


def binary_logistic_loss(h, U, b, words, labels, shifts):
    """Σ_j −y_j log σ(x_j) − (1 − y_j) log σ(−x_j), x_j = u_j·h + b_j − shift_j; gradients by accumulation."""
    words = np.asarray(words)
    labels = np.asarray(labels, dtype=np.float64)
    x = scores(h, U, b, words) - np.asarray(shifts, dtype=np.float64)
    loss = float(np.sum(-labels * log_sigmoid(x) - (1 - labels) * log_sigmoid(-x)))
    return (loss,) + accumulate(h, U, b, words, sigmoid(x) - labels)


def accumulate(h, U, b, words, gx):
    """dL/dh, dL/dU, dL/db from gx_j = dL/ds(words_j, c) (words may repeat)."""
    gh = (gx[:, None] * U[words]).sum(axis=0)
    gU = np.zeros_like(U)
    np.add.at(gU, words, gx[:, None] * h[None, :])
    gb = None
    if b is not None:
        gb = np.zeros_like(b)
        np.add.at(gb, words, gx)
    return gh, gU, gb


def negative_sampling(h, U, b, target, noise_words):
    words = np.concatenate([[target], noise_words])
    labels = np.r_[1.0, np.zeros(len(noise_words))]
    return binary_logistic_loss(h, U, b, words, labels, np.zeros(len(words)))


def finite_difference_check(loss_fn, h, U, b, eps=1e-6):
    """Central differences of loss_fn(h, U, b) in float64: returns (dL/dh, dL/dU, dL/db)."""
    def grad(x):
        g = np.zeros_like(x)
        it = np.nditer(x, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            old = x[i]
            x[i] = old + eps
            fp = loss_fn(h, U, b)
            x[i] = old - eps
            fm = loss_fn(h, U, b)
            x[i] = old
            g[i] = (fp - fm) / (2 * eps)
        return g

    return grad(h), grad(U), (grad(b) if b is not None else None)


def nce(h, U, b, target, noise_words, log_q, k):
    """Δ(w,c) = s(w,c) − log(k·Q(w)); −log σ(Δ(w,c)) − Σ_i log σ(−Δ(w_i,c))."""
    words = np.concatenate([[target], noise_words]).astype(np.int64)
    labels = np.r_[1.0, np.zeros(len(noise_words))]
    return binary_logistic_loss(h, U, b, words, labels, np.log(k) + log_q[words])


def hierarchical_softmax(h, U, b, points, codes):
    """−Σ_d log σ((1 − 2·code_d)·s(point_d, c))."""
    return binary_logistic_loss(h, U, b, np.asarray(points), 1.0 - np.asarray(codes, dtype=np.float64),
                                np.zeros(len(points)))


def _softmax_over(h, U, b, words, offsets, target_pos):
    """−ŝ_target + log Σ_j exp ŝ_j with ŝ_j = s(words_j, c) − offsets_j; gradients by accumulation."""
    x = scores(h, U, b, words) - offsets
    top = x.max()
    log_z = top + np.log(np.exp(x - top).sum())
    loss = float(log_z - x[target_pos])
    gx = np.exp(x - log_z)
    gx[target_pos] -= 1.0
    return (loss,) + accumulate(h, U, b, words, gx)


def infonce(h, U, b, target, noise_words, log_q):
    """Candidates: target, then the noise words other than the target; ŝ_j = s(x_j,c) − log Q(x_j)."""
    words = np.concatenate([[target], [w for w in noise_words if w != target]]).astype(np.int64)
    return _softmax_over(h, U, b, words, log_q[words], 0)


def softmax(h, U, b, target):
    words = np.arange(U.shape[0])
    return _softmax_over(h, U, b, words, np.zeros(U.shape[0]), target)


def difference_into(a, b, out):
    """out ← bfloat16(a − b) elementwise (1-D float32 a, b), through the cluster's changed_rows_into on one row
    holding every value; returns the count of differences that are not finite."""
    return changed_rows_into(a.reshape(1, -1), b.reshape(1, -1), np.empty(1, np.int32), out.reshape(1, -1))[1]


def add_into(rows, changes, scale):
    """rows += scale · float32(changes) elementwise (1-D), through the cluster's add_rows on one row."""
    add_rows(rows.reshape(1, -1), np.zeros(1, np.int32), changes.reshape(1, -1), scale)
