"""Training continued on new text against training on all of it at once, on the new text alone, and gensim's
build_vocab(update=True) + train.

    python benchmarks/continue_training.py [--corpus PATH] [--held-out 40] [--objectives ns,hs] [--dim 100]
        [--epochs 5] [--workers 2] [--seed 1] [--json PATH]

The corpus's last --held-out lines are held out; the lines before them are cut in two halves, A and B. Per
objective (skip-gram, the API's defaults otherwise): A then B (train on A, then train(B, continue_from=...)),
A + B at once, B alone; for ns also gensim's Word2Vec on A, then build_vocab(B, update=True) + train(B), with the
same settings (alpha, min_alpha, window, negative, sample, min_count, epochs, workers, seed). Each model gives
the analogy accuracy and WS353 Spearman of its input vectors (word_vector_metrics) and the held-out NLL per
(context, target) pair, exact, on the held-out lines (score_text; a gensim model read with Model.from_gensim),
with the number of pairs its vocabulary keeps. One seed.
"""
import gzip
import json
import os
import tempfile
import time
import warnings

import numpy as np

import common
import w2v_nce
from w2v_nce import Model
from w2v_nce.kernels.huffman import HuffmanTree
from w2v_nce.model.evaluation import word_vector_metrics
from w2v_nce.training.grow import same_inner_nodes


def read_lines(corpus):
    opener = gzip.open if corpus.endswith(".gz") else open
    with opener(corpus, "rt", encoding="utf-8") as f:
        return [line for line in f if line.strip()]


def measure(name, model, held, seconds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = word_vector_metrics(model.to_keyedvectors())
        r = model.score_text(held, normalize="exact")
    row = dict(run=name, vocab=len(model), analogy=metrics["analogy_accuracy"], ws353=metrics["ws353_spearman"],
               heldout_nll=r["nll"], heldout_pairs=r["pairs"], seconds=seconds)
    print(f"{name:28s} vocab {row['vocab']:6,d}  analogy {row['analogy']:.4f}  WS353 {row['ws353']:.4f}  "
          f"held-out NLL {row['heldout_nll']:.4f} ({row['heldout_pairs']:,} pairs)  {seconds:.1f} s", flush=True)
    return row


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def gensim_rows(paths, held, settings):
    from gensim.models import Word2Vec

    s = settings
    kw = dict(vector_size=s["dim"], window=s["window"], negative=s["negative"], sample=s["sample"],
              min_count=s["min_count"], epochs=s["epochs"], alpha=s["alpha"], min_alpha=s["min_alpha"],
              workers=s["workers"], seed=s["seed"], sg=1, hs=0)
    w2v, t_a = timed(lambda: Word2Vec(corpus_file=paths["A"], **kw))
    rows = [measure("gensim A", Model.from_gensim(w2v), held, t_a)]

    def update():
        w2v.build_vocab(corpus_file=paths["B"], update=True)
        w2v.train(corpus_file=paths["B"], total_examples=w2v.corpus_count, total_words=w2v.corpus_total_words,
                  epochs=w2v.epochs)
    _, t_b = timed(update)
    rows.append(measure("gensim A then B (update)", Model.from_gensim(w2v), held, t_a + t_b))
    w2v_ab, t_ab = timed(lambda: Word2Vec(corpus_file=paths["AB"], **kw))
    rows.append(measure("gensim A + B", Model.from_gensim(w2v_ab), held, t_ab))
    return rows


def main():
    p = common.parser(__doc__, json_help="Write the rows as JSON here.")
    p.add_argument("--held-out", type=int, default=40, help="Lines held out at the end.")
    p.add_argument("--objectives", default="ns,hs")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    lines = read_lines(args.corpus)
    held = [line.split() for line in lines[-args.held_out:]]
    train = lines[:-args.held_out]
    half = len(train) // 2
    parts = dict(A=train[:half], B=train[half:], AB=train)
    print(f"{args.corpus}: A {half:,} lines, B {len(train) - half:,}, held out {len(held):,}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for k, v in parts.items():
            paths[k] = os.path.join(tmp, f"{k}.txt")
            with open(paths[k], "w", encoding="utf-8") as f:
                f.writelines(v)
        for objective in args.objectives.split(","):
            opts = dict(objective=objective, dim=args.dim, epochs=args.epochs, workers=args.workers, seed=args.seed)
            a, t_a = timed(lambda: w2v_nce.train(paths["A"], **opts))
            rows.append(measure(f"{objective} A", a, held, t_a))
            ab, t_b = timed(lambda: w2v_nce.train(paths["B"], continue_from=a, workers=args.workers))
            rows.append(measure(f"{objective} A then B (continued)", ab, held, t_a + t_b))
            if objective == "hs":
                old = np.array([a.index.get(w, -1) for w in ab.vocab], np.int64)
                kept = len(same_inner_nodes(a.huffman_tree, HuffmanTree(ab.counts), old)[0])
                rows[-1]["inner_nodes_kept"] = kept
                print(f"  inner nodes of the new tree that kept their vector: {kept:,} of {len(ab) - 1:,}")
            both, t = timed(lambda: w2v_nce.train(paths["AB"], **opts))
            rows.append(measure(f"{objective} A + B", both, held, t))
            b, t = timed(lambda: w2v_nce.train(paths["B"], **opts))
            rows.append(measure(f"{objective} B alone", b, held, t))
            if objective == "ns":
                settings = dict(a.options, workers=args.workers)
                rows.extend(gensim_rows(paths, held, settings))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(corpus=os.path.basename(args.corpus), held_out=args.held_out, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
