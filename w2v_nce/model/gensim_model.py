"""A model as a gensim Word2Vec, and a gensim Word2Vec as a model.

to_gensim builds the Word2Vec that gensim would hold had it trained the model: the vocabulary in our order with
its counts, the input vectors as wv.vectors, the output vectors as syn1neg (negative sampling: ns, and nce,
infonce or softmax, whose output vectors play the same part) or syn1 (hs: gensim numbers the inner nodes as we
do, root V−2, and its wv 'code' and 'point' attributes are our Huffman paths), the subsampling thresholds
('sample_int') and the noise table (cum_table) made from the counts as gensim makes them, and the settings. So
gensim's predict_output_word, score (hs) and train work on it.

from_gensim reads such a Word2Vec (one the user has loaded; w2v-nce never unpickles a file) into the parts of a
Model: an ns or hs model whose output layer is syn1neg or syn1. gensim breaks ties between equal counts in its
Huffman tree otherwise than we do; a tree that differs from the one the counts build is kept with the model.

gensim has no output bias. A model with one (nce, infonce and softmax by default) is refused unless bias= says
what to do: "fold" carries it as one more dimension (input vectors end in 1, output vectors in b_w, so every
score u_w·v_c + b_w is kept exactly), "drop" leaves it out.
"""
from collections import defaultdict

import numpy as np

from ..core.errors import W2VError
from ..kernels.huffman import HuffmanTree

BIAS_CHOICES = ("fold", "drop")


def bias_message(objective):
    return (f"this {_kind(objective)}'s output layer has a bias b_w, for which gensim's Word2Vec has no place: "
            f"pass bias='fold' to carry it as one more dimension (input vectors ending in 1, output vectors in "
            f"b_w: every score u_w·v_c + b_w kept exactly) or bias='drop' to leave it out")


def _kind(objective):
    return f"{objective} model" if objective else "model"


def to_gensim(model, bias=None):
    """A gensim Word2Vec holding `model` (see the module's docstring); its arrays are copies."""
    from gensim.models import Word2Vec

    if bias is not None and bias not in BIAS_CHOICES:
        raise W2VError(f"bias must be 'fold' or 'drop', got {bias!r}")
    o = model.options
    objective = o.get("objective")
    hs = objective == "hs"
    in_w = np.ascontiguousarray(model.input_vectors, dtype=np.float32)
    out_w = np.ascontiguousarray(model.output_vectors, dtype=np.float32)
    if model.output_bias is not None:
        if bias is None:
            raise W2VError(bias_message(objective))
        if bias == "fold":
            in_w = np.hstack([in_w, np.ones((len(in_w), 1), np.float32)])
            out_w = np.hstack([out_w, np.asarray(model.output_bias, np.float32)[:, None]])

    def option(name, default):
        value = o.get(name)
        return default if value is None else value

    w2v = Word2Vec(vector_size=in_w.shape[1], alpha=float(option("alpha", 0.025)), window=int(option("window", 5)),
                   min_count=int(option("min_count", 5)), max_vocab_size=o.get("max_vocab_size"),
                   sample=float(option("sample", 1e-3)), seed=int(option("seed", 1)),
                   workers=int(option("workers", 3)), min_alpha=float(option("min_alpha", 1e-4)),
                   sg=int(option("arch", "sg") == "sg"), hs=int(hs), negative=0 if hs else int(option("negative", 5)),
                   ns_exponent=float(option("noise_exponent", 0.75)), cbow_mean=1, epochs=int(option("epochs", 5)),
                   max_final_vocab=o.get("max_vocab"), shrink_windows=not o.get("fixed_window", False),
                   comment=f"converted from a w2v-nce {_kind(objective)}")
    wv = w2v.wv
    wv.index_to_key = list(model.vocab)
    wv.key_to_index = {w: i for i, w in enumerate(wv.index_to_key)}
    wv.vectors = np.array(in_w, dtype=np.float32, order="C")  # a copy
    wv.norms = None
    counts = np.array(model.counts, dtype=np.int64)
    wv.expandos = {"count": counts, "sample_int": sample_ints(counts, w2v.sample)}
    w2v.raw_vocab = defaultdict(int)
    w2v.effective_min_count = w2v.min_count
    w2v.corpus_count = int(model.progress.get("sentences", model.stats.get("sentences", 0)))
    w2v.corpus_total_words = int(model.stats.get("raw_words", model.progress.get("raw_words", 0)))
    out_w = np.array(out_w, dtype=np.float32, order="C")
    if hs:
        wv.expandos["code"], wv.expandos["point"] = gensim_paths(model.huffman_tree)
        w2v.syn1 = out_w
    else:
        w2v.syn1neg = out_w
        w2v.make_cum_table()
    if model.epoch_losses or model.stats.get("train_seconds"):  # trained: as gensim stands after its training
        w2v.train_count = 1
        w2v.total_train_time = float(model.stats.get("train_seconds", 0.0))
        w2v.min_alpha_yet_reached = w2v.min_alpha
    return w2v


def sample_ints(counts, sample):
    """gensim's subsampling thresholds ('sample_int', as its prepare_vocab makes them): word w is kept with
    probability min(1, (√(c_w/t) + 1)·t/c_w), t = sample·Σc (sample ≥ 1: int(sample·(3 + √5)/2); 0: Σc), scaled
    to 2³²−1."""
    total = int(counts.sum())
    if not sample:
        threshold = total
    elif sample < 1.0:
        threshold = sample * total
    else:
        threshold = int(sample * (3 + np.sqrt(5)) / 2)
    c = counts.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # a count of 0 (gensim would fail on it): kept
        p = (np.sqrt(c / threshold) + 1) * (threshold / c)
    p = np.where(p < 1.0, p, 1.0)
    return (p * (2 ** 32 - 1)).astype(np.uint32)


def gensim_paths(tree):
    """Our Huffman paths as gensim keeps them: per word an array of codes (uint8) and of points (uint32)."""
    n = tree.lengths.shape[0]
    codes, points = np.empty(n, dtype=object), np.empty(n, dtype=object)
    for w in range(n):
        length = tree.lengths[w]
        codes[w] = tree.codes[w, :length].astype(np.uint8)
        points[w] = tree.points[w, :length].astype(np.uint32)
    return codes, points


def from_gensim(w2v, objective=None):
    """The parts of a Model (Model's keyword arguments) from a gensim Word2Vec; its arrays are copies.
    objective: "ns" (syn1neg) or "hs" (syn1); None: the one the model trained (both: name one)."""
    import gensim
    from gensim.models import Doc2Vec, FastText, KeyedVectors, Word2Vec

    if isinstance(w2v, KeyedVectors):
        raise W2VError("a gensim KeyedVectors holds word vectors only; a model needs the output layer of the "
                       "gensim Word2Vec they came from")
    if isinstance(w2v, (FastText, Doc2Vec)) or not isinstance(w2v, Word2Vec):
        raise W2VError(f"from_gensim takes a gensim Word2Vec, got a {type(w2v).__module__}.{type(w2v).__name__}")
    objective = _objective(w2v, objective)
    layer = "hs" if objective == "hs" else "ns"
    name = "syn1" if layer == "hs" else "syn1neg"
    wv = w2v.wv
    words = list(wv.index_to_key)
    if not words:
        raise W2VError("this gensim Word2Vec has no vocabulary (build_vocab was never called)")
    bad = next((w for w in words if not isinstance(w, str) or "\n" in w), None)
    if bad is not None:
        raise W2VError(f"its vocabulary holds {bad!r}: a model's words are strings without line breaks")
    vectors = np.asarray(wv.vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[1] == 0:
        raise W2VError(f"its wv.vectors has shape {'×'.join(map(str, vectors.shape))}, expected one row for each "
                       f"of its {len(words):,} words")
    output = getattr(w2v, name, None)
    if output is None:
        raise W2VError(f"this gensim Word2Vec has no {name} (its output layer was deleted): it can no longer "
                       f"predict words")
    output = np.asarray(output)
    if output.shape != vectors.shape:
        raise W2VError(f"its {name} has shape {'×'.join(map(str, output.shape))}, its wv.vectors "
                       f"{'×'.join(map(str, vectors.shape))}")
    if not w2v.sg and not w2v.cbow_mean:
        raise W2VError("this CBOW model takes the sum of its context vectors (cbow_mean=0); a w2v-nce CBOW model "
                       "takes their mean")
    if "count" not in wv.expandos:
        raise W2VError("this gensim Word2Vec has no word counts (its wv has no 'count' attribute)")
    counts = np.asarray(wv.expandos["count"], dtype=np.int64)[:len(words)]
    if counts.shape[0] != len(words) or (counts < 0).any():
        raise W2VError("its word counts ('count' of its wv) are not one count ≥ 0 for each word")
    options = dict(objective=objective, arch="sg" if w2v.sg else "cbow", dim=int(vectors.shape[1]),
                   window=int(w2v.window), negative=int(w2v.negative) if layer == "ns" else 5,
                   sample=float(w2v.sample), min_count=int(w2v.min_count),
                   max_vocab=getattr(w2v, "max_final_vocab", None), max_vocab_size=w2v.max_vocab_size,
                   epochs=int(w2v.epochs), alpha=float(w2v.alpha), min_alpha=float(w2v.min_alpha),
                   noise_exponent=float(w2v.ns_exponent), seed=int(w2v.seed), workers=int(w2v.workers),
                   fixed_window=not getattr(w2v, "shrink_windows", True), bias=False, lowercase=False)
    stats = dict(source=f"gensim {gensim.__version__} Word2Vec", raw_words=int(w2v.corpus_total_words or 0),
                 sentences=int(w2v.corpus_count or 0), train_seconds=float(w2v.total_train_time or 0.0))
    return dict(vocab=words, counts=counts.copy(), input_vectors=np.array(vectors, dtype=np.float32, order="C"),
                output_vectors=np.array(output, dtype=np.float32, order="C"), output_bias=None, options=options,
                stats=stats, tree=gensim_tree(wv, counts) if layer == "hs" else None)


def _objective(w2v, objective):
    hs, ns = bool(w2v.hs), int(w2v.negative) > 0
    if objective is None:
        if hs and ns:
            raise W2VError("this gensim Word2Vec trained both hierarchical softmax (syn1) and negative sampling "
                           "(syn1neg): choose one with objective='hs' or objective='ns'")
        if not hs and not ns:
            raise W2VError("this gensim Word2Vec has hs=0 and negative=0: it has no output layer")
        return "hs" if hs else "ns"
    if objective not in ("ns", "hs"):
        raise W2VError(f"a gensim Word2Vec has an ns (syn1neg) or an hs (syn1) output layer, not {objective!r}")
    if not (hs if objective == "hs" else ns):
        unset = "hs=0" if objective == "hs" else "negative=0"
        raise W2VError(f"this gensim Word2Vec did not train {objective} ({unset})")
    return objective


def gensim_tree(wv, counts):
    """The Huffman tree of a gensim hs model's wv ('code' and 'point'), or None when it is the tree the counts
    build (then nothing needs to be kept). W2VError if the paths do not make one binary tree."""
    if "code" not in wv.expandos or "point" not in wv.expandos:
        raise W2VError("this gensim Word2Vec has hs=1 but no Huffman codes ('code' and 'point' of its wv)")
    n = counts.shape[0]
    codes = [np.asarray(c) for c in wv.expandos["code"][:n]]
    points = [np.asarray(p) for p in wv.expandos["point"][:n]]
    lengths = np.array([c.size if c.ndim == 1 and c.shape == p.shape else -1 for c, p in zip(codes, points)])
    bad = np.flatnonzero((lengths < 0) | ((lengths == 0) & (n > 1)))
    if not bad.size:
        code = np.concatenate(codes).astype(np.int64)
        up = np.concatenate(points).astype(np.int64) + n  # each path's inner nodes, numbered after the words
        ends = np.cumsum(lengths)
        starts = ends - lengths
        paths = np.flatnonzero(lengths > 0)
        bad = paths[up[starts[paths]] != 2 * n - 2]  # each path starts at the root
        entries = np.flatnonzero((up < n) | (up > 2 * n - 2) | ((code != 0) & (code != 1)))
        if entries.size:
            bad = np.append(bad, np.searchsorted(ends, entries[0], side="right"))
    if bad.size:
        raise W2VError(f"the Huffman path of {wv.index_to_key[int(bad.min())]!r} ('code' and 'point' of its wv) is "
                       f"not a path of codes 0 and 1 from the root {n - 2} through the {n - 1:,} inner nodes")

    def word_at(i):  # the word whose path holds entry i
        return wv.index_to_key[int(np.searchsorted(ends, i, side="right"))]

    child = np.empty_like(up)  # the node below each entry: the next inner node of the path, or the word at its end
    child[:-1] = up[1:]
    child[ends[lengths > 0] - 1] = np.flatnonzero(lengths > 0)
    if (child >= 2 * n - 2).any():
        raise W2VError(f"the Huffman path of {word_at(np.flatnonzero(child >= 2 * n - 2)[0])!r} passes through "
                       f"the root twice")
    parent = np.full(max(2 * n - 2, 0), -1, dtype=np.int64)
    bit = np.zeros(max(2 * n - 2, 0), dtype=np.uint8)
    parent[child], bit[child] = up, code  # one of the entries of each node; all must agree
    wrong = np.flatnonzero((parent[child] != up) | (bit[child] != code))
    if wrong.size:
        raise W2VError(f"the Huffman path of {word_at(wrong[0])!r} contradicts another word's")
    try:
        if (parent < 0).any():
            raise ValueError(f"inner node {int(np.flatnonzero(parent < 0)[0]) - n} is on no word's path")
        tree = HuffmanTree.from_structure(counts, parent, bit)
    except ValueError as e:
        raise W2VError(f"the Huffman codes of this gensim Word2Vec do not make one tree: {e}") from None
    return None if tree.same_tree(HuffmanTree(counts)) else tree
