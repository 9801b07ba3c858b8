"""The public training call: train() resolves the options once, where the training starts, and hands them to a
local run or to a run on a Dask cluster."""
from .core.errors import W2VError
from .training.local import train_locally
from .training.run import Hooks, resolve_start

# train()'s keywords that only a run on a cluster takes (see cluster/run.py train_on_cluster)
CLUSTER_KEYWORDS = ("sync", "sync_words", "sync_combine", "sync_exchange", "sync_overlap", "on_round_end")


def train(corpus, progress=False, tmp_dir=None, resume=None, checkpoint_every=None, checkpoint_path=None,
          on_epoch_end=None, client=None, continue_from=None, **options):
    """Train word vectors on `corpus`: plain or .gz text named by a path, a directory (its files, recursively, in
    sorted order; hidden ones skipped), a glob, "-" (standard input) or a list of them, read in that order as one
    corpus; or a re-iterable of token lists.

    Options are named like the CLI's long options (objective, arch, dim, window, negative, sample, min_count,
    max_vocab, max_vocab_size, epochs, alpha, min_alpha, noise_exponent, workers, seed, fixed_window, bias,
    lowercase).
    progress=True shows a progress bar on stderr (or pass an object with ProgressBar's update/close).
    resume: a Model (or .npz path) saved by an interrupted run or
    a checkpoint, continued on the same corpus with its own options (only `workers` may be given).
    continue_from: a Model (or .npz path) to train further on the new text `corpus`: the new counts are added
    to the model's, words that now reach min_count join the vocabulary, known words keep their vectors, the noise
    distribution (hs: the Huffman tree) is rebuilt from the merged counts and the learning rate runs its
    schedule again; the options defining the model (objective, arch, dim, bias, lowercase) are its own.
    checkpoint_every=N saves a resumable model to checkpoint_path after every N epochs. Returns a Model;
    after Ctrl-C the model holds the training so far and model.progress["complete"] is False.
    client: a dask.distributed Client: train data-parallel on its cluster (corpus: named inputs readable by every
    worker, not standard input; more keywords in w2v_nce.cluster.run.train_on_cluster).
    """
    cluster = {k: options.pop(k) for k in CLUSTER_KEYWORDS if k in options} if client is not None else {}
    start = resolve_start(resume, options, continue_from, on_cluster=client is not None)
    return train_from(corpus, start, Hooks(progress, checkpoint_every, checkpoint_path, on_epoch_end), tmp_dir,
                      client, **cluster)


def train_from(corpus, start, hooks=None, tmp_dir=None, client=None, **cluster):
    """train() from a resolved start (training.run.resolve_start) and hooks (training.run.Hooks): on the Dask
    cluster of `client` (with the cluster keywords of train_on_cluster), else on this machine."""
    hooks = hooks or Hooks()
    if client is not None:
        if start.grow is not None:
            raise W2VError("continuing a model on new text runs on this machine, not on a Dask cluster")
        from .cluster.run import train_on_cluster  # the `dask` extra, loaded only to train on a cluster

        return train_on_cluster(corpus, client, start, hooks, tmp_dir, **cluster)
    return train_locally(corpus, start, hooks, tmp_dir)
