"""The blocked full softmax against a float64 NumPy reference of its minibatch steps, and its float32 exp."""
import numpy as np
import pytest

from w2v_nce.kernels.blocked import ADAGRAD_RATE, BlockedSoftmax
from w2v_nce.kernels.loop import CBOW, SKIPGRAM
from w2v_nce.objectives.base import new_thread_state
from w2v_nce.core.rng import new_state
from w2v_nce.kernels.rows import collect_rows
from w2v_nce.prepare.stream import SENTINEL
from w2v_nce.core.vecops import exp32


def reference_steps(arch, stream, window, in_w, out_w, out_b, use_bias, lr, c, block_rows, seed, step="sgd"):
    """The blocks' steps in float64, one after another (rows from the same pair generation): SGD on the input
    rows; on the output rows SGD at min(lr, c/examples) ("sgd") or row-wise AdaGrad at ADAGRAD_RATE (lr = α).

    Returns (in_w, out_w, out_b, summed loss, examples)."""
    keep = np.ones(out_w.shape[0], np.float32)
    in_off, in_ids, tg_off, tg_ids, _ = collect_rows(arch, stream, 0, len(stream), window, True, keep,
                                                     np.zeros(1000, np.int32), new_state(seed), 1000)
    V_in, U, b = in_w.astype(np.float64), out_w.astype(np.float64), out_b.astype(np.float64)
    sum_u, sum_b = np.zeros(U.shape[0]), np.zeros(U.shape[0])
    rows = in_off.shape[0] - 1
    loss = 0.0
    for r0 in range(0, rows, block_rows):
        r1 = min(rows, r0 + block_rows)
        H = np.array([V_in[in_ids[in_off[r]:in_off[r + 1]]].mean(axis=0) for r in range(r0, r1)])
        S = H @ U.T + (b if use_bias else 0.0)
        Y = np.zeros_like(S)
        for r in range(r0, r1):
            np.add.at(Y[r - r0], tg_ids[tg_off[r]:tg_off[r + 1]], 1.0)
        n = Y.sum(axis=1)
        top = S.max(axis=1, keepdims=True)
        log_z = (top + np.log(np.exp(S - top).sum(axis=1, keepdims=True)))[:, 0]
        loss += float((n * log_z).sum() - (Y * S).sum())
        G = n[:, None] * np.exp(S - log_z[:, None]) - Y
        dH, dU, db = G @ U, G.T @ H, G.sum(axis=0)
        if step == "adagrad":  # a_w += |g_w|²/dim, u_w −= η g_w/√a_w; per bias a'_w += db_w², b_w −= η db_w/√a'_w
            sum_u += (dU ** 2).sum(axis=1) / U.shape[1]
            U -= ADAGRAD_RATE * dU / np.sqrt(sum_u + 1e-12)[:, None]
            if use_bias:
                sum_b += db ** 2
                b -= ADAGRAD_RATE * db / np.sqrt(sum_b + 1e-12)
        else:
            lr_out = min(lr, c / (tg_off[r1] - tg_off[r0]))
            U -= lr_out * dU
            if use_bias:
                b -= lr_out * db
        for r in range(r0, r1):
            for q in range(in_off[r], in_off[r + 1]):
                V_in[in_ids[q]] -= lr * dH[r - r0]
    return V_in, U, b, loss, tg_ids.shape[0]


def sentence_stream(rng, V, lengths):
    parts = []
    for n in lengths:
        parts.extend(rng.integers(0, V, size=n).tolist())
        parts.append(SENTINEL)
    return np.array(parts, np.int32)


@pytest.mark.parametrize("arch", [SKIPGRAM, CBOW])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("V,dim,block_rows,c,step", [(37, 8, 1000, 1e9, "sgd"), (300, 20, 7, 1e9, "sgd"),
                                                     (300, 20, 16, 0.5, "sgd"), (37, 8, 1000, 1e9, "adagrad"),
                                                     (300, 20, 7, 1e9, "adagrad")])
def test_blocked_steps_equal_the_float64_reference(arch, use_bias, V, dim, block_rows, c, step):
    rng = np.random.default_rng(V + dim + block_rows)
    stream = sentence_stream(rng, V, [25, 1, 40, 9])
    in_w = (rng.standard_normal((V, dim)) * 0.5).astype(np.float32)
    out_w = (rng.standard_normal((V, dim)) * 0.5).astype(np.float32)
    out_b = (rng.standard_normal(V) * 0.3).astype(np.float32) if use_bias else np.zeros(V, np.float32)
    lr, window, seed = 0.05, 3, 7
    want = reference_steps(arch, stream, window, in_w, out_w, out_b, use_bias, lr, c, block_rows, seed, step)
    model = BlockedSoftmax(arch, in_w, out_w, out_b, use_bias, lr, step, c=c, rows=block_rows)  # α = lr: η = rate
    state = new_thread_state(dim, 1000, 1, 1, new_state(seed))
    model.train_chunk(stream, 0, len(stream), lr, lr, window, True, np.ones(V, np.float32), state)
    for got, expected in zip((in_w, out_w, out_b), want[:3]):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=2e-6)
    assert state.tally[0] == pytest.approx(want[3], rel=1e-5)
    assert state.tally[1] == want[4]


def test_saturated_scores_give_finite_steps():
    """Scores hundreds of nats apart: the row pass shifts them by the maximum (all 50 words are among the
    frequent ones it looks at), the loss and the step stay exact."""
    V, dim = 50, 4
    in_w = np.zeros((V, dim), np.float32)
    in_w[:, 0] = 10.0
    out_w = np.zeros((V, dim), np.float32)
    out_w[:, 0] = np.linspace(-40.0, 40.0, V, dtype=np.float32)  # scores −400 … 400
    assert_steps_of_one_block_are_exact(np.array([0, 1, SENTINEL], np.int32), in_w, out_w)


def assert_steps_of_one_block_are_exact(stream, in_w, out_w):
    """Skip-gram on `stream` (window 1, with a zero bias) in one block: finite loss, the reference's steps."""
    V, dim = out_w.shape
    out_b = np.zeros(V, np.float32)
    want = reference_steps(SKIPGRAM, stream, 1, in_w, out_w, out_b, True, 0.01, 1e9, 10, 1)
    model = BlockedSoftmax(SKIPGRAM, in_w, out_w, out_b, True, 0.01, "sgd", c=1e9)
    state = new_thread_state(dim, 1000, 1, 1, new_state(1))
    model.train_chunk(stream, 0, len(stream), 0.01, 0.01, 1, True, np.ones(V, np.float32), state)
    assert np.isfinite(state.tally[0]) and state.tally[0] == pytest.approx(want[3], rel=1e-6)
    for got, expected in zip((in_w, out_w, out_b), want[:3]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_exp32_relative_error_and_clamping():
    import numba as nb

    @nb.njit(fastmath=True)
    def exp_all(x, out):
        for i in range(x.shape[0]):
            out[i] = exp32(x[i])

    x = np.linspace(-87.0, 88.0, 1_000_003).astype(np.float32)
    out = np.empty_like(x)
    exp_all(x, out)
    want = np.exp(x.astype(np.float64))
    assert np.max(np.abs(out - want) / want) < 5e-7
    exp_all(np.array([-1e4, -87.0, 0.0, 1e4, 88.0], np.float32), out[:5])
    assert out[0] == out[1] == pytest.approx(np.exp(-87.0), rel=5e-7)  # clamped below at −87
    assert out[2] == 1.0 and out[3] == out[4] == pytest.approx(np.exp(88.0), rel=5e-7)  # and above at 88


def test_a_maximum_far_above_the_frequent_words_is_computed_again_from_it():
    """The row's exponentials are shifted by the largest score among the most frequent words; a rare word
    scoring far above them (here by about 400 nats) makes the row be computed again, shifted by the maximum."""
    from w2v_nce.kernels.blocked import SHIFT_SLACK, SHIFT_WORDS

    V, dim = SHIFT_WORDS + 44, 4
    in_w = np.zeros((V, dim), np.float32)
    in_w[:, 0] = 10.0
    out_w = np.zeros((V, dim), np.float32)
    out_w[:, 0] = np.linspace(-1.0, 1.0, V, dtype=np.float32)
    out_w[V - 1, 0] = 40.0  # score 400, the frequent words' at most about 10
    assert 400 - 10 > SHIFT_SLACK + np.log(V)
    assert_steps_of_one_block_are_exact(np.array([0, V - 1, 5, SENTINEL], np.int32), in_w, out_w)
