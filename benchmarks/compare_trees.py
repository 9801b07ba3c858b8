"""Training time of two or more source trees of w2v-nce, alternately, as the ratio to the first.

    python benchmarks/compare_trees.py --trees OLD,NEW [--reps 4] [--corpus PATH]
                                       [--options '{"arch": "sg", "objective": "ns", "epochs": 1, "workers": 1}']

Each run is a fresh process that imports w2v_nce from its tree (a checkout or `git worktree`) and trains the
corpus with the given options (w2v_nce.train's keywords, seed 1 unless given); the training seconds of the
model's stats are compared. One untimed run per tree first fills its kernel cache. The order of the trees
alternates between repetitions. Printed: every run, then per tree the median seconds and the median [range] of
the per-repetition speed ratios against the first tree.
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
options = dict(seed=1, **json.loads(sys.argv[3]))
print(json.dumps(w2v_nce.train(sys.argv[2], **options).stats["train_seconds"]))
'''


def train_seconds(tree, corpus, options):
    out = subprocess.run([sys.executable, "-c", RUN, tree, corpus, json.dumps(options)], capture_output=True,
                         text=True)
    if out.returncode:
        raise SystemExit(f"{tree}: training failed\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main():
    p = common.parser(__doc__, reps=4)
    p.add_argument("--trees", required=True, help="comma-separated source trees; ratios are against the first")
    p.add_argument("--options", default='{"arch": "sg", "objective": "ns", "epochs": 1, "workers": 1}')
    a = p.parse_args()
    options = json.loads(a.options)
    trees = [os.path.abspath(t) for t in a.trees.split(",")]
    for t in trees:
        train_seconds(t, a.corpus, dict(options, epochs=1))
    seconds = {t: [] for t in trees}
    for i in range(a.reps):
        for t in trees if i % 2 == 0 else trees[::-1]:
            seconds[t].append(train_seconds(t, a.corpus, options))
            print(f"  rep {i + 1} {t}: {seconds[t][-1]:.3f} s", flush=True)
    first = seconds[trees[0]]
    for t in trees:
        ratios = [b / x for b, x in zip(first, seconds[t])]
        print(f"{t}: median {statistics.median(seconds[t]):.3f} s, speed × first "
              f"{common.median_range(ratios, '.3f')}")


if __name__ == "__main__":
    main()
