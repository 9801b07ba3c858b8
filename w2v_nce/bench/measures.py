"""What every run of a bench is measured on, after each epoch and at the end: the held-out sentences (every pair
within the full window, no subsampling: model/evaluation.py heldout_metrics) and a fixed sample of training
sentences, the in-sample sentences, whose pairs are drawn as training draws them (insample_metrics).

The in-sample sentences are every n-th sentence of the training part (the 1st, the (n+1)-th, ...), n chosen so
that they hold about as many tokens as the held-out part (1% of the training tokens when nothing is held out):
spread over the whole training part, and as large a sample as the held-out one. Their pairs are drawn with
word2vec's subsampling for the run's `sample` (keep probabilities of the vocabulary's counts) and shrunk windows
(unless fixed_window), with one fixed seed (examples.INSAMPLE_SEED): the same pairs at every epoch and for every
objective and seed of a bench, gensim's row included (the draw depends on the words and their counts, not on the
ids). The in-sample NLL is the likelihood each objective's training sees, weighted as training weights the pairs
(frequent words subsampled, near pairs more often): it can lie above the held-out NLL, which weights every pair
of the full window, and it is its course over the epochs, against the held-out one's, that tells fitting from
generalizing.
"""
import dataclasses

from ..model.evaluation import heldout_metrics, insample_metrics


def insample_sentences(train_path, train_tokens, target_tokens):
    """(every n-th sentence of the training file train_path (one sentence a line, train_tokens tokens), n): n
    such that they hold about target_tokens tokens (1% of train_tokens if target_tokens is 0), n ≥ 1."""
    target = target_tokens or max(1, train_tokens // 100)
    every = max(1, round(train_tokens / target))
    with open(train_path, encoding="utf-8") as f:
        sentences = [line.split() for i, line in enumerate(f) if i % every == 0]
    return sentences, every


@dataclasses.dataclass(frozen=True)
class Measures:
    """The sentences every run is evaluated on: heldout, and insample (every `every`-th training sentence)."""

    heldout: list
    insample: list = ()
    every: int = None

    def metrics(self, model, opts):
        """heldout_metrics and insample_metrics of the model, with the pairs of the run's options opts (arch,
        window; for the in-sample pairs also sample and fixed_window)."""
        out = heldout_metrics(model, self.heldout, opts.arch, opts.window)
        out.update(insample_metrics(model, self.insample, opts.arch, opts.window, opts.sample, opts.fixed_window))
        return out

    def describe(self):
        """One line on the in-sample sentences, for the bench's log and report."""
        tokens = sum(map(len, self.insample))
        return (f"1 training sentence in {self.every:,} ({len(self.insample):,} sentences, {tokens:,} tokens), its "
                f"pairs drawn as training draws them (subsampling, shrunk windows), the same for every run")
