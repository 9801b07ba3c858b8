"""A training run's frame, the same for a local run and a cluster's: where it starts (the options, resolved once
here, and the model it resumes), its starting weights, what the caller asks of it as it goes (Hooks), and the
Model it ends with."""
import numpy as np

from ..core.errors import W2VError
from ..core.progress import ProgressBar
from ..kernels.huffman import HuffmanTree
from ..model.model import Model
from .grow import check_continuable, continued_options, grown_weights
from .options import TrainOptions


class Start:
    """Where a training starts: opts, its resolved options; resume, the model it continues (None for a new run),
    and record, that model's progress record ({} for a new run); workers_given, the workers as the caller gave
    them (None: all cores here, or on a cluster each Dask worker's threads); grow, the model a run on new text
    continues (grow.py: its vocabulary grown by the new text's counts), or None."""

    def __init__(self, opts, resume=None, record=None, workers_given=None, grow=None):
        self.opts = opts
        self.resume = resume
        self.record = dict(record or {})
        self.workers_given = workers_given
        self.grow = grow

    def check_corpus(self, raw_words):
        """A resumed run trains on the corpus it started on (compared by its raw words)."""
        if self.resume is not None and raw_words != int(self.record.get("raw_words", -1)):
            raise W2VError(f"the corpus differs from the one this model was trained on "
                           f"({raw_words:,} words, the model saw {int(self.record.get('raw_words', 0)):,})")

    def optimizer_state(self):
        """The optimizer state a resumed run continues from (the model's; {} for a new run)."""
        return self.resume.optimizer_state if self.resume is not None else {}

    def weights(self, vocab):
        """The input vectors, output vectors and output bias to start from: the resumed model's (copies), or new
        ones (init_weights, with the initial bias of objectives that have one)."""
        if self.resume is not None:
            r = self.resume
            bias = r.output_bias if r.output_bias is not None else np.zeros(len(vocab), np.float32)
            return tuple(np.ascontiguousarray(a, dtype=np.float32).copy()
                         for a in (r.input_vectors, r.output_vectors, bias))
        opts = self.opts
        bias = initial_bias(vocab.counts, opts.objective, opts.bias_init) if opts.bias else None
        fresh = init_weights(len(vocab), opts.dim, opts.seed, bias)
        return fresh if self.grow is None else grown_weights(self.grow, vocab, opts, fresh)


def resolve_start(resume=None, options=None, continue_from=None, on_cluster=False):
    """The Start of a run from the caller's options (named like the CLI's long options; TypeError for an
    unknown one) and the model to resume (a Model or an .npz path, or None): its options are the model's own,
    only `workers` may be given; or the model to continue on new text (continue_from): its options, with the
    given ones over them save those that define the model (grow.MODEL_OPTIONS). The options are resolved here,
    once (on_cluster: for a run on a Dask cluster)."""
    options = dict(options or {})
    unknown = set(options) - set(TrainOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    workers_given = options.get("workers")
    record = None
    if resume is not None and continue_from is not None:
        raise W2VError("give a model to resume or a model to continue on new text, not both")
    if continue_from is not None:
        grow = continue_from if isinstance(continue_from, Model) else Model.load(continue_from)
        check_continuable(grow)
        options = continued_options(grow, options, TrainOptions.__dataclass_fields__)
        return Start(TrainOptions(**options).resolved(on_cluster), workers_given=workers_given, grow=grow)
    if resume is not None:
        resume = resume if isinstance(resume, Model) else Model.load(resume)
        if not resume.progress:
            raise W2VError("this model has no training progress to resume from")
        if resume.progress.get("complete"):
            raise W2VError("this model finished its training; there is nothing to resume")
        extra = set(options) - {"workers"}
        if extra:
            raise W2VError(f"a resumed run keeps the model's options; do not pass {', '.join(sorted(extra))}")
        saved = {k: v for k, v in resume.options.items() if k in TrainOptions.__dataclass_fields__}
        options = {**saved, **options}
        record = resume.progress
    return Start(TrainOptions(**options).resolved(on_cluster), resume, record, workers_given)


class Hooks:
    """What the caller asks of a run as it goes: a progress display (True: a ProgressBar on stderr; or an object
    with ProgressBar's update and close), a resumable model saved every checkpoint_every epochs to
    checkpoint_path, and on_epoch_end(run) after every epoch."""

    def __init__(self, progress=False, checkpoint_every=None, checkpoint_path=None, on_epoch_end=None):
        if checkpoint_every is not None and (checkpoint_every < 1 or not checkpoint_path):
            raise W2VError("checkpoint_every needs a positive number of epochs and a checkpoint_path")
        self.progress = progress
        self.checkpoint_every = checkpoint_every
        self.checkpoint_path = checkpoint_path
        self.on_epoch_end = on_epoch_end

    def display(self, total_words, epochs):
        """The progress display of a run of total_words raw words in all, or None."""
        if self.progress is True:
            return ProgressBar(total_words, epochs)
        return self.progress or None  # False, or an object with update(...) and close() (e.g. a custom display)

    def epoch_end(self, run, model_now):
        """After every epoch of `run` (which has epoch and complete): the checkpoint (model_now() gives the model
        as it stands), then on_epoch_end."""
        if self.checkpoint_every and run.epoch % self.checkpoint_every == 0 and not run.complete:
            model_now().save(self.checkpoint_path)
        if self.on_epoch_end is not None:
            self.on_epoch_end(run)


def init_weights(vocab_size, dim, seed, bias=None):
    """Input vectors uniform in [−1/dim, 1/dim) (gensim's; word2vec.c's range is half as wide, which cost CBOW
    0.2–0.4 analogy points: docs/performance.md), output vectors zero, the output bias `bias` (zero if None)."""
    rng = np.random.default_rng(seed)
    in_w = rng.random((vocab_size, dim), dtype=np.float32)
    in_w -= np.float32(0.5)  # in place: no temporary of the matrix's size
    in_w /= np.float32(dim / 2)
    out_w = np.zeros((vocab_size, dim), dtype=np.float32)
    out_b = np.zeros(vocab_size, dtype=np.float32) if bias is None else np.asarray(bias, dtype=np.float32).copy()
    return in_w, out_w, out_b


def initial_bias(counts, objective, bias_init="unigram"):
    """The output bias at step 0, when every output vector is zero and so s(w,c) = b_w.

    "unigram" makes the model at step 0 the normalized unigram model p(w|c) = count(w)/Σ counts (Mnih & Teh
    2012): b_w = log(count(w)/Σ counts), so Σ_w exp b_w = 1; for hs, whose bias belongs to the inner nodes,
    b_node = log(n₀/n₁), the counts of the node's branch-0 and branch-1 subtrees, so that the path product
    Π_d σ((1 − 2·code_d)·b_node) is count(w)/Σ counts. "zero": b = 0.
    """
    counts = np.asarray(counts, dtype=np.float64)
    bias = np.zeros(counts.shape[0], dtype=np.float64)
    if bias_init == "unigram":
        if objective == "hs":
            odds = HuffmanTree(counts).branch_log_odds
            bias[:min(len(odds), len(bias))] = odds[:len(bias)]
        else:
            bias[:] = np.log(counts / counts.sum())
    return bias


def run_stats(opts, epoch_losses, raw_words, train_words, vocab_size, train_seconds, prep_seconds, pruning=None):
    """A model's stats: the run's measured figures. pruning: distinct tokens the bounded counting dropped
    ("pruned") and the highest count among them."""
    stats = dict(raw_words=raw_words, train_words=train_words, vocab_size=vocab_size, train_seconds=train_seconds,
                 prep_seconds=prep_seconds, words_per_second=train_words / train_seconds if train_seconds else 0.0)
    if pruning is not None:
        stats.update(pruned_tokens=int(pruning["pruned"]), max_pruned_count=int(pruning["max_pruned_count"]))
    if opts.objective == "infonce":
        # InfoNCE's bound on the context–target mutual information, in nats: log(k + 1) − L
        stats["mi_lower_bound"] = [float(np.log(opts.negative + 1) - loss) for loss in epoch_losses]
    return stats


def trained_model(opts, vocab, weights, epoch_losses, stats, record, optimizer_state=None):
    """The Model of a run: its vocabulary and weights (no output bias without opts.bias), losses, options, stats
    and progress record; an unfinished run's optimizer_state (kept only while the record is not complete)."""
    in_w, out_w, out_b = weights
    state = optimizer_state if optimizer_state and not record.get("complete", True) else None
    return Model(vocab.words, vocab.counts, in_w, out_w, out_b if opts.bias else None, epoch_losses,
                 opts.as_dict(), stats, progress=record, optimizer_state=state)
