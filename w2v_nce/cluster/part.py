"""The worker side of a cluster job: the parts a worker holds (in a worker plugin, store.PartStore) and the tasks
the driver pins to that worker.

A part lives on one worker: its id stream, encoded there once into a temporary file, and the engine that trains
it on a local copy of the weights. The pieces dealt to a part are counted in one pass on its worker (run.py,
store.py), which keeps the counted stream; the part is opened on that worker and only remaps that stream (on any
other worker it counts its pieces again). A dead worker's parts are opened again, encoded from the shared files, on
a surviving worker.

Synchronizations and rounds are numbered. Round s's task of every part takes the exchange of round s − 1 (every
part's change, or every combined shard: exchange.py), worker to worker (not through the driver): the changes as
its Dask inputs; the combined shards pulled from the workers that hold them, once a barrier task that takes every
combination of round s − 1 (and only they: 2N dependency edges a stage, not N², whose work on the scheduler grows
with N; docs/cluster.md) says they exist. It starts by applying it: base ← base + D, D the change that
c · Σ_p Δ_p (the parts' changes added in part order, c the job's change scale: plan.combine_factors) makes to base,
rounded to bfloat16 (exchange.py), so every worker computes the same base: the global weights W. A round's change
Δ_p = W_p − W_base of the rows synchronized after it, rounded to bfloat16 (half the bytes of float32; bfloat16.py),
holds only the rows it changed, and stays on its worker. A part keeps, before a round, the marks of its rows that
differ from base, to undo the round from after a failure (recovery.py). Which rows may differ is marked from the
words of each round before it trains (local_rows.py): the work of a round besides training follows the rows its
words can touch, not the vocabulary.

With the overlap (plan.Sync.overlaps; skip-gram's default), round s's task trains first, from synchronization
s − 2 plus the part's own change of round s − 1, while the workers combine round s − 1's shards and the part's
worker pulls them (the task leaves the worker's thread pool while it trains: the combination takes its slot);
then it adds synchronization s − 1, keeping what round s trained (local_rows.py), and takes round s's change. Every
worker adds the same combined shards to the same base, as without it; a round's task waits only for the part's
task of the round before.
"""
import contextlib
import dataclasses
import os
import shutil
import tempfile
import threading
import time

import numpy as np

from ..kernels.noise import NoiseDistribution
from ..objectives import OBJECTIVES
from ..prepare.stream import CHUNK_WORDS
from ..prepare.vocab import Vocabulary
from ..training.engine import Engine
from . import exchange
from .local_rows import LocalRows
from .pieces import encode_part
from .plan import chunk_words_of
from .store import _store
from .transport import COMBINE_FAILED, pull, pulled, received_exchange, start_pull


class Part:
    """One part on its worker: the encoded stream, an Engine on local weights, the weights at the rows' last
    synchronization (base, the same on every worker: the global weights W) and what it takes to redo a round.

    Synchronizations and rounds are numbered: a part is opened from the weights of synchronization `synced`, round
    s trains from synchronization s − 1, and synchronization s adds the changes of round s. `synced` is the last
    synchronization applied to base, `trained` the last round whose training the local weights hold (synced or
    synced + 1)."""

    def __init__(self, index, opts, vocab, pieces, entries, weights, total_words, tmp_dir, synced=0, kept=None,
                 chunk_words=CHUNK_WORDS, overlap=False):
        self.dir = tempfile.mkdtemp(prefix=f"w2v-nce-part{index}-", dir=tmp_dir)
        self.lock = threading.Lock()
        try:
            self.encoded = encode_part(pieces, entries, vocab, os.path.join(self.dir, "ids.i32"), opts.lowercase,
                                       opts.max_vocab_size, kept, chunk_words)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        local = tuple(np.array(a, dtype=np.float32, copy=True) for a in weights)
        self.base = tuple(a.copy() for a in local)
        # the change of round s (the changed rows' numbers and their Δ in bfloat16) in buffer s % 2: that of a
        # round stays valid while the next round runs, for the workers that still fetch it
        self.deltas = [tuple((np.empty(len(a), np.int32), np.empty((len(a), a[:1].size), np.uint16)) for a in local)
                       for _ in range(2)]
        self.rows = LocalRows(local, self.base)
        self.synced = self.trained = synced
        # with the overlap, synchronization s is added after round s + 1 trained (_part_round_overlapped): the
        # part's own change of round s (own[s]) stays in the local weights until then
        self.overlap = overlap
        self.own = {}
        self.attempt = 0  # tasks of an older attempt (before a recovery) do nothing
        self.reports = {}  # round → (loss, examples, seconds, finite) of the last rounds trained
        self.results = {}  # round → what its task gave (_part_result), for the last two rounds trained
        self.outbox = {}  # round → the pieces of its change (sharded exchange), until every shard is combined
        self.combined = {}  # round → the shard this part combined (sharded exchange), until every part has it
        self.engine = Engine(opts, vocab, self.encoded, NoiseDistribution(vocab.counts, opts.noise_exponent),
                             local, total_words=total_words, chunk_key=index << 32)
        self.every_output = OBJECTIVES[opts.objective].samples_noise or opts.objective == "softmax"
        self.weights = (self.engine.in_w, self.engine.out_w, self.engine.out_b)

    def train_round(self, epoch, chunk_ids, words_from, words_to):
        """Train the chunks chunk_ids of `epoch` once: this part's share of one round, whose parts together move
        the schedule from words_from to words_to (words trained by all of them). The learning rate falls linearly
        over [words_from, words_to) in proportion to the chunks' raw words. Returns (loss sum, examples) of these
        chunks. The weights are checked on the changes (changes()): those of the synchronized rows every round,
        every row's at the end of an epoch."""
        engine = self.engine
        engine.reset_tally()
        chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        raw = engine.encoded.chunks[chunk_ids, 2].astype(np.float64)
        scale = (words_to - words_from) / max(raw.sum(), 1.0)
        offset = dict(zip(chunk_ids.tolist(), np.concatenate([[0.0], np.cumsum(raw)]).tolist()))
        rows = dict(zip(chunk_ids.tolist(), raw.tolist()))

        def schedule(c):
            return words_from + scale * offset[c], words_from + scale * (offset[c] + rows[c])

        chunks = engine.encoded.chunks
        self.rows.mark_round((engine.encoded.read(chunks[c, 0], chunks[c, 1]) for c in chunk_ids), self.every_output,
                             engine.tables.hs_points, engine.tables.hs_lengths)
        engine.run_chunks(epoch, chunk_ids, schedule, check=False)  # the driver checks the round's loss
        return engine.tally()

    def train_next(self, s, epoch, chunk_ids, words_from, words_to):
        """Round s (the next): the marks kept, its chunks trained (train_round; none for a synchronization
        alone); returns (its tally, seconds)."""
        self.keep()
        self.trained = s
        t0 = time.perf_counter()
        tally = self.train_round(epoch, chunk_ids, words_from, words_to) if len(chunk_ids) else (0.0, 0.0)
        return tally, time.perf_counter() - t0

    def apply(self, s, received, shards, scale):
        """Synchronization s from the exchange of round s (exchange.py): every part's change in part order
        (shards = 1: combined here by exchange.apply_changes), or every combined shard (added to base); the
        synchronized rows of the local weights are set to base. Returns the digest of the rows written (None if
        s is applied already)."""
        if self.synced >= s:
            return None
        if self.synced != s - 1 or self.trained not in ((s, s + 1) if self.overlap else (s,)):
            raise RuntimeError(f"synchronization {s} on a part at synchronization {self.synced}, round "
                               f"{self.trained}")
        if self.overlap:
            own = self.own.get(s) or tuple((np.zeros(0, np.int32), np.zeros((0, a[:1].size), np.uint16))
                                           for a in self.base)
            written = self.rows.rebase(self.trained, own, received)
            self.synced = s
            return exchange.digest(self.base, written)
        if shards == 1:
            written = exchange.apply_changes(self.base, received, scale)
        else:
            written = exchange.apply_combined(self.base, received)
        n_in, n_out = received[0][0]
        self.rows.synchronized((n_in, n_out, n_out), written)
        self.synced = s
        return exchange.digest(self.base, written)

    def set_rows(self, s, push):
        """Synchronization s from its result: rows[:n_in] of the input vectors, [:n_out] of the output vectors
        and bias (for a part that trained round s but lost the changes of another part)."""
        if self.synced >= s:
            return
        n_in, n_out, in_rows, out_rows, bias_rows = push
        for local, base, n, rows in zip(self.weights, self.base, (n_in, n_out, n_out), (in_rows, out_rows, bias_rows)):
            np.copyto(local[:n], rows)
            np.copyto(base[:n], rows)
        self.rows.set_synchronized((n_in, n_out, n_out))
        self.synced = s

    def keep(self):
        """Before a round: the marks of the rows that differ from base (those not synchronized), to undo the round
        from (local_rows.py)."""
        self.rows.keep(self.trained + 1)

    def changes(self, s, n_in, n_out):
        """The change of round s (exchange.py): the rows < n_in, n_out whose Δ since their last synchronization
        is not zero in bfloat16, with their Δ (views of buffer s % 2); and whether every Δ is finite."""
        rows, bad = self.rows.changes((n_in, n_out, n_out), self.deltas[s % 2], snap=self.overlap)
        if self.overlap:  # the local rows hold what was sent until synchronization s adds it to base
            self.own = {k: v for k, v in self.own.items() if k >= s - 1}
            self.own[s] = tuple(rows)
        return ((n_in, n_out), tuple(rows)), bad == 0

    def round_result(self, s, n_in, n_out, shards, tally, seconds, applied, digest):
        """What round s's task gives once trained: the change cut into `shards` pieces (kept in the outbox when
        sharded, for the shards' workers to pull) and the report (_part_round)."""
        change, finite = self.changes(s, n_in, n_out)
        pieces = exchange.split(change, shards)
        scattered = tuple(exchange.nbytes(x) for x in pieces) if shards > 1 else ()
        report = (float(tally[0]), float(tally[1]), seconds, finite, scattered, applied, digest)
        self.reports = {k: v for k, v in self.reports.items() if k >= s - 2}
        self.reports[s] = report
        self.results = {k: v for k, v in self.results.items() if k >= s - 1}  # (changes: buffer s % 2)
        if shards > 1:
            # every shard of round s − 2 is combined (round s − 1's tasks took them): its pieces are not asked again
            self.outbox = {k: v for k, v in self.outbox.items() if k >= s - 1}
            self.outbox[s] = pieces
            pieces = None
        self.results[s] = (pieces, report)
        return pieces, report

    def rollback(self):
        """Back to before the round in progress (trained = synced + 1; with the overlap also synced + 2, the round
        trained before the previous round's synchronization was added: back to after that round), if any."""
        if self.trained == self.synced + 2:
            if self.rows.rollback(self.trained, self.own.get(self.trained - 1)):
                self.trained -= 1
        elif self.trained == self.synced + 1 and self.rows.rollback(self.trained):
            self.trained = self.synced

    def state(self):
        return self.synced, self.trained, dict(self.reports)

    def close(self):
        self.encoded.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _open_part(store_name, index, opts, threads, chunking, vocab_data, pieces, entries, weights, total_words,
               tmp_dir, synced, attempt, overlap=False):
    """Open part `index` on this worker from the job's resolved options, its threads those given, else the
    worker's; chunking = (round words, chunk words): the part's chunks of the chunk words given (a part opened
    again), else sized for rounds of round_words raw words and its threads (plan.chunk_words_of); overlap: whether
    its rounds overlap the exchange (_part_round_overlapped). Returns the chunks' raw words, the sentences and the
    chunk words."""
    store = _store(store_name)
    words, counts = vocab_data
    opts = dataclasses.replace(opts, workers=threads or store.nthreads)
    round_words, chunk_words = chunking
    chunk_words = chunk_words or chunk_words_of(round_words, opts.workers)
    old = store.parts.pop(index, None)
    if old is not None:
        old.close()
    store.parts[index] = part = Part(index, opts, Vocabulary(words, counts), pieces, entries, weights,
                                     total_words, tmp_dir or store.local_directory, synced, store.kept,
                                     chunk_words, overlap)
    part.attempt = attempt
    return part.encoded.chunks[:, 2].copy(), part.encoded.n_sentences, chunk_words


def _joined(results):
    """A barrier task's result: the (small) results of the tasks it takes, as one value; a task of them that gave
    None (an older attempt's, or one that lost a worker) gives None in it."""
    return tuple(results)


def _part_round(store_name, index, attempt, s, prev, shards, scale, epoch, chunk_ids, words_from, words_to, n_in,
                n_out):
    """Round s: apply synchronization s − 1 from prev (the exchange of round s − 1: every part's round result, or
    the barrier task of its combinations; None: none), keep the marks, train the round's chunks; returns the round's
    change cut into `shards` pieces (exchange.split) and its report: (loss, examples, seconds, finite, the pieces'
    bytes if shards > 1, the bytes of each part's change or combined shard applied, the digest of the rows that
    synchronization wrote)."""
    part = _store(store_name).parts[index]
    # a task of an older attempt, one Dask runs again to recompute a result lost with a worker, or one whose
    # exchange lost a worker (a part's change, a combination or a piece that cannot be had): nothing
    if attempt != part.attempt or part.trained >= s:
        return None
    received = None if prev is None else received_exchange(store_name, s - 1, prev, shards)
    with part.lock:
        if attempt != part.attempt or part.trained >= s or (prev is not None and received is None):
            return None
        applied, digest = (), None
        if received is not None:
            digest = part.apply(s - 1, received, shards, scale)
            applied = tuple(exchange.nbytes(x) for x in received)
        if part.synced != s - 1 or part.trained != s - 1:
            raise RuntimeError(f"round {s} on a part at synchronization {part.synced}, round {part.trained}")
        tally, seconds = part.train_next(s, epoch, chunk_ids, words_from, words_to)
        return part.round_result(s, n_in, n_out, shards, tally, seconds, applied, digest)


def _part_round_overlapped(store_name, index, attempt, s, before, hosts, shards, scale, epoch, chunk_ids,
                           words_from, words_to, n_in, n_out):
    """Round s with the overlap: train the round's chunks first, while the workers combine the shards of round
    s − 1 (the task leaves the worker's thread pool, whose slot the combination takes), then add synchronization
    s − 1 (if not added yet) from the combined shards, pulled from their workers (hosts) as soon as they exist,
    keeping what round s trained (Part.apply); returns what _part_round returns. before: this part's round s − 1
    task (so that round s starts after it), or None."""
    from distributed import secede

    part = _store(store_name).parts[index]
    if attempt != part.attempt or part.trained >= s:
        return None
    secede()
    with part.lock:
        if attempt != part.attempt or part.trained >= s:
            return None
        if part.trained != s - 1 or part.synced not in (s - 2, s - 1):
            raise RuntimeError(f"round {s} on a part at synchronization {part.synced}, round {part.trained}")
        pending = part.synced == s - 2
        # the combined shards of round s − 1 move while the round trains, each as soon as it is combined
        pull = start_pull(store_name, [(address, dict(kind="combined", part=j, s=s - 1, attempt=attempt))
                                        for j, address in enumerate(hosts)], wait=True) if pending else None
        tally, seconds = part.train_next(s, epoch, chunk_ids, words_from, words_to)
    # (the lock is free while the shards are awaited: a recovery settles the part meanwhile, and the wait ends)
    received = pulled(pull) if pending else None
    if received is not None and any(isinstance(x, str) and x == COMBINE_FAILED for x in received):
        raise RuntimeError(f"round {s}: a worker failed to combine its shard of round {s - 1} (see its log)")
    with part.lock:
        if attempt != part.attempt or (pending and received is None and part.synced == s - 2):
            return None
        applied, digest = (), None
        if received is not None and part.synced == s - 2:
            digest = part.apply(s - 1, received, shards, scale)
            applied = tuple(exchange.nbytes(x) for x in received)
        return part.round_result(s, n_in, n_out, shards, tally, seconds, applied, digest)


def _round_report(result):
    return None if result is None else result[1]


def _combine_shard(store_name, index, attempt, s, rounds, hosts, scale):
    """Shard `index` of synchronization s, on the worker of part `index` (whose base is at s − 1), once every
    part's round s task is done (rounds: the barrier task that takes them): the pieces of their changes, pulled
    from their workers (hosts), added in part order (exchange.combine) and kept on this worker for every part to
    pull; returns (this worker's address, its bytes). None for a task of an older attempt or if a piece cannot be
    had."""
    from distributed import get_worker

    part = _store(store_name).parts[index]
    if attempt != part.attempt or any(r is None for r in rounds):
        return None
    pieces = pull(store_name, [(host, dict(kind="piece", part=p, s=s, j=index)) for p, host in enumerate(hosts)])
    # (with the overlap, round s + 1 trains under the lock meanwhile: it writes the local weights, not base, until
    # every shard is combined; a shard is held with its attempt, which a recovery's tasks ask for)
    with contextlib.nullcontext() if part.overlap else part.lock:
        if pieces is None or attempt != part.attempt:
            return None
        try:
            if part.synced != s - 1:
                raise RuntimeError(f"shard of synchronization {s} on a part at synchronization {part.synced}")
            combined = exchange.combine(part.base, pieces, scale)
        except Exception:  # the parts that wait for this shard (the overlap) fail too rather than wait on
            part.combined[s] = (attempt, COMBINE_FAILED)
            raise
        # every part has taken the shards of round s − 2 (round s − 1's tasks took them): they are not asked again
        part.combined = {k: v for k, v in part.combined.items() if k >= s - 1}
        part.combined[s] = (attempt, combined)
        return get_worker().address, exchange.nbytes(combined)


def _part_result(store_name, index, attempt, s):
    """What this part's round s task gave, given again (None if the part no longer holds it): Dask may keep a
    task's result only on another worker that took it, and if that worker is lost, computes it again, which does
    nothing once the part has trained the round (_part_round)."""
    part = _store(store_name).parts[index]
    with part.lock:
        return part.results.get(s) if attempt == part.attempt and part.trained == s else None


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


def _part_weights(store_name, index, s, prev, shards, scale):
    """The global weights after synchronization s (applied here first from prev, the exchange of round s, if
    needed): a copy of base."""
    part = _store(store_name).parts[index]
    received = None if prev is None or part.synced >= s else received_exchange(store_name, s, prev, shards)
    with part.lock:
        if received is not None:
            part.apply(s, received, shards, scale)
        if part.synced != s:
            raise RuntimeError(f"weights of synchronization {s} asked of a part at {part.synced}")
        return tuple(a.copy() for a in part.base)
