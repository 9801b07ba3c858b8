"""The bench's figures (PNG, matplotlib, the `plot` extra), drawn from summary.summarize's entries: means over
seeds with ± sd. Without matplotlib, has_matplotlib() says so and require_matplotlib() is a W2VError.

1 learning_curves: held-out NLL against cumulative training seconds (log scale), per objective.
2 nll_vs_k: held-out NLL against k for the sampling objectives, softmax (and hs) as horizontal references.
3 epoch_seconds_vs_vocab: seconds per training epoch against vocabulary size (log–log).
4 normalization: |mean log Z| per objective (0 = self-normalized scores).
5 word_vectors: analogy accuracy, WS353 and SimLex-999 Spearman ρ with error bars.
6 insample_curves: in-sample NLL (training pairs, see measures.py) against epochs, per objective.
"""
import os

import numpy as np

from ..core.errors import W2VError
from ..core.files import atomic_write
from .summary import config_label, samples_noise, summarize

COLORS = {"ns": "tab:blue", "nce": "tab:orange", "infonce": "tab:green", "softmax": "tab:red", "hs": "tab:purple",
          "gensim": "tab:gray"}
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
MODEL_COLOR = "tab:brown"  # existing models' bars (hatched)


# How to get matplotlib, in every message that misses it.
PLOT_EXTRA = "pip install 'w2v-nce[plot]'"


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def require_matplotlib(option="--plot"):
    if not has_matplotlib():
        raise W2VError(f"{option} needs matplotlib: {PLOT_EXTRA} (or pip install matplotlib)")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    plt = _pyplot()
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)


def _settings_text(summary, corpus):
    s = next((g["settings"] for g in summary if g.get("settings")), None) or {}
    arch = next((g["arch"] for g in summary if g.get("arch")), None)
    seeds = max((g["runs"] - g["failed"] for g in summary), default=0)
    parts = [os.path.basename(os.fspath(corpus))] if corpus else []
    parts.append({"sg": "skip-gram", "cbow": "CBOW"}.get(arch, str(arch)))
    if s:
        parts += [f"d={s.get('dim')}", f"window {s.get('window')}", f"{s.get('epochs')} epochs",
                  f"{s.get('workers')} workers"]
    parts.append(f"{seeds} seed{'s' if seeds != 1 else ''} (mean ± sd)" if seeds > 1 else "1 seed")
    return ", ".join(parts)


def _vocab_text(g):
    size = g["vocab_size"]
    if isinstance(size, int):
        return f"vocabulary {size:,}"
    return f"max vocabulary {g['max_vocab']}" if g["max_vocab"] else "full vocabulary"


def _mean(stat):
    return np.nan if stat is None or stat["mean"] is None else stat["mean"]


def _sd(stat):
    return 0.0 if stat is None or stat["sd"] is None else stat["sd"]


def _vocab_values(summary):
    return list(dict.fromkeys(g["max_vocab"] for g in summary))


def _k_values(summary):
    return sorted({g["negative"] for g in summary if g["negative"] is not None})


def _marker(summary, k):
    ks = _k_values(summary)
    return MARKERS[ks.index(k) % len(MARKERS)] if k in ks else "o"


def _trained(summary):
    """The entries of trained configurations: the figures of training (time, k, epoch cost) leave out existing
    models, which appear in the figures of normalization and word vectors."""
    return [g for g in summary if g.get("trained", True)] or summary


def learning_curves(summary, path, corpus=None):
    """Held-out NLL after each epoch against cumulative training seconds (log scale), one line per objective
    with a ± sd band over seeds; one panel per k (objectives without k in every panel) and vocabulary size."""
    _curve_panels(summary, path, corpus, "heldout_nll", by_time=True,
                  x_label="cumulative training time (s, log scale; evaluation not counted)",
                  y_label="held-out NLL (nats per pair)",
                  title="Held-out NLL after each epoch against training time")


def insample_curves(summary, path, corpus=None):
    """In-sample NLL (the exact NLL on the fixed sample of training pairs, drawn as training draws them) after
    each epoch, one line per objective with a ± sd band over seeds; panels as in learning_curves."""
    _curve_panels(summary, path, corpus, "insample_nll", by_time=False, x_label="epoch",
                  y_label="in-sample NLL (nats per training pair)",
                  title="In-sample NLL (training pairs) after each epoch")


def _curve_panels(summary, path, corpus, key, by_time, x_label, y_label, title):
    """A learning-curve figure: the curve value `key` against training seconds (by_time, log scale) or epochs,
    one line per objective with a ± sd band; one panel per k (objectives without k in every panel) and
    vocabulary size."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    summary = _trained(summary)
    vocabs, ks = _vocab_values(summary), _k_values(summary) or [None]
    fig, axes = plt.subplots(len(vocabs), len(ks), figsize=(5.2 * len(ks) + 1.0, 4.2 * len(vocabs)),
                             squeeze=False, sharey="row")
    for i, v in enumerate(vocabs):
        for j, k in enumerate(ks):
            ax = axes[i][j]
            for g in summary:
                if g["max_vocab"] != v or (g["negative"] is not None and g["negative"] != k):
                    continue
                color = COLORS.get(g["objective"])
                x, y, sd = _curve_points(g, key, by_time)
                ax.plot(x, y, marker="o", ms=4, color=color, label=config_label(g["objective"], g["negative"]))
                ax.fill_between(x, y - sd, y + sd, color=color, alpha=0.2, linewidth=0)
            if by_time:
                ax.set_xscale("log")
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel(x_label)
            if j == 0:
                ax.set_ylabel(y_label)
            where = [f"k = {k}" if k is not None else None, _vocab_text(next(g for g in summary
                                                                          if g["max_vocab"] == v))]
            ax.set_title(", ".join(w for w in where if w), fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle(f"{title} — {_settings_text(summary, corpus)}", fontsize=11)
    _save(fig, path)


def _curve_points(g, key, by_time):
    """(x, mean, sd) of a summary entry's curve value `key`, x its training seconds (by_time) or epochs; without
    a recorded curve, the final value only (at the run's training time or last epoch)."""
    if g["curve"]:
        x = [_mean(p["train_seconds"]) if by_time else p["epoch"] for p in g["curve"]]
        points = [p.get(key) for p in g["curve"]]
    else:
        x = [_mean(g["metrics"]["train_seconds"]) if by_time else (g.get("settings") or {}).get("epochs")]
        points = [g["metrics"].get(key)]
    return (np.array(x, dtype=float), np.array([_mean(p) for p in points]), np.array([_sd(p) for p in points]))


def _nll_vs_k_panel(ax, groups, objectives):
    """Held-out NLL against k of the given sampling objectives, softmax and hs as horizontal references."""
    ks = sorted({g["negative"] for g in groups if g["negative"] is not None})
    for objective in objectives:
        line = sorted((g for g in groups if g["objective"] == objective), key=lambda g: g["negative"])
        if line:
            ax.errorbar([g["negative"] for g in line], [_mean(g["metrics"]["heldout_nll"]) for g in line],
                        yerr=[_sd(g["metrics"]["heldout_nll"]) for g in line], marker="o", capsize=4,
                        color=COLORS[objective], label=objective)
    for objective, style in (("softmax", "-"), ("hs", "--")):
        for g in (g for g in groups if g["objective"] == objective):
            m, sd = _mean(g["metrics"]["heldout_nll"]), _sd(g["metrics"]["heldout_nll"])
            ax.axhline(m, color=COLORS[objective], linestyle=style, label=f"{objective} (exact, no k)")
            if sd:
                ax.axhspan(m - sd, m + sd, color=COLORS[objective], alpha=0.15, linewidth=0)
    if ks:
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
    ax.set_xlabel("k, noise samples per example (log scale)")
    ax.set_ylabel("held-out NLL (nats per pair)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def nll_vs_k(summary, path, corpus=None):
    """Held-out NLL against k for nce, infonce and ns (± sd error bars), softmax (and hs) as horizontal lines.

    ns's NLL is usually far above the others' (its scores are not normalized), which would flatten their
    differences: when ns is present, a second panel per vocabulary size shows the others alone."""
    plt = _pyplot()
    summary = _trained(summary)
    vocabs = _vocab_values(summary)
    zoom = any(g["objective"] == "ns" for g in summary) and \
        any(g["objective"] in ("nce", "infonce", "softmax", "hs") for g in summary)
    cols = 2 if zoom else 1
    fig, axes = plt.subplots(len(vocabs), cols, figsize=(6.5 * cols, 4.6 * len(vocabs)), squeeze=False)
    for row, v in zip(axes, vocabs):
        groups = [g for g in summary if g["max_vocab"] == v]
        _nll_vs_k_panel(row[0], groups, ("nce", "infonce", "ns"))
        row[0].set_title(_vocab_text(groups[0]), fontsize=10)
        if zoom:
            _nll_vs_k_panel(row[1], groups, ("nce", "infonce"))
            row[1].set_title(f"{_vocab_text(groups[0])}: without ns (zoomed)", fontsize=10)
    fig.suptitle(f"Held-out NLL against k — {_settings_text(summary, corpus)}", fontsize=11)
    _save(fig, path)


def epoch_seconds_vs_vocab(summary, path, corpus=None):
    """Seconds per training epoch against vocabulary size, one line per objective (and k), log–log."""
    plt = _pyplot()
    summary = _trained(summary)
    fig, ax = plt.subplots(figsize=(7.5, 5.0))
    lines = {}
    for g in summary:
        if isinstance(g["vocab_size"], int):
            lines.setdefault((g["objective"], g["negative"]), []).append(g)
    for i, ((objective, k), groups) in enumerate(lines.items()):
        groups.sort(key=lambda g: g["vocab_size"])
        dodge = 1.04 ** (i - (len(lines) - 1) / 2)  # series side by side around each size (log axis)
        ax.errorbar([g["vocab_size"] * dodge for g in groups],
                    [_mean(g["metrics"]["seconds_per_epoch"]) for g in groups],
                    yerr=[_sd(g["metrics"]["seconds_per_epoch"]) for g in groups], marker=_marker(summary, k),
                    capsize=3, color=COLORS.get(objective), linestyle="-" if samples_noise(objective) else "--",
                    label=config_label(objective, k))
    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes = sorted({g["vocab_size"] for g in summary if isinstance(g["vocab_size"], int)})
    if sizes:
        ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
        ax.minorticks_off()
        if len(sizes) == 1:
            ax.set_xlim(sizes[0] / 2, sizes[0] * 2)
    ax.set_xlabel("vocabulary size (words, log scale)")
    ax.set_ylabel("training seconds per epoch (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(f"Cost of an epoch against vocabulary size\n{_settings_text(summary, corpus)}", fontsize=10)
    _save(fig, path)


def _bars(ax, summary, metric, scale=1.0, annotate="{:.3f}"):
    """Bars of a metric's mean per configuration with ± sd error bars and the value on top (none if missing)."""
    many_vocabs = len(_vocab_values(summary)) > 1
    x = np.arange(len(summary))
    means = np.array([_mean(g["metrics"][metric]) for g in summary]) * scale
    sds = np.array([_sd(g["metrics"][metric]) for g in summary]) * scale
    bars = ax.bar(x, np.nan_to_num(means), yerr=sds, capsize=3,
                  color=[COLORS.get(g["objective"], MODEL_COLOR) for g in summary], error_kw=dict(lw=1))
    for bar, g in zip(bars, summary):
        if not g.get("trained", True):
            bar.set_hatch("//")
    labels = [config_label(g["objective"], g["negative"]) + (f"\n{_vocab_text(g)}" if many_vocabs else "")
              for g in summary]
    ax.set_xticks(x, labels, rotation=45 if len(summary) > 6 else 0, ha="right" if len(summary) > 6 else "center",
                  fontsize=8)
    for xi, m, sd in zip(x, means, sds):
        ax.annotate("n/a" if np.isnan(m) else annotate.format(m), (xi, 0 if np.isnan(m) else max(m + sd, 0)),
                    textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7)
    ax.axhline(0, color="black", lw=0.6)
    ax.grid(True, axis="y", alpha=0.3)


def normalization(summary, path, corpus=None):
    """|mean log Z| per configuration, mean over seeds with ± sd error bars: how far exp(score) is from a
    normalized distribution on held-out contexts (0 for hs by construction; nce is trained towards 0)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(summary) + 2.0), 4.8))
    _bars(ax, summary, "abs_log_z_mean")
    ax.set_ylabel("|mean log Z(c)| over held-out contexts (nats)")
    ax.set_title(f"Self-normalization: |mean log Z| (0 = scores are log-probabilities as they are)\n"
                 f"{_settings_text(summary, corpus)}", fontsize=10)
    _save(fig, path)


def word_vectors(summary, path, corpus=None):
    """Analogy accuracy (%), WS353 and SimLex-999 Spearman ρ per configuration, with ± sd error bars."""
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(max(7.0, 0.55 * len(summary) + 3.0), 11.0), sharex=True)
    for ax, (metric, scale, title, label, fmt) in zip(axes, [
            ("analogy_accuracy", 100.0, "Analogies (questions-words)", "accuracy (%)", "{:.1f}"),
            ("ws353_spearman", 1.0, "WordSim-353", "Spearman ρ", "{:.3f}"),
            ("simlex_spearman", 1.0, "SimLex-999", "Spearman ρ", "{:.3f}")]):
        _bars(ax, summary, metric, scale, fmt)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(label)
    fig.suptitle(f"Word-vector benchmarks — {_settings_text(summary, corpus)}", fontsize=11)
    _save(fig, path)


FIGURES = [("fig1_heldout_nll_vs_time.png", learning_curves), ("fig2_heldout_nll_vs_k.png", nll_vs_k),
           ("fig3_epoch_seconds_vs_vocab.png", epoch_seconds_vs_vocab), ("fig4_log_z.png", normalization),
           ("fig5_word_vectors.png", word_vectors), ("fig6_insample_nll_vs_epoch.png", insample_curves)]


def write_figures(summary, directory, corpus=None):
    """All six figures into `directory`; returns their file names."""
    for name, draw in FIGURES:
        draw(summary, os.path.join(directory, name), corpus)
    return [name for name, _ in FIGURES]


def plot(rows, path, corpus=None):
    """The main figure of run rows: held-out NLL against cumulative training seconds per objective
    (learning_curves)."""
    require_matplotlib()
    learning_curves(summarize(rows), path, corpus)
