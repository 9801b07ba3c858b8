"""The corpus cut into pieces, the pieces of each part counted in one pass on its worker and the counts merged, and
a part's id stream encoded from its pieces: the adapter of cluster training to corpus preparation.

The pieces follow the files the corpus names (prepare/inputs.py: files, directories, globs): runs of whole files of
about equal size, several per part (plan.PIECES_PER_PART, dealt to the parts), or, where there are fewer files than
that, ranges of each file: a plain file's cut at line starts, a .gz file's at offsets of its content, each line
read by the range it starts in (inputs.line_ranges: a worker gunzips a .gz file once, from its start to the end
of the last range it holds, and counts only the lines of its ranges). A line never straddles two pieces, and every
file ends a line, so the sentences are exactly those of a local run. The pieces of a part are counted in one pass
with the compiled preparation of a local run (prepare/counting.py), into one table and one stream that the part
encodes whole. Each word carries its first piece and its place in that piece's table (piece_counts), and the
driver merges the counts in that order: the merged counter lists the words in the whole corpus's first-seen order
and the vocabulary (ties in first-seen order) equals a local run's exactly. The merged counter holds every
distinct word once: it grows with the vocabulary, not with the corpus.
"""
import bisect
import os
import shutil
from collections import Counter

import numpy as np

from ..core.errors import W2VError
from ..prepare.corpus import is_named
from ..prepare.counting import DEFAULT_MAX_VOCAB_SIZE, CountedCorpus
from ..prepare.inputs import (BLOCK_BYTES, STDIN, Inputs, is_gzip, read_blocks, read_ranges, resolve_inputs,
                              uncompressed_size)
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
    other), start, end (a range of one file; start 0 and end None: the whole files) and bytes (their size,
    uncompressed). About n_pieces pieces: runs of whole files of about equal size where there are more files than
    that, else each file cut into ranges (as many as its share of the bytes asks, at least one; _file_ranges), a
    line going to the range it starts in."""
    paths = resolve_inputs(cluster_names(corpus)).paths
    if len(paths) > n_pieces:
        return [dict(paths=group, start=0, end=None, bytes=sum(uncompressed_size(p) for p in group))
                for group in _file_runs(paths, n_pieces)]
    sizes = [uncompressed_size(p) for p in paths]
    total = max(sum(sizes), 1)
    return [piece for path, size in zip(paths, sizes)
            for piece in _file_ranges(path, size, max(1, round(n_pieces * size / total)))]


def _file_ranges(path, size, n):
    """One file cut into up to n ranges near size·i/n: a plain file's at the line starts at or after those offsets
    (no empty range; it is then read exactly, and dealt by the ranges' own bytes), a .gz file's at the offsets
    themselves (each range holding the lines that start in it, line_ranges: the same lines; dealt by their nominal
    bytes; the last to the end, as a size read from the trailer may be short)."""
    if n <= 1:
        return [dict(paths=[path], start=0, end=None, bytes=size)]
    if is_gzip(path):
        cuts = [size * i // n for i in range(n + 1)]
        return [dict(paths=[path], start=a, end=b, bytes=cuts[i + 1] - a)
                for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:-1] + [None]))]
    with open(path, "rb") as f:
        cuts = sorted({0, size} | {_line_start_at_or_after(f, size * i // n, size) for i in range(1, n)})
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


class PieceInputs(Inputs):
    """Pieces of a corpus read one after the other as the inputs of one counting (an input per piece); after a
    file or range that does not end with a newline, b"\\n" ends its last line (but the last), as Inputs.blocks
    does. Consecutive ranges of one file are read together (inputs.read_ranges: a .gz file gunzipped once)."""

    def __init__(self, pieces):
        super().__init__([piece["paths"][0] for piece in pieces], [p for piece in pieces for p in piece["paths"]],
                         rereadable=True)
        self.pieces = pieces

    def _reads(self, block_bytes):
        """(piece, read, bytes): a read is a whole file or a range."""
        read, k = 0, 0
        while k < len(self.pieces):
            piece = self.pieces[k]
            if piece["start"] == 0 and piece["end"] is None:
                for path in piece["paths"]:
                    yield from ((k, read, block) for block in read_blocks(path, block_bytes))
                    read += 1
                k += 1
                continue
            path = piece["paths"][0]
            run = k
            while run < len(self.pieces) and self.pieces[run]["paths"] == [path] and \
                    not (self.pieces[run]["start"] == 0 and self.pieces[run]["end"] is None):
                run += 1
            ranges = [(p["start"], p["end"]) for p in self.pieces[k:run]]
            yield from ((k + j, read + j, block) for j, block in read_ranges(path, ranges, block_bytes))
            read, k = read + len(ranges), run

    def blocks(self, block_bytes=BLOCK_BYTES):
        last_read, last_piece, tail = None, None, b"\n"
        for k, read, block in self._reads(block_bytes):
            if read != last_read and not tail.endswith(b"\n"):
                yield last_piece, b"\n"
            last_read, last_piece, tail = read, k, block
            yield k, block


def counted_pieces(pieces, lowercase=False, stream_path=None, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE):
    """The CountedCorpus of pieces read in the order given, in one pass: one counting table, one stream of
    provisional ids (to stream_path if given), the counts after each piece in its input_ends."""
    return CountedCorpus(PieceInputs(pieces), stream_path, lowercase, max_vocab_size, warn=False)


def piece_counts(counted, indices):
    """What the driver takes from pieces counted in one pass (counted_pieces; indices: their numbers in the
    corpus, increasing): ((words, counts, first-seen keys), [(raw words, sentences) of each piece]). A word's key,
    its first piece's number · 2⁴⁰ + its entry in the table, orders the words of every worker in the whole corpus's
    first-seen order: a piece is counted on one worker, whose table numbers the words in the order it met them."""
    ends = counted.input_ends
    entry_ends = np.array([e for _, _, e in ends], np.int64)
    found = counted.word_entries()
    entries = np.array([e for e, _, _ in found], np.int64)
    first_piece = np.asarray(indices, np.int64)[np.searchsorted(entry_ends, entries, side="right")]
    keys = (first_piece << 40 | entries).tolist()
    before = [(0, 0, 0)] + ends[:-1]
    stats = [(w - w0, s - s0) for (w, s, _), (w0, s0, _) in zip(ends, before)]
    return ([w for _, w, _ in found], [c for _, _, c in found], keys), stats


def merge_counts(groups):
    """Merge the (words, counts, first-seen keys) of groups of pieces (piece_counts): a Counter of the words in
    the corpus's first-seen order (the lowest key of each word)."""
    counts, first = {}, {}
    for words, word_counts, keys in groups:
        for w, c, k in zip(words, word_counts, keys):
            if w in counts:
                counts[w] += c
                if k < first[w]:
                    first[w] = k
            else:
                counts[w] = c
                first[w] = k
    return Counter({w: counts[w] for w in sorted(counts, key=first.__getitem__)})


def build_vocabulary(merged, opts, raw_words, raw_sentences):
    """The vocabulary of merged counts, built exactly as a local run builds it."""
    require_tokens(raw_words)
    return Vocabulary.from_counts(merged, opts.min_count, opts.max_vocab, raw_words, raw_sentences)


def encode_part(pieces, entries, vocab, path, lowercase, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE, kept=None,
                chunk_words=CHUNK_WORDS):
    """The id stream of one part, encoded under vocab into the file `path`, in chunks of about chunk_words ids.
    entries: (piece, first sentence, end sentence) in order; all ends None: the pieces whole, counted in one pass
    (counted_pieces) and encoded at once; else each entry counted and encoded on its own, then joined. kept: {the
    pieces' numbers (a tuple): their CountedCorpus} counted on this worker already (each used once: its stream is
    moved to `path` and rewritten), else counted again."""
    def counted_at(group, target):
        counted = kept.pop(group, None) if kept else None
        if counted is None:
            return counted_pieces([pieces[i] for i in group], lowercase, target, max_vocab_size)
        shutil.move(counted.stream_path, target)
        counted.stream_path = target
        return counted

    if all(end is None for _, _, end in entries):
        return counted_at(tuple(i for i, _, _ in entries), path).encode(vocab, chunk_words)
    if len(entries) == 1:
        i, first, end = entries[0]
        return counted_at((i,), path).encode(vocab, chunk_words, sentences=(first, end))
    chunks, n_sentences, length = [], 0, 0
    with open(path, "wb") as out:
        for k, (i, first, end) in enumerate(entries):
            entry_path = f"{path}.{k}"
            try:
                encoded = counted_at((i,), entry_path).encode(vocab, chunk_words, sentences=(first, end))
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
