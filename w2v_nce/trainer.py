"""Training: corpus → vocabulary → id stream → noise distribution → epochs of Hogwild threads → Model.

Each worker thread owns a ThreadState and repeatedly takes the next chunk of the id stream; the jitted
chunk loop releases the GIL, so threads run in parallel and update the shared weights without locks
(Hogwild). Every chunk's random stream is seeded from (seed, epoch, chunk), so a run with one worker is
exactly reproducible. The learning rate decays linearly from alpha to min_alpha over all epochs' raw words.
"""
import contextlib
import shutil
import tempfile
import threading
import time

import numpy as np

from . import signals
from .corpus import MAX_SENTENCE, TextCorpus, as_corpus, estimated_stream_ids
from .errors import W2VError
from .huffman import HuffmanTree
from .loop import CBOW, SKIPGRAM, train_chunk
from .model import Model
from .noise import NoiseDistribution
from .objectives import OBJECTIVES
from .objectives.base import empty_noise_tables, new_thread_state, with_tree
from .options import TrainOptions
from .prepare import CountedCorpus
from .progress import ProgressBar
from .resources import (check_free_space, check_memory, disk_errors, stream_bytes, temporary_directory,
                        training_memory, vocabulary_that_fits)
from .rng import NOISE_STREAM, new_state, seed_state
from .stream import EncodedCorpus
from .vocab import Vocabulary


# Full softmax runs one example at a time up to this vocabulary size, on blocks of rows above it.
SOFTMAX_BLOCK_MIN_VOCAB = 512


def noise_tables(objective, k, noise, counts):
    """The tables the objective reads: k draws per example and the alias table for sampling objectives, log Q,
    and the Huffman tree for hs."""
    tables = empty_noise_tables(k if OBJECTIVES[objective].samples_noise else 0, noise.alias_prob,
                                noise.alias_idx, noise.log_q)
    if objective == "hs":
        tables = with_tree(tables, HuffmanTree(counts))
    return tables


def init_weights(vocab_size, dim, seed, bias=None):
    """Input vectors uniform in [−0.5/dim, 0.5/dim) (word2vec's), output vectors zero, the output bias `bias`
    (zero if None)."""
    rng = np.random.default_rng(seed)
    in_w = rng.random((vocab_size, dim), dtype=np.float32)
    in_w -= np.float32(0.5)  # in place: no temporary of the matrix's size
    in_w /= np.float32(dim)
    out_w = np.zeros((vocab_size, dim), dtype=np.float32)
    out_b = np.zeros(vocab_size, dtype=np.float32) if bias is None else np.asarray(bias, dtype=np.float32).copy()
    return in_w, out_w, out_b


def initial_bias(counts, objective, bias_init="unigram"):
    """The output bias at step 0, when every output vector is zero and so s(w,c) = b_w.

    "unigram" makes the model at step 0 the normalized unigram model p(w|c) = count(w)/Σ counts (Mnih & Teh
    2012): b_w = log(count(w)/Σ counts), so Σ_w exp b_w = 1; for hs, whose bias belongs to the inner nodes,
    b_node = log(n₀/n₁), the counts of the node's branch-0 and branch-1 subtrees, so that the path product
    Π_d σ((1 − 2·code_d)·b_node) is count(w)/Σ counts. "zero": b = 0.
    """
    counts = np.asarray(counts, dtype=np.float64)
    bias = np.zeros(counts.shape[0], dtype=np.float64)
    if bias_init == "unigram":
        if objective == "hs":
            odds = HuffmanTree(counts).branch_log_odds
            bias[:min(len(odds), len(bias))] = odds[:len(bias)]
        else:
            bias[:] = np.log(counts / counts.sum())
    return bias


class Trainer:
    """Runs the epochs of one training job on an encoded corpus.

    Progress is exact at chunk granularity: a worker checks for a stop request before taking a chunk and always
    finishes a chunk it took, so after a stop every chunk before `chunk` of epoch `epoch` is trained and none
    after it. Together with per-chunk seeding this makes an interrupted and resumed run continue exactly where
    it stopped.
    """

    def __init__(self, opts, vocab, encoded, noise, weights, progress=None, start=None, total_words=None,
                 chunk_key=0):
        self.opts = opts
        self.vocab = vocab
        self.encoded = encoded
        self.in_w, self.out_w, self.out_b = weights
        self.progress = progress
        self.spec = OBJECTIVES[opts.objective]
        self.tables = noise_tables(opts.objective, opts.negative, noise, vocab.counts)
        self.keep_prob = vocab.keep_probabilities(opts.sample)
        self.arch = CBOW if opts.arch == "cbow" else SKIPGRAM
        self.blocked = None
        self.workers = opts.workers
        if uses_blocked_softmax(opts, len(vocab)):
            # the matrix products run on all cores through BLAS: one driving thread
            from .blocked import BlockedSoftmax  # BLAS (scipy) is loaded only for this path

            self.blocked = BlockedSoftmax(self.arch, self.in_w, self.out_w, self.out_b, opts.bias)
            self.workers = 1
        chunks = encoded.chunks
        self.chunk_raw_before = np.concatenate([[0], np.cumsum(chunks[:, 2])[:-1]]) if len(chunks) else chunks
        self.raw_per_epoch = int(chunks[:, 2].sum())
        # the schedule's length: this corpus's epochs, or (one share of a data-parallel job) the whole job's
        self.total_words = self.raw_per_epoch * opts.epochs if total_words is None else int(total_words)
        self.chunk_key = int(chunk_key)  # chunk c's random streams are seeded from (seed, epoch, chunk_key + c)
        self.states = [
            new_thread_state(opts.dim, MAX_SENTENCE, max(len(vocab), 2 * (opts.negative + 1)), opts.negative + 1,
                             new_state(opts.seed, t), k=opts.negative)
            for t in range(self.workers)]
        start = start or {}
        self.epoch = int(start.get("epoch", 0))
        self.chunk = int(start.get("chunk", 0))
        self.words_done = int(start.get("words_done", 0))
        self.train_seconds = float(start.get("train_seconds", 0.0))
        self.epoch_losses = list(start.get("epoch_losses", []))
        self.partial_tally = (float(start.get("partial_loss", 0.0)), float(start.get("partial_examples", 0.0)))
        self.diverged = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def complete(self):
        return self.epoch >= self.opts.epochs

    def learning_rate(self, words_done):
        return self.opts.learning_rate(words_done / max(self.total_words, 1))

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
                    train_chunk(self.spec.function, self.arch, stream, start, end, lr_start, lr_end, o.window,
                                o.fixed_window, self.keep_prob, self.in_w, self.out_w, self.out_b, o.bias,
                                self.tables, state, o.shared_negatives)
                with self._lock:
                    self.words_done += raw
                if not np.isfinite(state.tally[0]):
                    self.diverged = epoch
                    self._stop.set()
        except BaseException as e:  # reported by the main thread
            errors.append(e)
            self._stop.set()

    def _tally(self):
        return (sum(s.tally[0] for s in self.states), sum(s.tally[1] for s in self.states))

    def _epoch_loss(self):
        loss, n = self._tally()
        return loss / n if n else float("nan")

    def _run_chunks(self, epoch, chunk_ids, schedule, check_weights=True):
        """Train the chunks chunk_ids of `epoch` on self.workers threads, which take them in order; schedule(c)
        gives the positions in the learning-rate schedule (words trained) at chunk c's start and end. Ctrl-C
        stops the threads after their current chunk. Returns how many of chunk_ids were taken (and trained).
        W2VError if training diverged: a non-finite loss, or (check_weights) non-finite weights."""
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
                self._report(t0)
            except KeyboardInterrupt:  # Ctrl-C: the workers stop after their current chunk
                self._stop.set()
        for th in threads:
            th.join()
        self.train_seconds += time.perf_counter() - t0
        if errors:
            raise errors[0]
        taken = min(queue[1][0], len(chunk_ids))
        if self.diverged is not None or not np.isfinite(self._tally()[0]) or \
                (check_weights and not (np.isfinite(self.in_w).all() and np.isfinite(self.out_w).all())):
            raise W2VError(
                f"training diverged in epoch {epoch + 1}: the loss or the weights became NaN or infinite. "
                f"The learning rate is likely too high (alpha {self.opts.alpha:g}); try a smaller --alpha")
        return taken

    def _run_epoch(self):
        """Train the rest of epoch self.epoch from chunk self.chunk; False if stopped before its end."""
        epoch = self.epoch
        for s in self.states:
            s.tally[:] = 0.0
        self.states[0].tally[:] = self.partial_tally
        base = epoch * self.raw_per_epoch
        raw, before = self.encoded.chunks[:, 2], self.chunk_raw_before

        def schedule(c):
            return base + int(before[c]), base + int(before[c]) + int(raw[c])

        n_chunks = len(self.encoded.chunks)
        self.chunk += self._run_chunks(epoch, range(self.chunk, n_chunks), schedule)
        self.partial_tally = self._tally()
        if self.chunk < n_chunks:
            return False
        self.epoch_losses.append(self._epoch_loss())
        self.epoch += 1
        self.chunk = 0
        self.partial_tally = (0.0, 0.0)
        return True

    def train_share(self, epoch, chunk_ids, words_from, words_to, check_weights=True):
        """Train the chunks chunk_ids of `epoch` once: this corpus's share of one round of data-parallel training,
        whose workers together move the schedule from words_from to words_to (words trained by all of them).
        The learning rate falls linearly over [words_from, words_to) in proportion to the chunks' raw words.
        Returns (loss sum, examples) of these chunks. check_weights: see _run_chunks."""
        for s in self.states:
            s.tally[:] = 0.0
        chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        raw = self.encoded.chunks[chunk_ids, 2].astype(np.float64)
        scale = (words_to - words_from) / max(raw.sum(), 1.0)
        offset = dict(zip(chunk_ids.tolist(), np.concatenate([[0.0], np.cumsum(raw)]).tolist()))
        rows = dict(zip(chunk_ids.tolist(), raw.tolist()))

        def schedule(c):
            return words_from + scale * offset[c], words_from + scale * (offset[c] + rows[c])

        self._run_chunks(epoch, chunk_ids, schedule, check_weights)
        return self._tally()

    def _report(self, epoch_t0):
        if self.progress is not None:
            elapsed = self.train_seconds + time.perf_counter() - epoch_t0
            self.progress.update(self.epoch + 1, self.words_done, elapsed, self.learning_rate(self.words_done),
                                 self._epoch_loss())

    def run(self, on_epoch_end=None):
        """Train the remaining epochs; on Ctrl-C, return early (then `complete` is False)."""
        try:
            with signals.as_interrupt():
                while not self.complete:
                    if self._stop.is_set() or not self._run_epoch():
                        break
                    if self.progress is not None:
                        self.progress.update(self.epoch, self.words_done, self.train_seconds,
                                             self.learning_rate(self.words_done), self.epoch_losses[-1], force=True)
                    if on_epoch_end is not None:
                        on_epoch_end(self)
        except KeyboardInterrupt:  # between epochs: progress is at an epoch boundary
            pass
        finally:
            if self.progress is not None:
                with contextlib.suppress(KeyboardInterrupt):
                    self.progress.close()

    def progress_record(self):
        """What a resumed run needs to continue exactly here (saved with the model)."""
        return dict(epoch=self.epoch, chunk=self.chunk, words_done=self.words_done,
                    train_seconds=self.train_seconds, epoch_losses=[float(x) for x in self.epoch_losses],
                    partial_loss=float(self.partial_tally[0]), partial_examples=float(self.partial_tally[1]),
                    raw_words=self.raw_per_epoch, sentences=self.encoded.n_sentences, complete=self.complete)


def run_stats(opts, epoch_losses, raw_words, train_words, vocab_size, train_seconds, prep_seconds, pruning=None):
    """A model's stats: the run's measured figures. pruning: distinct tokens the bounded counting dropped
    ("pruned") and the highest count among them."""
    stats = dict(raw_words=raw_words, train_words=train_words, vocab_size=vocab_size, train_seconds=train_seconds,
                 prep_seconds=prep_seconds, words_per_second=train_words / train_seconds if train_seconds else 0.0)
    if pruning is not None:
        stats.update(pruned_tokens=int(pruning["pruned"]), max_pruned_count=int(pruning["max_pruned_count"]))
    if opts.objective == "infonce":
        # InfoNCE's bound on the context–target mutual information, in nats: log(k + 1) − L
        stats["mi_lower_bound"] = [float(np.log(opts.negative + 1) - loss) for loss in epoch_losses]
    return stats


def _model(trainer, prep_seconds, pruning=None):
    opts = trainer.opts
    stats = run_stats(opts, trainer.epoch_losses, trainer.raw_per_epoch, trainer.words_done, len(trainer.vocab),
                      trainer.train_seconds, prep_seconds, pruning)
    return Model(trainer.vocab.words, trainer.vocab.counts, trainer.in_w, trainer.out_w,
                 trainer.out_b if opts.bias else None, trainer.epoch_losses, opts.as_dict(), stats,
                 progress=trainer.progress_record())


def check_checkpointing(checkpoint_every, checkpoint_path):
    """checkpoint_every, if given, is a positive number of epochs and comes with a checkpoint_path."""
    if checkpoint_every is not None and (checkpoint_every < 1 or not checkpoint_path):
        raise W2VError("checkpoint_every needs a positive number of epochs and a checkpoint_path")


def resume_start(resume, options):
    """(the model to resume or None, the options, its progress record or None), checked."""
    if resume is None:
        return None, options, None
    resume = resume if isinstance(resume, Model) else Model.load(resume)
    if not resume.progress:
        raise W2VError("this model has no training progress to resume from")
    if resume.progress.get("complete"):
        raise W2VError("this model finished its training; there is nothing to resume")
    extra = set(options) - {"workers"}
    if extra:
        raise W2VError(f"a resumed run keeps the model's options; do not pass {', '.join(sorted(extra))}")
    saved = {k: v for k, v in resume.options.items() if k in TrainOptions.__dataclass_fields__}
    return resume, {**saved, **options}, resume.progress


def train(corpus, progress=False, tmp_dir=None, resume=None, checkpoint_every=None, checkpoint_path=None,
          on_epoch_end=None, client=None, **options):
    """Train word vectors on `corpus` (a path to plain or .gz text, or a re-iterable of token lists).

    Options are named like the CLI's long options (objective, arch, dim, window, negative, sample, min_count,
    max_vocab, max_vocab_size, epochs, alpha, min_alpha, noise_exponent, workers, seed, fixed_window, bias,
    lowercase).
    progress=True shows a progress bar on stderr (or pass an object with ProgressBar's update/close).
    resume: a Model (or .npz path) saved by an interrupted run or
    a checkpoint, continued on the same corpus with its own options (only `workers` may be given).
    checkpoint_every=N saves a resumable model to checkpoint_path after every N epochs. Returns a Model;
    after Ctrl-C the model holds the training so far and model.progress["complete"] is False.
    client: a dask.distributed Client: train data-parallel on its cluster (corpus: a path or glob readable by
    every worker; more keywords in w2v_nce.distributed.train_on_cluster).
    """
    if client is not None:
        from .distributed import train_on_cluster

        return train_on_cluster(corpus, client, progress=progress, tmp_dir=tmp_dir, resume=resume,
                                checkpoint_every=checkpoint_every, checkpoint_path=checkpoint_path,
                                on_epoch_end=on_epoch_end, **options)
    unknown = set(options) - set(TrainOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    resume, options, start = resume_start(resume, options)
    if start is not None and start.get("round"):
        raise W2VError("this model was interrupted in the middle of an epoch of training on a Dask cluster; "
                       "resume it on a cluster (--dask-scheduler or --dask-local)")
    opts = TrainOptions(**options).resolved()
    check_checkpointing(checkpoint_every, checkpoint_path)
    t_start = time.perf_counter()
    tmp_root = temporary_directory(tmp_dir)
    sentences = as_corpus(corpus, lowercase=opts.lowercase)
    if resume is not None:
        vocab = Vocabulary(resume.vocab, resume.counts)
        if len(vocab) != resume.input_vectors.shape[0]:
            raise W2VError("the model's vocabulary and vectors differ in size")
    else:
        check_memory_before_counting(sentences, opts)
    pruning = dict(pruned=0, max_pruned_count=0)
    with contextlib.ExitStack() as finished, contextlib.ExitStack() as cleanup:
        # finished: entered once training is over (a signal then must not lose it), left last
        work_dir = tempfile.mkdtemp(prefix="w2v-nce-", dir=tmp_root)
        cleanup.callback(shutil.rmtree, work_dir, ignore_errors=True)
        cleanup.enter_context(signals.temporary(work_dir, is_dir=True))
        stream_path = f"{work_dir}/ids.i32"
        if isinstance(sentences, TextCorpus):
            # one compiled pass: count and write provisional ids (every token), then remap them in place
            stream_size = 4 * estimated_stream_ids(sentences.path)
            check_free_space(tmp_root, stream_size, "the encoded corpus", _TMP_HINT)
            with disk_errors(stream_path, stream_size, _TMP_HINT):
                counted = CountedCorpus(sentences.path, stream_path, opts.lowercase, opts.max_vocab_size)
            pruning.update(pruned=counted.pruned, max_pruned_count=counted.max_pruned_count)
            if resume is None:
                vocab = counted.vocabulary(opts.min_count, opts.max_vocab)
            check_training_memory(vocab, opts)
            encoded = counted.encode(vocab)
            del counted  # the counting table
        else:
            if resume is None:
                vocab = Vocabulary.build(sentences, opts.min_count, opts.max_vocab, opts.max_vocab_size, pruning)
            check_training_memory(vocab, opts)
            kept = int(vocab.counts.sum())
            if vocab.raw_sentences is not None:
                n_sentences = vocab.raw_sentences
            else:  # resumed: the stream's sentences as saved (at least one per MAX_SENTENCE kept tokens)
                n_sentences = int(start.get("sentences", -(-kept // MAX_SENTENCE)))
            stream_size = stream_bytes(kept, n_sentences)
            check_free_space(tmp_root, stream_size, "the encoded corpus", _TMP_HINT)
            with disk_errors(stream_path, stream_size, _TMP_HINT):
                encoded = EncodedCorpus.encode(sentences, vocab.index, stream_path)
        cleanup.callback(encoded.close)
        if resume is not None and encoded.raw_words != int(start.get("raw_words", -1)):
            raise W2VError(f"the corpus differs from the one this model was trained on "
                           f"({encoded.raw_words:,} words, the model saw {int(start.get('raw_words', 0)):,})")
        if resume is not None and int(start.get("chunk", 0)) > len(encoded.chunks):
            raise W2VError("the model's training progress does not fit this corpus (chunk "
                           f"{int(start.get('chunk', 0))} of {len(encoded.chunks)})")
        noise = NoiseDistribution(vocab.counts, opts.noise_exponent)
        if resume is not None:
            bias = resume.output_bias if resume.output_bias is not None else np.zeros(len(vocab), np.float32)
            weights = tuple(np.ascontiguousarray(a, dtype=np.float32).copy()
                            for a in (resume.input_vectors, resume.output_vectors, bias))
        else:
            bias = initial_bias(vocab.counts, opts.objective, opts.bias_init) if opts.bias else None
            weights = init_weights(len(vocab), opts.dim, opts.seed, bias)
        if progress is True:
            bar = ProgressBar(encoded.raw_words * opts.epochs, opts.epochs)
        else:  # False, or an object with update(...) and close() (e.g. a custom display)
            bar = progress or None
        prep_seconds = time.perf_counter() - t_start
        trainer = Trainer(opts, vocab, encoded, noise, weights, bar, start)

        def epoch_end(tr):
            if checkpoint_every and tr.epoch % checkpoint_every == 0 and not tr.complete:
                _model(tr, prep_seconds, pruning).save(checkpoint_path)
            if on_epoch_end is not None:
                on_epoch_end(tr)

        trainer.run(epoch_end)
        finished.enter_context(signals.held(raise_after=False))
        model = _model(trainer, prep_seconds, pruning)
    return model


_TMP_HINT = "; free some space or choose another directory with --tmp-dir (or TMPDIR)"
# Counted before the whole corpus to refuse early a vocabulary that cannot fit (see check_memory_before_counting).
PREFIX_TOKENS = 1_000_000


def uses_blocked_softmax(opts, vocab_size):
    if opts.objective != "softmax":
        return False
    return opts.softmax_block if opts.softmax_block is not None else vocab_size > SOFTMAX_BLOCK_MIN_VOCAB


def check_training_memory(vocab, opts):
    check_memory(training_memory(len(vocab), opts.dim, opts.objective, opts.negative, opts.workers,
                                 uses_blocked_softmax(opts, len(vocab))),
                 f"training {len(vocab):,} words of {opts.dim:,} dimensions")


def check_memory_before_counting(sentences, opts):
    """Refuse, after reading at most PREFIX_TOKENS tokens, a job whose vocabulary is already too large to train
    in the memory available: the words seen min_count times in a prefix of the corpus are a lower bound on the
    vocabulary (capped by max_vocab). Skipped when no prefix could show that (the common case: then the check
    after counting decides)."""
    fit = vocabulary_that_fits(opts.dim, opts.objective, opts.negative, opts.workers,
                               opts.objective == "softmax" and opts.softmax_block is not False)
    cap = opts.max_vocab if opts.max_vocab is not None else float("inf")
    if fit is None or fit >= min(cap, PREFIX_TOKENS // opts.min_count):
        return
    counts = {}
    reached = 0  # words seen min_count times so far
    tokens = 0
    for sent in sentences:
        for w in sent:
            c = counts.get(w, 0) + 1
            counts[w] = c
            if c == opts.min_count:
                reached += 1
        tokens += len(sent)
        if min(reached, cap) > fit or tokens >= PREFIX_TOKENS:
            break
    words = int(min(reached, cap))
    if words > fit:
        check_memory(training_memory(words, opts.dim, opts.objective, opts.negative, opts.workers,
                                     uses_blocked_softmax(opts, words)),
                     f"training at least {words:,} words (seen {opts.min_count}+ times in the first {tokens:,} "
                     f"tokens) of {opts.dim:,} dimensions")
