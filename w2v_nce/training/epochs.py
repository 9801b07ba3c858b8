"""The epochs of a local run on the engine: the learning rate falls linearly from alpha to min_alpha over all
epochs' raw words; the progress display follows the run; and where the run stands is recorded so that an
interrupted run, resumed, continues exactly where it stopped.

Progress is exact at chunk granularity: the engine's threads check for a stop request before taking a chunk and
always finish a chunk they took, so after a stop every chunk before `chunk` of epoch `epoch` is trained and none
after it. Together with per-chunk seeding this makes an interrupted and resumed run continue exactly where it
stopped.
"""
import contextlib
import time

import numpy as np

from ..core import signals
from .engine import check_divergence


class Epochs:
    """Runs the remaining epochs of a local job on an Engine, from the progress record `start` (a resumed run's)
    or from the beginning. on_epoch_end callbacks receive it: epoch, complete, words_done, train_seconds,
    epoch_losses, and the engine's vocab, opts and weights (in_w, out_w, out_b)."""

    def __init__(self, engine, progress=None, start=None):
        self.engine = engine
        self.progress = progress
        chunks = engine.encoded.chunks
        self.chunk_raw_before = np.concatenate([[0], np.cumsum(chunks[:, 2])[:-1]]) if len(chunks) else chunks
        start = start or {}
        self.epoch = int(start.get("epoch", 0))
        self.chunk = int(start.get("chunk", 0))
        engine.words_done = int(start.get("words_done", 0))
        engine.train_seconds = float(start.get("train_seconds", 0.0))
        self.epoch_losses = list(start.get("epoch_losses", []))
        self.partial_tally = (float(start.get("partial_loss", 0.0)), float(start.get("partial_examples", 0.0)))

    @property
    def complete(self):
        return self.epoch >= self.engine.opts.epochs

    # what an on_epoch_end callback reads of the run
    opts = property(lambda self: self.engine.opts)
    vocab = property(lambda self: self.engine.vocab)
    in_w = property(lambda self: self.engine.in_w)
    out_w = property(lambda self: self.engine.out_w)
    out_b = property(lambda self: self.engine.out_b)
    words_done = property(lambda self: self.engine.words_done)
    train_seconds = property(lambda self: self.engine.train_seconds)
    raw_per_epoch = property(lambda self: self.engine.raw_per_epoch)

    def _run_epoch(self):
        """Train the rest of epoch self.epoch from chunk self.chunk; False if stopped before its end."""
        engine = self.engine
        epoch = self.epoch
        engine.reset_tally(self.partial_tally)
        base = epoch * engine.raw_per_epoch
        raw, before = engine.encoded.chunks[:, 2], self.chunk_raw_before

        def schedule(c):
            return base + int(before[c]), base + int(before[c]) + int(raw[c])

        n_chunks = len(engine.encoded.chunks)
        self.chunk += engine.run_chunks(epoch, range(self.chunk, n_chunks), schedule, report=self._report)
        self.partial_tally = engine.tally()
        if self.chunk < n_chunks:
            return False
        self.epoch_losses.append(engine.mean_loss())
        check_divergence(epoch, self.epoch_losses, engine.opts.alpha)
        self.epoch += 1
        self.chunk = 0
        self.partial_tally = (0.0, 0.0)
        return True

    def _report(self, epoch_t0):
        if self.progress is not None:
            engine = self.engine
            elapsed = engine.train_seconds + time.perf_counter() - epoch_t0
            self.progress.update(self.epoch + 1, engine.words_done, elapsed, engine.learning_rate(engine.words_done),
                                 engine.mean_loss())

    def run(self, on_epoch_end=None):
        """Train the remaining epochs; on Ctrl-C, return early (then `complete` is False)."""
        engine = self.engine
        try:
            with signals.as_interrupt():
                while not self.complete:
                    if engine.stopped or not self._run_epoch():
                        break
                    if self.progress is not None:
                        self.progress.update(self.epoch, engine.words_done, engine.train_seconds,
                                             engine.learning_rate(engine.words_done), self.epoch_losses[-1],
                                             force=True)
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
        engine = self.engine
        return dict(epoch=self.epoch, chunk=self.chunk, words_done=engine.words_done,
                    train_seconds=engine.train_seconds, epoch_losses=[float(x) for x in self.epoch_losses],
                    partial_loss=float(self.partial_tally[0]), partial_examples=float(self.partial_tally[1]),
                    raw_words=engine.raw_per_epoch, sentences=engine.encoded.n_sentences, complete=self.complete)
