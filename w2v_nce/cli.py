"""The `w2v-nce` command line (click), a thin layer over the w2v_nce API."""
import dataclasses
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
            with signals.as_interrupt():
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
    click.option("--max-vocab-size", type=POS_INT, default=None,
                 help="Distinct tokens counted at a time [10,000,000]: when the counting table is full, its rarest "
                      "tokens are pruned (word2vec's ReduceVocab), which bounds the memory of counting."),
    click.option("--epochs", type=POS_INT, default=5, show_default=True),
    click.option("--alpha", type=NONNEG_FLOAT, default=None,
                 help="Initial learning rate [0.04 sg, 0.075 cbow; softmax 0.025, 0.05]."),
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
        if s.get("pruned_tokens"):
            extra += (f", counting pruned {s['pruned_tokens']:,} distinct tokens (counted up to "
                      f"{s['max_pruned_count']:,} times; --max-vocab-size)")
        click.echo(f"{s['train_words']:,} words in {s['train_seconds']:.2f} s ({s['words_per_second']:,.0f} words/s"
                   f"; preparation {s['prep_seconds']:.2f} s, {time.perf_counter() - t0:.2f} s in all), vocabulary "
                   f"{len(model):,}, final loss "
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
    import os
    import sys

    from w2v_nce import bench as B
    from w2v_nce import signals
    from w2v_nce.export import check_writable, write_bytes

    corpus = _corpus_path(corpus)
    tmp_dir = options.pop("tmp_dir")
    negatives, max_vocabs = options.pop("negative"), options.pop("max_vocab") or [None]
    opts = _resolve({**options, "negative": negatives[0], "max_vocab": max_vocabs[0]})
    # without --alpha, every objective of the bench trains at its own default rate
    opts = dataclasses.replace(opts, alpha=options["alpha"])
    for path in (json_path, plot_path):
        if path:
            check_writable(path)
    if plot_path:
        B.require_matplotlib("--plot")
    if heldout is None and heldout_fraction <= 0:
        raise click.BadParameter("must be > 0 unless --heldout is given", param_hint="'--heldout-fraction'")
    log = (lambda msg: None) if quiet else functools.partial(click.echo, err=True)
    try:
        rows = B.run_bench(corpus, objectives, opts, heldout_fraction, heldout, gensim=not no_gensim,
                           progress=not quiet, log=log, seeds=seeds, negatives=negatives, max_vocabs=max_vocabs,
                           curves=curves, report_dir=report_dir, command=shlex.join(["w2v-nce"] + sys.argv[1:]),
                           tmp_dir=tmp_dir)
    except KeyboardInterrupt:
        signum = signals.received() or signal.SIGINT
        if report_dir:
            kept = (f"the finished runs are kept in {os.path.join(report_dir, B.RUNS_FILE)}; the same command "
                    f"continues the bench")
        else:
            kept = "no run was kept (with --report DIR, finished runs are kept and the same command continues)"
        click.echo(f"interrupted ({signals.signal_name(signum)}): {kept}", err=True)
        click.get_current_context().exit(signals.exit_status(signum))
    click.echo(B.format_table(rows))
    if json_path:
        write_bytes(json_path, json.dumps(B.json_rows(rows), indent=1).encode("utf-8"))
    if plot_path:
        B.plot(rows, plot_path, corpus)



# --- using a trained model ------------------------------------------------------------------------------------

def _normalize_option(f):
    return click.option("--exact/--self-normalized", "exact", default=True, show_default=True,
                        help="Divide exp s(w,c) by Z(c) = Σ_w exp s(w,c) over the vocabulary (O(V) per context), "
                             "or take exp s(w,c) as it is (O(1) per pair): a probability for nce and hs models "
                             "only; flagged as not normalized for ns, softmax and infonce.")(f)


def _write_json(path, data):
    from w2v_nce.export import atomic_write

    with atomic_write(path) as f:
        f.write((json.dumps(data, indent=1) + "\n").encode("utf-8"))


def _as_known(kv, words):
    """Each word as written if the vectors have it, else lowercased if they have that (the vectors of a
    --lowercase run hold lowercase words only)."""
    return [w if w in kv.key_to_index or w.lower() not in kv.key_to_index else w.lower() for w in words]


def _unknown_words(kv, words):
    missing = [w for w in dict.fromkeys(words) if w not in kv.key_to_index]
    if missing:
        from w2v_nce.errors import W2VError

        raise W2VError(f"not in the vocabulary: {', '.join(missing)}")


@main.command(short_help="The most probable words given context words, with p(w|c).")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=True))
@click.argument("words", metavar="WORD [WORD...]", nargs=-1, required=True)
@click.option("--topn", type=POS_INT, default=10, show_default=True, help="How many words to print.")
@_normalize_option
def predict(model_path, words, topn, exact):
    """The most probable target words w given the context WORD (skip-gram: one word; CBOW: the mean of the
    WORDs' vectors, as in training), with p(w|c).

    Prints a # line saying what the numbers are, then one `word<TAB>probability` line per word.
    """
    import warnings

    import numpy as np

    from w2v_nce import inference
    from w2v_nce.vectors import load_model

    model = load_model(model_path)
    normalize = "exact" if exact else "self"
    p = inference.distribution(model, list(words), normalize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unknown context words were named above
        z = float(p.sum()) if not exact else float(inference.distribution(model, list(words), "self").sum())
    log_z = float(np.log(z)) if z > 0 else float("-inf")
    objective = model.options.get("objective")
    context = " ".join(words)
    if exact or objective == "hs":
        how = "exact" if objective != "hs" else "along the Huffman tree (normalized by construction)"
        click.echo(f"# p(w | {context}), {objective} model, {how}; log Z(c) = {log_z:.4f} "
                   f"(Σ_w exp s(w,c) = {z:.4g}) over {len(model):,} words")
    elif inference.is_self_normalized(model):
        click.echo(f"# p(w | {context}) = exp s(w,c), {objective} model, self-normalized; for this context "
                   f"Σ_w exp s(w,c) = {z:.4f} (log Z(c) = {log_z:.4f}) over {len(model):,} words")
    else:
        note = (f"{inference.not_normalized_message(model)}; for this context Σ_w exp s(w,c) = {z:.4g} "
                f"(log Z(c) = {log_z:.4f})")
        click.echo(f"warning: {note}", err=True)
        click.echo(f"# exp s(w,c) given {context}: NOT NORMALIZED, not probabilities; {note}")
    for word, prob in inference.top_words(model, p, topn):
        click.echo(f"{word}\t{prob:.6g}")


def _format_score(r, model_path, text):
    lines = [f"{text}: {r['tokens']:,} tokens ({r['oov_tokens']:,} outside the vocabulary), window {r['window']}; "
             f"{r['objective']} model {model_path}"]
    mode = {"exact": "exact (log Z(c) over the vocabulary for every context)",
            "self": "self-normalized (exp s(w,c) taken as p(w|c), no sum over the vocabulary)"}[r["normalize"]]
    if r["objective"] == "hs":
        mode = "along the Huffman tree (normalized by construction, both modes)"
    rows = [("normalization", mode),
            ("pairs", f"{r['pairs']:,}"),
            ("mean NLL", f"{r['nll']:.4f} nats per pair"),
            ("perplexity", f"{r['perplexity']:.2f}")]
    if "log_z_mean" in r and r["objective"] != "hs":
        where = (f" (over the {r['contexts']:,} contexts, weighted by pairs)" if r["normalize"] == "exact" else
                 f" (measured on the contexts of {r['log_z_sampled_pairs']} random pairs, outside the timing)")
        rows.append(("mean log Z", f"{r['log_z_mean']:.4f} ± {r['log_z_std']:.4f} sd{where}"))
    rows.append(("pairs/s", f"{r['pairs_per_second']:,.0f} ({r['seconds']:.3f} s)"))
    width = max(len(k) for k, _ in rows)
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    if not r["normalized"]:
        lines.append(f"NOT NORMALIZED: {r['objective']} scores are not log-probabilities, so this NLL and perplexity "
                     f"are not those of a probability model (the mean log Z above is how far off); use --exact")
    return "\n".join(lines)


@main.command(short_help="NLL, perplexity and pairs/s of a text under a model.")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=True))
@click.argument("text", type=click.Path(dir_okay=True))
@_normalize_option
@click.option("--window", type=POS_INT, default=None, help="Context window [the model's training window].")
@click.option("--json", "json_path", type=click.Path(), help="Also write the figures as JSON here.")
def score(model_path, text, exact, window, json_path):
    """Mean negative log-likelihood per (context, target) pair of TEXT (plain or .gz, one sentence per line),
    its perplexity, the number of pairs, the mean log Z and the scoring speed in pairs/s.

    The pairs are every (context, target) pair within the full window of TEXT's sentences, without subsampling;
    words outside the vocabulary are left out first, as in training.
    """
    import warnings

    from w2v_nce.corpus import check_readable_file
    from w2v_nce.errors import W2VWarning
    from w2v_nce.export import check_writable
    from w2v_nce.vectors import load_model

    if json_path:
        check_writable(json_path)
    check_readable_file(text, "text")
    model = load_model(model_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", W2VWarning)  # not normalized: said in the output below instead
        r = model.score_text(text, window=window, normalize="exact" if exact else "self")
    if not r["normalized"]:
        click.echo(f"warning: {r['objective']} scores are not normalized: the self-normalized NLL is not a "
                   f"likelihood; use --exact", err=True)
    click.echo(_format_score(r, model_path, text))
    if json_path:
        _write_json(json_path, dict(model=model_path, text=text, **r))


@main.command(short_help="Nearest neighbours of a word, or analogies (b − a + c).")
@click.argument("vectors_path", metavar="VECTORS_OR_MODEL", type=click.Path(dir_okay=True))
@click.argument("word", required=False)
@click.option("--analogy", nargs=3, metavar="A B C", default=None,
              help="Words closest to b − a + c (a is to b as c is to ?), gensim's "
                   "most_similar(positive=[b, c], negative=[a]).")
@click.option("--topn", type=POS_INT, default=10, show_default=True, help="How many words to print.")
def similar(vectors_path, word, analogy, topn):
    """Nearest neighbours of WORD by cosine similarity, or the answers to an analogy (--analogy A B C), in
    VECTORS_OR_MODEL: word2vec text or binary vectors, or a w2v-nce model (its input vectors).

    Prints a # line, then one `word<TAB>cosine similarity` line per word.
    """
    from w2v_nce.vectors import load_keyed_vectors

    if (word is None) == (analogy is None):
        raise click.UsageError("give either WORD or --analogy A B C")
    kv = load_keyed_vectors(vectors_path)
    if analogy:
        analogy = a, b, c = _as_known(kv, analogy)
        _unknown_words(kv, analogy)
        click.echo(f"# {b} − {a} + {c}: cosine similarity, {a}, {b} and {c} left out")
        found = kv.most_similar(positive=[b, c], negative=[a], topn=topn)
    else:
        word, = _as_known(kv, [word])
        _unknown_words(kv, [word])
        click.echo(f"# nearest to {word}: cosine similarity over {len(kv):,} words")
        found = kv.most_similar(word, topn=topn)
    for other, sim in found:
        click.echo(f"{other}\t{sim:.4f}")


def _format_evaluation(results):
    rows = []
    for r in results:
        if r["kind"] == "analogies":
            value = "—" if r["accuracy"] is None else f"{r['accuracy']:.2%}"
            rows.append((r["name"], "accuracy", value,
                         f"{r['correct']:,} correct of {r['evaluated']:,} evaluated; "
                         f"{r['questions'] - r['evaluated']:,} of {r['questions']:,} questions skipped (a word "
                         f"not in the vocabulary, or not among its {r['restrict_vocab']:,} most frequent)"))
        else:
            value = "—" if r["spearman"] is None else f"{r['spearman']:.4f}"
            pearson = "—" if r["pearson"] is None else f"{r['pearson']:.4f}"
            rows.append((r["name"], "Spearman ρ", value,
                         f"{r['evaluated']:,} of {r['pairs']:,} pairs in the vocabulary (Pearson {pearson})"))
    head = ("benchmark", "measure", "score", "coverage")
    widths = [max(len(x[i]) for x in rows + [head]) for i in range(3)]
    return "\n".join("  ".join(f"{x[i]:<{widths[i]}}" for i in range(3)) + "  " + x[3] for x in [head] + rows)


@main.command(short_help="Analogies, WS353, SimLex-999 and your own files, by gensim.")
@click.argument("vectors_path", metavar="VECTORS_OR_MODEL", type=click.Path(dir_okay=True))
@click.option("--analogies", "analogy_files", multiple=True, type=click.Path(dir_okay=True),
              help="Also this analogy file, in questions-words format (': SECTION' lines, then 'a b c d' lines); "
                   "repeatable.")
@click.option("--pairs", "pair_files", multiple=True, type=click.Path(dir_okay=True),
              help="Also this word-similarity file, in WS353 format (word1<TAB>word2<TAB>score, # comments); "
                   "repeatable.")
@click.option("--restrict-vocab", type=POS_INT, default=30000, show_default=True,
              help="Analogies: only questions whose four words are among this many most frequent words.")
@click.option("--json", "json_path", type=click.Path(), help="Also write the figures as JSON here.")
def evaluate(vectors_path, analogy_files, pair_files, restrict_vocab, json_path):
    """Word-vector benchmarks of VECTORS_OR_MODEL (word2vec text or binary vectors, or a w2v-nce model), by
    gensim's evaluators: analogies (questions-words, 3CosAdd), WordSim-353 and SimLex-999 (Spearman ρ), with
    gensim's data files, then the --analogies and --pairs files. Words are matched case-insensitively.
    """
    from w2v_nce.evaluation import check_analogies_file, check_pairs_file, evaluate_files
    from w2v_nce.export import check_writable
    from w2v_nce.vectors import check_readable, load_keyed_vectors

    if json_path:
        check_writable(json_path)
    for path, check in [(p, check_analogies_file) for p in analogy_files] + [(p, check_pairs_file)
                                                                              for p in pair_files]:
        check_readable(path, "evaluation file")
        check(path)  # a badly formed file fails before the vectors are loaded
    kv = load_keyed_vectors(vectors_path)
    results = evaluate_files(kv, analogies=analogy_files, pairs=pair_files, restrict_vocab=restrict_vocab)
    click.echo(f"{vectors_path}: {len(kv):,} words, dimension {kv.vector_size}")
    click.echo(_format_evaluation(results))
    if json_path:
        _write_json(json_path, dict(vectors=vectors_path, words=len(kv), dim=kv.vector_size, results=results))

if __name__ == "__main__":
    main()
