"""Model.to_gensim and Model.from_gensim: a model as the gensim Word2Vec gensim would hold had it trained it
(predict_output_word, score and train work on it), and a gensim Word2Vec as a model that scores, predicts and
evaluates; the output bias gensim has no place for, refused or carried as asked."""
import subprocess
import sys

import numpy as np
import pytest
from gensim.models import FastText, Word2Vec

import w2v_nce
from w2v_nce import Model, W2VError
from w2v_nce.core.errors import ModelFileError
from w2v_nce.kernels.huffman import HuffmanTree
from w2v_nce.model.evaluation import heldout_metrics, word_vector_metrics

COMMON = dict(dim=16, epochs=1, min_count=3, workers=1, seed=1, window=3)


@pytest.fixture(scope="module")
def sentences(small_corpus):
    with open(small_corpus, encoding="utf-8") as f:
        return [line.split() for line in f]


@pytest.fixture(scope="module")
def ours(small_corpus):
    """Tiny models of ours (one epoch, one worker, fixed seed), by (objective, arch)."""
    cache = {}

    def get(objective, arch):
        if (objective, arch) not in cache:
            cache[objective, arch] = w2v_nce.train(small_corpus, objective=objective, arch=arch, **COMMON)
        return cache[objective, arch]
    return get


@pytest.fixture(scope="module")
def theirs(sentences):
    """Tiny gensim models, trained by gensim, by (hs, sg)."""
    cache = {}

    def get(hs, sg):
        if (hs, sg) not in cache:
            cache[hs, sg] = Word2Vec(sentences, vector_size=16, window=3, min_count=3, sg=sg, hs=hs,
                                     negative=0 if hs else 5, epochs=1, workers=1, seed=1)
        return cache[hs, sg]
    return get


def hand_made(objective, arch="sg", bias=True, dim=6, seed=0):
    words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]
    rng = np.random.default_rng(seed)
    v = len(words)
    return Model(words, np.arange(v, 0, -1) * 10, rng.normal(0, 0.5, (v, dim)).astype(np.float32),
                 rng.normal(0, 0.5, (v, dim)).astype(np.float32),
                 rng.normal(0, 0.5, v).astype(np.float32) if bias else None,
                 options=dict(objective=objective, arch=arch, window=2, dim=dim))


def gensim_paths(w2v):
    return [(np.asarray(c).tolist(), np.asarray(p).tolist())
            for c, p in zip(w2v.wv.expandos["code"], w2v.wv.expandos["point"])]


def our_paths(tree):
    return [(tree.codes[w, :n].tolist(), tree.points[w, :n].tolist()) for w, n in enumerate(tree.lengths)]


def log_likelihood(model, sentence):
    """Σ log p(w|c) over the sentence's (context, target) pairs within the model's window, by score_text."""
    r = model.score_text([sentence])
    return -r["nll"] * r["pairs"]


def _log_sigmoid_table():
    """gensim's LOG_TABLE: log σ at 1,000 points over [−6, 6), in float32."""
    x = (np.arange(1000, dtype=np.float32) / np.float32(1000) * 2 - 1) * 6
    e = np.exp(x.astype(np.float32))
    return np.log(e / (e + 1)).astype(np.float32)


def gensim_hs_score(w2v, sentence):
    """What gensim's score computes for a sentence (word2vec_inner's score_sentence_sg / _cbow), from the
    model's arrays and codes: each word predicted from each word of its window (sg) or from their mean (cbow),
    log σ(±f) read from gensim's table at entry int((f + 6)·83) (its C computes 1000 / 6 / 2 in integers), terms
    with |f| ≥ 6 left out."""
    table = _log_sigmoid_table()
    ids = [w2v.wv.key_to_index[t] for t in sentence if t in w2v.wv.key_to_index]
    syn0, syn1 = w2v.wv.vectors, w2v.syn1
    total = 0.0
    for i, word in enumerate(ids):
        window = [ids[j] for j in range(max(0, i - w2v.window), min(len(ids), i + w2v.window + 1)) if j != i]
        contexts = [syn0[j] for j in window] if w2v.sg else [syn0[window].mean(axis=0)]
        for h in contexts:
            for code, point in zip(w2v.wv.expandos["code"][word], w2v.wv.expandos["point"][word]):
                f = float(np.dot(h, syn1[point])) * (1 - 2 * int(code))
                if -6 < f < 6:
                    total += float(table[int((f + 6) * 83)])
    return total


# --- to_gensim ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("objective,arch", [("ns", "sg"), ("ns", "cbow"), ("hs", "sg"), ("hs", "cbow")])
def test_to_gensim_holds_our_vocabulary_weights_and_tree(ours, objective, arch):
    m = ours(objective, arch)
    g = m.to_gensim()
    assert isinstance(g, Word2Vec)
    assert g.wv.index_to_key == m.vocab and [g.wv.key_to_index[w] for w in m.vocab] == list(range(len(m)))
    assert np.array_equal(g.wv.vectors, m.input_vectors) and g.wv.vectors is not m.input_vectors
    assert np.array_equal(g.wv.expandos["count"], m.counts)
    assert (g.sg, g.hs, g.negative, g.cbow_mean) == (int(arch == "sg"), int(objective == "hs"),
                                                     0 if objective == "hs" else 5, 1)
    assert (g.vector_size, g.layer1_size, g.window, g.min_count, g.epochs) == (16, 16, 3, 3, 1)
    assert (g.alpha, g.min_alpha, g.sample, g.ns_exponent, g.seed) == (
        m.options["alpha"], m.options["min_alpha"], m.options["sample"], m.options["noise_exponent"], 1)
    assert g.shrink_windows and g.corpus_count == m.progress["sentences"]
    assert g.corpus_total_words == m.stats["raw_words"]
    if objective == "hs":
        assert np.array_equal(g.syn1, m.output_vectors) and not hasattr(g, "syn1neg")
        assert gensim_paths(g) == our_paths(m.huffman_tree)
        assert all(c.dtype == np.uint8 for c in g.wv.expandos["code"])
        assert all(p.dtype == np.uint32 for p in g.wv.expandos["point"])
    else:
        assert np.array_equal(g.syn1neg, m.output_vectors) and not hasattr(g, "syn1")


@pytest.mark.parametrize("objective", ["ns", "hs"])
def test_to_gensim_subsampling_and_noise_tables_are_gensims_own(ours, objective):
    """sample_int and cum_table as gensim's build_vocab makes them from the same counts."""
    m = ours(objective, "sg")
    g = m.to_gensim()
    ref = Word2Vec(vector_size=16, min_count=1, sample=m.options["sample"], hs=int(objective == "hs"),
                   negative=0 if objective == "hs" else 5, sorted_vocab=0)
    ref.build_vocab_from_freq(dict(zip(m.vocab, m.counts.tolist())))
    assert ref.wv.index_to_key == m.vocab
    assert np.array_equal(g.wv.expandos["sample_int"], ref.wv.expandos["sample_int"])
    if objective == "ns":
        assert np.array_equal(g.cum_table, ref.cum_table)


@pytest.mark.parametrize("arch,context", [("sg", ["king"]), ("sg", ["three"]), ("cbow", ["the", "king", "of"]),
                                          ("cbow", ["war", "and", "peace"])])
def test_predict_output_word_ranks_as_our_predict(ours, arch, context):
    m = ours("ns", arch)
    g = m.to_gensim()
    theirs = g.predict_output_word(context, topn=25)
    mine = m.predict(context, topn=25)
    assert [w for w, _ in theirs] == [w for w, _ in mine]
    np.testing.assert_allclose([p for _, p in theirs], [p for _, p in mine], rtol=1e-4)


@pytest.mark.parametrize("arch", ["sg", "cbow"])
def test_gensim_score_of_our_hs_model_follows_our_tree(ours, sentences, arch):
    """gensim's score reads our Huffman paths as its own: it equals its table-based computation on our tree,
    and is close to our exact log-likelihood (gensim's table of log σ is coarse)."""
    m = ours("hs", arch)
    g = m.to_gensim()
    test = [s[:200] for s in sentences[:3]]
    scores = g.score(test, total_sentences=len(test))
    assert len(scores) == len(test)
    for score, sentence in zip(scores, test):
        assert score == pytest.approx(gensim_hs_score(g, sentence), rel=1e-4)
        assert score == pytest.approx(log_likelihood(m, sentence), rel=0.05)


@pytest.mark.parametrize("objective,arch", [("ns", "sg"), ("ns", "cbow"), ("hs", "sg"), ("hs", "cbow")])
def test_gensim_trains_on_the_converted_model(ours, sentences, small_corpus, objective, arch):
    m = ours(objective, arch)
    g = m.to_gensim()
    out = "syn1" if objective == "hs" else "syn1neg"
    before, before_out = g.wv.vectors.copy(), getattr(g, out).copy()
    g.train(sentences, total_examples=len(sentences), epochs=1)
    assert not np.array_equal(g.wv.vectors, before) and not np.array_equal(getattr(g, out), before_out)
    assert np.isfinite(g.wv.vectors).all()
    assert np.array_equal(m.input_vectors, ours(objective, arch).input_vectors)  # ours untouched
    g.train(corpus_file=small_corpus, total_words=g.corpus_total_words, epochs=1)  # gensim's corpus_file mode
    assert np.isfinite(g.wv.vectors).all()
    # gensim's own path for new text: build_vocab(update=True), then train
    new = [["zyxxy", "quux"] + s[:50] for s in sentences[:5]]
    g.build_vocab(new, update=True)
    assert g.wv.index_to_key[:len(m)] == m.vocab and "zyxxy" in g.wv
    g.train(new, total_examples=len(new), epochs=1)
    assert np.isfinite(getattr(g, out)).all()


# --- from_gensim -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("objective,arch", [("ns", "sg"), ("ns", "cbow"), ("hs", "sg"), ("hs", "cbow")])
def test_round_trip_through_gensim_keeps_the_model(ours, tmp_path, objective, arch):
    m = ours(objective, arch)
    back = Model.from_gensim(m.to_gensim())
    assert back.vocab == m.vocab and np.array_equal(back.counts, m.counts)
    assert np.array_equal(back.input_vectors, m.input_vectors)
    assert np.array_equal(back.output_vectors, m.output_vectors)
    assert back.output_bias is None and back.tree is None  # our own tree: nothing to carry
    for key in ("objective", "arch", "dim", "window", "sample", "min_count", "epochs", "alpha", "min_alpha",
                "noise_exponent", "seed", "fixed_window"):
        assert back.options[key] == m.options[key], key
    assert back.options["negative"] == m.options["negative"]
    assert back.score_text([["the", "king", "of", "the", "people"]])["nll"] == pytest.approx(
        m.score_text([["the", "king", "of", "the", "people"]])["nll"], rel=1e-12)
    back.save(tmp_path / "back.npz")
    assert Model.load(tmp_path / "back.npz").options == back.options


@pytest.mark.parametrize("hs,sg", [(0, 1), (0, 0), (1, 1), (1, 0)])
def test_a_gensim_model_reads_back_as_gensim_holds_it(theirs, hs, sg):
    """from_gensim then to_gensim gives gensim's own model back: vocabulary, weights, codes and points, the
    subsampling and noise tables and the settings."""
    g = theirs(hs, sg)
    m = Model.from_gensim(g)
    assert m.options["objective"] == ("hs" if hs else "ns") and m.options["arch"] == ("sg" if sg else "cbow")
    assert m.stats["source"].startswith("gensim ") and m.stats["raw_words"] == g.corpus_total_words
    h = m.to_gensim()
    assert h.wv.index_to_key == g.wv.index_to_key
    assert np.array_equal(h.wv.vectors, g.wv.vectors)
    for name in ("count", "sample_int"):
        assert np.array_equal(h.wv.expandos[name], g.wv.expandos[name]), name
    if hs:
        assert np.array_equal(h.syn1, g.syn1) and gensim_paths(h) == gensim_paths(g)
    else:
        assert np.array_equal(h.syn1neg, g.syn1neg) and np.array_equal(h.cum_table, g.cum_table)
    for name in ("sg", "hs", "negative", "cbow_mean", "window", "min_count", "sample", "alpha", "min_alpha",
                 "epochs", "ns_exponent", "vector_size", "layer1_size", "shrink_windows", "corpus_count",
                 "corpus_total_words", "seed", "workers", "max_final_vocab", "max_vocab_size"):
        assert getattr(h, name) == getattr(g, name), name


@pytest.mark.parametrize("sg,context", [(1, ["king"]), (0, ["the", "king", "of"])])
def test_our_predict_of_a_gensim_model_ranks_as_gensim(theirs, sg, context):
    g = theirs(0, sg)
    m = Model.from_gensim(g)
    theirs_top = g.predict_output_word(context, topn=25)
    mine = m.predict(context, topn=25)
    assert [w for w, _ in mine] == [w for w, _ in theirs_top]
    np.testing.assert_allclose([p for _, p in mine], [p for _, p in theirs_top], rtol=1e-4)


@pytest.mark.parametrize("sg", [1, 0])
def test_a_gensim_hs_model_keeps_its_own_tree(theirs, sentences, tmp_path, sg):
    """gensim breaks ties between equal counts otherwise than we do: the model keeps gensim's tree (in its file
    too), and our exact log-likelihood is gensim's own path probabilities, to which gensim's score is close."""
    g = theirs(1, sg)
    m = Model.from_gensim(g)
    assert m.tree is not None and not m.tree.same_tree(HuffmanTree(m.counts))
    assert our_paths(m.huffman_tree) == gensim_paths(g)
    sentence = sentences[5][:200]
    ids = [g.wv.key_to_index[t] for t in sentence if t in g.wv.key_to_index]
    exact = 0.0  # Σ log σ(±f) along gensim's paths, in float64
    for i, word in enumerate(ids):
        window = [ids[j] for j in range(max(0, i - g.window), min(len(ids), i + g.window + 1)) if j != i]
        contexts = [g.wv.vectors[j] for j in window] if sg else [g.wv.vectors[window].mean(axis=0)]
        for h in contexts:
            for code, point in zip(g.wv.expandos["code"][word], g.wv.expandos["point"][word]):
                f = float(np.dot(h.astype(np.float64), g.syn1[point].astype(np.float64)))
                exact -= np.logaddexp(0.0, -(1 - 2 * int(code)) * f)
    assert log_likelihood(m, sentence) == pytest.approx(exact, rel=1e-6)
    score = g.score([sentence], total_sentences=1)[0]
    assert score == pytest.approx(exact, rel=0.05)
    m.save(tmp_path / "gensim_hs.npz")
    with np.load(tmp_path / "gensim_hs.npz") as z:
        assert int(z["format_version"]) == 2 and "huffman_parent" in z.files
    loaded = Model.load(tmp_path / "gensim_hs.npz")
    assert loaded.tree.same_tree(m.tree)
    assert log_likelihood(loaded, sentence) == pytest.approx(exact, rel=1e-6)
    assert gensim_paths(loaded.to_gensim()) == gensim_paths(g)


def test_a_gensim_model_is_evaluated_as_the_bench_evaluates_ours(theirs, sentences):
    """The figures of a bench row (held-out likelihood, word-vector benchmarks) of a gensim model."""
    for hs in (0, 1):
        m = Model.from_gensim(theirs(hs, 1))
        held = heldout_metrics(m, sentences[-2:], "sg", 3)
        assert held["heldout_pairs"] > 0 and np.isfinite(held["heldout_nll"])
        if hs:
            assert abs(held["log_z_mean"]) < 1e-6  # the tree is normalized
        vectors = word_vector_metrics(m.to_keyedvectors())
        assert set(vectors) == {"analogy_accuracy", "ws353_spearman", "simlex_spearman"}


def test_the_command_line_predicts_and_scores_with_a_gensim_model(theirs, small_corpus, tmp_path):
    path = tmp_path / "gensim_hs.npz"
    m = Model.from_gensim(theirs(1, 1))
    m.save(path)
    r = subprocess.run([sys.executable, "-m", "w2v_nce", "predict", str(path), "king", "--topn", "3"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    words = [line.split("\t")[0] for line in r.stdout.splitlines() if line and not line.startswith("#")]
    assert words == [w for w, _ in m.predict(["king"], topn=3)]
    r = subprocess.run([sys.executable, "-m", "w2v_nce", "score", str(path), small_corpus], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "hs model" in r.stdout and "mean NLL" in r.stdout


# --- what gensim has no place for, and what is not a gensim Word2Vec -------------------------------------------

@pytest.mark.parametrize("objective", ["nce", "infonce", "softmax"])
def test_an_output_bias_is_refused_unless_folded_or_dropped(objective):
    m = hand_made(objective)
    with pytest.raises(W2VError, match="bias b_w, for which gensim's Word2Vec has no place: pass bias='fold'"):
        m.to_gensim()
    with pytest.raises(W2VError, match="bias must be 'fold' or 'drop'"):
        m.to_gensim(bias="keep")
    dropped = m.to_gensim(bias="drop")
    assert dropped.vector_size == 6 and np.array_equal(dropped.syn1neg, m.output_vectors)


@pytest.mark.parametrize("objective", ["nce", "infonce", "softmax"])
@pytest.mark.parametrize("arch,context", [("sg", ["cat"]), ("cbow", ["cat", "on", "the"])])
def test_a_folded_bias_keeps_every_score(objective, arch, context):
    m = hand_made(objective, arch)
    g = m.to_gensim(bias="fold")
    assert g.vector_size == g.layer1_size == 7
    assert np.array_equal(g.wv.vectors[:, :6], m.input_vectors) and (g.wv.vectors[:, 6] == 1).all()
    assert np.array_equal(g.syn1neg[:, 6], m.output_bias)
    theirs_top = g.predict_output_word(context, topn=8)
    mine = m.predict(context, topn=8)  # exact: softmax over u_w·v_c + b_w
    assert [w for w, _ in theirs_top] == [w for w, _ in mine]
    np.testing.assert_allclose([p for _, p in theirs_top], [p for _, p in mine], rtol=1e-5)
    back = Model.from_gensim(g)  # an ns model of one more dimension, with the same scores
    assert back.dim == 7 and back.output_bias is None
    np.testing.assert_allclose(back.scores([1]), m.scores([1]), rtol=1e-5, atol=1e-6)


def test_an_hs_bias_folds_into_the_inner_nodes():
    m = hand_made("hs", bias=True)
    with pytest.raises(W2VError, match="bias"):
        m.to_gensim()
    g = m.to_gensim(bias="fold")
    sentence = ["the", "cat", "sat", "on", "the", "mat", "a", "dog", "ran"]
    assert g.score([sentence], total_sentences=1)[0] == pytest.approx(log_likelihood(m, sentence), rel=0.05)
    assert g.score([sentence], total_sentences=1)[0] == pytest.approx(gensim_hs_score(g, sentence), rel=1e-4)


def test_a_model_without_bias_needs_no_choice():
    m = hand_made("ns", bias=False)
    assert m.to_gensim(bias="fold").vector_size == 6  # nothing to fold


def test_from_gensim_refuses_what_is_not_a_gensim_word2vec_model(theirs, sentences):
    with pytest.raises(W2VError, match="KeyedVectors holds word vectors only"):
        Model.from_gensim(theirs(0, 1).wv)
    with pytest.raises(W2VError, match="from_gensim takes a gensim Word2Vec, got a builtins.dict"):
        Model.from_gensim({})
    ft = FastText(sentences[:3], vector_size=8, min_count=3, epochs=1, workers=1)
    with pytest.raises(W2VError, match="got a gensim.models.fasttext.FastText"):
        Model.from_gensim(ft)
    with pytest.raises(W2VError, match="no vocabulary"):
        Model.from_gensim(Word2Vec(vector_size=8))


def test_from_gensim_refuses_what_a_model_cannot_hold(sentences):
    small = [s[:300] for s in sentences[:5]]
    cbow_sum = Word2Vec(small, vector_size=8, min_count=2, sg=0, cbow_mean=0, epochs=1, workers=1)
    with pytest.raises(W2VError, match="cbow_mean=0"):
        Model.from_gensim(cbow_sum)
    both = Word2Vec(small, vector_size=8, min_count=2, hs=1, negative=5, epochs=1, workers=1)
    with pytest.raises(W2VError, match="choose one with objective='hs' or objective='ns'"):
        Model.from_gensim(both)
    assert np.array_equal(Model.from_gensim(both, objective="hs").output_vectors, both.syn1)
    assert np.array_equal(Model.from_gensim(both, objective="ns").output_vectors, both.syn1neg)
    with pytest.raises(W2VError, match="not 'nce'"):
        Model.from_gensim(both, objective="nce")
    ns_only = Word2Vec(small, vector_size=8, min_count=2, epochs=1, workers=1)
    with pytest.raises(W2VError, match=r"did not train hs \(hs=0\)"):
        Model.from_gensim(ns_only, objective="hs")
    del ns_only.syn1neg
    with pytest.raises(W2VError, match="has no syn1neg"):
        Model.from_gensim(ns_only)
    newline = Word2Vec([["a\nb", "c"] * 3], vector_size=8, min_count=1, epochs=1, workers=1)
    with pytest.raises(W2VError, match="line breaks"):
        Model.from_gensim(newline)


def test_from_gensim_refuses_huffman_codes_that_make_no_tree(theirs):
    g = theirs(1, 1)
    saved = g.wv.expandos["code"], g.wv.expandos["point"]
    try:
        codes = saved[0].copy()
        codes[3] = codes[3].copy()
        codes[3][-1] ^= 1  # a word on its sibling's leaf
        g.wv.expandos["code"] = codes
        with pytest.raises(W2VError, match="Huffman"):
            Model.from_gensim(g)
        points = saved[1].copy()
        points[0] = points[0][1:]  # does not start at the root
        g.wv.expandos["code"], g.wv.expandos["point"] = saved[0], points
        with pytest.raises(W2VError, match="from the root"):
            Model.from_gensim(g)
        del g.wv.expandos["code"]
        with pytest.raises(W2VError, match="no Huffman codes"):
            Model.from_gensim(g)
    finally:
        g.wv.expandos["code"], g.wv.expandos["point"] = saved
    assert Model.from_gensim(g).tree is not None


def test_a_damaged_carried_tree_is_not_a_model(theirs, tmp_path):
    m = Model.from_gensim(theirs(1, 1))
    m.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as z:
        arrays = {name: z[name] for name in z.files}
    parent = arrays["huffman_parent"].copy()
    parent[0] = 0
    cases = [({**arrays, "huffman_parent": parent}, "its Huffman tree is damaged: word 0 hangs from word 0"),
             ({k: v for k, v in arrays.items() if k != "huffman_bit"}, "half a Huffman tree"),
             ({**arrays, "huffman_bit": arrays["huffman_bit"][:-1]}, "'huffman_bit' has shape"),
             ({**arrays, "options": np.frombuffer(bytes(arrays["options"]).replace(b'"hs"', b'"ns"'), np.uint8)},
              "only an hs model has")]
    for i, (damaged, reason) in enumerate(cases):
        path = tmp_path / f"damaged{i}.npz"
        np.savez(path, **damaged)
        with pytest.raises(ModelFileError, match="is not a w2v-nce model") as e:
            Model.load(path)
        assert reason in str(e.value)


@pytest.mark.parametrize("hs", [0, 1])
def test_a_vocabulary_of_one_word_goes_both_ways(hs):
    g = Word2Vec([["only"] * 5] * 3, vector_size=4, min_count=1, hs=hs, negative=0 if hs else 5, epochs=1,
                 workers=1)
    m = Model.from_gensim(g)
    assert m.vocab == ["only"] and m.tree is None
    h = m.to_gensim()
    assert h.wv.index_to_key == ["only"]
    if hs:
        assert gensim_paths(h) == gensim_paths(g) == [([], [])]
    h.train([["only"] * 5], total_examples=1, epochs=1)
