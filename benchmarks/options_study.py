"""Training options compared on one corpus, configurations alternating within every seed: held-out likelihood,
normalization and word-vector quality, medians over seeds.

    python benchmarks/options_study.py --corpus PATH --seeds 3 --epochs 3,5 --json runs.jsonl \
        --configs sg-ns,sg-ns:alpha=0.04:min_alpha=0.004,cbow-nce:bias_init=zero,sg-softmax:max_vocab=2000
    python benchmarks/options_study.py --summarize runs.jsonl,more.jsonl     # the table of finished runs

A configuration is ARCH-OBJECTIVE followed by any training options as :name=value (alpha, min_alpha,
bias_init, shared_negatives=0/1, max_vocab, negative, ...); options not given keep w2v-nce's defaults.
Every configuration runs once per seed and per --epochs value; seeds are outermost, so the runs of one seed
are close in time and an interrupted study has every configuration once before any twice. The last
--heldout-fraction of the corpus's sentences is held out (as `w2v-nce bench` does) and the held-out metrics
are bench's: exact NLL per pair, self-normalized NLL (−s) and mean log Z. Word vectors: analogy
(questions-words, restrict_vocab 30000), WS353 and SimLex-999 Spearman, by gensim's evaluators.
"""
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
import warnings

import common

COLUMNS = [("analogy_accuracy", "analogy", 100.0, "{:>8.2f}"), ("ws353_spearman", "WS353", 1.0, "{:>8.3f}"),
           ("simlex_spearman", "SimLex", 1.0, "{:>8.3f}"), ("heldout_nll", "NLL", 1.0, "{:>8.3f}"),
           ("selfnorm_nll", "selfNLL", 1.0, "{:>8.3f}"), ("log_z_mean", "logZ", 1.0, "{:>8.3f}"),
           ("train_seconds", "train s", 1.0, "{:>8.1f}")]


def parse_config(text):
    """"sg-ns:alpha=0.04:bias_init=zero" → (label, arch, objective, {option: value}) with values typed after
    TrainOptions' fields."""
    from w2v_nce.training.options import TrainOptions

    name, *pairs = text.split(":")
    arch, objective = name.split("-", 1)
    types = {f.name: f.type for f in dataclasses.fields(TrainOptions)}
    overrides = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        kind = types.get(key)
        if kind is None:
            raise SystemExit(f"unknown training option {key!r} in {text!r}")
        kind = str(kind)
        if "bool" in kind:
            overrides[key] = value.lower() in ("1", "true", "yes")
        elif "int" in kind:
            overrides[key] = int(value)
        elif "float" in kind:
            overrides[key] = float(value)
        else:
            overrides[key] = value
    return text, arch, objective, overrides


def median(rows, key, scale=1.0):
    values = [r[key] for r in rows if r.get(key) is not None]
    return scale * statistics.median(values) if values else None


def main(argv=None):
    p = common.parser(__doc__, json_help="append every run here (one JSON object per line)")
    p.add_argument("--configs", help="required unless --summarize")
    p.add_argument("--epochs", default="5", help="comma-separated: every configuration runs at each")
    p.add_argument("--seeds", type=int, default=3, help="seeds 1..N (--first-seed to shift)")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--heldout-fraction", type=float, default=0.01)
    p.add_argument("--skip", default="", help="heldout and/or vectors: metrics not to compute (comma-separated)")
    p.add_argument("--summarize", help="no training: print the table of the runs in these --json files "
                                       "(comma-separated)")
    s = p.parse_args(argv)
    if s.summarize:
        results = {}
        for path in s.summarize.split(","):
            with open(path) as f:
                for line in f:
                    row = json.loads(line)
                    results.setdefault((row["config"], row["epochs"]), []).append(row)
        print_table(results)
        return
    if not s.configs:
        p.error("--configs is required")
    import w2v_nce
    from w2v_nce.bench.runs import SETTINGS, split_corpus
    from w2v_nce.model.evaluation import heldout_metrics, word_vector_metrics
    from w2v_nce.training.options import TrainOptions

    warnings.simplefilter("ignore")
    configs = [parse_config(c) for c in s.configs.split(",")]
    epochs = [int(e) for e in s.epochs.split(",")]
    print(f"corpus {s.corpus}; epochs {epochs}; seeds {s.first_seed}..{s.first_seed + s.seeds - 1}; "
          f"workers {s.workers}; command: {' '.join(sys.argv)}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="w2v-study-") as tmp:
        train_path = os.path.join(tmp, "train.txt")
        heldout = split_corpus(s.corpus, train_path, s.heldout_fraction)
        for seed in range(s.first_seed, s.first_seed + s.seeds):
            for e in epochs:
                for label, arch, objective, overrides in configs:
                    opts = TrainOptions(objective=objective, arch=arch, epochs=e, workers=s.workers, seed=seed,
                                        **overrides).resolved()
                    t0 = time.perf_counter()
                    model = w2v_nce.train(train_path, objective=objective, arch=arch,
                                          **{k: getattr(opts, k) for k in SETTINGS})
                    row = dict(train_seconds=model.stats["train_seconds"],
                               words_per_second=model.stats["words_per_second"])
                    if "heldout" not in s.skip:
                        row.update(heldout_metrics(model, heldout, arch, opts.window))
                    if "vectors" not in s.skip:
                        row.update(word_vector_metrics(model.to_keyedvectors()))
                    row.update(config=label, epochs=e, seed=seed, alpha=opts.alpha, min_alpha=opts.min_alpha,
                               wall_seconds=time.perf_counter() - t0)
                    results.setdefault((label, e), []).append(row)
                    print(json.dumps(common.rounded(row)), flush=True)
                    if s.json:
                        with open(s.json, "a") as f:
                            f.write(json.dumps(row) + "\n")
    print_table(results)


def print_table(results):
    """Medians over the seeds; |logZ| and selfNLL − NLL are the normalization columns."""
    print(f"\n{'configuration':<44}{'ep':>3}{'n':>3}" + "".join(f"{h:>8}" for _, h, _, _ in COLUMNS)
          + f"{'|logZ|':>8}{'sn−NLL':>8}")
    for (label, e), rows in results.items():
        cells = []
        for key, _, scale, fmt in COLUMNS:
            v = median(rows, key, scale)
            cells.append(f"{'—':>8}" if v is None else fmt.format(v))
        abs_z = median([dict(a=abs(r["log_z_mean"])) for r in rows if r.get("log_z_mean") is not None], "a")
        gap = median([dict(g=r["selfnorm_nll"] - r["heldout_nll"]) for r in rows
                      if r.get("heldout_nll") is not None], "g")
        extra = (f"{abs_z:>8.3f}" if abs_z is not None else f"{'—':>8}") + \
                (f"{gap:>8.3f}" if gap is not None else f"{'—':>8}")
        print(f"{label:<44}{e:>3}{len(rows):>3}" + "".join(cells) + extra)


if __name__ == "__main__":
    main()
