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
temporary file (the same compiled pass: count, then remap only the part's sentences), and its trainer with a local
copy of the weights. Part state is kept in a worker plugin (PartStore) and reached by tasks pinned to that worker;
a dead worker's parts are opened again, encoded from the shared files, on a surviving worker.

Rounds. An epoch is R rounds (R = ceil(largest part's raw words / sync_words)); in round r every part trains its
r-th share of its chunks, from the global weights, with threads inside the worker, the learning rate following
the global schedule (words trained by all parts). Each part then sends the change of the rows synchronized this
round since their last synchronization, Δ_p = W_p − W_base, fetched by the driver from each worker as soon as that
part is finished (while the others still train); the driver sets W ← W + Σ_p Δ_p ("sum", the updates of every
part kept as Hogwild threads keep them; added in part order, so the result does not depend on arrival order) or
W + mean_p Δ_p ("average") and sends the rows at the start of the next round straight to every worker (not
through the scheduler), where the round's task finds them. Rows are stratified by frequency ("stratified"): a
word expected to occur at least SYNC_EVENTS times in a part's round is synchronized every round, a rarer one every
2, 4, ... MAX_PERIOD rounds (powers of two, so the rows synchronized in a round are a prefix of the
frequency-sorted vocabulary); every row is synchronized at the end of every epoch. "full" synchronizes every row
every round; "epoch-average" is Spark MLlib's scheme: one round per epoch, every row, averaged.

Faults. Before a round a part keeps a copy of the rows that differ from their values at the last synchronization
(the pushed rows equal them: they are restored from base). If a worker dies during a round the round is redone:
the surviving parts return to their copy, the lost parts are opened again on surviving workers from the global
weights, and the round runs again. A lost part loses that round and the updates of its rows not synchronized
since their last synchronization (rare rows, at most MAX_PERIOD − 1 rounds of them).
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


def count_piece(piece, lowercase=False, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE):
    """(word → count in first-seen order, raw words, sentences) of one piece."""
    counted = counted_piece(piece, lowercase, None, max_vocab_size)
    return counted.word_counts(), counted.raw_words, counted.raw_sentences


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


def encode_part(pieces, entries, vocab, path, lowercase, max_vocab_size=DEFAULT_MAX_VOCAB_SIZE):
    """The id stream of one part (its entries (piece, first sentence, end sentence) in order), encoded under
    vocab into the file `path`: each entry by the compiled preparation, then joined."""
    if len(entries) == 1:
        i, first, end = entries[0]
        counted = counted_piece(pieces[i], lowercase, path, max_vocab_size)
        return counted.encode(vocab, sentences=(first, end))
    chunks, n_sentences, length = [], 0, 0
    with open(path, "wb") as out:
        for k, (i, first, end) in enumerate(entries):
            entry_path = f"{path}.{k}"
            try:
                encoded = counted_piece(pieces[i], lowercase, entry_path, max_vocab_size).encode(
                    vocab, sentences=(first, end))
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


class PartStore(_PluginBase):
    """Per-worker state of one training job: the parts this worker holds (a worker plugin; teardown closes
    and removes their encoded streams)."""

    def __init__(self, name):
        self.name = name
        self.parts = {}

    def setup(self, worker):
        self.local_directory = worker.local_directory
        self.nthreads = worker.state.nthreads

    def teardown(self, worker):
        for part in list(self.parts.values()):
            part.close()
        self.parts.clear()


def _store(name):
    from distributed import get_worker

    return get_worker().plugins[name]


class Part:
    """One part on its worker: the encoded stream, a Trainer on local weights, the weights at the rows' last
    synchronization (base) and what it takes to redo a round: the rows that differ from base before it."""

    def __init__(self, index, opts, vocab, pieces, entries, weights, total_words, tmp_dir):
        from .trainer import Trainer

        self.dir = tempfile.mkdtemp(prefix=f"w2v-nce-part{index}-", dir=tmp_dir)
        self.lock = threading.Lock()
        try:
            self.encoded = encode_part(pieces, entries, vocab, os.path.join(self.dir, "ids.i32"), opts.lowercase,
                                       opts.max_vocab_size)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        local = tuple(np.array(a, dtype=np.float32, copy=True) for a in weights)
        self.base = tuple(a.copy() for a in local)
        self.delta = tuple(np.empty_like(a) for a in local)  # the changes sent back, one buffer reused
        self.saved = tuple(np.empty_like(a) for a in local)  # rows kept before a round
        # rows [:equal[i]] of local array i equal base's (all of them now; the pushed ones after a push)
        self.equal = [len(a) for a in local]
        self.before_round = None
        self.trainer = Trainer(opts, vocab, self.encoded, NoiseDistribution(vocab.counts, opts.noise_exponent),
                               local, total_words=total_words, chunk_key=index << 32)
        self.weights = (self.trainer.in_w, self.trainer.out_w, self.trainer.out_b)

    def apply(self, push):
        """Set the synchronized rows to the global values: rows[:n_in] of the input vectors, [:n_out] of the
        output vectors and bias."""
        n_in, n_out, in_rows, out_rows, bias_rows = push
        for i, (local, base, n, rows) in enumerate(zip(self.weights, self.base, (n_in, n_out, n_out),
                                                       (in_rows, out_rows, bias_rows))):
            np.copyto(local[:n], rows)
            np.copyto(base[:n], rows)
            self.equal[i] = n

    def keep(self):
        """Before a round: the rows that differ from base (those not pushed), to redo the round from."""
        for local, saved, k in zip(self.weights, self.saved, self.equal):
            np.copyto(saved[k:], local[k:])
        self.before_round = list(self.equal)
        self.equal = [0] * len(self.weights)

    def changes(self, n_in, n_out):
        """Δ of the rows to synchronize since their last synchronization (views of the reused buffer: valid
        until the next round)."""
        return tuple(np.subtract(local[:n], base[:n], out=delta[:n])
                     for local, base, delta, n in zip(self.weights, self.base, self.delta, (n_in, n_out, n_out)))

    def rollback(self):
        for local, base, saved, k in zip(self.weights, self.base, self.saved, self.before_round):
            local[:k] = base[:k]
            local[k:] = saved[k:]
        self.equal = list(self.before_round)

    def close(self):
        self.encoded.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _open_part(store_name, index, opts_dict, threads, vocab_data, pieces, entries, weights, total_words,
               tmp_dir):
    store = _store(store_name)
    words, counts = vocab_data
    opts_dict = dict(opts_dict, workers=threads or store.nthreads)
    opts = TrainOptions(**opts_dict).resolved()
    old = store.parts.pop(index, None)
    if old is not None:
        old.close()
    store.parts[index] = part = Part(index, opts, Vocabulary(words, counts), pieces, entries, weights,
                                     total_words, tmp_dir or store.local_directory)
    return part.encoded.chunks[:, 2].copy(), part.encoded.n_sentences


def _part_round(store_name, index, push, epoch, chunk_ids, words_from, words_to, n_in, n_out):
    """Apply the pushed rows, keep a copy, train the round's chunks, return the changes of the rows to sync."""
    part = _store(store_name).parts[index]
    with part.lock:
        if push is not None:
            part.apply(push)
        part.keep()
        t0 = time.perf_counter()
        tally = part.trainer.train_share(epoch, chunk_ids, words_from, words_to) if len(chunk_ids) else (0.0, 0.0)
        seconds = time.perf_counter() - t0
        return part.changes(n_in, n_out), (float(tally[0]), float(tally[1])), seconds


def _part_rollback(store_name, index):
    part = _store(store_name).parts[index]
    with part.lock:
        part.rollback()


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
                 combine, on_round_end=None):
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
        self.store = f"w2v-nce-{uuid.uuid4().hex[:12]}"
        self.n_parts = len(part_entries)
        self.hosts = {}  # part → worker address
        self.stats = dict(sync=sync, combine=self.combine, sync_words=sync_words, parts=self.n_parts,
                          rounds=0, failed_rounds=0, reopened_parts=0, sync_bytes=0, setup_bytes=0,
                          sync_seconds=0.0, compute_seconds=0.0, round_seconds=0.0, encode_seconds=0.0)
        self.interrupted = False

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
        """Register the part store and open one part per worker (encoding its share)."""
        self.client.register_plugin(PartStore(self.store), name=self.store)
        self.total_words = total_words
        alive = self.alive()
        if not alive:
            raise W2VError("the Dask cluster has no workers")
        for p in range(self.n_parts):
            self.hosts[p] = alive[p % len(alive)]
        t0 = time.perf_counter()
        results = self._open_parts(range(self.n_parts))
        self.stats["encode_seconds"] = time.perf_counter() - t0
        self.part_raw = {p: results[p][0] for p in results}
        self.part_sentences = sum(results[p][1] for p in results)

    def _open_parts(self, parts):
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
                    self.part_entries[p], wf, self.total_words, self.tmp_dir, workers=[self.hosts[p]],
                    allow_other_workers=False, pure=False) for p in parts}
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

    def _results(self, futures, on_result=None):
        """Results of the futures {part: future}, each fetched as soon as its part is finished (while the others
        still run; on_result(part, result) is called in part order), or _WorkersLost once every future is
        finished or lost."""
        from distributed import wait

        pending = dict(futures)
        order = sorted(futures)
        done = {}
        lost = set()
        while pending:
            try:
                wait(list(pending.values()), timeout=_POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                pass
            except KeyboardInterrupt:  # Ctrl-C: the work in progress completes, then training stops
                self.interrupted = True
            running = any(f.status != "finished" for f in pending.values())
            alive = set(self.alive()) if running else set(self.hosts.values())
            for p, f in list(pending.items()):
                if f.status == "finished":
                    del pending[p]
                    while not lost and p not in done:
                        try:
                            done[p] = self.client.gather(f, direct=True)
                        except KeyboardInterrupt:  # the result is fetched again, then training stops
                            self.interrupted = True
                        except Exception:  # a worker lost after finishing its task loses its result too
                            if self.hosts[p] in set(self.alive()):
                                raise
                            lost.add(p)
                elif f.status in ("error", "cancelled", "lost"):
                    if f.status == "error" and self.hosts[p] in alive:
                        exc = f.exception()
                        if not isinstance(exc, OSError) and type(exc).__name__ != "KilledWorker":
                            raise exc
                    lost.add(p)
                    del pending[p]
                elif self.hosts[p] not in alive:
                    lost.add(p)
                    f.cancel()
                    del pending[p]
            while on_result is not None and not lost and order and order[0] in done:
                on_result(order[0], done[order.pop(0)])
        if lost:
            raise _WorkersLost(lost)
        return done

    def close(self):
        try:
            self.client.unregister_worker_plugin(self.store)
        except Exception:  # a worker lost meanwhile, or a closing client: the workers' teardown removes the files
            pass

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
        self.push = None
        self.total = tuple(np.empty_like(a) for a in (self.in_w, self.out_w, self.out_b))  # the summed changes

    def _pull_sizes(self, n):
        # hierarchical softmax's output rows are the Huffman tree's inner nodes, not words: all of them, always
        return n, (len(self.vocab) if self.hs else n)

    def _send_push(self):
        """The pushed rows on every part's worker, {part: future} (None before the first round): sent by the
        driver straight to each worker, all at once, not through the scheduler. _WorkersLost if a worker is lost
        meanwhile (a send to it would otherwise wait for a connection)."""
        import asyncio
        import concurrent.futures

        if self.push is None:
            return dict.fromkeys(range(self.n_parts))
        hosts = sorted(set(self.hosts.values()))

        async def send():
            return await asyncio.gather(*(self.client.scatter([self.push], workers=[h], direct=True, hash=False,
                                                              asynchronous=True) for h in hosts),
                                        return_exceptions=True)

        def lost_parts():
            alive = set(self.alive())
            return {p for p, w in self.hosts.items() if w not in alive}

        sending = asyncio.run_coroutine_threadsafe(send(), self.client.loop.asyncio_loop)
        while True:
            try:
                sent = sending.result(timeout=_POLL)
                break
            except concurrent.futures.TimeoutError:
                lost = lost_parts()
                if lost:
                    sending.cancel()
                    raise _WorkersLost(lost) from None
            except KeyboardInterrupt:  # Ctrl-C: the round completes, then training stops
                self.interrupted = True
        failed = [e for e in sent if isinstance(e, BaseException)]
        if failed:  # a worker that died just now: lost as soon as the scheduler sees it, else send again
            deadline = time.monotonic() + CONNECT_TIMEOUT
            while not lost_parts() and time.monotonic() < deadline:
                time.sleep(_POLL / 5)
            lost = lost_parts()
            if lost:
                raise _WorkersLost(lost)
            raise failed[0]
        on = {h: f[0] for h, f in zip(hosts, sent)}
        return {p: on[self.hosts[p]] for p in range(self.n_parts)}

    def run_round(self, epoch, r, n_sync=None):
        """Train round r of `epoch` on every part (no chunks if r is None: a synchronization only) and combine."""
        n = synced_prefix(self.periods, r, self.rounds) if n_sync is None else n_sync
        n_in, n_out = self._pull_sizes(n)
        base = epoch * self.raw_per_epoch + (int(self.round_before[r]) if r is not None else 0)
        words_to = base + (int(self.round_before[r + 1] - self.round_before[r]) if r is not None else 0)
        t0 = time.perf_counter()
        first = []

        def add(p, result):
            # Δ_0 + Δ_1 + ... in part order, into self.total, as the parts' changes arrive
            changes = result[0]
            if p == 0:
                first[:] = [changes]
            elif p == 1:
                for total, a, b in zip(self.total, first[0], changes):
                    np.add(a, b, out=total[:len(a)])
            else:
                for total, c in zip(self.total, changes):
                    total[:len(c)] += c

        while True:
            futures = None
            try:
                pushed = self._send_push()
                futures = {p: self.client.submit(
                    _part_round, self.store, p, pushed[p], epoch,
                    self.shares[p][r] if r is not None else np.zeros(0, np.int64), base, words_to, n_in, n_out,
                    workers=[self.hosts[p]], allow_other_workers=False, pure=False) for p in range(self.n_parts)}
                del pushed
                results = self._results(futures, on_result=add)
                break
            except (_WorkersLost, OSError, TimeoutError) as e:
                lost = e.parts if isinstance(e, _WorkersLost) else set()
                alive_now = set(self.alive())
                lost |= {p for p, w in self.hosts.items() if w not in alive_now}
                self.stats["failed_rounds"] += 1
                # parts that trained this round go back to their copy (taken after applying the push, which is
                # sent again: applying it twice is applying it once); lost parts are opened again from W
                trained = [p for p, f in (futures.items() if futures else ()) if p not in lost and
                           f.status == "finished"]
                rb = {p: self.client.submit(_part_rollback, self.store, p, workers=[self.hosts[p]],
                                            allow_other_workers=False, pure=False) for p in trained}
                self._rehost(lost)
                self.stats["reopened_parts"] += len(lost)
                self._open_parts(sorted(lost))
                try:
                    self._results(rb)
                except _WorkersLost:  # another worker lost meanwhile: its part is reopened on the next attempt
                    pass
        rows_bytes = sum(a.nbytes for p in range(self.n_parts) for a in results[p][0])
        for target, total, rows in zip((self.in_w, self.out_w, self.out_b), self.total, results[0][0]):
            # W ← W + Σ_p Δ_p (or the mean)
            m = len(rows)
            total = total[:m]
            if self.n_parts == 1:
                np.copyto(total, rows)
            if self.combine == "average":
                total /= np.float32(self.n_parts)
            target[:m] += total
        compute = max(results[p][2] for p in range(self.n_parts))
        tally = (sum(results[p][1][0] for p in range(self.n_parts)), sum(results[p][1][1] for p in range(self.n_parts)))
        del first, results
        # the rows as they stand: W does not change until this push has been applied by every part
        self.push = (n_in, n_out, self.in_w[:n_in], self.out_w[:n_out], self.out_b[:n_out])
        push_bytes = sum(a.nbytes for a in self.push[2:]) * len(set(self.hosts.values()))  # one per worker
        wall = time.perf_counter() - t0
        s = self.stats
        if r is not None:
            s["rounds"] += 1
        s["sync_bytes"] += rows_bytes + push_bytes
        s["round_seconds"] += wall
        s["compute_seconds"] += compute
        s["sync_seconds"] += max(wall - compute, 0.0)
        self.last_round = dict(epoch=epoch, round=r, rounds=self.rounds, words_done=words_to, synced_rows=n,
                               bytes=rows_bytes + push_bytes, seconds=wall, compute_seconds=compute)
        return tally, words_to - base


def train_on_cluster(corpus, client, progress=False, tmp_dir=None, resume=None, checkpoint_every=None,
                     checkpoint_path=None, on_epoch_end=None, sync="stratified", sync_words=SYNC_WORDS,
                     sync_combine="sum", on_round_end=None, **options):
    """w2v_nce.train on a Dask cluster (see the module's description); the same options, plus sync (one of
    SYNC_MODES), sync_words (raw words a part trains per round) and sync_combine ("sum" or "average");
    on_round_end(info) is called after every round. `workers` is the number of threads per part (default: the
    Dask worker's threads). Returns a Model like a local run's, with model.stats["distributed"]."""
    from . import signals
    from .progress import ProgressBar
    from .trainer import check_checkpointing, initial_bias, init_weights, resume_start, run_stats

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
    pieces = client.submit(plan_pieces, os.fspath(corpus), n_parts, pure=False).result()
    counted = client.gather([client.submit(count_piece, piece, opts.lowercase, opts.max_vocab_size, pure=False)
                             for piece in pieces])
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
                     sync_words, sync_combine, on_round_end)
    if saved and job.n_parts != n_parts:
        raise W2VError("the corpus is cut differently from when this model was saved; resume it on the same corpus")
    try:
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
    finally:
        job.close()
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
        """One round; a Ctrl-C during it lets it finish, then training stops."""
        t0 = time.perf_counter()
        result = self.job.run_round(self.epoch, r)
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
                if not np.isfinite(self.tally[0]) or not (np.isfinite(job.in_w).all() and
                                                          np.isfinite(job.out_w).all()):
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
    return Model(vocab.words, vocab.counts, job.in_w, job.out_w, job.out_b if opts.bias else None,
                 run.epoch_losses, opts.as_dict(), stats, progress=run.progress_record())
