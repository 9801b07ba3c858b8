"""The connection to a Dask cluster (the `dask` extra): a client of a scheduler, or of a cluster of worker
processes on this machine."""
import logging

from ..core.errors import W2VError

CONNECT_TIMEOUT = 10.0
_DASK_HINT = "training on a Dask cluster needs dask and distributed: pip install 'w2v-nce[dask]'"


def import_distributed():
    """The `distributed` package, or a one-line W2VError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise W2VError(_DASK_HINT) from None
    return distributed


def connect(address, timeout=CONNECT_TIMEOUT):
    """A Client of the scheduler at `address`, or a one-line W2VError naming the address."""
    distributed = import_distributed()
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise W2VError(f"cannot reach the Dask scheduler at {address} (waited {timeout:g} s): {detail}") from None


def local_cluster(n_workers, threads_per_worker=1):
    """A Client of a LocalCluster of n_workers worker processes on this machine. Its processes log only critical
    messages: the job reports its own errors, and a worker's heartbeat failing while the cluster shuts down (after
    an error, under load) must not add a traceback to the one-line message."""
    distributed = import_distributed()
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                                       dashboard_address=":0", silence_logs=logging.CRITICAL)
    return distributed.Client(cluster)
