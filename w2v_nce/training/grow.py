"""Continued training on new text: the model's vocabulary grown by the new text's counts, and its weights carried
over to the grown vocabulary.

The new text's counts are added to the model's; the model's words all stay, and a new word joins when its merged
count reaches min_count (new words in order of merged count, at most max_vocab words in all). The vocabulary is
then ordered as a new run orders it (most frequent first, ties: the model's words in their order, then new words
in first-seen order), and every known word's rows move with it. New words' rows start as at the start of training
(init_weights), and an objective's output bias for a new word from the merged unigram (initial_bias).

Hierarchical softmax's output rows belong to the Huffman tree's inner nodes, and the tree is rebuilt from the
merged counts. An inner node of the new tree that splits the same known words into the same two branches as an
inner node of the model's tree takes that node's output vector and bias (negated if its branches are swapped);
every other inner node starts at zero (its bias from the branch counts). A tree the model carries from gensim is
replaced by the tree of the merged counts.
"""
from collections import Counter

import numpy as np

from ..core.errors import W2VError
from ..kernels.huffman import HuffmanTree
from ..prepare.vocab import Vocabulary, require_tokens

# The options that define a model: a continued run takes them from the model, and giving another value is an error.
MODEL_OPTIONS = ("objective", "arch", "dim", "bias", "lowercase")


def continued_options(model, options, option_fields):
    """The options of a run continuing `model`: the model's own, with the given `options` (a dict named like
    the CLI's long options) over them; workers never carried over. W2VError for a given value of a MODEL_OPTIONS
    option that differs from the model's."""
    saved = {k: v for k, v in model.options.items() if k in option_fields and k != "workers"}
    for name in MODEL_OPTIONS:
        given = options.get(name)
        if given is not None and name in saved and given != saved[name]:
            flag = f"--{name} {given}" if not isinstance(given, bool) else f"--{'' if given else 'no-'}{name}"
            raise W2VError(f"{flag} conflicts with the model's {name} ({saved[name]}): a continued run keeps the "
                           f"model's {', '.join(MODEL_OPTIONS)}; drop {flag.split()[0]}")
    return {**saved, **{k: v for k, v in options.items() if v is not None or k not in saved}}


def token_counts(sentences):
    """(Counter of the words in first-seen order, raw words, raw sentences) of re-iterable token lists."""
    counter, raw_words, raw_sentences = Counter(), 0, 0
    for sent in sentences:
        counter.update(sent)
        raw_words += len(sent)
        raw_sentences += 1
    require_tokens(raw_words)
    return counter, raw_words, raw_sentences


def grown_vocabulary(model, new_counts, min_count, max_vocab=None, raw_words=None, raw_sentences=None):
    """The Vocabulary of the model's words and counts plus new_counts ({word: count} of the new text)."""
    merged = dict(zip(model.vocab, (int(c) for c in model.counts)))
    known = len(merged)
    joining = []
    for w, c in new_counts.items():
        if w in merged:
            merged[w] += int(c)
        elif c >= min_count:
            joining.append((w, int(c)))
    joining.sort(key=lambda wc: -wc[1])  # stable: ties in first-seen order
    if max_vocab is not None:
        joining = joining[:max(max_vocab - known, 0)]
    merged.update(joining)
    words = list(merged)
    counts = np.fromiter(merged.values(), np.int64, len(words))
    order = np.argsort(-counts, kind="stable")
    return Vocabulary([words[i] for i in order], counts[order], raw_words, raw_sentences)


def grown_weights(model, vocab, opts, fresh):
    """(input vectors, output vectors, output bias) of the grown vocabulary: `fresh` (what a new run starts from,
    init_weights with initial_bias) with the model's rows written over it where they carry over."""
    in_w, out_w, out_b = fresh
    old = np.array([model.index.get(w, -1) for w in vocab.words], np.int64)
    known = old >= 0
    in_w[known] = model.input_vectors[old[known]]
    if opts.objective == "hs":
        to, frm, sign = same_inner_nodes(model.huffman_tree, HuffmanTree(vocab.counts), old)
    else:
        to, frm = np.nonzero(known)[0], old[known]
        sign = np.ones(to.shape[0], np.float32)
    out_w[to] = model.output_vectors[frm] * sign[:, None]
    if model.output_bias is not None:
        out_b[to] = model.output_bias[frm] * sign
    return in_w, out_w, out_b


def same_inner_nodes(old_tree, new_tree, old_index):
    """(new inner nodes, old inner nodes, signs): the inner nodes of the new tree that make the same split as one of
    the old tree, the same known words under branch 0 and under branch 1 (sign 1), or the two branches swapped
    (sign −1: the old vector and bias, negated, give the same probabilities). old_index[w]: the new word w's index
    in the old tree, or −1. A set of words is identified by the sum and the xor of random 64-bit keys."""
    n_old, n_new = old_tree.lengths.shape[0], new_tree.lengths.shape[0]
    keys = np.random.default_rng(0).integers(1, 2 ** 62, size=n_new, dtype=np.int64)
    old_keys = np.zeros(n_old, np.int64)
    known = old_index >= 0
    old_keys[old_index[known]] = keys[known]
    old_splits = _splits(old_tree, old_keys, n_old)
    where = {}
    for i, (b0, b1) in enumerate(old_splits):
        if b0[2] and b1[2]:  # only splits of known words
            where[(b0, b1)] = (i, 1.0)
            where[(b1, b0)] = (i, -1.0)
    found = [(j, *where[split]) for j, split in enumerate(_splits(new_tree, keys, n_new)) if split in where]
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    to, frm, sign = zip(*found)
    return np.array(to, np.int64), np.array(frm, np.int64), np.array(sign, np.float32)


def _splits(tree, keys, n):
    """Per inner node, the words under its branch 0 and under its branch 1, each as (sum of their keys, xor of
    them, whether every one has a key)."""
    parent, bit = tree.parent, tree.bit
    total = np.zeros(2 * n - 1, np.int64)
    xor = np.zeros(2 * n - 1, np.int64)
    full = np.ones(2 * n - 1, bool)
    total[:n] = keys
    xor[:n] = keys
    full[:n] = keys != 0
    child = np.zeros((max(n - 1, 0), 2), np.int64)
    with np.errstate(over="ignore"):
        for v in range(2 * n - 2):  # parents are numbered after their children
            p = parent[v]
            total[p] += total[v]
            xor[p] ^= xor[v]
            full[p] &= full[v]
            child[p - n, bit[v]] = v
    sets = list(zip(total.tolist(), xor.tolist(), full.tolist()))
    return [(sets[c0], sets[c1]) for c0, c1 in child.tolist()]


def check_continuable(model):
    """W2VError if the model's vectors do not fit its vocabulary (a model to continue from)."""
    if model.input_vectors.shape[0] != len(model.vocab):
        raise W2VError("the model's vocabulary and vectors differ in size")
