"""Data-parallel training on a Dask cluster: shards → counts merged on the driver → vocabulary → each worker
encodes and keeps its part → synchronous rounds of local Hogwild training → combined updates → Model.

Corpus: named by paths (files, directories, globs) readable by every worker (a shared file system), resolved by a
worker, cut into pieces that follow the files, dealt to the parts and counted on their workers (pieces.py). Parts:
one part of pieces from across the corpus per worker (plan.py), kept on its worker (part.py). Rounds: an epoch is R
rounds; in each, every part trains its share of its chunks (shuffled every epoch) from the global weights with
threads inside the worker, and the changes of the rows synchronized after the round go worker to worker (part.py,
job.py). Faults: a lost worker costs at most a round (recovery.py).
"""
import time

import numpy as np

from ..core import signals
from ..core.errors import W2VError
from ..prepare.vocab import Vocabulary
from ..training.engine import check_divergence, check_first_epoch
from ..training.run import run_stats, trained_model
from .connection import import_distributed
from .job import ClusterJob
from .store import _count_pieces_kept, close_store, new_store
from .pieces import build_vocabulary, cluster_names, merge_counts, plan_pieces
from .placement import Placement, workers_of
from .plan import PIECES_PER_PART, Sync, deal_pieces, plan_parts


def train_on_cluster(corpus, client, start, hooks, tmp_dir=None, sync="stratified", sync_words=None,
                     sync_combine="scaled", sync_exchange="auto", sync_overlap="auto", on_round_end=None):
    """w2v_nce.train on a Dask cluster (see the module's description), from a resolved start
    (training.run.Start) with the run's hooks (training.run.Hooks); sync (one of plan.SYNC_MODES), sync_words (raw
    words a part trains per round; None: plan.SYNC_WORDS, fewer on a small corpus), sync_combine (one of plan.COMBINES) and sync_exchange (one of
    exchange.EXCHANGES: "direct", "sharded", or "auto", sharded from exchange.SHARD_FROM workers on) and
    sync_overlap (one of plan.OVERLAPS: whether a round's exchange overlaps the next round's training; "auto":
    skip-gram with a sampling objective from 4 workers on);
    on_round_end(info) is called after every round. The workers given are the threads per part (default: the
    Dask worker's threads). Returns a Model like a local run's, with model.stats["distributed"]."""
    import_distributed()
    sync = Sync(sync, sync_words, sync_combine, sync_exchange, sync_overlap)
    names = cluster_names(corpus)
    if int(start.record.get("chunk", 0)):
        raise W2VError("this model was interrupted in the middle of an epoch of local training; resume it "
                       "locally (without a Dask cluster)")
    t_start = time.perf_counter()
    saved = start.record.get("distributed") or {}
    n_parts = int(saved.get("parts", len(workers_of(client))))
    store = new_store(client)
    try:
        job, vocab = _open_job(Placement(client, store), names, start, n_parts, sync, tmp_dir)
        opts = start.opts
        prep_seconds = time.perf_counter() - t_start
        run = _ClusterRun(job, opts, start.record, hooks.display(job.total_words, opts.epochs), on_round_end,
                          fresh=start.resume is None and start.grow is None)

        def model_now():
            return _model(job, run, vocab, opts, prep_seconds)

        run.train(hooks, model_now)
        with signals.held(raise_after=False):
            model = model_now()
        return model
    finally:
        close_store(client, store)


def _open_job(placement, names, start, n_parts, sync, tmp_dir):
    """Count the pieces on the workers, build the vocabulary (or take the resumed model's), open the parts from
    the starting weights and plan the epochs: (the ClusterJob, the vocabulary)."""
    client, opts = placement.client, start.opts
    saved = start.record.get("distributed") or {}
    pieces = client.submit(plan_pieces, names, n_parts * PIECES_PER_PART, pure=False).result()
    alive = placement.alive()
    # the pieces dealt to a part (by bytes; with fewer pieces than parts, piece i to part i·n_parts/len(pieces))
    # are counted in one task on its worker, which keeps their stream
    dealt = deal_pieces([piece["bytes"] for piece in pieces], n_parts) if len(pieces) >= n_parts else None
    part_of = dealt or [i * n_parts // len(pieces) for i in range(len(pieces))]
    groups = {p: [i for i in range(len(pieces)) if part_of[i] == p] for p in sorted(set(part_of))}
    counted = client.gather([client.submit(
        _count_pieces_kept, placement.store, group, [pieces[i] for i in group], opts.lowercase, opts.max_vocab_size,
        workers=[alive[p * len(alive) // n_parts]], allow_other_workers=True, pure=False)
        for p, group in groups.items()])
    piece_stats = [None] * len(pieces)
    counted_on = {}  # piece → the worker that counted it
    for group, ((_, stats), address) in zip(groups.values(), counted):
        for i, st in zip(group, stats):
            piece_stats[i] = st
            counted_on[i] = address
    raw_words = sum(w for w, _ in piece_stats)
    raw_sentences = sum(s for _, s in piece_stats)
    if start.resume is not None:
        vocab = Vocabulary(start.resume.vocab, start.resume.counts, raw_words, raw_sentences)
        start.check_corpus(raw_words)
    else:
        vocab = build_vocabulary(merge_counts(c[0][0] for c in counted), opts, raw_words, raw_sentences)
    weights = start.weights(vocab)
    del counted
    parts = plan_parts(piece_stats, n_parts, dealt)
    job = ClusterJob(placement, opts, vocab, pieces, parts, weights, start.workers_given, tmp_dir,
                     sync.resolved(raw_words, len(parts)))
    if saved and job.n_parts != n_parts:
        raise W2VError("the corpus is cut differently from when this model was saved; resume it on the same corpus")
    job.open(raw_words * opts.epochs, counted_on)
    job.plan_epochs()
    if saved and int(saved.get("rounds", job.rounds)) != job.rounds:
        raise W2VError(f"this model was saved with {saved['rounds']} rounds per epoch, now {job.rounds}: "
                       f"resume with the same sync settings ({saved.get('sync')}, sync_words "
                       f"{saved.get('sync_words')})")
    return job, vocab


class _ClusterRun:
    """Epochs of rounds on a ClusterJob; Ctrl-C stops after the round in progress. fresh: training starts from
    new weights (not a model resumed or continued), so that the first epoch's rounds are checked against the
    first round's loss (engine.check_first_epoch)."""

    def __init__(self, job, opts, start, bar, on_round_end=None, fresh=False):
        self.job = job
        self.opts = opts
        self.bar = bar
        self.on_round_end = on_round_end
        self.epoch = int(start.get("epoch", 0))
        self.round = int(start.get("round", 0))
        self.words_done = int(start.get("words_done", 0))
        self.train_seconds = float(start.get("train_seconds", 0.0))
        self.epoch_losses = list(start.get("epoch_losses", []))
        self.tally = [float(start.get("partial_loss", 0.0)), float(start.get("partial_examples", 0.0))]
        self.stopped = False
        self.first_round_loss = None if fresh else float("nan")

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

    def train(self, hooks, model_now):
        job = self.job
        try:
            while not self.complete and not self.stopped:
                while self.round < job.rounds and not self.stopped:
                    (loss, n), words = self._round(self.round)
                    self._check_round(loss, n)
                    self.tally[0] += loss
                    self.tally[1] += n
                    self.words_done += words
                    self.round += 1
                    if self.on_round_end is not None:
                        self.on_round_end(dict(job.last_round, hosts=dict(job.hosts)))
                    if self.bar is not None:
                        self.bar.update(self.epoch + 1, self.words_done, self.train_seconds, self.learning_rate(),
                                        self.tally[0] / self.tally[1] if self.tally[1] else float("nan"))
                if self.round < job.rounds:
                    break
                self.epoch_losses.append(self.tally[0] / self.tally[1] if self.tally[1] else float("nan"))
                check_divergence(self.epoch, self.epoch_losses, self.opts.alpha,
                                 job.finite and np.isfinite(self.tally[0]),
                                 hint=self._hint())
                self.epoch += 1
                self.round = 0
                self.tally = [0.0, 0.0]
                if self.bar is not None:
                    self.bar.update(self.epoch, self.words_done, self.train_seconds, self.learning_rate(),
                                    self.epoch_losses[-1], force=True)
                hooks.epoch_end(self, model_now)
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

    def _check_round(self, loss, n):
        """A round's loss sum: NaN or infinite (a part diverged), or in a fresh run's first epoch a mean far above
        the first round's. The error names the run's rate, not the parts' raised one (plan.combine_factors)."""
        check_divergence(self.epoch, (), self.opts.alpha, bool(np.isfinite(loss)), hint=self._hint())
        if self.epoch_losses or not n:
            return
        if self.first_round_loss is None:
            self.first_round_loss = loss / n
        check_first_epoch(self.first_round_loss, loss / n, self.opts.alpha, hint=self._hint())

    def _hint(self):
        return " or --sync-combine scaled" if self.job.combine == "sum" else ""

    def progress_record(self):
        job = self.job
        return dict(epoch=self.epoch, chunk=0, round=self.round, words_done=self.words_done,
                    train_seconds=self.train_seconds, epoch_losses=[float(x) for x in self.epoch_losses],
                    partial_loss=float(self.tally[0]), partial_examples=float(self.tally[1]),
                    raw_words=job.raw_per_epoch, sentences=job.part_sentences, complete=self.complete,
                    distributed=dict(parts=job.n_parts, rounds=job.rounds, sync=job.sync,
                                     sync_words=job.sync_words))


def _model(job, run, vocab, opts, prep_seconds):
    s = job.stats
    rounds = max(s["rounds"], 1)
    workers = len(set(job.hosts.values()))
    # bytes that crossed between workers in a round (all of them), and per worker (each sends and receives about
    # as many)
    per_round = s["sync_bytes"] / rounds
    cluster = dict(s, bytes_per_round=per_round, bytes_per_worker_round=per_round / workers,
                   bytes_per_change=s["change_bytes"] / max(s["changes"], 1),
                   bytes_combined_per_round=s["combined_bytes"] / max(s["combined"], 1),
                   synced_rows_per_round=s["synced_rows"] / rounds,
                   rounds_per_epoch=job.rounds, workers=workers,
                   part_words=[int(np.sum(job.part_raw[p])) for p in range(job.n_parts)])
    stats = run_stats(opts, run.epoch_losses, raw_words=job.raw_per_epoch, train_words=run.words_done,
                      vocab_size=len(vocab), train_seconds=run.train_seconds, prep_seconds=prep_seconds)
    stats["distributed"] = cluster
    return trained_model(opts, vocab, job.weights(), run.epoch_losses, stats, run.progress_record())
