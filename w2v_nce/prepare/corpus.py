"""Corpus reading: plain text or gzip, UTF-8, whitespace tokens, one sentence per line, from the inputs a corpus
is named by (inputs.py: files, directories, globs, standard input).

The reader streams fixed-size blocks, so a corpus that is one 100 MB line (text8's original form) is read in
bounded memory. Lines longer than MAX_SENTENCE tokens become several sentences of at most MAX_SENTENCE tokens;
nothing is truncated. Invalid UTF-8 is decoded with U+FFFD replacement characters.
"""
import codecs
import os
import threading

from ..core.errors import W2VError
from .inputs import BLOCK_BYTES, Inputs, resolve_inputs, uncompressed_size, warn_invalid_utf8

MAX_SENTENCE = 1000


_decode_errors = threading.local()


def _count_and_replace(err):
    """Decoding error handler: like "replace" (one U+FFFD per invalid sequence), and counts the sequences."""
    _decode_errors.count = getattr(_decode_errors, "count", 0) + 1
    return "\ufffd", err.end


codecs.register_error("w2v_nce.count_replace", _count_and_replace)


class TextCorpus:
    """A re-iterable of sentences (lists of str tokens) read from the inputs of a corpus (see
    inputs.resolve_inputs), one after the other; standard input can be iterated once only."""

    def __init__(self, corpus, lowercase=False, max_sentence=MAX_SENTENCE, block_bytes=BLOCK_BYTES):
        self.inputs = resolve_inputs(corpus)
        self.lowercase = lowercase
        self.max_sentence = max_sentence
        self.block_bytes = block_bytes
        self.invalid_utf8 = 0  # invalid byte sequences replaced in the last complete pass
        self._warned = False

    @property
    def rereadable(self):
        return self.inputs.rereadable

    def _text_blocks(self):
        # one decoder for every input: each input ends with a newline (inputs.Inputs.blocks), after which the
        # decoder holds no partial sequence
        decoder = codecs.getincrementaldecoder("utf-8")(errors="w2v_nce.count_replace")
        invalid = dict.fromkeys(self.inputs.paths, 0)
        path = None
        for i, raw in self.inputs.blocks(self.block_bytes):
            path = self.inputs.paths[i]
            before = getattr(_decode_errors, "count", 0)
            text = decoder.decode(raw)
            invalid[path] += getattr(_decode_errors, "count", 0) - before
            yield text
        before = getattr(_decode_errors, "count", 0)
        tail = decoder.decode(b"", final=True)
        if path is not None:
            invalid[path] += getattr(_decode_errors, "count", 0) - before
        if tail:
            yield tail
        self.invalid_utf8 = sum(invalid.values())
        if self.invalid_utf8 and not self._warned:
            self._warned = True
            warn_invalid_utf8(invalid)

    def __iter__(self):
        sentences = split_sentences(self._text_blocks(), self.max_sentence)
        if not self.lowercase:
            return sentences
        # token by token: the same as lowercasing the whole text (whitespace is neither cased nor
        # case-ignorable, so str.lower's final-sigma rule never looks across it), whatever the block boundaries
        return ([t.lower() for t in sent] for sent in sentences)


# Text read to estimate the size of the encoded corpus before it is written (estimated_stream_ids).
SAMPLE_BYTES = 4 << 20


def estimated_stream_ids(inputs, sample_bytes=SAMPLE_BYTES):
    """The ids one pass over a corpus's inputs writes: one per token and one per sentence end. Exact when the
    corpus is at most sample_bytes long; else the first sample_bytes' ids per byte times the corpus's size. None
    when the size cannot be known before reading (standard input, a pipe)."""
    inputs = resolve_inputs(inputs)
    if not inputs.rereadable:
        return None
    sample, complete = bytearray(), True
    blocks = inputs.blocks()
    for _, block in blocks:
        sample += block
        if len(sample) >= sample_bytes:
            complete = False
            blocks.close()
            break
    ids = sum(len(s) + 1 for s in split_sentences([bytes(sample).decode("utf-8", errors="replace")]))
    if complete or not sample:
        return ids
    return int(ids * sum(uncompressed_size(p) for p in inputs.paths) / len(sample)) + 1


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


def is_named(corpus):
    """Whether corpus names inputs (a path, directory, glob or "-", a list of them, or Inputs) rather than being a
    re-iterable of token lists."""
    if isinstance(corpus, (str, bytes, os.PathLike, Inputs)):
        return True
    return isinstance(corpus, (list, tuple)) and len(corpus) > 0 and \
        all(isinstance(c, (str, os.PathLike)) for c in corpus)


def as_corpus(corpus, lowercase=False):
    """Named inputs (is_named: a path, a directory, a glob, "-", a list of them) become a TextCorpus; a re-iterable
    of token lists is used as it is.

    Token-list sentences longer than MAX_SENTENCE are split the same way as lines of a file.
    """
    if is_named(corpus):
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
