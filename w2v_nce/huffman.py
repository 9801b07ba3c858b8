"""Huffman tree of the vocabulary for hierarchical softmax (word2vec's).

Leaves are the V words, inner nodes are numbered 0..V−2 (root V−2, as in word2vec); each inner node has an
output vector. Word w's path from the root visits inner nodes points[w, :lengths[w]] and takes the branches
codes[w, d] ∈ {0, 1}; p(w|c) = Π_d σ((1 − 2·code_d) · u_{point_d} · h). Frequent words get short paths.
"""
import heapq

import numpy as np


class HuffmanTree:
    def __init__(self, counts):
        counts = np.asarray(counts, dtype=np.int64)
        n = counts.shape[0]
        parent = np.full(max(2 * n - 1, 1), -1, dtype=np.int64)
        bit = np.zeros(max(2 * n - 1, 1), dtype=np.uint8)
        # (count, order, node): ties are broken by creation order, so the tree is deterministic
        weight = np.zeros(max(2 * n - 1, 1), dtype=np.int64)  # count of every node's subtree
        weight[:n] = counts
        heap = [(int(c), i, i) for i, c in enumerate(counts)]
        heapq.heapify(heap)
        node = n
        while len(heap) > 1:
            c1, _, a = heapq.heappop(heap)
            c2, _, b = heapq.heappop(heap)
            parent[a] = parent[b] = node
            bit[b] = 1
            weight[node] = c1 + c2
            heapq.heappush(heap, (c1 + c2, node, node))
            node += 1
        depth = np.zeros(max(2 * n - 1, 1), dtype=np.int64)
        for v in range(2 * n - 3, -1, -1):  # parents are numbered after their children
            depth[v] = depth[parent[v]] + 1
        lengths = depth[:n]
        max_len = int(lengths.max()) if n else 0
        self.points = np.zeros((n, max(max_len, 1)), dtype=np.int32)
        self.codes = np.zeros((n, max(max_len, 1)), dtype=np.uint8)
        for w in range(n):
            v = w
            for d in range(int(lengths[w]) - 1, -1, -1):  # fill from the leaf up: root ends at d = 0
                self.codes[w, d] = bit[v]
                v = parent[v]
                self.points[w, d] = v - n
        self.lengths = lengths.astype(np.int32)
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
