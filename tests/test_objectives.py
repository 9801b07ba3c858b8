"""One objective step against a float64 NumPy reference, and the reference against finite differences.

The kernels apply an example's steps one after another (as word2vec and fastText do); when the words an example
touches are distinct, that equals the exact gradient step, which is what the references compute.
"""
import numpy as np
import pytest

import reference as ref
from w2v_nce.kernels.huffman import HuffmanTree
from w2v_nce.kernels.loop import CBOW, SKIPGRAM
from w2v_nce.kernels.objective_loops import CHUNK_TRAINERS
from w2v_nce.kernels.noise import NoiseDistribution, draw_many
from w2v_nce.objectives import OBJECTIVES
from w2v_nce.objectives.base import MAX_SCORE, empty_noise_tables, new_thread_state, with_tree
from w2v_nce.objectives.window import CBOW_WINDOWS, window_scratch
from w2v_nce.core.rng import new_state
from w2v_nce.prepare.stream import SENTINEL

V, DIM, K = 40, 8, 5
OBJECTIVE_NAMES = ["ns", "nce", "infonce", "hs", "softmax"]
SAMPLED = {"ns", "nce", "infonce"}


def make_model(rng, use_bias, n_in=V):
    h = (rng.standard_normal(DIM) * 0.5).astype(np.float32)
    in_w = (rng.standard_normal((n_in, DIM)) * 0.5).astype(np.float32)
    U = (rng.standard_normal((V, DIM)) * 0.5).astype(np.float32)
    b = (rng.standard_normal(V) * 0.3).astype(np.float32) if use_bias else np.zeros(V, np.float32)
    return h, in_w, U, b


class Setup:
    """Noise distribution, Huffman tree and the NoiseTables the kernels read."""

    def __init__(self, seed=3):
        self.counts = np.sort(np.random.default_rng(seed).integers(1, 1000, size=V))[::-1]
        self.noise = NoiseDistribution(self.counts, 0.75)
        self.tree = HuffmanTree(self.counts)
        self.tables = with_tree(empty_noise_tables(K, self.noise.alias_prob, self.noise.alias_idx,
                                                   self.noise.log_q), self.tree)

    def draws(self, state_seed, n):
        return draw_many(self.noise.alias_prob, self.noise.alias_idx, new_state(state_seed), n)

    def reference(self, name, h, U, b, target, noise_words):
        """(loss, dL/dh, dL/dU, dL/db) of one example in float64."""
        if name == "ns":
            return ref.negative_sampling(h, U, b, target, noise_words)
        if name == "nce":
            return ref.nce(h, U, b, target, noise_words, self.noise.log_q, K)
        if name == "infonce":
            return ref.infonce(h, U, b, target, noise_words, self.noise.log_q)
        if name == "hs":
            n = self.tree.lengths[target]
            return ref.hierarchical_softmax(h, U, b, self.tree.points[target, :n], self.tree.codes[target, :n])
        return ref.softmax(h, U, b, target)


@pytest.fixture(scope="module")
def setup():
    return Setup()


def distinct_seed(setup, targets):
    """A seed whose draws (K per example, in order) are distinct within each example and differ from its target."""
    for seed in range(5000):
        d = setup.draws(seed, K * len(targets)).reshape(len(targets), K)
        if all(len(set(row.tolist()) | {t}) == K + 1 for row, t in zip(d, targets)):
            return seed, d
    raise AssertionError("no seed with distinct draws")


def state_for(noise_words=None, sentence=10, noise_seed=1, k=K):
    """A thread state whose current noise words (the ones the sampling objectives read) are noise_words."""
    state = new_thread_state(DIM, sentence, V, K + 1, new_state(1), k=k, noise_rng=new_state(noise_seed))
    if noise_words is not None:
        state.noise_ids[:len(noise_words)] = noise_words
    return state


def f64(*arrays):
    return [a.astype(np.float64) for a in arrays]


@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("name", OBJECTIVE_NAMES)
def test_one_step_equals_the_float64_reference(setup, rng, name, use_bias):
    h, _, U, b = make_model(rng, use_bias)
    target, lr = 7, 0.05
    seed, noise = distinct_seed(setup, [target])
    noise = noise[0]
    state = state_for(noise)
    U1, b1 = U.copy(), b.copy()
    loss = OBJECTIVES[name].function(h.copy(), target, lr, U1, b1, use_bias, setup.tables, state)
    h64, U64, b64 = f64(h, U, b)
    rloss, gh, gU, gb = setup.reference(name, h64, U64, b64 if use_bias else None, target, noise)
    assert loss == pytest.approx(rloss, rel=1e-5)
    np.testing.assert_allclose(state.dh, -lr * gh, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(U1, U64 - lr * gU, rtol=1e-5, atol=1e-6)
    if use_bias:
        np.testing.assert_allclose(b1, b64 - lr * gb, rtol=1e-5, atol=1e-6)
    else:
        assert np.all(b1 == 0)


@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("name", OBJECTIVE_NAMES)
def test_reference_gradient_matches_finite_differences(setup, rng, name, use_bias):
    h, _, U, b = f64(*make_model(rng, use_bias))
    b = b if use_bias else None
    target, noise = 3, np.array([5, 9, 9, 11, 3])  # repeats and the target itself among the draws

    def loss(h_, U_, b_):
        return setup.reference(name, h_, U_, b_, target, noise)[0]

    _, gh, gU, gb = setup.reference(name, h, U, b, target, noise)
    fh, fU, fb = ref.finite_difference_check(loss, h, U, b)
    np.testing.assert_allclose(gh, fh, atol=1e-7)
    np.testing.assert_allclose(gU, fU, atol=1e-7)
    if use_bias:
        np.testing.assert_allclose(gb, fb, atol=1e-7)


@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("name", ["ns", "nce", "hs"])
def test_scores_computed_first_equal_one_step_at_a_time(setup, rng, name, use_bias):
    """With room for 2 values per step in state.work the scores (k+1, or the path's) are computed before the
    steps; a word met again (repeated draws, a draw equal to the target) is scored after its earlier step: bit
    for bit the steps taken one at a time (as without that room)."""
    assert 2 * setup.tree.lengths[3] <= V
    h, _, U, b = make_model(rng, use_bias)
    target, noise = 3, np.array([5, 9, 9, 11, 3])
    results = []
    for work_size in (V, 1):
        state = new_thread_state(DIM, 10, work_size, K + 1, new_state(1), k=K)
        state.noise_ids[:K] = noise
        U1, b1 = U.copy(), b.copy()
        loss = OBJECTIVES[name].function(h, target, 0.5, U1, b1, use_bias, setup.tables, state)
        results.append((loss, state.dh.copy(), U1, b1))
    (loss_first, dh_first, U_first, b_first), (loss_one, dh_one, U_one, b_one) = results
    assert loss_first == loss_one
    assert np.array_equal(dh_first, dh_one) and np.array_equal(U_first, U_one) and np.array_equal(b_first, b_one)
    assert not np.array_equal(U_first, U)


def test_nce_shift_is_log_k_q(setup, rng):
    """With all scores zero, NCE's loss is exactly Σ log(1 + e^{±log(kQ(w))})."""
    h = np.zeros(DIM, np.float32)
    U = np.zeros((V, DIM), np.float32)
    b = np.zeros(V, np.float32)
    seed, noise = distinct_seed(setup, [0])
    state = state_for(noise[0])
    loss = OBJECTIVES["nce"].function(h, 0, 0.1, U, b, True, setup.tables, state)
    log_kq = np.log(K) + setup.noise.log_q
    expected = np.log1p(np.exp(log_kq[0])) + np.log1p(np.exp(-log_kq[noise[0]])).sum()
    assert loss == pytest.approx(expected, rel=1e-9)


def test_saturated_scores_are_clipped_not_skipped(setup):
    h = np.full(DIM, 1.0, np.float32)
    U = np.full((V, DIM), 10.0, np.float32)  # every score is 80: far beyond the clip
    b = np.zeros(V, np.float32)
    seed, noise = distinct_seed(setup, [0])
    state = state_for(noise[0])
    loss = OBJECTIVES["ns"].function(h, 0, 0.1, U, b, False, setup.tables, state)
    # each negative contributes log(1 + e^20) (clipped), not 0 and not inf; its row still moves
    assert loss == pytest.approx(K * np.log1p(np.exp(MAX_SCORE)) + np.log1p(np.exp(-MAX_SCORE)), rel=1e-6)
    sig = 1.0 / (1.0 + np.exp(-MAX_SCORE))
    for w in noise[0]:
        np.testing.assert_allclose(U[w], 10.0 - 0.1 * sig * h, rtol=1e-6)
    assert np.all(np.isfinite(state.dh)) and np.all(state.dh < 0)


def test_loss_of_many_saturated_steps_is_summed_without_overflow(setup):
    """The steps' factors e^L are multiplied and folded into a log before the product overflows."""
    k = 300  # 300 factors of 1 + e^20 would be about 1e2600
    tables = setup.tables._replace(k=np.int64(k))
    h = np.full(DIM, 1.0, np.float32)
    U = np.full((V, DIM), 10.0, np.float32)
    state = state_for(np.arange(k) % V, k=k)
    loss = OBJECTIVES["ns"].function(h, 0, 0.0, U, np.zeros(V, np.float32), False, tables, state)
    assert loss == pytest.approx(k * np.log1p(np.exp(MAX_SCORE)) + np.log1p(np.exp(-MAX_SCORE)), rel=1e-9)


@pytest.mark.parametrize("arch", ["sg", "sg-shared", "sg-window", "cbow", "cbow-batch"])
@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("name", OBJECTIVE_NAMES)
def test_architecture_loop_applies_reference_steps(setup, rng, name, arch, use_bias):
    """A whole sentence through the objective's loop equals the reference applied example by example, in loop order;
    with windows as minibatches (sg-window: ns, nce, infonce, hs), the reference steps of a window's examples all
    taken at the window's start values and added; with CBOW minibatches (cbow-batch: ns, nce, infonce), the positions
    visited from CBOW_WINDOWS equal stretches of the sentence in turn and each CBOW_WINDOWS windows so visited one
    minibatch.

    The noise words come from the state's noise generator, K per example (sg) or per target (sg-shared, sg-window,
    cbow) or per minibatch (cbow-batch), in order.
    """
    cbow = arch.startswith("cbow")
    batched = (arch == "sg-window" and OBJECTIVES[name].window_form) or (arch == "cbow-batch"
                                                                         and OBJECTIVES[name].cbow_batch_form)
    sentence = [4, 17, 9, 30, 12, 25, 7] if arch == "cbow-batch" else [4, 17, 9, 30]  # distinct words
    n, window = len(sentence), 1
    if arch == "cbow-batch" and batched:  # 3 stretches of 3, 3 and 1 positions: 0, 3, 6, 1, 4, 2, 5
        stretch = -(-n // CBOW_WINDOWS)
        order = [i for i in (s % CBOW_WINDOWS * stretch + s // CBOW_WINDOWS for s in range(CBOW_WINDOWS * stretch))
                 if i < n]
    else:
        order = list(range(n))
    examples = []  # (context words, target, index of its noise draws) in the loop's order
    for i in order:
        ctx = [sentence[j] for j in range(max(0, i - window), min(n, i + window + 1)) if j != i]
        if cbow:
            examples.append((ctx, sentence[i], len(examples) // CBOW_WINDOWS if batched else i))
        else:
            for c in ctx:
                examples.append(([c], sentence[i], len(examples) if arch == "sg" else i))
    groups = sorted({g: t for _, t, g in examples}.items())
    seed, draws = distinct_seed(setup, [t for _, t in groups]) if name in SAMPLED else (1, None)
    _, in_w, U, b = make_model(rng, use_bias)
    lr = 0.05
    stream = np.array(sentence + [SENTINEL], np.int32)
    stream.setflags(write=False)
    h_size, work_size, ids_size = window_scratch(DIM, window, max(K + 1, setup.tree.points.shape[1]))
    state = new_thread_state(DIM, 16, max(V, work_size), max(K + 1, ids_size), new_state(1), k=K,
                             noise_rng=new_state(seed), h_size=h_size)
    in1, U1, b1 = in_w.copy(), U.copy(), b.copy()
    CHUNK_TRAINERS[name](CBOW if cbow else SKIPGRAM, (stream, 0, len(stream), lr, lr), (in1, U1, b1),
                         (window, True, np.ones(V, np.float32), use_bias, arch != "sg",
                          arch in ("sg-window", "cbow-batch")),
                         setup.tables, state)
    in64, U64, b64 = f64(in_w, U, b)
    total = 0.0
    for group, _ in groups:
        start = (in64.copy(), U64.copy(), b64.copy())  # a minibatch reads its start values
        for ctx, target, g in [e for e in examples if e[2] == group]:
            in_r, U_r, b_r = start if batched else (in64, U64, b64)
            loss, gh, gU, gb = setup.reference(name, in_r[ctx].mean(axis=0), U_r, b_r if use_bias else None,
                                               target, draws[g] if draws is not None else None)
            total += loss
            U64 -= lr * gU
            if use_bias:
                b64 -= lr * gb
            for c in ctx:
                in64[c] -= lr * gh
    assert state.tally[0] == pytest.approx(total, rel=1e-5)
    assert state.tally[1] == len(examples)
    np.testing.assert_allclose(in1, in64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(U1, U64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b1, b64, rtol=1e-4, atol=1e-5)
