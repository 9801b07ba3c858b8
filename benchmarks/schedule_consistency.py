"""How close each objective gets to its known optimum under different learning-rate schedules: the Markov-chain
corpus of tests/test_consistency.py (30 states, 300,000 tokens, skip-gram, window 1, k = 10, dim 32, 5 epochs,
one worker, seed 1: bit-identical runs), errors weighted by pair probability, and the mean log Z of the scores.

    python benchmarks/schedule_consistency.py [--schedules 0.025:0.0001,0.04:0.004] [--objectives nce,ns,...]

A schedule is ALPHA:MIN_ALPHA; "default" uses w2v-nce's defaults. Errors are against each objective's optimum:
nce, hs: s = log p(w|c); ns: s = log p(w|c) − log(k·Q(w)); softmax, infonce: s − log Z(c) = log p(w|c).
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from test_consistency import K, log_p, markov_chain, sample_corpus, train_scores, weighted_error  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--schedules", default="default,0.025:0.0001,0.055:0.0001,0.025:0.0025,0.04:0.004")
    p.add_argument("--objectives", default="nce,hs,ns,softmax,infonce")
    s = p.parse_args(argv)
    T, pi = markov_chain()
    P = 0.5 * (pi[:, None] * T + (pi[:, None] * T).T)
    chain = dict(corpus=sample_corpus(T, pi), pi=pi, P=P, p=P / P.sum(axis=1, keepdims=True))
    print(f"{'schedule':<16}{'objective':<10}{'error':>8}{'mean log Z':>12}")
    for schedule in s.schedules.split(","):
        extra = {} if schedule == "default" else dict(zip(("alpha", "min_alpha"), map(float, schedule.split(":"))))
        for objective in s.objectives.split(","):
            m, order, scores = train_scores(chain, objective, **extra)
            log_z = np.log(np.exp(scores).sum(axis=1))
            if objective == "ns":
                q = m.counts[order] ** 0.75
                target = log_p(chain) - np.log(K * q / q.sum())[None, :]
                err = weighted_error(chain, scores - target)
            elif objective in ("softmax", "infonce"):
                err = weighted_error(chain, scores - log_z[:, None] - log_p(chain))
            else:
                err = weighted_error(chain, scores - log_p(chain))
            print(f"{schedule:<16}{objective:<10}{err:>8.3f}{np.average(log_z, weights=pi):>12.3f}", flush=True)


if __name__ == "__main__":
    main()
