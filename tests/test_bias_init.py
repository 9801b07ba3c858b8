"""The step-0 model: the output bias at the unigram model (with every output vector zero, s(w,c) = b_w =
log p_unigram(w)), the input vectors uniform in [−1/dim, 1/dim) as gensim starts them."""
import numpy as np
import pytest
from scipy import stats

import w2v_nce
from w2v_nce.kernels.huffman import HuffmanTree
from w2v_nce.model.inference import log_sum_exp
from w2v_nce.training.run import initial_bias

STEP0 = dict(dim=8, epochs=1, alpha=0.0, min_alpha=0.0, workers=1, seed=2, min_count=3)  # lr 0: the step-0 model


@pytest.mark.parametrize("objective", ["nce", "softmax", "infonce", "ns"])
def test_step_zero_scores_are_the_log_unigram_probabilities(small_corpus, objective):
    m = w2v_nce.train(small_corpus, objective=objective, bias=True, **STEP0)
    assert m.options["bias_init"] == "unigram"
    s = m.scores(np.arange(0, len(m), 97))
    log_p = np.log(m.counts / m.counts.sum())
    np.testing.assert_allclose(s, np.broadcast_to(log_p, s.shape), atol=1e-5)
    np.testing.assert_allclose(log_sum_exp(s), 0.0, atol=1e-5)  # Σ_w exp s(w,c) = 1: normalized at step 0


def test_hierarchical_softmax_starts_at_the_unigram_model(small_corpus):
    m = w2v_nce.train(small_corpus, objective="hs", bias=True, **STEP0)
    s = m.scores([0, 5, len(m) - 1])  # log p(w|c) along the tree
    np.testing.assert_allclose(s, np.broadcast_to(np.log(m.counts / m.counts.sum()), s.shape), atol=1e-5)


def test_branch_log_odds_give_the_unigram_path_products():
    counts = np.array([50, 20, 20, 7, 2, 1])
    tree = HuffmanTree(counts)
    x = initial_bias(counts, "hs")[None, :len(counts) - 1]
    np.testing.assert_allclose(np.exp(tree.log_probabilities(x)[0]), counts / counts.sum(), rtol=1e-12)


def test_zero_keeps_a_zero_bias(small_corpus):
    m = w2v_nce.train(small_corpus, objective="nce", bias_init="zero", **STEP0)
    assert m.options["bias_init"] == "zero"
    assert not m.output_bias.any()


def test_bias_init_is_saved_and_resumed(small_corpus, tmp_path):
    m = w2v_nce.train(small_corpus, objective="nce", bias_init="zero", dim=8, epochs=1, workers=1, min_count=3)
    m.save(tmp_path / "m.npz")
    assert w2v_nce.Model.load(tmp_path / "m.npz").options["bias_init"] == "zero"


def test_unknown_bias_init_is_refused(small_corpus):
    with pytest.raises(w2v_nce.W2VError, match="bias_init"):
        w2v_nce.train(small_corpus, bias_init="uniform", **STEP0)


def test_cli_bias_init_round_trip(small_corpus, tmp_path):
    import subprocess
    import sys

    model = tmp_path / "m.npz"
    r = subprocess.run([sys.executable, "-m", "w2v_nce", "train", small_corpus, "-o", str(tmp_path / "v.txt"),
                        "--objective", "infonce", "--bias-init", "zero", "--dim", "8", "--epochs", "1",
                        "--min-count", "3", "--workers", "1", "--quiet", "--save-model", str(model)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert w2v_nce.Model.load(model).options["bias_init"] == "zero"


@pytest.mark.parametrize("dim", [16, 100])
def test_step_zero_input_vectors_are_uniform_within_one_over_dim(small_corpus, dim):
    m = w2v_nce.train(small_corpus, **{**STEP0, "dim": dim})
    x = m.input_vectors.ravel().astype(np.float64)
    assert np.abs(x).max() <= 1 / dim and np.abs(x).max() > 0.99 / dim  # [−1/dim, 1/dim): −1/dim included
    assert stats.kstest(x, "uniform", args=(-1 / dim, 2 / dim)).pvalue > 1e-3
    assert not m.output_vectors.any()
