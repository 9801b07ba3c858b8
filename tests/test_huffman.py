"""The Huffman tree of hierarchical softmax: word2vec's construction, ties broken by creation order."""
import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from w2v_nce.kernels.huffman import HuffmanTree


def reference_parents(counts):
    """Join the two lightest nodes of a heap of (count, creation order) until one is left; inner nodes are
    numbered n, n+1, ... as they are made, and the second node joined takes bit 1."""
    n = len(counts)
    parent, bit = [-1] * max(2 * n - 1, 1), [0] * max(2 * n - 1, 1)
    heap = [(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    node = n
    while len(heap) > 1:
        c1, a = heapq.heappop(heap)
        c2, b = heapq.heappop(heap)
        parent[a] = parent[b] = node
        bit[b] = 1
        heapq.heappush(heap, (c1 + c2, node))
        node += 1
    return parent, bit


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=80), st.booleans())
def test_paths_follow_the_heap_construction_with_ties_by_creation_order(counts, sort):
    counts = sorted(counts, reverse=True) if sort else counts  # a vocabulary is sorted; ties are the rule
    parent, bit = reference_parents(counts)
    tree = HuffmanTree(counts)
    n = len(counts)
    for w in range(n):
        path, v = [], w
        while parent[v] >= 0:
            path.append((parent[v] - n, bit[v]))
            v = parent[v]
        path.reverse()  # from the root
        assert tree.lengths[w] == len(path)
        assert tree.points[w, :len(path)].tolist() == [p for p, _ in path]
        assert tree.codes[w, :len(path)].tolist() == [c for _, c in path]
    # a word strictly more frequent than another never has the longer path
    c, length = np.asarray(counts), tree.lengths
    assert not np.any((c[:, None] > c[None, :]) & (length[:, None] > length[None, :]))
