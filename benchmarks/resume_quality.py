"""An interrupted-then-resumed run against an uninterrupted one: same corpus, settings and seed.

    python benchmarks/resume_quality.py [--corpus PATH] [--seeds 1,2] [--after 9]

For each seed: train with the installed CLI without interruption; train again, press Ctrl-C (SIGINT) --after
seconds into training, run the `--resume` command the CLI prints; evaluate both vector files (analogy, WS353,
SimLex) and print them side by side.
"""
import json
import os
import signal
import subprocess
import tempfile
import time

import common


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--after", type=float, default=9.0, help="seconds of training before Ctrl-C")
    p.add_argument("--workers", default="2")
    s = p.parse_args(argv)
    exe = common.w2v_nce_command()
    with tempfile.TemporaryDirectory(prefix="w2v-resume-") as tmp:
        corpus = common.plain_copy(s.corpus, tmp)
        for seed in s.seeds.split(","):
            full = os.path.join(tmp, f"full_{seed}.txt")
            subprocess.run(exe + ["train", corpus, "-o", full, "--workers", s.workers, "--seed", seed, "--quiet"],
                           check=True)
            resumed = os.path.join(tmp, f"resumed_{seed}.txt")
            proc = subprocess.Popen(exe + ["train", corpus, "-o", resumed, "--workers", s.workers, "--seed", seed],
                                    stderr=subprocess.PIPE, text=True)
            proc.stderr.readline()  # the first progress line: training has started
            time.sleep(s.after)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate()
            if proc.returncode != 130 or "resume with: " not in err:
                raise SystemExit(f"the interrupted run did not stop as expected (exit {proc.returncode}):\n{err}")
            interrupted = next(line for line in err.splitlines() if line.startswith("interrupted"))
            command = err.split("resume with: ")[1].strip().split(" ")
            subprocess.run(command + ["--quiet"], check=True)
            a = common.evaluate(common.load_vectors(full))
            b = common.evaluate(common.load_vectors(resumed))
            print(json.dumps(dict(seed=int(seed), interrupted=interrupted,
                                  uninterrupted={k: round(float(v), 4) for k, v in a.items()},
                                  resumed={k: round(float(v), 4) for k, v in b.items()})), flush=True)


if __name__ == "__main__":
    main()
