"""The recovery's choice between keeping the round the survivors trained and rolling it back."""
from types import SimpleNamespace

import pytest

from w2v_nce.cluster.recovery import round_kept


def _job(statuses, r=4):
    """A job whose round r tasks have these statuses, one per part."""
    return SimpleNamespace(tasks={r: {p: (SimpleNamespace(status=st), None) for p, st in enumerate(statuses)}})


@pytest.mark.parametrize("statuses, kept", [(("finished", "finished", "lost"), True),
                                            (("finished", "pending", "lost"), False),
                                            (("cancelled", "finished", "lost"), False)])
def test_a_round_is_kept_only_if_every_survivors_task_is_finished(statuses, kept):
    # Parts 0 and 1 survive and both trained round 4 (synchronization 3 applied). A task that trained the round on
    # its worker but is still pending on the scheduler was set back to waiting for an input lost with part 2's
    # worker: building on it would wait for ever, so the round is rolled back.
    state = {0: (3, 4, {}), 1: (3, 4, {})}
    assert round_kept(_job(statuses), state, [0, 1], 4, keep_to=4) is kept


def test_a_round_not_trained_by_every_survivor_or_beyond_keep_to_is_rolled_back():
    job = _job(("finished", "finished", "lost"))
    assert not round_kept(job, {0: (3, 4, {}), 1: (3, 3, {})}, [0, 1], 4, keep_to=4)
    assert not round_kept(job, {0: (3, 4, {}), 1: (3, 4, {})}, [0, 1], 4, keep_to=3)
    assert not round_kept(job, {0: (4, 5, {}), 1: (4, 5, {})}, [0, 1], 5, keep_to=5)  # round 5 never submitted
