"""Where a job's parts run, and waiting for their tasks: which worker hosts each part, the tasks pinned to it,
and a lost worker noticed while the driver waits, its parts placed again on the survivors."""
import time

from ..core.errors import W2VError

# How often the driver looks for lost workers while a round runs (seconds).
_POLL = 0.5
# How long the driver waits while the scheduler runs no task at all before it takes the wait as failed (seconds).
STALL_SECONDS = 60.0


class WorkersLost(Exception):
    def __init__(self, parts):
        super().__init__(f"workers of parts {sorted(parts)} lost")
        self.parts = set(parts)


class NothingDone(Exception):
    """Tasks of parts that did nothing though no worker of the job is lost: what they take from another worker
    could not be had (a connection to it that timed out)."""

    def __init__(self, parts):
        super().__init__(f"the round tasks of parts {sorted(parts)} did nothing, and no worker was lost")
        self.parts = set(parts)


# What a round recovers from (recovery.py): a worker lost, a task that did nothing, an error reaching a worker,
# a wait in which the scheduler ran no task.
FAULTS = (WorkersLost, NothingDone, OSError, TimeoutError)


def worker_addresses(client):
    """The addresses of the scheduler's workers, asked of the scheduler now. (Not client.scheduler_info(): it
    returns the client's cached identity, which the client's own periodic refresh replaces, at any moment, by one
    without the workers: with the refresh every millisecond, 27 of 300 calls saw no worker.)"""
    return list(client.sync(client.scheduler.identity)["workers"])


def workers_of(client):
    """The addresses of the client's workers; W2VError if there is none."""
    alive = worker_addresses(client)
    if not alive:
        raise W2VError("the Dask cluster has no workers")
    return alive


class Placement:
    """The hosts of a job's parts on the workers of a Dask client, the tasks pinned to them, and the wait for
    their results. `store`: the name of the job's PartStore on the workers; `interrupted` becomes True if Ctrl-C
    came while waiting (the work in progress completes)."""

    def __init__(self, client, store):
        self.client = client
        self.store = store
        self.hosts = {}  # part → worker address
        self.interrupted = False

    def alive(self):
        return worker_addresses(self.client)

    def parts_gone(self):
        """The parts whose workers the scheduler no longer has."""
        alive = set(self.alive())
        return {p for p, w in self.hosts.items() if w not in alive}

    def lost_parts(self, within):
        """The parts whose workers the scheduler no longer has, looked for during up to `within` seconds (a worker
        may find another gone before the scheduler does); empty if none."""
        deadline = time.monotonic() + within
        while True:
            gone = self.parts_gone()
            if gone or time.monotonic() >= deadline:
                return gone
            time.sleep(_POLL)

    def _spare_worker(self, alive):
        load = {w: 0 for w in alive}
        for p, w in self.hosts.items():
            if w in load:
                load[w] += 1
        return min(alive, key=lambda w: (load[w], alive.index(w)))

    def place(self, n_parts, preferred):
        """One part per worker: part p on preferred(p) (the worker that counted its first piece) if that worker
        is alive and free."""
        alive = workers_of(self.client)
        for p in range(n_parts):
            w = preferred(p)
            if w not in alive or (w in self.hosts.values() and len(self.hosts) < len(alive)):
                w = self._spare_worker(alive)
            self.hosts[p] = w

    def rehost(self, lost):
        """The parts `lost` on the surviving workers, the least loaded first."""
        alive = self.alive()
        if not alive:
            raise W2VError("every Dask worker was lost; training cannot continue")
        for p in sorted(lost):
            del self.hosts[p]
        for p in sorted(lost):
            self.hosts[p] = self._spare_worker(alive)

    def stalled_since(self, idle_since):
        """When the scheduler was first seen running no task in the current stretch of idleness (None: it runs one
        now). TimeoutError once that has lasted STALL_SECONDS: a task waiting for an input that only a lost worker
        could compute never runs, and with no part's worker lost nothing else would end the wait."""
        now = time.monotonic()
        if any(self.client.processing().values()):
            return None
        if idle_since is not None and now - idle_since >= STALL_SECONDS:
            raise TimeoutError(f"no task ran on the Dask cluster for {STALL_SECONDS:.0f} s while the driver waited "
                               "for the job's tasks")
        return now if idle_since is None else idle_since

    def on_part(self, fn, p, *args):
        """The task fn(store, p, *args) on part p's worker."""
        return self.client.submit(fn, self.store, p, *args, workers=[self.hosts[p]], allow_other_workers=False,
                                  pure=False)

    def after(self, fn, p, *args):
        """The task fn(*args) on part p's worker (on the results of tasks there)."""
        return self.client.submit(fn, *args, workers=[self.hosts[p]], allow_other_workers=False, pure=False)

    def results(self, futures, wait_all=True):
        """Results of the futures {part: future}, each fetched as soon as its part is finished, or WorkersLost
        once every future is finished or lost (wait_all; else as soon as a part is lost, the others left to run).
        The worker of any part of the job lost, not only of a part waited for, is a loss, the others left to run:
        a task waiting on what that worker held never runs (the scheduler computes it again only there).
        TimeoutError if the scheduler runs no task for STALL_SECONDS meanwhile (stalled_since)."""
        from distributed import wait

        pending = dict(futures)
        done = {}
        lost = set()
        idle_since = None
        while pending:
            timed_out = False
            try:
                wait(list(pending.values()), timeout=_POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                timed_out = True
            except KeyboardInterrupt:  # Ctrl-C: the work in progress completes, then training stops
                self.interrupted = True
            status = {p: f.status for p, f in pending.items()}  # (one reading: a status changes at any moment)
            gone = None  # the parts whose workers are gone, asked of the scheduler on a timeout or a failure
            if timed_out or any(st not in ("pending", "finished") for st in status.values()):
                gone = self.parts_gone()
                if timed_out and not gone:
                    idle_since = self.stalled_since(idle_since)
                gone_after = gone - set(pending)  # workers lost after their parts' tasks ended
                if gone_after:
                    lost |= gone_after
                    wait_all = False
            for p, f in list(pending.items()):
                if status[p] == "finished":
                    del pending[p]
                    timeout = _POLL
                    while not lost and p not in done:
                        try:
                            done[p] = f.result(timeout=timeout)
                        except KeyboardInterrupt:  # the result is fetched again, then training stops
                            self.interrupted = True
                        except Exception as e:  # a worker lost after finishing its task loses its result too
                            if p not in self.parts_gone():
                                # a large result (a million rows' weights) takes longer than the poll: the
                                # fetch starts again with twice the time (distributed's sync() reports a
                                # fetch its timeout cancelled as an UnboundLocalError)
                                if isinstance(e, (TimeoutError, UnboundLocalError)):
                                    timeout *= 2
                                    continue
                                raise
                            lost.add(p)
                elif status[p] in ("error", "cancelled", "lost"):
                    if status[p] == "error" and p not in gone:
                        exc = f.exception()
                        if not isinstance(exc, OSError) and type(exc).__name__ != "KilledWorker":
                            raise exc
                    lost.add(p)
                    del pending[p]
                elif gone is not None and p in gone:
                    lost.add(p)
                    f.cancel()
                    del pending[p]
            if lost and not wait_all:
                # the other parts' tasks are not cancelled: a task still running completes on its worker all the
                # same, and recovery may keep the round it trains (a cancelled task's result is forgotten, and a
                # task that takes it as input would have the scheduler compute it, and every round before it,
                # again: from a part whose worker is lost, which never happens)
                pending.clear()
        if lost:
            raise WorkersLost(lost)
        return done
