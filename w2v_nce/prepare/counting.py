"""One-pass preparation of a corpus (one file or several: inputs.py): the text is read once, tokenized and counted by
compiled kernels (tokens.py), and every token's provisional id (its entry in the counting table, in first-seen
order) is written to the id stream file while counting. Once the vocabulary is known, one pass over that file, in
place and in blocks, turns provisional ids into final ones (frequency order; words below min_count, beyond max_vocab
or pruned dropped) and cuts the chunk table. The result is exactly what Vocabulary.build and EncodedCorpus.encode
make of the same corpus read by TextCorpus (the reference path, which token-list corpora still take).

Bounded counting: the table holds at most max_vocab_size distinct tokens. When a new token finds it full, the
rarest entries are pruned as word2vec's ReduceVocab does: every entry counted ≤ a threshold is dropped, and the
threshold rises by one after each sweep; sweeps repeat until a quarter of the table is free, which spreads the
cost of a pruning over at least max_vocab_size / 4 new tokens. The threshold is kept for the next pruning. A
pruned token seen again starts a new entry at count 1: its earlier occurrences are lost (from the counts and
from the stream). Each pruning starts a new numbering of the table, a new generation of the stream (remap.py).

Pass 1 is here (CountedCorpus: counting, then the vocabulary); the table's Python side is table.py, pass 2
(the remap of the stream) remap.py.
"""
import contextlib
import queue
import threading

import numpy as np

from ..core.errors import W2VError
from . import table as T
from .corpus import MAX_SENTENCE
from .inputs import BLOCK_BYTES, resolve_inputs, warn_invalid_utf8
from .remap import Generations, remap_stream
from .stream import CHUNK_WORDS
from .tokens import (GROW, PRUNE, SCAN_FIELDS, SCAN_INVALID, SCAN_SENTENCES, SCAN_TOKENS, count_tokens, new_table,
                     prune_table)
from .vocab import Vocabulary, empty_vocabulary, require_tokens

# Distinct tokens the counting table holds at most (then the rarest are pruned). Measured 53 bytes per entry of
# 12-byte tokens (benchmarks/prepare.py --distinct 4000000: 374 MB peak against 173 MB with 1,000 distinct):
# 0.5 GB at 10 million entries, about 1 GB with 35-byte tokens (a key byte costs up to 2 in the doubling arena).
DEFAULT_MAX_VOCAB_SIZE = 10_000_000


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
        # not waited for long: a reader blocked on standard input or a pipe that gives nothing more is left behind
        # (a daemon thread), so that a signal or an error stops the run at once
        reader.join(timeout=0.5)


class CountedCorpus:
    """A corpus (what inputs.resolve_inputs takes: paths, directories, globs, "-", or Inputs) counted in one pass,
    with its stream of provisional ids written to stream_path (None: counting only, for vocabulary()).

    vocabulary(min_count, max_vocab) gives the Vocabulary (as Vocabulary.build would); encode(vocab) rewrites
    the stream in place into the EncodedCorpus of that vocabulary (as EncodedCorpus.encode would).
    A corpus may be any Inputs (cluster/pieces.PieceInputs: ranges of files). Attributes: raw_words, raw_sentences, invalid_utf8, pruned (table entries dropped by pruning: a
    token pruned twice counts twice), max_pruned_count (the highest count an entry had when pruned), input_ends
    (after each input: the raw words, sentences and table entries counted up to its end).
    """

    def __init__(self, corpus, stream_path, lowercase=False, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE,
                 max_sentence=MAX_SENTENCE, block_bytes=BLOCK_BYTES, warn=True, read_ahead=True):
        self.inputs = resolve_inputs(corpus)
        if not isinstance(max_vocab_size, int) or max_vocab_size < 1:
            raise W2VError(f"max_vocab_size must be an integer ≥ 1, got {max_vocab_size!r}")
        self.stream_path = stream_path
        self.lowercase = lowercase
        self.bound = max_vocab_size
        self.max_sentence = max_sentence
        self.read_ahead = read_ahead
        self.table = new_table(min(1 << 12, max_vocab_size))
        self.threshold = 1
        self.pruned = 0
        self.max_pruned_count = 0
        self.generations = Generations(stream_path)
        self._entries = None  # entry indices of the words of the vocabulary built here
        self.input_ends = []
        invalid = self._count(block_bytes)
        if warn:
            warn_invalid_utf8(invalid)

    # --- pass ------------------------------------------------------------------------------------------

    def _count(self, block_bytes):
        """Count the corpus and write its stream; returns the invalid UTF-8 sequences replaced, by input."""
        lower = T.lowercase_map() if self.lowercase else np.zeros(1, np.int32)
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
                        self.table = T.grown(self.table, self.bound, buf.shape[0] - pos)
                    elif status == PRUNE:
                        self._prune(written)
                    else:
                        return pos

            paths = self.inputs.paths
            blocks = self.inputs.blocks(block_bytes)
            invalid = dict.fromkeys(paths, 0)
            current, seen = 0, 0  # the input being read; the invalid sequences before it
            for i, block in (read_ahead(blocks) if self.read_ahead else blocks):
                if i != current:  # the inputs before end with a newline: nothing of them is carried
                    invalid[paths[current]] += int(scan[SCAN_INVALID]) - seen
                    self._inputs_end(i, scan)
                    current, seen = i, int(scan[SCAN_INVALID])
                buf = np.frombuffer(block, np.uint8)
                if carry.shape[0]:
                    buf = np.concatenate([carry, buf])
                pos = run(buf, False)
                carry = buf[pos:].copy()
            run(carry, True)
            invalid[paths[current]] += int(scan[SCAN_INVALID]) - seen
            self._inputs_end(len(paths), scan)
        self.stream_ids = written
        self.raw_words = int(scan[SCAN_TOKENS])
        self.raw_sentences = int(scan[SCAN_SENTENCES])
        self.invalid_utf8 = int(scan[SCAN_INVALID])
        return invalid

    def _inputs_end(self, upto, scan):
        """The inputs before `upto` are read (those that gave no block among them): their input_ends."""
        end = (int(scan[SCAN_TOKENS]), int(scan[SCAN_SENTENCES]), int(self.table.size[0]))
        self.input_ends.extend([end] * (upto - len(self.input_ends)))

    def _prune(self, stream_position):
        """Drop the rarest entries until a quarter of the table is free; the renumbering is kept for the remap."""
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
        self.generations.add(stream_position, new_index)
        # the entries counted up to an input's end: those of them that stay
        kept = np.concatenate([[0], np.cumsum(new_index >= 0)])
        self.input_ends = [(w, s, int(kept[min(e, n)])) for w, s, e in self.input_ends]

    # --- vocabulary ----------------------------------------------------------------------------------------

    def vocabulary(self, min_count=5, max_vocab=None):
        """The words counted min_count times or more (at most max_vocab), most frequent first, ties in
        first-seen order: Vocabulary.from_counts's."""
        require_tokens(self.raw_words)
        t = self.table
        n = int(t.size[0])
        counts = t.counts[:n]
        groups = T.lowercased_groups(t) if self.lowercase else {}
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
            raise empty_vocabulary(min_count, top)
        order = np.lexsort((first, -cnt))
        if max_vocab is not None:
            order = order[:max_vocab]
        from_plain = order < cand.shape[0]
        words = [None] * order.shape[0]
        plain_pos = np.nonzero(from_plain)[0]
        for i, w in zip(plain_pos, T.keys(t, cand[order[plain_pos]])):
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
        return {w: c for _, w, c in self.word_entries()}

    def word_entries(self):
        """(entry, word, count) of every word counted, in first-seen order (entry: its first entry in the table,
        which input_ends place in an input)."""
        return T.first_seen_words(self.table, self.lowercase)

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
        found = T.lookup(t, vocab.words)
        hit = found >= 0
        final[found[hit]] = np.nonzero(hit)[0]
        if self.lowercase:
            index = vocab.index
            for w, members in T.lowercased_groups(t).items():
                if w in index:
                    final[members] = index[w]
        return final

    # --- stream --------------------------------------------------------------------------------------------

    def encode(self, vocab, chunk_words=CHUNK_WORDS, sentences=None):
        """Rewrite the stream in place into final ids of vocab (remap.py); returns the EncodedCorpus. Once: the
        counting table is released. sentences=(first, end): only sentences first..end−1 of the corpus."""
        encoded = remap_stream(self.stream_path, self.stream_ids, self.raw_sentences, self.generations,
                               self._final_ids(vocab), chunk_words, sentences)
        self.table = self._entries = None
        return encoded
