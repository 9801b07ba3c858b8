import os
import stat

import numpy as np
import pytest
from gensim.models import KeyedVectors

from w2v_nce import Model, W2VError
from w2v_nce.core.files import atomic_write


def make_model(rng, bias=True):
    vocab = ["the", "of", "naïve", "x", "日本"]
    V, d = len(vocab), 6
    return Model(vocab, np.array([50, 40, 9, 7, 5]), rng.standard_normal((V, d)).astype(np.float32),
                 rng.standard_normal((V, d)).astype(np.float32),
                 rng.standard_normal(V).astype(np.float32) if bias else None,
                 [2.5, 2.0], {"objective": "nce", "arch": "sg"}, {"train_seconds": 1.0})


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_loads_in_gensim_identically(tmp_path, rng, binary):
    m = make_model(rng)
    path = tmp_path / ("v.bin" if binary else "v.txt")
    m.save_word2vec_format(path, binary=binary)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == m.vocab
    assert kv.vectors.dtype == np.float32
    np.testing.assert_array_equal(kv.vectors, m.input_vectors)


def test_to_keyedvectors(rng):
    m = make_model(rng)
    kv = m.to_keyedvectors()
    assert isinstance(kv, KeyedVectors) and kv.index_to_key == m.vocab
    np.testing.assert_array_equal(kv["naïve"], m["naïve"])
    assert kv.get_vecattr("the", "count") == 50


def test_save_load_roundtrip(tmp_path, rng):
    for bias in (True, False):
        m = make_model(rng, bias)
        m.save(tmp_path / "m.npz")
        m2 = Model.load(tmp_path / "m.npz")
        assert m2.vocab == m.vocab and m2.counts.tolist() == m.counts.tolist()
        np.testing.assert_array_equal(m2.input_vectors, m.input_vectors)
        np.testing.assert_array_equal(m2.output_vectors, m.output_vectors)
        assert (m2.output_bias is None) == (not bias)
        if bias:
            np.testing.assert_array_equal(m2.output_bias, m.output_bias)
        assert m2.epoch_losses == m.epoch_losses and m2.options == m.options and m2.stats == m.stats


def test_load_garbage_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.npz"
    p.write_bytes(b"not a model")
    with pytest.raises(W2VError, match="is not a w2v-nce model .a text file"):
        Model.load(p)


def test_scores_are_dot_products_plus_bias(rng):
    m = make_model(rng)
    s = m.scores([2, 0])
    assert s.shape == (2, 5)
    expected = m.input_vectors[2].astype(np.float64) @ m.output_vectors.T.astype(np.float64) + m.output_bias
    np.testing.assert_allclose(s[0], expected, rtol=1e-12)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "out.txt"
    p.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(p) as f:
            f.write(b"partial")
            raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert list(tmp_path.iterdir()) == [p]


def test_atomic_write_gives_the_usual_file_mode(tmp_path):
    """A new file gets 0666 less the umask, as open() gives; a replaced file keeps its mode."""
    umask = os.umask(0o022)
    os.umask(umask)
    new = tmp_path / "new.txt"
    with atomic_write(new) as f:
        f.write(b"x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    new.chmod(0o640)
    with atomic_write(new) as f:
        f.write(b"y")
    assert stat.S_IMODE(new.stat().st_mode) == 0o640 and new.read_bytes() == b"y"
