"""Training continued on new text: train(corpus, continue_from=model) and `w2v-nce train --continue-from`."""
import shutil
import subprocess
from collections import Counter

import numpy as np
import pytest

import w2v_nce
from w2v_nce import Model, W2VError
from w2v_nce.kernels.huffman import HuffmanTree
from w2v_nce.training import local

EXE = shutil.which("w2v-nce")


def corpus(seed, words, extra=(), lines=200):
    rng = np.random.default_rng(seed)
    return [[f"w{int(x) % words}" for x in rng.zipf(1.4, 25)] + list(extra) for _ in range(lines)]


A = corpus(0, 150)
B = corpus(1, 250, extra=["newword"]) + [["rareword"] * 2]
FAST = dict(dim=12, epochs=2, workers=1, min_count=3)


@pytest.fixture(scope="module")
def models():
    return {obj: w2v_nce.train(A, objective=obj, **FAST) for obj in ("ns", "nce", "hs")}


def frozen(model, corpus_):
    """Continue with a learning rate of 0: the starting weights, as the continued run set them."""
    return w2v_nce.train(corpus_, continue_from=model, alpha=0.0, min_alpha=0.0, workers=1)


def test_vocabulary_grows_counts_merge_and_known_words_keep_their_vectors(models):
    a = models["ns"]
    c = frozen(a, B)
    merged = Counter(dict(zip(a.vocab, a.counts.tolist())))
    new = Counter(w for s in B for w in s)
    assert set(a.vocab) <= set(c.vocab)
    assert "newword" in c.index and "rareword" not in c.index  # 200 occurrences join; 2 < min_count do not
    for w in c.vocab:
        assert c.counts[c.index[w]] == merged.get(w, 0) + new.get(w, 0)
    assert list(c.counts) == sorted(c.counts, reverse=True)
    known = [a.index[w] for w in c.vocab if w in a.index]
    rows = [c.index[w] for w in c.vocab if w in a.index]
    np.testing.assert_array_equal(c.input_vectors[rows], a.input_vectors[known])
    np.testing.assert_array_equal(c.output_vectors[rows], a.output_vectors[known])
    fresh = [c.index[w] for w in c.vocab if w not in a.index]
    assert np.abs(c.input_vectors[fresh]).max() <= 1 / a.dim and np.abs(c.input_vectors[fresh]).max() > 0
    assert not c.output_vectors[fresh].any()
    assert c.options["dim"] == a.dim and c.progress["complete"] and c.progress["epoch"] == c.options["epochs"]


def test_training_moves_the_vectors_and_the_model_continues_again(models, tmp_path):
    c = w2v_nce.train(B, continue_from=models["ns"], epochs=1, workers=1)
    assert not np.array_equal(c.input_vectors[c.index["w1"]], models["ns"].input_vectors[models["ns"].index["w1"]])
    c.save(tmp_path / "c.npz")
    d = w2v_nce.train(A, continue_from=str(tmp_path / "c.npz"), epochs=1, workers=1)
    assert d.counts[d.index["w1"]] == c.counts[c.index["w1"]] + sum(s.count("w1") for s in A)


def test_new_nce_bias_from_the_merged_unigram_and_known_biases_kept(models):
    a = models["nce"]
    c = frozen(a, B)
    i = c.index["newword"]
    assert c.output_bias[i] == pytest.approx(np.log(c.counts[i] / c.counts.sum()), rel=1e-5)
    for w in a.vocab[:20]:
        assert c.output_bias[c.index[w]] == a.output_bias[a.index[w]]


def test_noise_distribution_rebuilt_from_the_merged_counts(models, monkeypatch):
    seen = []
    real = local.NoiseDistribution

    def spy(counts, exponent):
        seen.append(np.array(counts))
        return real(counts, exponent)

    monkeypatch.setattr(local, "NoiseDistribution", spy)
    c = frozen(models["ns"], B)
    np.testing.assert_array_equal(seen[-1], c.counts)


def branch_words(model):
    """Per inner node of the model's tree: (the words under its branch 0, under its branch 1)."""
    tree = model.huffman_tree
    sets = [(set(), set()) for _ in range(len(model) - 1)]
    for w, word in enumerate(model.vocab):
        for d in range(tree.lengths[w]):
            sets[tree.points[w, d]][tree.codes[w, d]].add(word)
    return [(frozenset(a), frozenset(b)) for a, b in sets]


def test_hs_tree_rebuilt_and_inner_nodes_of_the_same_split_kept(models):
    a = models["hs"]
    c = frozen(a, B)
    assert c.tree is None and c.huffman_tree.same_tree(HuffmanTree(c.counts))
    old = {}
    for j, (b0, b1) in enumerate(branch_words(a)):
        old[(b0, b1)], old[(b1, b0)] = (j, 1), (j, -1)
    kept = [(i, *old[split]) for i, split in enumerate(branch_words(c)) if split in old]
    assert kept and any(sign == 1 for *_, sign in kept)
    for i, j, sign in kept:
        np.testing.assert_array_equal(c.output_vectors[i], sign * a.output_vectors[j])
    others = sorted(set(range(len(c) - 1)) - {i for i, *_ in kept})
    assert others and not c.output_vectors[others].any()


def test_a_gensim_tree_is_replaced_by_the_tree_of_the_merged_counts(tmp_path):
    gensim = pytest.importorskip("gensim.models")
    w2v = gensim.Word2Vec(A, vector_size=12, hs=1, negative=0, min_count=3, epochs=1, workers=1, seed=1)
    g = Model.from_gensim(w2v)
    c = frozen(g, B)
    assert c.tree is None and c.huffman_tree.same_tree(HuffmanTree(c.counts))
    c.save(tmp_path / "c.npz")
    assert Model.load(tmp_path / "c.npz").tree is None


def test_the_model_defines_objective_dim_arch_bias(models, tmp_path):
    a = models["ns"]
    with pytest.raises(W2VError, match="--dim 20 conflicts with the model's dim"):
        w2v_nce.train(B, continue_from=a, dim=20)
    with pytest.raises(W2VError, match="--objective hs conflicts"):
        w2v_nce.train(B, continue_from=a, objective="hs")
    with pytest.raises(W2VError, match="--arch cbow conflicts"):
        w2v_nce.train(B, continue_from=a, arch="cbow")
    with pytest.raises(W2VError, match="--bias conflicts with the model's bias"):
        w2v_nce.train(B, continue_from=a, bias=True)
    with pytest.raises(W2VError, match="--no-bias conflicts"):
        w2v_nce.train(B, continue_from=models["nce"], bias=False)
    c = w2v_nce.train(B, continue_from=a, dim=a.dim, objective="ns", epochs=1, workers=1)  # the same: fine
    assert c.dim == a.dim


def test_bad_inputs(models, tmp_path):
    a = models["ns"]
    a.save(tmp_path / "a.npz")
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes((tmp_path / "a.npz").read_bytes()[:2000])
    with pytest.raises(W2VError, match="not a w2v-nce model"):
        w2v_nce.train(B, continue_from=str(damaged))
    with pytest.raises(W2VError, match="not both"):
        w2v_nce.train(B, continue_from=a, resume=a)
    with pytest.raises(W2VError, match="not on a Dask cluster"):
        w2v_nce.train(B, continue_from=a, client=object())
    broken = Model(a.vocab, a.counts, a.input_vectors[:-1], a.output_vectors[:-1])
    with pytest.raises(W2VError, match="differ in size"):
        w2v_nce.train(B, continue_from=broken)


def test_an_interrupted_continued_run_resumes_on_the_new_text(models, tmp_path):
    saved = tmp_path / "checkpoint.npz"
    w2v_nce.train(B, continue_from=models["ns"], epochs=2, workers=1, checkpoint_every=1, checkpoint_path=str(saved))
    checkpoint = Model.load(saved)
    assert not checkpoint.progress["complete"] and "newword" in checkpoint.index
    done = w2v_nce.train(B, resume=checkpoint, workers=1)
    assert done.progress["complete"] and done.vocab == checkpoint.vocab
    np.testing.assert_array_equal(done.counts, checkpoint.counts)


def _write(path, sentences):
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return str(path)


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_cli(tmp_path):
    a_txt, b_txt = _write(tmp_path / "a.txt", A), _write(tmp_path / "b.txt", B)

    def run(*args):
        return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=tmp_path, timeout=300)

    r = run("train", a_txt, "-o", "a.vec", "--save-model", "a.npz", "--dim", 12, "--epochs", 1, "--workers", 1,
            "--min-count", 3, "-q")
    assert r.returncode == 0, r.stderr
    r = run("train", b_txt, "--continue-from", "a.npz", "-o", "b.vec", "--save-model", "b.npz", "--epochs", 1, "-q",
            "--dim", 12)
    assert r.returncode == 0, r.stderr
    a, b = Model.load(tmp_path / "a.npz"), Model.load(tmp_path / "b.npz")
    assert "newword" in b.index and "newword" not in a.index and b.dim == 12
    for args, message in [(("--dim", 20), "--dim 20 conflicts with the model's dim (12)"),
                          (("--objective", "hs"), "--objective hs conflicts with the model's objective (ns)"),
                          (("--arch", "cbow"), "--arch cbow conflicts")]:
        r = run("train", b_txt, "--continue-from", "a.npz", "-o", "c.vec", *args)
        assert r.returncode == 1 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    (tmp_path / "bad.npz").write_bytes((tmp_path / "a.npz").read_bytes()[:3000])
    r = run("train", b_txt, "--continue-from", "bad.npz", "-o", "c.vec")
    assert r.returncode == 1 and "bad.npz is not a w2v-nce model" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run("train", b_txt, "--continue-from", "a.npz", "--resume", "a.npz", "-o", "c.vec")
    assert r.returncode == 2 and "not both" in r.stderr
    assert not (tmp_path / "c.vec").exists()
