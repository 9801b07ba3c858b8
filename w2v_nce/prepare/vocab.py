"""Pass 1: count the words, keep the frequent ones, and derive word2vec's subsampling keep probabilities."""
from collections import Counter

import numpy as np

from ..core.errors import W2VError


class Vocabulary:
    """Words in index order (most frequent first; ties keep first-seen order) with their corpus counts."""

    def __init__(self, words, counts, raw_words=None, raw_sentences=None):
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if len(self.words) != self.counts.shape[0]:
            raise ValueError("words and counts differ in length")
        self.index = {w: i for i, w in enumerate(self.words)}
        self.raw_words = int(raw_words if raw_words is not None else self.counts.sum())
        self.raw_sentences = raw_sentences

    def __len__(self):
        return len(self.words)

    @classmethod
    def build(cls, sentences, min_count=5, max_vocab=None, max_vocab_size=None, pruning=None):
        """Count token lists (pass 1). With max_vocab_size, at most that many distinct tokens are counted at a
        time: a new token finding the table full first prunes it (prune_counts). pruning, a dict, receives
        "pruned" (entries dropped) and "max_pruned_count"."""
        counter = Counter()
        raw_words = 0
        raw_sentences = 0
        state = dict(threshold=1, pruned=0, max_pruned_count=0)
        for sent in sentences:
            if max_vocab_size is None or len(counter) + len(sent) <= max_vocab_size:
                counter.update(sent)
            else:
                for w in sent:
                    if w in counter:
                        counter[w] += 1
                        continue
                    if len(counter) >= max_vocab_size:
                        prune_counts(counter, state)
                    counter[w] = 1
            raw_words += len(sent)
            raw_sentences += 1
        if pruning is not None:
            pruning.update(pruned=state["pruned"], max_pruned_count=state["max_pruned_count"])
        require_tokens(raw_words)
        return cls.from_counts(counter, min_count, max_vocab, raw_words, raw_sentences)

    @classmethod
    def from_counts(cls, counter, min_count=5, max_vocab=None, raw_words=None, raw_sentences=None):
        kept = [(w, c) for w, c in counter.items() if c >= min_count]
        if not kept:
            raise empty_vocabulary(min_count, max(counter.values()) if counter else 0)
        kept.sort(key=lambda wc: -wc[1])  # stable: ties stay in first-seen order
        if max_vocab is not None:
            kept = kept[:max_vocab]
        words = [w for w, _ in kept]
        counts = [c for _, c in kept]
        return cls(words, counts, raw_words, raw_sentences)

    def keep_probabilities(self, sample):
        """keep_probabilities of this vocabulary's counts."""
        return keep_probabilities(self.counts, sample)


def require_tokens(raw_words):
    """A corpus of no token cannot be trained on: W2VError."""
    if raw_words == 0:
        raise W2VError("the corpus is empty: it has no tokens")


def empty_vocabulary(min_count, top):
    """The error of a vocabulary left empty by min_count (top: the count of the most frequent word)."""
    return W2VError(f"the vocabulary is empty: no word occurs {min_count} times or more "
                    f"(the most frequent occurs {top} times); lower --min-count")


def prune_counts(counter, state):
    """word2vec's ReduceVocab, until a quarter of the table is free: drop every entry counted ≤ t, with t rising
    by one after each sweep and kept for the next pruning (state["threshold"]); the others keep their order."""
    need = max(1, len(counter) // 4)
    threshold = max(state["threshold"], sorted(counter.values())[need - 1])
    dropped = [w for w, c in counter.items() if c <= threshold]
    state["max_pruned_count"] = max([state["max_pruned_count"]] + [counter[w] for w in dropped])
    for w in dropped:
        del counter[w]
    state["pruned"] += len(dropped)
    state["threshold"] = threshold + 1


def keep_probabilities(counts, sample):
    """word2vec's subsampling: keep w with probability min(1, (sqrt(f/t) + 1) · t/f), t = sample · Σ counts.

    f is count(w); sample = 0 keeps everything.
    """
    f = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(f.shape[0], dtype=np.float32)
    t = sample * f.sum()
    p = (np.sqrt(f / t) + 1.0) * t / f
    return np.minimum(p, 1.0).astype(np.float32)
