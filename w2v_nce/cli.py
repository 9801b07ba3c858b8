"""The `w2v-nce` command line (click), a thin layer over the w2v_nce API."""
import functools
import json
import shlex
import signal
import time
import warnings

import click

OBJECTIVE_NAMES = ["ns", "nce", "softmax", "infonce", "hs"]


class _Group(click.Group):
    """Expected failures (W2VError, and running out of memory) become one line on stderr and exit code 1;
    --debug shows the traceback. SIGINT, SIGTERM and SIGHUP stop a command cleanly (see w2v_nce/signals.py);
    its exit code is then 128 + the signal's number (130, 143, 129)."""

    def invoke(self, ctx):
        from w2v_nce import signals

        with signals.stop_on_signals():
            return self._invoke(ctx)

    def _invoke(self, ctx):
        from w2v_nce import signals
        from w2v_nce.errors import W2VError, W2VWarning

        def show_warning(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, W2VWarning):
                click.echo(f"warning: {message}", err=True)
            else:
                _show_warning(message, category, filename, lineno, file, line)

        _show_warning = warnings.showwarning
        warnings.showwarning = show_warning
        try:
            return super().invoke(ctx)
        except W2VError as e:
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)
        except MemoryError as e:
            if ctx.params.get("debug"):
                raise
            detail = f" ({e})" if str(e) else ""
            click.echo(f"error: out of memory{detail}; lower --dim or --max-vocab, or raise --min-count", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            signum = signals.received() or signal.SIGINT
            click.echo(f"interrupted ({signals.signal_name(signum)}); nothing was saved", err=True)
            ctx.exit(signals.exit_status(signum))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="w2v-nce")
def main(debug):
    """Word embeddings with full softmax, negative sampling, NCE, InfoNCE and hierarchical softmax."""


POS_INT = click.IntRange(min=1)
NONNEG_FLOAT = click.FloatRange(min=0.0)

_TRAINING_OPTIONS = [
    click.option("--arch", type=click.Choice(["sg", "cbow"]), default="sg", show_default=True),
    click.option("--dim", type=POS_INT, default=100, show_default=True, help="Vector dimension."),
    click.option("--window", type=POS_INT, default=5, show_default=True, help="Maximum context window."),
    click.option("--fixed-window", is_flag=True, help="Always use the full window (no random shrinking)."),
    click.option("--negative", type=POS_INT, default=5, show_default=True, help="Noise samples per example (k)."),
    click.option("--shared-negatives/--per-example-negatives", default=True, show_default=True,
                 help="Skip-gram: draw the k noise words once per target and share them among its context words "
                      "(faster, same measured quality), or afresh for every (context, target) example as "
                      "word2vec does."),
    click.option("--sample", type=NONNEG_FLOAT, default=1e-3, show_default=True,
                 help="Subsampling threshold for frequent words (0 = off)."),
    click.option("--min-count", type=POS_INT, default=5, show_default=True, help="Drop rarer words."),
    click.option("--max-vocab", type=POS_INT, default=None, help="Keep only the most frequent words."),
    click.option("--epochs", type=POS_INT, default=5, show_default=True),
    click.option("--alpha", type=NONNEG_FLOAT, default=None, help="Initial learning rate [0.025 sg, 0.05 cbow]."),
    click.option("--min-alpha", type=NONNEG_FLOAT, default=1e-4, show_default=True, help="Final learning rate."),
    click.option("--noise-exponent", type=click.FloatRange(0.0, 1.0), default=0.75, show_default=True,
                 help="Q(w) ∝ count(w)^exponent."),
    click.option("--bias-init", type=click.Choice(["unigram", "zero"]), default="unigram", show_default=True,
                 help="Output bias at step 0 (objectives with a bias): log unigram probabilities, so training "
                      "starts from the normalized unigram model, or zero."),
    click.option("--workers", type=POS_INT, default=None, help="Threads [all cores]."),
    click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True),
    click.option("--lowercase", is_flag=True, help="Lowercase the corpus."),
    click.option("--tmp-dir", type=click.Path(file_okay=False), default=None,
                 help="Directory for temporary files (the encoded corpus: 4 bytes per kept token) [$TMPDIR, else "
                      "the system's]."),
]


def training_options(f):
    for option in reversed(_TRAINING_OPTIONS):
        f = option(f)
    return f


def _resolve(options):
    """Checked training options; a value that is invalid with another one is a usage error naming it."""
    from w2v_nce.options import OptionError, TrainOptions

    try:
        return TrainOptions(**{k: v for k, v in options.items() if k != "tmp_dir"}).resolved()
    except OptionError as e:
        raise click.BadParameter(e.detail, param_hint=f"'--{e.option.replace('_', '-')}'") from None


def _corpus_path(corpus):
    from w2v_nce.corpus import check_corpus_path
    from w2v_nce.sample import bundled_corpus_path

    corpus = corpus or bundled_corpus_path()
    check_corpus_path(corpus)
    return corpus


@main.command()
@click.argument("corpus", required=False, type=click.Path(dir_okay=True))
@click.option("-o", "--output", default="vectors.txt", show_default=True, type=click.Path(),
              help="Word vectors in word2vec format.")
@click.option("--resume", type=click.Path(), help="Continue the training saved in this model (.npz) on CORPUS.")
@click.option("--checkpoint-every", type=POS_INT, default=None,
              help="Save a resumable model every N epochs (to --save-model, or OUTPUT.checkpoint.npz).")
@click.option("--binary", is_flag=True, help="Write word2vec binary format instead of text.")
@click.option("--save-model", type=click.Path(), help="Also save the full model (.npz) for evaluation or reuse.")
@click.option("--objective", type=click.Choice(OBJECTIVE_NAMES), default="ns", show_default=True)
@click.option("--bias/--no-bias", default=None, help="Output bias b_w [on for softmax/nce/infonce, off for ns/hs].")
@training_options
@click.option("--dask-scheduler", metavar="ADDRESS",
              help="Train data-parallel on the Dask cluster of this scheduler (e.g. tcp://head:8786); CORPUS may "
                   "then be a glob of shard files, readable by every worker. --workers: threads per Dask worker.")
@click.option("--dask-local", type=POS_INT, metavar="N",
              help="Train data-parallel on a local Dask cluster of N worker processes (--workers threads each, "
                   "default 1).")
@click.option("--dask-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for the Dask scheduler.")
@click.option("--sync", type=click.Choice(["stratified", "full", "epoch-average"]), default="stratified",
              show_default=True,
              help="Cluster training: which rows are synchronized after every round: frequent words every round and "
                   "rarer ones less often, every row every round, or once per epoch averaged (Spark MLlib's "
                   "scheme).")
@click.option("--sync-words", type=POS_INT, default=None,
              help="Cluster training: raw words each worker trains per round [200000].")
@click.option("--sync-combine", type=click.Choice(["sum", "average"]), default="sum", show_default=True,
              help="Cluster training: the workers' updates of a round are summed or averaged.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def train(corpus, output, resume, checkpoint_every, binary, save_model, quiet, dask_scheduler, dask_local,
          dask_timeout, sync, sync_words, sync_combine, **options):
    """Train word vectors on CORPUS (plain text or .gz, one sentence per line; default: the bundled sample).

    Ctrl-C, SIGTERM or SIGHUP stops at the next chunk and saves the training so far (to --save-model, or
    OUTPUT.checkpoint.npz); `--resume` continues it, on the same corpus, exactly where it stopped. A second signal
    stops at once without saving.
    """
    from w2v_nce import signals
    from w2v_nce.export import check_writable
    from w2v_nce.model import Model
    from w2v_nce.trainer import train as train_model

    import contextlib
    import glob

    ctx = click.get_current_context()
    if dask_scheduler and dask_local:
        raise click.UsageError("give --dask-scheduler or --dask-local, not both")
    cluster = dask_scheduler or dask_local
    if not (cluster and corpus and glob.has_magic(corpus)):  # a glob is expanded by a worker
        corpus = _corpus_path(corpus)
    tmp_dir = options.pop("tmp_dir")
    checkpoint = save_model or output + ".checkpoint.npz"
    for path in (output, checkpoint):
        check_writable(path)
    if resume:
        given = [name for name in options if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
                 and name != "workers"]
        if given:
            raise click.UsageError("--resume continues with the model's own options; drop "
                                   + ", ".join("--" + g.replace("_", "-") for g in given))
        resume = Model.load(resume)
        options = {"workers": options["workers"]} if options["workers"] else {}
    else:
        _resolve(options)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if cluster:
            from w2v_nce import distributed as D

            if dask_scheduler:
                client = D.connect(dask_scheduler, dask_timeout)
            else:
                client = D.local_cluster(dask_local, options.get("workers") or 1)
                stack.callback(client.cluster.close)
            stack.callback(client.close)
            options.update(client=client, sync=sync, sync_combine=sync_combine)
            if sync_words:
                options["sync_words"] = sync_words
        model = train_model(corpus, progress=not quiet, resume=resume, checkpoint_every=checkpoint_every,
                            checkpoint_path=checkpoint, tmp_dir=tmp_dir, **options)
    if not model.progress.get("complete", True):
        with signals.held(raise_after=False):  # the save completes unless a second signal comes
            model.save(checkpoint)
        p = model.progress
        signum = signals.received() or signal.SIGINT
        command = ["w2v-nce", "train", corpus, "--resume", checkpoint, "-o", output] + \
            (["--binary"] if binary else []) + (["--save-model", save_model] if save_model else []) + \
            (["--tmp-dir", tmp_dir] if tmp_dir else []) + \
            (["--dask-scheduler", dask_scheduler] if dask_scheduler else []) + \
            (["--dask-local", str(dask_local)] if dask_local else []) + \
            (["--sync", sync, "--sync-combine", sync_combine] if cluster else []) + \
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
        click.echo(f"{s['train_words']:,} words in {s['train_seconds']:.1f} s ({s['words_per_second']:,.0f} words/s"
                   f", {time.perf_counter() - t0:.1f} s in all), vocabulary {len(model):,}, final loss "
                   f"{model.epoch_losses[-1]:.4f}{extra} → {saved}", err=True)


def _objective_list(ctx, param, value):
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in OBJECTIVE_NAMES]
    if bad or not names:
        raise click.BadParameter(f"choose from {', '.join(OBJECTIVE_NAMES)} (comma-separated), got {value!r}")
    return names


class _IntList(click.ParamType):
    """Comma-separated positive integers, e.g. 5,20,50 (duplicates dropped, order kept)."""

    name = "N[,N...]"

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        try:
            items = [int(v) for v in str(value).split(",") if v.strip()]
        except ValueError:
            items = []
        if not items or min(items) < 1:
            self.fail(f"expected comma-separated integers ≥ 1, got {value!r}", param, ctx)
        return list(dict.fromkeys(items))


def _sweep_options(f):
    """training_options, with --negative and --max-vocab taking comma-separated lists of values to sweep."""
    f = training_options(f)
    sweep = {
        "negative": click.Option(["--negative"], type=_IntList(), default="5", show_default=True,
                                 help="Noise samples per example (k); a comma-separated list sweeps k "
                                      "(sampling objectives and gensim only)."),
        "max_vocab": click.Option(["--max-vocab"], type=_IntList(), default=None,
                                  help="Keep only the most frequent words; a comma-separated list sweeps the "
                                       "vocabulary size."),
    }
    f.__click_params__ = [sweep.get(p.name, p) for p in f.__click_params__]
    return f


@main.command()
@click.argument("corpus", required=False, type=click.Path(dir_okay=True))
@click.option("--objectives", default=",".join(OBJECTIVE_NAMES), show_default=True, callback=_objective_list,
              help="Comma-separated objectives to compare.")
@_sweep_options
@click.option("--seeds", type=POS_INT, default=1, show_default=True,
              help="Train every configuration this many times, with seeds SEED, SEED+1, ...; the table shows "
                   "mean ± sd.")
@click.option("--heldout-fraction", type=click.FloatRange(0.0, 0.5, max_open=True), default=0.01, show_default=True,
              help="Fraction of the corpus's sentences, from its end, held out (never trained on).")
@click.option("--heldout", type=click.Path(exists=True, dir_okay=False), help="Held-out corpus file instead.")
@click.option("--no-gensim", is_flag=True, help="Leave out the gensim reference row.")
@click.option("--curves/--no-curves", default=True, show_default=True,
              help="Evaluate the held-out metrics after every epoch (off the training clock).")
@click.option("--json", "json_path", type=click.Path(), help="Write the run rows as JSON here.")
@click.option("--plot", "plot_path", type=click.Path(), help="Write the main figure (PNG) here (needs matplotlib).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False),
              help="Keep finished runs here as they finish (the same command again skips them) and write "
                   "summary.json, report.md and the figures (with matplotlib).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output (the table is still printed).")
def bench(corpus, objectives, seeds, heldout_fraction, heldout, no_gensim, curves, json_path, plot_path,
          report_dir, quiet, **options):
    """Compare objectives (and gensim) on CORPUS: speed, held-out likelihood, normalization, vector quality.

    Sweeps the grid objective × k × vocabulary size, each SEEDS times. With --report, an interrupted bench
    keeps its finished runs and the same command continues it.
    """
    import sys

    from w2v_nce import bench as B
    from w2v_nce.export import atomic_write, check_writable

    corpus = _corpus_path(corpus)
    negatives, max_vocabs = options.pop("negative"), options.pop("max_vocab") or [None]
    opts = _resolve({**options, "negative": negatives[0], "max_vocab": max_vocabs[0]})
    for path in (json_path, plot_path):
        if path:
            check_writable(path)
    if plot_path:
        B.require_matplotlib("--plot")
    if heldout is None and heldout_fraction <= 0:
        raise click.BadParameter("must be > 0 unless --heldout is given", param_hint="'--heldout-fraction'")
    log = (lambda msg: None) if quiet else functools.partial(click.echo, err=True)
    rows = B.run_bench(corpus, objectives, opts, heldout_fraction, heldout, gensim=not no_gensim,
                       progress=not quiet, log=log, seeds=seeds, negatives=negatives, max_vocabs=max_vocabs,
                       curves=curves, report_dir=report_dir, command=shlex.join(["w2v-nce"] + sys.argv[1:]))
    click.echo(B.format_table(rows))
    if json_path:
        with atomic_write(json_path) as f:
            f.write(json.dumps(B.json_rows(rows), indent=1).encode("utf-8"))
    if plot_path:
        B.plot(rows, plot_path, corpus)


if __name__ == "__main__":
    main()
