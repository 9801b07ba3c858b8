"""`w2v-nce bench`: the objectives (and gensim) trained on one corpus with one vocabulary and compared on the
same held-out pairs: speed, training loss, held-out likelihood, self-normalization and word-vector quality."""
import math
import os
import shutil
import sys
import tempfile
import time
import traceback

import numpy as np

from .corpus import as_corpus
from .errors import W2VError
from .evaluation import heldout_metrics, word_vector_metrics
from .model import Model

METRICS = ["train_seconds", "words_per_second", "train_loss", "heldout_nll", "heldout_perplexity", "selfnorm_nll",
           "log_z_mean", "log_z_std", "analogy_accuracy", "ws353_spearman", "simlex_spearman", "mi_lower_bound"]
SETTINGS = ["dim", "window", "fixed_window", "negative", "sample", "min_count", "max_vocab", "epochs", "workers",
            "seed", "alpha", "min_alpha", "noise_exponent"]


def split_corpus(corpus, out_path, heldout_fraction=0.01, heldout=None, lowercase=False):
    """Write the training sentences to out_path (one per line) and return the held-out ones.

    Held out: the file `heldout`, or else the last `heldout_fraction` of the corpus's sentences, which are then
    left out of training.
    """
    sentences = as_corpus(corpus, lowercase=lowercase)
    if heldout is not None:
        held = list(as_corpus(heldout, lowercase=lowercase))
        n_train = None
    else:
        n = sum(1 for _ in sentences)
        n_held = int(round(n * heldout_fraction))
        if heldout_fraction > 0 and n_held == 0 and n > 1:
            n_held = 1
        if n_held >= n:
            raise W2VError(f"the corpus has {n} sentences: too few to hold out {heldout_fraction:.0%} and train")
        n_train = n - n_held
        held = []
    with open(out_path, "w", encoding="utf-8") as out:
        for i, sent in enumerate(sentences):
            if n_train is None or i < n_train:
                out.write(" ".join(sent) + "\n")
            else:
                held.append(sent)
    return held


def _row(objective, arch, vocab_size, settings):
    row = dict(objective=objective, arch=arch, vocab_size=vocab_size, settings=settings)
    row.update({k: None for k in METRICS})
    return row


def _evaluate(row, model, heldout, arch, window):
    row.update({k: v for k, v in heldout_metrics(model, heldout, arch, window).items() if k in METRICS})
    row.update(word_vector_metrics(model.to_keyedvectors()))


def run_objective(objective, train_path, heldout, opts, progress=True):
    import w2v_nce

    options = {k: getattr(opts, k) for k in SETTINGS}
    model = w2v_nce.train(train_path, objective=objective, arch=opts.arch, progress=progress, **options)
    row = _row(objective, opts.arch, len(model), {k: getattr(opts, k) for k in SETTINGS})
    row.update(train_seconds=model.stats["train_seconds"], words_per_second=model.stats["words_per_second"],
               train_loss=float(model.epoch_losses[-1]))
    if objective == "infonce":
        row["mi_lower_bound"] = model.stats["mi_lower_bound"][-1]
    row["epoch_losses"] = [float(x) for x in model.epoch_losses]
    _evaluate(row, model, heldout, opts.arch, opts.window)
    return row


def run_gensim(train_path, heldout, opts):
    """gensim Word2Vec with the same settings and vocabulary (corpus_file mode, negative sampling); likelihood
    metrics from its input and output (syn1neg) weights, which have no bias."""
    from gensim.models import Word2Vec

    from .vocab import Vocabulary

    vocab = Vocabulary.build(as_corpus(train_path), opts.min_count, opts.max_vocab)
    model = Word2Vec(sg=1 if opts.arch == "sg" else 0, vector_size=opts.dim, window=opts.window,
                     negative=opts.negative, hs=0, sample=opts.sample, min_count=1, epochs=opts.epochs,
                     workers=opts.workers, seed=opts.seed, alpha=opts.alpha, min_alpha=opts.min_alpha,
                     ns_exponent=opts.noise_exponent, shrink_windows=not opts.fixed_window)
    model.build_vocab_from_freq(dict(zip(vocab.words, vocab.counts.tolist())))
    model.train(corpus_file=train_path, total_words=vocab.raw_words, epochs=opts.epochs)
    wv = model.wv
    ours = Model(wv.index_to_key, [wv.get_vecattr(w, "count") for w in wv.index_to_key], wv.vectors,
                 model.syn1neg, None, options={"objective": "ns"})
    row = _row("gensim", opts.arch, len(ours), {k: getattr(opts, k) for k in SETTINGS})
    row.update(train_seconds=model.total_train_time,
               words_per_second=vocab.raw_words * opts.epochs / model.total_train_time)
    _evaluate(row, ours, heldout, opts.arch, opts.window)
    return row


def run_bench(corpus, objectives, opts, heldout_fraction=0.01, heldout=None, gensim=True, progress=True,
              log=None, tmp_dir=None):
    """Train each objective (and gensim) on the training part of `corpus` and evaluate it; returns the rows.

    A failure in one objective is recorded in its row (key "error") and the others still run.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    work = tempfile.mkdtemp(prefix="w2v-nce-bench-", dir=tmp_dir)
    try:
        train_path = os.path.join(work, "train.txt")
        held = split_corpus(corpus, train_path, heldout_fraction, heldout, opts.lowercase)
        log(f"held out {len(held):,} sentences ({sum(map(len, held)):,} tokens)")
        rows = []
        jobs = list(objectives) + (["gensim"] if gensim else [])
        for i, name in enumerate(jobs, 1):
            log(f"[{i}/{len(jobs)}] {name}")
            t0 = time.perf_counter()
            try:
                if name == "gensim":
                    row = run_gensim(train_path, held, opts)
                else:
                    row = run_objective(name, train_path, held, opts, progress)
            except Exception as e:  # reported in the row; the other objectives still run
                row = _row(name, opts.arch, None, {k: getattr(opts, k) for k in SETTINGS})
                row["error"] = f"{type(e).__name__}: {e}"
                log(f"[{i}/{len(jobs)}] {name} failed: {row['error']}")
                if os.environ.get("W2V_NCE_DEBUG"):
                    traceback.print_exc()
            log(f"[{i}/{len(jobs)}] {name} done in {time.perf_counter() - t0:.1f} s")
            rows.append(row)
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def json_rows(rows):
    """Rows with exactly the documented keys (plus "error" on a failed row); non-finite numbers become null."""
    keys = ["objective", "arch", "vocab_size", "settings"] + METRICS
    out = []
    for r in rows:
        d = {k: r.get(k) for k in keys}
        for k in METRICS:
            if isinstance(d[k], float) and not math.isfinite(d[k]):
                d[k] = None
        if "error" in r:
            d["error"] = r["error"]
        out.append(d)
    return out


def format_table(rows):
    cols = [("objective", "objective", "{}"), ("train s", "train_seconds", "{:.1f}"),
            ("words/s", "words_per_second", "{:,.0f}"), ("train loss", "train_loss", "{:.4f}"),
            ("heldout NLL", "heldout_nll", "{:.4f}"), ("perplexity", "heldout_perplexity", "{:.1f}"),
            ("selfnorm NLL", "selfnorm_nll", "{:.4f}"), ("log Z mean", "log_z_mean", "{:.3f}"),
            ("log Z std", "log_z_std", "{:.3f}"), ("analogy", "analogy_accuracy", "{:.2%}"),
            ("WS353", "ws353_spearman", "{:.3f}"), ("SimLex", "simlex_spearman", "{:.3f}"),
            ("MI bound", "mi_lower_bound", "{:.3f}")]
    cells = [[title for title, _, _ in cols]]
    for r in rows:
        line = []
        for _, key, fmt in cols:
            v = r.get(key)
            line.append("-" if v is None else fmt.format(v))
        cells.append(line)
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in cells]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['objective']}: {r['error']}")
    return "\n".join(lines)


def require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise W2VError("--plot needs matplotlib: pip install 'w2v-nce[plot]' (or pip install matplotlib)") from None


def plot(rows, path):
    """Held-out NLL and words/s per objective, and the learning curves (mean training loss per epoch)."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from .export import atomic_write

    ok = [r for r in rows if "error" not in r]
    names = [r["objective"] for r in ok]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    nll = [r["heldout_nll"] if r["heldout_nll"] is not None else np.nan for r in ok]
    selfnorm = [r["selfnorm_nll"] if r["selfnorm_nll"] is not None else np.nan for r in ok]
    x = np.arange(len(ok))
    axes[0].bar(x - 0.2, nll, 0.4, label="normalized (exact log Z)")
    axes[0].bar(x + 0.2, selfnorm, 0.4, label="self-normalized (−s)")
    axes[0].set_xticks(x, names)
    axes[0].set_ylabel("held-out NLL (nats per pair)")
    axes[0].legend()
    axes[1].bar(x, [r["words_per_second"] or 0 for r in ok], color="tab:green")
    axes[1].set_xticks(x, names)
    axes[1].set_ylabel("words / s")
    for r in ok:
        if r.get("epoch_losses"):
            axes[2].plot(range(1, len(r["epoch_losses"]) + 1), r["epoch_losses"], marker="o", label=r["objective"])
    axes[2].xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("mean training loss")
    axes[2].legend()
    settings = ok[0]["settings"] if ok else {}
    fig.suptitle(f"w2v-nce bench ({ok[0]['arch'] if ok else ''}, vocabulary {ok[0]['vocab_size'] if ok else '-'}, "
                 f"dim {settings.get('dim')}, {settings.get('epochs')} epochs)")
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)
