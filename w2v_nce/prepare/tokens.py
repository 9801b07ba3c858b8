"""Compiled tokenizing and counting of UTF-8 bytes: the kernels of the one-pass corpus preparation.

count_tokens scans bytes exactly as Python decodes and splits them: invalid UTF-8 becomes U+FFFD the way
bytes.decode(errors="replace") does (one replacement per maximal invalid subpart), tokens are separated by
str.split()'s whitespace (ASCII \\t \\n \\v \\f \\r \\x1c-\\x1f and space, U+0085, U+00A0, U+1680, U+2000-U+200A,
U+2028, U+2029, U+202F, U+205F, U+3000), "\\n" ends a sentence and so does every max_sentence-th token.
Each token is keyed on the UTF-8 of its decoded (and, with lowercase, lowercased) text, so distinct keys are
distinct Python strings. Lowercasing maps code points through a table built from str.lower(); the two code
points whose lowercase is not one code point of their own (U+0130, two code points; U+03A3, final sigma
depends on the neighbours) are left as they are and their tokens flagged, to be lowercased in Python.

The counting table is open addressing over entries kept in first-seen order: slots (int32, −1 empty) point
into per-entry arrays (count, 32-bit hash, key offset and length in a byte arena, flag). It grows by doubling
up to a bound on its entries; full at the bound, it is pruned (prune_table) as word2vec's ReduceVocab does.
The kernels allocate nothing: when an array is full they stop and return GROW or PRUNE, the caller enlarges
or prunes the table, and calls again from the token that did not fit.
"""
from collections import namedtuple

import numba as nb
import numpy as np


DONE, GROW, PRUNE = 0, 1, 2
SENTINEL = -1
REPLACEMENT = 0xFFFD
FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)

TokenTable = namedtuple("TokenTable", "slots counts hashes starts lengths flags arena size")
TokenTable.__doc__ = """Arrays of the counting table (see the module docstring).

slots: int32[power of two], entry index or −1; counts: int64; hashes: uint32; starts: int64 offsets into arena;
lengths: int32 key lengths; flags: uint8 (1: lowercase in Python); arena: uint8 key bytes;
size: int64[2] = (entries, arena bytes used).
"""

# scan: the state of one pass across calls of count_tokens
SCAN_SENTENCE_LEN, SCAN_TOKENS, SCAN_SENTENCES, SCAN_INVALID = range(4)
SCAN_FIELDS = 4


def new_table(entries=1 << 12, arena=1 << 16):
    slots = np.full(1 << (2 * entries - 1).bit_length(), -1, np.int32)  # a power of two ≥ 2 · entries
    return TokenTable(slots, np.zeros(entries, np.int64), np.zeros(entries, np.uint32),
                      np.zeros(entries, np.int64), np.zeros(entries, np.int32), np.zeros(entries, np.uint8),
                      np.zeros(arena, np.uint8), np.zeros(2, np.int64))


def lowercase_table():
    """int32[0x110000]: the lowercase code point of each code point as str.lower() maps it; −1 for U+0130 and
    U+03A3 (lowercased in Python: several code points, or the final-sigma rule)."""
    cps = np.arange(0x110000, dtype=np.uint32)
    cps[0xD800:0xE000] = 0x20  # surrogates never come out of the decoder
    special = [0x130, 0x3A3]
    cps[special] = 0x20
    lowered = cps.tobytes().decode("utf-32-le").lower()
    table = np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32).astype(np.int32)
    if table.shape[0] != 0x110000:
        raise RuntimeError("str.lower() maps a code point other than U+0130 to several")
    table[special] = -1
    return table


@nb.njit(cache=True, nogil=True, inline="always")
def _is_space_byte(b):
    return b == 32 or 9 <= b <= 13 or 28 <= b <= 31


@nb.njit(cache=True, nogil=True, inline="always")
def _is_space(cp):
    return (cp == 0x85 or cp == 0xA0 or cp == 0x1680 or 0x2000 <= cp <= 0x200A or cp == 0x2028 or cp == 0x2029
            or cp == 0x202F or cp == 0x205F or cp == 0x3000)


@nb.njit(cache=True, nogil=True, inline="always")
def decode_step(buf, i, end):
    """The UTF-8 sequence starting at buf[i] (a byte ≥ 0x80): (code point, bytes, status), status 0 valid,
    1 invalid (one U+FFFD for that many bytes: the maximal subpart), 2 incomplete at end (that many valid)."""
    b0 = np.int64(buf[i])
    if b0 < 0xC2:
        return REPLACEMENT, 1, 1
    lo = 0x80
    hi = 0xBF
    if b0 < 0xE0:
        need = 1
        cp = b0 & 0x1F
    elif b0 < 0xF0:
        need = 2
        cp = b0 & 0x0F
        if b0 == 0xE0:
            lo = 0xA0
        elif b0 == 0xED:
            hi = 0x9F
    elif b0 < 0xF5:
        need = 3
        cp = b0 & 0x07
        if b0 == 0xF0:
            lo = 0x90
        elif b0 == 0xF4:
            hi = 0x8F
    else:
        return REPLACEMENT, 1, 1
    for k in range(1, need + 1):
        if i + k >= end:
            return 0, k, 2
        b = np.int64(buf[i + k])
        if k == 1:
            ok = lo <= b <= hi
        else:
            ok = 0x80 <= b <= 0xBF
        if not ok:
            return REPLACEMENT, k, 1
        cp = (cp << 6) | (b & 0x3F)
    return cp, need + 1, 0


@nb.njit(cache=True, nogil=True, inline="always")
def _put_code_point(key, n, cp):
    """UTF-8 of cp into key[n:]; the new length."""
    if cp < 0x80:
        key[n] = cp
        return n + 1
    if cp < 0x800:
        key[n] = 0xC0 | (cp >> 6)
        key[n + 1] = 0x80 | (cp & 0x3F)
        return n + 2
    if cp < 0x10000:
        key[n] = 0xE0 | (cp >> 12)
        key[n + 1] = 0x80 | ((cp >> 6) & 0x3F)
        key[n + 2] = 0x80 | (cp & 0x3F)
        return n + 3
    key[n] = 0xF0 | (cp >> 18)
    key[n + 1] = 0x80 | ((cp >> 12) & 0x3F)
    key[n + 2] = 0x80 | ((cp >> 6) & 0x3F)
    key[n + 3] = 0x80 | (cp & 0x3F)
    return n + 4


@nb.njit(cache=True, nogil=True, inline="always")
def hash32(h):
    """The slot hash of a 64-bit FNV-1a value."""
    return np.uint32((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF))


@nb.njit(cache=True, nogil=True, inline="always")
def find(table, key, n, h):
    """Entry index of key[:n] (hash h), or −1 − the empty slot where it would go."""
    slots = table.slots
    mask = slots.shape[0] - 1
    s = np.int64(h) & mask
    while True:
        e = slots[s]
        if e < 0:
            return -1 - s
        if table.hashes[e] == h and table.lengths[e] == n:
            start = table.starts[e]
            same = True
            for j in range(n):
                if table.arena[start + j] != key[j]:
                    same = False
                    break
            if same:
                return e
        s = (s + 1) & mask


@nb.njit(cache=True, nogil=True)
def count_tokens(buf, end, pos, final, lowercase, lower, max_sentence, bound, table, key, out, scan):
    """Tokenize buf[pos:end], count the tokens in table and write their entry indices, with SENTINEL after
    each sentence, to out. Returns (status, position, ids written): DONE with the position where an unfinished
    token (or UTF-8 sequence) starts, to be carried into the next block (end when final); GROW or PRUNE with
    the position of the token that needs a larger or pruned table. key: scratch of ≥ 3·(end − pos) + 4 bytes;
    out: room for end − pos + 1 ids."""
    n_out = 0
    i = pos
    while True:
        # one token: skip whitespace, then read up to the next whitespace
        klen = 0
        h = FNV_OFFSET
        errors = 0
        flag = 0
        start = i
        at_end = False
        while True:
            if i >= end:
                at_end = True
                break
            b = buf[i]
            if b < 0x80:
                if _is_space_byte(b):
                    if klen > 0:
                        break
                    if b == 10 and scan[SCAN_SENTENCE_LEN] > 0:
                        out[n_out] = SENTINEL
                        n_out += 1
                        scan[SCAN_SENTENCES] += 1
                        scan[SCAN_SENTENCE_LEN] = 0
                    i += 1
                    start = i
                    continue
                c = np.int64(b)
                if lowercase and 65 <= c <= 90:
                    c += 32
                key[klen] = c
                klen += 1
                h = (h ^ np.uint64(c)) * FNV_PRIME
                i += 1
                continue
            cp, length, status = decode_step(buf, i, end)
            if status == 2:
                if not final:
                    return DONE, start, n_out
                cp, status = REPLACEMENT, 1
            if status == 0 and _is_space(cp):
                if klen > 0:
                    break
                i += length
                start = i
                continue
            if status == 1:
                errors += 1
            elif lowercase:
                lc = lower[cp]
                if lc < 0:
                    flag = 1
                else:
                    cp = lc
            k0 = klen
            klen = _put_code_point(key, klen, cp)
            for j in range(k0, klen):
                h = (h ^ np.uint64(key[j])) * FNV_PRIME
            i += length
        if klen == 0:
            if at_end and final and scan[SCAN_SENTENCE_LEN] > 0:
                out[n_out] = SENTINEL
                n_out += 1
                scan[SCAN_SENTENCES] += 1
                scan[SCAN_SENTENCE_LEN] = 0
            return DONE, i, n_out
        if at_end and not final:
            return DONE, start, n_out
        h32 = hash32(h)
        e = find(table, key, klen, h32)
        if e < 0:
            n = table.size[0]
            used = table.size[1]
            if n >= bound:
                return PRUNE, start, n_out
            if n >= table.counts.shape[0] or 2 * (n + 1) > table.slots.shape[0] \
                    or used + klen > table.arena.shape[0]:
                return GROW, start, n_out
            table.slots[-1 - e] = n
            table.counts[n] = 0
            table.hashes[n] = h32
            table.starts[n] = used
            table.lengths[n] = klen
            table.flags[n] = flag
            for j in range(klen):
                table.arena[used + j] = key[j]
            table.size[0] = n + 1
            table.size[1] = used + klen
            e = n
        table.counts[e] += 1
        out[n_out] = e
        n_out += 1
        scan[SCAN_TOKENS] += 1
        scan[SCAN_INVALID] += errors
        scan[SCAN_SENTENCE_LEN] += 1
        if scan[SCAN_SENTENCE_LEN] == max_sentence:
            out[n_out] = SENTINEL
            n_out += 1
            scan[SCAN_SENTENCES] += 1
            scan[SCAN_SENTENCE_LEN] = 0


@nb.njit(cache=True, nogil=True)
def fill_slots(table):
    """Point the (cleared) slots at every entry again, after they were enlarged or the entries compacted."""
    slots = table.slots
    slots[:] = -1
    mask = slots.shape[0] - 1
    for e in range(table.size[0]):
        s = np.int64(table.hashes[e]) & mask
        while slots[s] >= 0:
            s = (s + 1) & mask
        slots[s] = e


@nb.njit(cache=True, nogil=True)
def prune_table(table, threshold, new_index):
    """Drop the entries counted ≤ threshold, keeping the others in order (arena compacted in place) and the
    slots rebuilt; new_index[old entry] ← its new index, or −1 if dropped. Returns (dropped, highest count
    dropped)."""
    n = table.size[0]
    kept = 0
    used = 0
    highest = 0
    for e in range(n):
        c = table.counts[e]
        if c <= threshold:
            new_index[e] = -1
            if c > highest:
                highest = c
            continue
        start = table.starts[e]
        length = table.lengths[e]
        for j in range(length):
            table.arena[used + j] = table.arena[start + j]
        table.counts[kept] = c
        table.hashes[kept] = table.hashes[e]
        table.starts[kept] = used
        table.lengths[kept] = length
        table.flags[kept] = table.flags[e]
        new_index[e] = kept
        kept += 1
        used += length
    table.size[0] = kept
    table.size[1] = used
    fill_slots(table)
    return n - kept, highest


@nb.njit(cache=True, nogil=True)
def lookup_keys(table, keys, offsets, found):
    """found[i] ← the entry of keys[offsets[i]:offsets[i + 1]] (UTF-8 text, hashed as count_tokens does), or −1;
    entries flagged for Python lowercasing are not matched."""
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        n = offsets[i + 1] - a
        h = FNV_OFFSET
        for j in range(n):
            h = (h ^ np.uint64(keys[a + j])) * FNV_PRIME
        e = find(table, keys[a:], n, hash32(h))
        found[i] = e if e >= 0 and table.flags[e] == 0 else -1


@nb.njit(cache=True, nogil=True)
def gather_keys(table, entries, sep, out):
    """out ← the keys of entries, each followed by the byte sep; returns the bytes written."""
    n = 0
    for e in entries:
        start = table.starts[e]
        for j in range(table.lengths[e]):
            out[n] = table.arena[start + j]
            n += 1
        out[n] = sep
        n += 1
    return n


# remap state across calls: stream length written, start of the open chunk, its raw words, sentences written,
# ids kept in the current sentence
REMAP_WRITTEN, REMAP_CHUNK_START, REMAP_CHUNK_RAW, REMAP_SENTENCES, REMAP_SENTENCE_KEPT = range(5)
REMAP_FIELDS = 5


@nb.njit(cache=True, nogil=True)
def remap_ids(ids, final_id, chunk_words, state, out, chunks):
    """Provisional ids → final ids (final_id[p], −1 dropped), dropping sentences left empty; the chunks that
    close (≥ chunk_words ids, cut at a sentence end) go to chunks as (start, end, raw words).
    Returns (ids written to out, chunks written)."""
    n_out = 0
    n_chunks = 0
    for p in ids:
        if p == SENTINEL:
            if state[REMAP_SENTENCE_KEPT] > 0:
                out[n_out] = SENTINEL
                n_out += 1
                state[REMAP_WRITTEN] += 1
                state[REMAP_SENTENCES] += 1
                state[REMAP_SENTENCE_KEPT] = 0
                if state[REMAP_WRITTEN] - state[REMAP_CHUNK_START] >= chunk_words:
                    chunks[n_chunks, 0] = state[REMAP_CHUNK_START]
                    chunks[n_chunks, 1] = state[REMAP_WRITTEN]
                    chunks[n_chunks, 2] = state[REMAP_CHUNK_RAW]
                    n_chunks += 1
                    state[REMAP_CHUNK_START] = state[REMAP_WRITTEN]
                    state[REMAP_CHUNK_RAW] = 0
            continue
        state[REMAP_CHUNK_RAW] += 1
        w = final_id[p]
        if w >= 0:
            out[n_out] = w
            n_out += 1
            state[REMAP_WRITTEN] += 1
            state[REMAP_SENTENCE_KEPT] += 1
    return n_out, n_chunks


@nb.njit(cache=True, nogil=True)
def find_sentence_starts(ids, offset, seen, wanted, out):
    """Stream positions where sentences start, scanning ids = stream[offset:offset + len(ids)] after `seen`
    sentence ends: out[j] ← the position just after the wanted[j]-th SENTINEL (wanted ascending, ≥ 1; entries
    already found are left alone). Returns the sentence ends seen up to the end of ids."""
    j = 0
    while j < wanted.shape[0] and wanted[j] <= seen:
        j += 1
    for i in range(ids.shape[0]):
        if ids[i] == SENTINEL:
            seen += 1
            while j < wanted.shape[0] and wanted[j] == seen:
                out[j] = offset + i + 1
                j += 1
    return seen
