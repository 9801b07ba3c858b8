"""Waiting for a job's tasks on a real Dask LocalCluster: a worker lost while the driver waits is a loss, even when
its own part's task had already ended."""
import os
import signal
import time

import pytest

distributed = pytest.importorskip("distributed")

from w2v_nce.cluster.placement import Placement, WorkersLost  # noqa: E402


def _held(x):
    return x


def _after(seconds, x):
    time.sleep(seconds)
    return x


@pytest.mark.parametrize("wait_all", [True, False])
def test_a_worker_lost_after_its_part_reported_is_a_loss(wait_all):
    # Part 0's task ends on worker 0; part 1's next task, pinned to worker 1, takes its result but waits behind a
    # slower task there. Worker 0 dies meanwhile: the scheduler would recompute part 0's result on worker 0 only,
    # so part 1's task can never run, and the wait must end in WorkersLost, not last for ever.
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        pids = client.run(os.getpid)
        placement = Placement(client, store="unused")
        placement.hosts = dict(enumerate(sorted(pids)))
        held = placement.after(_held, 0, 1)
        assert placement.results({0: held}) == {0: 1}
        placement.after(_after, 1, 2.0, 0)  # worker 1 busy for 2 s
        waiting = placement.after(_after, 1, 0.0, held)
        os.kill(pids[placement.hosts[0]], signal.SIGKILL)
        t0 = time.perf_counter()
        with pytest.raises(WorkersLost) as lost:
            placement.results({1: waiting}, wait_all=wait_all)
        assert lost.value.parts == {0}
        assert time.perf_counter() - t0 < 60
        assert waiting.status == "cancelled"
    finally:
        client.close()
        cluster.close()
