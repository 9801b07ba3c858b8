"""Using a trained model: log p(w|c) of given words, the most probable next words, and the likelihood of a text.

The context c of a model is one word (skip-gram) or the mean of the given words' input vectors (CBOW, as in
training); the score is s(w,c) = u_w·v_c (+ b_w). Two ways to turn scores into probabilities:

- normalize="exact": log p(w|c) = s(w,c) − log Z(c), log Z(c) = log Σ_{w'∈V} exp s(w',c): O(V) per context.
- normalize="self": log p(w|c) = s(w,c) as it is: O(1) per (context, target) pair. That is a probability only
  when the objective makes Σ_w exp s(w,c) ≈ 1: nce (self-normalized at its optimum). For ns, softmax and
  infonce exp s is not a probability (log Z(c) is far from 0, or arbitrary per context); results in this mode are
  flagged as not normalized and come with their measured log Z.

Hierarchical softmax scores along the word's Huffman path, log p(w|c) = Σ_d log σ(±u_node·v_c): normalized by
construction, O(log V) per pair, the same in both modes.
"""
import time
import warnings

import numba as nb
import numpy as np

from ..core.errors import W2VError, W2VWarning
from ..kernels.rows import gather_inputs
from ..prepare.corpus import as_corpus
from .examples import encode_sentences, heldout_examples

NORMALIZE = ("exact", "self")
SELF_NORMALIZED = ("nce", "hs")  # objectives whose exp s(w,c) is a probability without normalizing


def is_self_normalized(model):
    """hs, and nce with skip-gram. A CBOW nce model's log Z(c) depends on how many context words the mean takes
    (docs/using-models.md: text8, held out, from +2.06 ± 3.03 with 2 context words to −0.27 ± 0.31 with 10)."""
    options = model.options
    return options.get("objective") in SELF_NORMALIZED and not (
        options.get("objective") == "nce" and options.get("arch") == "cbow")


def _check_normalize(normalize):
    if normalize not in NORMALIZE:
        raise W2VError(f"normalize must be 'exact' or 'self', got {normalize!r}")


def _objective(model):
    return model.options.get("objective") or "unknown"


def not_normalized_message(model):
    if _objective(model) == "nce":  # a CBOW model (is_self_normalized)
        return ("CBOW nce scores are not self-normalized: log Z(c) depends on the number of context words, so "
                "exp s(w,c) is not a probability (use exact normalization)")
    return (f"{_objective(model)} scores are not normalized: exp s(w,c) is not a probability "
            f"(use exact normalization)")


def _words(words):
    return [words] if isinstance(words, str) else list(words)


def _lower(model, words):
    return [w.lower() for w in words] if model.options.get("lowercase") else words


def context_ids(model, context_words):
    """Ids of the known context words. Unknown ones are skipped with a warning naming them; none known, or
    more than one for a skip-gram model, is a W2VError."""
    words = _lower(model, _words(context_words))
    if not words:
        raise W2VError("no context word given")
    unknown = [w for w in words if w not in model.index]
    known = [model.index[w] for w in words if w in model.index]
    if not known:
        raise W2VError(f"no context word is in the vocabulary: {', '.join(unknown)}")
    if unknown:
        warnings.warn(f"not in the vocabulary, left out of the context: {', '.join(unknown)}", W2VWarning,
                      stacklevel=3)
    if model.options.get("arch", "sg") == "sg" and len(known) > 1:
        raise W2VError(f"a skip-gram model predicts from one context word; got {len(known)} "
                       f"({', '.join(model.vocab[i] for i in known)})")
    return np.array(known, dtype=np.int32)


def target_ids(model, target_words):
    words = _lower(model, _words(target_words))
    unknown = [w for w in words if w not in model.index]
    if unknown:
        raise W2VError(f"not in the vocabulary: {', '.join(unknown)}")
    return np.array([model.index[w] for w in words], dtype=np.int32)


def context_vector(model, ids):
    """v_c: the mean of the input vectors of ids (one id for skip-gram), float32 (1 × dim)."""
    h = np.empty((1, model.dim), np.float32)
    gather_inputs(model.input_vectors, np.array([0, len(ids)], np.int64), np.asarray(ids, np.int32), 0, 1, h)
    return h


def log_sum_exp(s):
    """log Σ_j exp s[i, j] per row, max-subtracted."""
    top = s.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(s - top).sum(axis=1, keepdims=True)))[:, 0]


def _warn_if_not_normalized(model, normalize):
    if normalize == "self" and not is_self_normalized(model):
        warnings.warn(not_normalized_message(model), W2VWarning, stacklevel=3)


def log_prob(model, context_words, target_words, normalize="exact"):
    """log p(w|c) of each target word given the context (a float for one target word given as a str)."""
    _check_normalize(normalize)
    _warn_if_not_normalized(model, normalize)
    ctx = context_ids(model, context_words)
    tg = target_ids(model, target_words)
    in_off = np.array([0, len(ctx)], np.int64)
    tg_off = np.array([0, len(tg)], np.int64)
    if _objective(model) == "hs":
        out = path_log_probs(model, in_off, ctx, tg_off, tg)
    else:
        out = pair_scores(model, in_off, ctx, tg_off, tg)
        if normalize == "exact":
            out = out - log_sum_exp(model.context_scores(context_vector(model, ctx)))[0]
    return float(out[0]) if isinstance(target_words, str) else out


def distribution(model, context_words, normalize="exact"):
    """p(w|c) for every word w of the vocabulary (float64, V): exp(s − log Z) or, self-normalized, exp s."""
    _check_normalize(normalize)
    s = model.context_scores(context_vector(model, context_ids(model, context_words)))[0]
    if normalize == "exact" and _objective(model) != "hs":
        s = s - log_sum_exp(s[None, :])[0]
    return np.exp(s)


def predict(model, context_words, topn=10, normalize="exact"):
    """The topn most probable words given the context: [(word, probability)], most probable first."""
    _check_normalize(normalize)
    _warn_if_not_normalized(model, normalize)
    p = distribution(model, context_words, normalize)
    return top_words(model, p, topn)


def top_words(model, p, topn):
    topn = max(0, min(int(topn), p.shape[0]))
    top = np.argpartition(-p, topn - 1)[:topn] if 0 < topn < p.shape[0] else np.arange(p.shape[0])[:topn]
    top = top[np.lexsort((top, -p[top]))]
    return [(model.vocab[i], float(p[i])) for i in top]


# --- pairs of held-out text -----------------------------------------------------------------------------------

def pair_scores(model, in_off, in_ids, tg_off, tg_ids):
    """s(w,c) of every (row, target) pair of CSR rows (see rows.collect_rows): O(dim) per pair, float64."""
    bias = model.output_bias if model.output_bias is not None else np.zeros(0, np.float32)
    out = np.empty(tg_ids.shape[0], np.float64)
    _pair_scores(_f32(model.input_vectors), _f32(model.output_vectors), _f32(bias), model.output_bias is not None,
                 in_off, in_ids, tg_off, tg_ids, out)
    return out


def path_log_probs(model, in_off, in_ids, tg_off, tg_ids):
    """Hierarchical softmax: log p(w|c) = Σ_d log σ((1 − 2·code_d)·(u_point_d·v_c + b_point_d)) of every pair,
    along w's Huffman path: O(dim·log V) per pair, float64."""
    tree = model.huffman_tree
    bias = model.output_bias if model.output_bias is not None else np.zeros(0, np.float32)
    out = np.empty(tg_ids.shape[0], np.float64)
    _path_log_probs(_f32(model.input_vectors), _f32(model.output_vectors), _f32(bias),
                    model.output_bias is not None, tree.points, tree.codes, tree.lengths,
                    in_off, in_ids, tg_off, tg_ids, out)
    return out


def _f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


@nb.njit(cache=True, nogil=True)
def _context_mean(in_w, in_ids, a, b, h):
    """h = mean of the input vectors in_ids[a:b] (float32, as gather_inputs computes it)."""
    inv = np.float32(1.0 / (b - a))
    h[:] = 0.0
    for q in range(a, b):
        row = in_w[in_ids[q]]
        for t in range(h.shape[0]):
            h[t] += row[t]
    for t in range(h.shape[0]):
        h[t] *= inv


@nb.njit(cache=True, nogil=True)
def _dot64(u, h):
    x = 0.0
    for t in range(h.shape[0]):
        x += np.float64(u[t]) * np.float64(h[t])
    return x


@nb.njit(cache=True, nogil=True)
def _pair_scores(in_w, out_w, out_b, use_bias, in_off, in_ids, tg_off, tg_ids, out):
    """out[q] = u_w·v_c (+ b_w) for target q = w of row c."""
    h = np.empty(in_w.shape[1], np.float32)
    for r in range(in_off.shape[0] - 1):
        _context_mean(in_w, in_ids, in_off[r], in_off[r + 1], h)
        for q in range(tg_off[r], tg_off[r + 1]):
            w = tg_ids[q]
            out[q] = _dot64(out_w[w], h) + (np.float64(out_b[w]) if use_bias else 0.0)


@nb.njit(cache=True, nogil=True)
def _path_log_probs(in_w, out_w, out_b, use_bias, points, codes, lengths, in_off, in_ids, tg_off, tg_ids, out):
    """out[q] = Σ_d log σ(z_d), z_d = (1 − 2·code_d)·(u_point_d·v_c (+ b_point_d)) along target q's path."""
    h = np.empty(in_w.shape[1], np.float32)
    for r in range(in_off.shape[0] - 1):
        _context_mean(in_w, in_ids, in_off[r], in_off[r + 1], h)
        for q in range(tg_off[r], tg_off[r + 1]):
            w = tg_ids[q]
            total = 0.0
            for d in range(lengths[w]):
                node = points[w, d]
                x = _dot64(out_w[node], h) + (np.float64(out_b[node]) if use_bias else 0.0)
                z = -x if codes[w, d] else x
                total -= max(-z, 0.0) + np.log1p(np.exp(-abs(z)))  # log σ(z) = −log(1 + e^−z), stably
            out[q] = total


def exact_scores(model, in_off, in_ids, tg_off, tg_ids, block_rows=256):
    """(s, log_z): s(w,c) of every pair and log Z(c) = log Σ_w exp s(w,c) of every row, by model.context_scores
    on blocks of rows: O(V·dim) per row."""
    rows = in_off.shape[0] - 1
    s_pairs = np.empty(tg_ids.shape[0], np.float64)
    log_z = np.empty(rows, np.float64)
    h = np.empty((block_rows, model.dim), np.float32)
    for r0 in range(0, rows, block_rows):
        r1 = min(rows, r0 + block_rows)
        gather_inputs(model.input_vectors, in_off, in_ids, r0, r1, h[:r1 - r0])
        s = model.context_scores(h[:r1 - r0])
        log_z[r0:r1] = log_sum_exp(s)
        a, b = tg_off[r0], tg_off[r1]
        row_of = np.repeat(np.arange(r1 - r0), np.diff(tg_off[r0:r1 + 1]))
        s_pairs[a:b] = s[row_of, tg_ids[a:b]]
    return s_pairs, log_z


def sampled_log_z(model, in_off, in_ids, tg_off, n, seed=0):
    """log Z(c) of the contexts of n pairs drawn uniformly (with replacement, fixed seed): an estimate of the
    pair-weighted mean log Z at the cost of n contexts."""
    pairs = tg_off[-1]
    picks = np.random.default_rng(seed).integers(0, pairs, size=n)
    rows = np.searchsorted(tg_off, picks, side="right") - 1
    lengths = in_off[rows + 1] - in_off[rows]
    sub_off = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    sub_ids = np.concatenate([in_ids[in_off[r]:in_off[r + 1]] for r in rows]).astype(np.int32)
    _, log_z = exact_scores(model, sub_off, sub_ids, np.zeros(n + 1, np.int64), np.zeros(0, np.int32))
    return log_z


def text_examples(model, text, window=None):
    """The (context, target) pairs of a text as CSR rows (every pair within the full window, no subsampling:
    examples.heldout_examples), and token counts (tokens, tokens outside the vocabulary)."""
    sentences = list(as_corpus(text, lowercase=bool(model.options.get("lowercase"))))
    window = int(window or model.options.get("window") or 5)
    if window < 1:
        raise W2VError(f"window must be ≥ 1, got {window}")
    tokens = sum(len(s) for s in sentences)
    stream = encode_sentences(sentences, model.index)
    known = int((stream >= 0).sum())
    rows = heldout_examples(model, sentences, model.options.get("arch", "sg"), window)
    return rows, dict(tokens=tokens, oov_tokens=tokens - known, window=window)


def score_text(model, text, window=None, normalize="exact", log_z_sample=256):
    """Mean negative log-likelihood per (context, target) pair of a text (a path, or a re-iterable of token
    lists), over every pair within `window` (default: the training window) of its sentences; words outside the
    vocabulary are left out first, as in training.

    Returns a dict: nll (nats per pair), perplexity = exp(nll), pairs, tokens, oov_tokens, window, normalize,
    normalized (whether nll is a true likelihood), seconds and pairs_per_second (the scoring of the pairs,
    context vectors included, after a warm-up on the first row that loads the kernels). exact also gives
    log_z_mean / log_z_std (over the pairs' contexts) and sum_p_mean (Σ_w exp s(w,c), the sum of
    self-normalized probabilities, averaged over the contexts). self for an objective other than hs gives
    log_z_mean measured on the contexts of log_z_sample random pairs (outside the timing).
    """
    _check_normalize(normalize)
    (in_off, in_ids, tg_off, tg_ids), counts = text_examples(model, text, window)
    pairs = int(tg_ids.shape[0])
    if pairs == 0:
        raise W2VError("the text has no (context, target) pair of vocabulary words: nothing to score")
    hs = _objective(model) == "hs"
    scorer = path_log_probs if hs else pair_scores if normalize == "self" else exact_scores
    # the first row alone first, so that loading (or compiling) the kernels stays out of the timing
    scorer(model, in_off[:2], in_ids[:in_off[1]], tg_off[:2] - tg_off[0], tg_ids[:tg_off[1]])
    t0 = time.perf_counter()
    if scorer is exact_scores:
        s, log_z = exact_scores(model, in_off, in_ids, tg_off, tg_ids)
        log_z_pairs = np.repeat(log_z, np.diff(tg_off))
        log_p = s - log_z_pairs
    else:
        log_p = scorer(model, in_off, in_ids, tg_off, tg_ids)
    seconds = time.perf_counter() - t0
    nll = float(-log_p.mean())
    result = dict(normalize=normalize, objective=_objective(model), nll=nll, perplexity=float(np.exp(nll)),
                  pairs=pairs, **counts, seconds=seconds, pairs_per_second=pairs / max(seconds, 1e-9),
                  normalized=hs or normalize == "exact" or is_self_normalized(model))
    if hs:
        result.update(log_z_mean=0.0, log_z_std=0.0, sum_p_mean=1.0)
    elif normalize == "exact":
        result.update(log_z_mean=float(log_z_pairs.mean()), log_z_std=float(log_z_pairs.std()),
                      sum_p_mean=float(np.exp(log_z).mean()), contexts=int(log_z.shape[0]))
    elif log_z_sample:
        log_z = sampled_log_z(model, in_off, in_ids, tg_off, int(log_z_sample))
        result.update(log_z_mean=float(log_z.mean()), log_z_std=float(log_z.std()),
                      sum_p_mean=float(np.exp(log_z).mean()), log_z_sampled_pairs=int(log_z_sample))
    if not result["normalized"]:
        warnings.warn(not_normalized_message(model), W2VWarning, stacklevel=2)
    return result
