"""Model.log_prob, predict and score_text against plain float64 NumPy references on hand-made models."""
import warnings

import numpy as np
import pytest

from w2v_nce import Model, W2VError
from w2v_nce.core.errors import W2VWarning
from w2v_nce.model.evaluation import heldout_metrics
from w2v_nce.kernels.huffman import HuffmanTree

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]


def make_model(objective="nce", arch="sg", bias=True, seed=0, dim=6, window=2):
    rng = np.random.default_rng(seed)
    v = len(WORDS)
    counts = np.arange(v, 0, -1) * 10
    return Model(WORDS, counts, rng.normal(0, 0.7, (v, dim)).astype(np.float32),
                 rng.normal(0, 0.7, (v, dim)).astype(np.float32),
                 rng.normal(0, 0.5, v).astype(np.float32) if bias else None,
                 options=dict(objective=objective, arch=arch, window=window))


def ref_scores(m, context):
    """s(w, c) for every w, float64, with c the mean of the context words' input vectors."""
    h = np.mean([m.input_vectors[m.index[w]].astype(np.float64) for w in context], axis=0)
    s = m.output_vectors.astype(np.float64) @ h
    return s + (m.output_bias.astype(np.float64) if m.output_bias is not None else 0.0)


def ref_hs_log_probs(m, context):
    """log p(w|c) = Σ_d log σ((1 − 2·code_d)·u_point_d·h) along each word's Huffman path."""
    h = np.mean([m.input_vectors[m.index[w]].astype(np.float64) for w in context], axis=0)
    tree = HuffmanTree(m.counts)
    out = []
    for w in range(len(m)):
        total = 0.0
        for d in range(tree.lengths[w]):
            x = m.output_vectors[tree.points[w, d]].astype(np.float64) @ h
            total += -np.logaddexp(0.0, -(1 - 2 * int(tree.codes[w, d])) * x)
        out.append(total)
    return np.array(out)


@pytest.mark.parametrize("arch,context", [("sg", ["cat"]), ("cbow", ["cat", "on", "the"])])
def test_log_prob_exact_and_self_match_the_reference(arch, context):
    m = make_model("nce", arch)
    s = ref_scores(m, context)
    log_z = np.log(np.exp(s).sum())
    np.testing.assert_allclose(m.log_prob(context, WORDS), s - log_z, rtol=0, atol=1e-6)
    if arch == "cbow":  # its log Z(c) depends on the number of context words: not self-normalized
        with pytest.warns(W2VWarning, match="CBOW nce scores are not self-normalized"):
            np.testing.assert_allclose(m.log_prob(context, WORDS, normalize="self"), s, rtol=0, atol=1e-6)
    else:
        np.testing.assert_allclose(m.log_prob(context, WORDS, normalize="self"), s, rtol=0, atol=1e-6)
    assert isinstance(m.log_prob(context, "dog"), float)
    assert m.log_prob(context, "dog") == pytest.approx(s[WORDS.index("dog")] - log_z, abs=1e-6)


@pytest.mark.parametrize("arch,context", [("sg", ["mat"]), ("cbow", ["mat", "dog"])])
def test_hs_scores_along_the_tree_in_both_modes(arch, context):
    m = make_model("hs", arch, bias=False)
    ref = ref_hs_log_probs(m, context)
    assert np.exp(ref).sum() == pytest.approx(1.0, abs=1e-12)
    for normalize in ("exact", "self"):
        np.testing.assert_allclose(m.log_prob(context, WORDS, normalize=normalize), ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(m.context_scores(m[context[0]] if arch == "sg" else
                                                np.mean([m[w] for w in context], axis=0))[0], ref, atol=1e-6)


@pytest.mark.parametrize("objective", ["nce", "ns", "softmax", "infonce", "hs"])
def test_exact_predict_is_a_distribution_over_the_vocabulary(objective):
    m = make_model(objective, "cbow", bias=objective not in ("ns", "hs"))
    full = m.predict(["cat", "sat"], topn=len(WORDS))
    assert sorted(w for w, _ in full) == sorted(WORDS)
    assert sum(p for _, p in full) == pytest.approx(1.0, abs=1e-12)
    probs = [p for _, p in full]
    assert probs == sorted(probs, reverse=True)
    assert m.predict(["cat", "sat"], topn=3) == full[:3]
    if objective != "hs":
        s = ref_scores(m, ["cat", "sat"])
        np.testing.assert_allclose([p for _, p in full], np.sort(np.exp(s) / np.exp(s).sum())[::-1], atol=1e-12)


def test_self_normalized_predict_is_exp_s_and_flagged_when_not_normalized():
    nce = make_model("nce")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nce: no warning
        top = nce.predict("cat", topn=2, normalize="self")
    s = ref_scores(nce, ["cat"])
    order = np.argsort(-s)[:2]
    assert [w for w, _ in top] == [WORDS[i] for i in order]
    np.testing.assert_allclose([p for _, p in top], np.exp(s[order]), atol=1e-12)
    ns = make_model("ns", bias=False)
    for call in (lambda: ns.predict("cat", normalize="self"), lambda: ns.log_prob("cat", "dog", normalize="self")):
        with pytest.warns(W2VWarning, match="ns scores are not normalized"):
            call()


def test_unknown_words_are_named():
    m = make_model("nce", "cbow")
    with pytest.raises(W2VError, match="no context word is in the vocabulary: zebra, yak"):
        m.predict(["zebra", "yak"])
    with pytest.warns(W2VWarning, match="left out of the context: zebra"):
        assert len(m.predict(["zebra", "cat"], topn=2)) == 2
    with pytest.raises(W2VError, match="not in the vocabulary: unicorn"):
        m.log_prob(["cat"], ["dog", "unicorn"])
    with pytest.raises(W2VError, match="skip-gram model predicts from one context word; got 2"):
        make_model("nce", "sg").predict(["cat", "dog"])
    with pytest.raises(W2VError, match="normalize must be"):
        m.predict(["cat"], normalize="softmax")


SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran"], ["zebra"], ["cat", "zebra", "sat"]]


def test_score_text_pairs_are_every_pair_within_the_window():
    m = make_model("nce", "sg", window=2)
    r = m.score_text(SENTENCES)
    # skip-gram, window 2, no subsampling; "zebra" is not in the vocabulary and is left out first
    pairs = []
    for sent in SENTENCES:
        sent = [w for w in sent if w in m.index]
        pairs += [(sent[j], sent[i]) for i in range(len(sent)) for j in range(len(sent))
                  if i != j and abs(i - j) <= 2]
    ref = []
    for c, w in pairs:
        s = ref_scores(m, [c])
        ref.append(np.log(np.exp(s).sum()) - s[m.index[w]])
    assert r["pairs"] == len(pairs) == 26
    assert r["tokens"] == 13 and r["oov_tokens"] == 2 and r["window"] == 2
    assert r["nll"] == pytest.approx(np.mean(ref), abs=1e-6)
    assert r["perplexity"] == pytest.approx(np.exp(np.mean(ref)), rel=1e-9)
    assert m.score_text(SENTENCES, window=1)["pairs"] == 2 * (5 + 2 + 1)


@pytest.mark.parametrize("objective,arch", [("nce", "sg"), ("ns", "cbow"), ("infonce", "sg"), ("hs", "cbow")])
def test_score_text_modes_agree_with_heldout_metrics(objective, arch):
    m = make_model(objective, arch, bias=objective not in ("ns", "hs"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = m.score_text(SENTENCES, normalize="exact")
        self_ = m.score_text(SENTENCES, normalize="self")
    ref = heldout_metrics(m, SENTENCES, arch, 2)
    assert exact["pairs"] == self_["pairs"] == ref["heldout_pairs"]
    assert exact["nll"] == pytest.approx(ref["heldout_nll"], abs=1e-6)
    assert self_["nll"] == pytest.approx(ref["selfnorm_nll"], abs=1e-6 if objective == "hs" else 1e-9)
    # the exact NLL is the self-normalized one plus the mean log Z of the pairs' contexts
    assert exact["nll"] == pytest.approx(self_["nll"] + exact["log_z_mean"], abs=1e-6)
    assert exact["normalized"] and self_["normalized"] == (objective in ("nce", "hs"))


def test_self_normalized_score_reports_a_sampled_log_z_and_warns_when_not_normalized():
    m = make_model("ns", "sg", bias=False)
    exact = m.score_text(SENTENCES)
    with pytest.warns(W2VWarning, match="not normalized"):
        self_ = m.score_text(SENTENCES, normalize="self")
    assert self_["normalized"] is False and self_["log_z_sampled_pairs"] == 256
    # 256 draws among 22 pairs: the estimate is close to the exact pair-weighted mean
    assert abs(self_["log_z_mean"] - exact["log_z_mean"]) < 3 * exact["log_z_std"] / np.sqrt(256) + 1e-9


def test_score_text_without_pairs_is_an_error():
    with pytest.raises(W2VError, match="no \\(context, target\\) pair"):
        make_model().score_text([["zebra", "cat"], ["dog"]])
