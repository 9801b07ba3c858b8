"""Training time of two or more source trees of w2v-nce, alternately, as the ratio to the first.

    python benchmarks/compare_trees.py --trees OLD,NEW [--reps 4] [--corpus PATH]
                                       [--options '{"arch": "sg", "objective": "ns", "epochs": 1, "workers": 1}']
                                       [--seeds 1,2,3,4,5] [--quality] [--variants '[{}, {"window_batch": false}]']

Each run is a fresh process that imports w2v_nce from its tree (a checkout or `git worktree`) and trains the
corpus with the given options (w2v_nce.train's keywords, seed 1 unless given); the training seconds of the
model's stats are compared. One untimed run per tree first fills its kernel cache. The order of the trees
alternates between repetitions. Printed: every run, then per tree the median seconds and the median [range] of
the per-repetition speed ratios against the first tree. --seeds: repetition i trains with the i-th seed (one
repetition per seed); --quality: every run's vectors are also evaluated (analogy, WS353, SimLex by gensim's
evaluators), and per tree the median [range] over the repetitions, with the paired differences to the first tree.
--variants: option sets added to --options; every tree trains with each of them (one tree and two variants compare
two settings of the same code), the first tree's first variant the reference.
"""
import json
import os
import statistics
import subprocess
import sys

import common

RUN = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
import w2v_nce
options = {"seed": 1, **json.loads(sys.argv[3])}
model = w2v_nce.train(sys.argv[2], **options)
if sys.argv[4]:
    sys.path.insert(0, sys.argv[4])
    import common
    quality = common.evaluate(model.to_keyedvectors())
else:
    quality = {}
print(json.dumps(dict(seconds=model.stats["train_seconds"], **quality)))
'''


def train_run(tree, corpus, options, quality=False):
    """{seconds: training seconds, and with quality: analogy, ws353, simlex} of one run in a fresh process."""
    out = subprocess.run([sys.executable, "-c", RUN, tree, corpus, json.dumps(options), common.HERE if quality else ""],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{tree}: training failed\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = common.parser(__doc__, reps=4)
    p.add_argument("--trees", required=True, help="comma-separated source trees; ratios are against the first")
    p.add_argument("--options", default='{"arch": "sg", "objective": "ns", "epochs": 1, "workers": 1}')
    p.add_argument("--seeds", help="comma-separated seeds, one repetition each (instead of --reps)")
    p.add_argument("--quality", action="store_true", help="evaluate every run's vectors too")
    p.add_argument("--variants", default="[{}]", help="JSON list of option sets, each added to --options")
    a = p.parse_args()
    options = json.loads(a.options)
    seeds = [int(x) for x in a.seeds.split(",")] if a.seeds else [options.get("seed", 1)] * a.reps
    variants = json.loads(a.variants)
    configs = {(f"{t} {json.dumps(v)}" if len(variants) > 1 else t): (t, v)
               for t in (os.path.abspath(t) for t in a.trees.split(",")) for v in variants}
    for tree, variant in configs.values():
        train_run(tree, a.corpus, dict(options, **variant, epochs=1))
    runs = {c: [] for c in configs}
    names = list(configs)
    for i, seed in enumerate(seeds):
        for c in names if i % 2 == 0 else names[::-1]:
            tree, variant = configs[c]
            runs[c].append(train_run(tree, a.corpus, dict(options, **variant, seed=seed), a.quality))
            print(f"  rep {i + 1} (seed {seed}) {c}: " + ", ".join(f"{k} {v:.4f}" for k, v in runs[c][-1].items()),
                  flush=True)
    first = runs[names[0]]
    for t in names:
        ratios = [b["seconds"] / x["seconds"] for b, x in zip(first, runs[t])]
        print(f"{t}: median {statistics.median(r['seconds'] for r in runs[t]):.3f} s, speed × first "
              f"{common.median_range(ratios, '.3f')}")
        for key in ("analogy", "ws353", "simlex") if a.quality else ():
            values = [r[key] for r in runs[t]]
            diffs = [x[key] - b[key] for b, x in zip(first, runs[t])]
            print(f"    {key} {common.median_range(values, '.4f')}, paired − first "
                  f"{common.median_range(diffs, '+.4f')}")


if __name__ == "__main__":
    main()
