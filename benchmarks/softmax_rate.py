"""The blocked full softmax's speed against the machine's matrix-product rate, measured in the same run.

    python benchmarks/softmax_rate.py [--corpus PATH] [--arch sg] [--chunks 1] [--reps 5] [--gemm-size 2048]
                                      [--block-rows 256] [--min-count 5] [--softmax-step adagrad]

The corpus is prepared as `w2v-nce train` prepares it (min_count 5: text8_2m gives V = 22,541 words). Each
repetition then times numpy's SGEMM on two square float32 matrices (n × n, 2·n³ flops, median of three calls)
and trains the same --chunks chunks of the id stream with the full softmax (d=100, window 5, sample 1e-3, the
first epoch's learning rate), one after the other, so that both are measured under the same machine load. The
softmax's rate counts 6·V·d flops per row of a block (its three matrix products of 2·V·d flops per row) over
the wall time of the chunks (row collection included). Printed: each repetition, then the medians of SGEMM's
GFLOP/s, the softmax's GFLOP/s and words/s (raw corpus words per second), the median and range of the
per-repetition fractions of SGEMM's rate, and where a block's time goes (medians over all blocks).
"""
import functools
import os
import statistics
import tempfile
import time

import numpy as np

import common


def prepare(path, min_count, work_dir):
    """Vocabulary and encoded id stream of the corpus, as training makes them."""
    from w2v_nce.prepare.corpus import as_corpus
    from w2v_nce.prepare.stream import EncodedCorpus
    from w2v_nce.prepare.vocab import Vocabulary

    sentences = as_corpus(path)
    vocab = Vocabulary.build(sentences, min_count)
    return vocab, EncodedCorpus.encode(sentences, vocab.index, os.path.join(work_dir, "ids.i32"))


class PhaseClock:
    """Wall seconds of each phase of a block, collected by wrapping the functions the blocked softmax calls."""

    def __init__(self, blocked_module, model):
        self.seconds = {}
        for name in ("collect_rows", "gather_inputs", "scatter_inputs"):
            setattr(blocked_module, name, self.timed(name, getattr(blocked_module, name)))
        for name in ("scores_into", "row_pass", "input_gradient_into", "update_output"):
            setattr(model, name, self.timed(name, getattr(model, name)))

    def timed(self, name, fn):
        @functools.wraps(fn)
        def call(*args):
            t0 = time.perf_counter()
            out = fn(*args)
            self.seconds.setdefault(name, []).append(time.perf_counter() - t0)
            return out
        return call


PHASES = [("collect_rows", "rows of the chunk (once per chunk)"), ("gather_inputs", "gather H"),
          ("scores_into", "S = H Uᵀ (sgemm)"), ("row_pass", "row pass: shift, exp, Σ, db"),
          ("input_gradient_into", "dH = diag(c) E' U (sgemm)"),
          ("update_output", "output step: dU = E'ᵀ diag(c) H (sgemm), then U, b"),
          ("scatter_inputs", "scatter dH")]


def main(argv=None):
    p = common.parser(__doc__, reps=5)
    p.add_argument("--arch", default="sg", choices=["sg", "cbow"])
    p.add_argument("--chunks", type=int, default=1, help="chunks of the id stream trained per repetition")
    p.add_argument("--gemm-size", type=int, default=2048)
    p.add_argument("--block-rows", type=int, default=256)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--softmax-step", default="adagrad", choices=["adagrad", "sgd"], help="the output rows' step")
    s = p.parse_args(argv)
    import w2v_nce.kernels.blocked as blocked
    from w2v_nce.kernels.noise import NoiseDistribution
    from w2v_nce.training.options import TrainOptions
    from w2v_nce.core.rng import seed_state
    from w2v_nce.training.engine import Engine as Trainer
    from w2v_nce.training.run import init_weights

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="w2v-softmax-rate-") as tmp:
        vocab, encoded = prepare(s.corpus, s.min_count, tmp)
        try:
            opts = TrainOptions(objective="softmax", arch=s.arch, dim=s.dim, min_count=s.min_count, epochs=1,
                                workers=1, softmax_block=True).resolved()
            trainer = Trainer(opts, vocab, encoded, NoiseDistribution(vocab.counts, opts.noise_exponent),
                              init_weights(len(vocab), opts.dim, opts.seed))
            model = blocked.BlockedSoftmax(trainer.arch, trainer.in_w, trainer.out_w, trainer.out_b, opts.bias,
                                           opts.alpha, s.softmax_step, rows=s.block_rows)
            state = trainer.states[0]
            V, d = trainer.out_w.shape
            chunks = encoded.chunks
            lr = trainer.learning_rate(0)
            print(f"corpus {s.corpus}: V = {V:,}, d = {d}, {s.arch}, {s.block_rows} rows per block, "
                  f"output step {s.softmax_step}, "
                  f"{s.chunks} chunk(s) per repetition; SGEMM {s.gemm_size}³", flush=True)

            def train(first):
                rows = raw = 0
                t0 = time.perf_counter()
                for c in range(first, first + s.chunks):
                    start, end, words = (int(x) for x in chunks[c % len(chunks)])
                    seed_state(state.rng, np.uint64(opts.seed), np.uint64(0), np.uint64(c))
                    rows += model.train_chunk(encoded.read(start, end), 0, end - start, lr, lr, opts.window,
                                              opts.fixed_window, trainer.keep_prob, state)
                    raw += words
                return rows, raw, time.perf_counter() - t0

            train(0)  # warm-up: loads the compiled kernels, touches the buffers
            clock = PhaseClock(blocked, model)
            reps = []
            for rep in range(s.reps):
                g = common.sgemm_gflops(s.gemm_size, rng)
                rows, raw, secs = train(1)
                rate = 6 * V * d * rows / secs / 1e9
                reps.append((g, rate, raw / secs, rate / g))
                print(f"  rep {rep + 1}: SGEMM {g:6.1f} GFLOP/s; softmax {rows:,} rows in {secs:.2f} s: "
                      f"{rate:6.1f} GFLOP/s, {raw / secs:,.0f} words/s, {rate / g:.1%} of SGEMM", flush=True)
        finally:
            encoded.close()
    med = [statistics.median(r[i] for r in reps) for i in range(4)]
    print(f"\nmedians of {s.reps}: SGEMM {med[0]:.1f} GFLOP/s; blocked softmax {med[1]:.1f} GFLOP/s, "
          f"{med[2]:,.0f} words/s; fraction of SGEMM {common.median_range([r[3] for r in reps], '.1%')}")
    blocks = len(clock.seconds.get("row_pass", [])) or 1
    total = sum(sum(v) for v in clock.seconds.values())
    print(f"\nwhere the time goes ({blocks} blocks; share of the summed phase times, ms per block):")
    for name, what in PHASES:
        v = clock.seconds.get(name, [])
        print(f"  {what:<55}{sum(v) / total:7.1%}{1e3 * sum(v) / blocks:9.2f} ms")


if __name__ == "__main__":
    main()
