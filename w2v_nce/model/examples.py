"""The (context, target) examples of given sentences, as rows (kernels/rows.py).

Held-out examples (held-out evaluation and the scoring of a text): every pair within the full window, without
subsampling. In-sample examples: pairs of training sentences drawn as training draws them, with word2vec's
subsampling and shrunk windows, under a fixed seed."""
import numpy as np

from ..core.rng import new_state
from ..kernels.loop import CBOW, SKIPGRAM
from ..kernels.rows import collect_rows
from ..prepare.corpus import MAX_SENTENCE
from ..prepare.stream import SENTINEL
from ..prepare.vocab import keep_probabilities

# The seed of the in-sample draw: one for every epoch, objective and seed of a bench, so that all its runs are
# measured on the same pairs.
INSAMPLE_SEED = 1


def encode_sentences(sentences, index):
    """In-memory id stream (with sentence sentinels) of token lists under a vocabulary index."""
    ids = []
    for sent in sentences:
        s = [index[w] for w in sent if w in index]
        if s:
            ids.extend(s)
            ids.append(SENTINEL)
    arr = np.array(ids, dtype=np.int32)
    arr.setflags(write=False)
    return arr


def sentence_examples(model, sentences, arch, window, keep_prob, fixed_window, seed):
    """The examples of `sentences` under the model's vocabulary (words outside it skipped), drawn as
    kernels/rows.py collect_rows draws them: word w kept with probability keep_prob[w], windows of `window`
    words or (fixed_window False) of a size drawn in 1..window per position, random numbers from `seed`.

    Returns CSR arrays in_off, in_ids, tg_off, tg_ids. The draws follow the positions of the words in the
    sentences, so they depend on the words and their keep probabilities, not on the ids.
    """
    stream = encode_sentences(sentences, model.index)
    sent = np.zeros(MAX_SENTENCE, np.int32)
    in_off, in_ids, tg_off, tg_ids, _ = collect_rows(SKIPGRAM if arch == "sg" else CBOW, stream, 0, len(stream),
                                                     window, fixed_window, keep_prob, sent, new_state(seed),
                                                     MAX_SENTENCE)
    return in_off, in_ids, tg_off, tg_ids


def heldout_examples(model, sentences, arch, window):
    """The held-out examples of `sentences`: every (context, target) pair within the full window, without
    subsampling, as rows (see kernels/rows.py collect_rows): CSR arrays in_off, in_ids, tg_off, tg_ids."""
    return sentence_examples(model, sentences, arch, window, np.ones(len(model), np.float32), True, 0)


def insample_examples(model, sentences, arch, window, sample, fixed_window=False, seed=INSAMPLE_SEED):
    """The in-sample examples of training `sentences`: the pairs training would draw from them, as rows (CSR
    arrays in_off, in_ids, tg_off, tg_ids).

    Word w is kept with word2vec's probability for `sample` (prepare/vocab.py keep_probabilities, of the model's
    counts, as training computes it from the same counts), and each position's window is shrunk to a size drawn
    in 1..window unless fixed_window. The random numbers come from `seed` alone, so every call draws the same
    pairs; and since they follow the words' positions, two models with the same words and counts draw the same
    word pairs whatever their id order (a gensim model's, for one).
    """
    keep = keep_probabilities(model.counts, sample)
    return sentence_examples(model, sentences, arch, window, keep, fixed_window, seed)
