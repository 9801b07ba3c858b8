import numpy as np
import pytest

import w2v_nce
from w2v_nce import W2VError
from w2v_nce.training.engine import (DIVERGED_MAGNITUDE, FIRST_EPOCH_RISE_LIMIT, LOSS_RISE_LIMIT, check_divergence,
                                     check_first_epoch, within_range)
from w2v_nce.training.options import OptionError


def test_train_api_on_a_path(small_corpus):
    """Two Hogwild workers: what they train differs from run to run, so only its behaviour is checked."""
    m = w2v_nce.train(small_corpus, dim=20, epochs=2, workers=2, min_count=3)
    assert len(m) == len(m.vocab) == m.input_vectors.shape[0] > 500
    assert m.input_vectors.shape == m.output_vectors.shape == (len(m), 20)
    assert m.output_bias is None  # ns: word2vec-compatible, no bias
    assert len(m.epoch_losses) == 2 and all(np.isfinite(m.epoch_losses))
    assert m.epoch_losses[0] < np.log(2) * 6  # below the loss of all-zero scores: it learned
    assert m.stats["train_words"] == 2 * 60_000 and m.stats["words_per_second"] > 0
    assert m.options["alpha"] == 0.04 and m.options["arch"] == "sg"
    counts = dict(zip(m.vocab, m.counts))
    assert m.vocab[0] == "the" and counts["the"] == max(counts.values())


@pytest.mark.parametrize("objective,arch,alpha", [("ns", "sg", 0.04), ("nce", "sg", 0.04), ("ns", "cbow", 0.075),
                                                   ("infonce", "cbow", 0.075), ("softmax", "sg", 0.025),
                                                   ("softmax", "cbow", 0.05)])
def test_default_learning_rates(objective, arch, alpha):
    """The documented defaults (README, Learning rate): full softmax keeps word2vec's; a given --alpha wins."""
    from w2v_nce.training.options import TrainOptions

    o = TrainOptions(objective=objective, arch=arch).resolved()
    assert o.alpha == alpha and o.min_alpha == 1e-4
    assert TrainOptions(objective=objective, arch=arch, alpha=0.01).resolved().alpha == 0.01
    assert o.learning_rate(0.0) == alpha and o.learning_rate(1.0) == pytest.approx(1e-4)
    assert o.learning_rate(0.5) == pytest.approx((alpha + 1e-4) / 2)


def test_one_worker_with_a_seed_is_bit_identical(small_corpus):
    kw = dict(dim=16, epochs=1, workers=1, seed=1, min_count=3)
    for arch in ("sg", "cbow"):
        a = w2v_nce.train(small_corpus, arch=arch, **kw)
        b = w2v_nce.train(small_corpus, arch=arch, **kw)
        np.testing.assert_array_equal(a.input_vectors, b.input_vectors)
        np.testing.assert_array_equal(a.output_vectors, b.output_vectors)
        assert a.epoch_losses == b.epoch_losses
    c = w2v_nce.train(small_corpus, arch="sg", **{**kw, "seed": 2})
    assert not np.array_equal(a.input_vectors, c.input_vectors)


def test_token_lists_train_like_the_file(small_corpus):
    with open(small_corpus) as f:
        sents = [line.split() for line in f]
    kw = dict(dim=16, epochs=1, workers=1, seed=3, min_count=3)
    a = w2v_nce.train(small_corpus, **kw)
    b = w2v_nce.train(sents, **kw)
    assert a.vocab == b.vocab
    np.testing.assert_array_equal(a.input_vectors, b.input_vectors)


def test_training_finds_structure():
    """Two disjoint 'topics': words co-occur only within their topic, so they end up closer to each other."""
    rng = np.random.default_rng(0)
    topics = [[f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]]
    sents = [list(rng.choice(topics[t], size=20)) for t in rng.integers(0, 2, size=600)]
    m = w2v_nce.train(sents, dim=10, epochs=5, workers=1, min_count=1, sample=0, window=3)
    v = m.input_vectors / np.linalg.norm(m.input_vectors, axis=1, keepdims=True)
    idx = m.index
    same = np.mean([v[idx[f"a{i}"]] @ v[idx[f"a{j}"]] for i in range(10) for j in range(10) if i != j])
    cross = np.mean([v[idx[f"a{i}"]] @ v[idx[f"b{j}"]] for i in range(10) for j in range(10)])
    assert same > cross + 0.5


@pytest.mark.parametrize("bad", [dict(dim=0), dict(window=-1), dict(negative=0), dict(epochs=0), dict(workers=0),
                                 dict(sample=-1e-3), dict(alpha=-0.1), dict(alpha=0.01, min_alpha=0.1),
                                 dict(noise_exponent=1.5), dict(objective="bogus"), dict(arch="skip")])
def test_invalid_options_name_the_option(small_corpus, bad):
    with pytest.raises(OptionError) as e:
        w2v_nce.train(small_corpus, **bad)
    assert e.value.option in bad


def test_empty_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n \t\n")
    with pytest.raises(W2VError, match="empty"):
        w2v_nce.train(str(empty))
    with pytest.raises(W2VError, match="vocabulary is empty"):
        w2v_nce.train([["a", "b"], ["c"]], min_count=2)
    with pytest.raises(TypeError, match="unknown option"):
        w2v_nce.train([["a"]], dimension=3)


def test_a_loss_that_climbs_past_the_limit_is_divergence():
    check_divergence(2, [2.5, 2.3, 2.3 * LOSS_RISE_LIMIT * 0.999], 0.04)  # healthy runs end a little above their low
    with pytest.raises(W2VError, match=r"diverged in epoch 3: the mean training loss rose from 2\.3 to 3\.5\. "
                                       r"The learning rate is likely too high \(alpha 0\.04\); try a smaller --alpha$"):
        check_divergence(2, [2.5, 2.3, 3.5], 0.04)
    check_divergence(1, [float("nan"), 2.3], 0.04)  # an epoch without examples has no mean loss
    with pytest.raises(W2VError, match="epoch 1: the loss or the weights became NaN, infinite or as large as 16384"):
        check_divergence(0, (), 0.04, finite=False)


def test_weights_as_large_as_the_divergence_magnitude_are_out_of_range():
    assert within_range(np.array([[1.0, -6.1], [DIVERGED_MAGNITUDE * 0.999, 0.0]], np.float32))
    assert within_range(np.zeros((0, 4), np.float32))
    for bad in (DIVERGED_MAGNITUDE, -DIVERGED_MAGNITUDE, 1.5e25, np.inf, np.nan):
        a = np.ones((3, 4), np.float32)
        a[2, 1] = bad
        assert not within_range(a)


def test_a_first_epoch_is_checked_against_its_first_stretch():
    check_first_epoch(1.0, 1.43, 0.04)  # healthy cluster runs rise above their first round: at most ×1.43
    check_first_epoch(4.1, 4.1 * FIRST_EPOCH_RISE_LIMIT * 0.999, 0.04)
    check_first_epoch(float("nan"), 40.0, 0.04)  # no first stretch to compare with (a resumed run)
    with pytest.raises(W2VError, match=r"diverged in epoch 1: the mean training loss rose from 3\.976 to 11\.69\. "
                                       r"The learning rate is likely too high \(alpha 0\.075\); try a smaller --alpha$"):
        check_first_epoch(3.976, 11.69, 0.075)
    with pytest.raises(W2VError, match="NaN, infinite or as large as 16384.* or --sync-combine scaled$"):
        check_divergence(0, [1.0], 0.04, finite=False, hint=" or --sync-combine scaled")
