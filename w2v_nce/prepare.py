"""One-pass preparation of a corpus file: the text is read once, tokenized and counted by compiled kernels
(tokens.py), and every token's provisional id (its entry in the counting table, in first-seen order) is written
to the id stream file while counting. Once the vocabulary is known, one pass over that file, in place and in
blocks, turns provisional ids into final ones (frequency order; words below min_count, beyond max_vocab or
pruned dropped) and cuts the chunk table. The result is exactly what Vocabulary.build and EncodedCorpus.encode
make of the same file read by TextCorpus (the reference path, which token-list corpora still take).

Bounded counting: the table holds at most max_vocab_size distinct tokens. When a new token finds it full, the
rarest entries are pruned as word2vec's ReduceVocab does: every entry counted ≤ a threshold is dropped, and the
threshold rises by one after each sweep; sweeps repeat until a quarter of the table is free, which spreads the
cost of a pruning over at least max_vocab_size / 4 new tokens. The threshold is kept for the next pruning. A
pruned token seen again starts a new entry at count 1: its earlier occurrences are lost (from the counts and
from the stream). Each pruning starts a new numbering of the table, so the stream is written in generations;
the renumbering of each (old entry → new entry) is kept on disk beside the stream, and the final ids of a
generation are composed from the last one backwards.
"""
import contextlib
import os
import queue
import threading
import warnings
from collections import defaultdict

import numpy as np

from .corpus import BLOCK_BYTES, MAX_SENTENCE, check_corpus_path, read_blocks
from .errors import W2VError, W2VWarning
from .options import DEFAULT_MAX_VOCAB_SIZE
from .stream import CHUNK_WORDS, EncodedCorpus
from .tokens import (DONE, GROW, PRUNE, REMAP_CHUNK_RAW, REMAP_CHUNK_START, REMAP_FIELDS, REMAP_SENTENCES,
                     REMAP_WRITTEN, SCAN_FIELDS, SCAN_INVALID, SCAN_SENTENCES, SCAN_TOKENS, TokenTable,
                     count_tokens, fill_slots, find_sentence_starts, gather_keys, lookup_keys, lowercase_table,
                     new_table, prune_table, remap_ids)
from .vocab import Vocabulary

_REMAP_IDS = 1 << 20
_RENUMBERING_BYTES = 64 << 20
_lowercase = None
_lowercase_lock = threading.Lock()


def _lowercase_table():
    global _lowercase
    with _lowercase_lock:
        if _lowercase is None:
            _lowercase = lowercase_table()
    return _lowercase


def counting_bytes(entries, key_bytes):
    """Memory of a full table: slots (int32, at most half full, doubled: 8–16 bytes), count 8, hash 4, key offset
    8 and length 4, flag 1 per entry; the arena (doubling: up to 2× the key bytes)."""
    return entries * (16 + 8 + 4 + 8 + 4 + 1) + 2 * key_bytes


def read_ahead(blocks, depth=2):
    """The items of the iterator `blocks`, produced by a thread up to `depth` ahead: reading and gunzipping (which
    release the GIL) overlap the counting kernel. An exception of the reader is raised here, in order."""
    items = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce():
        try:
            for b in blocks:
                while not stop.is_set():
                    try:
                        items.put((b, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            item = (end, None)
        except BaseException as e:  # raised in the consumer
            item = (end, e)
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    reader = threading.Thread(target=produce, daemon=True)
    reader.start()
    try:
        while True:
            b, error = items.get()
            if b is end:
                if error is not None:
                    raise error
                return
            yield b
    finally:
        stop.set()
        reader.join()


class CountedCorpus:
    """A corpus file counted in one pass, with its stream of provisional ids written to stream_path (None:
    counting only, for vocabulary()).

    vocabulary(min_count, max_vocab) gives the Vocabulary (as Vocabulary.build would); encode(vocab) rewrites
    the stream in place into the EncodedCorpus of that vocabulary (as EncodedCorpus.encode would).
    byte_range=(start, end): only those bytes of a plain text file (both at line starts, or the file's end).
    Attributes: raw_words, raw_sentences, invalid_utf8, pruned (table entries dropped by pruning: a token pruned
    twice counts twice), max_pruned_count (the highest count an entry had when pruned).
    """

    def __init__(self, path, stream_path, lowercase=False, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE,
                 max_sentence=MAX_SENTENCE, block_bytes=BLOCK_BYTES, warn=True, read_ahead=True, byte_range=None):
        check_corpus_path(path)
        self.byte_range = byte_range
        if not isinstance(max_vocab_size, int) or max_vocab_size < 1:
            raise W2VError(f"max_vocab_size must be an integer ≥ 1, got {max_vocab_size!r}")
        self.path = os.fspath(path)
        self.stream_path = stream_path
        self.lowercase = lowercase
        self.bound = max_vocab_size
        self.max_sentence = max_sentence
        self.read_ahead = read_ahead
        self.table = new_table(min(1 << 12, max_vocab_size))
        self.threshold = 1
        self.pruned = 0
        self.max_pruned_count = 0
        self.generations = []  # (stream position where the generation ends, its renumbering: array or file)
        self._kept_bytes = 0
        self._entries = None  # entry indices of the words of the vocabulary built here
        self._count(block_bytes)
        if warn and self.invalid_utf8:
            warnings.warn(f"{self.path}: {self.invalid_utf8:,} invalid UTF-8 byte sequence(s) replaced by U+FFFD",
                          W2VWarning, stacklevel=2)

    # --- pass ------------------------------------------------------------------------------------------

    def _count(self, block_bytes):
        lower = _lowercase_table() if self.lowercase else np.zeros(1, np.int32)
        scan = np.zeros(SCAN_FIELDS, np.int64)
        carry = np.zeros(0, np.uint8)
        written = 0
        with (open(self.stream_path, "wb") if self.stream_path else contextlib.nullcontext()) as out_file:
            def run(buf, final):
                nonlocal written
                end = buf.shape[0]
                key = np.empty(3 * end + 4, np.uint8)
                out = np.empty(end + 1, np.int32)
                pos = 0
                while True:
                    status, pos, n_out = count_tokens(buf, end, pos, final, self.lowercase, lower,
                                                      self.max_sentence, self.bound, self.table, key, out, scan)
                    if out_file is not None:
                        out_file.write(out[:n_out].tobytes())
                    written += n_out
                    if status == GROW:
                        self._grow(buf.shape[0] - pos)
                    elif status == PRUNE:
                        self._prune(written)
                    else:
                        return pos

            blocks = read_blocks(self.path, block_bytes, self.byte_range)
            for block in (read_ahead(blocks) if self.read_ahead else blocks):
                buf = np.frombuffer(block, np.uint8)
                if carry.shape[0]:
                    buf = np.concatenate([carry, buf])
                pos = run(buf, False)
                carry = buf[pos:].copy()
            run(carry, True)
        self.stream_ids = written
        self.raw_words = int(scan[SCAN_TOKENS])
        self.raw_sentences = int(scan[SCAN_SENTENCES])
        self.invalid_utf8 = int(scan[SCAN_INVALID])

    def _grow(self, pending_bytes):
        t = self.table
        n, used = int(t.size[0]), int(t.size[1])
        cap = t.counts.shape[0]
        if n >= cap:
            cap = min(2 * cap, self.bound)
        slots = t.slots.shape[0]
        while 2 * (n + 1) > slots or slots < 2 * cap:
            slots *= 2
        arena = t.arena.shape[0]
        while used + 3 * pending_bytes + 4 > arena:  # room for the longest key the rest of the block can hold
            arena *= 2

        def grown(a, size):
            if a.shape[0] == size:
                return a
            b = np.zeros(size, a.dtype)
            b[:min(a.shape[0], size)] = a[:size]
            return b

        table = TokenTable(np.full(slots, -1, np.int32) if slots != t.slots.shape[0] else t.slots,
                           grown(t.counts, cap), grown(t.hashes, cap), grown(t.starts, cap), grown(t.lengths, cap),
                           grown(t.flags, cap), grown(t.arena, arena), t.size)
        if slots != t.slots.shape[0]:
            fill_slots(table)
        self.table = table

    def _prune(self, stream_position):
        """Drop the rarest entries until a quarter of the table is free; the renumbering goes to disk."""
        t = self.table
        n = int(t.size[0])
        need = max(1, n // 4)
        counts = t.counts[:n]
        smallest = int(np.partition(counts, need - 1)[need - 1])
        threshold = max(self.threshold, smallest)
        new_index = np.empty(n, np.int32)
        dropped, highest = prune_table(t, threshold, new_index)
        self.threshold = threshold + 1
        self.pruned += int(dropped)
        self.max_pruned_count = max(self.max_pruned_count, int(highest))
        self.generations.append((stream_position, self._keep(len(self.generations), new_index)))

    def _keep(self, g, array):
        """A renumbering to keep until the stream is remapped: in memory while they all take at most
        _RENUMBERING_BYTES, else in a file beside the stream (memory stays bounded however many prunings)."""
        if self._kept_bytes + array.nbytes <= _RENUMBERING_BYTES or not self.stream_path:
            self._kept_bytes += array.nbytes
            return array
        map_path = f"{self.stream_path}.renumbered{g}.npy"
        np.save(map_path, array)
        return map_path

    # --- vocabulary ----------------------------------------------------------------------------------------

    def _keys(self, entries):
        """The decoded keys of entries (their text), in order."""
        entries = np.asarray(entries, dtype=np.int64)
        if entries.shape[0] == 0:
            return []
        t = self.table
        out = np.empty(int(t.lengths[entries].sum()) + entries.shape[0], np.uint8)
        n = gather_keys(t, entries, 10, out)
        return out[:n - 1].tobytes().decode("utf-8").split("\n")

    def _lookup(self, words):
        """Entry of each word (−1 if absent; never an entry flagged for Python lowercasing)."""
        encoded = [w.encode("utf-8") for w in words]
        offsets = np.zeros(len(encoded) + 1, np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        found = np.empty(len(encoded), np.int64)
        lookup_keys(self.table, np.frombuffer(b"".join(encoded) or b"\0", np.uint8), offsets, found)
        return found

    def _lowercased_groups(self):
        """Entries whose text is lowercased in Python, by lowercased text: {word: [entries]}, with the plain entry
        of that text when there is one."""
        t = self.table
        n = int(t.size[0])
        flagged = np.nonzero(t.flags[:n])[0]
        groups = defaultdict(list)
        for e, text in zip(flagged, self._keys(flagged)):
            groups[text.lower()].append(int(e))
        words = list(groups)
        for w, e in zip(words, self._lookup(words)):
            if e >= 0:
                groups[w].append(int(e))
        return groups

    def vocabulary(self, min_count=5, max_vocab=None):
        """The words counted min_count times or more (at most max_vocab), most frequent first, ties in
        first-seen order: Vocabulary.from_counts's."""
        if self.raw_words == 0:
            raise W2VError("the corpus is empty: it has no tokens")
        t = self.table
        n = int(t.size[0])
        counts = t.counts[:n]
        groups = self._lowercased_groups() if self.lowercase else {}
        plain = np.ones(n, bool)
        g_words, g_first, g_count, g_entries = [], [], [], []
        for w, members in groups.items():
            plain[members] = False
            g_words.append(w)
            g_first.append(min(members))
            g_count.append(int(counts[members].sum()))
            g_entries.append(members)
        top = max(int(counts[plain].max(initial=0)), max(g_count, default=0))
        cand = np.nonzero(plain & (counts >= min_count))[0]
        big = [i for i, c in enumerate(g_count) if c >= min_count]
        first = np.concatenate([cand, np.array([g_first[i] for i in big], np.int64)])
        cnt = np.concatenate([counts[cand], np.array([g_count[i] for i in big], np.int64)])
        if first.shape[0] == 0:
            raise W2VError(
                f"the vocabulary is empty: no word occurs {min_count} times or more "
                f"(the most frequent occurs {top} times); lower --min-count")
        order = np.lexsort((first, -cnt))
        if max_vocab is not None:
            order = order[:max_vocab]
        from_plain = order < cand.shape[0]
        words = [None] * order.shape[0]
        plain_pos = np.nonzero(from_plain)[0]
        for i, w in zip(plain_pos, self._keys(cand[order[plain_pos]])):
            words[i] = w
        entries = np.where(from_plain, cand[np.minimum(order, cand.shape[0] - 1)] if cand.shape[0] else -1, -1)
        grouped = {}  # word id → its entries, for the words lowercased in Python
        for i in np.nonzero(~from_plain)[0]:
            g = big[order[i] - cand.shape[0]]
            words[i] = g_words[g]
            grouped[int(i)] = g_entries[g]
        vocab = Vocabulary(words, cnt[order], self.raw_words, self.raw_sentences)
        self._entries = (vocab, entries, grouped)
        return vocab

    def word_counts(self):
        """{word: count} of every word counted, in first-seen order (what a Counter updated with the tokens
        holds, less the entries pruned)."""
        t = self.table
        n = int(t.size[0])
        counts = t.counts[:n]
        plain = np.ones(n, bool)
        items = []
        for w, members in (self._lowercased_groups() if self.lowercase else {}).items():
            plain[members] = False
            items.append((min(members), w, int(counts[members].sum())))
        entries = np.nonzero(plain)[0]
        items.extend(zip(entries.tolist(), self._keys(entries), counts[entries].tolist()))
        items.sort(key=lambda item: item[0])
        return {w: c for _, w, c in items}

    def _final_ids(self, vocab):
        """final[entry of the last generation] = the id of its word in vocab, or −1."""
        t = self.table
        final = np.full(int(t.size[0]), -1, np.int32)
        if self._entries is not None and self._entries[0] is vocab:
            _, entries, grouped = self._entries
            plain = entries >= 0
            final[entries[plain]] = np.nonzero(plain)[0]
            for i, members in grouped.items():
                final[members] = i
            return final
        found = self._lookup(vocab.words)
        hit = found >= 0
        final[found[hit]] = np.nonzero(hit)[0]
        if self.lowercase:
            index = vocab.index
            for w, members in self._lowercased_groups().items():
                if w in index:
                    final[members] = index[w]
        return final

    # --- stream --------------------------------------------------------------------------------------------

    def encode(self, vocab, chunk_words=CHUNK_WORDS, sentences=None):
        """Rewrite the stream in place into final ids of vocab; returns the EncodedCorpus. Once: the counting
        table is released. sentences=(first, end): only sentences first..end−1 of the corpus."""
        maps = self._generation_maps(self._final_ids(vocab))
        state = np.zeros(REMAP_FIELDS, np.int64)
        chunks = []
        bounds = [pos for pos, _ in self.generations] + [self.stream_ids]
        fd = os.open(self.stream_path, os.O_RDWR)
        try:
            read, stop = (0, self.stream_ids) if sentences is None else self._sentence_starts(fd, sentences)
            for g, end in enumerate(bounds):
                final_id = maps(g)
                end = min(end, stop)
                while read < end:
                    n = min(_REMAP_IDS, end - read)
                    data = os.pread(fd, 4 * n, 4 * read)
                    if len(data) != 4 * n:
                        raise OSError(f"short read from {self.stream_path}")
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
        for _, kept in self.generations:
            if isinstance(kept, str) and os.path.exists(kept):
                os.remove(kept)
        self.generations = []
        chunks = [tuple(int(x) for x in row) for part in chunks for row in part]
        chunk_start, chunk_raw = int(state[REMAP_CHUNK_START]), int(state[REMAP_CHUNK_RAW])
        if written > chunk_start or chunk_raw:  # the open chunk, as EncodedCorpus.encode closes it
            if chunks and written == chunk_start:
                s, e, r = chunks[-1]
                chunks[-1] = (s, e, r + chunk_raw)
            else:
                chunks.append((chunk_start, written, chunk_raw))
        table = np.array(chunks, dtype=np.int64).reshape(-1, 3)
        self.table = self._entries = None
        return EncodedCorpus(self.stream_path, table, int(state[REMAP_SENTENCES]))

    def _sentence_starts(self, fd, sentences):
        """Positions in the provisional stream where the given sentences start (the stream's end for the
        number of sentences), found in one pass over the stream."""
        wanted = np.asarray(sentences, np.int64)
        if wanted.min() < 0 or wanted.max() > self.raw_sentences or np.any(np.diff(wanted) < 0):
            raise ValueError(f"sentences {tuple(sentences)} outside 0..{self.raw_sentences}")
        out = np.where(wanted == 0, 0, self.stream_ids).astype(np.int64)
        inside = (wanted > 0) & (wanted < self.raw_sentences)
        if inside.any():
            look = wanted[inside]
            found = np.zeros(look.shape[0], np.int64)
            seen = read = 0
            while read < self.stream_ids and seen < look[-1]:
                n = min(_REMAP_IDS, self.stream_ids - read)
                ids = np.frombuffer(os.pread(fd, 4 * n, 4 * read), np.int32)
                seen = find_sentence_starts(ids, read, seen, look, found)
                read += n
            out[inside] = found
        return out.tolist()

    def _generation_maps(self, last):
        """A function g → final ids of generation g's entries: the last generation's are `last`; an earlier
        one's compose its renumbering with the next one's final ids (computed from the last backwards, each
        replacing the renumbering it came from)."""
        def load(kept):
            return np.load(kept) if isinstance(kept, str) else kept

        later = last
        for g in range(len(self.generations) - 1, -1, -1):
            position, kept = self.generations[g]
            new_index = load(kept)
            final = np.where(new_index >= 0, later[np.maximum(new_index, 0)], -1).astype(np.int32)
            if isinstance(kept, str):
                np.save(kept, final)
            else:
                self.generations[g] = (position, final)
            later = final

        def maps(g):
            return last if g == len(self.generations) else load(self.generations[g][1])
        return maps
