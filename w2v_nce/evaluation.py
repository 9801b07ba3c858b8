"""Evaluation: held-out likelihood and normalization of a model's scores, and gensim's word-vector benchmarks."""
import numpy as np

from .rows import collect_rows
from .corpus import MAX_SENTENCE
from .loop import CBOW, SKIPGRAM
from .rng import new_state
from .stream import SENTINEL


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
    subsampling, as rows (see rows.collect_rows): CSR arrays in_off, in_ids, tg_off, tg_ids."""
    stream = encode_sentences(sentences, model.index)
    keep = np.ones(len(model), np.float32)
    sent = np.zeros(MAX_SENTENCE, np.int32)
    in_off, in_ids, tg_off, tg_ids, _ = collect_rows(SKIPGRAM if arch == "sg" else CBOW, stream, 0, len(stream),
                                                     window, True, keep, sent, new_state(0), MAX_SENTENCE)
    return in_off, in_ids, tg_off, tg_ids


def heldout_metrics(model, sentences, arch="sg", window=5, block_rows=256):
    """Per held-out example (context c, target w), with s = model.context_scores and log Z(c) = log Σ_w exp s(w,c):

    heldout_nll = mean(log Z(c) − s(w,c)) (exact normalization), heldout_perplexity = exp(heldout_nll),
    selfnorm_nll = mean(−s(w,c)) (exp s taken as a probability as it is), log_z_mean / log_z_std over the
    examples' contexts. The context of an example is its input word (sg) or the mean of its window (cbow).
    """
    from .inference import exact_scores

    in_off, in_ids, tg_off, tg_ids = heldout_examples(model, sentences, arch, window)
    if tg_ids.shape[0] == 0:
        return dict(heldout_nll=None, heldout_perplexity=None, selfnorm_nll=None, log_z_mean=None,
                    log_z_std=None, heldout_pairs=0)
    s, log_z = exact_scores(model, in_off, in_ids, tg_off, tg_ids, block_rows)
    log_z_ex = np.repeat(log_z, np.diff(tg_off))
    nll = log_z_ex - s
    mean_nll = float(nll.mean())
    return dict(heldout_nll=mean_nll, heldout_perplexity=float(np.exp(mean_nll)), selfnorm_nll=float(-s.mean()),
                log_z_mean=float(log_z_ex.mean()), log_z_std=float(log_z_ex.std()), heldout_pairs=int(nll.shape[0]))


def word_vector_metrics(kv):
    """Analogy accuracy (questions-words, restrict_vocab 30000) and WS353 / SimLex-999 Spearman, by gensim; None
    where the vocabulary covers too little of a benchmark to score it."""
    import warnings

    from gensim.test.utils import datapath

    def spearman(name):
        try:
            return kv.evaluate_word_pairs(datapath(name))[1][0]
        except ValueError:  # scipy needs at least two covered pairs
            return float("nan")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input for tiny vocabularies
        analogy = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=30000)[0]
        ws = spearman("wordsim353.tsv")
        sl = spearman("simlex999.txt")
    return dict(analogy_accuracy=_finite(analogy), ws353_spearman=_finite(ws), simlex_spearman=_finite(sl))


def _finite(x):
    x = float(x)
    return x if np.isfinite(x) else None
