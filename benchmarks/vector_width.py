"""Training speed with the vector width the package asks Numba for, against Numba's own choice for this CPU.

    python benchmarks/vector_width.py [--corpus PATH] [--reps 3] [--configs sg-ns,cbow-ns,sg-hs]
                                      [--epochs 1] [--workers 1] [--dim 100]

On a CPU with AVX-512 the package compiles its kernels with LLVM's 256-bit vector preference
(w2v_nce/core/vector_width.py); "numba's own" is the same run with NUMBA_CPU_FEATURES set to the host's features as
LLVM reports them, which the package leaves alone, so LLVM vectorizes as its model of the CPU prefers. On a CPU
without AVX-512, or one whose LLVM model already prefers 256 bits (Intel's AVX-512 CPUs), both compile the same
loops and the ratio is noise. Every run is a fresh process training the corpus through the Python API (seed 1,
the other options the defaults); one untimed run of each fills Numba's cache. The two alternate; printed
per configuration: the median training seconds of each and the median [range] of the per-repetition speed ratios.
"""
import json
import os
import statistics
import sys

import llvmlite.binding as llvm

import common
from w2v_nce.core.vector_width import PREFER_256_BIT

RUN = r'''
import json, sys
import w2v_nce
from numba.core import config
model = w2v_nce.train(sys.argv[1], **json.loads(sys.argv[2]))
print(json.dumps(dict(seconds=model.stats["train_seconds"], features=config.CPU_FEATURES or "")))
'''


def train_seconds(corpus, options, env):
    """(training seconds, Numba's CPU features) of one run in a fresh process."""
    child = common.run_child([sys.executable, "-c", RUN, corpus, json.dumps(options)], env=env)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    return result["seconds"], result["features"]


def main():
    p = common.parser(__doc__, reps=3)
    p.add_argument("--configs", default="sg-ns,cbow-ns,sg-hs", help="ARCH-OBJECTIVE, comma-separated")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--dim", type=int, default=100)
    a = p.parse_args()
    base = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME")}
    settings = {"package's": base, "numba's own": dict(base, NUMBA_CPU_FEATURES=llvm.get_host_cpu_features().flatten())}
    print(f"CPU: {common.cpu_model()}; LLVM's name for it: {llvm.get_host_cpu_name()}")
    for config in a.configs.split(","):
        arch, objective = config.split("-")
        options = dict(arch=arch, objective=objective, epochs=a.epochs, workers=a.workers, dim=a.dim, seed=1)
        for name, env in settings.items():
            _, features = train_seconds(a.corpus, dict(options, epochs=1), env)
            print(f"{config}, {name}: {PREFER_256_BIT} {'set' if PREFER_256_BIT in features else 'not set'}")
        seconds = {name: [] for name in settings}
        order = list(settings)
        for rep in range(a.reps):
            for name in order if rep % 2 == 0 else order[::-1]:
                seconds[name].append(train_seconds(a.corpus, options, settings[name])[0])
        ratios = [own / ours for ours, own in zip(seconds["package's"], seconds["numba's own"])]
        print(f"{config}: package's {statistics.median(seconds[order[0]]):.2f} s, numba's own "
              f"{statistics.median(seconds[order[1]]):.2f} s; speed, package's × numba's own "
              f"{common.median_range(ratios, '.3f')}", flush=True)


if __name__ == "__main__":
    main()
