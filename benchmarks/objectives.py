"""Each objective trained once on one corpus with the reference settings: wall time, words/s, vector quality.

    python benchmarks/objectives.py [--corpus PATH] [--objectives ns,nce,infonce,hs,softmax] [--arch sg]
                                    [--softmax-max-vocab 10000]

Settings: d=100, window 5, k=5, sample 1e-3, min_count 5, 5 epochs, 2 workers, seed 1; full softmax with its
vocabulary capped at --softmax-max-vocab words. One JSON line per objective, then a table.
"""
import json
import time
import warnings

import common


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--objectives", default="ns,nce,infonce,hs,softmax")
    p.add_argument("--arch", default="sg")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--softmax-max-vocab", type=int, default=10000)
    s = p.parse_args(argv)
    import w2v_nce

    warnings.simplefilter("ignore")
    rows = []
    for objective in s.objectives.split(","):
        extra = {"max_vocab": s.softmax_max_vocab} if objective == "softmax" else {}
        t0 = time.perf_counter()
        m = w2v_nce.train(s.corpus, objective=objective, arch=s.arch, dim=100, window=5, negative=5, sample=1e-3,
                          min_count=5, epochs=s.epochs, workers=s.workers, seed=1, **extra)
        wall = time.perf_counter() - t0
        q = common.evaluate(m.to_keyedvectors())
        row = dict(objective=objective, vocab=len(m), wall_s=round(wall, 1), train_s=round(m.stats["train_seconds"], 1),
                   words_per_s=round(m.stats["words_per_second"]), analogy=round(q["analogy"], 4),
                   ws353=round(float(q["ws353"]), 3), simlex=round(float(q["simlex"]), 3),
                   final_loss=round(m.epoch_losses[-1], 4), mi_lower_bound=m.stats.get("mi_lower_bound"))
        print(json.dumps(row), flush=True)
        rows.append(row)
    print(f"\n{'objective':<10}{'vocab':>7}{'wall s':>9}{'words/s':>11}{'analogy':>9}{'WS353':>8}{'SimLex':>8}")
    for r in rows:
        print(f"{r['objective']:<10}{r['vocab']:>7}{r['wall_s']:>9.1f}{r['words_per_s']:>11,}"
              f"{100 * r['analogy']:>8.2f}%{r['ws353']:>8.3f}{r['simlex']:>8.3f}")


if __name__ == "__main__":
    main()
