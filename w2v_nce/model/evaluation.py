"""Evaluation: held-out and in-sample likelihood and normalization of a model's scores, and gensim's word-vector
benchmarks."""
import warnings

import numpy as np

from ..core.errors import W2VError
from .examples import INSAMPLE_SEED, heldout_examples, insample_examples
from .inference import exact_scores


def heldout_metrics(model, sentences, arch="sg", window=5, block_rows=256):
    """Per held-out example (context c, target w), with s = model.context_scores and log Z(c) = log Σ_w exp s(w,c):

    heldout_nll = mean(log Z(c) − s(w,c)) (exact normalization), heldout_perplexity = exp(heldout_nll),
    selfnorm_nll = mean(−s(w,c)) (exp s taken as a probability as it is), log_z_mean / log_z_std over the
    examples' contexts. The context of an example is its input word (sg) or the mean of its window (cbow).
    """
    scored = _exact(model, heldout_examples(model, sentences, arch, window), block_rows)
    if scored is None:
        return dict(heldout_nll=None, heldout_perplexity=None, selfnorm_nll=None, log_z_mean=None,
                    log_z_std=None, heldout_pairs=0)
    s, log_z_ex = scored
    mean_nll = float((log_z_ex - s).mean())
    return dict(heldout_nll=mean_nll, heldout_perplexity=float(np.exp(mean_nll)), selfnorm_nll=float(-s.mean()),
                log_z_mean=float(log_z_ex.mean()), log_z_std=float(log_z_ex.std()), heldout_pairs=int(s.shape[0]))


def insample_metrics(model, sentences, arch="sg", window=5, sample=1e-3, fixed_window=False, seed=INSAMPLE_SEED,
                     block_rows=256):
    """The likelihood training optimizes, on pairs of training sentences drawn as training draws them
    (examples.insample_examples: subsampled with `sample`, shrunk windows unless fixed_window, a fixed seed):
    insample_nll = mean(log Z(c) − s(w,c)) over those pairs, exactly normalized as in heldout_metrics, and
    insample_pairs, their number (insample_nll None without a pair)."""
    scored = _exact(model, insample_examples(model, sentences, arch, window, sample, fixed_window, seed),
                    block_rows)
    if scored is None:
        return dict(insample_nll=None, insample_pairs=0)
    s, log_z_ex = scored
    return dict(insample_nll=float((log_z_ex - s).mean()), insample_pairs=int(s.shape[0]))


def _exact(model, rows, block_rows):
    """(s(w,c), log Z(c)) of every example of the rows (exact_scores, log Z repeated per target); None without
    an example."""
    in_off, in_ids, tg_off, tg_ids = rows
    if tg_ids.shape[0] == 0:
        return None
    s, log_z = exact_scores(model, in_off, in_ids, tg_off, tg_ids, block_rows)
    return s, np.repeat(log_z, np.diff(tg_off))


# --- word-vector benchmarks, by gensim's evaluators ----------------------------------------------------------

ANALOGY_RESTRICT_VOCAB = 30000  # word2vec's compute-accuracy threshold: questions among the 30,000 commonest words
STANDARD_BENCHMARKS = (  # (kind, gensim data file, name)
    ("analogies", "questions-words.txt", "questions-words"),
    ("pairs", "wordsim353.tsv", "WS353"),
    ("pairs", "simlex999.txt", "SimLex-999"),
)


def _numbered_lines(path, what):
    """(line number from 1, text without its newline) of a UTF-8 file; invalid UTF-8 is an error naming the line."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise W2VError(f"{path}, line {number}: not UTF-8 text; expected {what}") from None


def check_pairs_file(path):
    """The number of word pairs of a file in WS353 format, as gensim's evaluate_word_pairs reads it: lines
    `word1<TAB>word2<TAB>score`, lines starting with # and blank lines ignored. A line in any other form is a
    W2VError naming it (gensim would skip it silently)."""
    what = "word pairs in WS353 format: word1<TAB>word2<TAB>score per line"
    pairs = 0
    for number, line in _numbered_lines(path, what):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        problem = None
        if len(fields) != 3:
            problem = f"{len(fields)} tab-separated field{'s' if len(fields) != 1 else ''}"
        elif any(not w or w != w.strip() or len(w.split()) != 1 for w in fields[:2]):
            problem = "a word that is empty or holds spaces"
        else:
            try:
                float(fields[2])
            except ValueError:
                problem = f"score {fields[2]!r} is not a number"
        if problem:
            raise _bad_line(path, number, problem, what, line)
        pairs += 1
    if not pairs:
        raise W2VError(f"{path} holds no word pair; expected {what}")
    return pairs


def check_analogies_file(path):
    """The number of questions of a file in questions-words format, as gensim's evaluate_word_analogies reads
    it: sections that start with a line `: NAME`, then questions `a b c d` (a is to b as c is to d), blank lines
    ignored after the first section. A line in any other form is a W2VError naming it."""
    what = "analogies in questions-words format: ': SECTION' lines, then 'a b c d' per line"
    questions, section = 0, False
    for number, line in _numbered_lines(path, what):
        if line.startswith(": "):
            section = True
            continue
        if line.startswith(":"):
            problem = "a section header needs a space after ':'"
        elif not section:
            problem = "a question or blank line before the first ': SECTION' header"
        elif not line.strip():
            continue
        elif len(line.split()) != 4:
            n = len(line.split())
            problem = f"{n} word{'s' if n != 1 else ''} instead of 4"
        else:
            questions += 1
            continue
        raise _bad_line(path, number, problem, what, line)
    if not questions:
        raise W2VError(f"{path} holds no analogy question; expected {what}")
    return questions


def _bad_line(path, number, problem, what, line):
    return W2VError(f"{path}, line {number}: {problem}; expected {what}: {_excerpt(line)}")


def _excerpt(line, width=60):
    return repr(line if len(line) <= width else line[:width] + "…")


def evaluate_analogies(kv, path, restrict_vocab=ANALOGY_RESTRICT_VOCAB):
    """gensim's evaluate_word_analogies (3CosAdd, case-insensitive) on a questions-words file, checked first:
    accuracy (None when no question has all four words among the restrict_vocab commonest), correct, evaluated
    (questions with their four words there), questions (in the file)."""
    questions = check_analogies_file(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score, sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    total = sections[-1]
    correct, evaluated = len(total["correct"]), len(total["correct"]) + len(total["incorrect"])
    return dict(accuracy=float(score) if evaluated else None, correct=correct, evaluated=evaluated,
                questions=questions, restrict_vocab=restrict_vocab)


def evaluate_pairs(kv, path):
    """gensim's evaluate_word_pairs (case-insensitive) on a WS353-format file, checked first: spearman, pearson
    (None when fewer than two pairs have both words in the vocabulary, or a side is constant), evaluated (pairs
    with both words known) and pairs (in the file)."""
    pairs = check_pairs_file(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input for tiny vocabularies
        try:
            pearson, spearman, oov_ratio = kv.evaluate_word_pairs(path)
        except ValueError:  # no pair with both words in the vocabulary
            return dict(spearman=None, pearson=None, evaluated=0, pairs=pairs)
    evaluated = int(round(pairs * (1.0 - oov_ratio / 100.0)))
    return dict(spearman=_finite(spearman[0]), pearson=_finite(pearson[0]), evaluated=evaluated, pairs=pairs)


def evaluate_files(kv, analogies=(), pairs=(), standard=True, restrict_vocab=ANALOGY_RESTRICT_VOCAB):
    """Every benchmark: gensim's own files (STANDARD_BENCHMARKS) unless standard=False, then the given
    questions-words and WS353-format files. A list of dicts: kind, name, file, and the figures of
    evaluate_analogies or evaluate_pairs."""
    from gensim.test.utils import datapath

    jobs = [(kind, name, datapath(file)) for kind, file, name in STANDARD_BENCHMARKS] if standard else []
    jobs += [("analogies", path, path) for path in analogies] + [("pairs", path, path) for path in pairs]
    for kind, _, path in jobs:  # every file's format first, before the slow part
        (check_analogies_file if kind == "analogies" else check_pairs_file)(path)
    results = []
    for kind, name, path in jobs:
        figures = evaluate_analogies(kv, path, restrict_vocab) if kind == "analogies" else evaluate_pairs(kv, path)
        results.append(dict(kind=kind, name=name, file=path, **figures))
    return results


def word_vector_metrics(kv):
    """Analogy accuracy (questions-words, restrict_vocab 30000) and WS353 / SimLex-999 Spearman, by gensim; None
    where the vocabulary covers too little of a benchmark to score it (analogy: 0.0 when no question fits)."""
    from gensim.test.utils import datapath

    analogy = evaluate_analogies(kv, datapath("questions-words.txt"))["accuracy"]
    return dict(analogy_accuracy=analogy if analogy is not None else 0.0,
                ws353_spearman=evaluate_pairs(kv, datapath("wordsim353.tsv"))["spearman"],
                simlex_spearman=evaluate_pairs(kv, datapath("simlex999.txt"))["spearman"])


def _finite(x):
    x = float(x)
    return x if np.isfinite(x) else None
