"""`w2v-nce bench`: the objectives (and gensim) compared on one corpus, a grid of k, vocabulary sizes and seeds;
the table, and optionally the rows as JSON, the main figure and the report directory."""
import dataclasses
import functools
import json
import os
import shlex
import signal
import sys

import click

from ..bench.figures import plot, require_matplotlib
from ..bench.runs import RUNS_FILE, run_bench
from ..bench.summary import format_table, json_rows
from ..core import signals
from ..core.files import check_writable, write_bytes
from .options import OBJECTIVE_NAMES, POS_INT, corpus_inputs, resolve, training_options


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


@click.command("bench")
@click.argument("corpus", nargs=-1, type=click.Path(dir_okay=True))
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
@click.option("--model", "models", multiple=True, type=click.Path(),
              help="A saved w2v-nce model (e.g. one converted from gensim) to add as a row, evaluated on the same "
                   "held-out sentences without training; repeat for more.")
@click.option("--curves/--no-curves", default=True, show_default=True,
              help="Evaluate the held-out and in-sample metrics after every epoch (off the training clock).")
@click.option("--json", "json_path", type=click.Path(), help="Write the run rows as JSON here.")
@click.option("--plot", "plot_path", type=click.Path(), help="Write the main figure (PNG) here (needs matplotlib).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False),
              help="Keep finished runs here as they finish (the same command again skips them) and write "
                   "summary.json, report.md and the figures (with matplotlib).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output (the table is still printed).")
def bench_command(corpus, objectives, seeds, heldout_fraction, heldout, no_gensim, models, curves, json_path,
                  plot_path, report_dir, quiet, **options):
    """Compare objectives (and gensim) on CORPUS... (read as `train` reads it; default: the bundled sample): speed,
    held-out and in-sample likelihood, normalization, vector quality.

    Sweeps the grid objective × k × vocabulary size, each SEEDS times; each --model adds a row of an existing
    model, not trained. With --report, an interrupted bench keeps its finished runs and the same command
    continues it.
    """
    corpus = corpus_inputs(corpus)
    tmp_dir = options.pop("tmp_dir")
    negatives, max_vocabs = options.pop("negative"), options.pop("max_vocab") or [None]
    # the settings of every run, checked; without --alpha (--window-batch), every objective of the bench trains at its
    # own default rate (window form) (each run's options are resolved where it starts: runs.run_options)
    opts = dataclasses.replace(resolve({**options, "negative": negatives[0], "max_vocab": max_vocabs[0]}).opts,
                               alpha=options["alpha"], window_batch=options["window_batch"])
    for path in (json_path, plot_path):
        if path:
            check_writable(path)
    if plot_path:
        require_matplotlib("--plot")
    if heldout is None and heldout_fraction <= 0:
        raise click.BadParameter("must be > 0 unless --heldout is given", param_hint="'--heldout-fraction'")
    log = (lambda msg: None) if quiet else functools.partial(click.echo, err=True)
    try:
        rows = run_bench(corpus, objectives, opts, heldout_fraction, heldout, gensim=not no_gensim,
                           progress=not quiet, log=log, seeds=seeds, negatives=negatives, max_vocabs=max_vocabs,
                           curves=curves, report_dir=report_dir, command=shlex.join(["w2v-nce"] + sys.argv[1:]),
                           tmp_dir=tmp_dir, models=list(models))
    except KeyboardInterrupt:
        signum = signals.received() or signal.SIGINT
        if report_dir:
            kept = (f"the finished runs are kept in {os.path.join(report_dir, RUNS_FILE)}; the same command "
                    f"continues the bench")
        else:
            kept = "no run was kept (with --report DIR, finished runs are kept and the same command continues)"
        click.echo(f"interrupted ({signals.signal_name(signum)}): {kept}", err=True)
        click.get_current_context().exit(signals.exit_status(signum))
    click.echo(format_table(rows))
    if json_path:
        write_bytes(json_path, json.dumps(json_rows(rows), indent=1).encode("utf-8"))
    if plot_path:
        plot(rows, plot_path, corpus.name)
