"""Training: corpus → vocabulary → id stream → noise distribution → epochs of Hogwild threads → Model.

Each worker thread owns a ThreadState and repeatedly takes the next chunk of the id stream; the jitted
chunk loop releases the GIL, so threads run in parallel and update the shared weights without locks
(Hogwild). Every chunk's random stream is seeded from (seed, epoch, chunk), so a run with one worker is
exactly reproducible. The learning rate decays linearly from alpha to min_alpha over all epochs' raw words.
"""
import shutil
import tempfile
import threading
import time

import numpy as np

from .blocked import BlockedSoftmax
from .corpus import MAX_SENTENCE, as_corpus
from .huffman import HuffmanTree
from .loop import CBOW, SKIPGRAM, train_chunk
from .model import Model
from .noise import NoiseDistribution
from .objectives import OBJECTIVES
from .objectives.base import NoiseTables, empty_noise_tables, new_thread_state
from .options import TrainOptions
from .progress import ProgressBar
from .rng import new_state, seed_state
from .stream import EncodedCorpus
from .vocab import Vocabulary


# Full softmax runs one example at a time up to this vocabulary size, on blocks of rows above it.
SOFTMAX_BLOCK_MIN_VOCAB = 512


def noise_tables(objective, k, noise, counts):
    """The tables the objective reads: the alias table and log Q, plus the Huffman tree for hs."""
    tables = empty_noise_tables(k, noise.alias_prob, noise.alias_idx, noise.log_q)
    if objective == "hs":
        tree = HuffmanTree(counts)
        tables = NoiseTables(tables.k, tables.alias_prob, tables.alias_idx, tables.log_q, tree.points,
                             tree.codes, tree.lengths)
    return tables


def init_weights(vocab_size, dim, seed):
    """Input vectors uniform in [−0.5/dim, 0.5/dim) (word2vec's), output vectors and bias zero."""
    rng = np.random.default_rng(seed)
    in_w = ((rng.random((vocab_size, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim))
    out_w = np.zeros((vocab_size, dim), dtype=np.float32)
    out_b = np.zeros(vocab_size, dtype=np.float32)
    return in_w, out_w, out_b


class Trainer:
    """Runs the epochs of one training job on an encoded corpus."""

    def __init__(self, opts, vocab, encoded, noise, weights, progress=None):
        self.opts = opts
        self.vocab = vocab
        self.encoded = encoded
        self.noise = noise
        self.in_w, self.out_w, self.out_b = weights
        self.progress = progress
        self.spec = OBJECTIVES[opts.objective]
        self.tables = noise_tables(opts.objective, opts.negative, noise, vocab.counts)
        self.keep_prob = vocab.keep_probabilities(opts.sample)
        self.arch = CBOW if opts.arch == "cbow" else SKIPGRAM
        blocked = opts.softmax_block if opts.softmax_block is not None else len(vocab) > SOFTMAX_BLOCK_MIN_VOCAB
        self.blocked = None
        self.workers = opts.workers
        if opts.objective == "softmax" and blocked:
            # the matrix products run on all cores through BLAS: one driving thread
            self.blocked = BlockedSoftmax(self.arch, self.in_w, self.out_w, self.out_b, opts.bias)
            self.workers = 1
        chunks = encoded.chunks
        self.chunk_raw_before = np.concatenate([[0], np.cumsum(chunks[:, 2])[:-1]]) if len(chunks) else chunks
        self.raw_per_epoch = int(chunks[:, 2].sum())
        self.total_words = self.raw_per_epoch * opts.epochs
        self.states = [
            new_thread_state(opts.dim, MAX_SENTENCE, len(vocab), opts.negative + 1, new_state(opts.seed, t))
            for t in range(self.workers)]
        self.words_done = 0
        self.train_seconds = 0.0
        self.epoch_losses = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def learning_rate(self, words_done):
        o = self.opts
        frac = min(words_done / max(self.total_words, 1), 1.0)
        return o.alpha - (o.alpha - o.min_alpha) * frac

    def _worker(self, t, epoch, next_chunk, errors):
        state = self.states[t]
        stream = self.encoded.ids
        chunks = self.encoded.chunks
        o = self.opts
        epoch_base = epoch * self.raw_per_epoch
        try:
            while not self._stop.is_set():
                with self._lock:
                    c = next_chunk[0]
                    next_chunk[0] += 1
                if c >= len(chunks):
                    return
                start, end, raw = (int(x) for x in chunks[c])
                before = epoch_base + int(self.chunk_raw_before[c])
                seed_state(state.rng, np.uint64(o.seed), np.uint64(epoch), np.uint64(c))
                lr_start, lr_end = self.learning_rate(before), self.learning_rate(before + raw)
                if self.blocked is not None:
                    self.blocked.train_chunk(stream, start, end, lr_start, lr_end, o.window, o.fixed_window,
                                             self.keep_prob, state)
                else:
                    train_chunk(self.spec.function, self.arch, stream, start, end, lr_start, lr_end, o.window,
                                o.fixed_window, self.keep_prob, self.in_w, self.out_w, self.out_b, o.bias,
                                self.tables, state)
                with self._lock:
                    self.words_done += raw
        except BaseException as e:  # reported by the main thread
            errors.append(e)
            self._stop.set()

    def _epoch_loss(self):
        loss = sum(s.tally[0] for s in self.states)
        n = sum(s.tally[1] for s in self.states)
        return loss / n if n else float("nan")

    def run_epoch(self, epoch):
        for s in self.states:
            s.tally[:] = 0.0
        next_chunk = [0]
        errors = []
        threads = [threading.Thread(target=self._worker, args=(t, epoch, next_chunk, errors), daemon=True)
                   for t in range(self.workers)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        try:
            for th in threads:
                while th.is_alive():
                    th.join(0.1)
                    self._report(epoch, t0)
        except KeyboardInterrupt:
            self._stop.set()
            for th in threads:
                th.join()
            raise
        finally:
            self.train_seconds += time.perf_counter() - t0
        if errors:
            raise errors[0]
        loss = self._epoch_loss()
        self.epoch_losses.append(loss)
        return loss

    def _report(self, epoch, epoch_t0, force=False):
        if self.progress is not None:
            elapsed = self.train_seconds + time.perf_counter() - epoch_t0
            self.progress.update(epoch + 1, self.words_done, elapsed, self.learning_rate(self.words_done),
                                 self._epoch_loss(), force=force)

    def run(self):
        for epoch in range(self.opts.epochs):
            self.run_epoch(epoch)
            if self.progress is not None:
                self.progress.update(epoch + 1, self.words_done, self.train_seconds,
                                     self.learning_rate(self.words_done), self.epoch_losses[-1], force=True)
        if self.progress is not None:
            self.progress.close()


def train(corpus, progress=False, tmp_dir=None, **options):
    """Train word vectors on `corpus` (a path to plain or .gz text, or a re-iterable of token lists).

    Options are named like the CLI's long options (objective, arch, dim, window, negative, sample, min_count,
    max_vocab, epochs, alpha, min_alpha, noise_exponent, workers, seed, fixed_window, bias, lowercase).
    progress=True shows a progress bar on stderr. Returns a Model.
    """
    unknown = set(options) - set(TrainOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    opts = TrainOptions(**options).resolved()
    t_start = time.perf_counter()
    sentences = as_corpus(corpus, lowercase=opts.lowercase)
    vocab = Vocabulary.build(sentences, opts.min_count, opts.max_vocab)
    work_dir = tempfile.mkdtemp(prefix="w2v-nce-", dir=tmp_dir)
    try:
        encoded = EncodedCorpus.encode(sentences, vocab.index, f"{work_dir}/ids.i32")
        try:
            noise = NoiseDistribution(vocab.counts, opts.noise_exponent)
            weights = init_weights(len(vocab), opts.dim, opts.seed)
            bar = ProgressBar(encoded.raw_words * opts.epochs, opts.epochs) if progress else None
            prep_seconds = time.perf_counter() - t_start
            trainer = Trainer(opts, vocab, encoded, noise, weights, bar)
            trainer.run()
        finally:
            encoded.close()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    in_w, out_w, out_b = weights
    stats = dict(raw_words=encoded.raw_words, train_words=trainer.words_done, vocab_size=len(vocab),
                 train_seconds=trainer.train_seconds, prep_seconds=prep_seconds,
                 words_per_second=trainer.words_done / trainer.train_seconds if trainer.train_seconds else 0.0)
    if opts.objective == "infonce":
        # InfoNCE's bound on the context–target mutual information, in nats: log(k + 1) − L
        stats["mi_lower_bound"] = [float(np.log(opts.negative + 1) - loss) for loss in trainer.epoch_losses]
    return Model(vocab.words, vocab.counts, in_w, out_w, out_b if opts.bias else None, trainer.epoch_losses,
                 opts.as_dict(), stats)
