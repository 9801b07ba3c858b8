"""The compiled one-pass preparation gives exactly the reference path's vocabulary and id stream."""
import gzip
import os
import subprocess
import sys
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import w2v_nce
from w2v_nce.prepare.corpus import TextCorpus
from w2v_nce.core.errors import W2VError, W2VWarning
from w2v_nce.cluster.pieces import PieceInputs
from w2v_nce.prepare.counting import CountedCorpus
from w2v_nce.prepare.inputs import line_ranges
from w2v_nce.prepare.stream import EncodedCorpus
from w2v_nce.prepare.tokens import lowercase_table
from w2v_nce.prepare.vocab import Vocabulary

WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
PIECES = [
    # str.split()'s whitespace, and lines
    *[w.encode() for w in WHITESPACE], b"\r\n", b"\n\n",
    # words, cases, and the code points lowercased in Python (final sigma, dotted capital I, Kelvin sign)
    b"a", b"B", b"the", b"The", b"THE", *[w.encode() for w in
                                          ["Σ", "ΑΣ", "ΣΑ", "σ", "ς", "ας", "İ", "i̇", "\u212a", "k", "é", "É", "ǅ"]],
    # valid U+FFFD, and invalid sequences of every kind (lone continuation, overlong, surrogate, truncated,
    # beyond U+10FFFF, bytes never valid)
    b"\xef\xbf\xbd", b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xc2", b"\xe0\x80", b"\xe0\xa0", b"\xe2\x80",
    b"\xed\xa0\x80", b"\xf0\x80", b"\xf0\x90\x80", b"\xf4\x90\x80\x80", b"\xf5", b"\xf8", b"\xff", b"\xfe",
]
piece = st.one_of(st.sampled_from(PIECES), st.binary(max_size=6), st.text(max_size=4).map(str.encode))
corpus_bytes = st.lists(piece, max_size=60).map(b"".join)


def write(path, data, gz=False):
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)
    return str(path)


def reference(path, stream, lowercase=False, min_count=1, max_vocab=None, max_sentence=1000, block=1 << 20,
              chunk_words=50_000):
    """Today's Python path: TextCorpus → Vocabulary.build → EncodedCorpus.encode."""
    corpus = TextCorpus(path, lowercase=lowercase, max_sentence=max_sentence, block_bytes=block)
    try:
        vocab = Vocabulary.build(corpus, min_count, max_vocab)
    except W2VError as e:
        return str(e)
    return vocab, EncodedCorpus.encode(corpus, vocab.index, stream, chunk_words), corpus.invalid_utf8


def compiled(path, stream, lowercase=False, min_count=1, max_vocab=None, max_sentence=1000, block=1 << 20,
             chunk_words=50_000, max_vocab_size=10_000_000):
    try:
        counted = CountedCorpus(path, stream, lowercase, max_vocab_size, max_sentence, block)
        vocab = counted.vocabulary(min_count, max_vocab)
    except W2VError as e:
        return str(e)
    return vocab, counted.encode(vocab, chunk_words), counted.invalid_utf8


def assert_same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    (va, ea, ia), (vb, eb, ib) = a, b
    assert va.words == vb.words
    assert va.counts.tolist() == vb.counts.tolist()
    assert (va.raw_words, va.raw_sentences) == (vb.raw_words, vb.raw_sentences)
    assert ea.ids.tolist() == eb.ids.tolist()
    assert ea.chunks.tolist() == eb.chunks.tolist()
    assert ea.n_sentences == eb.n_sentences
    assert ia == ib
    ea.close()
    eb.close()


def both(tmp, data, gz=False, **kw):
    p = write(tmp / ("c.gz" if gz else "c.txt"), data, gz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", W2VWarning)
        return reference(p, str(tmp / "r.i32"), **kw), compiled(p, str(tmp / "p.i32"), **kw)


@settings(max_examples=400, deadline=None)
@given(corpus_bytes, st.integers(1, 40), st.booleans(), st.integers(1, 3), st.sampled_from([1, 2, 3, 1000]),
       st.integers(1, 9))
def test_compiled_preparation_equals_the_reference_on_random_text(tmp_path_factory, data, block, lowercase,
                                                                   min_count, max_sentence, chunk_words):
    tmp = tmp_path_factory.mktemp("prep")
    assert_same(*both(tmp, data, lowercase=lowercase, min_count=min_count, max_sentence=max_sentence,
                      block=block, chunk_words=chunk_words))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 16), st.booleans())
def test_compiled_preparation_equals_the_reference_on_random_bytes(tmp_path_factory, data, block, lowercase):
    tmp = tmp_path_factory.mktemp("prep")
    assert_same(*both(tmp, data, lowercase=lowercase, block=block, chunk_words=3))


@settings(max_examples=150, deadline=None)
@given(corpus_bytes, st.floats(0, 1), st.floats(0, 1), st.integers(0, 99), st.integers(0, 99), st.booleans(),
       st.sampled_from([2, 1000]))
def test_a_byte_range_and_a_sentence_range_give_the_reference_of_that_text(tmp_path_factory, data, f1, f2, s1, s2,
                                                                           lowercase, max_sentence):
    # what a Dask worker does with a piece of a file: count its bytes, then encode some of its sentences
    tmp = tmp_path_factory.mktemp("range")
    path = write(tmp / "c.txt", data)
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == 10] + [len(data)]
    a, b = sorted(line_starts[int(f * (len(line_starts) - 1))] for f in (f1, f2))
    alone = write(tmp / "piece.txt", data[a:b])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", W2VWarning)
        sentences = list(TextCorpus(alone, lowercase=lowercase, max_sentence=max_sentence))
    piece = dict(paths=[path], start=a, end=b, bytes=b - a)
    counted = CountedCorpus(PieceInputs([piece]), str(tmp / "s.i32"), lowercase, max_sentence=max_sentence,
                            warn=False)
    assert list(counted.word_counts().items()) == list(Counter(t for s in sentences for t in s).items())
    assert (counted.raw_words, counted.raw_sentences) == (sum(map(len, sentences)), len(sentences))
    if not sentences:
        return
    vocab = Vocabulary.build(sentences, 1)
    first, end = sorted(x % (len(sentences) + 1) for x in (s1, s2))
    mine = counted.encode(vocab, chunk_words=3, sentences=(first, end))
    ref = EncodedCorpus.encode(sentences[first:end], vocab.index, str(tmp / "r.i32"), 3)
    assert mine.ids.tolist() == ref.ids.tolist()
    assert mine.chunks.tolist() == ref.chunks.tolist() and mine.n_sentences == ref.n_sentences
    mine.close()
    ref.close()


def test_long_lines_gzip_max_vocab_and_chunks_of_a_real_corpus(small_corpus, tmp_path):
    with open(small_corpus, "rb") as f:
        data = f.read()
    data = data.replace(b"\n", b" ", 30)  # lines of several thousand tokens
    for gz in (False, True):
        assert_same(*both(tmp_path, data, gz=gz, min_count=3, max_vocab=500, block=4099, chunk_words=1000))
    assert_same(*both(tmp_path, data, lowercase=True, min_count=2))


def test_errors_are_the_same(tmp_path):
    assert both(tmp_path, b"")[1] == "the corpus is empty: it has no tokens"
    assert both(tmp_path, b" \n\t\xe3\x80\x80\n")[1] == "the corpus is empty: it has no tokens"
    assert "no word occurs 3 times" in both(tmp_path, b"a b a", min_count=3)[1]
    assert "binary file" in both(tmp_path, b"\x00\x01words")[1]
    data = gzip.compress(b"some words here and there\n" * 20000)
    p = write(tmp_path / "bad.gz", data[:len(data) // 2])
    with pytest.raises(W2VError, match=r"corrupt or truncated gzip file .*bad\.gz"):
        CountedCorpus(p, str(tmp_path / "s.i32"))


def test_invalid_utf8_is_warned_once_with_the_count(tmp_path):
    p = write(tmp_path / "c.txt", b"good words \xff here\nand \xc3\x28 there \xe2\x82\n")
    with pytest.warns(W2VWarning, match="3 invalid UTF-8") as caught:
        counted = CountedCorpus(p, str(tmp_path / "s.i32"))
    assert len(caught) == 1 and counted.invalid_utf8 == 3
    vocab = counted.vocabulary(1)
    assert vocab.words[:3] == ["\ufffd", "good", "words"] and vocab.counts[0] == 2
    assert "\ufffd(" in vocab.index


def test_lowercase_table_is_str_lower():
    table = lowercase_table()
    for cp in [0x41, 0x5A, 0xC9, 0x1C5, 0x212A, 0x10400, 0x1E9E, 0x61, 0x3C3]:
        assert chr(table[cp]) == chr(cp).lower()
    assert table[0x130] == -1 and table[0x3A3] == -1  # lowercased in Python
    text = "ΑΣ ΣΑ ΑΣΑ İstanbul \u212aelvin ǅ"
    assert text.lower().split() == [t.lower() for t in text.split()]


# --- bounded counting -------------------------------------------------------------------------------------

def pruned_reference(sentences, bound, min_count):
    """The vocabulary and the sentences as training sees them under bounded counting, by brute force: a token
    occurrence is kept only if its table entry is never pruned afterwards (None stands for a lost one)."""
    pruning = {}
    vocab = Vocabulary.build(sentences, min_count, max_vocab_size=bound, pruning=pruning)
    table = {}  # token → (count, incarnation)
    incarnation = 0
    threshold = 1
    occurrences = []
    for sent in sentences:
        for w in sent:
            if w not in table:
                if len(table) >= bound:
                    need = max(1, len(table) // 4)
                    threshold = max(threshold, sorted(c for c, _ in table.values())[need - 1])
                    table = {t: v for t, v in table.items() if v[0] > threshold}
                    threshold += 1
                incarnation += 1
                table[w] = (0, incarnation)
            table[w] = (table[w][0] + 1, table[w][1])
            occurrences.append((w, table[w][1]))
    alive = {w: inc for w, (_, inc) in table.items()}
    it = iter(occurrences)
    kept = [[w if alive.get(w) == inc else None for w, inc in (next(it) for _ in sent)] for sent in sentences]
    return vocab, kept, pruning


def test_bounded_counting_prunes_like_the_reference(tmp_path):
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(3000)]
    sentences = [[words[i] for i in rng.zipf(1.4, size=rng.integers(1, 30)) % 3000] for _ in range(2000)]
    p = write(tmp_path / "c.txt", "\n".join(" ".join(s) for s in sentences).encode())
    for bound in (7, 50, 400):
        vocab, kept, pruning = pruned_reference(sentences, bound, min_count=2)
        counted = CountedCorpus(p, str(tmp_path / "s.i32"), max_vocab_size=bound, block_bytes=333)
        assert counted.table.counts.shape[0] <= bound
        got = counted.vocabulary(2)
        assert got.words == vocab.words and got.counts.tolist() == vocab.counts.tolist()
        assert (counted.pruned, counted.max_pruned_count) == (pruning["pruned"], pruning["max_pruned_count"])
        assert counted.pruned > 0
        enc = counted.encode(got, chunk_words=64)
        expected = EncodedCorpus.encode(kept, vocab.index, str(tmp_path / "r.i32"), chunk_words=64)
        assert enc.ids.tolist() == expected.ids.tolist() and enc.chunks.tolist() == expected.chunks.tolist()
        enc.close()
        expected.close()
        assert not [f for f in os.listdir(tmp_path) if "renumbered" in f]  # renumbering files removed


def test_bounded_counting_of_many_distinct_tokens_keeps_frequent_words_exact(tmp_path):
    """200,000 distinct hapaxes among frequent words, a table of 2,000: the table never grows past the bound,
    the frequent words' counts are exact, and training reports the pruning."""
    rng = np.random.default_rng(0)
    frequent = [f"common{i}" for i in range(50)]
    lines = []
    for i in range(2000):
        line = [frequent[j] for j in rng.integers(0, 50, size=100)] + [f"rare{i}_{j}" for j in range(100)]
        rng.shuffle(line)
        lines.append(" ".join(line))
    p = write(tmp_path / "c.txt", "\n".join(lines).encode())
    true = Vocabulary.build(TextCorpus(p), min_count=5)
    counted = CountedCorpus(p, str(tmp_path / "s.i32"), max_vocab_size=2000)
    # the entries never outgrow the bound; the key bytes take a few MB (room for the longest key of a block)
    assert counted.table.counts.shape[0] == 2000 and counted.table.arena.shape[0] <= 8 << 20
    got = counted.vocabulary(5)
    assert got.words == true.words and got.counts.tolist() == true.counts.tolist()
    assert counted.pruned >= 190_000 and counted.max_pruned_count >= 1
    counted.encode(got).close()
    model = w2v_nce.train(p, dim=4, epochs=1, workers=1, max_vocab_size=2000)
    assert model.stats["pruned_tokens"] == counted.pruned
    assert model.stats["max_pruned_count"] == counted.max_pruned_count
    assert model.options["max_vocab_size"] == 2000
    assert model.vocab == true.words


@pytest.mark.skipif(not __import__("shutil").which("w2v-nce"), reason="w2v-nce is not installed")
def test_cli_reports_pruning_in_the_summary(tmp_path):
    lines = [" ".join(["the", "cat", f"x{i}", f"y{i}"]) for i in range(3000)]
    p = write(tmp_path / "c.txt", "\n".join(lines).encode())
    r = subprocess.run([sys.executable, "-m", "w2v_nce", "train", p, "-o", str(tmp_path / "v.txt"), "--dim", "4",
                        "--epochs", "1", "--min-count", "2", "--max-vocab-size", "100"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "counting pruned" in r.stderr and "distinct tokens" in r.stderr
    r = subprocess.run([sys.executable, "-m", "w2v_nce", "train", p, "--max-vocab-size", "0"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--max-vocab-size" in r.stderr


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.text(alphabet="ab ", max_size=6), max_size=8), last_newline=st.booleans(),
       cuts=st.lists(st.integers(0, 60), max_size=4), block=st.integers(1, 5))
def test_line_ranges_that_tile_a_text_give_each_line_to_the_range_it_starts_in(lines, last_newline, cuts, block):
    """line_ranges, from blocks of any size: every line once, in the range holding its first byte, whether the
    ranges are read one by one or several in one pass."""
    text = "\n".join(lines).encode() + (b"\n" if last_newline and lines else b"")
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == 10 and i + 1 < len(text)] if text else []
    bounds = sorted(set([0] + cuts))
    ranges = list(zip(bounds, bounds[1:] + [None]))
    got = [b"".join(b for _, b in line_ranges((text[i:i + block] for i in range(0, len(text), block)), [r]))
           for r in ranges]
    assert b"".join(got) == text
    # read together in one pass: the same bytes, and every second range alone too
    for chosen in (ranges, ranges[::2], ranges[1::2]):
        together = {}
        for k, b in line_ranges((text[i:i + block] for i in range(0, len(text), block)), chosen):
            together[k] = together.get(k, b"") + b
        assert [together.get(k, b"") for k in range(len(chosen))] == [got[ranges.index(r)] for r in chosen]
    for (a, b), part in zip(ranges, got):
        mine = [q for q in starts if q >= a and (b is None or q < b)]
        stop = min([q for q in starts if b is not None and q >= b] + [len(text)])
        assert part == (text[mine[0]:stop] if mine else b"")


def test_the_content_size_of_small_and_incompressible_gzip_files(tmp_path):
    """A .gz file's content size from its trailer, not raised by 2³² because gzip made the file larger than its
    content (a few bytes of text; random bytes, which do not compress)."""
    from w2v_nce.prepare.inputs import uncompressed_size

    for name, content in (("tiny.txt.gz", b"a b\n"), ("random.gz", np.random.default_rng(0).bytes(300_000))):
        path = tmp_path / name
        with gzip.open(path, "wb") as f:
            f.write(content)
        assert os.path.getsize(path) > len(content) and uncompressed_size(str(path)) == len(content)
