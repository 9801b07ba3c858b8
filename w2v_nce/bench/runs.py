"""`w2v-nce bench`: the objectives (and gensim) trained on one corpus with one vocabulary and compared on the
same held-out pairs: speed, training loss, held-out and in-sample likelihood, self-normalization and word-vector
quality.

A bench is a grid of runs: seed × vocabulary size × objective × k (k only for the objectives that sample
noise; softmax and hs run once per vocabulary size). Every run records its learning curve, held-out and
in-sample (evaluated after each epoch, off the training clock; see measures.py). With a report directory,
finished runs are kept there as they finish and a re-run of the same command skips them.
"""
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings

from ..api import train_from
from ..core import signals
from ..core.errors import NoSpaceError, W2VError, W2VWarning
from ..core.files import write_bytes
from ..core.resources import TMP_HINT, check_free_space, disk_errors, temporary_directory
from ..model.evaluation import word_vector_metrics
from ..model.model import Model
from ..objectives import OBJECTIVES
from ..prepare.corpus import TextCorpus, as_corpus, is_named
from ..prepare.inputs import plain_size, resolve_inputs
from ..prepare.counting import CountedCorpus
from ..training.options import TrainOptions
from ..training.run import Hooks, Start
from .existing import load_models, run_model
from .figures import PLOT_EXTRA, has_matplotlib
from .measures import Measures, insample_sentences
from .report import write_report
from .summary import METRICS, json_rows, samples_noise

SETTINGS = ["dim", "window", "fixed_window", "negative", "sample", "min_count", "max_vocab", "max_vocab_size",
            "epochs", "workers", "seed", "alpha", "min_alpha", "noise_exponent", "shared_negatives", "window_batch",
            "bias_init", "softmax_step"]
RUNS_FILE = "runs.json"
# The format of a run's row, part of its configuration: a row stored in an earlier format (1: without the in-sample
# NLL) matches no configuration, so its run is trained again.
RUN_FORMAT = 2


def bench_grid(objectives, negatives, max_vocabs, seeds, gensim=True):
    """The runs of a bench in the order they train: (objective, k or None, max_vocab, seed) tuples.

    Seeds outermost (so an interrupted bench has every configuration once before any twice), then vocabulary
    sizes, then objectives (gensim last), then k; k is None for objectives that do not sample noise.
    """
    jobs = []
    for seed in seeds:
        for max_vocab in max_vocabs:
            for objective in list(objectives) + (["gensim"] if gensim else []):
                for k in (negatives if samples_noise(objective) else [None]):
                    jobs.append((objective, k, max_vocab, seed))
    return jobs


def split_corpus(corpus, out_path, heldout_fraction=0.01, heldout=None, lowercase=False):
    """Write the training sentences to out_path (one per line) and return the held-out ones.

    Held out: the file `heldout`, or else the last `heldout_fraction` of the corpus's sentences (over all its
    inputs, in order), which are then left out of training.
    """
    return _split(corpus, out_path, heldout_fraction, heldout, lowercase)[0]


def _split(corpus, out_path, heldout_fraction, heldout, lowercase):
    """split_corpus's work, in one pass over the corpus (standard input is read once): every sentence is written,
    then the held-out ones are read back from the end of the file and cut off. Returns (held-out sentences,
    training sentences, training tokens)."""
    sentences = as_corpus(corpus, lowercase=lowercase)
    held = list(as_corpus(heldout, lowercase=lowercase)) if heldout is not None else None
    # the sentences, their tokens joined by single spaces, take at most the bytes of a plain-text corpus
    size = plain_size(sentences.inputs) if isinstance(sentences, TextCorpus) else None
    if size is not None:
        check_free_space(os.path.dirname(os.path.abspath(out_path)), size, "the training part of the corpus",
                         TMP_HINT)
    n = tokens = 0
    with disk_errors(out_path, size, TMP_HINT), open(out_path, "w", encoding="utf-8") as out:
        for sent in sentences:
            out.write(" ".join(sent) + "\n")
            n += 1
            tokens += len(sent)
    if held is not None:
        return held, n, tokens
    n_held = int(round(n * heldout_fraction))
    if heldout_fraction > 0 and n_held == 0 and n > 1:
        n_held = 1
    if n_held >= n:
        raise W2VError(f"the corpus has {n} sentences: too few to hold out {heldout_fraction:.0%} and train")
    held = [line.split() for line in _cut_after_lines(out_path, n - n_held).split("\n")[:-1]] if n_held else []
    return held, n - n_held, tokens - sum(map(len, held))


def _cut_after_lines(path, n_lines):
    """Truncate the file at path after its first n_lines lines (≥ 1); returns the text cut off."""
    with open(path, "r+b") as f:
        seen = offset = 0
        while True:
            block = f.read(1 << 20)
            in_block = block.count(b"\n")
            if seen + in_block >= n_lines:
                at = -1
                for _ in range(n_lines - seen):
                    at = block.index(b"\n", at + 1)
                offset += at + 1
                break
            seen += in_block
            offset += len(block)
        f.seek(offset)
        tail = f.read()
        f.truncate(offset)
    return tail.decode("utf-8")


def _row(objective, arch, vocab_size, settings):
    row = dict(objective=objective, arch=arch, vocab_size=vocab_size, settings=settings)
    row.update({k: None for k in METRICS})
    return row


def _settings(opts):
    return {k: getattr(opts, k) for k in SETTINGS}


def _curve_point(epoch, train_seconds, metrics):
    return dict(epoch=epoch, train_seconds=train_seconds, heldout_nll=metrics["heldout_nll"],
                insample_nll=metrics["insample_nll"], selfnorm_nll=metrics["selfnorm_nll"],
                log_z_mean=metrics["log_z_mean"])


def _add_metrics(row, final):
    """The final metrics into a run's row: METRICS, and the number of in-sample pairs."""
    row.update({k: v for k, v in final.items() if k in METRICS})
    row["insample_pairs"] = final["insample_pairs"]


def run_options(objective, opts):
    """The resolved training options of one run of `objective` (gensim: as negative sampling) with the bench's
    settings opts (SETTINGS, and its architecture): the objective's own output bias and, without a given alpha,
    its own default rate. The training part of the corpus is lowercased already when the bench lowercases."""
    return TrainOptions(objective="ns" if objective == "gensim" else objective, arch=opts.arch,
                        **_settings(opts)).resolved()


def train_with_curve(objective, train_path, heldout, opts, curves=True, progress=False, tmp_dir=None, insample=()):
    """Train one objective with the bench's settings opts (its options: run_options); after every epoch, off the
    training clock, evaluate the held-out metrics on the sentences `heldout` and the in-sample NLL on the
    training sentences `insample` (measures.py).

    Returns (model, curve, final metrics). The evaluation only reads the weights (through a Model view of the
    run's arrays) and draws random numbers of its own only, so the trained vectors are the same with and
    without curves. Raises KeyboardInterrupt if training was interrupted (Ctrl-C).
    """
    return _curve_run(run_options(objective, opts), train_path, Measures(heldout, list(insample)), curves, progress,
                      tmp_dir)


def _curve_run(opts, train_path, measures, curves, progress, tmp_dir):
    """train_with_curve of a run's resolved options."""
    curve = []
    last = {}

    def evaluate_epoch(run):
        view = Model(run.vocab.words, run.vocab.counts, run.in_w, run.out_w, run.out_b if opts.bias else None,
                     options={"objective": opts.objective})
        last.clear()
        last.update(measures.metrics(view, opts))
        curve.append(_curve_point(run.epoch, run.train_seconds, last))

    model = train_from(train_path, Start(opts), Hooks(progress, on_epoch_end=evaluate_epoch if curves else None),
                       tmp_dir)
    if not model.progress.get("complete", True) or (curves and len(curve) != opts.epochs):
        raise KeyboardInterrupt
    final = last if curves else measures.metrics(model, opts)
    return model, curve, dict(final)


def run_objective(objective, train_path, measures, opts, progress=True, curves=True, tmp_dir=None):
    """One run of one of our objectives with its resolved options (run_options): its row (settings, timings,
    held-out and in-sample metrics on measures (a measures.Measures), curve, word vectors)."""
    model, curve, final = _curve_run(opts, train_path, measures, curves, progress, tmp_dir)
    row = _row(objective, opts.arch, len(model), _settings(opts))
    row.update(train_seconds=model.stats["train_seconds"], words_per_second=model.stats["words_per_second"],
               train_loss=float(model.epoch_losses[-1]))
    if objective == "infonce":
        row["mi_lower_bound"] = model.stats["mi_lower_bound"][-1]
    row["epoch_losses"] = [float(x) for x in model.epoch_losses]
    row["curve"] = curve
    _add_metrics(row, final)
    row.update(word_vector_metrics(model.to_keyedvectors()))
    return row


def run_gensim(train_path, measures, opts, curves=True):
    """gensim Word2Vec with the same settings and vocabulary (corpus_file mode, negative sampling); likelihood
    metrics (on measures, a measures.Measures) from its input and output (syn1neg) weights, which have no bias.
    The curve is evaluated in gensim's epoch-end callback; gensim's training clock (total_train_time) counts
    epochs only. gensim may order the words otherwise than ours: the in-sample pairs are the same word pairs."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    def view(m):
        wv = m.wv
        return Model(wv.index_to_key, [wv.get_vecattr(w, "count") for w in wv.index_to_key], wv.vectors,
                     m.syn1neg, None, options={"objective": "ns"})

    curve = []
    last = {}

    class HeldoutCurve(CallbackAny2Vec):
        def on_epoch_end(self, m):
            last.clear()
            last.update(measures.metrics(view(m), opts))
            curve.append(_curve_point(len(curve) + 1, m.total_train_time, last))

    vocab = CountedCorpus(train_path, None, max_vocab_size=opts.max_vocab_size, warn=False).vocabulary(
        opts.min_count, opts.max_vocab)  # ours, counted as training counts it
    model = Word2Vec(sg=1 if opts.arch == "sg" else 0, vector_size=opts.dim, window=opts.window,
                     negative=opts.negative, hs=0, sample=opts.sample, min_count=1, epochs=opts.epochs,
                     workers=opts.workers, seed=opts.seed, alpha=opts.alpha, min_alpha=opts.min_alpha,
                     ns_exponent=opts.noise_exponent, shrink_windows=not opts.fixed_window)
    model.build_vocab_from_freq(dict(zip(vocab.words, vocab.counts.tolist())))
    model.train(corpus_file=train_path, total_words=vocab.raw_words, epochs=opts.epochs,
                callbacks=[HeldoutCurve()] if curves else ())
    ours = view(model)
    row = _row("gensim", opts.arch, len(ours), _settings(opts))
    row.update(train_seconds=model.total_train_time,
               words_per_second=vocab.raw_words * opts.epochs / model.total_train_time)
    row["curve"] = curve
    _add_metrics(row, last if curves else measures.metrics(ours, opts))
    row.update(word_vector_metrics(ours.to_keyedvectors()))
    return row


def _model_row(name, model, source, held, opts, log, what):
    """run_model of one existing model, a failure recorded in its row (key "error") as a trained run's is."""
    log(f"{what} {name}: evaluated as it is, not trained")
    if model.options.get("arch") not in (None, opts.arch):
        log(f"{what} {name} was trained as {model.options['arch']}; it is scored on the bench's {opts.arch} pairs")
    try:
        with signals.as_interrupt():
            return run_model(name, model, held, opts.arch, opts.window, SETTINGS, source)
    except (KeyboardInterrupt, NoSpaceError):
        raise
    except Exception as e:
        row = dict(_row(name, opts.arch, len(model), {k: model.options.get(k) for k in SETTINGS}),
                   trained=False, model=source, seed=None, negative=None, max_vocab=None, curve=[])
        row["error"] = f"{type(e).__name__}: {e}"
        log(f"{what} {name} failed: {row['error']}")
        return row


class RunStore:
    """The finished runs of a report directory (its runs.json), rewritten atomically after every run.

    A run is found again by its configuration (objective, architecture, corpus, held-out part, every training
    setting and the seed), so a re-run of the same bench skips what is done. Runs of other configurations
    already in the file are kept.
    """

    def __init__(self, directory):
        self.path = os.path.join(directory, RUNS_FILE) if directory else None
        self.rows = []
        if self.path and os.path.exists(self.path):
            try:
                with open(self.path, encoding="utf-8") as f:
                    self.rows = json.load(f)
                if not isinstance(self.rows, list):
                    raise ValueError("not a list of runs")
            except (OSError, ValueError) as e:
                raise W2VError(f"cannot read the finished runs in {self.path}: {e} (move it away to start over)") \
                    from None

    def find(self, config):
        for r in self.rows:
            if r.get("config") == config and "error" not in r:
                return r
        return None

    def add(self, row):
        self.rows = [r for r in self.rows if r.get("config") != row["config"]] + [json_rows([row], config=True)[0]]
        if self.path:
            write_bytes(self.path, json.dumps(self.rows, indent=1).encode("utf-8"))


def _file_identity(path):
    st = os.stat(path)
    return dict(path=os.path.abspath(path), bytes=st.st_size, mtime_ns=st.st_mtime_ns)


def corpus_identity(inputs, train_path, held):
    """What identifies a bench's corpus: each file's path, size and time (one file: its identity alone); with
    standard input or a pipe, the SHA-256 of the sentences read (the training part and the held-out ones)."""
    if inputs.rereadable:
        ids = [_file_identity(p) for p in inputs.paths]
        return ids[0] if len(ids) == 1 else ids
    digest = hashlib.sha256()
    with open(train_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update("\n".join(" ".join(s) for s in held).encode("utf-8"))
    return dict(sentences_sha256=digest.hexdigest())


def run_config(objective, opts, corpus_id, heldout_id, curves, lowercase):
    """What identifies a run: everything that changes what it trains or measures (k is None where unused), and
    the format of its row (RUN_FORMAT). opts: the run's options; lowercase: whether the bench lowercases the
    corpus."""
    settings = _settings(opts)
    if not samples_noise(objective):
        settings["negative"] = None
    if objective == "gensim" or not OBJECTIVES[objective].default_bias:  # no output bias to initialize
        settings["bias_init"] = None
    if objective != "softmax":
        settings["softmax_step"] = None
    config = dict(format=RUN_FORMAT, objective=objective, arch=opts.arch, lowercase=lowercase, corpus=corpus_id,
                  heldout=heldout_id, curves=bool(curves), **settings)
    return json.loads(json.dumps(config))  # as it reads back from runs.json


def run_bench(corpus, objectives, opts, heldout_fraction=0.01, heldout=None, gensim=True, progress=True,
              log=None, tmp_dir=None, seeds=1, negatives=None, max_vocabs=None, curves=True, report_dir=None,
              command=None, models=()):
    """Train the bench grid (see bench_grid) on the training part of `corpus` (named inputs, as train() takes them,
    or a re-iterable of token lists) and evaluate every run; returns the run rows in grid order.

    opts: the TrainOptions shared by all runs (alpha None: each objective's default rate; each run's options
    are run_options of them, resolved there); seeds: runs per configuration, with seeds opts.seed, opts.seed + 1,
    ...; negatives / max_vocabs: the k and vocabulary-size values to sweep (default: opts' own). A failure in one
    run is recorded in its row (key "error") and the others still run. report_dir: keep every finished run in
    report_dir/runs.json as it finishes, skip runs already there, and at the end write the report (summary.json,
    report.md, figures; see report.write_report). Ctrl-C stops the bench and loses only the run in progress.
    models: existing models (paths of saved models, or Model objects, e.g. Model.from_gensim of a gensim
    Word2Vec), one row each after the grid, evaluated on the same held-out split without training (see
    existing.py); they are loaded first, so a path that is not a model fails before anything is read or
    written. Their rows are evaluated again on every run of the bench (not kept in runs.json).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    negatives = list(negatives or [opts.negative])
    max_vocabs = list(max_vocabs or [opts.max_vocab])
    seed_list = [opts.seed + i for i in range(seeds)]
    jobs = bench_grid(objectives, negatives, max_vocabs, seed_list, gensim)
    store = RunStore(report_dir)
    existing = load_models(models)
    inputs = resolve_inputs(corpus) if is_named(corpus) else None
    corpus = inputs if inputs is not None else corpus
    heldout_id = _file_identity(heldout) if heldout is not None else dict(fraction=heldout_fraction)
    started = time.strftime("%Y-%m-%d %H:%M:%S %z")
    tmp_dir = temporary_directory(tmp_dir)
    work = tempfile.mkdtemp(prefix="w2v-nce-bench-", dir=tmp_dir)
    t_bench = time.perf_counter()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, work, ignore_errors=True)
        cleanup.enter_context(signals.temporary(work, is_dir=True))  # removed by a second signal too
        train_path = os.path.join(work, "train.txt")
        held, train_sentences, train_tokens = _split(corpus, train_path, heldout_fraction, heldout, opts.lowercase)
        corpus_id = corpus_identity(inputs, train_path, held) if inputs is not None else None
        measures = Measures(held, *insample_sentences(train_path, train_tokens, sum(map(len, held))))
        if report_dir:  # once the corpus is read: a corpus that cannot be read leaves nothing, and one line
            os.makedirs(report_dir, exist_ok=True)
            if not has_matplotlib():
                warnings.warn(f"the report's figures need matplotlib ({PLOT_EXTRA}); the report is written "
                              f"without them", W2VWarning)
        log(f"held out {len(held):,} sentences ({sum(map(len, held)):,} tokens); training on "
            f"{train_sentences:,} sentences ({train_tokens:,} tokens); in-sample: {measures.describe()}")
        rows = []
        trained = 0
        for i, (name, k, max_vocab, seed) in enumerate(jobs, 1):
            # without a given alpha, each objective trains at its own default rate, gensim at negative sampling's
            run_opts = run_options(name, dataclasses.replace(opts, negative=k if k is not None else opts.negative,
                                                             max_vocab=max_vocab, seed=seed))
            config = run_config(name, run_opts, corpus_id, heldout_id, curves, opts.lowercase)
            what = f"{name}" + (f" k={k}" if k is not None else "") + \
                (f" V≤{max_vocab}" if max_vocab is not None else "") + f" seed {seed}"
            done = store.find(config) if report_dir else None
            if done is not None:
                log(f"[{i}/{len(jobs)}] {what}: done before, kept from {store.path}")
                rows.append(done)
                continue
            log(f"[{i}/{len(jobs)}] {what}")
            t0 = time.perf_counter()
            try:
                with signals.as_interrupt():
                    if name == "gensim":
                        row = run_gensim(train_path, measures, run_opts, curves)
                    else:
                        row = run_objective(name, train_path, measures, run_opts, progress, curves, tmp_dir)
            except KeyboardInterrupt:
                kept = f"; the {len(rows)} finished runs are kept in {store.path}: run the same command " \
                       f"again to continue" if report_dir else ""
                log(f"[{i}/{len(jobs)}] {what} interrupted{kept}")
                raise
            except NoSpaceError:  # a full disk stops every run: the bench stops, its finished runs kept
                raise
            except Exception as e:  # reported in the row; the other runs still train
                row = _row(name, opts.arch, None, _settings(run_opts))
                row["error"] = f"{type(e).__name__}: {e}"
                log(f"[{i}/{len(jobs)}] {what} failed: {row['error']}")
                if os.environ.get("W2V_NCE_DEBUG"):
                    traceback.print_exc()
            row.update(seed=seed, negative=k, max_vocab=max_vocab, config=config)
            row.setdefault("curve", [])
            log(f"[{i}/{len(jobs)}] {what} done in {time.perf_counter() - t0:.1f} s")
            trained += 1
            store.add(row)
            rows.append(row)
        for i, (name, model, source) in enumerate(existing, 1):
            rows.append(_model_row(name, model, source, held, opts, log, f"[model {i}/{len(existing)}]"))
        if report_dir:
            named = inputs is not None
            info = dict(corpus=str(inputs) if named else "(in memory)", corpus_name=inputs.name if named else None,
                        command=command, started=started,
                        finished=time.strftime("%Y-%m-%d %H:%M:%S %z"), heldout_sentences=len(held),
                        heldout_tokens=sum(map(len, held)), heldout=heldout, heldout_fraction=heldout_fraction,
                        train_sentences=train_sentences, train_tokens=train_tokens, insample=measures.describe(),
                        seeds=seed_list,
                        negatives=negatives, max_vocabs=max_vocabs, objectives=list(objectives), gensim=gensim,
                        models=[source for _, _, source in existing],
                        options=opts.as_dict(), runs_trained=trained, runs_kept=len(rows) - trained - len(existing),
                        bench_seconds=time.perf_counter() - t_bench)
            write_report(report_dir, json_rows(rows, config=True), info)
            log(f"report written to {report_dir}")
        return rows
