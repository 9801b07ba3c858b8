"""The blocked full softmax's output step (kernels/blocked.py): row-wise AdaGrad reaches the likelihood's optimum,
its sums continue in a resumed run, and the model file keeps them only while the run is unfinished.

The optimum is known on a Markov-chain corpus: skip-gram with a fixed window of 1 and no subsampling trains on
the pairs (x_t, x_t+1) and (x_t+1, x_t), and a model with dim + bias ≥ V can represent any conditional
distribution, so its lowest mean NLL on those pairs is the empirical conditional entropy
H = −Σ_{c,w} P̂(c,w) log P̂(w|c) of their counts.
"""
import numpy as np
import pytest

import w2v_nce
from w2v_nce import Model
from w2v_nce.core.errors import ModelFileError

STATES = 30


def markov_corpus(sentences=50, length=1000, successors=5, seed=0):
    rng = np.random.default_rng(seed)
    T = np.zeros((STATES, STATES))
    for a in range(STATES):
        T[a, rng.choice(STATES, size=successors, replace=False)] = rng.dirichlet(np.ones(successors))
        T[a, (a + 1) % STATES] += 0.1  # irreducible
    cum = np.cumsum(T / T.sum(axis=1, keepdims=True), axis=1)
    out = []
    for _ in range(sentences):
        x = [int(rng.integers(STATES))]
        for _ in range(length - 1):
            x.append(int(np.searchsorted(cum[x[-1]], rng.random() * cum[x[-1], -1])))
        out.append([f"s{i}" for i in x])
    return out


def conditional_entropy(sentences):
    """H of the window-1 pairs of the sentences (both directions), in nats."""
    counts = np.zeros((STATES, STATES))
    for s in sentences:
        ids = [int(w[1:]) for w in s]
        np.add.at(counts, (ids[:-1], ids[1:]), 1)
        np.add.at(counts, (ids[1:], ids[:-1]), 1)
    joint = counts / counts.sum()
    cond = counts / counts.sum(axis=1, keepdims=True)
    seen = counts > 0
    return float(-(joint[seen] * np.log(cond[seen])).sum())


@pytest.fixture(scope="module")
def chain_corpus():
    return markov_corpus()


def in_sample_gap(sentences, epochs, step):
    m = w2v_nce.train(sentences, objective="softmax", dim=32, window=1, fixed_window=True, sample=0, min_count=1,
                      epochs=epochs, workers=1, seed=1, softmax_block=True, softmax_step=step)
    assert m.options["softmax_step"] == step
    return m.score_text(sentences, window=1)["nll"] - conditional_entropy(sentences)


def test_adagrad_reaches_the_empirical_conditional_entropy(chain_corpus):
    """Measured gaps (nats): 0.0113, 0.0039, 0.0017 after 3, 10, 30 epochs; word2vec-style SGD 0.0288, 0.0069,
    0.0034."""
    gaps = [in_sample_gap(chain_corpus, epochs, "adagrad") for epochs in (3, 10, 30)]
    assert gaps[0] > gaps[1] > gaps[2] > 0  # above the optimum, closing in on it
    assert gaps[2] < 0.0025
    assert gaps[1] < 0.6 * in_sample_gap(chain_corpus, 10, "sgd")


KW = dict(objective="softmax", dim=16, min_count=1, workers=1, seed=3, softmax_block=True, epochs=3)


def test_an_interrupted_softmax_run_resumes_exactly_with_its_adagrad_sums(small_corpus, tmp_path):
    def stop_after_first_epoch(run):
        raise KeyboardInterrupt

    part = w2v_nce.train(small_corpus, checkpoint_every=1, checkpoint_path=str(tmp_path / "ckpt.npz"),
                         on_epoch_end=stop_after_first_epoch, **KW)
    assert part.progress["epoch"] == 1 and not part.progress["complete"]
    sums = part.optimizer_state
    assert sorted(sums) == ["adagrad_bias", "adagrad_output"]
    assert all(a.shape == (len(part),) and (a > 0).all() for a in sums.values())  # every row was stepped
    saved = Model.load(tmp_path / "ckpt.npz")
    for name, a in sums.items():
        np.testing.assert_array_equal(saved.optimizer_state[name], a)
    resumed = w2v_nce.train(small_corpus, resume=saved)
    full = w2v_nce.train(small_corpus, **KW)
    np.testing.assert_array_equal(resumed.output_vectors, full.output_vectors)
    np.testing.assert_array_equal(resumed.input_vectors, full.input_vectors)
    assert full.optimizer_state == {} and resumed.optimizer_state == {}  # a finished model carries no sums

    saved.optimizer_state = {}  # a checkpoint without its sums restarts them: no longer the same run
    restarted = w2v_nce.train(small_corpus, resume=saved)
    assert not np.array_equal(restarted.output_vectors, full.output_vectors)


def test_the_model_file_keeps_the_sums_only_of_an_unfinished_run(small_corpus, tmp_path):
    import zipfile

    def stop(run):
        raise KeyboardInterrupt

    part = w2v_nce.train(small_corpus, on_epoch_end=stop, **KW)
    part.save(tmp_path / "part.npz")
    full = w2v_nce.train(small_corpus, **{**KW, "epochs": 1})
    full.save(tmp_path / "full.npz")
    with zipfile.ZipFile(tmp_path / "part.npz") as z:
        assert {"adagrad_output.npy", "adagrad_bias.npy"} <= set(z.namelist())
        assert int(np.load(z.open("format_version.npy"))) == 3
    with zipfile.ZipFile(tmp_path / "full.npz") as z:
        assert not any(n.startswith("adagrad") for n in z.namelist())
        assert int(np.load(z.open("format_version.npy"))) == 1  # readable by earlier versions

    bad = Model.load(tmp_path / "part.npz")
    bad.optimizer_state["adagrad_bias"] = -bad.optimizer_state["adagrad_bias"]
    bad.save(tmp_path / "bad.npz")
    with pytest.raises(ModelFileError, match="optimizer state holds negative"):
        Model.load(tmp_path / "bad.npz")


def test_the_softmax_step_is_an_option_with_two_values(small_corpus):
    from w2v_nce.training.options import OptionError

    with pytest.raises(OptionError, match="softmax_step: unknown step 'adam'"):
        w2v_nce.train(small_corpus, objective="softmax", softmax_step="adam")
    sgd = w2v_nce.train(small_corpus, **{**KW, "softmax_step": "sgd", "epochs": 1})
    adagrad = w2v_nce.train(small_corpus, **{**KW, "epochs": 1})
    assert not np.array_equal(sgd.output_vectors, adagrad.output_vectors)


def test_softmax_at_its_defaults_does_not_diverge_on_the_bundled_sample():
    """The sample's 3,000 most frequent words, d = 100, the default rates and step, 2 epochs; it learns: the first
    epoch's mean loss below the loss at step 0 (the unigram model, bias_init "unigram": the cross-entropy of the
    kept targets under it), the second's below the first. Measured: 7.260 at step 0, then 7.080 and 6.880."""
    from w2v_nce.prepare.sample import bundled_corpus_path
    from w2v_nce.prepare.vocab import keep_probabilities

    m = w2v_nce.train(bundled_corpus_path(), objective="softmax", epochs=2, seed=1, max_vocab=3000)
    assert len(m) == 3000 and m.options["softmax_step"] == "adagrad" and m.options["alpha"] == 0.025
    kept = m.counts * keep_probabilities(m.counts, m.options["sample"])
    step0 = float(-(kept / kept.sum() * np.log(m.counts / m.counts.sum())).sum())
    first, second = m.epoch_losses
    assert first < step0 - 0.1 and second < first - 0.1
    assert np.isfinite(m.output_vectors).all() and np.isfinite(m.output_bias).all()
