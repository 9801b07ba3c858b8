"""Waiting for a job's tasks on a real Dask LocalCluster: a worker lost while the driver waits is a loss, even when
its own part's task had already ended, and the other parts' tasks run on, their results kept for the recovery."""
import os
import signal
import time

import pytest

distributed = pytest.importorskip("distributed")

from w2v_nce.cluster import placement as placement_module  # noqa: E402
from w2v_nce.cluster.placement import Placement, WorkersLost  # noqa: E402


def _held(x):
    return x


def _after(seconds, x):
    time.sleep(seconds)
    return x


@pytest.fixture
def two_workers():
    """A Placement of parts 0 and 1 on the two single-thread worker processes of a LocalCluster, and their pids."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        pids = client.run(os.getpid)
        placement = Placement(client, store="unused")
        placement.hosts = dict(enumerate(sorted(pids)))
        yield placement, {p: pids[w] for p, w in placement.hosts.items()}
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("wait_all", [True, False])
def test_a_worker_lost_after_its_part_reported_is_a_loss(two_workers, wait_all):
    # Part 0's task ends on worker 0; part 1's next task, pinned to worker 1, takes its result but waits behind a
    # slower task there. Worker 0 dies meanwhile: the scheduler would recompute part 0's result on worker 0 only,
    # so part 1's task can never run, and the wait must end in WorkersLost, not last for ever.
    placement, pids = two_workers
    held = placement.after(_held, 0, 1)
    assert placement.results({0: held}) == {0: 1}
    placement.after(_after, 1, 2.0, 0)  # worker 1 busy for 2 s
    waiting = placement.after(_after, 1, 0.0, held)
    os.kill(pids[0], signal.SIGKILL)
    t0 = time.perf_counter()
    with pytest.raises(WorkersLost) as lost:
        placement.results({1: waiting}, wait_all=wait_all)
    assert lost.value.parts == {0}
    assert time.perf_counter() - t0 < 60


def test_the_other_parts_tasks_run_on_after_a_loss(two_workers):
    # Worker 0 dies during part 0's task while part 1's runs: the wait ends with part 0 lost, and part 1's task
    # is left to complete, its result kept (a recovery may keep the round it trained and build on it). Cancelled,
    # its result would be forgotten, and a later task taking it as input would wait on it for ever.
    placement, pids = two_workers
    futures = {0: placement.after(_after, 0, 30.0, 0), 1: placement.after(_after, 1, 3.0, 1)}
    time.sleep(1.0)
    os.kill(pids[0], signal.SIGKILL)
    with pytest.raises(WorkersLost) as lost:
        placement.results(futures, wait_all=False)
    assert lost.value.parts == {0}
    assert futures[1].status != "cancelled"
    assert futures[1].result(timeout=30) == 1
    assert placement.after(_after, 1, 0.0, futures[1]).result(timeout=30) == 1


def test_lost_parts_waits_for_the_scheduler_to_see_a_worker_gone(two_workers):
    # A round task that could not pull its exchange from a killed worker may end before the scheduler has removed
    # that worker: the driver looks for the lost parts for a while before it calls the state unexpected.
    placement, pids = two_workers
    t0 = time.perf_counter()
    assert placement.lost_parts(within=1.0) == set()
    assert time.perf_counter() - t0 >= 1.0
    os.kill(pids[1], signal.SIGKILL)
    assert placement.lost_parts(within=30.0) == {1}


def test_a_wait_on_a_task_that_can_never_run_ends(two_workers, monkeypatch):
    # A task that takes an input pinned to a worker the cluster does not have (as one computed again only on a
    # lost worker) never runs, and no part's worker is gone: the wait ends once the scheduler has run no task for
    # STALL_SECONDS, and the round is recovered as after a fault.
    placement, _ = two_workers
    monkeypatch.setattr(placement_module, "STALL_SECONDS", 2.0)
    never = placement.client.submit(_held, 1, workers=["tcp://127.0.0.1:9"], allow_other_workers=False, pure=False)
    waiting = placement.after(_after, 0, 0.0, never)
    t0 = time.perf_counter()
    with pytest.raises(TimeoutError, match="no task ran on the Dask cluster for 2 s"):
        placement.results({0: waiting})
    assert 2.0 <= time.perf_counter() - t0 < 30


def test_a_task_running_longer_than_the_stall_limit_is_waited_for(two_workers, monkeypatch):
    placement, _ = two_workers
    monkeypatch.setattr(placement_module, "STALL_SECONDS", 1.0)
    assert placement.results({1: placement.after(_after, 1, 4.0, 7)}) == {1: 7}
