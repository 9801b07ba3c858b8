"""Rows of the bench for existing models (`w2v-nce bench --model PATH`, run_bench(models=...)): a saved w2v-nce
model or one converted from gensim (Model.from_gensim), evaluated on the bench's held-out split like the trained
runs, without training.

An existing model keeps its own vocabulary: the held-out words outside it are skipped (as every row skips the
words outside its vocabulary) and counted in the row (heldout_tokens, heldout_oov_tokens), since the trained
rows share one vocabulary and such a model does not.
"""
import os

from ..core.errors import W2VError
from ..model.evaluation import heldout_metrics, word_vector_metrics
from ..model.model import Model
from .summary import METRICS, MODEL_PREFIX


def load_models(models):
    """[(name, Model, source)] of the given models: paths of saved w2v-nce models (name "model:<file name>",
    source the path) or Model objects (name "model:<n>", n counting from 1 among the given models; source what
    the model says it came from, e.g. gensim). A path that is not a model is a one-line W2VError
    (ModelFileError); two models of the same name are told apart by a suffix " (2)", ..."""
    out = []
    for n, m in enumerate(models or [], 1):
        if isinstance(m, Model):
            name, source = f"{MODEL_PREFIX}{n}", f"(in memory{': ' + m.stats['source'] if 'source' in m.stats else ''})"
        elif isinstance(m, (str, os.PathLike)):
            name, source = f"{MODEL_PREFIX}{os.path.basename(os.fspath(m))}", os.fspath(m)
            m = Model.load(m)
        else:
            raise W2VError(f"a bench model is a path of a saved model or a Model, got a {type(m).__name__}")
        taken = {x for x, _, _ in out}
        unique, i = name, 2
        while unique in taken:
            unique, i = f"{name} ({i})", i + 1
        out.append((unique, m, source))
    return out


def model_settings(model, settings_keys):
    """The model's own training options among the bench's SETTINGS (None where it does not say)."""
    return {k: model.options.get(k) for k in settings_keys}


def run_model(name, model, heldout, arch, window, settings_keys, source):
    """The row of an existing model: the held-out metrics over the bench's held-out sentences (pairs of the
    bench's architecture and window, as the trained runs are evaluated) and the word-vector metrics; no
    training, so train_seconds, words_per_second and train_loss are None and "trained" is False."""
    index = model.index
    tokens = sum(len(s) for s in heldout)
    oov = sum(1 for s in heldout for w in s if w not in index)
    row = dict(objective=name, arch=arch, vocab_size=len(model), settings=model_settings(model, settings_keys))
    row.update({k: None for k in METRICS})
    metrics = heldout_metrics(model, heldout, arch, window)
    row.update({k: v for k, v in metrics.items() if k in METRICS})
    row.update(word_vector_metrics(model.to_keyedvectors()))
    row.update(trained=False, model=source, heldout_tokens=tokens,
               heldout_oov_tokens=oov, heldout_pairs=metrics["heldout_pairs"], seed=None, negative=None,
               max_vocab=None, curve=[])
    return row

