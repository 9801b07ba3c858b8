"""Skip-gram windows and CBOW windows as minibatches (objectives/window.py): where they apply, and what a run does
with them. (Each step against the float64 references: tests/test_objectives.py, the architecture loop's sg-window
and cbow-batch cases.)"""
import numpy as np
import pytest

import w2v_nce
from test_objectives import DIM, V, Setup, make_model
from w2v_nce.core.rng import new_state
from w2v_nce.kernels.hot_rows import load_hot_rows
from w2v_nce.kernels.loop import CBOW, SKIPGRAM
from w2v_nce.kernels.objective_loops import CHUNK_TRAINERS
from w2v_nce.objectives.base import empty_noise_tables, new_thread_state
from w2v_nce.objectives.hs import hierarchical_softmax_window
from w2v_nce.objectives.window import window_scratch
from w2v_nce.prepare.stream import SENTINEL
from w2v_nce.training.options import TrainOptions


@pytest.mark.parametrize("arch,objective,shared,default,asked", [
    ("sg", "ns", True, True, True), ("sg", "nce", True, True, True),
    ("sg", "hs", True, False, True),  # a window form, off unless asked for
    ("sg", "hs", False, False, True),  # hs draws no noise: per-example negatives do not concern it
    ("sg", "ns", False, False, False), ("sg", "nce", False, False, False),  # a noise sample per example
    ("sg", "infonce", True, True, True),  # a window form like ns's and nce's
    ("sg", "infonce", False, False, False), ("sg", "softmax", True, False, False),  # no window form
    ("cbow", "ns", True, True, True), ("cbow", "nce", True, True, True),  # CBOW minibatch forms
    ("cbow", "infonce", True, True, True),  # a CBOW minibatch form like ns's and nce's
    ("cbow", "ns", False, False, False), ("cbow", "infonce", False, False, False),  # a noise sample per window
    ("cbow", "hs", True, False, False), ("cbow", "softmax", True, False, False),  # no CBOW minibatch form
])
def test_where_a_window_is_one_minibatch(arch, objective, shared, default, asked):
    """window_batch resolved: the objective's default when not given, True where asked for and possible."""
    def resolved(**kw):
        return TrainOptions(arch=arch, objective=objective, shared_negatives=shared, **kw).resolved().window_batch

    assert resolved() is default
    assert resolved(window_batch=True) is asked
    assert resolved(window_batch=False) is False


@pytest.mark.parametrize("arch,objective", [("cbow", "ns"), ("cbow", "nce"), ("cbow", "infonce"), ("sg", "ns"),
                                            ("sg", "nce"), ("sg", "infonce"), ("sg", "hs")])
def test_on_a_cluster_examples_train_one_at_a_time_unless_asked(arch, objective):
    """The default on a cluster (docs/cluster.md: the minibatches lost analogy points there); asked for, they are
    given; locally the objective's default stands."""
    def resolved(on_cluster, **kw):
        return TrainOptions(arch=arch, objective=objective, **kw).resolved(on_cluster=on_cluster).window_batch

    assert resolved(True) is False
    assert resolved(False) is (objective != "hs")
    assert resolved(True, window_batch=True) is (objective != "hs" or arch == "sg")


def test_a_state_without_the_scratch_is_refused():
    """The loop checks the thread state's room for a window's minibatch before it trains (no write past it)."""
    V, dim, k = 20, 4, 2
    # read-only, as a run hands its chunks to the kernel: the kernel compiled for a run serves (no compile here)
    stream = np.frombuffer(np.array([1, 2, 3, 4, SENTINEL], np.int32).tobytes(), dtype=np.int32)
    tables = empty_noise_tables(k, np.ones(V), np.arange(V, dtype=np.int32), np.full(V, -np.log(V)))
    state = new_thread_state(dim, 16, V, k + 1, new_state(1), k=k)  # h of dim floats only
    weights = (np.zeros((V, dim), np.float32), np.zeros((V, dim), np.float32), np.zeros(V, np.float32))
    for arch in (SKIPGRAM, CBOW):
        with pytest.raises(ValueError, match="too small for minibatches"):
            CHUNK_TRAINERS["ns"](arch, (stream, 0, len(stream), 0.1, 0.1), weights,
                                 (2, True, np.ones(V, np.float32), False, True, True), tables, state)


@pytest.mark.parametrize("arch,objective", [("sg", "ns"), ("sg", "nce"), ("sg", "hs"), ("cbow", "ns"),
                                            ("cbow", "nce")])
def test_a_run_trains_its_windows_as_minibatches_or_not(small_corpus, arch, objective):
    """The option reaches the kernel (the vectors differ), is recorded with the model, and both ways end at the
    same loss within 5%."""
    kw = dict(arch=arch, objective=objective, dim=16, epochs=2, workers=1, seed=3, min_count=2)
    batched = w2v_nce.train(small_corpus, window_batch=True, **kw)
    one_by_one = w2v_nce.train(small_corpus, window_batch=False, **kw)
    assert batched.options["window_batch"] is True and one_by_one.options["window_batch"] is False
    assert not np.array_equal(batched.input_vectors, one_by_one.input_vectors)
    for m in (batched, one_by_one):
        assert np.isfinite(m.input_vectors).all() and np.isfinite(m.output_vectors).all()
    assert batched.epoch_losses[-1] == pytest.approx(one_by_one.epoch_losses[-1], rel=0.05)


def test_a_window_writes_copied_rows_in_the_copy_only(rng):
    """A window of hs with the root's neighbours copied: their changes go to the thread's copy, the shared rows
    stay as they were until a merge; the other nodes of the path change in the shared matrix."""
    setup = Setup()
    _, in_w, U, b = make_model(rng, True)
    target = int(np.argmax(setup.tree.lengths))  # a long path: nodes inside and outside the copies
    points = setup.tree.points[target, :setup.tree.lengths[target]]
    first, rows = V - 1 - 4, 4  # the 4 nodes nearest the root (numbered last)
    h_size, work_size, ids_size = window_scratch(DIM, 2, setup.tree.points.shape[1])
    state = new_thread_state(DIM, 16, max(V, work_size), ids_size, new_state(1), hot_first=first, hot_rows=rows,
                             merge_every=10 ** 6, h_size=h_size)
    U1, b1 = U.copy(), b.copy()
    load_hot_rows(U1, b1, True, state.hot)
    sent = np.array([3, 11, target, 20, 9], np.int32)
    hierarchical_softmax_window(in_w.copy(), sent, 0, 5, 2, target, 0.1, U1, b1, True, setup.tables, state)
    copied = [p for p in points if p >= first]
    shared = [p for p in points if p < first]
    assert copied and shared
    np.testing.assert_array_equal(U1[copied], U[copied])  # not written: the copy was
    assert np.all(np.abs(state.hot.w[np.array(copied) - first] - U[copied]).max(axis=1) > 0)
    assert np.all(np.abs(U1[shared] - U[shared]).max(axis=1) > 0)
