"""The recovery's choice between keeping the round the survivors trained and rolling it back, and which faults it
recovers from."""
from types import SimpleNamespace

import pytest

from w2v_nce import W2VError
from w2v_nce.cluster.job import round_reports
from w2v_nce.cluster.placement import NothingDone, WorkersLost
from w2v_nce.cluster.recovery import MAX_FAULTS_WITHOUT_LOSS, Faults, round_kept


def _job(statuses, r=4):
    """A job whose round r tasks have these statuses, one per part."""
    return SimpleNamespace(tasks={r: {p: (SimpleNamespace(status=st), None) for p, st in enumerate(statuses)}})


@pytest.mark.parametrize("statuses", [("finished", "finished", "lost"), ("finished", "pending", "lost"),
                                      ("cancelled", "finished", "lost"), ("lost", "waiting", "lost")])
def test_a_round_every_survivor_trained_is_kept_whatever_its_futures_hold(statuses):
    # Parts 0 and 1 survive and both trained round 4 (synchronization 3 applied). A survivor's future may be lost
    # (Dask kept its result's only copy on part 2's worker) or set back to waiting for an input lost with it, even
    # when the driver has counted round 4: the round is kept all the same, taken from the parts (kept_results);
    # rolling it back would undo a round the driver counted.
    state = {0: (3, 4, {}), 1: (3, 4, {})}
    assert round_kept(_job(statuses), state, [0, 1], 4, keep_to=4)


def test_a_round_not_trained_by_every_survivor_or_beyond_keep_to_is_rolled_back():
    job = _job(("finished", "finished", "lost"))
    assert not round_kept(job, {0: (3, 4, {}), 1: (3, 3, {})}, [0, 1], 4, keep_to=4)
    assert not round_kept(job, {0: (3, 4, {}), 1: (3, 4, {})}, [0, 1], 4, keep_to=3)
    assert not round_kept(job, {0: (4, 5, {}), 1: (4, 5, {})}, [0, 1], 5, keep_to=5)  # round 5 never submitted


def test_faults_that_lose_no_worker_are_recovered_from_three_times_in_a_row_then_stop_training():
    faults = Faults()
    assert faults.lost(WorkersLost({2})) == {2}
    for _ in range(MAX_FAULTS_WITHOUT_LOSS):
        assert faults.lost(NothingDone({1})) == set()
    assert faults.lost(WorkersLost({1})) == {1}  # a loss starts the count again
    for fault in (TimeoutError("stall"), OSError("refused"), NothingDone({0})):
        assert faults.lost(fault) == set()
    with pytest.raises(W2VError, match=r"parts \[0, 1\] did nothing, and no worker was lost \(4 times in a row\)"):
        faults.lost(NothingDone({1, 0}))


class _Placement:
    def __init__(self, results, gone):
        self._results, self.gone, self.waited = results, gone, None

    def results(self, futures, wait_all=True):
        return self._results

    def lost_parts(self, within):
        self.waited = within
        return self.gone


@pytest.mark.parametrize("gone, fault", [(set(), NothingDone), ({1}, WorkersLost)])
def test_a_round_task_that_did_nothing_is_a_fault_lost_worker_or_not(gone, fault):
    # part 1's round task gave None (its exchange could not be had): the driver looks for a lost worker first
    placement = _Placement({0: (None, (1.0, 2.0)), 1: None}, gone)
    job = SimpleNamespace(placement=placement, shards=2)
    with pytest.raises(fault) as e:
        round_reports(job, {0: (None, None), 1: (None, None)})
    assert e.value.parts == {1} and placement.waited > 0
    placement = _Placement({0: (None, (1.0, 2.0)), 1: (None, (3.0, 4.0))}, gone)
    tasks = {0: (None, None), 1: (None, None)}
    assert round_reports(SimpleNamespace(placement=placement, shards=2), tasks) == {0: (1.0, 2.0), 1: (3.0, 4.0)}
    assert placement.waited is None
