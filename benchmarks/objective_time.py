"""Training time of objectives against the first one at equal settings, in alternating fresh processes.

    python benchmarks/objective_time.py [--corpus PATH] [--objectives ns,infonce,nce] [--arch sg]
                                        [--epochs 3] [--workers 2] [--reps 4]

Each run is a fresh process that trains the corpus with one objective (w2v_nce.train, seed 1, k = 5, the other
settings the defaults) and reports the model's training seconds; one untimed run per objective first loads its
kernel from Numba's cache. Every repetition runs every objective once, the order reversed every other
repetition, so that the runs compared are close in time (a process trains in the machine's fast or slow mode for
its whole life). Printed: every run, then per objective the median seconds and the median [range] of the
per-repetition time ratios to the first objective.
"""
import json
import statistics
import subprocess
import sys

import common

RUN = r'''
import json, sys
import w2v_nce
options = json.loads(sys.argv[2])
model = w2v_nce.train(sys.argv[1], seed=1, **options)
print(json.dumps(model.stats["train_seconds"]))
'''


def train_seconds(corpus, options):
    out = subprocess.run([sys.executable, "-c", RUN, corpus, json.dumps(options)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{options}: training failed\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = common.parser(__doc__, reps=4)
    p.add_argument("--objectives", default="ns,infonce,nce")
    p.add_argument("--arch", default="sg")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    objectives = a.objectives.split(",")
    base = dict(arch=a.arch, workers=a.workers, negative=5)
    for o in objectives:
        train_seconds(a.corpus, dict(base, objective=o, epochs=1))
    times = {o: [] for o in objectives}
    for r in range(a.reps):
        for o in (objectives if r % 2 == 0 else objectives[::-1]):
            t = train_seconds(a.corpus, dict(base, objective=o, epochs=a.epochs))
            times[o].append(t)
            print(f"  rep {r + 1} {o}: {t:.3f} s", flush=True)
    first = objectives[0]
    for o in objectives:
        ratios = [t / f for t, f in zip(times[o], times[first])]
        print(f"{o}: median {statistics.median(times[o]):.3f} s, time × {first} {statistics.median(ratios):.3f} "
              f"[{min(ratios):.3f}–{max(ratios):.3f}]")


if __name__ == "__main__":
    main()
