"""The Huffman tree of hierarchical softmax: word2vec's construction, ties broken by creation order."""
import heapq

import numpy as np
import pytest
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


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=60))
def test_a_tree_rebuilt_from_its_structure_is_the_same_tree(counts):
    tree = HuffmanTree(counts)
    parent, bit = tree.structure
    assert parent.shape == bit.shape == (max(2 * len(counts) - 2, 0),)
    again = HuffmanTree.from_structure(counts, parent, bit)
    assert again.same_tree(tree)
    assert np.array_equal(again.points, tree.points) and np.array_equal(again.codes, tree.codes)
    assert np.array_equal(again.lengths, tree.lengths)
    assert np.allclose(again.branch_log_odds, tree.branch_log_odds)


def test_a_structure_that_is_no_binary_tree_is_refused():
    counts = [5, 4, 3, 2, 1]
    parent, bit = HuffmanTree(counts).structure
    for p, b, reason in [
        (parent[:-1], bit[:-1], "a tree of 5 words describes 8 nodes, not 7"),
        (np.where(np.arange(8) == 2, 1, parent), bit, "word 2 hangs from word 1"),
        (parent, np.where(np.arange(8) == 0, 2, bit), "a branch is neither 0 nor 1"),
        (parent, np.where(parent == parent[0], 0, bit), "children on branch 0"),
    ]:
        with pytest.raises(ValueError, match=reason):
            HuffmanTree.from_structure(counts, p, b)
    # a chain deeper than any Huffman tree of 64-bit counts
    n = 200
    chain_parent = np.empty(2 * n - 2, np.int64)
    chain_bit = np.zeros(2 * n - 2, np.uint8)
    chain_parent[0], chain_bit[0] = n, 0  # words 0 and 1 under the first inner node
    chain_parent[1], chain_bit[1] = n, 1
    for w in range(2, n):  # word w and the inner node before it under inner node n + w − 1
        chain_parent[w], chain_bit[w] = n + w - 1, 1
        chain_parent[n + w - 2], chain_bit[n + w - 2] = n + w - 1, 0
    with pytest.raises(ValueError, match="deeper than any Huffman tree"):
        HuffmanTree.from_structure(np.ones(n, np.int64), chain_parent, chain_bit)
