"""What a bench's runs come to: their rows in JSON (the documented keys), and per configuration the mean, sd and
n over seeds of every metric, as entries (summarize) and as a text table."""
import math

from ..objectives import OBJECTIVES

METRICS = ["train_seconds", "words_per_second", "train_loss", "heldout_nll", "insample_nll", "heldout_perplexity",
           "selfnorm_nll", "log_z_mean", "log_z_std", "analogy_accuracy", "ws353_spearman", "simlex_spearman",
           "mi_lower_bound"]
CURVE_KEYS = ["epoch", "train_seconds", "heldout_nll", "insample_nll", "selfnorm_nll", "log_z_mean"]
# the keys of a run row in JSON, in order (plus "error" on a failed run)
ROW_KEYS = ["objective", "arch", "vocab_size", "settings"] + METRICS + ["insample_pairs", "seed", "negative",
                                                                       "max_vocab", "curve", "epoch_losses"]
# the keys a row of an existing model (bench/existing.py) adds; its objective is "model:<name>"
MODEL_KEYS = ["trained", "model", "heldout_tokens", "heldout_oov_tokens", "heldout_pairs"]
MODEL_PREFIX = "model:"


def is_model_row(row):
    """Whether a row (or a summary entry) is of an existing model, evaluated without training."""
    return row.get("trained") is False or str(row.get("objective", "")).startswith(MODEL_PREFIX)


def samples_noise(objective):
    """Whether k (noise words per example) applies: the sampling objectives and gensim's negative sampling."""
    return objective == "gensim" or (objective in OBJECTIVES and OBJECTIVES[objective].samples_noise)


def json_rows(rows, config=False):
    """Rows with the documented keys (ROW_KEYS, plus "error" on a failed row, MODEL_KEYS on a row of an
    existing model, and "config" if asked for); non-finite numbers become null."""
    keys = ROW_KEYS + (["config"] if config else [])
    out = []
    for r in rows:
        d = {k: r.get(k) for k in keys}
        for k in METRICS:
            if isinstance(d[k], float) and not math.isfinite(d[k]):
                d[k] = None
        d["curve"] = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in p.items()}
                      for p in (d["curve"] or [])]
        d.update({k: r.get(k) for k in MODEL_KEYS if is_model_row(r)})
        if "error" in r:
            d["error"] = r["error"]
        out.append(d)
    return out


# Derived per-run figures, summarized with the metrics: seconds per training epoch, and |mean log Z| (how far
# the scores are from self-normalized).
DERIVED = ["seconds_per_epoch", "abs_log_z_mean"]


def _derived(row):
    epochs = (row.get("settings") or {}).get("epochs")
    t, z = row.get("train_seconds"), row.get("log_z_mean")
    return dict(seconds_per_epoch=t / epochs if t is not None and epochs else None,
                abs_log_z_mean=abs(z) if z is not None else None)


def mean_sd(values):
    """Mean, sample standard deviation (n − 1 in the denominator; None below two values) and count of the
    finite values among `values` (None and NaN are left out)."""
    x = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(x)
    if n == 0:
        return dict(mean=None, sd=None, n=0)
    mean = sum(x) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1)) if n > 1 else None
    return dict(mean=mean, sd=sd, n=n)


def config_label(objective, negative=None):
    return objective + (f" k={negative}" if negative is not None else "")


def summarize(rows):
    """One entry per configuration (objective × k × max_vocab, in order of first appearance): the mean, sd and
    n over its runs (seeds) of every metric (METRICS and DERIVED), and its mean learning curve per epoch
    (mean, sd and n of each curve value over the runs); "settings" are its first run's.

    Failed runs count in "failed" and nowhere else.
    """
    groups = {}
    for r in rows:
        groups.setdefault((r["objective"], r.get("negative"), r.get("max_vocab")), []).append(r)
    out = []
    for (objective, negative, max_vocab), runs in groups.items():
        ok = [r for r in runs if "error" not in r]
        derived = [_derived(r) for r in ok]
        metrics = {m: mean_sd([r.get(m) for r in ok]) for m in METRICS}
        metrics.update({m: mean_sd([d[m] for d in derived]) for m in DERIVED})
        epochs = sorted({p["epoch"] for r in ok for p in (r.get("curve") or [])})
        curve = []
        for e in epochs:
            points = [p for r in ok for p in (r.get("curve") or []) if p["epoch"] == e]
            curve.append(dict(epoch=e, **{k: mean_sd([p.get(k) for p in points]) for k in CURVE_KEYS[1:]}))
        sizes = sorted({r["vocab_size"] for r in ok if r.get("vocab_size") is not None})
        out.append(dict(objective=objective, negative=negative, max_vocab=max_vocab, arch=runs[0].get("arch"),
                        trained=not is_model_row(runs[0]),
                        settings=(ok or runs)[0].get("settings"),
                        vocab_size=sizes[0] if len(sizes) == 1 else (sizes or None), runs=len(runs),
                        failed=len(runs) - len(ok), seeds=[r.get("seed") for r in ok],
                        metrics=metrics, curve=curve))
    return out


# (column title, metric, format of the mean and of the sd)
TABLE_COLUMNS = [("train s", "train_seconds", "{:.1f}"), ("words/s", "words_per_second", "{:,.0f}"),
                 ("train loss", "train_loss", "{:.4f}"), ("heldout NLL", "heldout_nll", "{:.4f}"),
                 ("insample NLL", "insample_nll", "{:.4f}"), ("perplexity", "heldout_perplexity", "{:.1f}"),
                 ("selfnorm NLL", "selfnorm_nll", "{:.4f}"),
                 ("log Z mean", "log_z_mean", "{:.3f}"), ("log Z std", "log_z_std", "{:.3f}"),
                 ("analogy", "analogy_accuracy", "{:.2%}"), ("WS353", "ws353_spearman", "{:.3f}"),
                 ("SimLex", "simlex_spearman", "{:.3f}"), ("MI bound", "mi_lower_bound", "{:.3f}")]


# the columns that do not apply to an existing model's row (nothing trained, so no training pairs either): "n/a"
UNTRAINED = ("train_seconds", "words_per_second", "train_loss", "insample_nll")


def _cell(stat, fmt):
    if stat["mean"] is None:
        return "-"
    text = fmt.format(stat["mean"])
    if stat["sd"] is not None:
        text += " ± " + fmt.format(stat["sd"])
    return text


def table_cells(summary):
    """Header and one line of text cells per configuration: mean ± sd (just the value for a single run)."""
    header = ["objective", "k", "vocab", "runs"] + [title for title, _, _ in TABLE_COLUMNS]
    lines = []
    for g in summary:
        size = g["vocab_size"]
        size = "-" if size is None else (f"{size:,}" if isinstance(size, int) else "/".join(map(str, size)))
        runs = f"{g['runs'] - g['failed']}" + (f" ({g['failed']} failed)" if g["failed"] else "")
        lines.append([g["objective"], "-" if g["negative"] is None else str(g["negative"]), size, runs] +
                     [("n/a" if key in UNTRAINED and not g.get("trained", True) else _cell(g["metrics"][key], fmt))
                      for _, key, fmt in TABLE_COLUMNS])
    return header, lines


def format_table(rows):
    """The summary of the run rows as an aligned text table (mean ± sd over seeds), then any failures."""
    header, lines = table_cells(summarize(rows))
    cells = [header] + lines
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
            for line in cells]
    for r in rows:
        if "error" in r:
            seed = f" seed {r['seed']}" if r.get("seed") is not None else ""
            text.append(f"{config_label(r['objective'], r.get('negative'))}{seed}: {r['error']}")
    text += [note for note in map(model_note, rows) if note]
    return "\n".join(text)


def model_note(row):
    """One line on an existing model's row: not trained here, and what of the held-out text it skipped."""
    if "error" in row or not is_model_row(row):
        return None
    tokens, oov = row.get("heldout_tokens") or 0, row.get("heldout_oov_tokens") or 0
    share = f" ({oov / tokens:.1%})" if tokens else ""
    return (f"{row['objective']}: an existing model, not trained here (no training time); {oov:,} of "
            f"{tokens:,} held-out tokens{share} outside its vocabulary of {row.get('vocab_size') or 0:,} words "
            f"skipped, {row.get('heldout_pairs') or 0:,} held-out pairs scored")
