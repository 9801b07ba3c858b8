"""The counting table of tokens.py seen from Python: enlarged when the compiled counting asks for room (GROW),
its keys read back as text, words looked up, and the entries whose text Python lowercases grouped by it."""
import threading
from collections import defaultdict

import numpy as np

from .tokens import TokenTable, fill_slots, gather_keys, lookup_keys, lowercase_table

_lowercase = None
_lowercase_lock = threading.Lock()


def lowercase_map():
    """tokens.lowercase_table, built once per process."""
    global _lowercase
    with _lowercase_lock:
        if _lowercase is None:
            _lowercase = lowercase_table()
    return _lowercase


def grown(t, bound, pending_bytes):
    """The table t with room for one more entry (at most `bound` entries) and for the longest key that
    pending_bytes more bytes of text can hold; its slots filled again if they grew."""
    n, used = int(t.size[0]), int(t.size[1])
    cap = t.counts.shape[0]
    if n >= cap:
        cap = min(2 * cap, bound)
    slots = t.slots.shape[0]
    while 2 * (n + 1) > slots or slots < 2 * cap:
        slots *= 2
    arena = t.arena.shape[0]
    while used + 3 * pending_bytes + 4 > arena:  # room for the longest key the rest of the block can hold
        arena *= 2

    def larger(a, size):
        if a.shape[0] == size:
            return a
        b = np.zeros(size, a.dtype)
        b[:min(a.shape[0], size)] = a[:size]
        return b

    table = TokenTable(np.full(slots, -1, np.int32) if slots != t.slots.shape[0] else t.slots,
                       larger(t.counts, cap), larger(t.hashes, cap), larger(t.starts, cap), larger(t.lengths, cap),
                       larger(t.flags, cap), larger(t.arena, arena), t.size)
    if slots != t.slots.shape[0]:
        fill_slots(table)
    return table


def keys(t, entries):
    """The decoded keys of entries (their text), in order."""
    entries = np.asarray(entries, dtype=np.int64)
    if entries.shape[0] == 0:
        return []
    out = np.empty(int(t.lengths[entries].sum()) + entries.shape[0], np.uint8)
    n = gather_keys(t, entries, 10, out)
    return out[:n - 1].tobytes().decode("utf-8").split("\n")


def lookup(t, words):
    """Entry of each word (−1 if absent; never an entry flagged for Python lowercasing)."""
    encoded = [w.encode("utf-8") for w in words]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    found = np.empty(len(encoded), np.int64)
    lookup_keys(t, np.frombuffer(b"".join(encoded) or b"\0", np.uint8), offsets, found)
    return found


def lowercased_groups(t):
    """Entries whose text is lowercased in Python, by lowercased text: {word: [entries]}, with the plain entry
    of that text when there is one."""
    n = int(t.size[0])
    flagged = np.nonzero(t.flags[:n])[0]
    groups = defaultdict(list)
    for e, text in zip(flagged, keys(t, flagged)):
        groups[text.lower()].append(int(e))
    words = list(groups)
    for w, e in zip(words, lookup(t, words)):
        if e >= 0:
            groups[w].append(int(e))
    return groups


def first_seen_words(t, lowercase):
    """(entry, word, count) of every word of the table in first-seen order; lowercase: the entries of one
    lowercased word as one, at its first entry, their counts summed."""
    n = int(t.size[0])
    counts = t.counts[:n]
    plain = np.ones(n, bool)
    items = []
    for w, members in (lowercased_groups(t) if lowercase else {}).items():
        plain[members] = False
        items.append((min(members), w, int(counts[members].sum())))
    entries = np.nonzero(plain)[0]
    items.extend(zip(entries.tolist(), keys(t, entries), counts[entries].tolist()))
    items.sort(key=lambda item: item[0])
    return items
