"""The bench report directory: runs.json (every run, kept as runs finish), summary.json (per objective × k ×
vocabulary size: mean, sd and n of every metric), report.md (summary tables, settings, corpus, date, command
line) and the six figures."""
import json
import os

from ..core.files import write_bytes
from .figures import PLOT_EXTRA, has_matplotlib, write_figures
from .summary import DERIVED, METRICS, model_note, summarize, table_cells

CAPTIONS = {
    "fig1_heldout_nll_vs_time.png": "Held-out NLL after each epoch against cumulative training seconds (log "
                                    "scale), mean over seeds with a ± sd band.",
    "fig2_heldout_nll_vs_k.png": "Held-out NLL against k for the sampling objectives (± sd error bars); softmax "
                                 "(and hs) as horizontal references.",
    "fig3_epoch_seconds_vs_vocab.png": "Training seconds per epoch against vocabulary size (log–log).",
    "fig4_log_z.png": "|mean log Z| over held-out contexts: 0 means exp(score) is already a probability.",
    "fig5_word_vectors.png": "Analogy accuracy, WS353 and SimLex-999 Spearman ρ (± sd error bars).",
    "fig6_insample_nll_vs_epoch.png": "In-sample NLL after each epoch: the exact NLL on a fixed sample of training "
                                      "pairs, drawn as training draws them (the likelihood each objective trains "
                                      "on), mean over seeds with a ± sd band; compare with figure 1's held-out "
                                      "NLL.",
}

GLOSSARY = """\
- *heldout NLL*: nats per held-out (context, target) pair with exact normalization, log Σ_w' exp s(w',c) − s(w,c);
  *perplexity* = exp(heldout NLL).
- *insample NLL*: the same exact NLL on a fixed sample of training pairs (the in-sample sentences above, their
  pairs drawn as training draws them: subsampled, shrunk windows, one seed for every run). It weights the pairs
  as training does (frequent words subsampled, near pairs more often), so it can lie above the held-out NLL,
  which weights every pair of the full window; how the two move over the epochs is what compares. *n/a* for
  existing models (not trained on this corpus).
- *selfnorm NLL*: −s(w,c), the NLL if exp s is taken as a probability without normalizing.
- *log Z mean / std*: mean and standard deviation of log Σ_w exp s(w,c) over the held-out pairs' contexts.
- *train s*: training seconds (epochs only; the per-epoch evaluation is not counted); *words/s*: raw
  corpus words per training second.
- *MI bound*: infonce only, log(k+1) − final training loss (nats).
- *model:NAME*: an existing model given to the bench, evaluated without training (*n/a* for train s, words/s
  and train loss).
- Each cell is the mean ± sample standard deviation over the runs (seeds); a single run shows its value.
"""


def markdown_tables(summary):
    """One markdown table per vocabulary size."""
    header, lines = table_cells(summary)
    out = []
    for max_vocab in dict.fromkeys(g["max_vocab"] for g in summary):
        rows = [line for g, line in zip(summary, lines) if g["max_vocab"] == max_vocab]
        size = next(g["vocab_size"] for g in summary if g["max_vocab"] == max_vocab)
        title = f"vocabulary {size:,} words" if isinstance(size, int) else "vocabulary"
        if max_vocab is not None:
            title += f" (--max-vocab {max_vocab})"
        if not any(g.get("trained", True) for g in summary if g["max_vocab"] == max_vocab):
            title = "existing models (each with its own vocabulary)"
        out.append(f"### {title}\n")
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        out.extend("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in rows)
        out.append("")
    return "\n".join(out)


def _settings_lines(info, summary):
    o = info["options"]
    arch = {"sg": "skip-gram", "cbow": "CBOW"}.get(o["arch"], o["arch"])
    held = (f"the file {info['heldout']}" if info["heldout"] else
            f"the last {info['heldout_fraction']:.1%} of the corpus's sentences (never trained on)")
    ks = ", ".join(map(str, info["negatives"]))
    vocabs = ", ".join("all words" if v is None else str(v) for v in info["max_vocabs"])
    objectives = ", ".join(info["objectives"] + (["gensim (Word2Vec, negative sampling)"] if info["gensim"] else []))
    return [
        f"- Command: `{info['command']}`" if info.get("command") else None,
        f"- Date: started {info['started']}, finished {info['finished']}",
        f"- Corpus: {info['corpus']}: training on {info['train_sentences']:,} sentences "
        f"({info['train_tokens']:,} tokens); held out {info['heldout_sentences']:,} sentences "
        f"({info['heldout_tokens']:,} tokens): {held}",
        f"- In-sample pairs: {info['insample']}" if info.get("insample") else None,
        f"- Objectives: {objectives}",
        f"- Existing models (not trained here, evaluated on the same held-out sentences; held-out words outside "
        f"a model's vocabulary are skipped and counted): {', '.join(info['models'])}" if info.get("models") else None,
        f"- Sweep: k ∈ {{{ks}}} (sampling objectives and gensim; softmax and hs once per vocabulary size); "
        f"max vocabulary ∈ {{{vocabs}}}; seeds {', '.join(map(str, info['seeds']))}",
        f"- Training: {arch}, dim {o['dim']}, window {o['window']}"
        f"{' (fixed)' if o['fixed_window'] else ' (random shrinking)'}, sample {o['sample']:g}, "
        f"min count {o['min_count']}, {o['epochs']} epochs, alpha {_alpha(o, summary)} → {o['min_alpha']:g}, "
        f"noise Q ∝ count^{o['noise_exponent']:g}, {o['workers']} workers, output bias: each objective's default, "
        f"{'shared' if o['shared_negatives'] else 'per-example'} negatives, {_windows(o.get('window_batch'))}"
        f"{', lowercased' if o['lowercase'] else ''}",
        f"- Runs: {info['runs_trained']} trained by this command, {info['runs_kept']} kept from earlier "
        f"(runs.json); the bench took {info['bench_seconds']:.0f} s",
    ]


def _windows(window_batch):
    """How the examples were trained (options.window_batch as the bench was given it)."""
    if window_batch is None:
        return ("minibatches as each objective's default has them (ns, nce, infonce: a skip-gram window, 2 CBOW "
                "windows; hs: examples one at a time)")
    return "windows as minibatches" if window_batch else "examples one at a time"


def write_report(directory, rows, info):
    """summary.json, report.md and the figures into `directory` (runs.json is kept by runs.RunStore)."""
    summary = summarize(rows)
    write_bytes(os.path.join(directory, "summary.json"), json.dumps(summary, indent=1).encode("utf-8"))
    if has_matplotlib():
        figures = write_figures(summary, directory, info.get("corpus_name") or info.get("corpus"))
    else:
        figures = None
    failures = [f"- {r['objective']} k={r.get('negative')} max_vocab={r.get('max_vocab')} seed {r.get('seed')}: "
                f"{r['error']}" for r in rows if "error" in r]
    notes = [f"- {note}" for note in map(model_note, rows) if note]
    text = ["# w2v-nce bench report", ""]
    text += [line for line in _settings_lines(info, summary) if line]
    text += ["", "## Summary (mean ± sd over seeds)", "", markdown_tables(summary)]
    if notes:
        text += ["## Existing models", ""] + notes + [""]
    if failures:
        text += ["## Failed runs", ""] + failures + [""]
    text += ["## Figures", ""]
    if figures is None:
        text += [f"Not drawn: the figures need matplotlib ({PLOT_EXTRA}); run the same command again with it "
                 f"installed to draw them from the finished runs.", ""]
    for i, name in enumerate(figures or [], 1):
        text += [f"![Figure {i}]({name})", "", f"Figure {i}. {CAPTIONS[name]}", ""]
    text += ["## Columns", "", GLOSSARY,
             f"summary.json holds, per objective × k × vocabulary size, the mean, sd and n of "
             f"{', '.join(METRICS + DERIVED)} and of the learning curve per epoch; runs.json holds every run.", ""]
    write_bytes(os.path.join(directory, "report.md"), "\n".join(text).encode("utf-8"))


def _alpha(o, summary):
    """The bench's initial learning rate: the one given, or each objective's default, as its runs trained at it
    (gensim at negative sampling's)."""
    if o.get("alpha") is not None:
        return f"{o['alpha']:g}"
    rates = {}  # rate → objectives
    for g in summary:
        rate = (g.get("settings") or {}).get("alpha")
        if rate is not None and g["objective"] not in rates.setdefault(rate, []):
            rates[rate].append(g["objective"])
    if not rates:
        return "each objective's default"
    common = max(rates, key=lambda rate: len(rates[rate]))
    others = ", ".join(f"{'/'.join(names)} {rate:g}" for rate, names in rates.items() if rate != common)
    return f"{common:g} ({others + ': ' if others else ''}each objective's default)"
