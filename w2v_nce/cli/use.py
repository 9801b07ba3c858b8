"""The commands that use a trained model or its vectors: predict, score, similar and evaluate."""
import json
import warnings

import click
import numpy as np

from ..core.errors import W2VError, W2VWarning
from ..core.files import atomic_write, check_writable
from ..model import inference
from ..model.evaluation import check_analogies_file, check_pairs_file, evaluate_files
from ..model.vectors import check_readable, load_keyed_vectors, load_model
from ..prepare.inputs import check_readable_file
from .options import POS_INT


def _normalize_option(f):
    return click.option("--exact/--self-normalized", "exact", default=True, show_default=True,
                        help="Divide exp s(w,c) by Z(c) = Σ_w exp s(w,c) over the vocabulary (O(V) per context), "
                             "or take exp s(w,c) as it is (O(1) per pair): a probability for nce and hs models "
                             "only; flagged as not normalized for ns, softmax and infonce.")(f)


def _write_json(path, data):
    with atomic_write(path) as f:
        f.write((json.dumps(data, indent=1) + "\n").encode("utf-8"))


def _as_known(kv, words):
    """Each word as written if the vectors have it, else lowercased if they have that (the vectors of a
    --lowercase run hold lowercase words only)."""
    return [w if w in kv.key_to_index or w.lower() not in kv.key_to_index else w.lower() for w in words]


def _unknown_words(kv, words):
    missing = [w for w in dict.fromkeys(words) if w not in kv.key_to_index]
    if missing:
        raise W2VError(f"not in the vocabulary: {', '.join(missing)}")


@click.command(short_help="The most probable words given context words, with p(w|c).")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=True))
@click.argument("words", metavar="WORD [WORD...]", nargs=-1, required=True)
@click.option("--topn", type=POS_INT, default=10, show_default=True, help="How many words to print.")
@_normalize_option
def predict(model_path, words, topn, exact):
    """The most probable target words w given the context WORD (skip-gram: one word; CBOW: the mean of the
    WORDs' vectors, as in training), with p(w|c).

    Prints a # line saying what the numbers are, then one `word<TAB>probability` line per word.
    """
    model = load_model(model_path)
    normalize = "exact" if exact else "self"
    p = inference.distribution(model, list(words), normalize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unknown context words were named above
        z = float(p.sum()) if not exact else float(inference.distribution(model, list(words), "self").sum())
    log_z = float(np.log(z)) if z > 0 else float("-inf")
    objective = model.options.get("objective")
    context = " ".join(words)
    if exact or objective == "hs":
        how = "exact" if objective != "hs" else "along the Huffman tree (normalized by construction)"
        click.echo(f"# p(w | {context}), {objective} model, {how}; log Z(c) = {log_z:.4f} "
                   f"(Σ_w exp s(w,c) = {z:.4g}) over {len(model):,} words")
    elif inference.is_self_normalized(model):
        click.echo(f"# p(w | {context}) = exp s(w,c), {objective} model, self-normalized; for this context "
                   f"Σ_w exp s(w,c) = {z:.4f} (log Z(c) = {log_z:.4f}) over {len(model):,} words")
    else:
        note = (f"{inference.not_normalized_message(model)}; for this context Σ_w exp s(w,c) = {z:.4g} "
                f"(log Z(c) = {log_z:.4f})")
        click.echo(f"warning: {note}", err=True)
        click.echo(f"# exp s(w,c) given {context}: NOT NORMALIZED, not probabilities; {note}")
    for word, prob in inference.top_words(model, p, topn):
        click.echo(f"{word}\t{prob:.6g}")


def _format_score(r, model_path, text):
    lines = [f"{text}: {r['tokens']:,} tokens ({r['oov_tokens']:,} outside the vocabulary), window {r['window']}; "
             f"{r['objective']} model {model_path}"]
    mode = {"exact": "exact (log Z(c) over the vocabulary for every context)",
            "self": "self-normalized (exp s(w,c) taken as p(w|c), no sum over the vocabulary)"}[r["normalize"]]
    if r["objective"] == "hs":
        mode = "along the Huffman tree (normalized by construction, both modes)"
    rows = [("normalization", mode),
            ("pairs", f"{r['pairs']:,}"),
            ("mean NLL", f"{r['nll']:.4f} nats per pair"),
            ("perplexity", f"{r['perplexity']:.2f}")]
    if "log_z_mean" in r and r["objective"] != "hs":
        where = (f" (over the {r['contexts']:,} contexts, weighted by pairs)" if r["normalize"] == "exact" else
                 f" (measured on the contexts of {r['log_z_sampled_pairs']} random pairs, outside the timing)")
        rows.append(("mean log Z", f"{r['log_z_mean']:.4f} ± {r['log_z_std']:.4f} sd{where}"))
    rows.append(("pairs/s", f"{r['pairs_per_second']:,.0f} ({r['seconds']:.3f} s)"))
    width = max(len(k) for k, _ in rows)
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    if not r["normalized"]:
        lines.append(f"NOT NORMALIZED: {r['objective']} scores are not log-probabilities, so this NLL and perplexity "
                     f"are not those of a probability model (the mean log Z above is how far off); use --exact")
    return "\n".join(lines)


@click.command(short_help="NLL, perplexity and pairs/s of a text under a model.")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=True))
@click.argument("text", type=click.Path(dir_okay=True))
@_normalize_option
@click.option("--window", type=POS_INT, default=None, help="Context window [the model's training window].")
@click.option("--json", "json_path", type=click.Path(), help="Also write the figures as JSON here.")
def score(model_path, text, exact, window, json_path):
    """Mean negative log-likelihood per (context, target) pair of TEXT (plain or .gz, one sentence per line),
    its perplexity, the number of pairs, the mean log Z and the scoring speed in pairs/s.

    The pairs are every (context, target) pair within the full window of TEXT's sentences, without subsampling;
    words outside the vocabulary are left out first, as in training.
    """
    if json_path:
        check_writable(json_path)
    check_readable_file(text, "text")
    model = load_model(model_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", W2VWarning)  # not normalized: said in the output below instead
        r = model.score_text(text, window=window, normalize="exact" if exact else "self")
    if not r["normalized"]:
        click.echo(f"warning: {r['objective']} scores are not normalized: the self-normalized NLL is not a "
                   f"likelihood; use --exact", err=True)
    click.echo(_format_score(r, model_path, text))
    if json_path:
        _write_json(json_path, dict(model=model_path, text=text, **r))


@click.command(short_help="Nearest neighbours of a word, or analogies (b − a + c).")
@click.argument("vectors_path", metavar="VECTORS_OR_MODEL", type=click.Path(dir_okay=True))
@click.argument("word", required=False)
@click.option("--analogy", nargs=3, metavar="A B C", default=None,
              help="Words closest to b − a + c (a is to b as c is to ?), gensim's "
                   "most_similar(positive=[b, c], negative=[a]).")
@click.option("--topn", type=POS_INT, default=10, show_default=True, help="How many words to print.")
def similar(vectors_path, word, analogy, topn):
    """Nearest neighbours of WORD by cosine similarity, or the answers to an analogy (--analogy A B C), in
    VECTORS_OR_MODEL: word2vec text or binary vectors, or a w2v-nce model (its input vectors).

    Prints a # line, then one `word<TAB>cosine similarity` line per word.
    """
    if (word is None) == (analogy is None):
        raise click.UsageError("give either WORD or --analogy A B C")
    kv = load_keyed_vectors(vectors_path)
    if analogy:
        analogy = a, b, c = _as_known(kv, analogy)
        _unknown_words(kv, analogy)
        click.echo(f"# {b} − {a} + {c}: cosine similarity, {a}, {b} and {c} left out")
        found = kv.most_similar(positive=[b, c], negative=[a], topn=topn)
    else:
        word, = _as_known(kv, [word])
        _unknown_words(kv, [word])
        click.echo(f"# nearest to {word}: cosine similarity over {len(kv):,} words")
        found = kv.most_similar(word, topn=topn)
    for other, sim in found:
        click.echo(f"{other}\t{sim:.4f}")


def _format_evaluation(results):
    rows = []
    for r in results:
        if r["kind"] == "analogies":
            value = "—" if r["accuracy"] is None else f"{r['accuracy']:.2%}"
            rows.append((r["name"], "accuracy", value,
                         f"{r['correct']:,} correct of {r['evaluated']:,} evaluated; "
                         f"{r['questions'] - r['evaluated']:,} of {r['questions']:,} questions skipped (a word "
                         f"not in the vocabulary, or not among its {r['restrict_vocab']:,} most frequent)"))
        else:
            value = "—" if r["spearman"] is None else f"{r['spearman']:.4f}"
            pearson = "—" if r["pearson"] is None else f"{r['pearson']:.4f}"
            rows.append((r["name"], "Spearman ρ", value,
                         f"{r['evaluated']:,} of {r['pairs']:,} pairs in the vocabulary (Pearson {pearson})"))
    head = ("benchmark", "measure", "score", "coverage")
    widths = [max(len(x[i]) for x in rows + [head]) for i in range(3)]
    return "\n".join("  ".join(f"{x[i]:<{widths[i]}}" for i in range(3)) + "  " + x[3] for x in [head] + rows)


@click.command(short_help="Analogies, WS353, SimLex-999 and your own files, by gensim.")
@click.argument("vectors_path", metavar="VECTORS_OR_MODEL", type=click.Path(dir_okay=True))
@click.option("--analogies", "analogy_files", multiple=True, type=click.Path(dir_okay=True),
              help="Also this analogy file, in questions-words format (': SECTION' lines, then 'a b c d' lines); "
                   "repeatable.")
@click.option("--pairs", "pair_files", multiple=True, type=click.Path(dir_okay=True),
              help="Also this word-similarity file, in WS353 format (word1<TAB>word2<TAB>score, # comments); "
                   "repeatable.")
@click.option("--restrict-vocab", type=POS_INT, default=30000, show_default=True,
              help="Analogies: only questions whose four words are among this many most frequent words.")
@click.option("--json", "json_path", type=click.Path(), help="Also write the figures as JSON here.")
def evaluate(vectors_path, analogy_files, pair_files, restrict_vocab, json_path):
    """Word-vector benchmarks of VECTORS_OR_MODEL (word2vec text or binary vectors, or a w2v-nce model), by
    gensim's evaluators: analogies (questions-words, 3CosAdd), WordSim-353 and SimLex-999 (Spearman ρ), with
    gensim's data files, then the --analogies and --pairs files. Words are matched case-insensitively.
    """
    if json_path:
        check_writable(json_path)
    for path, check in [(p, check_analogies_file) for p in analogy_files] + [(p, check_pairs_file)
                                                                              for p in pair_files]:
        check_readable(path, "evaluation file")
        check(path)  # a badly formed file fails before the vectors are loaded
    kv = load_keyed_vectors(vectors_path)
    results = evaluate_files(kv, analogies=analogy_files, pairs=pair_files, restrict_vocab=restrict_vocab)
    click.echo(f"{vectors_path}: {len(kv):,} words, dimension {kv.vector_size}")
    click.echo(_format_evaluation(results))
    if json_path:
        _write_json(json_path, dict(vectors=vectors_path, words=len(kv), dim=kv.vector_size, results=results))
