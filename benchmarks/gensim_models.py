"""Models both ways between w2v-nce and gensim's Word2Vec, on held-out text that was never trained on.

    python benchmarks/gensim_models.py [--corpus PATH] [--heldout-fraction 0.01] [--dim 100] [--epochs 5]
        [--workers 2] [--contexts 200]

The corpus's last --heldout-fraction of lines are the held-out text, the other lines the training corpus.

Ours to gensim: an ns and an hs skip-gram model of ours (the API's defaults otherwise), converted with
Model.to_gensim(). For the ns model, gensim's predict_output_word against our predict, top 10, for --contexts
held-out words (evenly spaced tokens in the vocabulary): how many top-10 lists are the same words in the same
order, and the largest relative difference of their probabilities. For the hs model, gensim's score of the
held-out sentences against our exact log-likelihood of the same pairs (Σ over the sentences). Then one epoch of
gensim's train on the held-out text, timed.

gensim to ours: gensim ns and hs skip-gram models trained by gensim (the same settings), read with
Model.from_gensim(); the held-out NLL per pair (exact) by our score_text and gensim's score of the held-out text
(hs); how many of gensim's Huffman inner nodes split the words as the tree our counts build does, and the NLL
its weights would have on that tree instead of its own.
"""
import os
import tempfile
import time
import warnings

import numpy as np

import common
import w2v_nce
from w2v_nce import Model
from w2v_nce.kernels.huffman import HuffmanTree


def log_likelihood(model, sentences):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = model.score_text(sentences)
    return -r["nll"] * r["pairs"], r


def splits(paths, n):
    """The sets of words under every inner node of a tree given as per-word paths of inner nodes."""
    under = {}
    for w, path in enumerate(paths):
        for node in path:
            under.setdefault(int(node), []).append(w)
    return {frozenset(v) for v in under.values()}


def main():
    p = common.parser(__doc__)
    p.add_argument("--heldout-fraction", type=float, default=0.01)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--contexts", type=int, default=200)
    args = p.parse_args()
    from gensim.models import Word2Vec

    with tempfile.TemporaryDirectory() as work:
        train_path = os.path.join(work, "train.txt")
        held, n_train = common.split_heldout(args.corpus, args.heldout_fraction, train_path)
        held = [line.split() for line in held]
        print(f"corpus {os.path.basename(args.corpus)}: {n_train} training lines, {len(held)} held-out lines "
              f"({sum(map(len, held)):,} tokens); dim {args.dim}, {args.epochs} epochs, {args.workers} workers")
        common_options = dict(dim=args.dim, epochs=args.epochs, workers=args.workers)

        # ours to gensim
        ns = w2v_nce.train(train_path, objective="ns", **common_options)
        g = ns.to_gensim()
        tokens = [t for s in held for t in s if t in ns.index]
        picks = [tokens[i] for i in np.linspace(0, len(tokens) - 1, args.contexts).astype(int)]
        same, worst = 0, 0.0
        for word in picks:
            theirs, ours = g.predict_output_word([word], topn=10), ns.predict([word], topn=10)
            same += [w for w, _ in theirs] == [w for w, _ in ours]
            worst = max(worst, max(abs(float(a) - b) / b for (_, a), (_, b) in zip(theirs, ours)))
        print(f"ours ns → gensim: predict_output_word top 10 = our predict top 10 for {same} of {len(picks)} "
              f"held-out words; largest relative difference of a probability {worst:.1e}")
        t0 = time.perf_counter()
        g.train(held, total_examples=len(held), epochs=1)
        print(f"ours ns → gensim: one epoch of gensim's train on the held-out text in {time.perf_counter() - t0:.2f} s")

        hs = w2v_nce.train(train_path, objective="hs", **common_options)
        g = hs.to_gensim()
        ll, r = log_likelihood(hs, held)
        score = float(g.score(held, total_sentences=len(held)).sum())
        print(f"ours hs → gensim: gensim's score of the held-out text {score:,.1f}; our exact log-likelihood "
              f"{ll:,.1f} over {r['pairs']:,} pairs (gensim / ours = {score / ll:.4f})")

        # gensim to ours
        settings = dict(vector_size=args.dim, epochs=args.epochs, workers=args.workers, sg=1, window=5,
                        min_count=5, sample=1e-3, alpha=0.025)
        for name, layer in (("ns", dict(hs=0, negative=5)), ("hs", dict(hs=1, negative=0))):
            w2v = Word2Vec(corpus_file=train_path, **settings, **layer)
            m = Model.from_gensim(w2v)
            ll, r = log_likelihood(m, held)
            line = f"gensim {name} → ours: held-out NLL {r['nll']:.4f} nats per pair ({r['pairs']:,} pairs, exact)"
            if name == "hs":
                score = float(w2v.score(held, total_sentences=len(held)).sum())
                ours_tree = HuffmanTree(m.counts)
                theirs_paths = list(w2v.wv.expandos["point"])
                ours_paths = [ours_tree.points[w, :n] for w, n in enumerate(ours_tree.lengths)]
                common_splits = len(splits(theirs_paths, len(m)) & splits(ours_paths, len(m)))
                wrong = Model(m.vocab, m.counts, m.input_vectors, m.output_vectors, options=m.options)
                line += (f"; gensim's score / our log-likelihood = {score / ll:.4f}; {common_splits:,} of its "
                         f"{len(m) - 1:,} inner nodes split the words as our counts' tree does, so the model "
                         f"keeps gensim's tree ({'yes' if m.tree is not None else 'no'}); read with our counts' "
                         f"tree instead, its held-out NLL would be {log_likelihood(wrong, held)[1]['nll']:.4f}")
            print(line)


if __name__ == "__main__":
    main()
