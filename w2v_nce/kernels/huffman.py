"""Huffman tree of the vocabulary for hierarchical softmax (word2vec's).

Leaves are the V words, inner nodes are numbered 0..V−2 (root V−2, as in word2vec); each inner node has an
output vector. Word w's path from the root visits inner nodes points[w, :lengths[w]] and takes the branches
codes[w, d] ∈ {0, 1}; p(w|c) = Π_d σ((1 − 2·code_d) · u_{point_d} · h). Frequent words get short paths.
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


class HuffmanTree:
    def __init__(self, counts):
        counts = np.asarray(counts, dtype=np.int64)
        n = counts.shape[0]
        size = max(2 * n - 1, 1)
        parent = np.full(size, -1, dtype=np.int64)
        bit = np.zeros(size, dtype=np.uint8)
        weight = np.zeros(size, dtype=np.int64)  # count of every node's subtree
        weight[:n] = counts
        _merge(weight, np.argsort(counts, kind="stable").astype(np.int64), parent, bit)  # ties: by index
        depth = _depths(parent, n)
        max_len = int(depth[:n].max()) if n else 0
        self.points = np.zeros((n, max(max_len, 1)), dtype=np.int32)
        self.codes = np.zeros((n, max(max_len, 1)), dtype=np.uint8)
        _paths(parent, bit, depth, n, self.points, self.codes)
        self.lengths = depth[:n].astype(np.int32)
        # inner node v − n: log(count of its branch-0 subtree / count of its branch-1 subtree)
        self.branch_log_odds = np.zeros(max(n - 1, 1), dtype=np.float64)
        v = np.arange(max(2 * n - 2, 0))  # every node but the root
        np.add.at(self.branch_log_odds, parent[v] - n, np.where(bit[v] == 1, -1.0, 1.0) * np.log(weight[v]))

    def log_probabilities(self, inner_scores):
        """log p(w|c) for every word from the inner-node scores x (n_contexts × (V−1)): Σ_d log σ(±x_point)."""
        x = inner_scores[:, self.points]  # n × V × max_len
        sign = 1.0 - 2.0 * self.codes
        mask = np.arange(self.points.shape[1])[None, :] < self.lengths[:, None]
        return np.where(mask, -np.logaddexp(0.0, -sign * x), 0.0).sum(axis=2)
