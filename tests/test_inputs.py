"""A corpus named as users hold it: several files, directories, globs and standard input, read in order as one
corpus; gzip told by content, file by file; every bad input one error naming the path, with nothing written."""
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from w2v_nce import W2VError, train
from w2v_nce.bench.runs import split_corpus
from w2v_nce.core.errors import W2VWarning
from w2v_nce.prepare.corpus import TextCorpus, estimated_stream_ids
from w2v_nce.prepare.counting import CountedCorpus
from w2v_nce.prepare.inputs import resolve_inputs

EXE = shutil.which("w2v-nce")
needs_cli = pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
FAST = dict(dim=8, epochs=1, min_count=3, workers=1, seed=3)
FAST_ARGS = ["--dim", "8", "--epochs", "1", "--min-count", "3", "--workers", "1", "--seed", "3", "-q"]


def write(path, data, gz=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)
    return str(path)


@pytest.fixture
def stdin(monkeypatch):
    """Give standard input these bytes (a pipe, not a terminal)."""
    def feed(data):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    return feed


@pytest.fixture
def shards(small_corpus, tmp_path):
    """The small corpus cut into 4 files of a directory tree (one gzip-compressed, one with a name that sorts
    first only by its full path), with a hidden file beside them: (directory, the files in reading order)."""
    lines = open(small_corpus, "rb").read().splitlines(keepends=True)
    d = tmp_path / "shards"
    files = [write(d / "a.txt", b"".join(lines[:10])),
             write(d / "a" / "part.txt", b"".join(lines[10:25])),
             write(d / "b.txt.gz", b"".join(lines[25:40]), gz=True),
             write(d / "c" / "d" / "e.txt", b"".join(lines[40:]))]
    write(d / ".hidden.txt", b"never read\n" * 100)
    write(d / "c" / ".git" / "HEAD", b"never read\n" * 100)
    return str(d), files


def globs(d):
    """Globs of the shards in their reading order."""
    return [os.path.join(d, "a.*"), os.path.join(d, "[a]"), os.path.join(d, "[b-c]*")]


def same_preparation(a, b, stream_a, stream_b, lowercase=False):
    ca, cb = CountedCorpus(a, stream_a, lowercase, warn=False), CountedCorpus(b, stream_b, lowercase, warn=False)
    va, vb = ca.vocabulary(1), cb.vocabulary(1)
    assert va.words == vb.words and va.counts.tolist() == vb.counts.tolist()
    assert (va.raw_words, va.raw_sentences, ca.invalid_utf8) == (vb.raw_words, vb.raw_sentences, cb.invalid_utf8)
    ea, eb = ca.encode(va), cb.encode(vb)
    assert ea.ids.tolist() == eb.ids.tolist() and ea.chunks.tolist() == eb.chunks.tolist()
    ea.close()
    eb.close()


# --- naming the inputs -----------------------------------------------------------------------------------------

def test_a_directory_is_its_regular_files_recursively_in_sorted_path_order(shards, tmp_path):
    d, files = shards
    os.mkfifo(os.path.join(d, "fifo"))  # neither read nor waited for
    assert resolve_inputs(d).paths == files
    assert resolve_inputs(d).rereadable


def test_globs_lists_and_literal_names(shards, tmp_path):
    d, files = shards
    # the matches in sorted order, as a shell lists them (a, a.txt, b.txt.gz, c), a directory standing for its files
    assert resolve_inputs(os.path.join(d, "*")).paths == [files[1], files[0], files[2], files[3]]
    assert resolve_inputs([files[3], os.path.join(d, "a*.txt")]).paths == [files[3], files[0]]  # in the order given
    literal = write(tmp_path / "x[1].txt", b"a b\n")  # an existing name is never a pattern
    assert resolve_inputs(literal).paths == [literal]
    assert resolve_inputs(tmp_path / "x[1].txt").paths == [literal]


def test_bad_names_are_clear_errors(tmp_path, stdin):
    os.makedirs(tmp_path / "empty" / ".hidden")
    write(tmp_path / "empty" / ".hidden" / "a.txt", b"a b\n")
    os.makedirs(tmp_path / "loop" / "a")
    os.symlink("..", tmp_path / "loop" / "a" / "up")
    write(tmp_path / "loop" / "a" / "t.txt", b"a b\n")
    os.symlink("nowhere", tmp_path / "broken.txt")
    cases = [(tmp_path / "empty", f"corpus directory has no files to read: {tmp_path / 'empty'}"),
             (tmp_path / "loop", f"corpus directory loop: {tmp_path / 'loop' / 'a' / 'up'} leads back to "
                                 f"{tmp_path / 'loop'}"),
             (tmp_path / "broken.txt", f"corpus not found: {tmp_path / 'broken.txt'} (a broken symbolic link)"),
             (str(tmp_path / "none*.txt"), f"corpus not found: no file matches {tmp_path / 'none*.txt'}"),
             (tmp_path / "missing.txt", f"corpus not found: {tmp_path / 'missing.txt'}"),
             (["the cat sat", "on the mat"], "a corpus of sentences is a re-iterable of token lists, not of strings")]
    for corpus, message in cases:
        with pytest.raises(W2VError) as e:
            resolve_inputs(corpus)
        assert message in str(e.value)
    stdin(b"a b\n")
    with pytest.raises(W2VError, match=r"standard input \(-\) is given twice"):
        resolve_inputs(["-", "-"])

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    sys.stdin = Terminal()
    with pytest.raises(W2VError, match=r"is a terminal \(or closed\): pipe the corpus in"):
        resolve_inputs("-")


# --- read as one corpus ----------------------------------------------------------------------------------------

text_piece = st.sampled_from([b"a", b"b", b"The", b"\xc3\xa9", b"\xe2\x80", b"\xff", b" ", b"\t", b"\n", b"\r\n",
                              b"\xc2\x85", b"\xe3\x80\x80", "Σ".encode()])
file_bytes = st.lists(text_piece, max_size=25).map(b"".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(file_bytes, st.booleans()), min_size=1, max_size=5), st.booleans())
def test_several_inputs_are_their_concatenation_each_ending_a_line(tmp_path_factory, files, lowercase):
    """Counting, the vocabulary, the id stream and the invalid UTF-8 count of several files (some gzip) are those
    of one file of their bytes, a newline added after every file that does not end with one; the reference
    reader (TextCorpus) gives the same sentences."""
    d = tmp_path_factory.mktemp("several")
    paths = [write(d / f"f{i}", data, gz) for i, (data, gz) in enumerate(files)]
    joined = b"".join(data + (b"\n" if i < len(files) - 1 and not data.endswith(b"\n") else b"")
                      for i, (data, _) in enumerate(files))
    whole = write(d / "whole", joined)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", W2VWarning)
        sentences = list(TextCorpus(whole, lowercase))
        assert list(TextCorpus(paths, lowercase)) == sentences
        if sentences:
            same_preparation(paths, whole, str(d / "a.i32"), str(d / "b.i32"), lowercase)


def test_a_file_without_a_final_newline_ends_its_line(tmp_path):
    a, b = write(tmp_path / "a.txt", b"a b"), write(tmp_path / "b.txt", b"c d\n")
    assert list(TextCorpus([a, b])) == [["a", "b"], ["c", "d"]]
    counted = CountedCorpus([a, b], None)
    assert (counted.raw_words, counted.raw_sentences) == (4, 2)


def test_gzip_is_told_by_content_file_by_file(tmp_path, small_corpus):
    data = open(small_corpus, "rb").read()
    half = data.index(b"\n", len(data) // 2) + 1
    gz_named_txt = write(tmp_path / "d" / "1.txt", data[:half], gz=True)
    plain_named_gz = write(tmp_path / "d" / "2.gz", data[half:])
    assert resolve_inputs(tmp_path / "d").paths == [gz_named_txt, plain_named_gz]
    same_preparation(str(tmp_path / "d"), small_corpus, str(tmp_path / "a.i32"), str(tmp_path / "b.i32"))


def test_standard_input_is_read_once(stdin, small_corpus, tmp_path):
    data = open(small_corpus, "rb").read()
    stdin(gzip.compress(data))
    corpus = TextCorpus("-")
    assert not corpus.rereadable and estimated_stream_ids(corpus.inputs) is None
    assert list(corpus) == list(TextCorpus(small_corpus))
    with pytest.raises(W2VError, match=r"standard input \(-\) can be read only once"):
        list(corpus)
    stdin(data)
    same_preparation(["-"], small_corpus, str(tmp_path / "a.i32"), str(tmp_path / "b.i32"))


def test_invalid_utf8_is_one_warning_naming_the_files(tmp_path):
    a = write(tmp_path / "a.txt", b"ok \xff\n")
    b = write(tmp_path / "b.txt", b"fine\n")
    c = write(tmp_path / "c.txt", b"\xfe\xfe x\n")
    for make in (lambda: list(TextCorpus([a, b, c])), lambda: CountedCorpus([a, b, c], None)):
        with pytest.warns(W2VWarning) as caught:
            make()
        assert len(caught) == 1
        assert str(caught[0].message) == (f"2 files of the corpus (the first: {a}): 3 invalid UTF-8 byte "
                                          f"sequence(s) replaced by U+FFFD")
    with pytest.warns(W2VWarning, match=f"^{c}: 2 invalid UTF-8"):
        CountedCorpus([b, c], None)


def test_a_file_that_vanishes_after_the_listing_is_named(tmp_path):
    a, b = write(tmp_path / "a.txt", b"a b\n"), write(tmp_path / "b.txt", b"c d\n")
    inputs = resolve_inputs(tmp_path)
    os.remove(b)
    with pytest.raises(W2VError, match=f"^corpus file vanished before it was read: {b}$"):
        CountedCorpus(inputs, None)
    assert a in inputs.paths


def test_the_estimate_of_the_encoded_corpus_counts_every_input(shards):
    d, files = shards
    sentences = list(TextCorpus(d))
    assert estimated_stream_ids(d) == sum(len(s) + 1 for s in sentences)


def test_training_on_named_inputs_equals_training_on_the_concatenated_file(shards, small_corpus, stdin):
    d, files = shards
    ref = train(small_corpus, **FAST)
    stdin(open(small_corpus, "rb").read())
    for corpus in (d, globs(d), files, "-"):
        m = train(corpus, **FAST)
        assert m.vocab == ref.vocab and m.counts.tolist() == ref.counts.tolist()
        np.testing.assert_array_equal(m.input_vectors, ref.input_vectors)
        np.testing.assert_array_equal(m.output_vectors, ref.output_vectors)


def test_bench_holds_out_the_end_of_the_concatenated_sentences(shards, small_corpus, tmp_path, stdin):
    d, files = shards
    ref_path, got_path = tmp_path / "ref.txt", tmp_path / "got.txt"
    ref = split_corpus(small_corpus, ref_path, 0.05)
    stdin(gzip.compress(open(small_corpus, "rb").read()))
    for corpus in (files, d, "-"):
        got = split_corpus(corpus, got_path, 0.05)
        assert got == ref and len(ref) == 3
        assert got_path.read_bytes() == ref_path.read_bytes()
    assert ref == list(TextCorpus(small_corpus))[-3:]


# --- the command line ------------------------------------------------------------------------------------------

def run(*args, **kw):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, timeout=300, **kw)


@needs_cli
def test_cli_named_inputs_give_the_vectors_of_the_concatenated_file(shards, small_corpus, tmp_path):
    d, files = shards
    data = open(small_corpus, "rb").read()
    r = run("train", small_corpus, "-o", tmp_path / "ref.txt", *FAST_ARGS)
    assert r.returncode == 0, r.stderr
    ref = (tmp_path / "ref.txt").read_bytes()
    cases = {"directory": [d], "globs": globs(d), "files": files,
             "stdin": ["-"], "stdin-gz": ["-"], "files and stdin": [files[0], "-"]}
    for name, corpus in cases.items():
        feed = data
        if name == "stdin-gz":
            feed = gzip.compress(data)
        elif name == "files and stdin":
            feed = data[len(open(files[0], "rb").read()):]
        out = tmp_path / f"{name}.txt"
        r = run("train", *corpus, "-o", out, *FAST_ARGS, input=feed)
        assert r.returncode == 0 and r.stderr == b"", (name, r.stderr)
        assert out.read_bytes() == ref, name


def bad_inputs(tmp_path, small_corpus):
    """(corpus arguments, the one line expected on stderr) of every kind of bad input."""
    text = open(small_corpus, "rb").read()
    b = tmp_path / "bad"
    os.makedirs(b / "empty")
    write(b / "loop" / "a" / "t.txt", text)
    os.symlink("..", b / "loop" / "a" / "up")
    write(b / "binary" / "a.txt", text)
    write(b / "binary" / "b.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    write(b / "unreadable" / "a.txt", text)
    os.symlink("/proc/self/mem", b / "unreadable" / "b.txt")  # opens, then every read fails (EIO)
    write(b / "broken" / "a.txt", text)
    os.symlink("nowhere.txt", b / "broken" / "b.txt")
    write(b / "gz" / "a.txt", text)
    write(b / "gz" / "b.txt.gz", gzip.compress(text)[:-100])
    return [([b / "empty"], f"error: corpus directory has no files to read: {b / 'empty'} (hidden files and "
                            f"directories are skipped)"),
            ([b / "loop"], f"error: corpus directory loop: {b / 'loop' / 'a' / 'up'} leads back to {b / 'loop'} "
                           f"(a symbolic link to a directory above it)"),
            ([b / "binary"], f"error: {b / 'binary' / 'b.png'} looks like a binary file (NUL bytes in its first 160 "
                             f"bytes); expected UTF-8 text"),
            ([b / "unreadable"], f"error: cannot read corpus {b / 'unreadable' / 'b.txt'}: Input/output error"),
            ([b / "broken"], f"error: corpus not found: {b / 'broken' / 'b.txt'} (a broken symbolic link)"),
            ([b / "gz"], f"error: corrupt or truncated gzip file {b / 'gz' / 'b.txt.gz'}: "),
            ([small_corpus, b / "none*.txt"], f"error: corpus not found: no file matches {b / 'none*.txt'}"),
            (["-", "-"], "error: standard input (-) is given twice: it can be read only once")]


@needs_cli
@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc/self/mem")
def test_cli_bad_inputs_are_one_line_naming_the_path_and_write_nothing(tmp_path, small_corpus):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    os.makedirs(out)
    os.makedirs(tmp)
    for i, (corpus, message) in enumerate(bad_inputs(tmp_path, small_corpus)):
        # bench names its corpus as train does; it reads it its own way (bad reads: the binary file, EIO, gzip)
        for command in ("train", "bench") if i in (2, 3, 5) else ("train",):
            extra = ["-o", out / "v.txt", "--save-model", out / "m.npz"] if command == "train" else \
                ["--objectives", "ns", "--no-gensim", "--report", out / "report", "--json", out / "rows.json"]
            r = run(command, *corpus, *extra, "--tmp-dir", tmp, *FAST_ARGS, input=b"a b\n")
            lines = r.stderr.decode().strip().splitlines()
            assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith(message), (command, r.stderr)
            assert os.listdir(out) == [] and os.listdir(tmp) == [], (command, corpus)


@needs_cli
def test_cli_a_file_that_vanishes_while_the_corpus_is_read(tmp_path, small_corpus):
    """The first input, a named pipe, is read while the third file is removed: that file is named."""
    d = tmp_path / "in"
    first, second, third = d / "first", write(d / "second.txt", b"x y\n"), write(d / "third.txt", b"z\n")
    os.mkfifo(first)
    out = tmp_path / "out"
    os.makedirs(out)
    p = subprocess.Popen([EXE, "train", first, second, third, "-o", out / "v.txt", "--tmp-dir", out, *FAST_ARGS],
                         stderr=subprocess.PIPE)
    with open(first, "wb") as f:  # opened once training reads it
        f.write(open(small_corpus, "rb").read())
        f.flush()
        os.remove(third)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 1 and err.decode() == f"error: corpus file vanished before it was read: {third}\n"
    assert os.listdir(out) == []


@needs_cli
def test_cli_bench_on_several_inputs_and_standard_input(shards, small_corpus, tmp_path):
    d, files = shards
    rows = {}
    args = ["--objectives", "ns", "--no-gensim", "--no-curves", "--heldout-fraction", "0.05"] + FAST_ARGS[:-1]
    for name, corpus, feed in [("file", [small_corpus], None), ("files", files, None), ("directory", [d], None),
                               ("stdin", ["-"], open(small_corpus, "rb").read())]:
        r = run("bench", *corpus, *args, "--json", tmp_path / f"{name}.json", input=feed)
        assert r.returncode == 0, (name, r.stderr)
        assert "held out 3 sentences (3,000 tokens); training on 57 sentences (57,000 tokens)" in r.stderr.decode()
        [row] = json.loads((tmp_path / f"{name}.json").read_text())
        rows[name] = {k: row[k] for k in ("heldout_nll", "train_loss", "vocab_size")}
    assert rows["files"] == rows["file"] and rows["directory"] == rows["file"] and rows["stdin"] == rows["file"]


@needs_cli
def test_cli_a_signal_while_standard_input_stalls_stops_at_once(small_corpus, tmp_path):
    """SIGTERM while the reader waits on a pipe that gives nothing more: stopped in seconds, exit 143."""
    import signal

    p = subprocess.Popen([EXE, "train", "-", "-o", tmp_path / "v.txt", *FAST_ARGS], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdin.write(open(small_corpus, "rb").read() * 4)  # returns once all but a pipe's buffer is read
    p.stdin.flush()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=30)  # standard input still open
        err = p.stderr.read()
    finally:
        p.kill()
        p.stdin.close()
    assert p.returncode == 128 + signal.SIGTERM and err.decode().endswith("interrupted (SIGTERM); nothing was saved\n")
    assert os.listdir(tmp_path) == []
