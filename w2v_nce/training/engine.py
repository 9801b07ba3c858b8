"""The Hogwild engine: threads train chunks of an encoded corpus on shared weights. Local epochs (epochs.py) and
a cluster part's rounds both drive it, each with its own learning-rate schedule.

Each worker thread owns a ThreadState and repeatedly takes the next chunk of the id stream; the jitted chunk
loop releases the GIL, so threads run in parallel and update the shared weights without locks (Hogwild). Every
chunk's random stream is seeded from (seed, epoch, chunk), so a run with one worker is exactly reproducible.
A worker checks for a stop request before taking a chunk and always finishes a chunk it took, so the chunks
trained are exactly those taken.
"""
import threading
import time

import numba
import numpy as np

from ..core.errors import W2VError
from ..core.rng import NOISE_STREAM, new_state, seed_state
from ..kernels.huffman import HuffmanTree
from ..kernels.loop import CBOW, SKIPGRAM
from ..kernels.objective_loops import CHUNK_TRAINERS
from ..objectives import OBJECTIVES
from ..objectives.base import empty_noise_tables, new_thread_state, with_tree
from ..objectives.window import window_scratch
from ..prepare.corpus import MAX_SENTENCE

# Full softmax runs one example at a time up to this vocabulary size, on blocks of rows above it.
SOFTMAX_BLOCK_MIN_VOCAB = 512

# With several workers, each worker of hierarchical softmax keeps private copies of the HOT_ROWS inner nodes nearest
# the root (82.5% of the node writes on text8_2m, 89.5% on pydocs), merged into the shared rows every
# HOT_MERGE_EVERY examples (kernels/hot_rows.py; measured against 64 nodes merged every 256 in
# docs/performance.md). The sampling objectives share every row: their most frequent words' rows are written a
# tenth as often as hs's root, and copies of them were slower than none. The output biases (nce, infonce), 16 to
# a cache line and the most frequent words' side by side, are written by every example of every thread: with
# minibatches (which read and write them through the copies) each worker keeps copies of the HOT_BIASES most
# frequent words' biases (46% of the noise words' writes on text8_2m), merged every HOT_BIAS_MERGE_EVERY examples:
# a merge writes 64 shared lines, a bias moves little in that many examples (quality: docs/performance.md).
HOT_ROWS = 1024
HOT_MERGE_EVERY = 1024
HOT_BIASES = 1024
HOT_BIAS_MERGE_EVERY = 4096


def hot_rows(objective, vocab_size, workers, bias=False, window_batch=False):
    """(first output row, rows, biases) each worker keeps private copies of: for hs with several workers, the
    inner nodes nearest the root (numbered last, the root V − 2) and their biases; for nce and infonce with
    several workers, bias and minibatches, the biases of the most frequent words (ids from 0); else none."""
    if workers < 2:
        return 0, 0, 0
    if objective == "hs":
        n = min(HOT_ROWS, vocab_size - 1)
        return vocab_size - 1 - n, n, n
    if objective in ("nce", "infonce") and bias and window_batch:
        return 0, 0, min(HOT_BIASES, vocab_size)
    return 0, 0, 0


def output_rows(opts, tables):
    """The most output rows an example of the objective reads: the target and k noise words, or the longest
    Huffman path."""
    return max(opts.negative + 1, tables.hs_points.shape[1])


def uses_blocked_softmax(opts, vocab_size):
    if opts.objective != "softmax":
        return False
    return opts.softmax_block if opts.softmax_block is not None else vocab_size > SOFTMAX_BLOCK_MIN_VOCAB


def noise_tables(objective, k, noise, counts):
    """The tables the objective reads: k draws per example and the alias table for sampling objectives, log Q,
    and the Huffman tree for hs."""
    tables = empty_noise_tables(k if OBJECTIVES[objective].samples_noise else 0, noise.alias_prob,
                                noise.alias_idx, noise.log_q)
    if objective == "hs":
        tables = with_tree(tables, HuffmanTree(counts))
    return tables


# Divergence that stays finite: an epoch's mean training loss above the lowest of the earlier epochs' this many
# times. Healthy runs end somewhat above their lowest epoch (every objective and architecture on the bundled
# sample, 5 epochs: at most +3.1%; 4 or 8 cluster workers with "scaled" changes on text8: at most +22%); four
# workers summing their changes rose ×1.2, then ×4.5.
LOSS_RISE_LIMIT = 1.5
# Divergence within a fresh run's first epoch: a round's mean loss above the first round's this many times. Healthy
# cluster runs rise above their first round, trained from the untrained model at the parts' raised rate (text8_2m
# and pydocs, one epoch, sg ns/hs/nce/infonce and cbow ns/hs, 2, 4 and 8 workers: at most ×1.43, InfoNCE on 8);
# eight workers summing their CBOW changes rose ×2.9 within the first epoch.
FIRST_EPOCH_RISE_LIMIT = 2.5


# A weight, or a cluster round's change of one, of this magnitude or more means training diverged with finite
# numbers (healthy runs: |w| ≤ 6.1, the bundled sample's first 60 lines, every objective and architecture, alpha up to
# 0.3; four cluster workers summing their changes at alpha 0.5 reached 1.5e25 and a loss that then fell, which the
# loss checks did not see). A power of two: the cluster checks it on bfloat16 exponents (cluster/bfloat16.py).
DIVERGED_MAGNITUDE = 2.0 ** 14


def within_range(a):
    """Whether every value of the array a is finite and smaller than DIVERGED_MAGNITUDE in magnitude (no copy)."""
    return a.size == 0 or bool(-DIVERGED_MAGNITUDE < a.min() and a.max() < DIVERGED_MAGNITUDE)


def check_divergence(epoch, losses, alpha, finite=True, hint=""):
    """W2VError if training diverged by epoch `epoch` (from 0): the loss sum or the weights not `finite` (NaN,
    infinite, or weights at DIVERGED_MAGNITUDE or beyond), or the
    last of `losses` (the mean training loss of each epoch so far; NaN for an epoch without examples) above
    LOSS_RISE_LIMIT times the lowest earlier one. hint: a further remedy for the message."""
    earlier = [x for x in losses[:-1] if np.isfinite(x)]
    last = losses[-1] if len(losses) else float("nan")
    _check_rise(epoch, min(earlier) if earlier else float("nan"), last, alpha, finite, hint)


def check_first_epoch(first, last, alpha, hint=""):
    """W2VError if, in the first epoch of a training from fresh weights, a stretch of training (a cluster's
    round) ends with a mean loss above FIRST_EPOCH_RISE_LIMIT times that of the first stretch, which trained from
    the untrained model. (A run diverging within its first epoch can end it with a loss far above the untrained
    model's and fall no further, with no earlier epoch to compare it with.)"""
    _check_rise(0, first, last, alpha, True, hint, FIRST_EPOCH_RISE_LIMIT)


def _check_rise(epoch, lowest, last, alpha, finite, hint, limit=LOSS_RISE_LIMIT):
    rose = bool(np.isfinite(lowest) and np.isfinite(last) and last > limit * lowest)
    if finite and not rose:
        return
    what = f"the mean training loss rose from {lowest:.4g} to {last:.4g}" if rose else \
        f"the loss or the weights became NaN, infinite or as large as {DIVERGED_MAGNITUDE:g}"
    raise W2VError(f"training diverged in epoch {epoch + 1}: {what}. The learning rate is likely too high "
                   f"(alpha {alpha:g}); try a smaller --alpha{hint}")


class Engine:
    """Trains chunks of an encoded corpus on Hogwild threads (opts.workers; one thread driving BLAS for the
    blocked full softmax) on the weights given, in place.

    total_words: the length of the learning-rate schedule in raw words (this corpus's epochs, or the whole job's
    for one part of a data-parallel job); chunk_key: chunk c's random streams are seeded from (seed, epoch,
    chunk_key + c). words_done and train_seconds count what it trained and how long.
    """

    def __init__(self, opts, vocab, encoded, noise, weights, total_words=None, chunk_key=0, optimizer_state=None):
        self.opts = opts
        self.vocab = vocab
        self.encoded = encoded
        self.in_w, self.out_w, self.out_b = weights
        self.tables = noise_tables(opts.objective, opts.negative, noise, vocab.counts)
        self.keep_prob = vocab.keep_probabilities(opts.sample)
        self.train_chunk = CHUNK_TRAINERS[opts.objective]
        self.weights = (self.in_w, self.out_w, self.out_b)
        self.settings = (int(opts.window), bool(opts.fixed_window), self.keep_prob, bool(opts.bias),
                         bool(opts.shared_negatives), bool(opts.window_batch))
        self.arch = CBOW if opts.arch == "cbow" else SKIPGRAM
        self.blocked = None
        self.workers = opts.workers
        if uses_blocked_softmax(opts, len(vocab)):
            # the matrix products run on all cores through BLAS: one driving thread
            from ..kernels.blocked import BlockedSoftmax  # BLAS (scipy) is loaded only for this path

            self.blocked = BlockedSoftmax(self.arch, self.in_w, self.out_w, self.out_b, opts.bias, opts.alpha,
                                          opts.softmax_step, optimizer_state)
            self.workers = 1
        self.raw_per_epoch = int(encoded.chunks[:, 2].sum())
        self.total_words = self.raw_per_epoch * opts.epochs if total_words is None else int(total_words)
        self.chunk_key = int(chunk_key)
        first, rows, biases = hot_rows(opts.objective, len(vocab), self.workers, opts.bias, opts.window_batch)
        h_size, work_size, ids_size = window_scratch(opts.dim, opts.window, output_rows(opts, self.tables)) \
            if opts.window_batch else (opts.dim, 0, 0)
        self.states = [
            new_thread_state(opts.dim, MAX_SENTENCE, max(len(vocab), 2 * (opts.negative + 1), work_size),
                             max(opts.negative + 1, ids_size), new_state(opts.seed, t), k=opts.negative,
                             hot_first=first, hot_rows=rows, hot_biases=biases,
                             merge_every=HOT_MERGE_EVERY if rows else HOT_BIAS_MERGE_EVERY, h_size=h_size)
            for t in range(self.workers)]
        self.words_done = 0
        self.train_seconds = 0.0
        self.diverged = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if self.blocked is None:
            self._load_kernel()

    def _load_kernel(self):
        """Compile the objective's chunk kernel for this run's argument types now (from Numba's cache when it is
        there), so that loading it is not counted as training time."""
        empty = np.frombuffer(b"", dtype=np.int32)  # a chunk's stream is read-only, as encoded.read gives it
        args = (self.arch, (empty, 0, 0, 0.0, 0.0), self.weights, self.settings, self.tables, self.states[0])
        self.train_chunk.compile(tuple(numba.typeof(a) for a in args))

    def optimizer_state(self):
        """What a resumed run's optimizer continues from (model.Model.optimizer_state): the blocked softmax's
        AdaGrad sums, or {}."""
        return self.blocked.optimizer_state() if self.blocked is not None else {}

    def learning_rate(self, words_done):
        return self.opts.learning_rate(words_done / max(self.total_words, 1))

    @property
    def stopped(self):
        """Whether a stop was asked (Ctrl-C) or training diverged: no chunk is taken any more."""
        return self._stop.is_set()

    def reset_tally(self, partial=(0.0, 0.0)):
        """Every thread's (loss sum, examples) to zero, the first thread's to `partial`."""
        for s in self.states:
            s.tally[:] = 0.0
        self.states[0].tally[:] = partial

    def tally(self):
        """(loss sum, examples) of every thread since the last reset."""
        return (sum(s.tally[0] for s in self.states), sum(s.tally[1] for s in self.states))

    def mean_loss(self):
        loss, n = self.tally()
        return loss / n if n else float("nan")

    def _worker(self, t, epoch, queue, schedule, errors, remaining, finished):
        try:
            self._train_chunks(t, epoch, queue, schedule, errors)
        finally:
            with self._lock:
                remaining[0] -= 1
                if remaining[0] == 0:
                    finished.set()

    def _train_chunks(self, t, epoch, queue, schedule, errors):
        state = self.states[t]
        chunks = self.encoded.chunks
        o = self.opts
        ids, taken = queue
        try:
            while not self._stop.is_set():
                with self._lock:
                    if taken[0] >= len(ids):
                        return
                    c = int(ids[taken[0]])
                    taken[0] += 1
                start, end, raw = (int(x) for x in chunks[c])
                stream = self.encoded.read(start, end)
                start, end = 0, end - start
                key = np.uint64(self.chunk_key + c)
                seed_state(state.rng, np.uint64(o.seed), np.uint64(epoch), key)
                seed_state(state.noise_rng, np.uint64(o.seed) ^ NOISE_STREAM, np.uint64(epoch), key)
                before, after = schedule(c)
                lr_start, lr_end = self.learning_rate(before), self.learning_rate(after)
                if self.blocked is not None:
                    self.blocked.train_chunk(stream, start, end, lr_start, lr_end, o.window, o.fixed_window,
                                             self.keep_prob, state)
                else:
                    self.train_chunk(self.arch, (stream, start, end, lr_start, lr_end), self.weights,
                                     self.settings, self.tables, state)
                with self._lock:
                    self.words_done += raw
                if not np.isfinite(state.tally[0]):
                    self.diverged = epoch
                    self._stop.set()
        except BaseException as e:  # reported by the main thread
            errors.append(e)
            self._stop.set()

    def run_chunks(self, epoch, chunk_ids, schedule, check=True, report=None):
        """Train the chunks chunk_ids of `epoch` on self.workers threads, which take them in order; schedule(c)
        gives the positions in the learning-rate schedule (words trained) at chunk c's start and end. report(t0),
        if given, is called every 0.1 s while the threads run (t0: when they started). Ctrl-C stops the threads
        after their current chunk. Returns how many of chunk_ids were taken (and trained).
        W2VError (check) if training diverged: a non-finite loss or non-finite weights; a cluster's part leaves the
        check to the driver, which names the run's own rate (cluster/run.py)."""
        queue = (chunk_ids, [0])
        errors = []
        # Completion is signalled by an Event, not observed with Thread.join: a join() interrupted by Ctrl-C
        # can mark a still-running thread as stopped, and the id stream must not be closed under a worker.
        remaining = [self.workers]
        finished = threading.Event()
        threads = [threading.Thread(target=self._worker, args=(t, epoch, queue, schedule, errors, remaining,
                                                               finished), daemon=True)
                   for t in range(self.workers)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        while not finished.is_set():
            try:
                finished.wait(0.1)
                if report is not None:
                    report(t0)
            except KeyboardInterrupt:  # Ctrl-C: the workers stop after their current chunk
                self._stop.set()
        for th in threads:
            th.join()
        self.train_seconds += time.perf_counter() - t0
        if errors:
            raise errors[0]
        taken = min(queue[1][0], len(chunk_ids))
        if check:
            finite = self.diverged is None and np.isfinite(self.tally()[0]) and within_range(self.in_w) and \
                within_range(self.out_w)
            check_divergence(epoch, (), self.opts.alpha, finite)
        return taken
