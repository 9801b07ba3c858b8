"""The driver of one data-parallel training job: its parts opened on the workers, and the rounds they train.

The driver submits round s + 1 while round s runs, so that it starts as soon as the changes arrive; it gets only
each part's loss tally and time, and fetches the global weights W from a part when it needs them (at the end,
for a checkpoint, after a failure). A failed round is recovered by recovery.py. The exchange of a round's changes
(exchange.py) is direct (round s + 1's task of every part takes every part's round s result) or sharded (pieces
of every result go to the workers of the shards' owners, whose combined shards round s + 1's tasks pull, the
stages joined through barrier tasks). With the overlap (sharded), round s + 1's tasks do not wait for round s's
exchange: they pull its combined shards while they train (part.py).
"""
import dataclasses
import time

import numpy as np

from . import recovery
from .exchange import SHARDED, exchange_of
from .part import (_combine_shard, _joined, _open_part, _part_round, _part_round_overlapped, _part_weights,
                   _round_report)
from .placement import FAULTS, NothingDone, WorkersLost
from .plan import EpochPlan, combine_factors
from .transport import PEER_CONNECT_TIMEOUT


def _initial_stats(job, sync):
    """model.stats["distributed"] of a job before its first round."""
    return dict(sync=sync.mode, combine=job.combine, rate_factor=job.rate_factor, change_scale=job.change_scale,
                sync_words=sync.words, parts=job.n_parts, exchange=job.exchange, overlap=job.overlap,
                tasks_per_round=2 * job.n_parts + (2 if job.shards > 1 else 0), rounds=0,
                failed_rounds=0,
                reopened_parts=0, sync_bytes=0, setup_bytes=0, checked_syncs=0, change_bytes=0, changes=0,
                combined_bytes=0, combined=0, synced_rows=0, sync_seconds=0.0, compute_seconds=0.0,
                round_seconds=0.0, encode_seconds=0.0)


class ClusterJob:
    """One job on the workers of `placement`: part p trains part_entries[p] of the pieces, from the driver's
    weights, with the resolved options opts (threads per part: those given, else each worker's), synchronized as
    `sync` (plan.Sync) says."""

    def __init__(self, placement, opts, vocab, pieces, part_entries, weights, threads, tmp_dir, sync):
        self.placement = placement
        self.client = placement.client
        self.opts = opts
        self.vocab = vocab
        self.pieces = pieces
        self.part_entries = part_entries
        self.in_w, self.out_w, self.out_b = weights
        self.threads = threads
        self.tmp_dir = tmp_dir
        self.sync_settings = sync
        self.sync = sync.mode
        self.sync_words = sync.words
        self.combine = sync.combine
        self.n_parts = len(part_entries)
        self.rate_factor, self.change_scale = combine_factors(self.combine, self.n_parts, opts.objective)
        self.overlap = sync.overlaps(opts, self.n_parts)
        self.exchange = SHARDED if self.overlap else exchange_of(sync.exchange, self.n_parts)
        self.shards = self.n_parts if self.exchange == SHARDED else 1
        self.chunk_words = {}  # each part's, once opened: a part opened again elsewhere (a fault) keeps its chunks
        self.shard_tasks = ShardTasks()
        # the options the parts train with: the rate raised by rate_factor
        self.part_opts = dataclasses.replace(opts, alpha=opts.alpha * self.rate_factor,
                                             min_alpha=opts.min_alpha * self.rate_factor)
        self.stats = _initial_stats(self, sync)
        self.attempt = 0
        # rounds and synchronizations numbered from the weights given (0); the driver's W is at w_seq, the last
        # round trained is last_seq, its tasks (their changes, on the workers) last
        self.w_seq = self.last_seq = 0
        self.last = None
        self.plans = {}
        self.tasks = {}  # round → {part: (task, report)}, the rounds submitted and not yet combined everywhere
        self.finite = True

    @property
    def hosts(self):
        return self.placement.hosts

    @property
    def interrupted(self):
        return self.placement.interrupted

    # -- parts --
    def open(self, total_words, counted_on):
        """Open one part per worker (encoding its share), on the worker that counted its first piece
        (counted_on: piece → worker) if free."""
        self.total_words = total_words
        self.placement.place(self.n_parts, lambda p: counted_on.get(self.part_entries[p][0][0]))
        t0 = time.perf_counter()
        results = self.open_parts(range(self.n_parts))
        self.chunk_words = {p: results[p][2] for p in results}
        self.stats["encode_seconds"] = time.perf_counter() - t0
        self.part_raw = {p: results[p][0] for p in results}
        self.part_sentences = sum(results[p][1] for p in results)

    def open_parts(self, parts, synced=0):
        """Open the parts on their hosts from the driver's W (synchronization `synced`)."""
        parts = sorted(parts)
        if not parts:
            return {}
        placement = self.placement
        while True:
            weights = [self.in_w, self.out_w, self.out_b]
            targets = sorted({self.hosts[p] for p in parts})
            try:
                wf = self.client.scatter([weights], workers=targets, broadcast=True, hash=False, direct=True)[0]
                vf = self.client.scatter([(self.vocab.words, self.vocab.counts)], workers=targets,
                                         broadcast=True, hash=False, direct=True)[0]
                self.stats["setup_bytes"] += len(targets) * sum(a.nbytes for a in weights)
                futures = {p: placement.on_part(
                    _open_part, p, self.part_opts, self.threads, (self.sync_words, self.chunk_words.get(p)), vf,
                    self.pieces, self.part_entries[p], wf, self.total_words, self.tmp_dir, synced, self.attempt,
                    self.overlap)
                    for p in parts}
                return placement.results(futures)
            except WorkersLost as e:
                placement.rehost(e.parts)
                parts = sorted(set(parts) | e.parts)
            except OSError:
                placement.rehost(placement.parts_gone())

    # -- rounds --
    def plan_epochs(self):
        self.epoch_plan = EpochPlan(self.part_raw, self.vocab.counts, self.sync_settings,
                                    self.opts.objective == "hs", self.opts.seed)
        self.rounds = self.epoch_plan.rounds
        self.raw_per_epoch = self.epoch_plan.raw_per_epoch

    def exchanged(self, s, tasks):
        """What round s + 1's tasks take from round s's tasks (every part's, in part order; None: nothing)."""
        return self.shard_tasks.inputs(self, s, tasks) if tasks is not None and self.shards > 1 else tasks

    def submit(self, s, parts, prev):
        """Round s's tasks on `parts` (prev: every part's round s − 1 future, or None), {part: (task, report)}
        (round_reports)."""
        return self.with_reports(round_tasks(self, s, parts, prev))

    def with_reports(self, tasks):
        """Round tasks {part: task} as {part: (task, report)} (round_reports)."""
        if self.shards > 1:
            return {p: (task, task) for p, task in tasks.items()}
        return {p: (task, self.placement.after(_round_report, p, task)) for p, task in tasks.items()}

    def round_reports(self, tasks):
        return round_reports(self, tasks)

    def tasks_of(self, s):
        return [self.tasks[s][p][0] for p in range(self.n_parts)]

    def run_round(self, epoch, r, n_sync=None, following=None):
        """Train round r of `epoch` on every part (no chunks if r is None: a synchronization only), and submit
        the following round ((epoch, r) or None) so that it starts on the workers as soon as this one ends.
        Every part's task first applies the previous round's changes, fetched from the other workers (not through
        the driver); the driver gets each part's loss tally and time."""
        s = self.last_seq + 1
        if s not in self.tasks:
            self.plans[s] = self.epoch_plan.round(epoch, r, n_sync)
            self.tasks[s] = self.submit(s, range(self.n_parts), self.last)
        t0 = time.perf_counter()
        faults = recovery.Faults()
        while True:
            try:
                if following is not None and s + 1 not in self.tasks:
                    self.plans[s + 1] = self.epoch_plan.round(*following)
                    self.tasks[s + 1] = self.submit(s + 1, range(self.n_parts), self.tasks_of(s))
                reports = self.round_reports(self.tasks[s])
                self.last, self.last_seq = self.tasks_of(s), s
                break
            except FAULTS as e:
                self.stats["failed_rounds"] += 1
                reports = recovery.recover(self, s, faults.lost(e))
                if reports is not None:  # round s complete after all
                    break
                self.tasks[s] = self.submit(s, range(self.n_parts), self.last)
        for old in [k for k in self.plans if k < s]:
            self.tasks.pop(old, None)
            del self.plans[old]
        self.shard_tasks.forget_before(s - 1)
        plan = self.plans[s]
        self._count_round(epoch, r, plan, reports, time.perf_counter() - t0)
        got = [rep for rep in reports.values() if rep is not None]
        tally = (sum(rep[0] for rep in got), sum(rep[1] for rep in got))
        return tally, plan["words_to"] - plan["words_from"]

    def _count_round(self, epoch, r, plan, reports, wall):
        """The round's figures into stats and last_round; whether every change was finite into `finite`; every
        part that applied the previous synchronization must hold the same rows (their digests)."""
        got = {p: rep for p, rep in reports.items() if rep is not None}
        digests = agreed_digests(got, self.last_seq - 1)
        sent = round_bytes(got, self.hosts)
        compute = max(rep[2] for rep in got.values())
        self.finite = self.finite and all(rep[3] for rep in got.values())  # checked at the epoch's end
        st = self.stats
        if r is not None:
            st["rounds"] += 1
        st["checked_syncs"] += len(digests)
        st["synced_rows"] += plan["synced_rows"] if r is not None else 0
        count_sizes(st, got, self.shards)
        st["sync_bytes"] += sent
        st["round_seconds"] += wall
        st["compute_seconds"] += compute
        st["sync_seconds"] += max(wall - compute, 0.0)
        self.last_round = dict(epoch=epoch, round=r, rounds=self.rounds, words_done=plan["words_to"],
                               synced_rows=plan["synced_rows"], bytes=sent, seconds=wall, compute_seconds=compute)

    def cancel_after(self, s):
        """Cancel the tasks of the rounds after s (they do nothing once the parts have settled)."""
        for k in [k for k in self.tasks if k > s]:
            for task, rep in self.tasks.pop(k).values():
                task.cancel()
                rep.cancel()

    def withdraw(self):
        """Training stops after the last round: the round submitted ahead is undone where it started."""
        recovery.withdraw(self)

    # -- the global weights --
    def set_weights(self, weights, s):
        for target, a in zip((self.in_w, self.out_w, self.out_b), weights):
            np.copyto(target, a)
        self.w_seq = s

    def weights(self):
        """The global weights (W, at the last synchronization), fetched from a part if the driver's are older."""
        faults = recovery.Faults()
        while self.w_seq != self.last_seq:
            s = self.last_seq
            p = min(self.hosts)
            try:
                w = self.placement.results({p: self.placement.on_part(
                    _part_weights, p, s, self.exchanged(s, self.last), self.shards, self.change_scale)})[p]
                self.set_weights(w, s)
            except FAULTS as e:
                recovery.recover(self, s + 1, faults.lost(e), keep_to=s)
        return self.in_w, self.out_w, self.out_b


def round_tasks(job, s, parts, prev):
    """Round s's task of each part in `parts` (prev: every part's round s − 1 future, or None). With the overlap,
    round s's task starts after the part's round s − 1 task, not after the exchange of round s − 1 (made here all
    the same): it pulls the combined shards while it trains."""
    plan = job.plans[s]
    r = plan["round"]
    inputs = job.exchanged(s - 1, prev)
    hosts = [job.hosts[p] for p in range(job.n_parts)]
    tasks = {}
    for p in parts:
        fn, first = ((_part_round_overlapped, (None if prev is None else prev[p], hosts)) if job.overlap
                     else (_part_round, (inputs,)))
        tasks[p] = job.placement.on_part(
            fn, p, job.attempt, s, *first, job.shards, job.change_scale, plan["epoch"],
            job.epoch_plan.shares(plan["epoch"])[p][r] if r is not None else np.zeros(0, np.int64), plan["words_from"],
            plan["words_to"], plan["n_in"], plan["n_out"])
    return tasks


def round_reports(job, tasks):
    """The reports of round tasks {part: (task, report)} (placement.results, as soon as a part is lost): direct,
    `report` a task on the part's worker that takes the round task's result, which holds the part's change;
    sharded, the round task itself, whose result is small (its pieces stay on the worker), the report read from it.
    NothingDone if a task did nothing and no worker is lost."""
    got = job.placement.results({p: rep for p, (_, rep) in tasks.items()}, wait_all=False)
    reports = got if job.shards == 1 else {p: _round_report(result) for p, result in got.items()}
    idle = {p for p, rep in reports.items() if rep is None}
    if idle:
        # a round task does nothing when its exchange cannot be had from another worker: a loss once the
        # scheduler sees that worker gone; else one that did not answer in time
        gone = job.placement.lost_parts(within=2 * PEER_CONNECT_TIMEOUT)
        raise WorkersLost(gone) if gone else NothingDone(idle)
    return reports


def agreed_digests(reports, s):
    """The digests of synchronization s's rows in the parts' reports (rep[6]; None for a part that applied none);
    an error if two parts hold different rows."""
    digests = {rep[6] for rep in reports.values() if rep[6] is not None}
    if len(digests) > 1:
        raise RuntimeError(f"the workers' weights differ after synchronization {s}")
    return digests


def round_bytes(reports, hosts):
    """Bytes that crossed between workers in a round, from its parts' reports ({part: report}, hosts: part →
    worker): the pieces of each part's change sent to the workers of other shards (sharded), and the exchange of
    the previous round that each worker took from the others (every part's change, or every combined shard;
    a worker holding several parts takes it once)."""
    sent = sum(b for p, rep in reports.items() for j, b in enumerate(rep[4]) if hosts[j] != hosts[p])
    taken = set()
    for p in sorted(reports):
        applied = reports[p][5]
        if applied and hosts[p] not in taken:
            taken.add(hosts[p])
            sent += sum(b for q, b in enumerate(applied) if hosts[q] != hosts[p])
    return sent


def count_sizes(stats, got, shards):
    """The sizes of the parts' changes and of the combined shards in a round's reports (got: {part: report}),
    into stats (their means model the exchange's bytes)."""
    applied = next((rep[5] for rep in got.values() if rep[5]), ())
    if shards > 1:
        stats["change_bytes"] += sum(sum(rep[4]) for rep in got.values())
        stats["changes"] += len(got)
        stats["combined_bytes"] += sum(applied)
        stats["combined"] += 1 if applied else 0
    else:  # the previous round's changes
        stats["change_bytes"] += sum(applied)
        stats["changes"] += len(applied)


class ShardTasks:
    """The tasks of the sharded exchange of each round: the worker of part j pulls piece j of every part's
    change from their workers and combines them (part._combine_shard), once every part's round task is done; the
    next round's tasks pull every combined shard, once every combination is done. Each stage waits for the one
    before through one barrier task (on part 0's worker) that takes all of its tasks, so that a round has 3N
    dependency edges between its stages rather than 2N² (the scheduler's work per task grew with N:
    docs/cluster.md); round s + 1's tasks take that barrier of the combinations of round s."""

    def __init__(self):
        self.made = {}  # round → [(attempt, its round tasks' keys, the combined shards' tasks)]

    def inputs(self, job, s, tasks):
        """The barrier of round s's combined shards (tasks: every part's round s task), made once per round and
        attempt."""
        keys = [t.key for t in tasks]
        made = self.made.setdefault(s, [])
        if not made or made[-1][:2] != (job.attempt, keys):
            hosts = [job.hosts[p] for p in range(len(tasks))]
            rounds = job.placement.after(_joined, 0, tasks)
            shards = [job.placement.on_part(_combine_shard, j, job.attempt, s, rounds, hosts, job.change_scale)
                      for j in range(job.shards)]
            combined = job.placement.after(_joined, 0, shards)
            # every future made stays held until the round is done with: the scheduler cancels a task's
            # dependents with it, and asserts that a client holds each of them
            made.append((job.attempt, keys, (rounds, shards, combined)))
        return made[-1][2][2]

    def forget_before(self, s):
        for old in [k for k in self.made if k < s]:
            del self.made[old]
