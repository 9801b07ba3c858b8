"""Data-parallel training on a Dask cluster: shards → counts merged on the driver → vocabulary → each worker
encodes and keeps its part → synchronous rounds of local Hogwild training → combined updates → Model.

Corpus. One path or a glob of shard files, readable by every worker (a shared file system). The corpus is cut into
pieces: the files of a glob, or byte ranges of one plain-text file cut at line starts (a line never straddles two
pieces, so the sentences are exactly those of a local run); a .gz file is one piece. Every piece is counted by an
ordinary Dask task, with the compiled one-pass preparation of a local run (prepare.py). The driver merges the
counts in piece order: a word first seen in an earlier piece comes first, and within a piece words keep their
first-seen order, so the merged counter lists the words in the whole corpus's first-seen order and the vocabulary
(ties in first-seen order) equals a local run's exactly. The merged counter holds every distinct word once: it
grows with the vocabulary, not with the corpus.

Parts. The pieces are grouped into one contiguous part per worker (by raw words; when there are fewer pieces than
workers, by sentence ranges of the pieces). A part lives on one worker: its id stream, encoded there once into a
temporary file, and its trainer with a local copy of the weights. Piece i is counted on worker i·W/n (contiguous
runs of pieces, as the parts are), which keeps the counted stream; the part that holds the piece is opened on that
worker and only remaps its sentences (on any other worker it counts the piece again). Part state is kept in a
worker plugin (PartStore) and reached by tasks pinned to that worker; a dead worker's parts are opened again,
encoded from the shared files, on a surviving worker.

Rounds. An epoch is R rounds (R = ceil(largest part's raw words / sync_words)); in round s every part trains its
share of its chunks, from the global weights, with threads inside the worker, the learning rate following the global
schedule (words trained by all parts). It returns the change of the rows synchronized this round since their last
synchronization, Δ_p = W_p − W_base, rounded to bfloat16 (half the bytes of float32; bfloat16.py), which stays on
its worker. Round s + 1's task of every part takes every part's round-s result as its input, so Dask moves each Δ_p
worker to worker (not through the driver), and it starts by applying them: base ← base + Σ_p Δ_p ("sum", the updates
of every part kept as Hogwild threads keep them) or base + Σ_p Δ_p / n ("average"), added in part order, so every
worker computes the same base: the global weights W. The driver submits round s + 1 while round s runs, so that it
starts as soon as the changes arrive; it gets only each part's loss tally and time, and fetches W from a part when
it needs it (at the end, for a checkpoint, after a failure). Rows are stratified by frequency ("stratified"): a word
expected to occur at least SYNC_EVENTS times in a part's round is synchronized every round, a rarer one every 2, 4,
... MAX_PERIOD rounds (powers of two, so the rows synchronized in a round are a prefix of the frequency-sorted
vocabulary); every row is synchronized at the end of every epoch. "full" synchronizes every row every round;
"epoch-average" is Spark MLlib's scheme: one round per epoch, every row, averaged.

Faults. Rounds and synchronizations are numbered; a part knows the last synchronization it applied and the last
round it trained, and keeps, before a round, a copy of its rows that differ from base. If a worker dies, the
driver makes the older tasks inert, finds the furthest synchronization S a surviving part has applied, takes W
from it and opens the lost parts again from W on surviving workers. If every survivor has trained round S + 1,
that is kept and only the lost parts train their share of it again; otherwise the survivors that trained it go
back to their copy and the round is redone. A survivor that trained round S but lost another part's changes of
it gets the rows of W. A lost part loses at most that round and the updates of its rows not synchronized since
their last synchronization (rare rows, at most MAX_PERIOD − 1 rounds of them).
"""
import glob
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter

import numpy as np

from . import bfloat16
from .corpus import check_corpus_path
from .errors import W2VError
from .noise import NoiseDistribution
from .options import DEFAULT_MAX_VOCAB_SIZE, TrainOptions
from .prepare import CountedCorpus
from .stream import EncodedCorpus
from .vocab import Vocabulary

SYNC_MODES = ("stratified", "full", "epoch-average")
COMBINES = ("sum", "average")
# Raw words a part trains per round (the default round length).
SYNC_WORDS = 200_000
# A row is synchronized every round if its word is expected this many times in a part's round.
SYNC_EVENTS = 1.0
MAX_PERIOD = 8
CONNECT_TIMEOUT = 10.0
# How often the driver looks for lost workers while a round runs (seconds).
_POLL = 0.5
_DASK_HINT = "training on a Dask cluster needs dask and distributed: pip install 'w2v-nce[dask]'"


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise W2VError(_DASK_HINT) from None
    return distributed


def connect(address, timeout=CONNECT_TIMEOUT):
    """A Client of the scheduler at `address`, or a one-line W2VError naming the address."""
    distributed = _import_distributed()
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise W2VError(f"cannot reach the Dask scheduler at {address} (waited {timeout:g} s): {detail}") from None


def local_cluster(n_workers, threads_per_worker=1):
    """A Client of a LocalCluster of n_workers worker processes on this machine."""
    distributed = _import_distributed()
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                                       dashboard_address=":0")
    return distributed.Client(cluster)


# ---- corpus pieces and parts (the adapter to corpus preparation) ----------------------------------------------

def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


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
    """The pieces of a corpus path or glob, in corpus order: dicts of path, start, end (end None: the whole
    file). One plain-text file is cut into up to n_pieces byte ranges at line starts."""
    paths = sorted(glob.glob(os.fspath(corpus))) if glob.has_magic(os.fspath(corpus)) else [os.fspath(corpus)]
    if not paths:
        raise W2VError(f"corpus not found: no file matches {corpus}")
    for p in paths:
        check_corpus_path(p)
    if len(paths) > 1 or _is_gzip(paths[0]) or n_pieces <= 1:
        return [dict(path=p, start=0, end=None) for p in paths]
    path = paths[0]
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        cuts = sorted({0, size} | {_line_start_at_or_after(f, size * i // n_pieces, size) for i in range(1, n_pieces)})
    return [dict(path=path, start=a, end=b) for a, b in zip(cuts, cuts[1:]) if b > a] or \
        [dict(path=path, start=0, end=None)]


def counted_piece(piece, lowercase=False, stream_path=None, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE):
    """The CountedCorpus of one piece (tokenized and counted by the compiled one-pass preparation)."""
    byte_range = None if piece["end"] is None else (piece["start"], piece["end"])
    return CountedCorpus(piece["path"], stream_path, lowercase, max_vocab_size, warn=False, byte_range=byte_range)


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
    if raw_words == 0:
        raise W2VError("the corpus is empty: it has no tokens")
    return Vocabulary.from_counts(merged, opts.min_count, opts.max_vocab, raw_words, raw_sentences)


def plan_parts(piece_stats, n_parts):
    """Cut the pieces (their (raw words, sentences), in order) into up to n_parts contiguous parts: lists of
    (piece, first sentence, end sentence)."""
    raw = np.array([r for r, _ in piece_stats], dtype=np.float64)
    sents = [s for _, s in piece_stats]
    n = len(piece_stats)
    if n >= n_parts:
        before = np.concatenate([[0.0], np.cumsum(raw)])  # raw words before piece i
        cuts = [0]
        for p in range(1, n_parts):  # the piece boundary nearest p/n_parts of the words, ≥ 1 piece per part
            i = int(np.argmin(np.abs(before[1:n] - before[-1] * p / n_parts))) + 1
            cuts.append(min(max(i, cuts[-1] + 1), n - (n_parts - p)))
        cuts.append(n)
        return [[(i, 0, sents[i]) for i in range(a, b)] for a, b in zip(cuts, cuts[1:])]
    total = sum(sents)
    bounds = [total * p // n_parts for p in range(n_parts + 1)]
    offsets = np.concatenate([[0], np.cumsum(sents)]).astype(np.int64)
    parts = []
    for lo, hi in zip(bounds, bounds[1:]):
        if hi <= lo:
            continue
        part = []
        for i in range(len(sents)):
            a, b = max(lo, offsets[i]), min(hi, offsets[i + 1])
            if b > a:
                part.append((i, int(a - offsets[i]), int(b - offsets[i])))
        parts.append(part)
    return parts


def encode_part(pieces, entries, vocab, path, lowercase, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE, kept=None):
    """The id stream of one part (its entries (piece, first sentence, end sentence) in order), encoded under
    vocab into the file `path`: each entry by the compiled preparation, then joined. kept: {piece: its
    CountedCorpus} counted here already (each used once: its stream is moved and rewritten), else counted again."""
    def counted_at(i, target):
        counted = kept.pop(i, None) if kept else None
        if counted is None:
            return counted_piece(pieces[i], lowercase, target, max_vocab_size)
        shutil.move(counted.stream_path, target)
        counted.stream_path = target
        return counted

    if len(entries) == 1:
        i, first, end = entries[0]
        return counted_at(i, path).encode(vocab, sentences=(first, end))
    chunks, n_sentences, length = [], 0, 0
    with open(path, "wb") as out:
        for k, (i, first, end) in enumerate(entries):
            entry_path = f"{path}.{k}"
            try:
                encoded = counted_at(i, entry_path).encode(vocab, sentences=(first, end))
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


# ---- worker side ------------------------------------------------------------------------------------------------

try:
    from distributed import WorkerPlugin as _PluginBase
except ImportError:  # the dask extra is not installed: connect() says so
    _PluginBase = object


# The worker's statistical profiler samples the stacks of its threads every 10 ms by default; with every core
# training, that time is taken from the kernels (3-9% of a round on 2 cores). It pauses while a job's parts live on
# the worker.
_PROFILER_CALLBACKS = ("profile", "profile-cycle")


class PartStore(_PluginBase):
    """Per-worker state of one training job: the parts this worker holds (a worker plugin; teardown closes
    and removes their encoded streams)."""

    def __init__(self, name):
        self.name = name
        self.parts = {}
        self.kept = {}  # piece → its CountedCorpus, counted here, until a part encodes it
        self.kept_dir = None
        self.paused = []

    def setup(self, worker):
        self.local_directory = worker.local_directory
        self.nthreads = worker.state.nthreads
        callbacks = getattr(worker, "periodic_callbacks", {})
        self.paused = [callbacks[k] for k in _PROFILER_CALLBACKS if k in callbacks and callbacks[k].is_running()]
        for pc in self.paused:
            pc.stop()

    def teardown(self, worker):
        for part in list(self.parts.values()):
            part.close()
        self.parts.clear()
        self.kept.clear()
        if self.kept_dir is not None:
            shutil.rmtree(self.kept_dir, ignore_errors=True)
        for pc in self.paused:
            pc.start()
        self.paused = []


def _store(name):
    from distributed import get_worker

    return get_worker().plugins[name]


def _count_piece_kept(store_name, i, piece, lowercase, max_vocab_size):
    """count_piece, keeping the counted stream on this worker for the part that will encode it; also returns
    this worker's address."""
    from distributed import get_worker

    store = _store(store_name)
    if store.kept_dir is None:
        store.kept_dir = tempfile.mkdtemp(prefix="w2v-nce-counted-", dir=store.local_directory)
    store.kept.pop(i, None)  # a count run again rewrites the stream: no stale entry if it fails
    counts, store.kept[i] = count_piece(piece, lowercase, max_vocab_size, os.path.join(store.kept_dir, f"piece{i}.i32"))
    return counts + (get_worker().address,)


class Part:
    """One part on its worker: the encoded stream, a Trainer on local weights, the weights at the rows' last
    synchronization (base, the same on every worker: the global weights W) and what it takes to redo a round.

    Synchronizations and rounds are numbered: a part is opened from the weights of synchronization `synced`, round
    s trains from synchronization s − 1, and synchronization s adds the changes of round s. `synced` is the last
    synchronization applied to base, `trained` the last round whose training the local weights hold (synced or
    synced + 1)."""

    def __init__(self, index, opts, vocab, pieces, entries, weights, total_words, tmp_dir, synced=0, kept=None):
        from .trainer import Trainer

        self.dir = tempfile.mkdtemp(prefix=f"w2v-nce-part{index}-", dir=tmp_dir)
        self.lock = threading.Lock()
        try:
            self.encoded = encode_part(pieces, entries, vocab, os.path.join(self.dir, "ids.i32"), opts.lowercase,
                                       opts.max_vocab_size, kept)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        local = tuple(np.array(a, dtype=np.float32, copy=True) for a in weights)
        self.base = tuple(a.copy() for a in local)
        # the changes of round s, in bfloat16, in buffer s % 2: those of a round stay valid while the next round
        # runs, for the workers that still fetch them
        self.deltas = [tuple(np.empty(a.shape, np.uint16) for a in local) for _ in range(2)]
        self.saved = tuple(np.empty_like(a) for a in local)  # rows kept before a round
        # rows [:equal[i]] of local array i equal base's (all of them now; the synchronized ones after a sync)
        self.equal = [len(a) for a in local]
        self.before_round = None
        self.synced = self.trained = synced
        self.attempt = 0  # tasks of an older attempt (before a recovery) do nothing
        self.reports = {}  # round → (loss, examples, seconds, finite) of the last rounds trained
        self.trainer = Trainer(opts, vocab, self.encoded, NoiseDistribution(vocab.counts, opts.noise_exponent),
                               local, total_words=total_words, chunk_key=index << 32)
        self.weights = (self.trainer.in_w, self.trainer.out_w, self.trainer.out_b)

    def apply_changes(self, s, changes, average):
        """Synchronization s from the changes of round s of every part, in part order: base ← base + Σ_p Δ_p
        (or + Σ_p Δ_p / n), the same additions on every worker; the synchronized rows of the local weights are
        set to base. Nothing if s is applied already."""
        if self.synced >= s:
            return
        if self.synced != s - 1 or self.trained != s:
            raise RuntimeError(f"synchronization {s} on a part at synchronization {self.synced}, round "
                               f"{self.trained}")
        scale = 1.0 / len(changes) if average else 1.0
        for i, (local, base) in enumerate(zip(self.weights, self.base)):
            n = len(changes[0][i])
            rows = base[:n]
            for c in changes:
                bfloat16.add_into(rows.reshape(-1), c[i].reshape(-1), scale)
            np.copyto(local[:n], rows)
            self.equal[i] = n
        self.synced = s

    def set_rows(self, s, push):
        """Synchronization s from its result: rows[:n_in] of the input vectors, [:n_out] of the output vectors
        and bias (for a part that trained round s but lost the changes of another part)."""
        if self.synced >= s:
            return
        n_in, n_out, in_rows, out_rows, bias_rows = push
        for i, (local, base, n, rows) in enumerate(zip(self.weights, self.base, (n_in, n_out, n_out),
                                                       (in_rows, out_rows, bias_rows))):
            np.copyto(local[:n], rows)
            np.copyto(base[:n], rows)
            self.equal[i] = n
        self.synced = s

    def keep(self):
        """Before a round: the rows that differ from base (those not synchronized), to redo the round from."""
        for local, saved, k in zip(self.weights, self.saved, self.equal):
            np.copyto(saved[k:], local[k:])
        self.before_round = list(self.equal)
        self.equal = [0] * len(self.weights)

    def changes(self, s, n_in, n_out):
        """Δ of the rows to synchronize since their last synchronization, round s, in bfloat16 (views of buffer
        s % 2), and whether every Δ is finite."""
        out, bad = [], 0
        for local, base, delta, n in zip(self.weights, self.base, self.deltas[s % 2], (n_in, n_out, n_out)):
            bad += bfloat16.difference_into(local[:n].reshape(-1), base[:n].reshape(-1), delta[:n].reshape(-1))
            out.append(delta[:n])
        return tuple(out), bad == 0

    def rollback(self):
        """Back to before the round in progress (trained = synced + 1), if any."""
        if self.trained != self.synced + 1 or self.before_round is None:
            return
        for local, base, saved, k in zip(self.weights, self.base, self.saved, self.before_round):
            local[:k] = base[:k]
            local[k:] = saved[k:]
        self.equal = list(self.before_round)
        self.before_round = None
        self.trained = self.synced

    def state(self):
        return self.synced, self.trained, dict(self.reports)

    def close(self):
        self.encoded.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _open_part(store_name, index, opts_dict, threads, vocab_data, pieces, entries, weights, total_words,
               tmp_dir, synced, attempt):
    store = _store(store_name)
    words, counts = vocab_data
    opts_dict = dict(opts_dict, workers=threads or store.nthreads)
    opts = TrainOptions(**opts_dict).resolved()
    old = store.parts.pop(index, None)
    if old is not None:
        old.close()
    store.parts[index] = part = Part(index, opts, Vocabulary(words, counts), pieces, entries, weights,
                                     total_words, tmp_dir or store.local_directory, synced, store.kept)
    part.attempt = attempt
    return part.encoded.chunks[:, 2].copy(), part.encoded.n_sentences


def _part_round(store_name, index, attempt, s, prev, average, epoch, chunk_ids, words_from, words_to, n_in, n_out):
    """Round s: apply synchronization s − 1 from prev (every part's round s − 1 result, or None), keep a copy,
    train the round's chunks; returns the changes of the rows to sync and (loss, examples, seconds, finite)."""
    part = _store(store_name).parts[index]
    with part.lock:
        # a task of an older attempt, or one Dask runs again to recompute a result lost with a worker: nothing
        if attempt != part.attempt or part.trained >= s:
            return None
        if prev is not None:
            part.apply_changes(s - 1, [p[0] for p in prev], average)
        if part.synced != s - 1 or part.trained != s - 1:
            raise RuntimeError(f"round {s} on a part at synchronization {part.synced}, round {part.trained}")
        part.keep()
        part.trained = s
        t0 = time.perf_counter()
        # the weights are checked on the changes: those of the synchronized rows every round, every row's at the
        # end of an epoch
        tally = part.trainer.train_share(epoch, chunk_ids, words_from, words_to, check_weights=False) \
            if len(chunk_ids) else (0.0, 0.0)
        seconds = time.perf_counter() - t0
        changes, finite = part.changes(s, n_in, n_out)
        report = (float(tally[0]), float(tally[1]), seconds, finite)
        part.reports = {k: v for k, v in part.reports.items() if k >= s - 2}
        part.reports[s] = report
        return changes, report


def _round_report(result):
    return None if result is None else result[1]


def _part_settle(store_name, index, attempt):
    """After a failure: older tasks of the part do nothing from now on; its (synced, trained, reports)."""
    part = _store(store_name).parts[index]
    with part.lock:
        part.attempt = attempt
        return part.state()


def _part_rollback(store_name, index, attempt):
    part = _store(store_name).parts[index]
    with part.lock:
        if attempt == part.attempt:
            part.rollback()
        return part.state()


def _part_set_rows(store_name, index, attempt, s, push):
    part = _store(store_name).parts[index]
    with part.lock:
        if attempt == part.attempt:
            part.set_rows(s, push)
        return part.state()


def _part_weights(store_name, index, s, prev, average):
    """The global weights after synchronization s (applied here first from prev if needed): a copy of base."""
    part = _store(store_name).parts[index]
    with part.lock:
        if prev is not None:
            part.apply_changes(s, [p[0] for p in prev], average)
        if part.synced != s:
            raise RuntimeError(f"weights of synchronization {s} asked of a part at {part.synced}")
        return tuple(a.copy() for a in part.base)


# ---- driver side ------------------------------------------------------------------------------------------------

class _WorkersLost(Exception):
    def __init__(self, parts):
        super().__init__(f"workers of parts {sorted(parts)} lost")
        self.parts = set(parts)


def sync_periods(counts, part_round_words, raw_words, rounds, mode):
    """The synchronization period (rounds) of each row: every round for words expected SYNC_EVENTS times per
    part round, then the power of two that brings a rarer word there, at most MAX_PERIOD (and rounds)."""
    if mode != "stratified":
        return np.ones(len(counts), dtype=np.int64)
    expected = np.asarray(counts, dtype=np.float64) * part_round_words / max(raw_words, 1)
    need = np.maximum(SYNC_EVENTS / np.maximum(expected, 1e-12), 1.0)
    periods = 2 ** np.ceil(np.log2(need)).astype(np.int64)
    cap = max(1, min(MAX_PERIOD, 2 ** int(math.floor(math.log2(max(rounds, 1))))))
    return np.minimum(periods, cap)


def synced_prefix(periods, r, rounds):
    """Rows synchronized at the end of round r of an epoch: those whose period divides r + 1 (a prefix, periods
    being powers of two nondecreasing along the frequency-sorted vocabulary); all rows at the epoch's end."""
    if r == rounds - 1:
        return len(periods)
    return int(np.searchsorted(periods, (r + 1) & -(r + 1), side="right"))


def round_chunks(raw, rounds):
    """Split one part's chunks (their raw words) into `rounds` contiguous shares of about equal raw words."""
    raw = np.asarray(raw, dtype=np.float64)
    mid = np.cumsum(raw) - raw / 2
    which = np.minimum((mid * rounds / max(raw.sum(), 1.0)).astype(np.int64), rounds - 1)
    return [np.flatnonzero(which == r) for r in range(rounds)]


class ClusterJob:
    """The driver of one data-parallel training job on a Dask client."""

    def __init__(self, client, opts, vocab, pieces, part_entries, weights, threads, tmp_dir, sync, sync_words,
                 combine, store, on_round_end=None, counted_on=None):
        self.client = client
        self.opts = opts
        self.vocab = vocab
        self.pieces = pieces
        self.part_entries = part_entries
        self.in_w, self.out_w, self.out_b = weights
        self.threads = threads
        self.tmp_dir = tmp_dir
        self.sync = sync
        self.sync_words = sync_words
        self.combine = "average" if sync == "epoch-average" else combine
        self.on_round_end = on_round_end
        self.store = store  # the name of the PartStore registered on the workers
        self.counted_on = counted_on or {}  # piece → the worker that counted it (and keeps its stream)
        self.n_parts = len(part_entries)
        self.hosts = {}  # part → worker address
        self.stats = dict(sync=sync, combine=self.combine, sync_words=sync_words, parts=self.n_parts,
                          rounds=0, failed_rounds=0, reopened_parts=0, sync_bytes=0, setup_bytes=0,
                          sync_seconds=0.0, compute_seconds=0.0, round_seconds=0.0, encode_seconds=0.0)
        self.interrupted = False
        self.attempt = 0
        # rounds and synchronizations numbered from the weights given (0); the driver's W is at w_seq, the last
        # round trained is last_seq, its tasks (their changes, on the workers) last
        self.w_seq = self.last_seq = 0
        self.last = None
        self.plans = {}
        self.tasks = {}  # round → {part: (task, report)}, the rounds submitted and not yet combined everywhere
        self.finite = True

    # -- workers and parts --
    def alive(self):
        return list(self.client.scheduler_info(n_workers=-1)["workers"])

    def _spare_worker(self, alive):
        load = {w: 0 for w in alive}
        for p, w in self.hosts.items():
            if w in load:
                load[w] += 1
        return min(alive, key=lambda w: (load[w], alive.index(w)))

    def open(self, total_words):
        """Open one part per worker (encoding its share), on the worker that counted its first piece if free."""
        self.total_words = total_words
        alive = self.alive()
        if not alive:
            raise W2VError("the Dask cluster has no workers")
        for p in range(self.n_parts):
            w = self.counted_on.get(self.part_entries[p][0][0])
            if w not in alive or (w in self.hosts.values() and len(self.hosts) < len(alive)):
                w = self._spare_worker(alive)
            self.hosts[p] = w
        t0 = time.perf_counter()
        results = self._open_parts(range(self.n_parts))
        self.stats["encode_seconds"] = time.perf_counter() - t0
        self.part_raw = {p: results[p][0] for p in results}
        self.part_sentences = sum(results[p][1] for p in results)

    def _open_parts(self, parts, synced=0):
        """Open the parts on their hosts from the driver's W (synchronization `synced`)."""
        parts = sorted(parts)
        if not parts:
            return {}
        while True:
            weights = [self.in_w, self.out_w, self.out_b]
            targets = sorted({self.hosts[p] for p in parts})
            try:
                wf = self.client.scatter([weights], workers=targets, broadcast=True, hash=False, direct=True)[0]
                vf = self.client.scatter([(self.vocab.words, self.vocab.counts)], workers=targets,
                                         broadcast=True, hash=False, direct=True)[0]
                self.stats["setup_bytes"] += len(targets) * sum(a.nbytes for a in weights)
                futures = {p: self.client.submit(
                    _open_part, self.store, p, self.opts.as_dict(), self.threads, vf, self.pieces,
                    self.part_entries[p], wf, self.total_words, self.tmp_dir, synced, self.attempt,
                    workers=[self.hosts[p]], allow_other_workers=False, pure=False) for p in parts}
                return self._results(futures)
            except _WorkersLost as e:
                self._rehost(e.parts)
                parts = sorted(set(parts) | e.parts)
            except OSError:
                self._rehost({p for p, w in self.hosts.items() if w not in self.alive()})

    def _rehost(self, lost):
        alive = self.alive()
        if not alive:
            raise W2VError("every Dask worker was lost; training cannot continue")
        for p in sorted(lost):
            del self.hosts[p]
        for p in sorted(lost):
            self.hosts[p] = self._spare_worker(alive)

    def _results(self, futures, wait_all=True):
        """Results of the futures {part: future}, each fetched as soon as its part is finished, or _WorkersLost
        once every future is finished or lost (wait_all; else as soon as a part is lost, the others cancelled)."""
        from distributed import wait

        pending = dict(futures)
        done = {}
        lost = set()
        while pending:
            timed_out = False
            try:
                wait(list(pending.values()), timeout=_POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                timed_out = True
            except KeyboardInterrupt:  # Ctrl-C: the work in progress completes, then training stops
                self.interrupted = True
            alive = None
            if timed_out or any(f.status not in ("pending", "finished") for f in pending.values()):
                alive = set(self.alive())
            for p, f in list(pending.items()):
                if f.status == "finished":
                    del pending[p]
                    while not lost and p not in done:
                        try:
                            done[p] = f.result(timeout=_POLL)
                        except KeyboardInterrupt:  # the result is fetched again, then training stops
                            self.interrupted = True
                        except Exception as e:  # a worker lost after finishing its task loses its result too
                            if self.hosts[p] in set(self.alive()):
                                if isinstance(e, TimeoutError):
                                    continue
                                raise
                            lost.add(p)
                elif f.status in ("error", "cancelled", "lost"):
                    if f.status == "error" and self.hosts[p] in alive:
                        exc = f.exception()
                        if not isinstance(exc, OSError) and type(exc).__name__ != "KilledWorker":
                            raise exc
                    lost.add(p)
                    del pending[p]
                elif alive is not None and self.hosts[p] not in alive:
                    lost.add(p)
                    f.cancel()
                    del pending[p]
            if lost and not wait_all:
                for f in pending.values():
                    f.cancel()
                pending.clear()
        if lost:
            raise _WorkersLost(lost)
        return done

    # -- rounds --
    def plan_epochs(self):
        largest = max(float(np.sum(r)) for r in self.part_raw.values())
        self.rounds = 1 if self.sync == "epoch-average" else max(1, math.ceil(largest / self.sync_words))
        self.shares = {p: round_chunks(raw, self.rounds) for p, raw in self.part_raw.items()}
        self.raw_per_epoch = int(sum(int(np.sum(r)) for r in self.part_raw.values()))
        round_words = [sum(int(np.sum(self.part_raw[p][self.shares[p][r]])) for p in self.shares)
                       for r in range(self.rounds)]
        self.round_before = np.concatenate([[0], np.cumsum(round_words)]).astype(np.int64)
        part_round = self.raw_per_epoch / max(self.n_parts * self.rounds, 1)
        self.periods = sync_periods(self.vocab.counts, part_round, self.raw_per_epoch, self.rounds, self.sync)
        self.hs = self.opts.objective == "hs"

    def _pull_sizes(self, n):
        # hierarchical softmax's output rows are the Huffman tree's inner nodes, not words: all of them, always
        return n, (len(self.vocab) if self.hs else n)

    def _plan(self, epoch, r, n_sync=None):
        n = synced_prefix(self.periods, r, self.rounds) if n_sync is None else n_sync
        n_in, n_out = self._pull_sizes(n)
        base = epoch * self.raw_per_epoch + (int(self.round_before[r]) if r is not None else 0)
        words_to = base + (int(self.round_before[r + 1] - self.round_before[r]) if r is not None else 0)
        return dict(epoch=epoch, round=r, synced_rows=n, words_from=base, words_to=words_to, n_in=n_in, n_out=n_out)

    def _submit(self, s, parts, prev):
        """Round s's tasks on `parts` (prev: every part's round s − 1 future, or None), {part: (task, report)}."""
        plan = self.plans[s]
        r = plan["round"]
        out = {}
        for p in parts:
            task = self.client.submit(
                _part_round, self.store, p, self.attempt, s, prev, self.combine == "average", plan["epoch"],
                self.shares[p][r] if r is not None else np.zeros(0, np.int64), plan["words_from"], plan["words_to"],
                plan["n_in"], plan["n_out"], workers=[self.hosts[p]], allow_other_workers=False,
                pure=False)
            report = self.client.submit(_round_report, task, workers=[self.hosts[p]], allow_other_workers=False,
                                        pure=False)
            out[p] = (task, report)
        return out

    def _tasks_of(self, s):
        return [self.tasks[s][p][0] for p in range(self.n_parts)]

    def run_round(self, epoch, r, n_sync=None, following=None):
        """Train round r of `epoch` on every part (no chunks if r is None: a synchronization only), and submit
        the following round ((epoch, r) or None) so that it starts on the workers as soon as this one ends.
        Every part's task first applies the previous round's changes, fetched from the other workers (not through
        the driver); the driver gets each part's loss tally and time."""
        s = self.last_seq + 1
        if s not in self.tasks:
            self.plans[s] = self._plan(epoch, r, n_sync)
            self.tasks[s] = self._submit(s, range(self.n_parts), self.last)
        t0 = time.perf_counter()
        while True:
            try:
                if following is not None and s + 1 not in self.tasks:
                    self.plans[s + 1] = self._plan(*following)
                    self.tasks[s + 1] = self._submit(s + 1, range(self.n_parts), self._tasks_of(s))
                reports = self._results({p: rep for p, (_, rep) in self.tasks[s].items()}, wait_all=False)
                if any(rep is None for rep in reports.values()):
                    raise RuntimeError(f"round {s} found a part in an unexpected state")
                self.last, self.last_seq = self._tasks_of(s), s
                break
            except (_WorkersLost, OSError, TimeoutError) as e:
                self.stats["failed_rounds"] += 1
                reports = self._recover(s, e.parts if isinstance(e, _WorkersLost) else set())
                if reports is not None:  # round s complete after all
                    break
                self.tasks[s] = self._submit(s, range(self.n_parts), self.last)
        for old in [k for k in self.plans if k < s]:
            self.tasks.pop(old, None)
            del self.plans[old]
        plan = self.plans[s]
        n_in, n_out = plan["n_in"], plan["n_out"]
        changes_bytes = sum(min(m, len(a)) * a[:1].size * bfloat16.BYTES
                            for a, m in zip((self.in_w, self.out_w, self.out_b), (n_in, n_out, n_out)))
        hosts = set(self.hosts.values())
        sent = sum(changes_bytes * len(hosts - {self.hosts[p]}) for p in range(self.n_parts))  # to every other
        got = [rep for rep in reports.values() if rep is not None]
        compute = max(rep[2] for rep in got)
        tally = (sum(rep[0] for rep in got), sum(rep[1] for rep in got))
        self.finite = self.finite and all(rep[3] for rep in got)  # checked at the epoch's end
        wall = time.perf_counter() - t0
        st = self.stats
        if r is not None:
            st["rounds"] += 1
        st["sync_bytes"] += sent
        st["round_seconds"] += wall
        st["compute_seconds"] += compute
        st["sync_seconds"] += max(wall - compute, 0.0)
        self.last_round = dict(epoch=epoch, round=r, rounds=self.rounds, words_done=plan["words_to"],
                               synced_rows=plan["synced_rows"], bytes=sent, seconds=wall, compute_seconds=compute)
        return tally, plan["words_to"] - plan["words_from"]

    def _cancel_after(self, s):
        """Cancel the tasks of the rounds after s (they do nothing once the parts have settled)."""
        for k in [k for k in self.tasks if k > s]:
            for task, rep in self.tasks.pop(k).values():
                task.cancel()
                rep.cancel()

    def withdraw(self):
        """Training stops after the last round: the round submitted ahead is undone where it started."""
        if not any(k > self.last_seq for k in self.tasks):
            return
        s = self.last_seq + 1
        self._cancel_after(self.last_seq)
        try:
            self._roll_back(self._settle(range(self.n_parts)), s)
        except _WorkersLost as e:
            self.stats["failed_rounds"] += 1
            self._recover(s, e.parts, keep_to=self.last_seq)

    def _settle(self, parts):
        """A new attempt: the older tasks of these parts do nothing from now on. {part: (synced, trained, reports)}."""
        self.attempt += 1
        return self._results({p: self._on_part(_part_settle, p, self.attempt) for p in parts})

    def _roll_back(self, state, r):
        """The parts of `state` that started round r (not complete) go back to before it; state is updated."""
        started = [p for p in state if state[p][1] == r == state[p][0] + 1]
        state.update(self._results({p: self._on_part(_part_rollback, p, self.attempt) for p in started}))

    def _recover(self, s, lost, keep_to=None):
        """The driver waited for round s (round s + 1 possibly submitted too) when the parts `lost` were lost.
        Every part is brought to one synchronization S, that of the furthest surviving part, and the driver's W to
        it; the lost parts are opened again from it. If every survivor has trained round S + 1 (and S + 1 ≤
        keep_to, default s), that work is kept and the lost parts train their share of it again; otherwise the
        survivors that trained it go back to their copy. Returns round s's reports if round s is complete now,
        else None (round s is run again)."""
        keep_to = s if keep_to is None else keep_to
        lost = set(lost)
        while True:
            try:
                alive_now = set(self.alive())
                lost |= {p for p, w in self.hosts.items() if w not in alive_now}
                self._rehost(lost)
                survivors = [p for p in range(self.n_parts) if p not in lost]
                if not survivors:
                    raise W2VError("every part's worker was lost at once: the training state is gone (train with "
                                   "checkpoint_every to resume from the last checkpoint)")
                state = self._settle(survivors)
                S = max(state[p][0] for p in survivors)
                keep = S + 1 <= keep_to and S + 1 in self.tasks and all(state[p][1] == S + 1 for p in survivors)
                if not keep:
                    self._roll_back(state, S + 1)
                if S + (1 if keep else 0) < self.last_seq:
                    raise RuntimeError(f"recovery would undo round {self.last_seq}")
                if S != self.w_seq:
                    holder = min(p for p in survivors if state[p][0] == S)
                    self._set_weights(self._results({holder: self._on_part(
                        _part_weights, holder, S, None, self.combine == "average")})[holder], S)
                behind = [p for p in survivors if state[p][0] < S]
                if behind:  # they trained round S but cannot get every part's changes of it: its result
                    n_in, n_out = self.plans[S]["n_in"], self.plans[S]["n_out"]
                    rows = (n_in, n_out, self.in_w[:n_in], self.out_w[:n_out], self.out_b[:n_out])
                    targets = sorted({self.hosts[p] for p in behind})
                    pushed = self.client.scatter([rows], workers=targets, broadcast=True, hash=False,
                                                 direct=True)[0]
                    self._results({p: self._on_part(_part_set_rows, p, self.attempt, S, pushed) for p in behind})
                self.stats["reopened_parts"] += len(lost)
                self._open_parts(lost, synced=S)
                done = S + 1 if keep else S
                reports = {p: state[p][2].get(done) for p in survivors}
                if keep:  # the lost parts' share of round S + 1 again
                    redo = self._submit(S + 1, sorted(lost), None)
                    reports.update(self._results({p: rep for p, (_, rep) in redo.items()}, wait_all=False))
                    self.tasks[S + 1] = {**self.tasks[S + 1], **redo}
                    self._cancel_after(S + 1)
                    self.last = self._tasks_of(S + 1)
                else:
                    self._cancel_after(S)
                    self.last = None
                self.last_seq = done
                return reports if done == s else None
            except _WorkersLost as e:
                lost |= e.parts

    def _on_part(self, fn, p, *args):
        return self.client.submit(fn, self.store, p, *args, workers=[self.hosts[p]], allow_other_workers=False,
                                  pure=False)

    def _set_weights(self, weights, s):
        for target, a in zip((self.in_w, self.out_w, self.out_b), weights):
            np.copyto(target, a)
        self.w_seq = s

    def weights(self):
        """The global weights (W, at the last synchronization), fetched from a part if the driver's are older."""
        while self.w_seq != self.last_seq:
            s = self.last_seq
            p = min(self.hosts)
            try:
                w = self._results({p: self._on_part(_part_weights, p, s, self.last, self.combine == "average")})[p]
                self._set_weights(w, s)
            except (_WorkersLost, OSError, TimeoutError) as e:
                self._recover(s + 1, e.parts if isinstance(e, _WorkersLost) else set(), keep_to=s)
        return self.in_w, self.out_w, self.out_b


def new_store(client):
    """Register a new PartStore on every worker (present and future); its name."""
    name = f"w2v-nce-{uuid.uuid4().hex[:12]}"
    client.register_plugin(PartStore(name), name=name)
    return name


def close_store(client, name):
    try:
        client.unregister_worker_plugin(name)
    except Exception:  # a worker lost meanwhile, or a closing client: the workers' teardown removes the files
        pass


def train_on_cluster(corpus, client, progress=False, tmp_dir=None, resume=None, checkpoint_every=None,
                     checkpoint_path=None, on_epoch_end=None, sync="stratified", sync_words=SYNC_WORDS,
                     sync_combine="sum", on_round_end=None, **options):
    """w2v_nce.train on a Dask cluster (see the module's description); the same options, plus sync (one of
    SYNC_MODES), sync_words (raw words a part trains per round) and sync_combine ("sum" or "average");
    on_round_end(info) is called after every round. `workers` is the number of threads per part (default: the
    Dask worker's threads). Returns a Model like a local run's, with model.stats["distributed"]."""
    from .trainer import check_checkpointing, resume_start

    _import_distributed()
    if sync not in SYNC_MODES:
        raise W2VError(f"unknown sync mode {sync!r} (choose from {', '.join(SYNC_MODES)})")
    if sync_combine not in COMBINES:
        raise W2VError(f"unknown sync_combine {sync_combine!r} (choose from {', '.join(COMBINES)})")
    if not isinstance(sync_words, int) or sync_words < 1:
        raise W2VError(f"sync_words must be an integer ≥ 1, got {sync_words!r}")
    if not isinstance(corpus, (str, os.PathLike)):
        raise W2VError("training on a Dask cluster needs the corpus as a path or glob readable by every worker")
    unknown = set(options) - set(TrainOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    threads = options.get("workers")
    resume, options, start = resume_start(resume, options)
    start = start or {}
    if int(start.get("chunk", 0)):
        raise W2VError("this model was interrupted in the middle of an epoch of local training; resume it "
                       "locally (without a Dask cluster)")
    opts = TrainOptions(**options).resolved()
    check_checkpointing(checkpoint_every, checkpoint_path)
    t_start = time.perf_counter()
    n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
    if n_workers == 0:
        raise W2VError("the Dask cluster has no workers")
    saved = start.get("distributed") or {}
    n_parts = int(saved.get("parts", n_workers))
    store = new_store(client)
    try:
        return _train_job(client, store, corpus, opts, resume, start, saved, n_parts, threads, tmp_dir, sync,
                          sync_words, sync_combine, on_round_end, progress, checkpoint_every, checkpoint_path,
                          on_epoch_end, t_start)
    finally:
        close_store(client, store)


def _train_job(client, store, corpus, opts, resume, start, saved, n_parts, threads, tmp_dir, sync, sync_words,
               sync_combine, on_round_end, progress, checkpoint_every, checkpoint_path, on_epoch_end, t_start):
    from . import signals
    from .progress import ProgressBar
    from .trainer import initial_bias, init_weights, run_stats

    pieces = client.submit(plan_pieces, os.fspath(corpus), n_parts, pure=False).result()
    alive = list(client.scheduler_info(n_workers=-1)["workers"])
    # piece i counted on worker i·W/n (contiguous runs of pieces, as the parts are), which keeps its stream
    counted = client.gather([client.submit(
        _count_piece_kept, store, i, piece, opts.lowercase, opts.max_vocab_size,
        workers=[alive[i * len(alive) // len(pieces)]], allow_other_workers=True, pure=False)
        for i, piece in enumerate(pieces)])
    counted_on = {i: c[3] for i, c in enumerate(counted)}
    raw_words = sum(c[1] for c in counted)
    raw_sentences = sum(c[2] for c in counted)
    if resume is not None:
        vocab = Vocabulary(resume.vocab, resume.counts, raw_words, raw_sentences)
        if raw_words != int(start.get("raw_words", -1)):
            raise W2VError(f"the corpus differs from the one this model was trained on "
                           f"({raw_words:,} words, the model saw {int(start.get('raw_words', 0)):,})")
        bias = resume.output_bias if resume.output_bias is not None else np.zeros(len(vocab), np.float32)
        weights = tuple(np.ascontiguousarray(a, dtype=np.float32).copy()
                        for a in (resume.input_vectors, resume.output_vectors, bias))
    else:
        vocab = build_vocabulary(merge_counts(c[0] for c in counted), opts, raw_words, raw_sentences)
        bias = initial_bias(vocab.counts, opts.objective, opts.bias_init) if opts.bias else None
        weights = init_weights(len(vocab), opts.dim, opts.seed, bias)
    piece_stats = [(c[1], c[2]) for c in counted]
    del counted
    job = ClusterJob(client, opts, vocab, pieces, plan_parts(piece_stats, n_parts), weights, threads, tmp_dir, sync,
                     sync_words, sync_combine, store, on_round_end, counted_on=counted_on)
    if saved and job.n_parts != n_parts:
        raise W2VError("the corpus is cut differently from when this model was saved; resume it on the same corpus")
    job.open(raw_words * opts.epochs)
    job.plan_epochs()
    if saved and int(saved.get("rounds", job.rounds)) != job.rounds:
        raise W2VError(f"this model was saved with {saved['rounds']} rounds per epoch, now {job.rounds}: "
                       f"resume with the same sync settings ({saved.get('sync')}, sync_words "
                       f"{saved.get('sync_words')})")
    prep_seconds = time.perf_counter() - t_start
    if progress is True:
        bar = ProgressBar(raw_words * opts.epochs, opts.epochs)
    else:
        bar = progress or None
    run = _ClusterRun(job, opts, start, bar)
    run.train(checkpoint_every, checkpoint_path, on_epoch_end, prep_seconds,
              lambda: _model(job, run, vocab, opts, prep_seconds, run_stats))
    with signals.held(raise_after=False):
        model = _model(job, run, vocab, opts, prep_seconds, run_stats)
    return model


class _ClusterRun:
    """Epochs of rounds on a ClusterJob; Ctrl-C stops after the round in progress."""

    def __init__(self, job, opts, start, bar):
        self.job = job
        self.opts = opts
        self.bar = bar
        self.epoch = int(start.get("epoch", 0))
        self.round = int(start.get("round", 0))
        self.words_done = int(start.get("words_done", 0))
        self.train_seconds = float(start.get("train_seconds", 0.0))
        self.epoch_losses = list(start.get("epoch_losses", []))
        self.tally = [float(start.get("partial_loss", 0.0)), float(start.get("partial_examples", 0.0))]
        self.stopped = False

    @property
    def complete(self):
        return self.epoch >= self.opts.epochs

    def learning_rate(self):
        return self.opts.learning_rate(self.words_done / max(self.job.raw_per_epoch * self.opts.epochs, 1))

    def _round(self, r):
        """One round (the next one submitted ahead); a Ctrl-C during it lets it finish, then training stops."""
        if r + 1 < self.job.rounds:
            following = (self.epoch, r + 1)
        else:
            following = (self.epoch + 1, 0) if self.epoch + 1 < self.opts.epochs else None
        t0 = time.perf_counter()
        result = self.job.run_round(self.epoch, r, following=following)
        self.train_seconds += time.perf_counter() - t0
        if self.job.interrupted:
            self.stopped = True
        return result

    def train(self, checkpoint_every, checkpoint_path, on_epoch_end, prep_seconds, model_now):
        job = self.job
        try:
            while not self.complete and not self.stopped:
                while self.round < job.rounds and not self.stopped:
                    (loss, n), words = self._round(self.round)
                    self.tally[0] += loss
                    self.tally[1] += n
                    self.words_done += words
                    self.round += 1
                    if job.on_round_end is not None:
                        job.on_round_end(dict(job.last_round, hosts=dict(job.hosts)))
                    if self.bar is not None:
                        self.bar.update(self.epoch + 1, self.words_done, self.train_seconds, self.learning_rate(),
                                        self.tally[0] / self.tally[1] if self.tally[1] else float("nan"))
                if self.round < job.rounds:
                    break
                if not np.isfinite(self.tally[0]) or not job.finite:
                    raise W2VError(
                        f"training diverged in epoch {self.epoch + 1}: the loss or the weights became NaN or "
                        f"infinite. The learning rate is likely too high (alpha {self.opts.alpha:g}); try a "
                        f"smaller --alpha")
                self.epoch_losses.append(self.tally[0] / self.tally[1] if self.tally[1] else float("nan"))
                self.epoch += 1
                self.round = 0
                self.tally = [0.0, 0.0]
                if self.bar is not None:
                    self.bar.update(self.epoch, self.words_done, self.train_seconds, self.learning_rate(),
                                    self.epoch_losses[-1], force=True)
                if checkpoint_every and self.epoch % checkpoint_every == 0 and not self.complete:
                    model_now().save(checkpoint_path)
                if on_epoch_end is not None:
                    on_epoch_end(self)
        except KeyboardInterrupt:  # between rounds
            self.stopped = True
        finally:
            if self.bar is not None:
                self.bar.close()
        if not self.complete:
            job.withdraw()
        if not self.complete and self.round > 0:
            # stopped inside an epoch: bring every row of W up to date with the parts' training so far
            while True:
                try:
                    job.run_round(self.epoch, None, n_sync=len(job.vocab))
                    break
                except KeyboardInterrupt:  # outside the wait for the workers: the sync is simply made again
                    continue
    def progress_record(self):
        job = self.job
        return dict(epoch=self.epoch, chunk=0, round=self.round, words_done=self.words_done,
                    train_seconds=self.train_seconds, epoch_losses=[float(x) for x in self.epoch_losses],
                    partial_loss=float(self.tally[0]), partial_examples=float(self.tally[1]),
                    raw_words=job.raw_per_epoch, sentences=job.part_sentences, complete=self.complete,
                    distributed=dict(parts=job.n_parts, rounds=job.rounds, sync=job.sync,
                                     sync_words=job.sync_words))


def _model(job, run, vocab, opts, prep_seconds, run_stats):
    from .model import Model

    s = job.stats
    rounds = max(s["rounds"], 1)
    cluster = dict(s, bytes_per_round=s["sync_bytes"] / rounds, rounds_per_epoch=job.rounds,
                   workers=len(set(job.hosts.values())),
                   part_words=[int(np.sum(job.part_raw[p])) for p in range(job.n_parts)])
    stats = run_stats(opts, run.epoch_losses, raw_words=job.raw_per_epoch, train_words=run.words_done,
                      vocab_size=len(vocab), train_seconds=run.train_seconds, prep_seconds=prep_seconds)
    stats["distributed"] = cluster
    in_w, out_w, out_b = job.weights()
    return Model(vocab.words, vocab.counts, in_w, out_w, out_b if opts.bias else None,
                 run.epoch_losses, opts.as_dict(), stats, progress=run.progress_record())
