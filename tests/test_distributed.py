"""Data-parallel training on a Dask LocalCluster: the vocabulary of a local run, gensim-loadable vectors, a worker
killed during training, exact resumption, and the command line."""
import gzip
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

from w2v_nce import Model, W2VError, train  # noqa: E402
from w2v_nce.prepare.corpus import TextCorpus, split_sentences  # noqa: E402
from w2v_nce.cluster.pieces import counted_pieces, encode_part, merge_counts, piece_counts, plan_pieces  # noqa: E402
from w2v_nce.cluster.plan import (CHUNKS_PER_ROUND, CHUNK_WORDS, MAX_RATE_FACTOR, MIN_CHUNK_WORDS,  # noqa: E402
                                  MIN_ROUND_WORDS, MIN_ROUNDS, SYNC_WORDS, EpochPlan, Sync, chunk_words_of,
                                  combine_factors, deal_pieces, plan_parts, round_chunks, sync_periods,
                                  synced_prefix)
from w2v_nce.cluster.placement import workers_of  # noqa: E402
from w2v_nce.prepare.stream import EncodedCorpus  # noqa: E402
from w2v_nce.prepare.vocab import Vocabulary  # noqa: E402

FAST = dict(dim=16, epochs=2, min_count=2, seed=3)



def piece_sentences(piece):
    """The sentences of a piece's text alone, split by the reference path (Python's decoding and splitting): the
    lines of its file that start in its range."""
    if piece["start"] == 0 and piece["end"] is None:
        return list(TextCorpus(piece["paths"]))
    [path] = piece["paths"]
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        lines = f.read().splitlines(keepends=True)
    starts = np.concatenate([[0], np.cumsum([len(line) for line in lines])])[:-1]
    end = float("inf") if piece["end"] is None else piece["end"]
    text = b"".join(line for line, at in zip(lines, starts) if piece["start"] <= at < end)
    return list(split_sentences([text.decode("utf-8", errors="replace")]))


def counted_groups(pieces, groups):
    """What the driver takes from each group of pieces (their numbers, increasing) counted in one pass."""
    return [piece_counts(counted_pieces([pieces[i] for i in group]), group) for group in groups]


def local_client(n_workers):
    """A client of a LocalCluster of n_workers one-thread worker processes, closed with it after the tests."""
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def client():
    yield from local_client(2)


def test_pieces_split_the_file_into_its_lines_exactly(small_corpus):
    pieces = plan_pieces(small_corpus, 7)
    assert len(pieces) == 7 and pieces[0]["start"] == 0 and pieces[-1]["end"] == os.path.getsize(small_corpus)
    assert all(a["end"] == b["start"] for a, b in zip(pieces, pieces[1:]))
    joined = [s for p in pieces for s in piece_sentences(p)]
    assert joined == list(TextCorpus(small_corpus))


def shard_files(small_corpus, directory, bounds):
    """The small corpus's lines cut at these line numbers into files of a directory (shard0.txt, ...)."""
    lines = open(small_corpus).read().splitlines(keepends=True)
    directory.mkdir(exist_ok=True)
    paths = []
    for i, (a, b) in enumerate(zip([0] + bounds, bounds + [len(lines)])):
        (directory / f"shard{i}.txt").write_text("".join(lines[a:b]))
        paths.append(str(directory / f"shard{i}.txt"))
    return paths


def test_pieces_of_several_files_are_runs_of_whole_files(small_corpus, tmp_path):
    files = shard_files(small_corpus, tmp_path / "shards", [5, 20, 22, 30, 41, 52])
    pieces = plan_pieces([str(tmp_path / "shards")], 3)
    # cut where the bytes before come nearest to a third and two thirds (lines 20 and 41 of 60)
    assert [p["paths"] for p in pieces] == [files[:2], files[2:5], files[5:]]
    assert all(p["start"] == 0 and p["end"] is None for p in pieces)
    assert [s for p in pieces for s in piece_sentences(p)] == list(TextCorpus(small_corpus))
    # fewer files than pieces: each cut into ranges by its share of the bytes (5 and 15 lines: 1 and 2 ranges)
    fewer = plan_pieces(files[:2], 3)
    assert [p["paths"] for p in fewer] == [files[:1], files[1:2], files[1:2]]
    assert fewer[0]["end"] is None and fewer[1]["start"] == 0 and fewer[1]["end"] == fewer[2]["start"] > 0
    assert [s for p in fewer for s in piece_sentences(p)] == list(TextCorpus(files[:2]))
    local = Vocabulary.build(TextCorpus(small_corpus), 2)
    for groups in ([0], [1], [2]), ([0, 2], [1]):
        mine = Vocabulary.from_counts(merge_counts(c[0] for c in counted_groups(pieces, groups)), 2)
        assert mine.words == local.words and mine.counts.tolist() == local.counts.tolist()


@pytest.mark.parametrize("n_pieces", [2, 5, 9])
def test_ranges_of_a_gzip_file_give_each_line_once(small_corpus, tmp_path, n_pieces):
    """A .gz file is cut at offsets of its content; each line goes to the range it starts in, so the ranges'
    sentences are the file's, each once, as many pieces as asked (the last to the file's end)."""
    path = str(tmp_path / "small.txt.gz")
    with open(small_corpus, "rb") as f, gzip.open(path, "wb") as g:
        g.write(f.read())
    pieces = plan_pieces(path, n_pieces)
    assert len(pieces) == n_pieces and pieces[-1]["end"] is None
    assert sum(p["bytes"] for p in pieces) == os.path.getsize(small_corpus)
    assert [s for p in pieces for s in piece_sentences(p)] == list(TextCorpus(small_corpus))
    counted = counted_groups(pieces, [list(range(0, n_pieces, 2)), list(range(1, n_pieces, 2))])
    per_piece = {i: st for group, (_, stats) in zip([range(0, n_pieces, 2), range(1, n_pieces, 2)], counted)
                 for i, st in zip(group, stats)}
    for i, p in enumerate(pieces):  # the raw words and sentences of each piece, counted in one pass with others
        assert per_piece[i] == (sum(map(len, piece_sentences(p))), len(piece_sentences(p)))


def test_pieces_of_files_without_a_final_newline_keep_their_last_lines(tmp_path):
    """Files (plain and .gz) whose last line has no newline, cut into ranges and counted in one pass, whole or
    every second piece: each piece's sentences and the vocabulary as a local run reads them."""
    texts = ["a b c\nd e\nf g h i", "j k\nl m n o\np", "q r s\nt u v w\nx y"]
    paths = []
    for i, text in enumerate(texts):
        path = str(tmp_path / (f"f{i}.txt.gz" if i == 1 else f"f{i}.txt"))
        with (gzip.open(path, "wb") if i == 1 else open(path, "wb")) as f:
            f.write(text.encode())
        paths.append(path)
    pieces = plan_pieces(paths, 6)
    assert [p["paths"] for p in pieces] == [paths[:1]] * 2 + [paths[1:2]] * 2 + [paths[2:]] * 2
    local = Vocabulary.build(TextCorpus(paths), 1)
    for groups in ([0, 1, 2, 3, 4, 5],), ([0, 2, 4], [1, 3, 5]):
        counted = counted_groups(pieces, groups)
        mine = Vocabulary.from_counts(merge_counts(c[0] for c in counted), 1)
        assert mine.words == local.words and mine.counts.tolist() == local.counts.tolist()
        stats = dict(zip([i for g in groups for i in g], [st for _, group_stats in counted for st in group_stats]))
        for i, p in enumerate(pieces):
            assert stats[i] == (sum(map(len, piece_sentences(p))), len(piece_sentences(p)))
    assert sum(len(piece_sentences(p)) for p in pieces) == local.raw_sentences == 9


@pytest.mark.parametrize("n_pieces", [1, 2, 3, 5, 8])
def test_merged_piece_counts_give_the_local_vocabulary(tmp_path, n_pieces):
    # many ties (count 1 and 2) whose order is the first-seen order across pieces
    lines = ["d c b a", "e a f", "b g h d", "i j", "k c l m", "e n o", "p q k"]
    path = tmp_path / "ties.txt"
    path.write_text("\n".join(lines) + "\n")
    pieces = plan_pieces(str(path), n_pieces)
    # the pieces counted one by one, and dealt in turn to two or three groups each counted in one pass
    for n_groups in (len(pieces), 2, 3):
        counted = counted_groups(pieces, [list(range(g, len(pieces), n_groups))
                                          for g in range(min(n_groups, len(pieces)))])
        merged = merge_counts(c[0] for c in counted)
        for min_count in (1, 2):
            local = Vocabulary.build(TextCorpus(str(path)), min_count)
            mine = Vocabulary.from_counts(merged, min_count)
            assert mine.words == local.words and mine.counts.tolist() == local.counts.tolist()
        stats = [st for _, group_stats in counted for st in group_stats]
        assert sum(w for w, _ in stats) == local.raw_words and sum(s for _, s in stats) == local.raw_sentences


@pytest.mark.parametrize("counted_before", [(), (1,), (0, 2)])
def test_a_part_of_several_pieces_encodes_their_sentences_in_order(small_corpus, tmp_path, counted_before):
    pieces = plan_pieces(small_corpus, 3)
    sentences = [piece_sentences(p) for p in pieces]
    vocab = Vocabulary.build(TextCorpus(small_corpus), 2)
    entries = [(0, 5, len(sentences[0])), (1, 0, len(sentences[1])), (2, 0, 7)]
    # pieces counted already (by the counting task on this worker) are encoded from their kept streams
    kept = {(i,): counted_pieces([pieces[i]], stream_path=str(tmp_path / f"kept{i}.i32")) for i in counted_before}
    part = encode_part(pieces, entries, vocab, str(tmp_path / "part.i32"), False, kept=kept)
    assert kept == {} and not any((tmp_path / f"kept{i}.i32").exists() for i in range(3))
    chosen = [s for i, a, b in entries for s in sentences[i][a:b]]
    ref = EncodedCorpus.encode(chosen, vocab.index, str(tmp_path / "ref.i32"))
    assert part.ids.tolist() == ref.ids.tolist() and part.n_sentences == ref.n_sentences
    assert part.raw_words == sum(map(len, chosen))
    starts, ends = part.chunks[:, 0], part.chunks[:, 1]
    assert starts[0] == 0 and ends[-1] == part.length and (starts[1:] == ends[:-1]).all()
    assert not any(os.path.exists(f"{tmp_path}/part.i32.{k}") for k in range(3))
    part.close()
    ref.close()


@pytest.mark.parametrize("kept_here", [False, True])
def test_a_part_of_whole_pieces_encodes_them_counted_in_one_pass(small_corpus, tmp_path, kept_here):
    """Pieces dealt to a part, whole (end None): counted in one pass (here by the counting task, kept, or
    counted again on a worker that did not count them) and encoded as one stream, their sentences in order."""
    pieces = plan_pieces(small_corpus, 5)
    vocab = Vocabulary.build(TextCorpus(small_corpus), 2)
    group = (1, 3, 4)
    kept = {group: counted_pieces([pieces[i] for i in group], stream_path=str(tmp_path / "kept.i32"))} \
        if kept_here else {}
    part = encode_part(pieces, [(i, 0, None) for i in group], vocab, str(tmp_path / "part.i32"), False, kept=kept)
    assert kept == {} and not (tmp_path / "kept.i32").exists()
    chosen = [s for i in group for s in piece_sentences(pieces[i])]
    ref = EncodedCorpus.encode(chosen, vocab.index, str(tmp_path / "ref.i32"))
    assert part.ids.tolist() == ref.ids.tolist() and part.n_sentences == ref.n_sentences == len(chosen)
    assert sorted(os.listdir(tmp_path)) == ["part.i32", "ref.i32"]
    part.close()
    ref.close()


def test_pieces_are_dealt_to_the_parts_in_turn_by_size():
    """Pieces of about equal size go round the parts in turn; a large one is made up for by the next ones; every
    part has a piece as long as there are as many pieces as parts (an empty piece does not count as one)."""
    assert deal_pieces([10] * 7, 3) == [0, 1, 2, 0, 1, 2, 0]
    assert deal_pieces([10, 10, 10, 11, 9, 10], 3) == [0, 1, 2, 0, 1, 2]
    assert deal_pieces([90, 10, 10, 10, 10, 10], 3) == [0, 1, 2, 1, 2, 1]
    assert deal_pieces([0, 5, 5, 5], 3) == [0, 1, 2, 0]
    parts = plan_parts([(10, 1)] * 5 + [(90, 3)], 3)
    assert parts == [[(0, 0, None), (3, 0, None)], [(1, 0, None), (4, 0, None)], [(2, 0, None), (5, 0, None)]]
    # the parts the driver dealt (by bytes) are kept
    assert plan_parts([(499, 1), (501, 1), (7, 2)], 2, dealt=[1, 0, 0]) == [[(1, 0, None), (2, 0, None)],
                                                                          [(0, 0, None)]]
    # pieces that leave a part without a sentence (a few long lines): contiguous ranges of sentences instead
    assert plan_parts([(900, 6), (0, 0), (0, 0), (0, 0)], 3) == [[(0, 0, 2)], [(0, 2, 4)], [(0, 4, 6)]]


def test_fewer_pieces_than_parts_split_by_sentences():
    parts = plan_parts([(100, 10), (30, 3)], 4)
    covered = [(i, s) for part in parts for i, a, b in part for s in range(a, b)]
    assert covered == [(0, s) for s in range(10)] + [(1, s) for s in range(3)]
    assert len(parts) == 4 and parts[0] == [(0, 0, 3)] and parts[-1] == [(0, 9, 10), (1, 0, 3)]
    assert plan_parts([(5, 1)], 3) == [[(0, 0, 1)]]  # one sentence: one part


def test_round_shares_and_stratified_rows():
    shares = round_chunks([10, 10, 10, 10, 10, 10], 3)
    assert [s.tolist() for s in shares] == [[0, 1], [2, 3], [4, 5]]
    counts = np.array([1000, 100, 10, 5, 1])
    periods = sync_periods(counts, part_round_words=100, raw_words=1116, rounds=8, mode="stratified")
    assert periods.tolist() == [1, 1, 2, 4, 8]  # expected 89.6, 9, 0.9, 0.45, 0.09 times per part round
    assert [synced_prefix(periods, r, 8) for r in range(8)] == [2, 3, 2, 4, 2, 3, 2, 5]
    assert sync_periods(counts, 100, 1116, 8, "full").tolist() == [1] * 5


def test_an_epochs_rounds_take_a_parts_chunks_shuffled_and_the_same_again_for_its_seed():
    """Every chunk of a part once an epoch, in shares of about equal raw words drawn anew each epoch; the same
    seed and epoch give the same shares (a round trained again trains the same chunks); the schedule's words
    before each round follow the shares."""
    class Rounds:
        mode, words = "stratified", 40

    part_raw = {0: np.array([10.0] * 11 + [30.0]), 1: np.array([20.0] * 6)}
    counts = np.arange(20, 0, -1)
    plan = EpochPlan(part_raw, counts, Rounds, False, seed=5)
    assert plan.rounds == 4 and plan.raw_per_epoch == 260
    orders = []
    for epoch in range(3):
        shares = plan.shares(epoch)
        for p, raw in part_raw.items():
            chunks = np.concatenate(shares[p])
            assert sorted(chunks.tolist()) == list(range(len(raw)))
            assert all(abs(raw[s].sum() - raw.sum() / 4) <= raw.max() for s in shares[p])
        orders.append(np.concatenate(shares[0]).tolist())
        assert [plan.round(epoch, r)["words_from"] for r in range(4)] == \
            [epoch * 260 + sum(raw[shares[p][q]].sum() for p, raw in part_raw.items() for q in range(r))
             for r in range(4)]
        assert plan.round(epoch, 3)["words_to"] == (epoch + 1) * 260
    assert len({tuple(o) for o in orders}) == 3 and orders[0] != list(range(12))
    again = EpochPlan(part_raw, counts, Rounds, False, seed=5)
    assert [a.tolist() for a in again.shares(2)[0]] == [a.tolist() for a in plan.shares(2)[0]]
    other = EpochPlan(part_raw, counts, Rounds, False, seed=6)
    assert [a.tolist() for a in other.shares(2)[0]] != [a.tolist() for a in plan.shares(2)[0]]


def test_default_round_length_gives_a_small_corpus_its_rounds_and_every_thread_its_chunks():
    """Rounds of SYNC_WORDS, shortened to give an epoch MIN_ROUNDS rounds, at least MIN_ROUND_WORDS; a given length
    is kept. A round in CHUNKS_PER_ROUND chunks or two per thread, within [MIN_CHUNK_WORDS, CHUNK_WORDS]."""
    assert Sync().resolved(10 ** 9, 64).words == SYNC_WORDS
    assert Sync().resolved(2_139_748, 4).words == 44_579 == -(-2_139_748 // 4 // MIN_ROUNDS)
    assert Sync().resolved(60_000, 2).words == MIN_ROUND_WORDS
    assert Sync(words=123_456).resolved(60_000, 2).words == 123_456
    assert CHUNKS_PER_ROUND == 16
    assert chunk_words_of(SYNC_WORDS, 1) == 12_500 and chunk_words_of(SYNC_WORDS, 16) == 6_250
    assert chunk_words_of(44_579, 1) == 2_786 and chunk_words_of(8_000, 4) == MIN_CHUNK_WORDS
    assert chunk_words_of(10 ** 7, 1) == CHUNK_WORDS


def test_cluster_training_matches_local_vocabulary_and_loads_in_gensim(client, small_corpus, tmp_path):
    from gensim.models import KeyedVectors

    m = train(small_corpus, client=client, **FAST)
    local = Vocabulary.build(TextCorpus(small_corpus), FAST["min_count"])
    assert m.vocab == local.words and m.counts.tolist() == local.counts.tolist()
    assert m.progress["complete"] and len(m.epoch_losses) == 2 and m.epoch_losses[1] < m.epoch_losses[0]
    d = m.stats["distributed"]
    a, b = m.stats["distributed"]["part_words"]
    assert a + b == 60_000 and abs(a - b) <= 4_000  # PIECES_PER_PART pieces of about equal bytes each
    # the default round length on a corpus this small: the shortest, MIN_ROUND_WORDS (30,000 / MIN_ROUNDS is less)
    assert d["sync_words"] == MIN_ROUND_WORDS and d["rounds_per_epoch"] == -(-max(a, b) // MIN_ROUND_WORDS)
    assert d["parts"] == 2 and d["rounds"] == 2 * d["rounds_per_epoch"]
    assert d["failed_rounds"] == 0 and d["bytes_per_round"] > 0 and m.stats["train_words"] == 2 * 60_000
    m.save_word2vec_format(tmp_path / "v.txt")
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"))
    assert kv.index_to_key == local.words
    m.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(Model.load(tmp_path / "m.npz").input_vectors, m.input_vectors)


def test_a_gzip_corpus_is_cut_and_dealt_to_the_parts(client, small_corpus, tmp_path):
    """A .gz file is cut into ranges near the offsets where its plain text is and dealt to the parts: the local
    vocabulary, every sentence trained once per epoch, parts of about equal words."""
    path = str(tmp_path / "small.txt.gz")
    with open(small_corpus, "rb") as f, gzip.open(path, "wb") as g:
        g.write(f.read())
    m = train(path, client=client, **FAST)
    local = Vocabulary.build(TextCorpus(small_corpus), FAST["min_count"])
    assert m.vocab == local.words and m.counts.tolist() == local.counts.tolist()
    a, b = m.stats["distributed"]["part_words"]
    assert a + b == 60_000 and abs(a - b) <= 4_000 and m.stats["train_words"] == 2 * 60_000


def test_cluster_training_on_a_directory_and_a_file_matches_the_local_vocabulary(client, small_corpus, tmp_path):
    files = shard_files(small_corpus, tmp_path / "shards", [10, 25, 45])
    os.rename(files[-1], tmp_path / "last.txt")
    m = train([str(tmp_path / "shards"), str(tmp_path / "last.txt")], client=client, sync_words=10_000, **FAST)
    local = Vocabulary.build(TextCorpus(small_corpus), FAST["min_count"])
    assert m.vocab == local.words and m.counts.tolist() == local.counts.tolist()
    assert m.progress["complete"] and sum(m.stats["distributed"]["part_words"]) == 60_000
    with pytest.raises(W2VError, match=r"not from standard input \(-\)"):
        train("-", client=client, **FAST)


@pytest.mark.parametrize("arch", ["sg", "cbow"])
@pytest.mark.parametrize("objective", ["ns", "nce", "softmax", "infonce", "hs"])
def test_every_objective_and_architecture_trains_on_the_cluster(client, small_corpus, objective, arch):
    """The last epoch's training loss is the local run's within 8% (measured: at most 5.4%, ns cbow; 1% or less
    for nce, softmax and hs)."""
    m = train(small_corpus, client=client, objective=objective, arch=arch, sync_words=10_000, **FAST)
    assert m.progress["complete"] and m.options["objective"] == objective and m.options["arch"] == arch
    assert m.options["window_batch"] is False  # one example at a time on a cluster (docs/cluster.md)
    assert np.isfinite(m.input_vectors).all() and np.isfinite(m.output_vectors).all()
    d = m.stats["distributed"]
    assert d["rounds"] == 2 * -(-max(d["part_words"]) // 10_000) >= 6 and m.stats["train_words"] == 2 * 60_000
    local = train(small_corpus, objective=objective, arch=arch, workers=1, **FAST)
    assert abs(m.epoch_losses[-1] - local.epoch_losses[-1]) <= 0.08 * local.epoch_losses[-1]


@pytest.mark.parametrize("overlap, late", [("off", 0.0), ("on", 0.0), ("on", 1.0)], ids=["off", "on", "on-late"])
def test_interrupted_cluster_run_resumes_exactly(client, small_corpus, overlap, late):
    """Without the overlap, exactly; with it the run stops at a synchronization of every change, which the
    uninterrupted run never makes (each worker trains on from its own change), so it resumes to another result.
    late: the stop comes once the round submitted ahead has trained and added the synchronization before it on
    every worker (undone from there, with no worker left waiting for that synchronization's shards)."""
    opts = dict(FAST, objective="nce", sync="full", sync_words=8_000, sync_overlap=overlap)
    whole = train(small_corpus, client=client, **opts)

    def stop(info):
        if info["epoch"] == 0 and info["round"] == 1:
            time.sleep(late)
            raise KeyboardInterrupt

    part = train(small_corpus, client=client, on_round_end=stop, **opts)
    assert not part.progress["complete"] and part.progress["round"] == 2
    with pytest.raises(W2VError, match="on a cluster"):
        train(small_corpus, resume=part)
    rest = train(small_corpus, client=client, resume=part, sync="full", sync_words=8_000, sync_overlap=overlap)
    assert rest.progress["complete"]
    if overlap == "on":
        np.testing.assert_allclose(rest.epoch_losses, whole.epoch_losses, rtol=0.01)
        return
    np.testing.assert_array_equal(rest.input_vectors, whole.input_vectors)
    np.testing.assert_array_equal(rest.output_vectors, whole.output_vectors)
    assert rest.epoch_losses == whole.epoch_losses


def test_the_workers_are_seen_whatever_the_clients_own_refresh_does(client):
    """The driver asks the scheduler for its workers, not the client's cached identity, which the client's periodic
    refresh replaces by one without workers (every millisecond here: scheduler_info() saw none in 27 of 300 calls)."""
    with dask.config.set({"distributed.client.scheduler-info-interval": "1ms"}):
        fast = distributed.Client(client.scheduler.address)
    try:
        seen = [len(workers_of(fast)) for _ in range(300)]
    finally:
        fast.close()
    assert seen == [2] * 300


def _pull_from_a_gone_worker(address):
    from w2v_nce.cluster.transport import pull

    started = time.monotonic()
    found = pull("no-store", [(address, dict(kind="piece", part=0, s=0, j=0))])
    return found, time.monotonic() - started


def test_a_pull_from_a_gone_worker_gives_none_within_the_peer_connect_timeout(client):
    """A worker that is gone (nothing listens at its address) is given up after PEER_CONNECT_TIMEOUT, not after Dask's
    connect timeout (30 s), which every recovery from a killed worker waited."""
    import socket

    from w2v_nce.cluster.transport import PEER_CONNECT_TIMEOUT

    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    found, seconds = client.submit(_pull_from_a_gone_worker, f"tcp://127.0.0.1:{port}", pure=False).result()
    assert found is None
    assert PEER_CONNECT_TIMEOUT < 10 and seconds < 3 * PEER_CONNECT_TIMEOUT


@pytest.mark.parametrize("window_batch", [True, False])
def test_cluster_divergence_is_caught(client, small_corpus, window_batch):
    with pytest.raises(W2VError, match=r"diverged in epoch 1.*\(alpha 50\)"):
        train(small_corpus, client=client, sync_words=10_000,
              **dict(FAST, alpha=50.0, min_alpha=50.0, window_batch=window_batch))


@pytest.fixture(scope="module")
def client4():
    yield from local_client(4)


FOUR = dict(FAST, epochs=5)


def test_four_workers_divergence_names_the_rate_given(client4, small_corpus):
    """The parts train at twice the rate on four workers (combine_factors); the error names the run's own."""
    with pytest.raises(W2VError, match=r"diverged in epoch 1.*\(alpha 50\)"):
        train(small_corpus, client=client4, sync_words=10_000, **dict(FAST, alpha=50.0, min_alpha=50.0))


def test_combine_factors_keep_every_row_stable():
    """(rate factor m, change scale c): rare and linear rows get m·c = 1, a frequent row's error is multiplied by
    1 − n·c with n·c ≤ 2 (plan.py); two parts sum, as before; full softmax keeps its rate."""
    assert combine_factors("scaled", 1, "ns") == (1.0, 1.0)
    assert combine_factors("scaled", 2, "ns") == (1.0, 1.0)
    assert combine_factors("scaled", 4, "ns") == (2.0, 0.5)
    assert combine_factors("scaled", 8, "nce") == (4.0, 0.25)
    assert combine_factors("scaled", 16, "hs") == (MAX_RATE_FACTOR, 0.125)
    assert combine_factors("scaled", 4, "softmax") == (1.0, 0.5)
    assert combine_factors("sum", 4, "ns") == (1.0, 1.0) and combine_factors("average", 4, "ns") == (1.0, 0.25)
    for n in range(1, 33):
        m, c = combine_factors("scaled", n, "ns")
        assert n * c <= 2.0 and m * c <= 1.0 and 1.0 <= m <= MAX_RATE_FACTOR


def test_four_workers_train_to_the_local_loss(client4, small_corpus):
    """Four workers with the default combination end at the local one-thread run's final training loss within 8%
    (measured: 4.8% below it, the parts training at twice the rate; summed changes diverge here, next test)."""
    m = train(small_corpus, client=client4, sync_words=5_000, **FOUR)
    d = m.stats["distributed"]
    assert d["parts"] == 4 and (d["rate_factor"], d["change_scale"]) == (2.0, 0.5) and d["rounds"] == 15
    assert d["workers"] == 4 and d["bytes_per_worker_round"] == d["bytes_per_round"] / 4 > 0
    assert np.isfinite(m.input_vectors).all() and np.isfinite(m.output_vectors).all()
    local = train(small_corpus, workers=1, **FOUR)
    assert abs(m.epoch_losses[-1] - local.epoch_losses[-1]) <= 0.08 * local.epoch_losses[-1]


def test_summed_changes_of_four_workers_diverge_and_are_stopped(client4, small_corpus):
    """Summing four parts' changes multiplies a frequent row's error by −3 each round: the loss climbs while the
    weights stay finite, and the run stops with the cause and the remedy instead of returning that model."""
    with pytest.raises(W2VError, match=r"diverged in epoch \d: the mean training loss rose from .*"
                                       r"try a smaller --alpha or --sync-combine scaled"):
        train(small_corpus, client=client4, sync_combine="sum", sync_words=5_000, **FOUR)


def test_a_run_diverging_in_its_first_epoch_stops_in_that_epoch(client4, small_corpus):
    """A fresh run's first epoch has no earlier epoch to compare with: each of its rounds is compared with the
    first round (trained from the untrained model). Summed changes at a high rate climb within epoch 1 (measured,
    examples one at a time: from 1.49 in the first round to 8.73) with finite weights. With windows as minibatches
    the same run's weights reach 1e25 within the first round and its loss then falls (46 → 6.3 over five epochs,
    exit 0 before the magnitude check): it stops on the weights' magnitude."""
    run = dict(FOUR, alpha=0.5, min_alpha=0.0005)
    with pytest.raises(W2VError, match=r"diverged in epoch 1: the mean training loss rose from .* to .*"
                                       r"try a smaller --alpha or --sync-combine scaled"):
        train(small_corpus, client=client4, sync_combine="sum", sync_words=5_000, sync_overlap="off",
              window_batch=False, **run)
    with pytest.raises(W2VError, match=r"diverged in epoch 1: the loss or the weights became NaN, infinite or as "
                                       r"large as 16384.*try a smaller --alpha or --sync-combine scaled"):
        train(small_corpus, client=client4, sync_combine="sum", sync_words=5_000, sync_overlap="off",
              window_batch=True, **run)


@pytest.mark.parametrize("client_of", ["client", "client4"])
def test_direct_and_sharded_exchanges_give_the_same_weights_on_every_worker(client_of, small_corpus, request):
    """Both exchanges add the same changes in the same order: bit-identical models, for two and four workers;
    every synchronization after the first round is compared on every worker (their digests, or the run stops);
    the bytes of the stats are the rounds' bytes."""
    c = request.getfixturevalue(client_of)
    models = {}
    for how in ("direct", "sharded", "auto"):
        per_round = []
        models[how] = train(small_corpus, client=c, sync_words=5_000, sync_exchange=how, sync_overlap="off",
                            on_round_end=lambda info: per_round.append(info["bytes"]), **FAST)
        d = models[how].stats["distributed"]
        assert d["checked_syncs"] == d["rounds"] - 1 == len(per_round) - 1
        assert d["sync_bytes"] == sum(per_round) > 0 and d["exchange"] == ("sharded" if how == "auto" and
                                                                           d["parts"] == 4 else how.replace(
                                                                               "auto", "direct"))
    for m in models.values():
        d = m.stats["distributed"]
        assert d["tasks_per_round"] == 2 * d["parts"] + (2 if d["exchange"] == "sharded" else 0)
    d = models["direct"].stats["distributed"]
    # direct: every worker takes the other workers' changes, whose sizes its report gives
    assert d["sync_bytes"] == (d["parts"] - 1) * d["change_bytes"]
    for name in ("input_vectors", "output_vectors"):
        a, b = getattr(models["direct"], name), getattr(models["sharded"], name)
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("client_of", ["client", "client4"])
def test_with_the_overlap_every_worker_adds_the_same_synchronizations(client_of, small_corpus, request):
    """With the overlap (sharded even on two workers), every synchronization after the first round is compared on
    every worker (their digests, or the run stops), and each epoch's training loss is near the synchronous run's
    (measured: 2.2–3.3% above it, the workers training on one synchronization less in rounds of 5,000 words). The
    default overlaps skip-gram NS from four workers on, not CBOW or hs; 'on' with the direct exchange is an error."""
    c = request.getfixturevalue(client_of)
    runs = {how: train(small_corpus, client=c, sync_words=5_000, sync_overlap=how, **FAST)
            for how in ("on", "off", "auto")}
    d = runs["on"].stats["distributed"]
    assert d["overlap"] and d["exchange"] == "sharded" and not runs["off"].stats["distributed"]["overlap"]
    assert d["checked_syncs"] == d["rounds"] - 1 and d["failed_rounds"] == 0
    np.testing.assert_allclose(runs["on"].epoch_losses, runs["off"].epoch_losses, rtol=0.06)
    assert runs["auto"].stats["distributed"]["overlap"] == (d["parts"] >= 4)
    for not_auto in (dict(arch="cbow"), dict(objective="hs")):
        m = train(small_corpus, client=c, sync_words=5_000, **dict(FAST, epochs=1, **not_auto))
        assert not m.stats["distributed"]["overlap"]
    with pytest.raises(W2VError, match="sync_overlap 'on' needs"):
        train(small_corpus, client=c, sync_overlap="on", sync_exchange="direct", **FAST)


def test_a_sharded_round_joins_its_stages_through_one_barrier_task_each():
    """The combinations of a sharded round each take one barrier task over the N round tasks, and the next round
    takes one barrier over the N combinations: 3N dependency edges between a round's stages, not 2N² (the
    scheduler's work per task grew with N: benchmarks/scheduler_cost.py); made once per round and attempt."""
    from types import SimpleNamespace

    from w2v_nce.cluster.job import ShardTasks
    from w2v_nce.cluster.part import _combine_shard, _joined

    class Future:
        def __init__(self, fn, p, args):
            self.fn, self.p, self.key = fn, p, object()
            self.deps = [a for x in args for a in (x if isinstance(x, (list, tuple)) else [x])
                         if isinstance(a, Future)]

    class Placement:
        def on_part(self, fn, p, *args):
            return Future(fn, p, args)

        def after(self, fn, p, *args):
            return Future(fn, p, args)

    n = 8
    job = SimpleNamespace(attempt=0, hosts={p: f"tcp://w{p}" for p in range(n)}, shards=n, change_scale=0.25,
                          placement=Placement())
    rounds = [Future(None, p, ()) for p in range(n)]
    tasks = ShardTasks()
    combined = tasks.inputs(job, 3, rounds)
    assert combined.fn is _joined and len(combined.deps) == n
    joined = {id(c.deps[0]) for c in combined.deps}
    assert len(joined) == 1
    for j, c in enumerate(combined.deps):
        assert c.fn is _combine_shard and c.p == j and len(c.deps) == 1
    barrier = combined.deps[0].deps[0]
    assert barrier.fn is _joined and barrier.deps == rounds
    assert sum(len(f.deps) for f in [combined, barrier, *combined.deps]) == 3 * n
    assert tasks.inputs(job, 3, rounds) is combined
    job.attempt = 1
    assert tasks.inputs(job, 3, rounds) is not combined


@pytest.mark.parametrize("n_workers, exchange, overlap", [(2, "direct", "off"), (2, "sharded", "off"),
                                                         (2, "sharded", "on"), (4, "sharded", "off"),
                                                         (4, "sharded", "on")])
@pytest.mark.parametrize("victim, at_round, delay", [(1, 1, None), (0, 2, None), (1, 3, 0.004), (0, -1, 0.0)],
                         ids=["part1-between-rounds", "part0-between-rounds", "part1-in-a-round",
                              "part0-at-epoch-end"])
def test_a_worker_killed_during_training_costs_one_round(small_corpus, victim, at_round, delay, n_workers,
                                                         exchange, overlap):
    import threading

    # Dask's Active Memory Manager every 50 ms, not 2 s: it keeps one copy of a result several workers hold, which
    # may be the lost worker's (a survivor's round result taken by the killed worker's tasks), so that the kills
    # meet that case often
    with dask.config.set({"distributed.scheduler.active-memory-manager.interval": "50ms"}):
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        assert cluster.scheduler.extensions["amm"].interval == 0.05
        pids = c.run(os.getpid)
        killed = []

        def kill_one(info):
            # after round at_round of the first epoch is reported (−1: its last): the next round is already running
            if not killed and info["epoch"] == 0 and info["round"] == at_round % info["rounds"]:
                host = info["hosts"][victim]
                killed.append(host)
                if delay is None:
                    os.kill(pids[host], signal.SIGKILL)
                else:
                    threading.Timer(delay, os.kill, (pids[host], signal.SIGKILL)).start()

        m = train(small_corpus, client=c, sync_words=10_000 // n_workers, sync_exchange=exchange,
                  sync_overlap=overlap, on_round_end=kill_one, **FAST)
    finally:
        c.close()
        cluster.close()
    d = m.stats["distributed"]
    # the parts dealt whole lines (1,000 words) of the 60: each 30,000 words or a line more
    assert d["rounds_per_epoch"] == -(-max(d["part_words"]) // (10_000 // n_workers)) in (6, 7)
    assert killed and m.progress["complete"] and len(m.epoch_losses) == 2
    assert d["failed_rounds"] >= 1 and d["reopened_parts"] >= 1 and d["exchange"] == exchange
    assert d["overlap"] == (overlap == "on")
    assert d["rounds"] == 2 * d["rounds_per_epoch"]  # every round trained once, the failed one redone
    assert m.stats["train_words"] == 2 * 60_000 and np.isfinite(m.input_vectors).all()
    assert m.epoch_losses[1] < m.epoch_losses[0]


def _set_attempt(index, attempt, hold, dask_worker=None):
    """On a worker: part `index`'s attempt set to `attempt`, so that its tasks do nothing (as when what they take
    from another worker cannot be had) though no worker is lost; with hold, set again every millisecond until the
    job's parts are closed."""
    import threading

    from w2v_nce.cluster.store import PartStore

    for plugin in list(dask_worker.plugins.values()):
        if isinstance(plugin, PartStore) and index in plugin.parts:
            plugin.parts[index].attempt = attempt

            def again():
                while index in plugin.parts:
                    plugin.parts[index].attempt = attempt
                    time.sleep(0.001)

            if hold:
                threading.Thread(target=again, daemon=True).start()
            return True
    return False


@pytest.mark.parametrize("overlap", ["off", "on"])
def test_a_round_task_that_does_nothing_with_no_worker_lost_is_redone(client, small_corpus, monkeypatch, overlap):
    import w2v_nce.cluster.job as job_module

    monkeypatch.setattr(job_module, "PEER_CONNECT_TIMEOUT", 0.25)  # the wait for a lost worker first: 0.5 s
    done = []

    def upset(info):
        if not done and info["epoch"] == 0 and info["round"] == 2:
            done.append(client.run(_set_attempt, 1, -1, False, workers=[info["hosts"][1]]))

    m = train(small_corpus, client=client, sync_words=5_000, sync_exchange="sharded", sync_overlap=overlap,
              on_round_end=upset, **FAST)
    d = m.stats["distributed"]
    assert list(done[0].values()) == [True]
    assert d["failed_rounds"] >= 1 and d["reopened_parts"] == 0 and m.progress["complete"]
    assert d["rounds"] == 2 * d["rounds_per_epoch"]  # every round trained once, the one that did nothing redone
    assert m.stats["train_words"] == 2 * 60_000 and np.isfinite(m.input_vectors).all()
    assert m.epoch_losses[1] < m.epoch_losses[0]


def test_a_part_whose_tasks_never_do_anything_stops_training_with_a_clear_error(small_corpus, monkeypatch):
    import w2v_nce.cluster.job as job_module

    monkeypatch.setattr(job_module, "PEER_CONNECT_TIMEOUT", 0.25)
    for c in local_client(2):
        def upset(info):
            if info["epoch"] == 0 and info["round"] == 1:
                c.run(_set_attempt, 1, -1, True, workers=[info["hosts"][1]])

        with pytest.raises(W2VError, match=r"cluster training stopped: the round tasks of parts \[.*\] did "
                                           r"nothing, and no worker was lost \(4 times in a row\)"):
            train(small_corpus, client=c, sync_words=5_000, sync_exchange="sharded", sync_overlap="off",
                  on_round_end=upset, **FAST)


EXE = shutil.which("w2v-nce")


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_cli_unreachable_scheduler_is_one_line(small_corpus, tmp_path):
    r = subprocess.run([EXE, "train", small_corpus, "-o", str(tmp_path / "v.txt"), "--dask-scheduler",
                        "tcp://127.0.0.1:9", "--dask-timeout", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert not (tmp_path / "v.txt").exists()


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_cli_diverging_cluster_run_writes_nothing(small_corpus, tmp_path):
    r = subprocess.run([EXE, "train", small_corpus, "-o", str(tmp_path / "v.txt"), "--save-model",
                        str(tmp_path / "m.npz"), "--dask-local", "4", "--sync-combine", "sum", "--sync-words", "5000",
                        "--dim", "16", "--epochs", "5", "--min-count", "2", "--seed", "3", "-q"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: training diverged in epoch"), r.stderr
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
@pytest.mark.parametrize("named_by", ["glob", "directory and file"])
def test_cli_local_cluster_trains_shards(small_corpus, tmp_path, named_by):
    from gensim.models import KeyedVectors

    lines = open(small_corpus).read().splitlines(keepends=True)
    for i in range(3):
        (tmp_path / f"shard{i}.txt").write_text("".join(lines[i * 20:(i + 1) * 20]))
    corpus = [str(tmp_path / "shard*.txt")]
    if named_by == "directory and file":
        (tmp_path / "dir").mkdir()
        for i in range(2):
            os.rename(tmp_path / f"shard{i}.txt", tmp_path / "dir" / f"shard{i}.txt")
        corpus = [str(tmp_path / "dir"), str(tmp_path / "shard2.txt")]
    r = subprocess.run([EXE, "train", *corpus, "-o", str(tmp_path / "v.txt"), "--dask-local",
                        "2", "--dim", "8", "--epochs", "1", "--min-count", "3", "-q"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"))
    assert kv.index_to_key == Vocabulary.build(TextCorpus(small_corpus), 3).words
