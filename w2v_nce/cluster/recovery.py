"""A job's recovery from lost workers, and the undoing of a round submitted ahead when training stops.

Rounds and synchronizations are numbered; a part knows the last synchronization it applied and the last round it
trained, and keeps, before a round, the marks of its rows that differ from base (local_rows.py). If a worker dies,
the driver makes the older tasks inert, finds the furthest synchronization S a surviving part has applied, takes W
from it and opens the lost parts again from W on surviving workers. If every survivor has trained round S + 1
(its task finished), that is kept and only the lost parts train their share of it again; otherwise the survivors
that trained it go back to before it (their rows marked since, to W; their rare rows not synchronized keep what
the round gave them) and the round is redone. A survivor that trained round S but lost another part's changes of
it gets the rows of W. A lost part loses at most that round and the updates of its rows not synchronized since
their last synchronization (rare rows, at most plan.MAX_PERIOD − 1 rounds of them). With the overlap a survivor
may have trained round S + 2 before adding synchronization S + 1: it first goes back to after round S + 1
(Part.rollback). A fault that loses no worker (a task that did nothing because another worker did not answer in
time, a stall: placement.FAULTS) is recovered from the same way, with no part opened again.
"""
from ..core.errors import W2VError
from .part import _part_result, _part_rollback, _part_set_rows, _part_settle, _part_weights
from .placement import FAULTS, WorkersLost

# How many faults in a row that lose no worker (placement.FAULTS) are recovered from before training stops with
# the last of them: such a fault comes from a worker slow to answer, and one that lasts is not waited out.
MAX_FAULTS_WITHOUT_LOSS = 3


class Faults:
    """The faults met while one round (or one recovery) is waited for."""

    def __init__(self):
        self.without_loss = 0

    def lost(self, fault):
        """The parts whose workers `fault` lost (none but for WorkersLost); W2VError if it is the
        (MAX_FAULTS_WITHOUT_LOSS + 1)-th in a row that lost none."""
        if isinstance(fault, WorkersLost):
            self.without_loss = 0
            return fault.parts
        self.without_loss += 1
        if self.without_loss > MAX_FAULTS_WITHOUT_LOSS:
            raise W2VError(f"cluster training stopped: {fault} ({self.without_loss} times in a row)") from fault
        return set()


def settle(job, parts):
    """A new attempt: the older tasks of these parts do nothing from now on. {part: (synced, trained, reports)}."""
    job.attempt += 1
    return job.placement.results({p: job.placement.on_part(_part_settle, p, job.attempt) for p in parts})


def roll_back(job, state, r):
    """The parts of `state` that started round r (not complete) go back to before it; state is updated. (With the
    overlap, a part that trained round r before adding synchronization r − 1 goes back to after round r − 1.)"""
    started = [p for p in state if state[p][1] == r > state[p][0]]
    state.update(job.placement.results({p: job.placement.on_part(_part_rollback, p, job.attempt) for p in started}))


def withdraw(job):
    """Training stops after the last round: the round submitted ahead is undone where it started."""
    if not any(k > job.last_seq for k in job.tasks):
        return
    s = job.last_seq + 1
    job.cancel_after(job.last_seq)
    try:
        state = settle(job, range(job.n_parts))
        roll_back(job, state, s)
        if job.overlap and any(state[p][0] == job.last_seq for p in state):
            # (the overlap: a part whose undone round had added synchronization s − 1 keeps it; the others take
            # its rows, and no part waits for that synchronization's shards again)
            catch_up(job, state, range(job.n_parts), job.last_seq)
            job.last = None
    except WorkersLost as e:
        job.stats["failed_rounds"] += 1
        recover(job, s, e.parts, keep_to=job.last_seq)


def catch_up(job, state, parts, S):
    """The driver's W and every part of `parts` brought to synchronization S, the furthest a part of them has
    applied (state: their (synced, trained, reports), updated): W fetched from a part at S; the parts behind it
    (they trained round S but cannot get every part's changes of it) get its rows."""
    placement = job.placement
    if S != job.w_seq:
        holder = min(p for p in parts if state[p][0] == S)
        job.set_weights(placement.results({holder: placement.on_part(
            _part_weights, holder, S, None, job.shards, job.change_scale)})[holder], S)
    behind = [p for p in parts if state[p][0] < S]
    if behind:
        n_in, n_out = job.plans[S]["n_in"], job.plans[S]["n_out"]
        rows = (n_in, n_out, job.in_w[:n_in], job.out_w[:n_out], job.out_b[:n_out])
        targets = sorted({job.hosts[p] for p in behind})
        pushed = job.client.scatter([rows], workers=targets, broadcast=True, hash=False, direct=True)[0]
        state.update(placement.results({p: placement.on_part(_part_set_rows, p, job.attempt, S, pushed)
                                        for p in behind}))


def round_kept(job, state, survivors, r, keep_to):
    """Whether the recovery keeps round r: r ≤ keep_to, round r was submitted and every survivor trained it
    (state). What its tasks' futures hold does not matter: a kept round is taken from the parts (kept_results),
    and a survivor's future may be lost or waiting though its part trained the round (its result's only copy, or
    that of one of its inputs, went with the lost worker), even in a round the driver has counted."""
    return r <= keep_to and r in job.tasks and all(state[p][1] == r for p in survivors)


def kept_results(job, parts, r):
    """The results of round r's tasks of `parts` (who trained it, kept), as new tasks that give them again on
    the parts' workers, for the next round to take: the futures of the tasks that trained it may have lost them
    (Dask keeps a result on any one worker that took it, which may be the lost one, and computing it again does
    nothing)."""
    return job.with_reports({p: job.placement.on_part(_part_result, p, job.attempt, r) for p in parts})


def recover(job, s, lost, keep_to=None):
    """The driver waited for round s (round s + 1 possibly submitted too) when the parts `lost` were lost.
    Every part is brought to one synchronization S, that of the furthest surviving part, and the driver's W to
    it; the lost parts are opened again from it. If every survivor has trained round S + 1 (round_kept;
    S + 1 ≤ keep_to, default s), that work is kept and the lost parts train their share of it again; otherwise the
    survivors that trained it go back to before it (Part.rollback). Returns round s's reports if round s is
    complete now, else None (round s is run again)."""
    keep_to = s if keep_to is None else keep_to
    lost = set(lost)
    placement = job.placement
    faults = Faults()
    while True:
        try:
            lost |= placement.parts_gone()
            placement.rehost(lost)
            survivors = [p for p in range(job.n_parts) if p not in lost]
            if not survivors:
                raise W2VError("every part's worker was lost at once: the training state is gone (train with "
                               "checkpoint_every to resume from the last checkpoint)")
            state = settle(job, survivors)
            ahead = [p for p in survivors if state[p][1] == state[p][0] + 2]  # (the overlap: a round trained
            # before the previous round's synchronization was added) back to after the previous round
            state.update(placement.results({p: placement.on_part(_part_rollback, p, job.attempt) for p in ahead}))
            S = max(state[p][0] for p in survivors)
            keep = round_kept(job, state, survivors, S + 1, keep_to)
            if not keep:
                roll_back(job, state, S + 1)
            if S + (1 if keep else 0) < job.last_seq:
                raise RuntimeError(f"recovery would undo round {job.last_seq}")
            catch_up(job, state, survivors, S)
            job.stats["reopened_parts"] += len(lost)
            job.open_parts(lost, synced=S)
            done = S + 1 if keep else S
            reports = {p: state[p][2].get(done) for p in survivors}
            if keep:  # the lost parts' share of round S + 1 again
                redo = job.submit(S + 1, sorted(lost), None)
                reports.update(job.round_reports(redo))
                job.tasks[S + 1] = {**kept_results(job, survivors, S + 1), **redo}
                job.cancel_after(S + 1)
                job.last = job.tasks_of(S + 1)
            else:
                job.cancel_after(S)
                job.last = None
            job.last_seq = done
            return reports if done == s else None
        except FAULTS as e:
            lost |= faults.lost(e)
