"""The worker plugin that holds a training job's parts on each worker (PartStore), and the pieces of the corpus
counted there until a part encodes them."""
import os
import shutil
import tempfile
import uuid

from .pieces import counted_pieces, piece_counts
from .transport import PIECE_OP, piece_server

try:
    from distributed import WorkerPlugin as _PluginBase
except ImportError:  # the dask extra is not installed: connection.import_distributed says so
    _PluginBase = object


# The worker's statistical profiler samples the stacks of its threads every 10 ms by default; with every core
# training, that time is taken from the kernels (3-9% of a round on 2 cores). It pauses while a job's parts live on
# the worker.
_PROFILER_CALLBACKS = ("profile", "profile-cycle")


class PartStore(_PluginBase):
    """Per-worker state of one training job: the parts this worker holds (a worker plugin; teardown closes
    and removes their encoded streams)."""

    def __init__(self, name):
        self.name = name
        self.parts = {}
        self.kept = {}  # pieces (their numbers) → their CountedCorpus, counted here, until a part encodes them
        self.kept_dir = None
        self.paused = []

    def setup(self, worker):
        self.local_directory = worker.local_directory
        self.nthreads = worker.state.nthreads
        callbacks = getattr(worker, "periodic_callbacks", {})
        self.paused = [callbacks[k] for k in _PROFILER_CALLBACKS if k in callbacks and callbacks[k].is_running()]
        for pc in self.paused:
            pc.stop()
        worker.handlers[PIECE_OP] = piece_server(worker)

    def teardown(self, worker):
        for part in list(self.parts.values()):
            part.close()
        self.parts.clear()
        self.kept.clear()
        if self.kept_dir is not None:
            shutil.rmtree(self.kept_dir, ignore_errors=True)
        for pc in self.paused:
            pc.start()
        self.paused = []


def _store(name):
    from distributed import get_worker

    return get_worker().plugins[name]


def _count_pieces_kept(store_name, indices, pieces, lowercase, max_vocab_size):
    """The pieces of a part (indices: their numbers, increasing) counted in one pass (counted_pieces), the
    counted stream kept on this worker for the part that will encode it: (piece_counts, this worker's
    address)."""
    from distributed import get_worker

    store = _store(store_name)
    if store.kept_dir is None:
        store.kept_dir = tempfile.mkdtemp(prefix="w2v-nce-counted-", dir=store.local_directory)
    group = tuple(indices)
    store.kept.pop(group, None)  # a count run again rewrites the stream: no stale entry if it fails
    counted = counted_pieces(pieces, lowercase, os.path.join(store.kept_dir, f"pieces{group[0]}.i32"), max_vocab_size)
    store.kept[group] = counted
    return piece_counts(counted, indices), get_worker().address


def new_store(client):
    """Register a new PartStore on every worker (present and future); its name."""
    name = f"w2v-nce-{uuid.uuid4().hex[:12]}"
    client.register_plugin(PartStore(name), name=name)
    return name


def close_store(client, name):
    try:
        client.unregister_worker_plugin(name)
    except Exception:  # a worker lost meanwhile, or a closing client: the workers' teardown removes the files
        pass
