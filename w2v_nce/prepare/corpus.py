"""Corpus reading: plain text or gzip, UTF-8, whitespace tokens, one sentence per line.

The reader streams fixed-size blocks, so a corpus that is one 100 MB line (text8's original form) is read in
bounded memory. Lines longer than MAX_SENTENCE tokens become several sentences of at most MAX_SENTENCE tokens;
nothing is truncated. Invalid UTF-8 is decoded with U+FFFD replacement characters.
"""
import codecs
import gzip
import os
import threading
import warnings
import zlib

from ..core.errors import W2VError, W2VWarning

MAX_SENTENCE = 1000
BLOCK_BYTES = 1 << 20


_decode_errors = threading.local()


def _count_and_replace(err):
    """Decoding error handler: like "replace" (one U+FFFD per invalid sequence), and counts the sequences."""
    _decode_errors.count = getattr(_decode_errors, "count", 0) + 1
    return "\ufffd", err.end


codecs.register_error("w2v_nce.count_replace", _count_and_replace)


def _open_binary(path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def check_readable_file(path, what):
    """Raise W2VError, naming the file as `what` ("corpus", "vectors file", ...), unless path names a readable
    regular file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise W2VError(f"{what} not found: {path}")
    if os.path.isdir(path):
        raise W2VError(f"{what} is a directory, not a file: {path}")
    if not os.access(path, os.R_OK):
        raise W2VError(f"{what} is not readable: {path}")


def check_corpus_path(path):
    check_readable_file(path, "corpus")


class TextCorpus:
    """A re-iterable of sentences (lists of str tokens) read from a text or .gz file."""

    def __init__(self, path, lowercase=False, max_sentence=MAX_SENTENCE, block_bytes=BLOCK_BYTES):
        check_corpus_path(path)
        self.path = os.fspath(path)
        self.lowercase = lowercase
        self.max_sentence = max_sentence
        self.block_bytes = block_bytes
        self.invalid_utf8 = 0  # invalid byte sequences replaced in the last complete pass
        self._warned = False

    def _text_blocks(self):
        decoder = codecs.getincrementaldecoder("utf-8")(errors="w2v_nce.count_replace")
        invalid = 0
        for raw in read_blocks(self.path, self.block_bytes):
            before = getattr(_decode_errors, "count", 0)
            text = decoder.decode(raw)
            invalid += getattr(_decode_errors, "count", 0) - before
            yield text
        before = getattr(_decode_errors, "count", 0)
        tail = decoder.decode(b"", final=True)
        invalid += getattr(_decode_errors, "count", 0) - before
        if tail:
            yield tail
        self.invalid_utf8 = invalid
        if invalid and not self._warned:
            self._warned = True
            warnings.warn(f"{self.path}: {invalid:,} invalid UTF-8 byte sequence(s) replaced by U+FFFD",
                          W2VWarning, stacklevel=2)

    def __iter__(self):
        sentences = split_sentences(self._text_blocks(), self.max_sentence)
        if not self.lowercase:
            return sentences
        # token by token: the same as lowercasing the whole text (whitespace is neither cased nor
        # case-ignorable, so str.lower's final-sigma rule never looks across it), whatever the block boundaries
        return ([t.lower() for t in sent] for sent in sentences)


def read_blocks(path, block_bytes=BLOCK_BYTES, byte_range=None):
    """The bytes of a text or .gz file in blocks of block_bytes (the first at least 64 KiB, checked for NUL
    bytes: a binary file is refused); read errors become W2VError naming the file. byte_range=(start, end):
    only those bytes of a plain text file."""
    first = True
    left = None
    try:
        with (_open_binary(path) if byte_range is None else open(path, "rb")) as f:
            if byte_range is not None:
                f.seek(byte_range[0])
                left = byte_range[1] - byte_range[0]
            while left is None or left > 0:
                size = block_bytes if not first else max(block_bytes, 1 << 16)
                raw = f.read(size if left is None else min(size, left))
                if not raw:
                    break
                if left is not None:
                    left -= len(raw)
                if first and b"\x00" in raw:
                    raise W2VError(f"{path} looks like a binary file (NUL bytes in its first "
                                   f"{len(raw):,} bytes); expected UTF-8 text")
                first = False
                yield raw
    except (OSError, EOFError, zlib.error) as e:
        kind = "corrupt or truncated gzip file" if isinstance(e, (EOFError, zlib.error, gzip.BadGzipFile)) \
            else "cannot read corpus"
        raise W2VError(f"{kind} {path}: {e}") from None


# Text read to estimate the size of the encoded corpus before it is written (estimated_stream_ids).
SAMPLE_BYTES = 4 << 20


def uncompressed_size(path):
    """The size of a plain file, or of a .gz file's content: its trailer's size modulo 2³² (ISIZE), raised by
    2³² while below the compressed size."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b" or size < 18:
            return size
        f.seek(-4, os.SEEK_END)
        content = int.from_bytes(f.read(4), "little")
    while content < size:
        content += 1 << 32
    return content


def estimated_stream_ids(path, sample_bytes=SAMPLE_BYTES):
    """The ids one pass over a text or .gz file writes: one per token and one per sentence end. Exact when the
    file is at most sample_bytes long; else the first sample_bytes' ids per byte times the file's size."""
    sample, complete = bytearray(), True
    for block in read_blocks(path):
        sample += block
        if len(sample) >= sample_bytes:
            complete = False
            break
    ids = sum(len(s) + 1 for s in split_sentences([bytes(sample).decode("utf-8", errors="replace")]))
    if complete or not sample:
        return ids
    return int(ids * uncompressed_size(path) / len(sample)) + 1


def split_sentences(blocks, max_sentence=MAX_SENTENCE):
    """Sentences from a stream of text blocks: a line ends a sentence, and so does every max_sentence-th token.

    A token cut by a block boundary is joined with its rest from the next block.
    """
    pending = []  # tokens of the current line not yet emitted
    carry = ""  # a token prefix at the end of the previous block
    for text in blocks:
        if carry:
            text = carry + text
            carry = ""
        lines = text.split("\n")
        last = len(lines) - 1
        for i, line in enumerate(lines):
            tokens = line.split()
            if i == last and tokens and not line[-1].isspace():
                carry = tokens.pop()
            pending.extend(tokens)
            if len(pending) >= max_sentence:
                full = len(pending) - len(pending) % max_sentence
                for s in range(0, full, max_sentence):
                    yield pending[s:s + max_sentence]
                pending = pending[full:]
            if i < last and pending:
                yield pending
                pending = []
    if carry:
        pending.append(carry)
    while pending:
        yield pending[:max_sentence]
        pending = pending[max_sentence:]


def as_corpus(corpus, lowercase=False):
    """A path (str or PathLike) becomes a TextCorpus; a re-iterable of token lists is used as it is.

    Token-list sentences longer than MAX_SENTENCE are split the same way as lines of a file.
    """
    if isinstance(corpus, (str, bytes, os.PathLike)):
        return TextCorpus(corpus, lowercase=lowercase)
    if iter(corpus) is corpus:
        raise W2VError("corpus must be a path or a re-iterable of token lists (a generator is read only once)")
    return _TokenListCorpus(corpus, lowercase)


class _TokenListCorpus:
    def __init__(self, sentences, lowercase):
        self.sentences = sentences
        self.lowercase = lowercase

    def __iter__(self):
        for sent in self.sentences:
            if isinstance(sent, str):
                raise W2VError("corpus items must be lists of tokens, not strings")
            tokens = [t.lower() for t in sent] if self.lowercase else list(sent)
            for s in range(0, len(tokens), MAX_SENTENCE):
                yield tokens[s:s + MAX_SENTENCE]
