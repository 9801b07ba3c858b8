import gzip

import pytest

from w2v_nce.prepare.corpus import MAX_SENTENCE, TextCorpus, as_corpus, split_sentences
from w2v_nce.core.errors import W2VError, W2VWarning


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def test_lines_are_sentences_of_whitespace_tokens(tmp_path):
    p = write(tmp_path / "c.txt", b"a b  c\n\n d\te\r\nlast line")
    assert list(TextCorpus(p)) == [["a", "b", "c"], ["d", "e"], ["last", "line"]]


def test_long_line_is_split_not_truncated(tmp_path):
    words = [f"w{i}" for i in range(2 * MAX_SENTENCE + 17)]
    p = write(tmp_path / "c.txt", " ".join(words).encode())
    sents = list(TextCorpus(p))
    assert [len(s) for s in sents] == [MAX_SENTENCE, MAX_SENTENCE, 17]
    assert sum(sents, []) == words


@pytest.mark.parametrize("block", [1, 2, 3, 5, 7, 64])
def test_tokens_cut_by_block_boundaries_are_joined(tmp_path, block):
    text = "alpha beta\ngamma  delta epsilon\n\nzeta é ü\n"
    p = write(tmp_path / "c.txt", text.encode("utf-8"))
    assert list(TextCorpus(p, block_bytes=block)) == [["alpha", "beta"], ["gamma", "delta", "epsilon"],
                                                      ["zeta", "é", "ü"]]


def test_gzip_and_lowercase(tmp_path):
    p = tmp_path / "c.txt.gz"
    with gzip.open(p, "wb") as f:
        f.write(b"The Cat\nSAT\n")
    assert list(TextCorpus(p, lowercase=True)) == [["the", "cat"], ["sat"]]
    assert list(TextCorpus(p)) == [["The", "Cat"], ["SAT"]]


def test_invalid_utf8_is_replaced(tmp_path):
    p = write(tmp_path / "c.txt", b"ok \xff\xfebad fine\n")
    with pytest.warns(W2VWarning, match="2 invalid UTF-8"):
        assert list(TextCorpus(p)) == [["ok", "\ufffd\ufffdbad", "fine"]]


def test_split_sentences_of_blocks():
    blocks = ["a b", "c\nd", " e\n"]
    assert list(split_sentences(iter(blocks), max_sentence=2)) == [["a", "bc"], ["d", "e"]]


def test_token_lists_are_used_and_split():
    sents = [["A", "b"], ["c"] * (MAX_SENTENCE + 1)]
    got = list(as_corpus(sents, lowercase=True))
    assert got[0] == ["a", "b"] and len(got[1]) == MAX_SENTENCE and got[2] == ["c"]


def test_bad_paths_and_generators(tmp_path):
    with pytest.raises(W2VError, match="not found"):
        TextCorpus(tmp_path / "missing.txt")
    with pytest.raises(W2VError, match="directory"):
        TextCorpus(tmp_path)
    with pytest.raises(W2VError, match="re-iterable"):
        as_corpus(iter([["a"]]))
