"""Which output rows the threads write most: the share of an example's row writes that go to the H hottest rows.

    python benchmarks/hot_rows.py [--corpus PATH] [--rows 1,16,64,256] [--negative 5] [--sample 1e-3]

Computed from the corpus's counts (min_count 5), for one (context, target) example: its target drawn as training
draws it (the unigram distribution after word2vec's subsampling), its k noise words from Q ∝ count^0.75. ns, nce and
infonce write the target's row and the k noise rows, so the share of the H most frequent words' rows is
(P_kept(top H) + k·Q(top H)) / (k + 1); hs writes the inner nodes of the target's Huffman path, and the share of
the H nodes nearest the root (the highest-numbered) is Σ_w P_kept(w)·|path(w) ∩ top H| / Σ_w P_kept(w)·|path(w)|.
Printed with the expected writes of the hottest row per example: for hs the root, written by every example.
"""
import numpy as np

import common


def main(argv=None):
    p = common.parser(__doc__, reps=1)
    p.add_argument("--rows", default="1,16,64,256")
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    s = p.parse_args(argv)
    from w2v_nce.kernels.huffman import HuffmanTree
    from w2v_nce.prepare.corpus import as_corpus
    from w2v_nce.prepare.vocab import Vocabulary

    vocab = Vocabulary.build(as_corpus(s.corpus), 5)
    counts = vocab.counts.astype(np.float64)
    kept = counts * vocab.keep_probabilities(s.sample)
    kept /= kept.sum()
    q = counts ** 0.75
    q /= q.sum()
    k = s.negative
    tree = HuffmanTree(vocab.counts)
    V = len(vocab)
    node_writes = np.zeros(V - 1)  # expected writes of each inner node per example
    for w in range(V):
        node_writes[tree.points[w, :tree.lengths[w]]] += kept[w]
    path = float((kept * tree.lengths).sum())
    print(f"corpus {s.corpus}: V = {V:,}; k = {k}, sample {s.sample}; hs: {path:.2f} inner nodes per example "
          f"(root written by every example)")
    print(f"{'H':>6}{'ns/nce/infonce: share of row writes':>40}{'hs: share of node writes':>28}")
    for h in (int(x) for x in s.rows.split(",")):
        sampling = (kept[:h].sum() + k * q[:h].sum()) / (k + 1)
        hs = node_writes[V - 1 - min(h, V - 1):].sum() / path
        print(f"{h:>6}{sampling:>40.1%}{hs:>28.1%}")
    print(f"hottest row's writes per example: ns {kept[0] + k * q[0]:.3f} (word {vocab.words[0]!r}), "
          f"hs {node_writes.max():.3f} (the root)")


if __name__ == "__main__":
    main()
