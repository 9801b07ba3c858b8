"""Pair generation and the architecture loop, checked example by example with a recording objective."""
import numpy as np
import pytest
from scipy import stats

from w2v_nce.kernels.loop import CBOW, SKIPGRAM, train_chunk
from w2v_nce.kernels.noise import draw_many
from w2v_nce.objectives.base import empty_noise_tables, new_thread_state, objective
from w2v_nce.core.rng import new_state
from w2v_nce.prepare.stream import SENTINEL
from w2v_nce.kernels.window import read_sentence, sentence_pairs


@objective
def record_examples(h, target, lr, out_w, out_b, use_bias, noise, state):
    """Writes (h[0], target, lr, its first noise word) of each example into state.work; state.ids[0] counts
    the examples."""
    m = state.ids[0]
    state.work[4 * m] = h[0]
    state.work[4 * m + 1] = target
    state.work[4 * m + 2] = lr
    state.work[4 * m + 3] = state.noise_ids[0]
    state.ids[0] = m + 1
    return 1.0


NOISE_WORDS = 1000  # the recording loop's noise: uniform over 1000 words


def run_loop(sentences, arch, window, fixed=True, lr=(0.5, 0.5), shared=False, noise_seed=1):
    """Run train_chunk with the recording objective; input vector of word c has first component c."""
    stream = []
    for s in sentences:
        stream += list(s) + [SENTINEL]
    stream = np.array(stream, dtype=np.int32)
    stream.setflags(write=False)
    vocab = max(max(s) for s in sentences) + 1
    in_w = np.zeros((vocab, 4), np.float32)
    in_w[:, 0] = np.arange(vocab)
    out_w = np.zeros((max(vocab, NOISE_WORDS), 4), np.float32)
    state = new_thread_state(4, 1000, 4 * 1000, 1, new_state(1), k=1, noise_rng=new_state(noise_seed))
    tables = empty_noise_tables(1, np.full(NOISE_WORDS, 1.0), np.arange(NOISE_WORDS, dtype=np.int32),
                                np.full(NOISE_WORDS, -np.log(NOISE_WORDS)))
    train_chunk(record_examples, None, None, arch, stream, 0, len(stream), lr[0], lr[1], window, fixed,
                np.ones(vocab, np.float32), in_w, out_w, np.zeros(vocab, np.float32), False, tables, state, shared,
                False, None)
    m = state.ids[0]
    rec = state.work[:4 * m].reshape(m, 4)
    assert state.tally.tolist() == [m, m]  # loss sum and example count reach the tally
    return rec


def test_exact_skipgram_pairs_fixed_window():
    assert sentence_pairs([0, 1, 2, 3], window=1) == [(1, 0), (0, 1), (2, 1), (1, 2), (3, 2), (2, 3)]
    assert sentence_pairs([5, 6, 7], window=2) == [(6, 5), (7, 5), (5, 6), (7, 6), (5, 7), (6, 7)]
    assert sentence_pairs([4], window=3) == []


def test_skipgram_loop_trains_exactly_the_pairs_of_each_sentence():
    sentences = [[0, 1, 2, 3], [4, 5], [6]]
    rec = run_loop(sentences, SKIPGRAM, window=1)
    got = [(int(c), int(t)) for c, t, *_ in rec]
    # no pair crosses a sentence boundary (3 and 4 are neighbours in the stream)
    assert got == [(1, 0), (0, 1), (2, 1), (1, 2), (3, 2), (2, 3), (5, 4), (4, 5)]


def test_skipgram_loop_matches_sentence_pairs_with_dynamic_window():
    sent = [3, 1, 4, 10, 5, 9, 2, 6, 8, 0, 7]  # distinct words: a target's position is known
    rec = run_loop([sent], SKIPGRAM, window=3, fixed=False)
    got = [(int(c), int(t)) for c, t, *_ in rec]
    # the loop's generator is seeded like sentence_pairs(seed=1): same draws, same pairs
    assert got == sentence_pairs(sent, 3, fixed_window=False, seed=1)
    for c, t in got:
        i = sent.index(t)
        assert any(sent[j] == c for j in range(max(0, i - 3), min(len(sent), i + 4)) if j != i)


def test_noise_is_drawn_per_example_or_once_per_target():
    """k = 1: per example, example e reads the e-th draw of the noise generator; with shared negatives, every
    example of the i-th target reads the i-th draw. The pairs do not depend on the noise draws."""
    sent = list(range(12))  # word i at position i
    per = run_loop([sent], SKIPGRAM, window=2, noise_seed=7)
    shared = run_loop([sent], SKIPGRAM, window=2, shared=True, noise_seed=7)
    draws = draw_many(np.ones(NOISE_WORDS), np.arange(NOISE_WORDS, dtype=np.int32), new_state(7), 100)
    assert per[:, 3].tolist() == draws[:len(per)].tolist()
    assert shared[:, 3].tolist() == [draws[int(t)] for t in shared[:, 1]]
    np.testing.assert_array_equal(per[:, :3], shared[:, :3])
    cbow = run_loop([sent], CBOW, window=2, noise_seed=7)
    assert cbow[:, 3].tolist() == draws[:len(sent)].tolist()


def test_cbow_loop_uses_the_mean_of_the_window():
    sent = [2, 4, 8, 16]
    rec = run_loop([sent], CBOW, window=1)
    assert rec[:, 1].tolist() == sent
    np.testing.assert_allclose(rec[:, 0], [4, (2 + 8) / 2, (4 + 16) / 2, 8])


def test_learning_rate_falls_linearly_across_the_chunk():
    rec = run_loop([[0, 1, 2, 3]] * 50, SKIPGRAM, window=1, lr=(0.1, 0.0))
    lrs = rec[::6, 2]
    assert lrs[0] == pytest.approx(0.1) and np.all(np.diff(lrs) < 0) and lrs[-1] > 0
    np.testing.assert_allclose(np.diff(lrs), np.diff(lrs)[0], rtol=1e-4)


def test_dynamic_window_is_uniform_on_1_to_window():
    window = 4
    sent = list(range(60))
    pairs = sentence_pairs(sent, window, fixed_window=False, seed=3)
    # the middle positions see 2·b contexts; b must be uniform on 1..window
    per_target = np.bincount([t for _, t in pairs], minlength=60)[window:-window] // 2
    counts = np.bincount(per_target, minlength=window + 1)[1:]
    assert counts.sum() == 60 - 2 * window and np.all(counts > 0)
    many = np.concatenate([
        np.bincount([t for _, t in sentence_pairs(sent, window, False, seed=s)], minlength=60)[window:-window] // 2
        for s in range(200)])
    observed = np.bincount(many, minlength=window + 1)[1:]
    assert stats.chisquare(observed).pvalue > 1e-4


def test_subsampling_keeps_each_word_with_its_probability():
    keep = np.array([1.0, 0.3, 0.05], np.float32)
    n = 900
    stream = np.array(([0, 1, 2] * (n // 3)) + [SENTINEL], dtype=np.int32)
    stream.setflags(write=False)
    sent = np.zeros(1000, np.int32)
    rng = new_state(5)
    kept = np.zeros(3, np.int64)
    reps = 300
    for _ in range(reps):
        m, pos = read_sentence(stream, 0, len(stream), keep, sent, rng)
        assert pos == len(stream)
        kept += np.bincount(sent[:m], minlength=3)
    trials = reps * n // 3
    assert kept[0] == trials
    for w in (1, 2):
        assert stats.binomtest(int(kept[w]), trials, float(keep[w])).pvalue > 1e-4


def test_thread_states_share_no_cache_line():
    """Per-thread arrays are written constantly: no two of them, of one thread or of two, touch one cache line."""
    states = [new_thread_state(100, 1000, 50, 6, new_state(1, t), k=5, hot_first=10, hot_rows=3) for t in range(2)]
    lines = []
    for state in states:
        for a in (*state[:-1], *state.hot):  # the private copies of hot rows too
            first = a.ctypes.data // 64
            lines.append(set(range(first, (a.ctypes.data + a.nbytes - 1) // 64 + 1)))
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            assert not lines[i] & lines[j]
