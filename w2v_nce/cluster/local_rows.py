"""A part's local weights against the global ones (base): which rows may differ, what a round undone goes back
to, and the rows a synchronization sets.

Before a round trains, the rows its examples can write are marked (touched: input rows in touched[0], output rows
and their biases in touched[1]) from the words of its chunks: every word's input row; for hierarchical softmax the
inner nodes of its path; for the sampling objectives and full softmax every output row (their noise words or their
normalization reach any of them). A synchronization clears the marks of the rows it sets, so a row not marked
equals base's, and a round's work besides training follows the rows its words can touch, not the vocabulary:
- keep (before a round): a copy of the marks, not of the rows;
- the change of a round: only the marked rows below n are compared with base (bfloat16.changed_rows_into);
- a synchronization that set base's rows below n: local ← base for those of them marked or written, marks cleared;
- rollback (a round undone after a fault): the rows marked since the keep back to base (they equalled it then);
  the rows marked at the keep, the rare rows not synchronized since earlier rounds, keep what they hold (their
  earlier rounds' training, and what the round undone gave them: when the round is trained again, those rows
  train its words a second time); the marks back to those kept. With every row synchronized every round
  (`--sync full`) nothing is marked at a keep and a round undone is undone exactly. A copy of the marked rows
  made that exact for the rare rows too, at the price of a third copy of the weights on every worker and of
  copying, every round, every rare row a round can touch (for the sampling objectives every output row above n:
  0.058 s of a round's 0.175 s of its own work at V = 919,601, d = 300; docs/cluster.md).
With the overlap (the exchange of a round during the next round's training, Part), a round's change is added to
base only after the next round has trained; so that nothing trained is lost or counted twice:
- snap (as a round's change is taken): the marked rows below n set to base + float32(Δ) (rows whose Δ is zero
  to base, their marks cleared): what the part sent, without the rounding's remainder (as a synchronization drops
  it without the overlap);
- rebase (a synchronization s added to base after round s + 1 trained): for the rows of the part's own change of
  round s and the rows the synchronization wrote, local ← base_new + (local − base_old − float32(Δ_own)), exactly
  base_new for a row round s + 1 left alone; the kept marks of those rows cleared (undoing round s + 1 from then
  on sets them to the new base);
- rollback before that synchronization: the rows marked since the keep to base, the rows of the own change of
  round s to base + float32(Δ_own) (what they held after the snap).
(Marking in the kernels, which would also spare the output rows no noise word reached, slowed local training
2.7-fold: an array more among the kernel's arguments, even unused; see docs/cluster.md.)
"""
import numba as nb
import numpy as np

from . import bfloat16

INPUT_ROWS, OUTPUT_ROWS = 0, 1  # as in kernels/loop.py


def _lines(a):
    return a.reshape(len(a), -1)


@nb.njit(cache=True, nogil=True)
def _mark_words(ids, touched, points, lengths):
    """Mark the input row of every word of the id stream ids (sentence ends < 0 skipped) and the inner nodes of its
    Huffman path (points, lengths: empty without a tree)."""
    tree = lengths.shape[0] > 0
    for w in ids:
        if w < 0:
            continue
        touched[INPUT_ROWS, w] = 1
        if tree:
            for d in range(lengths[w]):
                touched[OUTPUT_ROWS, points[w, d]] = 1


@nb.njit(cache=True, nogil=True)
def _copy_marked(src, dst, marks, n):
    """dst[r] ← src[r] for the rows r < n with marks[r] set (2-D arrays)."""
    for r in range(n):
        if marks[r]:
            for e in range(src.shape[1]):
                dst[r, e] = src[r, e]


@nb.njit(cache=True, nogil=True)
def _restore_unkept(local, base, marks, kept_marks):
    """local[r] ← base[r] for the rows r marked now (marks) and not at the keep (kept_marks)."""
    for r in range(local.shape[0]):
        if marks[r] and not kept_marks[r]:
            for e in range(local.shape[1]):
                local[r, e] = base[r, e]


class LocalRows:
    """The marks of a part's local weights (three arrays: input vectors, output vectors, bias) against base, the
    same shapes; the marks start cleared (local equal to base)."""

    def __init__(self, local, base):
        self.local, self.base = local, base
        self.sides = (INPUT_ROWS, OUTPUT_ROWS, OUTPUT_ROWS)
        self.touched = np.zeros((2, max(len(a) for a in local)), np.uint8)
        self.kept_marks = {}  # round → the marks before it (keep)
        self.own_at = [None] * len(local)  # (rebase: each array's row → its place in the own change, or −1)

    def _each(self, *arrays):
        return zip(self.sides, *(tuple(_lines(a) for a in group) for group in arrays))

    def mark_round(self, streams, every_output, points, lengths):
        """Mark the rows a round over the id streams (one per chunk) can write: every output row if every_output,
        else the inner nodes of the words' paths (points, lengths)."""
        if every_output:
            self.touched[OUTPUT_ROWS] = 1
        for ids in streams:
            _mark_words(ids, self.touched, points, lengths)

    def keep(self, s):
        """Before round s: a copy of the marks, to undo the round from (rollback); those of the round before stay
        (with the overlap two rounds can be undone)."""
        self.kept_marks = {k: v for k, v in self.kept_marks.items() if k >= s - 1}
        self.kept_marks[s] = self.touched.copy()

    def changes(self, sizes, buffers, snap=False):
        """The rows < n (sizes: n per array) whose change since their last synchronization is not zero in bfloat16,
        in buffers (one (ids, values) pair per array): views of them per array, and how many changes are out of range
        (NaN, infinite or beyond DIVERGED_MAGNITUDE: bfloat16.py).
        snap (the overlap): the rows compared set to base + float32(Δ), marked only if Δ is not zero (see above)."""
        rows, bad = [], 0
        for (side, local, base), n, (ids, values) in zip(self._each(self.local, self.base), sizes, buffers):
            k, b = bfloat16.changed_rows_into(local[:n], base[:n], ids, values, self.touched[side, :n], snap)
            bad += b
            rows.append((ids[:k], values[:k]))
        if snap:
            self.set_synchronized(sizes)
            for side, (ids, _) in zip(self.sides, rows):
                self.touched[side, ids] = 1
        return rows, bad

    def synchronized(self, sizes, written):
        """base's rows below n (sizes) are synchronized, those in written (per array) rewritten: the local rows
        below n set to base's (those marked or written: the others equal them already), their marks cleared."""
        for (side, local, base), n, ids in zip(self._each(self.local, self.base), sizes, written):
            marks = self.touched[side]
            marks[ids[ids < n]] = 1
            _copy_marked(base, local, marks, n)
        self.set_synchronized(sizes)

    def set_synchronized(self, sizes):
        """The local rows below n (sizes) were set to base's: their marks cleared."""
        for side, n in ((INPUT_ROWS, sizes[0]), (OUTPUT_ROWS, max(sizes[1:]))):
            self.touched[side, :n] = 0

    def rebase(self, s, own_rows, shards):
        """With the overlap, a synchronization added to base (the combined shards, their D in bfloat16) after the
        next round, s, trained: the rows of the part's own change of the synchronized round (own_rows, as the snap
        left them) and the rows the shards write keep what round s trained on them (see above); returns the rows
        written, per array."""
        written = []
        for i, ((side, local, base), (own_ids, own_values)) in enumerate(zip(self._each(self.local, self.base),
                                                                             own_rows)):
            if self.own_at[i] is None or len(self.own_at[i]) != len(local):
                self.own_at[i] = np.full(len(local), -1, np.int32)
            own_at = self.own_at[i]
            own_at[own_ids] = np.arange(len(own_ids), dtype=np.int32)
            for shard in shards:
                ids, values = shard[1][i]
                bfloat16.rebase_rows(local, base, own_values, own_at, ids, values)
            bfloat16.rebase_own_rest(local, base, own_ids, own_values, own_at)
            written.append(np.concatenate([shard[1][i][0] for shard in shards]))
            kept = self.kept_marks.get(s)
            if kept is not None:
                kept[side, own_ids] = 0
                kept[side, written[-1]] = 0
        return written

    def rollback(self, s, own_rows=None):
        """Back to the keep of round s (the round undone: the rows marked since, to base; see above), and the rows
        of own_rows (the part's own change not yet in base, with the overlap) to base + float32(Δ); False if there
        was none to go back to."""
        kept = self.kept_marks.pop(s, None)
        if kept is None:
            return False
        for side, local, base in self._each(self.local, self.base):
            _restore_unkept(local, base, self.touched[side], kept[side])
        for (side, local, base), (ids, values) in zip(self._each(self.local, self.base), own_rows or ()):
            local[ids] = base[ids]
            bfloat16.add_rows(local, ids, values, 1.0)
        self.touched[:] = kept
        return True
