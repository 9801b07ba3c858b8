"""Thread-private copies of the hottest output rows (kernels/hot_rows.py): the merge keeps every thread's
changes, and a run through the copies trains what a run without them trains."""
import numpy as np
import pytest

import w2v_nce
from w2v_nce.core.rng import new_state
from w2v_nce.kernels.hot_rows import load_hot_rows, merge_hot_rows
from w2v_nce.objectives.base import copied_bias, new_thread_state
from w2v_nce.objectives.window import add_to_bias
from w2v_nce.training import engine


def test_a_merge_adds_this_threads_changes_and_keeps_the_others():
    rng = np.random.default_rng(0)
    out_w = rng.standard_normal((10, 4)).astype(np.float32)
    out_b = rng.standard_normal(10).astype(np.float32)
    hot = new_thread_state(4, 10, 10, 1, new_state(1), hot_first=6, hot_rows=3).hot
    load_hot_rows(out_w, out_b, True, hot)
    np.testing.assert_array_equal(hot.w, out_w[6:9])
    np.testing.assert_array_equal(hot.b, out_b[6:9])
    mine_w = rng.standard_normal((3, 4)).astype(np.float32)
    mine_b = rng.standard_normal(3).astype(np.float32)
    hot.w[:] += mine_w  # this thread's steps on its copies
    hot.b[:] += mine_b
    others_w = rng.standard_normal((10, 4)).astype(np.float32)
    before_w, before_b = out_w.copy(), out_b.copy()
    out_w += others_w  # another thread's merges meanwhile
    out_b += 1.0
    merge_hot_rows(out_w, out_b, True, hot)
    np.testing.assert_allclose(out_w[6:9], before_w[6:9] + others_w[6:9] + mine_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_b[6:9], before_b[6:9] + 1.0 + mine_b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out_w[:6], before_w[:6] + others_w[:6])  # rows that are not copied: untouched
    np.testing.assert_array_equal(out_w[9:], before_w[9:] + others_w[9:])
    np.testing.assert_array_equal(hot.w, out_w[6:9])  # starts again from the sum
    np.testing.assert_array_equal(hot.w0, out_w[6:9])
    np.testing.assert_array_equal(hot.b, out_b[6:9])
    np.testing.assert_array_equal(hot.b0, out_b[6:9])


@pytest.mark.parametrize("arch,bias,window_batch", [("sg", False, False), ("cbow", False, False), ("sg", True, False),
                                                 ("sg", False, True), ("sg", True, True)])
def test_one_worker_through_the_copies_trains_what_it_trains_without_them(small_corpus, monkeypatch, arch, bias,
                                                                          window_batch):
    """One worker never uses copies (bit-identical to no copies); forced on, with merges every 7 examples, the
    only difference is rounding: u + (copy − copy₀) for the copy itself; examples one at a time and skip-gram
    windows as minibatches (objectives/window.py) alike."""
    kw = dict(objective="hs", arch=arch, dim=16, epochs=1, workers=1, seed=2, min_count=2, bias=bias,
              window_batch=window_batch)
    plain = w2v_nce.train(small_corpus, **kw)
    V = len(plain)
    hot = (V - 1 - 40, 40, 40)
    monkeypatch.setattr(engine, "hot_rows", lambda *args: hot)  # copies with one worker, for any objective
    monkeypatch.setattr(engine, "HOT_MERGE_EVERY", 7)
    copied = w2v_nce.train(small_corpus, **kw)
    np.testing.assert_allclose(copied.output_vectors, plain.output_vectors, rtol=0, atol=2e-4)
    np.testing.assert_allclose(copied.input_vectors, plain.input_vectors, rtol=0, atol=2e-4)
    assert copied.epoch_losses == pytest.approx(plain.epoch_losses, rel=1e-4)
    assert np.abs(plain.output_vectors[hot[0]:hot[0] + hot[1]]).max() > 0.05  # the copied rows did train
    if bias:
        np.testing.assert_allclose(copied.output_bias, plain.output_bias, rtol=0, atol=2e-4)
        assert np.abs(plain.output_bias[hot[0]:hot[0] + hot[1]]).max() > 0.01


def test_a_merge_of_bias_copies_alone_leaves_the_rows():
    """nce's copies: H_b biases from the first word, no row (kernels/hot_rows.py)."""
    rng = np.random.default_rng(1)
    out_w = rng.standard_normal((10, 4)).astype(np.float32)
    out_b = rng.standard_normal(10).astype(np.float32)
    hot = new_thread_state(4, 10, 10, 1, new_state(1), hot_first=0, hot_rows=0, hot_biases=5).hot
    assert hot.w.shape == (0, 4) and hot.b.shape == (5,)
    load_hot_rows(out_w, out_b, True, hot)
    np.testing.assert_array_equal(hot.b, out_b[:5])
    before_w, before_b = out_w.copy(), out_b.copy()
    hot.b[:] += 0.5
    out_b += 1.0  # another thread's merges meanwhile
    merge_hot_rows(out_w, out_b, True, hot)
    np.testing.assert_allclose(out_b[:5], before_b[:5] + 1.5, rtol=1e-6)
    np.testing.assert_array_equal(out_b[5:], before_b[5:] + 1.0)
    np.testing.assert_array_equal(out_w, before_w)
    np.testing.assert_array_equal(hot.b0, out_b[:5])


@pytest.mark.parametrize("objective,arch", [("nce", "sg"), ("nce", "cbow"), ("infonce", "sg")])
def test_minibatches_through_bias_copies_train_what_they_train_without_them(small_corpus, monkeypatch, objective,
                                                                              arch):
    """The minibatches of nce and infonce read and write the most frequent words' biases through the copies (forced
    on for one worker, merged every 7 examples): the same model up to rounding (with one thread b + (c − c₀) is c
    exactly when c and b are within a factor 2: the biases come out bit for bit the same here)."""
    kw = dict(objective=objective, arch=arch, dim=16, epochs=1, workers=1, seed=2, min_count=2, window_batch=True)
    plain = w2v_nce.train(small_corpus, **kw)
    assert plain.options["window_batch"] and plain.options["bias"]
    monkeypatch.setattr(engine, "hot_rows", lambda *args: (0, 0, 30))
    monkeypatch.setattr(engine, "HOT_MERGE_EVERY", 7)
    copied = w2v_nce.train(small_corpus, **kw)
    np.testing.assert_allclose(copied.output_bias, plain.output_bias, rtol=0, atol=2e-4)
    np.testing.assert_allclose(copied.output_vectors, plain.output_vectors, rtol=0, atol=2e-4)
    np.testing.assert_allclose(copied.input_vectors, plain.input_vectors, rtol=0, atol=2e-4)
    assert np.abs(plain.output_bias[:30]).max() > 0.01  # the copied biases did train


def test_biases_are_read_and_stepped_through_the_copies():
    out_b = np.random.default_rng(2).standard_normal(10).astype(np.float32)
    hot = new_thread_state(4, 10, 10, 1, new_state(1), hot_biases=5).hot
    hot.b[:] = 100.0 + np.arange(5)  # a copy unlike the shared biases
    assert copied_bias(2, out_b, hot) == 102.0
    assert copied_bias(7, out_b, hot) == out_b[7]
    before = out_b.copy()
    add_to_bias(2, 0.25, out_b, hot)
    add_to_bias(7, 0.5, out_b, hot)
    assert hot.b[2] == 102.25 and out_b[2] == before[2]
    assert out_b[7] == np.float32(before[7] + np.float32(0.5))


def test_which_rows_are_copied():
    H, B = engine.HOT_ROWS, engine.HOT_BIASES
    for objective in ("hs", "nce"):
        assert engine.hot_rows(objective, 1000, 1, True, True) == (0, 0, 0)  # one worker: none
    assert engine.hot_rows("hs", 5000, 4) == (4999 - H, H, H)  # the inner nodes up to the root, 4998
    assert engine.hot_rows("hs", 1000, 2) == (0, 999, 999)  # all of them
    assert engine.hot_rows("hs", 10, 2) == (0, 9, 9)
    for objective in ("ns", "softmax"):  # measured slower with copies, or every row hot
        assert engine.hot_rows(objective, 1000, 2, True, True) == (0, 0, 0)
    for objective in ("nce", "infonce"):  # the most frequent words' biases
        assert engine.hot_rows(objective, 5000, 2, True, True) == (0, 0, B)
    assert engine.hot_rows("nce", 10, 2, True, True) == (0, 0, 10)
    assert engine.hot_rows("nce", 5000, 2, False, True) == (0, 0, 0)  # no bias
    assert engine.hot_rows("nce", 5000, 2, True, False) == (0, 0, 0)  # one example at a time: no copies read


def test_two_workers_copy_the_nodes_nearest_the_root_and_train_them(small_corpus):
    """With two workers the copies are in use (the root and its neighbours train through them) and the merged
    rows are the model's: trained root rows and the epoch losses of one worker (two Hogwild workers differ from
    it by at most 0.3% here, 5 seeds; 1% allowed)."""
    kw = dict(objective="hs", dim=16, epochs=2, seed=2, min_count=2)
    one = w2v_nce.train(small_corpus, workers=1, **kw)
    m = w2v_nce.train(small_corpus, workers=2, **kw)
    V = len(m)
    first, rows, _ = engine.hot_rows("hs", V, 2)
    assert rows > 0 and first + rows == V - 1
    assert np.isfinite(m.output_vectors).all()
    assert np.abs(m.output_vectors[V - 2]).max() > 0.05  # the root
    assert m.epoch_losses == pytest.approx(one.epoch_losses, rel=0.01)


@pytest.mark.parametrize("objective,arch", [("nce", "sg"), ("nce", "cbow"), ("infonce", "sg")])
def test_two_workers_train_the_most_frequent_words_biases_through_copies(small_corpus, objective, arch):
    """With two workers the minibatches of nce and infonce keep copies of the most frequent words' biases, and the
    merged biases are the model's: the epoch losses of one worker (two Hogwild workers differ from it by at most
    0.26% here, 5 seeds each; 0.5% allowed)."""
    kw = dict(objective=objective, arch=arch, dim=16, epochs=2, seed=2, min_count=2, window_batch=True)
    one = w2v_nce.train(small_corpus, workers=1, **kw)
    two = w2v_nce.train(small_corpus, workers=2, **kw)
    assert engine.hot_rows(objective, len(two), 2, True, True)[2] > 0
    assert two.epoch_losses == pytest.approx(one.epoch_losses, rel=0.005)
