"""What a cluster's workers exchange after a round: only the rows a round changed, added by the rule of the dense
exchange bit for bit (direct or sharded), the bytes counted from what crosses between workers, and the same
weights on every worker."""
import numpy as np
import pytest

from w2v_nce.cluster import exchange
from w2v_nce.cluster.bfloat16 import changed_rows_into
from w2v_nce.cluster.job import agreed_digests, round_bytes
from w2v_nce.cluster.part import Part
from w2v_nce.cluster.pieces import plan_pieces
from w2v_nce.prepare.corpus import TextCorpus
from w2v_nce.prepare.vocab import Vocabulary
from w2v_nce.training.run import resolve_start

from reference import add_into, difference_into

SHAPES = ((50, 8), (50, 8), (50,))  # input vectors, output vectors, bias


def weights(rng):
    return tuple(rng.standard_normal(s).astype(np.float32) for s in SHAPES)


def sparse_change(rng, base, n, touched):
    """A part's change of rows `touched` (per array) of base, made as a round would make it: its weights minus
    base, through changed_rows_into."""
    rows = []
    for a, t in zip(base, touched):
        local = a.copy()
        local[t] += rng.standard_normal(local[t].shape).astype(np.float32) * 0.01
        ids, values = np.empty(len(a), np.int32), np.empty((len(a), a[:1].size), np.uint16)
        k, bad = changed_rows_into(local[:n].reshape(n, -1), a[:n].reshape(n, -1), ids, values)
        assert bad == 0
        rows.append((ids[:k].copy(), values[:k].copy()))
    return (n, n), tuple(rows)


def dense_rule(base, changes, scale):
    """The rule on whole arrays: every row < n of every part's change in bfloat16, zeros where a part did not
    change it, added to a copy x of base in part order (add_into on the whole prefix); then base + float32(D),
    D = bfloat16(x − base) elementwise."""
    out = tuple(a.copy() for a in base)
    n = changes[0][0][0]
    for i, a in enumerate(out):
        x = a[:n].reshape(-1).copy()
        for change in changes:
            ids, values = change[1][i]
            dense = np.zeros((n, a[:1].size), np.uint16)
            dense[ids] = values
            add_into(x, dense.reshape(-1), scale)
        d = np.empty(x.shape, np.uint16)
        assert difference_into(x, a[:n].reshape(-1), d) == 0
        add_into(a[:n].reshape(-1), d, 1.0)
    return out


def test_a_change_holds_exactly_the_rows_that_differ():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((30, 4)).astype(np.float32)
    local = base.copy()
    local[[3, 17, 29]] += np.float32(0.5)
    local[5, 2] += np.float32(1e-3)  # one value of a row is enough
    local[20] = base[20] + np.float32(1e-45) * 0  # written, but the same bits: not a change
    ids, values = np.empty(30, np.int32), np.empty((30, 4), np.uint16)
    k, bad = changed_rows_into(local[:25], base[:25], ids, values)  # rows ≥ 25 are not synchronized now
    assert (k, bad) == (3, 0) and ids[:k].tolist() == [3, 5, 17]
    dense = np.empty(25 * 4, np.uint16)
    difference_into(local[:25].reshape(-1), base[:25].reshape(-1), dense)
    np.testing.assert_array_equal(values[:k], dense.reshape(25, 4)[[3, 5, 17]])
    local[7, 0] = np.nan
    assert changed_rows_into(local[:25], base[:25], ids, values)[1] == 1


@pytest.mark.parametrize("n_parts", [2, 3, 4])
def test_sparse_changes_add_up_to_the_dense_rule_bit_for_bit_direct_and_sharded(n_parts):
    rng = np.random.default_rng(n_parts)
    base = weights(rng)
    n, scale = 40, 2.0 / n_parts
    changes = [sparse_change(rng, base, n, [rng.choice(50, 12, replace=False) for _ in SHAPES])
               for _ in range(n_parts)]
    want = dense_rule(base, changes, scale)

    direct = tuple(a.copy() for a in base)
    written = exchange.apply_changes(direct, changes, scale)
    sharded = tuple(a.copy() for a in base)
    pieces = [exchange.split(c, n_parts) for c in changes]
    for j in range(n_parts):
        assert all(np.all(ids % n_parts == j) for p in pieces for ids, _ in p[j][1])
    shards = [exchange.combine(base, [pieces[p][j] for p in range(n_parts)], scale) for j in range(n_parts)]
    written_too = exchange.apply_combined(sharded, shards)
    for a, b, c in zip(want, direct, sharded):
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))
        np.testing.assert_array_equal(a.view(np.uint32), c.view(np.uint32))
    for w, v, change_rows in zip(written, written_too, zip(*(c[1] for c in changes))):
        assert w.tolist() == sorted(v.tolist()) == sorted(set(np.concatenate([ids for ids, _ in change_rows]).tolist()))
    assert exchange.digest(direct, written) == exchange.digest(sharded, written_too)
    assert sum(exchange.nbytes(p) for p in pieces[0]) == exchange.nbytes(changes[0])
    sharded[0][written_too[0][0]] += 1
    assert exchange.digest(direct, written) != exchange.digest(sharded, written_too)


def test_a_combined_change_travels_in_bfloat16_and_a_row_that_cancels_out_is_not_sent():
    rng = np.random.default_rng(5)
    base = weights(rng)
    for a in base:
        a[3] = 0.0  # x = (0 + Δ) − Δ is exactly 0: the two parts' changes of row 3 cancel
    changes = []
    for ids in ([3, 5], [3, 7]):
        rows = []
        for a in base:
            d = np.empty((2, a[:1].size), np.uint16)
            difference_into((rng.standard_normal(d.size) * 0.01).astype(np.float32), np.zeros(d.size, np.float32),
                            d.reshape(-1))
            rows.append((np.array(ids, np.int32), d))
        changes.append(((40, 40), tuple(rows)))
    for (_, d0), (_, d1) in zip(changes[0][1], changes[1][1]):
        d1[0] = d0[0] ^ np.uint16(0x8000)  # the second part's change of row 3: the first's, negated
    combined = exchange.combine(base, changes, 1.0)
    synced = tuple(a.copy() for a in base)
    written = exchange.apply_combined(synced, [combined])
    for a, b, (ids, d), w in zip(base, synced, combined[1], written):
        assert ids.tolist() == w.tolist() == [5, 7] and d.dtype == np.uint16 and d.shape[0] == 2
        np.testing.assert_array_equal(b.view(np.uint32)[3], a.view(np.uint32)[3])
    assert exchange.nbytes(combined) == sum(2 * 4 + 2 * 2 * a[:1].size for a in base)


def test_bytes_counted_are_those_that_cross_between_workers():
    # report fields 4 and 5: the bytes of the pieces a part sends (one per shard), those of the previous round's
    # exchange it applied (one per part's change or combined shard)
    hosts = {0: "a", 1: "b", 2: "b"}  # parts 1 and 2 on one worker

    def report(scattered, applied):
        return (0.0, 0.0, 0.0, True, scattered, applied, None)

    sharded = {0: report((10, 20, 30), (100, 200, 300)), 1: report((1, 2, 3), (100, 200, 300)),
               2: report((4, 5, 6), (100, 200, 300))}
    # pieces to other workers: part 0 → parts 1, 2 (20 + 30); part 1 → part 0 (1); part 2 → part 0 (4); worker a
    # takes shards 1, 2 (500), worker b shard 0 once (100)
    assert round_bytes(sharded, hosts) == 50 + 1 + 4 + 500 + 100
    direct = {p: report((), (7, 8, 9)) for p in hosts}
    assert round_bytes(direct, hosts) == (8 + 9) + 7
    assert round_bytes({0: report((), ()), 1: report((), ())}, hosts) == 0  # the first round takes nothing


def _part(corpus, tmp_path, sentences, chunk_words, objective="ns", threads=1):
    opts = resolve_start(options=dict(dim=16, min_count=2, seed=3, workers=threads, objective=objective)).opts
    vocab = Vocabulary.build(TextCorpus(corpus), 2)
    rng = np.random.default_rng(1)
    start = (rng.standard_normal((len(vocab), 16)).astype(np.float32) * 0.1,
             np.zeros((len(vocab), 16), np.float32), np.zeros(len(vocab), np.float32))
    return Part(0, opts, vocab, plan_pieces(corpus, 1), [(0, 0, sentences)], start, 2 * 60_000, str(tmp_path),
                chunk_words=chunk_words)


@pytest.fixture
def part(small_corpus, tmp_path):
    p = _part(small_corpus, tmp_path, 3, 50_000)
    yield p
    p.close()


@pytest.fixture(params=[("ns", 1), ("hs", 1), ("hs", 2)], ids=["ns", "hs", "hs-2-threads"])
def chunked_part(small_corpus, tmp_path, request):
    """A part of 20 sentences in chunks of about 5,000 words (ns: every output row marked in a round; hs: the
    paths' inner nodes; with two threads, through their copies of the nodes nearest the root)."""
    p = _part(small_corpus, tmp_path, 20, 5_000, *request.param)
    assert len(p.encoded.chunks) >= 3
    yield p
    p.close()


def test_a_round_sends_only_the_rows_it_changed(part):
    """After training three sentences, a part's change names the rows whose weights differ from base, and no
    other; untouched rows (words absent from those sentences) are not in it."""
    n = len(part.base[0])
    part.keep()
    part.trained = 1
    part.train_round(0, np.arange(len(part.encoded.chunks)), 0, part.encoded.raw_words)
    (sizes, rows), finite = part.changes(1, n, n)
    assert finite and sizes == (n, n)
    for local, base, (ids, values) in zip(part.weights, part.base, rows):
        differ = np.flatnonzero((local.reshape(n, -1) != base.reshape(n, -1)).any(axis=1))
        assert ids.tolist() == differ.tolist() and values.shape == (len(ids), local[:1].size)
    in_ids = rows[0][0]
    assert 0 < len(in_ids) < n // 2  # three sentences touch few of the input rows
    assert exchange.nbytes((sizes, rows)) == sum(len(ids) * (4 + 2 * v.shape[1]) for ids, v in rows)


def test_parts_holding_different_rows_after_a_synchronization_stop_the_run():
    """The driver compares the digests the parts report (a report's 7th field; None: the part applied none)."""
    def report(digest):
        return (0.0, 0.0, 0.0, True, 0, 0, digest)

    assert agreed_digests({0: report(7), 1: report(7), 2: report(None)}, 3) == {7}
    assert agreed_digests({0: report(None)}, 3) == set()
    with pytest.raises(RuntimeError, match="weights differ after synchronization 3"):
        agreed_digests({0: report(7), 1: report(8)}, 3)


def _two_rounds_of(part, first_chunks, later_chunks):
    """Round 1 on first_chunks, synchronized for rows below n = half the vocabulary (the others stay
    unsynchronized, as a rare tier's) by the part's own change and another part's, on rows this one did not touch;
    then round 2 kept and trained on later_chunks."""
    n = len(part.base[0]) // 2
    part.keep()
    part.trained = 1
    part.train_round(0, first_chunks, 0, 10_000)
    change, finite = part.changes(1, n, n)
    assert finite
    other = []
    for side, base in zip((0, 1, 1), part.base):
        ids = np.flatnonzero(part.rows.touched[side, :n] == 0)[:5].astype(np.int32)
        other.append((ids, np.full((len(ids), base[:1].size), 0x3C23, np.uint16)))  # +0.00998 each
    part.apply(1, [change, ((n, n), tuple(other))], 1, 1.0)
    for local, base, (ids, _), side in zip(part.weights, part.base, other, (0, 1, 1)):
        assert np.array_equal(local[:n], base[:n])  # rows another part changed included
        assert len(ids) or (side == 1 and part.every_output)
    before = tuple(a.copy() for a in part.weights)
    part.keep()
    part.trained = 2
    part.train_round(0, later_chunks, 10_000, 20_000)
    return n, before


def test_rows_not_marked_equal_their_synchronized_values(chunked_part):
    """After a synchronization, a part's local rows below n equal base's, and every row that differs from base is
    one marked from the words of the rounds (only those are compared, kept and copied)."""
    part = chunked_part
    chunks = np.arange(len(part.encoded.chunks))
    n, _ = _two_rounds_of(part, chunks[:1], chunks[1:])
    for local, base, side in zip(part.weights, part.base, (0, 1, 1)):
        lines, base_lines = local.reshape(len(local), -1), base.reshape(len(base), -1)
        differ = np.flatnonzero((lines != base_lines).any(axis=1))
        assert part.rows.touched[side, differ].all()
        assert len(differ) or local.ndim == 1  # (the bias: not trained without --bias)
    change, _ = part.changes(2, n, n)
    for local, base, (ids, _) in zip(part.weights, part.base, change[1]):
        full = np.flatnonzero((local[:n].reshape(n, -1) != base[:n].reshape(n, -1)).any(axis=1))
        assert ids.tolist() == full.tolist()  # (no change of a row rounds to zero in these few steps)


def test_a_round_undone_puts_back_the_rows_it_marked_and_the_marks_of_before_it(chunked_part):
    """rollback after a round: the rows marked since the keep are base's bit for bit, as they were then; the rows
    marked at the keep (rare rows not synchronized) keep what they hold, the round's training included; the marks
    are those of the keep; with every row synchronized before the round, the round is undone exactly, and one
    thread trains it again to the same bits."""
    part = chunked_part
    chunks = np.arange(len(part.encoded.chunks))
    _, before = _two_rounds_of(part, chunks[:1], chunks[1:])
    after = tuple(a.copy() for a in part.weights)
    marks = part.rows.kept_marks[part.trained].copy()
    assert any((a != b).any() for a, b in zip(before, after))
    part.rollback()
    assert part.trained == part.synced == 1
    undone = 0
    for local, base, was, now, side in zip(part.weights, part.base, before, after, (0, 1, 1)):
        kept = marks[side, :len(local)].astype(bool)
        assert np.array_equal(local[~kept], base[~kept]) and np.array_equal(local[~kept], was[~kept])
        assert np.array_equal(local[kept], now[kept])
        undone += int((now[~kept] != was[~kept]).sum())
    assert undone > 0  # (the round had changed rows below n, now undone)
    assert np.array_equal(part.rows.touched, marks)

    n = len(part.base[0])
    part.keep()
    part.trained = 2
    part.train_round(0, chunks[1:], 20_000, 30_000)
    change, _ = part.changes(2, n, n)
    part.apply(2, [change], 1, 1.0)  # every row synchronized: nothing marked at the next keep
    synced = tuple(a.copy() for a in part.weights)
    part.keep()
    assert not part.rows.kept_marks[3].any()
    part.trained = 3
    part.train_round(0, chunks[:1], 30_000, 40_000)
    trained = tuple(a.copy() for a in part.weights)
    part.rollback()
    for a, b in zip(part.weights, synced):
        assert np.array_equal(a, b)
    if part.engine.workers == 1:
        part.keep()
        part.trained = 3
        part.train_round(0, chunks[:1], 30_000, 40_000)
        for a, b in zip(part.weights, trained):
            assert np.array_equal(a, b)


def _widened(values):
    return (values.astype(np.uint32) << 16).view(np.float32)


def test_with_the_overlap_a_synchronization_added_after_the_next_round_keeps_that_round_once(chunked_part):
    """With the overlap, round 2 trains before synchronization 1 is added. Round 1's change taken, its rows hold
    base + float32(Δ) (what was sent, without the rounding's remainder) and only they are marked. Undone before
    the synchronization, round 2 leaves the rows as round 1 sent them, bit for bit. Synchronization 1 (this part's
    change and another part's) added after round 2: a row round 2 left alone is at the new base exactly, a row
    round 2 trained at new base + (trained − (old base + Δ)), both bit for bit in float32; every other row as
    round 2 left it. Undone after the synchronization, round 2 leaves every row at the new base."""
    part = chunked_part
    part.overlap = True
    chunks = np.arange(len(part.encoded.chunks))
    n = len(part.base[0])  # every row synchronized
    part.keep()
    part.trained = 1
    part.train_round(0, chunks[:1], 0, 10_000)
    change, finite = part.changes(1, n, n)
    assert finite
    for side in (0, 1):
        named = np.unique(np.concatenate([ids for (ids, _), s in zip(change[1], (0, 1, 1)) if s == side]))
        assert np.flatnonzero(part.rows.touched[side]).tolist() == named.tolist()
    for local, base, (ids, values) in zip(part.weights, part.base, change[1]):
        sent = base.reshape(len(base), -1).copy()
        sent[ids] = sent[ids] + _widened(values)
        assert np.array_equal(local.reshape(len(local), -1), sent)
    sent = tuple(a.copy() for a in part.weights)

    part.keep()
    part.trained = 2
    part.train_round(0, chunks[1:], 10_000, 20_000)
    part.rollback()
    assert (part.synced, part.trained) == (0, 1)
    assert all(np.array_equal(a, b) for a, b in zip(part.weights, sent))

    part.keep()
    part.trained = 2
    part.train_round(0, chunks[1:], 10_000, 20_000)
    trained = tuple(a.copy() for a in part.weights)
    old = tuple(a.copy() for a in part.base)
    other = []
    for side, base in zip((0, 1, 1), part.base):
        ids = np.flatnonzero(part.rows.touched[side, :n] == 0)[:5].astype(np.int32)
        other.append((ids, np.full((len(ids), base[:1].size), 0x3C23, np.uint16)))  # +0.00998 each
    combined = exchange.combine(part.base, [change, ((n, n), tuple(other))], 1.0)
    assert part.apply(1, [combined], 2, 1.0) is not None
    assert (part.synced, part.trained) == (1, 2)
    moved = 0
    for i, ((own_ids, own_values), (written, _)) in enumerate(zip(change[1], combined[1])):
        local, new, was, before, then = (a[i].reshape(len(a[i]), -1) for a in (part.weights, part.base, trained,
                                                                                old, sent))
        own = np.zeros_like(was)
        own[own_ids] = _widened(own_values)
        rebased = np.union1d(own_ids, written)
        expected = was.copy()
        expected[rebased] = (was[rebased] - (before[rebased] + own[rebased])) + new[rebased]
        assert np.array_equal(local, expected)
        alone = np.setdiff1d(rebased, np.flatnonzero((was != then).any(axis=1)))
        assert np.array_equal(local[alone], new[alone])
        moved += len(rebased) - len(alone)
    assert moved > 0  # (round 2 trained rows the synchronization wrote)
    part.rollback()
    assert (part.synced, part.trained) == (1, 1)
    assert all(np.array_equal(a, b) for a, b in zip(part.weights, part.base))

