"""Thread-private copies of the hottest output rows (kernels/hot_rows.py): the merge keeps every thread's
changes, and a run through the copies trains what a run without them trains."""
import numpy as np
import pytest

import w2v_nce
from w2v_nce.core.rng import new_state
from w2v_nce.kernels.hot_rows import load_hot_rows, merge_hot_rows
from w2v_nce.objectives.base import new_thread_state
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
    hot = (V - 1 - 40, 40)
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


def test_which_rows_are_copied():
    H = engine.HOT_ROWS
    assert engine.hot_rows("hs", 1000, 1) == (0, 0)  # one worker: none
    assert engine.hot_rows("hs", 1000, 4) == (999 - H, H)  # the inner nodes up to the root, 998
    assert engine.hot_rows("hs", 10, 2) == (0, 9)
    for objective in ("ns", "nce", "infonce", "softmax"):  # measured slower with copies, or every row hot
        assert engine.hot_rows(objective, 1000, 2) == (0, 0)


def test_two_workers_copy_the_nodes_nearest_the_root_and_train_them(small_corpus):
    """With two workers the copies are in use (the root and its neighbours train through them) and the merged
    rows are the model's: trained root rows and the epoch losses of one worker (two Hogwild workers differ from
    it by at most 0.3% here, 5 seeds; 1% allowed)."""
    kw = dict(objective="hs", dim=16, epochs=2, seed=2, min_count=2)
    one = w2v_nce.train(small_corpus, workers=1, **kw)
    m = w2v_nce.train(small_corpus, workers=2, **kw)
    V = len(m)
    first, rows = engine.hot_rows("hs", V, 2)
    assert rows > 0 and first + rows == V - 1
    assert np.isfinite(m.output_vectors).all()
    assert np.abs(m.output_vectors[V - 2]).max() > 0.05  # the root
    assert m.epoch_losses == pytest.approx(one.epoch_losses, rel=0.01)
