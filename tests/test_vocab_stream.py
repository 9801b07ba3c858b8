import numpy as np
import pytest

from w2v_nce.core.errors import W2VError
from w2v_nce.prepare.stream import SENTINEL, EncodedCorpus
from w2v_nce.prepare.vocab import Vocabulary


def test_vocabulary_order_min_count_and_max_vocab():
    sents = [["b", "a", "c", "a"], ["b", "d", "a", "e", "e"]]
    v = Vocabulary.build(sents, min_count=2)
    assert v.words == ["a", "b", "e"]  # 3, 2, 2: ties keep first-seen order
    assert v.counts.tolist() == [3, 2, 2]
    assert v.raw_words == 9
    assert Vocabulary.build(sents, min_count=1, max_vocab=2).words == ["a", "b"]


def test_empty_corpus_and_empty_vocabulary_are_errors():
    with pytest.raises(W2VError, match="empty"):
        Vocabulary.build([], min_count=1)
    with pytest.raises(W2VError, match="min-count"):
        Vocabulary.build([["a", "b"]], min_count=2)


def test_keep_probability_is_word2vecs_formula():
    counts = np.array([100_000, 10_000, 1_000, 10])
    v = Vocabulary([f"w{i}" for i in range(4)], counts)
    sample = 1e-3
    t = sample * counts.sum()
    expected = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    np.testing.assert_allclose(v.keep_probabilities(sample), expected, rtol=1e-6)
    assert v.keep_probabilities(0).tolist() == [1.0] * 4


def test_encoded_stream_drops_unknown_words_and_marks_sentences(tmp_path):
    index = {"a": 0, "b": 1, "c": 2}
    sents = [["a", "x", "b"], ["y"], ["c", "c"], ["a"]]
    enc = EncodedCorpus.encode(sents, index, str(tmp_path / "ids"), chunk_words=4)
    assert enc.ids.tolist() == [0, 1, SENTINEL, 2, 2, SENTINEL, 0, SENTINEL]
    # chunks are cut at sentence ends once they hold >= 4 ids; raw words include unknown tokens
    assert enc.chunks.tolist() == [[0, 6, 6], [6, 8, 1]]
    assert enc.raw_words == 7 and enc.n_ids == 5 and enc.n_sentences == 3
    enc.close()
