"""The in-sample likelihood (model/evaluation.py insample_metrics): the exact NLL on pairs of training sentences
drawn as training draws them (word2vec's subsampling, shrunk windows, a fixed seed), the same word pairs whatever
a model's id order."""
import math

import numpy as np
import pytest

from w2v_nce import Model
from w2v_nce.model.evaluation import heldout_metrics, insample_metrics
from w2v_nce.model.examples import insample_examples
from w2v_nce.prepare.vocab import keep_probabilities


def hand_model(objective="nce"):
    return Model(["a", "b", "c"], [5, 4, 3],
                 np.array([[1, 0], [0, 1], [1, 1]], np.float32),
                 np.array([[0.5, 0], [0, -1], [2, 1]], np.float32),
                 np.array([0.1, 0.2, -0.3], np.float32), options={"objective": objective})


def word_pairs(model, rows, arch="sg"):
    """The examples of CSR rows as words: (context words, target word), context sorted for cbow."""
    in_off, in_ids, tg_off, tg_ids = rows
    out = []
    for r in range(len(in_off) - 1):
        context = tuple(model.vocab[i] for i in in_ids[in_off[r]:in_off[r + 1]])
        for t in tg_ids[tg_off[r]:tg_off[r + 1]]:
            out.append((tuple(sorted(context)) if arch == "cbow" else context, model.vocab[t]))
    return out


def test_insample_nll_of_a_hand_built_model():
    m = hand_model()
    # sample 0 keeps every word; a window of 1 cannot shrink: sentence "a b c x" (x unknown) gives the pairs
    # (context, target) = (b,a), (a,b), (c,b), (b,c), and "c a" gives (a,c), (c,a)
    pairs = [(1, 0), (0, 1), (2, 1), (1, 2), (0, 2), (2, 0)]
    v = m.input_vectors.astype(np.float64)
    u = m.output_vectors.astype(np.float64)
    b = m.output_bias.astype(np.float64)
    nll = []
    for c, w in pairs:
        s = u @ v[c] + b
        nll.append(math.log(np.exp(s).sum()) - s[w])
    got = insample_metrics(m, [["a", "b", "c", "x"], ["c", "a"]], arch="sg", window=1, sample=0)
    assert got["insample_pairs"] == 6
    assert got["insample_nll"] == pytest.approx(np.mean(nll), rel=1e-6)


def test_insample_nll_cbow_uses_the_window_mean():
    m = hand_model("ns")
    v = m.input_vectors.astype(np.float64)
    u = m.output_vectors.astype(np.float64)
    b = m.output_bias.astype(np.float64)
    nll = []
    for h, w in [(v[1], 0), ((v[0] + v[2]) / 2, 1), (v[1], 2)]:
        s = u @ h + b
        nll.append(math.log(np.exp(s).sum()) - s[w])
    got = insample_metrics(m, [["a", "b", "c"]], arch="cbow", window=1, sample=0)
    assert got["insample_pairs"] == 3 and got["insample_nll"] == pytest.approx(np.mean(nll), rel=1e-6)


def test_no_pair_gives_no_nll():
    assert insample_metrics(hand_model(), [["a"], ["x", "y"]], window=2, sample=0) == \
        dict(insample_nll=None, insample_pairs=0)


def frequent_word_model(dim=4, seed=0):
    """'the' is far more frequent than the others: word2vec's subsampling keeps it with probability ≈ 0.1."""
    words = ["the"] + [f"w{i}" for i in range(9)]
    counts = [1000] + [10] * 9
    rng = np.random.default_rng(seed)
    return Model(words, counts, rng.normal(0, 0.5, (10, dim)).astype(np.float32),
                 rng.normal(0, 0.5, (10, dim)).astype(np.float32), None, options={"objective": "ns"})


def text(n_sentences=30, length=20, seed=1):
    rng = np.random.default_rng(seed)
    return [["the" if rng.random() < 0.5 else f"w{rng.integers(9)}" for _ in range(length)]
            for _ in range(n_sentences)]


def test_subsampling_drops_pairs_of_the_frequent_word():
    m, sentences = frequent_word_model(), text()
    keep = keep_probabilities(m.counts, 1e-2)
    assert keep[0] < 0.2 and keep[1:].min() == 1.0
    every = word_pairs(m, insample_examples(m, sentences, "sg", 2, sample=0, fixed_window=True))
    drawn = word_pairs(m, insample_examples(m, sentences, "sg", 2, sample=1e-2, fixed_window=True))
    with_the = [p for p in every if "the" in p[0] or p[1] == "the"]
    drawn_with_the = [p for p in drawn if "the" in p[0] or p[1] == "the"]
    assert len(drawn) < len(every)
    assert len(drawn_with_the) < 0.3 * len(with_the)
    # the same draw every call: the seed is fixed
    again = word_pairs(m, insample_examples(m, sentences, "sg", 2, sample=1e-2, fixed_window=True))
    assert again == drawn
    assert insample_metrics(m, sentences, "sg", 2, 1e-2) == insample_metrics(m, sentences, "sg", 2, 1e-2)


@pytest.mark.parametrize("arch", ["sg", "cbow"])
def test_windows_shrink_as_in_training(arch):
    m, sentences = frequent_word_model(), text()
    full = word_pairs(m, insample_examples(m, sentences, arch, 5, sample=0, fixed_window=True), arch)
    shrunk = word_pairs(m, insample_examples(m, sentences, arch, 5, sample=0), arch)
    again = word_pairs(m, insample_examples(m, sentences, arch, 5, sample=0), arch)
    other_seed = word_pairs(m, insample_examples(m, sentences, arch, 5, sample=0, seed=2), arch)
    assert shrunk == again and shrunk != other_seed
    if arch == "sg":  # a shrunk window holds fewer pairs; cbow has one example per target either way
        assert 0.4 * len(full) < len(shrunk) < 0.8 * len(full)
    else:
        assert shrunk != full
    # with a fixed window and no subsampling, the in-sample pairs are the held-out ones
    assert insample_metrics(m, sentences, arch, 5, 0, fixed_window=True)["insample_nll"] == \
        pytest.approx(heldout_metrics(m, sentences, arch, 5)["heldout_nll"], rel=1e-12)


def permuted(m, order):
    """The same model with its words in another id order (as gensim may hold them)."""
    return Model([m.vocab[i] for i in order], m.counts[order], m.input_vectors[order], m.output_vectors[order],
                 None if m.output_bias is None else m.output_bias[order], options=m.options)


@pytest.mark.parametrize("arch", ["sg", "cbow"])
def test_the_same_word_pairs_whatever_the_id_order(arch):
    m, sentences = frequent_word_model(), text()
    order = np.random.default_rng(3).permutation(len(m))
    assert order[0] != 0
    p = permuted(m, order)
    assert p.vocab != m.vocab
    ours = word_pairs(m, insample_examples(m, sentences, arch, 4, sample=1e-2), arch)
    theirs = word_pairs(p, insample_examples(p, sentences, arch, 4, sample=1e-2), arch)
    assert theirs == ours and len(ours) > 100
    a, b = insample_metrics(m, sentences, arch, 4, 1e-2), insample_metrics(p, sentences, arch, 4, 1e-2)
    assert a["insample_pairs"] == b["insample_pairs"]
    assert a["insample_nll"] == pytest.approx(b["insample_nll"], rel=1e-9)


def test_hs_is_scored_along_its_tree_as_on_held_out():
    m = hand_model("hs")
    sentences = [["a", "b", "c", "a", "b"]]
    got = insample_metrics(m, sentences, "sg", 1, sample=0)
    assert got["insample_nll"] == pytest.approx(heldout_metrics(m, sentences, "sg", 1)["heldout_nll"], rel=1e-12)
    # log Z = 0 by construction: the NLL is the mean −log p(w|c) along the tree
    # (context, target): (a,b), (b,a), (b,c), (c,b), (c,a), (a,c), (a,b), (b,a)
    log_p = m.scores([0, 1, 1, 2, 2, 0, 0, 1])[np.arange(8), [1, 0, 2, 1, 0, 2, 1, 0]]
    assert got["insample_pairs"] == 8 and got["insample_nll"] == pytest.approx(-log_p.mean(), rel=1e-9)
