"""Pass 2 of the one-pass preparation: the stream of provisional ids that counting wrote is rewritten in place,
in blocks, into the final ids of a vocabulary (words below min_count, beyond max_vocab or pruned dropped), and
cut into chunks.

Each pruning of the counting table starts a new numbering of its entries, so the stream is written in
generations. The renumbering of each (old entry → new entry) is kept until the remap, in memory while they all
fit in _RENUMBERING_BYTES, else in a file beside the stream; the final ids of a generation are composed from the
last one backwards.
"""
import os

import numpy as np

from .stream import CHUNK_WORDS, EncodedCorpus
from .tokens import (REMAP_CHUNK_RAW, REMAP_CHUNK_START, REMAP_FIELDS, REMAP_SENTENCES, REMAP_WRITTEN,
                     find_sentence_starts, remap_ids)

_REMAP_IDS = 1 << 20
_RENUMBERING_BYTES = 64 << 20


class Generations:
    """The renumberings of the prunings, each with the stream position where its generation ends."""

    def __init__(self, stream_path):
        self.stream_path = stream_path
        self.kept = []  # (stream position where the generation ends, its renumbering: array or file)
        self._kept_bytes = 0

    def __len__(self):
        return len(self.kept)

    def add(self, position, renumbering):
        """Keep a renumbering until the stream is remapped: in memory while they all take at most
        _RENUMBERING_BYTES, else in a file beside the stream (memory stays bounded however many prunings)."""
        g = len(self.kept)
        if self._kept_bytes + renumbering.nbytes <= _RENUMBERING_BYTES or not self.stream_path:
            self._kept_bytes += renumbering.nbytes
            self.kept.append((position, renumbering))
            return
        map_path = f"{self.stream_path}.renumbered{g}.npy"
        np.save(map_path, renumbering)
        self.kept.append((position, map_path))

    def final_maps(self, last):
        """A function g → final ids of generation g's entries: the last generation's are `last`; an earlier
        one's compose its renumbering with the next one's final ids (computed from the last backwards, each
        replacing the renumbering it came from)."""
        def load(kept):
            return np.load(kept) if isinstance(kept, str) else kept

        later = last
        for g in range(len(self.kept) - 1, -1, -1):
            position, kept = self.kept[g]
            new_index = load(kept)
            final = np.where(new_index >= 0, later[np.maximum(new_index, 0)], -1).astype(np.int32)
            if isinstance(kept, str):
                np.save(kept, final)
            else:
                self.kept[g] = (position, final)
            later = final

        def maps(g):
            return last if g == len(self.kept) else load(self.kept[g][1])
        return maps

    def clear(self):
        """Forget the renumberings, and remove those kept in files."""
        for _, kept in self.kept:
            if isinstance(kept, str) and os.path.exists(kept):
                os.remove(kept)
        self.kept = []


def remap_stream(path, stream_ids, raw_sentences, generations, last_final, chunk_words=CHUNK_WORDS,
                 sentences=None):
    """Rewrite the provisional stream at `path` (stream_ids ids, raw_sentences sentences) in place into final ids,
    those of the last generation being last_final; returns the EncodedCorpus. sentences=(first, end): only
    sentences first..end−1 of the corpus."""
    maps = generations.final_maps(last_final)
    state = np.zeros(REMAP_FIELDS, np.int64)
    chunks = []
    bounds = [pos for pos, _ in generations.kept] + [stream_ids]
    fd = os.open(path, os.O_RDWR)
    try:
        read, stop = (0, stream_ids) if sentences is None else \
            _sentence_starts(fd, stream_ids, raw_sentences, sentences)
        for g, end in enumerate(bounds):
            final_id = maps(g)
            end = min(end, stop)
            while read < end:
                n = min(_REMAP_IDS, end - read)
                data = os.pread(fd, 4 * n, 4 * read)
                if len(data) != 4 * n:
                    raise OSError(f"short read from {path}")
                ids = np.frombuffer(data, np.int32)
                out = np.empty(n, np.int32)
                table = np.empty((n // max(chunk_words, 1) + 2, 3), np.int64)
                start = int(state[REMAP_WRITTEN])
                n_out, n_chunks = remap_ids(ids, final_id, chunk_words, state, out, table)
                os.pwrite(fd, out[:n_out].tobytes(), 4 * start)
                chunks.append(table[:n_chunks])
                read += n
        written = int(state[REMAP_WRITTEN])
        os.ftruncate(fd, 4 * written)
    finally:
        os.close(fd)
    generations.clear()
    chunks = [tuple(int(x) for x in row) for part in chunks for row in part]
    chunk_start, chunk_raw = int(state[REMAP_CHUNK_START]), int(state[REMAP_CHUNK_RAW])
    if written > chunk_start or chunk_raw:  # the open chunk, as EncodedCorpus.encode closes it
        if chunks and written == chunk_start:
            s, e, r = chunks[-1]
            chunks[-1] = (s, e, r + chunk_raw)
        else:
            chunks.append((chunk_start, written, chunk_raw))
    table = np.array(chunks, dtype=np.int64).reshape(-1, 3)
    return EncodedCorpus(path, table, int(state[REMAP_SENTENCES]))


def _sentence_starts(fd, stream_ids, raw_sentences, sentences):
    """Positions in the provisional stream where the given sentences start (the stream's end for the number of
    sentences), found in one pass over the stream."""
    wanted = np.asarray(sentences, np.int64)
    if wanted.min() < 0 or wanted.max() > raw_sentences or np.any(np.diff(wanted) < 0):
        raise ValueError(f"sentences {tuple(sentences)} outside 0..{raw_sentences}")
    out = np.where(wanted == 0, 0, stream_ids).astype(np.int64)
    inside = (wanted > 0) & (wanted < raw_sentences)
    if inside.any():
        look = wanted[inside]
        found = np.zeros(look.shape[0], np.int64)
        seen = read = 0
        while read < stream_ids and seen < look[-1]:
            n = min(_REMAP_IDS, stream_ids - read)
            ids = np.frombuffer(os.pread(fd, 4 * n, 4 * read), np.int32)
            seen = find_sentence_starts(ids, read, seen, look, found)
            read += n
        out[inside] = found
    return out.tolist()
