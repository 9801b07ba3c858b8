"""Huffman tree of the vocabulary for hierarchical softmax (word2vec's).

Leaves are the V words, inner nodes are numbered 0..V−2 (root V−2, as in word2vec); each inner node has an
output vector. Word w's path from the root visits inner nodes points[w, :lengths[w]] and takes the branches
codes[w, d] ∈ {0, 1}; p(w|c) = Π_d σ((1 − 2·code_d) · u_{point_d} · h). Frequent words get short paths.

gensim's Word2Vec numbers and codes its tree the same way (its wv 'point' and 'code' attributes are these paths),
but breaks ties between equal counts otherwise; HuffmanTree.from_structure takes a tree built elsewhere.
"""
import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _lightest(weight, leaf_order, leaf, inner, made):
    """The lighter of the next leaf (leaf_order[leaf]) and the next inner node (inner, while inner < made); on
    equal weight the leaf, which is older (its order is its index, below every inner node's). Returns (node,
    leaf, inner) with the queue it came from advanced."""
    if leaf < leaf_order.shape[0] and (inner >= made or weight[leaf_order[leaf]] <= weight[inner]):
        return leaf_order[leaf], leaf + 1, inner
    return inner, leaf, inner + 1


@nb.njit(cache=True)
def _merge(weight, leaf_order, parent, bit):
    """Build the tree bottom-up: repeatedly join the two lightest nodes (ties: the one created first) into a new
    inner node n, n+1, ... (the second one joined gets bit 1). Leaves come in leaf_order (ascending count, then
    index) and inner nodes are made in ascending weight, so the lightest node is always at the head of one of the
    two queues: O(V) after the sort."""
    n = leaf_order.shape[0]
    leaf, inner = 0, n
    for node in range(n, 2 * n - 1):
        a, leaf, inner = _lightest(weight, leaf_order, leaf, inner, node)
        b, leaf, inner = _lightest(weight, leaf_order, leaf, inner, node)
        parent[a] = parent[b] = node
        bit[b] = 1
        weight[node] = weight[a] + weight[b]


@nb.njit(cache=True)
def _depths(parent, n):
    """Path length of every node (the root's 0)."""
    depth = np.zeros(parent.shape[0], np.int64)
    for v in range(2 * n - 3, -1, -1):  # parents are numbered after their children
        depth[v] = depth[parent[v]] + 1
    return depth


@nb.njit(cache=True)
def _paths(parent, bit, depth, n, points, codes):
    """Each word's inner nodes from the root (points, numbered 0..n−2) and branch bits (codes)."""
    for w in range(n):
        v = w
        for d in range(depth[w] - 1, -1, -1):  # fill from the leaf up: the root ends at d = 0
            codes[w, d] = bit[v]
            v = parent[v]
            points[w, d] = v - n


@nb.njit(cache=True)
def _subtree_weights(parent, weight, n):
    """Fill in the weight of every inner node: the sum of its children's (parents are numbered after them)."""
    for v in range(2 * n - 2):
        weight[parent[v]] += weight[v]


MAX_DEPTH = 127  # deeper than any Huffman tree of 64-bit counts (a path of d nodes needs a total count ≥ Fib(d+2))


class HuffmanTree:
    """The tree built from counts (word2vec's construction, ties by index), or with from_structure a given one.
    parent and bit describe it node by node: leaves 0..V−1, inner nodes V..2V−2 (the root 2V−2); parent[v] and
    bit[v] (the branch v is on, 0 or 1) of every node but the root."""

    def __init__(self, counts):
        counts = np.asarray(counts, dtype=np.int64)
        n = counts.shape[0]
        size = max(2 * n - 1, 1)
        parent = np.full(size, -1, dtype=np.int64)
        bit = np.zeros(size, dtype=np.uint8)
        weight = np.zeros(size, dtype=np.int64)  # count of every node's subtree
        weight[:n] = counts
        _merge(weight, np.argsort(counts, kind="stable").astype(np.int64), parent, bit)  # ties: by index
        self._paths_of(n, parent, bit, weight)

    @classmethod
    def from_structure(cls, counts, parent, bit):
        """The tree whose node v (all but the root) hangs from parent[v] on branch bit[v], numbered as above;
        ValueError saying what is wrong if parent and bit do not describe such a binary tree."""
        counts = np.asarray(counts, dtype=np.int64)
        n = counts.shape[0]
        parent = np.asarray(parent, dtype=np.int64)
        bit = np.asarray(bit)
        _check_structure(parent, bit, n)
        size = max(2 * n - 1, 1)
        full_parent = np.full(size, -1, dtype=np.int64)
        full_parent[:2 * n - 2] = parent
        full_bit = np.zeros(size, dtype=np.uint8)
        full_bit[:2 * n - 2] = bit
        weight = np.zeros(size, dtype=np.int64)
        weight[:n] = counts
        _subtree_weights(full_parent, weight, n)
        tree = cls.__new__(cls)
        tree._paths_of(n, full_parent, full_bit, weight)
        return tree

    @property
    def structure(self):
        """(parent, bit) of every node but the root, as from_structure takes them: int32 and uint8 (2V−2)."""
        m = max(2 * self.lengths.shape[0] - 2, 0)
        return self.parent[:m].astype(np.int32), self.bit[:m].copy()

    def _paths_of(self, n, parent, bit, weight):
        self.parent, self.bit = parent, bit
        depth = _depths(parent, n)
        max_len = int(depth[:n].max()) if n else 0
        if max_len > MAX_DEPTH:
            raise ValueError(f"the tree is {max_len} nodes deep, deeper than any Huffman tree ({MAX_DEPTH})")
        self.points = np.zeros((n, max(max_len, 1)), dtype=np.int32)
        self.codes = np.zeros((n, max(max_len, 1)), dtype=np.uint8)
        _paths(parent, bit, depth, n, self.points, self.codes)
        self.lengths = depth[:n].astype(np.int32)
        # inner node v − n: log(count of its branch-0 subtree / count of its branch-1 subtree)
        self.branch_log_odds = np.zeros(max(n - 1, 1), dtype=np.float64)
        v = np.arange(max(2 * n - 2, 0))  # every node but the root
        with np.errstate(divide="ignore"):  # a subtree of count 0 (a given tree may have one): log 0 = −inf
            np.add.at(self.branch_log_odds, parent[v] - n, np.where(bit[v] == 1, -1.0, 1.0) * np.log(weight[v]))

    def same_tree(self, other):
        """Whether two trees are the same: every word on the same path (points and codes)."""
        return all(np.array_equal(a, b) for a, b in zip(self.structure, other.structure))

    def log_probabilities(self, inner_scores):
        """log p(w|c) for every word from the inner-node scores x (n_contexts × (V−1)): Σ_d log σ(±x_point)."""
        x = inner_scores[:, self.points]  # n × V × max_len
        sign = 1.0 - 2.0 * self.codes
        mask = np.arange(self.points.shape[1])[None, :] < self.lengths[:, None]
        return np.where(mask, -np.logaddexp(0.0, -sign * x), 0.0).sum(axis=2)


def _check_structure(parent, bit, n):
    """parent and bit (2n−2 entries) must make a binary tree of the leaves 0..n−1 under inner nodes n..2n−2: every
    node hangs from an inner node numbered after it, and every inner node has one child on each branch."""
    m = max(2 * n - 2, 0)
    if parent.shape != (m,) or bit.shape != (m,):
        raise ValueError(f"a tree of {n:,} words describes {m:,} nodes, not {parent.shape[0]:,}")
    if m == 0:
        return
    v = np.arange(m)
    bad = np.flatnonzero((parent <= v) | (parent < n) | (parent > 2 * n - 2))
    if bad.size:
        raise ValueError(f"{_node(bad[0], n)} hangs from {_node(parent[bad[0]], n)}, not from an inner node "
                         f"numbered after it")
    if not np.isin(bit, (0, 1)).all():
        raise ValueError("a branch is neither 0 nor 1")
    ones = np.bincount(parent[bit == 1] - n, minlength=n - 1)
    zeros = np.bincount(parent[bit == 0] - n, minlength=n - 1)
    bad = np.flatnonzero((ones != 1) | (zeros != 1))
    if bad.size:
        raise ValueError(f"inner node {bad[0]} has {zeros[bad[0]]} children on branch 0 and {ones[bad[0]]} on "
                         f"branch 1, instead of one on each")


def _node(v, n):
    """Node v by what it is: word v (a leaf), or inner node v − n (as points number them)."""
    return f"word {v}" if 0 <= v < n else f"inner node {v - n}"
