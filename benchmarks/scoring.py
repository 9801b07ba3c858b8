"""Scoring with a trained model, self-normalized against exact, on held-out text that was never trained on.

    python benchmarks/scoring.py [--corpus PATH] [--objectives nce,ns] [--heldout-fraction 0.01] [--reps 3]
        [--contexts 1000] [--work-dir DIR]

The corpus's last --heldout-fraction of lines are the held-out text, the other lines the training corpus. For
each objective: `w2v-nce train TRAIN --objective X --save-model X.npz -o X.txt` with the command line's defaults
otherwise, then `w2v-nce score X.npz HELDOUT --exact` and `--self-normalized` alternately, --reps times (each a
process of its own, as a user runs them), and in one process Model.score_text in both modes alternately after a
warm-up call (the scoring alone, without loading or compiling). Printed: the NLLs, their difference, the mean
log Z, the pairs/s of each mode and the median of the per-repetition ratios self / exact.

Then the sum of the self-normalized probabilities Σ_w exp s(w,c) over the whole vocabulary (what
`w2v-nce predict --self-normalized` would sum to), for --contexts held-out context words: evenly spaced tokens
of the held-out text that are in the vocabulary. Printed: mean, median, sd, 5th and 95th percentiles, and the
mean of |Σ − 1|.
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import warnings

import numpy as np

import common


def split_lines(corpus, fraction, train_path, heldout_path):
    """The last `fraction` of the corpus's lines to heldout_path, the others to train_path; (train, held-out)
    line counts."""
    held, n_train = common.split_heldout(corpus, fraction, train_path)
    with open(heldout_path, "w", encoding="utf-8") as f:
        f.writelines(held)
    return n_train, len(held)


def cli(*args, log=True):
    command = [sys.executable, "-m", "w2v_nce", *map(str, args)]
    if log:
        print("$ " + shlex.join(["w2v-nce", *map(str, args)]), flush=True)
    r = subprocess.run(command, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {shlex.join(command)}\n{r.stderr}")
    return r


def score_cli(model, heldout, mode, json_path, log):
    r = cli("score", model, heldout, f"--{mode}", "--json", json_path, log=log)
    if log:
        print(r.stdout, r.stderr, sep="", end="", flush=True)
    with open(json_path) as f:
        return json.load(f)


def score_in_process(model, heldout, reps):
    """Model.score_text, both modes alternately after a warm-up of each: {mode: [result, ...]}."""
    out = {"exact": [], "self": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mode in out:
            model.score_text(heldout, normalize=mode)
        for _ in range(reps):
            for mode in out:
                out[mode].append(model.score_text(heldout, normalize=mode))
    return out


def context_sums(model, heldout, n):
    """Σ_w exp s(w,c) over the vocabulary for n evenly spaced in-vocabulary tokens c of the held-out text."""
    from w2v_nce.model.inference import distribution

    with open(heldout, encoding="utf-8") as f:
        tokens = [t for line in f for t in line.split() if t in model.index]
    picks = np.linspace(0, len(tokens) - 1, num=min(n, len(tokens))).round().astype(int)
    return np.array([distribution(model, tokens[i], "self").sum() for i in picks])


def report_scores(name, runs, in_process):
    med = statistics.median
    ex, se = runs["exact"], runs["self"]
    ratio = med(s["pairs_per_second"] / e["pairs_per_second"] for e, s in zip(ex, se))
    print(f"\n{name}: {ex[0]['pairs']:,} held-out pairs, window {ex[0]['window']}")
    print(f"  exact NLL {ex[0]['nll']:.4f}, self-normalized NLL {se[0]['nll']:.4f} "
          f"(self − exact = {se[0]['nll'] - ex[0]['nll']:+.4f} nats); exact mean log Z {ex[0]['log_z_mean']:+.4f} "
          f"± {ex[0]['log_z_std']:.4f} sd; self-normalized result flagged normalized: {se[0]['normalized']}")
    print(f"  CLI, one process per score ({len(ex)} each): pairs/s exact median "
          f"{med(e['pairs_per_second'] for e in ex):,.0f}, self {med(s['pairs_per_second'] for s in se):,.0f}; "
          f"median ratio self/exact {ratio:,.1f}×")
    ex, se = in_process["exact"], in_process["self"]
    ratio = med(s["pairs_per_second"] / e["pairs_per_second"] for e, s in zip(ex, se))
    print(f"  in one process, warm ({len(ex)} each): pairs/s exact median "
          f"{med(e['pairs_per_second'] for e in ex):,.0f}, self {med(s['pairs_per_second'] for s in se):,.0f}; "
          f"median ratio self/exact {ratio:,.1f}×")


def main(argv=None):
    p = common.parser(__doc__, reps=3)
    p.add_argument("--objectives", default="nce,ns")
    p.add_argument("--heldout-fraction", type=float, default=0.01)
    p.add_argument("--contexts", type=int, default=1000)
    p.add_argument("--work-dir", default=None, help="Keep the split corpus and the models here.")
    a = p.parse_args(argv)
    if not a.corpus:
        sys.exit("no corpus: pass --corpus")
    from w2v_nce import Model

    work = a.work_dir or tempfile.mkdtemp(prefix="w2v-scoring-")
    os.makedirs(work, exist_ok=True)
    train, heldout = os.path.join(work, "train.txt"), os.path.join(work, "heldout.txt")
    n_train, n_held = split_lines(a.corpus, a.heldout_fraction, train, heldout)
    print(f"{a.corpus}: {n_train:,} lines to train on, the last {n_held:,} held out ({heldout})")
    for objective in a.objectives.split(","):
        model_path = os.path.join(work, f"{objective}.npz")
        r = cli("train", train, "--objective", objective, "--save-model", model_path,
                "-o", os.path.join(work, f"{objective}.txt"))
        print(r.stderr.strip().splitlines()[-1])
        runs = {"exact": [], "self": []}
        for rep in range(a.reps):
            for mode, flag in (("exact", "exact"), ("self", "self-normalized")):
                runs[mode].append(score_cli(model_path, heldout, flag, os.path.join(work, "score.json"),
                                            log=rep == 0))
        model = Model.load(model_path)
        report_scores(objective, runs, score_in_process(model, heldout, a.reps))
        sums = context_sums(model, heldout, a.contexts)
        print(f"  Σ_w exp s(w,c) over the {len(model):,}-word vocabulary, {len(sums):,} held-out contexts: mean "
              f"{sums.mean():.4f}, median {np.median(sums):.4f}, sd {sums.std():.4f}, 5–95% "
              f"{np.percentile(sums, 5):.4f}–{np.percentile(sums, 95):.4f}, mean |Σ − 1| "
              f"{np.abs(sums - 1).mean():.4f}\n", flush=True)


if __name__ == "__main__":
    main()
