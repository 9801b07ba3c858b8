"""What the threads pay for writing the same rows: training as the package does, and with every thread on private
copies of the output matrix, or of both matrices, in fresh processes, alternating.

    python benchmarks/shared_rows.py [--corpus PATH] [--configs cbow-ns,sg-ns] [--reps 5] [--epochs 2] [--workers 2]
        [--modes shared,private out,private in+out,private bias]

Hogwild threads share the weights: a row that one core wrote and another writes next moves between the cores'
caches, at a cost that depends on where the machine puts the two cores (the same last-level cache, or another die
or socket). Here each repetition trains every configuration three ways, one process each: `shared` (the package
as it is), `private out` (each thread trains on a copy of its own of the output matrix: no output row is shared)
and `private in+out` (a copy of both matrices: nothing is shared); `--modes` may add `private bias` (a copy of the
output biases only: what the biases that nce and infonce write cost). The private runs' vectors are wrong (each thread
learns alone and the copies are dropped); only their time counts, as what the same work costs without the sharing.
Printed per run: training seconds and CPU s/Mw (the process's CPU seconds of training per million raw words); then
per configuration the medians and the per-repetition ratios of training time, shared ÷ private: how much faster the
threads would be if they shared nothing. Ratios near 1 mean sharing costs this machine little.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading

import common

MODES = ("shared", "private out", "private in+out")
ALL_MODES = MODES + ("private bias",)


def train_with_private_rows(mode):
    """Make every Engine's threads train on their own copies of the output matrix (mode "private out"), of both
    matrices ("private in+out") or of the output biases ("private bias"), each copy made by its thread (its memory
    first touched there); "shared": as is."""
    if mode == "shared":
        return
    from w2v_nce.training import engine as engine_module

    original = engine_module.Engine.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        kernel, copies = self.train_chunk, {}

        def train_chunk(arch, chunk, weights, settings, tables, state):
            key = threading.get_ident()
            if key not in copies:
                in_w, out_w, out_b = weights
                copies[key] = (in_w.copy() if mode == "private in+out" else in_w,
                               out_w if mode == "private bias" else out_w.copy(), out_b.copy())
            kernel(arch, chunk, copies[key], settings, tables, state)

        self.train_chunk = train_chunk

    engine_module.Engine.__init__ = init


def child(s, arch, objective, mode):
    """One training run in this process, as scaling.py trains; prints (train seconds, CPU s/Mw) as JSON."""
    from scaling import train_ours

    train_with_private_rows(mode)
    run = train_ours(s.corpus, arch, objective, s.workers, argparse.Namespace(**vars(s), quality=False), seed=1)
    print(json.dumps([run[0], run[2]]))


def main(argv=None):
    p = common.parser(__doc__, reps=5, json_help="write every measurement here")
    p.add_argument("--configs", default="cbow-ns,sg-ns", help="comma-separated ARCH-OBJECTIVE (ns, nce, infonce, hs)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--alpha-cbow", type=float, default=0.05)
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {', '.join(ALL_MODES)}")
    p.add_argument("--child", nargs=3, metavar=("ARCH", "OBJECTIVE", "MODE"), help=argparse.SUPPRESS)
    s = p.parse_args(argv)
    if s.child:
        child(s, *s.child)
        return
    modes = tuple(s.modes.split(","))
    if "shared" not in modes or not set(modes) <= set(ALL_MODES):
        p.error(f"--modes: shared and any of {', '.join(ALL_MODES[1:])}")
    with tempfile.TemporaryDirectory(prefix="w2v-shared-rows-", ignore_cleanup_errors=True) as tmp:
        corpus = common.plain_copy(s.corpus, tmp)
        print(f"corpus {s.corpus}; d 100, window 5, k 5, {s.workers} workers, {s.epochs} epochs, reps {s.reps}; "
              f"{common.cpu_model()}", flush=True)
        results = {}
        for rep in range(s.reps):
            for config in s.configs.split(","):
                arch, objective = config.split("-")
                for mode in (modes if rep % 2 == 0 else modes[::-1]):
                    out = subprocess.run(
                        [sys.executable, __file__, "--corpus", corpus, "--workers", str(s.workers), "--epochs",
                         str(s.epochs), "--alpha-cbow", str(s.alpha_cbow), "--child", arch, objective, mode],
                        capture_output=True, text=True, check=True).stdout
                    run = json.loads(out.strip().splitlines()[-1])
                    results.setdefault(config, {}).setdefault(mode, []).append(run)
                    print(f"  rep {rep + 1} {config} {mode}: {run[0]:.2f} s, {run[1]:.2f} CPU s/Mw", flush=True)
        print_table(results, modes)
        common.write_json(s.json, results)


def print_table(results, modes):
    print(f"\n{'config':<12}{'mode':<16}{'train s [range]':>22}{'CPU s/Mw':>10}{'shared ÷ this [range]':>26}")
    for config, by_mode in results.items():
        shared = by_mode["shared"]
        for mode in modes:
            runs = by_mode[mode]
            ratio = "" if mode == "shared" else common.median_range([a[0] / b[0] for a, b in zip(shared, runs)])
            print(f"{config:<12}{mode:<16}{common.median_range([r[0] for r in runs]):>22}"
                  f"{statistics.median(r[1] for r in runs):>10.2f}{ratio:>26}")


if __name__ == "__main__":
    main()
