"""The corpus cut into pieces, counted piece by piece and merged, and a part's id stream encoded from its pieces:
the adapter of cluster training to corpus preparation.

The pieces follow the files the corpus names (prepare/inputs.py: files, directories, globs): runs of whole files of
about equal size, several per part (plan.PIECES_PER_PART, dealt to the parts), one per file where there are fewer
files than that, or, for a corpus of one plain-text file, byte ranges of it cut at line starts (a
line never straddles two pieces, and every file ends a line, so the sentences are exactly those of a local run); a
.gz file is read whole by one piece. Each piece is counted with the compiled one-pass preparation of a local run
(prepare/counting.py). The driver merges the counts in piece order: a word first seen in an earlier piece comes
first, and within a piece words keep their first-seen order, so the merged counter lists the words in the whole
corpus's first-seen order and the vocabulary (ties in first-seen order) equals a local run's exactly. The merged
counter holds every distinct word once: it grows with the vocabulary, not with the corpus.
"""
import bisect
import os
import shutil
from collections import Counter

import numpy as np

from ..core.errors import W2VError
from ..prepare.corpus import is_named
from ..prepare.counting import DEFAULT_MAX_VOCAB_SIZE, CountedCorpus
from ..prepare.inputs import STDIN, Inputs, is_gzip, resolve_inputs, uncompressed_size
from ..prepare.stream import CHUNK_WORDS, EncodedCorpus
from ..prepare.vocab import Vocabulary, require_tokens


def cluster_names(corpus):
    """The names of a corpus trained on a cluster, as a list to hand to a worker (which resolves them: the workers
    share the file system); refused: standard input and corpora that are not named by paths."""
    if isinstance(corpus, Inputs):
        corpus = corpus.given
    if not is_named(corpus):
        raise W2VError("training on a Dask cluster needs the corpus named by paths (files, directories or globs) "
                       "readable by every worker")
    names = [os.fspath(c) for c in ([corpus] if isinstance(corpus, (str, bytes, os.PathLike)) else corpus)]
    if STDIN in names:
        raise W2VError("training on a Dask cluster reads the corpus on the workers, not from standard input (-): "
                       "write it to a file every worker reads")
    return names


def _line_start_at_or_after(f, pos, size):
    """The offset of the first line start ≥ pos (size if none)."""
    if pos <= 0:
        return 0
    f.seek(pos - 1)
    at = pos - 1
    while at < size:
        block = f.read(1 << 16)
        if not block:
            break
        nl = block.find(b"\n")
        if nl >= 0:
            return at + nl + 1
        at += len(block)
    return size


def plan_pieces(corpus, n_pieces):
    """The pieces of a corpus (its names: cluster_names), in corpus order: dicts of paths (files read one after the
    other), start, end (end None: the whole files) and bytes (their size, uncompressed). Up to n_pieces pieces:
    runs of whole files of about equal size, or byte ranges of a corpus of one plain-text file cut at line
    starts."""
    paths = resolve_inputs(cluster_names(corpus)).paths
    if len(paths) > n_pieces:
        return [dict(paths=group, start=0, end=None, bytes=sum(uncompressed_size(p) for p in group))
                for group in _file_runs(paths, n_pieces)]
    if len(paths) > 1 or is_gzip(paths[0]) or n_pieces <= 1:
        return [dict(paths=[p], start=0, end=None, bytes=uncompressed_size(p)) for p in paths]
    path = paths[0]
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        cuts = sorted({0, size} | {_line_start_at_or_after(f, size * i // n_pieces, size) for i in range(1, n_pieces)})
    return [dict(paths=[path], start=a, end=b, bytes=b - a) for a, b in zip(cuts, cuts[1:]) if b > a] or \
        [dict(paths=[path], start=0, end=None, bytes=size)]


def _file_runs(paths, n):
    """paths cut into up to n runs of consecutive files, each cut where the bytes before it come nearest to a
    multiple of the total / n."""
    before = [0]
    for p in paths:
        before.append(before[-1] + uncompressed_size(p))
    total = before[-1]
    cuts = {0, len(paths)}
    for k in range(1, n):
        target = total * k / n
        i = min(max(bisect.bisect_left(before, target, 1, len(paths)), 1), len(paths) - 1)
        cuts.add(i if abs(before[i] - target) <= abs(before[i - 1] - target) or i == 1 else i - 1)
    cuts = sorted(cuts)
    return [paths[a:b] for a, b in zip(cuts, cuts[1:])]


def counted_piece(piece, lowercase=False, stream_path=None, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE):
    """The CountedCorpus of one piece (tokenized and counted by the compiled one-pass preparation)."""
    byte_range = None if piece["end"] is None else (piece["start"], piece["end"])
    paths = piece["paths"]  # resolved already: files, read as they are
    return CountedCorpus(Inputs(paths, paths, rereadable=True), stream_path, lowercase, max_vocab_size, warn=False,
                         byte_range=byte_range)


def count_piece(piece, lowercase=False, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE, stream_path=None):
    """((word → count in first-seen order, raw words, sentences), CountedCorpus) of one piece, its stream of
    provisional ids written to stream_path if given."""
    counted = counted_piece(piece, lowercase, stream_path, max_vocab_size)
    return (counted.word_counts(), counted.raw_words, counted.raw_sentences), counted


def merge_counts(piece_counts):
    """Merge per-piece counters given in corpus order: words in the corpus's first-seen order."""
    merged = Counter()
    for counts in piece_counts:
        merged.update(counts)
    return merged


def build_vocabulary(merged, opts, raw_words, raw_sentences):
    """The vocabulary of merged counts, built exactly as a local run builds it."""
    require_tokens(raw_words)
    return Vocabulary.from_counts(merged, opts.min_count, opts.max_vocab, raw_words, raw_sentences)


def encode_part(pieces, entries, vocab, path, lowercase, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE, kept=None,
                chunk_words=CHUNK_WORDS):
    """The id stream of one part (its entries (piece, first sentence, end sentence) in order), encoded under
    vocab into the file `path`, in chunks of about chunk_words ids: each entry by the compiled preparation, then
    joined. kept: {piece: its CountedCorpus} counted here already (each used once: its stream is moved and
    rewritten), else counted again."""
    def counted_at(i, target):
        counted = kept.pop(i, None) if kept else None
        if counted is None:
            return counted_piece(pieces[i], lowercase, target, max_vocab_size)
        shutil.move(counted.stream_path, target)
        counted.stream_path = target
        return counted

    if len(entries) == 1:
        i, first, end = entries[0]
        return counted_at(i, path).encode(vocab, chunk_words, sentences=(first, end))
    chunks, n_sentences, length = [], 0, 0
    with open(path, "wb") as out:
        for k, (i, first, end) in enumerate(entries):
            entry_path = f"{path}.{k}"
            try:
                encoded = counted_at(i, entry_path).encode(vocab, chunk_words, sentences=(first, end))
                with open(entry_path, "rb") as f:
                    shutil.copyfileobj(f, out)
                encoded.close()
            finally:
                if os.path.exists(entry_path):
                    os.remove(entry_path)
            chunks.append(encoded.chunks + np.array([length, length, 0], np.int64))
            n_sentences += encoded.n_sentences
            length += encoded.length
    return EncodedCorpus(path, np.concatenate(chunks).reshape(-1, 3), n_sentences)
