"""Skip-gram negative sampling's arithmetic rate against the machine's matrix-product rate, in one run.

    python benchmarks/arith_rate.py [--corpus PATH] [--reps 3] [--workers 2] [--epochs 1] [--gemm-size 2048]

Each repetition times numpy's SGEMM on two square float32 matrices (n × n, 2·n³ flops, median of three calls) in a
child process (OpenBLAS's threads spin on after a product and would slow the training that follows), then trains skip-gram NS (d=100, window 5, k=5, sample 1e-3, min_count 5) in this process and counts its
examples (the engine's tally after each epoch). An example (context c, target w) scores and steps k + 1 output
rows, 6·d flops each (u·h; dh += g·u; u += g·h), and adds dh to v_c, 2·d flops: (k + 1)·6·d + 2·d flops. The
rate is those flops over the training's wall time; printed per repetition and as medians, with the fraction of
SGEMM's rate (the kernel's flops are vector operations on rows scattered in memory: it is bound by memory
latency and bandwidth, not by arithmetic), and flops per raw word.
"""
import statistics


import common


def main(argv=None):
    p = common.parser(__doc__, reps=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--gemm-size", type=int, default=2048)
    s = p.parse_args(argv)
    import w2v_nce

    d, k = 100, 5
    print(f"corpus {s.corpus}; skip-gram NS, d {d}, k {k}, {s.workers} workers, {s.epochs} epoch(s); "
          f"{common.cpu_model()}", flush=True)
    reps = []
    for rep in range(s.reps):
        gemm = common.sgemm_gflops_in_child(s.gemm_size, rep)
        examples = []
        m = w2v_nce.train(s.corpus, objective="ns", arch="sg", dim=d, negative=k, epochs=s.epochs,
                          workers=s.workers, seed=1 + rep,
                          on_epoch_end=lambda run: examples.append(run.engine.tally()[1]))
        flops = sum(examples) * ((k + 1) * 6 * d + 2 * d)
        rate = flops / m.stats["train_seconds"] / 1e9
        per_word = flops / m.stats["train_words"]
        reps.append((gemm, rate, rate / gemm, per_word))
        print(f"  rep {rep + 1}: SGEMM {gemm:.1f} GFLOP/s; SGNS {rate:.2f} GFLOP/s ({rate / gemm:.1%} of SGEMM), "
              f"{m.stats['words_per_second']:,.0f} words/s, {per_word:,.0f} flops per raw word", flush=True)
    med = [statistics.median(r[i] for r in reps) for i in range(4)]
    print(f"\nmedians of {s.reps}: SGEMM {med[0]:.1f} GFLOP/s; SGNS {med[1]:.2f} GFLOP/s, "
          f"{med[3]:,.0f} flops per raw word; fraction of SGEMM "
          f"{common.median_range([r[2] for r in reps], '.1%')}")


if __name__ == "__main__":
    main()
