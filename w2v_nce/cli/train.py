"""`w2v-nce train`: train word vectors, locally or on a Dask cluster; an interrupted training is saved and says
how to resume it."""
import contextlib
import shlex
import signal
import time

import click

from ..api import train_from
from ..cluster.connection import connect, local_cluster
from ..cluster.exchange import EXCHANGES
from ..cluster.plan import COMBINES, OVERLAPS, SYNC_MODES
from ..core import signals
from ..core.files import check_writable
from ..model.model import Model
from ..training.run import Hooks
from .options import OBJECTIVE_NAMES, POS_INT, corpus_inputs, corpus_names, resolve, training_options


@click.command("train")
@click.argument("corpus", nargs=-1, type=click.Path(dir_okay=True))
@click.option("-o", "--output", default="vectors.txt", show_default=True, type=click.Path(),
              help="Word vectors in word2vec format.")
@click.option("--resume", type=click.Path(), help="Continue the training saved in this model (.npz) on CORPUS.")
@click.option("--continue-from", type=click.Path(),
              help="Train this model (.npz) further on the new text CORPUS: counts merged, new words join, known "
                   "words keep their vectors; the model's objective, arch, dim, bias and lowercase are kept.")
@click.option("--checkpoint-every", type=POS_INT, default=None,
              help="Save a resumable model every N epochs (to --save-model, or OUTPUT.checkpoint.npz).")
@click.option("--binary", is_flag=True, help="Write word2vec binary format instead of text.")
@click.option("--save-model", type=click.Path(), help="Also save the full model (.npz) for evaluation or reuse.")
@click.option("--objective", type=click.Choice(OBJECTIVE_NAMES), default="ns", show_default=True)
@click.option("--bias/--no-bias", default=None, help="Output bias b_w [on for softmax/nce/infonce, off for ns/hs].")
@training_options
@click.option("--dask-scheduler", metavar="ADDRESS",
              help="Train data-parallel on the Dask cluster of this scheduler (e.g. tcp://head:8786); CORPUS must be "
                   "readable by every worker (not standard input). --workers: threads per Dask worker.")
@click.option("--dask-local", type=POS_INT, metavar="N",
              help="Train data-parallel on a local Dask cluster of N worker processes (--workers threads each, "
                   "default 1).")
@click.option("--dask-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for the Dask scheduler.")
@click.option("--sync", type=click.Choice(SYNC_MODES), default="stratified",
              show_default=True,
              help="Cluster training: which rows are synchronized after every round: frequent words every round and "
                   "rarer ones less often, every row every round, or once per epoch averaged (Spark MLlib's "
                   "scheme).")
@click.option("--sync-words", type=POS_INT, default=None,
              help="Cluster training: raw words each worker trains per round [200000, fewer on a corpus too small "
                   "for 12 rounds an epoch].")
@click.option("--sync-combine", type=click.Choice(COMBINES), default="scaled", show_default=True,
              help="Cluster training: how the workers' updates of a round are combined: scaled (twice their mean, "
                   "the workers training at up to 4 times the rate; with two workers the sum), summed or averaged.")
@click.option("--sync-exchange", type=click.Choice(EXCHANGES), default="auto", show_default=True,
              help="Cluster training: how the changes go between workers: direct (each to every worker), sharded "
                   "(each worker combines one shard of the rows, which goes to every worker: bytes per worker "
                   "that do not grow with the workers), auto (sharded from 4 workers on).")
@click.option("--sync-overlap", type=click.Choice(OVERLAPS), default="auto", show_default=True,
              help="Cluster training: whether a round's exchange overlaps the next round's training (each worker "
                   "trains from the last synchronization plus its own change, sharded): on, off, auto (on for "
                   "skip-gram with ns, nce or infonce from 4 workers on).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def train_command(corpus, output, resume, continue_from, checkpoint_every, binary, save_model, quiet, dask_scheduler,
                  dask_local, dask_timeout, sync, sync_words, sync_combine, sync_exchange, sync_overlap,
                  **options):
    """Train word vectors on CORPUS... (default: the bundled sample): files, directories (their files,
    recursively, in sorted order; hidden ones skipped), globs, or - for standard input, read in that order as one
    corpus; each plain UTF-8 text or gzip, one sentence per line.

    Ctrl-C, SIGTERM or SIGHUP stops at the next chunk and saves the training so far (to --save-model, or
    OUTPUT.checkpoint.npz); `--resume` continues it, on the same corpus, exactly where it stopped. A second signal
    stops at once without saving.

    `--continue-from MODEL` trains a saved model further on the new text CORPUS: its counts merged with the new
    ones, new words joining, known words keeping their vectors, the learning rate's schedule run again.
    """
    ctx = click.get_current_context()
    if dask_scheduler and dask_local:
        raise click.UsageError("give --dask-scheduler or --dask-local, not both")
    cluster = dask_scheduler or dask_local
    names = corpus_names(corpus)
    # on a cluster, a worker resolves the names: they are paths of a file system the workers share
    corpus = names if cluster else corpus_inputs(corpus)
    tmp_dir = options.pop("tmp_dir")
    checkpoint = save_model or output + ".checkpoint.npz"
    for path in (output, checkpoint):
        check_writable(path)
    if resume and continue_from:
        raise click.UsageError("give --resume or --continue-from, not both")
    if continue_from:
        given = {name: value for name, value in options.items()
                 if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE}
        start = resolve(given, continue_from=continue_from, on_cluster=bool(cluster))
    elif resume:
        given = [name for name in options if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
                 and name != "workers"]
        if given:
            raise click.UsageError("--resume continues with the model's own options; drop "
                                   + ", ".join("--" + g.replace("_", "-") for g in given))
        start = resolve({"workers": options["workers"]} if options["workers"] else {}, Model.load(resume))
    else:
        start = resolve(options, on_cluster=bool(cluster))
    hooks = Hooks(progress=not quiet, checkpoint_every=checkpoint_every, checkpoint_path=checkpoint)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        client, on_cluster = None, {}
        if cluster:
            if dask_scheduler:
                client = connect(dask_scheduler, dask_timeout)
            else:
                client = local_cluster(dask_local, options["workers"] or 1)
                stack.callback(client.cluster.close)
            stack.callback(client.close)
            on_cluster = dict(sync=sync, sync_combine=sync_combine, sync_exchange=sync_exchange,
                              sync_overlap=sync_overlap)
            if sync_words:
                on_cluster["sync_words"] = sync_words
        model = train_from(corpus, start, hooks, tmp_dir, client, **on_cluster)
    if not model.progress.get("complete", True):
        with signals.held(raise_after=False):  # the save completes unless a second signal comes
            model.save(checkpoint)
        p = model.progress
        signum = signals.received() or signal.SIGINT
        command = ["w2v-nce", "train", *names, "--resume", checkpoint, "-o", output] + \
            (["--binary"] if binary else []) + (["--save-model", save_model] if save_model else []) + \
            (["--tmp-dir", tmp_dir] if tmp_dir else []) + \
            (["--dask-scheduler", dask_scheduler] if dask_scheduler else []) + \
            (["--dask-local", str(dask_local)] if dask_local else []) + \
            (["--sync", sync, "--sync-combine", sync_combine, "--sync-exchange", sync_exchange,
              "--sync-overlap", sync_overlap] if cluster else []) + \
            (["--sync-words", str(sync_words)] if cluster and sync_words else [])
        click.echo(f"interrupted ({signals.signal_name(signum)}) in epoch {p['epoch'] + 1} after "
                   f"{p['words_done']:,} words; saved the training so far to {checkpoint}\n"
                   f"resume with: {shlex.join(command)}", err=True)
        ctx.exit(signals.exit_status(signum))
    with signals.held(raise_after=False):  # training is complete: a first signal waits for the outputs
        model.save_word2vec_format(output, binary=binary)
        if save_model:
            model.save(save_model)
    if not quiet:
        s = model.stats
        saved = output + (f", {save_model}" if save_model else "")
        extra = ""
        if "mi_lower_bound" in s:
            extra = f", MI lower bound {s['mi_lower_bound'][-1]:.3f} nats"
        if s.get("pruned_tokens"):
            extra += (f", counting pruned {s['pruned_tokens']:,} distinct tokens (counted up to "
                      f"{s['max_pruned_count']:,} times; --max-vocab-size)")
        click.echo(f"{s['train_words']:,} words in {s['train_seconds']:.2f} s ({s['words_per_second']:,.0f} words/s"
                   f"; preparation {s['prep_seconds']:.2f} s, {time.perf_counter() - t0:.2f} s in all), vocabulary "
                   f"{len(model):,}, final loss "
                   f"{model.epoch_losses[-1]:.4f}{extra} → {saved}", err=True)
