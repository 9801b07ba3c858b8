"""The (context, target) examples of given sentences, as rows (kernels/rows.py): every pair within the full
window, without subsampling. Held-out evaluation and the scoring of a text both read them."""
import numpy as np

from ..core.rng import new_state
from ..kernels.loop import CBOW, SKIPGRAM
from ..kernels.rows import collect_rows
from ..prepare.corpus import MAX_SENTENCE
from ..prepare.stream import SENTINEL


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


def heldout_examples(model, sentences, arch, window):
    """The held-out examples of `sentences`: every (context, target) pair within the full window, without
    subsampling, as rows (see kernels/rows.py collect_rows): CSR arrays in_off, in_ids, tg_off, tg_ids."""
    stream = encode_sentences(sentences, model.index)
    keep = np.ones(len(model), np.float32)
    sent = np.zeros(MAX_SENTENCE, np.int32)
    in_off, in_ids, tg_off, tg_ids, _ = collect_rows(SKIPGRAM if arch == "sg" else CBOW, stream, 0, len(stream),
                                                     window, True, keep, sent, new_state(0), MAX_SENTENCE)
    return in_off, in_ids, tg_off, tg_ids
