"""How close each objective gets to its known optimum under different learning-rate schedules: the Markov-chain
corpus of tests/test_consistency.py (30 states, 300,000 tokens, skip-gram, window 1, k = 10, dim 32, 5 epochs,
one worker, seed 1: bit-identical runs), errors weighted by pair probability, and the mean log Z of the scores.

    python benchmarks/schedule_consistency.py [--schedules 0.025:0.0001,0.04:0.004] [--objectives nce,ns,...]

A schedule is ALPHA:MIN_ALPHA; "default" uses w2v-nce's defaults. Errors are against each objective's optimum:
nce, hs: s = log p(w|c); ns: s = log p(w|c) − log(k·Q(w)); softmax, infonce: s − log Z(c) = log p(w|c).
"""
import numpy as np

import common

# The chain, corpus and training of tests/test_consistency.py, the same here (a benchmark imports nothing from
# the tests): keep the two in step.
STATES, K = 30, 10


def markov_chain(seed=0, successors=5):
    rng = np.random.default_rng(seed)
    T = np.zeros((STATES, STATES))
    for a in range(STATES):
        T[a, rng.choice(STATES, size=successors, replace=False)] = rng.dirichlet(np.ones(successors))
        T[a, (a + 1) % STATES] += 0.1  # irreducible
    T /= T.sum(axis=1, keepdims=True)
    evals, evecs = np.linalg.eig(T.T)
    pi = np.abs(np.real(evecs[:, np.argmin(np.abs(evals - 1))]))
    return T, pi / pi.sum()


def sample_corpus(T, pi, sentences=300, length=1000, seed=1):
    rng = np.random.default_rng(seed)
    cum = np.cumsum(T, axis=1)
    out = []
    for _ in range(sentences):
        x = np.empty(length, np.int64)
        x[0] = rng.choice(STATES, p=pi)
        u = rng.random(length)
        for t in range(1, length):
            x[t] = min(np.searchsorted(cum[x[t - 1]], u[t]), STATES - 1)
        out.append([f"w{i}" for i in x])
    return out


def train_scores(chain, objective, seed=1, **extra):
    """(model, state → model index, scores s[c, w] indexed by state)."""
    import w2v_nce

    m = w2v_nce.train(chain["corpus"], objective=objective, dim=32, window=1, fixed_window=True, sample=0,
                      min_count=1, epochs=5, negative=K, workers=1, seed=seed, **extra)
    order = np.argsort([int(w[1:]) for w in m.vocab])
    return m, order, m.scores(order)[:, order]


def weighted_error(chain, diff):
    mask = chain["P"] > 0
    return float(np.abs(diff[mask]) @ (chain["P"][mask] / chain["P"][mask].sum()))


def log_p(chain):
    return np.log(np.where(chain["P"] > 0, chain["p"], 1.0))


def main(argv=None):
    p = common.parser(__doc__, corpus=False)
    p.add_argument("--schedules", default="default,0.025:0.0001,0.055:0.0001,0.025:0.0025,0.04:0.004")
    p.add_argument("--objectives", default="nce,hs,ns,softmax,infonce")
    s = p.parse_args(argv)
    T, pi = markov_chain()
    P = 0.5 * (pi[:, None] * T + (pi[:, None] * T).T)  # P[c, w]
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
