"""Word vectors from a file of any kind w2v-nce reads, told apart by content, not by name: a w2v-nce model (.npz,
a zip archive: it starts with "PK"), word2vec text (a header line "COUNT DIM", then per line a word and DIM
numbers) or word2vec binary (the header, then per word its token, a space and DIM little-endian float32), either
of them possibly gzip-compressed."""
import gzip
import os
import zlib

import numpy as np

from ..core.errors import W2VError
from ..prepare.inputs import check_readable_file
from .model import Model

MODEL, TEXT, BINARY = "w2v-nce model", "word2vec text", "word2vec binary"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first local header, or the end record of an empty one
_PROBE_RECORDS = 20  # binary records read to recognize the format
_MAX_WORD_BYTES = 1 << 16
_MAX_HEADER_BYTES = 100


def check_readable(path, what="vectors file"):
    check_readable_file(path, what)


def _not_ours(path, why):
    return W2VError(f"{path} is neither a w2v-nce model nor word2vec vectors (text or binary): {why}")


def _header(path, f):
    """(count, dim) of a word2vec header line "COUNT DIM"."""
    line = f.readline(_MAX_HEADER_BYTES)
    try:
        fields = line.decode("ascii").split()
        count, dim = (int(x) for x in fields)
    except ValueError:
        shown = line[:40].decode("utf-8", errors="replace").rstrip("\r\n")
        raise _not_ours(path, f"its first line should be 'COUNT DIM', got {shown!r}") from None
    if count < 1 or dim < 1:
        raise _not_ours(path, f"its header announces {count} vectors of dimension {dim}")
    return count, dim


def _is_text_record(line, dim):
    try:
        fields = line.decode("utf-8").split()
        if len(fields) != dim + 1:
            return False
        np.array(fields[1:], dtype=np.float64)
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _binary_records(f, dim, n):
    """How many of the next n records are a token (UTF-8, no newline), a space and dim finite float32, and
    whether reading stopped at the end of the file."""
    for done in range(n):
        word = bytearray()
        while True:
            c = f.read(1)
            if c == b"":
                return done, True
            if len(word) > _MAX_WORD_BYTES:
                return done, False
            if c == b" ":
                break
            if c == b"\n":
                if word:
                    return done, False
                continue  # the newline ending the previous record
            word += c
        try:
            word.decode("utf-8")
        except UnicodeDecodeError:
            return done, False
        data = f.read(4 * dim)
        if len(data) < 4 * dim:
            return done, True
        if not word or not np.isfinite(np.frombuffer(data, "<f4")).all():
            return done, False
    return n, False


def _check_text_lines(path, f, count, dim):
    """Every vector line of a text file has a word and dim fields, and there are count of them; the first
    _PROBE_RECORDS are also parsed as numbers. A W2VError names the first bad line."""
    for number in range(2, count + 2):
        line = f.readline()
        if not line:
            raise W2VError(f"{path} is truncated: it ends after {number - 2:,} of the {count:,} vectors its header "
                           f"announces")
        fields = line.split()
        if len(fields) != dim + 1 or (number < _PROBE_RECORDS + 2 and not _is_text_record(line, dim)):
            raise W2VError(f"{path}, line {number}: expected a word and {dim} numbers (word2vec text format), got "
                           f"{len(fields)} field{'s' if len(fields) != 1 else ''}")


def vectors_format(path):
    """MODEL, TEXT or BINARY, from the file's content (word2vec vectors may be gzip-compressed); W2VError if it
    is none of them."""
    check_readable(path)
    path = os.fspath(path)
    with open(path, "rb") as raw:
        magic = raw.read(4)
        if magic in _ZIP_MAGIC:
            return MODEL
        raw.seek(0)
        compressed = magic[:2] == b"\x1f\x8b"
        f = gzip.open(raw) if compressed else raw
        try:
            return _word2vec_format(path, f, compressed)
        except (OSError, EOFError, zlib.error) as e:  # a damaged gzip stream
            raise W2VError(f"{path}: corrupt or truncated gzip file: {e}") from None


def _word2vec_format(path, f, compressed):
    count, dim = _header(path, f)
    start = f.tell()
    if _is_text_record(f.readline(), dim):
        f.seek(start)
        _check_text_lines(path, f, count, dim)
        return TEXT
    f.seek(start)
    probe = min(count, _PROBE_RECORDS)
    records, ended = _binary_records(f, dim, probe)
    if records and ended:
        raise W2VError(f"{path} is truncated: it ends inside binary vector {records + 1:,} of the {count:,} its "
                       f"header announces")
    if records == probe:
        size, least = os.path.getsize(path), start + count * (4 * dim + 2)  # token ≥ 1 byte, the space
        if not compressed and size < least:
            raise W2VError(f"{path} is truncated: {size:,} bytes cannot hold the {count:,} binary vectors "
                           f"of dimension {dim} its header announces")
        return BINARY
    raise _not_ours(path, f"line 2 is neither a word and {dim} numbers (text) nor a word, a space and {dim} "
                          f"float32 (binary)")


def load_keyed_vectors(path):
    """A gensim KeyedVectors of the file: a model's input vectors (with the word counts), or gensim's
    load_word2vec_format of word2vec text or binary."""
    fmt = vectors_format(path)
    if fmt == MODEL:
        return Model.load(path).to_keyedvectors()
    from gensim.models import KeyedVectors

    if _is_gzip(path) and not os.fspath(path).endswith(".gz"):
        raise W2VError(f"{path} is gzip-compressed: name it *.gz (gensim decompresses by the name) or gunzip it")
    try:
        return KeyedVectors.load_word2vec_format(os.fspath(path), binary=fmt == BINARY)
    except (ValueError, EOFError, UnicodeDecodeError) as e:
        raise W2VError(f"{path} is not valid {fmt} vectors: {e}") from None


def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def load_model(path):
    """Model.load of a w2v-nce model; word2vec vectors (which have no output layer) are a W2VError saying so."""
    check_readable(path, "model file")
    try:
        fmt = vectors_format(path)
    except W2VError:
        fmt = MODEL  # not vectors: Model.load says what is wrong with it
    if fmt != MODEL:
        raise W2VError(f"{path} holds word vectors only ({fmt}), without the output layer that scores words: "
                       f"use a model saved by `w2v-nce train --save-model`")
    return Model.load(path)
