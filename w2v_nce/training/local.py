"""Training on this machine: corpus → vocabulary → id stream → noise distribution → epochs of Hogwild threads →
Model. The memory it needs is checked before counting (on a prefix of the corpus) and after."""
import contextlib
import shutil
import tempfile
import time

from ..core import signals
from ..core.errors import W2VError
from ..core.resources import (TMP_HINT, check_free_space, check_memory, disk_errors, stream_bytes,
                              temporary_directory, training_memory, vocabulary_that_fits)
from ..kernels.noise import NoiseDistribution
from ..prepare.corpus import MAX_SENTENCE, TextCorpus, as_corpus, estimated_stream_ids
from ..prepare.counting import CountedCorpus
from ..prepare.stream import EncodedCorpus
from ..prepare.vocab import Vocabulary
from .engine import Engine, uses_blocked_softmax
from .epochs import Epochs
from .grow import grown_vocabulary, token_counts
from .run import run_stats, trained_model

# Counted before the whole corpus to refuse early a vocabulary that cannot fit (see check_memory_before_counting).
PREFIX_TOKENS = 1_000_000


def train_locally(corpus, start, hooks, tmp_dir=None):
    """Train on `corpus` (named inputs: a path, directory, glob or "-" of plain or .gz text, a list of them, or
    prepare.inputs.Inputs; or a re-iterable of token lists) from `start` (a run.Start: resolved options, and the
    model to resume), with the run's hooks (run.Hooks). Returns a Model; after Ctrl-C the model holds the training
    so far and model.progress["complete"] is False."""
    if start.record.get("round"):
        raise W2VError("this model was interrupted in the middle of an epoch of training on a Dask cluster; "
                       "resume it on a cluster (--dask-scheduler or --dask-local)")
    opts, resume = start.opts, start.resume
    t_start = time.perf_counter()
    tmp_root = temporary_directory(tmp_dir)
    sentences = as_corpus(corpus, lowercase=opts.lowercase)
    vocab = None
    if resume is not None:
        vocab = Vocabulary(resume.vocab, resume.counts)
        if len(vocab) != resume.input_vectors.shape[0]:
            raise W2VError("the model's vocabulary and vectors differ in size")
    elif getattr(sentences, "rereadable", True):  # standard input or a pipe is read once, by the counting
        check_memory_before_counting(sentences, opts)
    pruning = dict(pruned=0, max_pruned_count=0)
    with contextlib.ExitStack() as finished, contextlib.ExitStack() as cleanup:
        # finished: entered once training is over (a signal then must not lose it), left last
        work_dir = tempfile.mkdtemp(prefix="w2v-nce-", dir=tmp_root)
        cleanup.callback(shutil.rmtree, work_dir, ignore_errors=True)
        cleanup.enter_context(signals.temporary(work_dir, is_dir=True))
        vocab, encoded = _encode(sentences, vocab, start, tmp_root, f"{work_dir}/ids.i32", pruning)
        cleanup.callback(encoded.close)
        start.check_corpus(encoded.raw_words)
        if resume is not None and int(start.record.get("chunk", 0)) > len(encoded.chunks):
            raise W2VError("the model's training progress does not fit this corpus (chunk "
                           f"{int(start.record.get('chunk', 0))} of {len(encoded.chunks)})")
        noise = NoiseDistribution(vocab.counts, opts.noise_exponent)
        weights = start.weights(vocab)
        bar = hooks.display(encoded.raw_words * opts.epochs, opts.epochs)
        prep_seconds = time.perf_counter() - t_start
        engine = Engine(opts, vocab, encoded, noise, weights, optimizer_state=start.optimizer_state())
        epochs = Epochs(engine, bar, start.record)

        def model_now():
            stats = run_stats(opts, epochs.epoch_losses, engine.raw_per_epoch, engine.words_done, len(vocab),
                              engine.train_seconds, prep_seconds, pruning)
            return trained_model(opts, vocab, weights, epochs.epoch_losses, stats, epochs.progress_record(),
                                 engine.optimizer_state())

        epochs.run(lambda run: hooks.epoch_end(run, model_now))
        finished.enter_context(signals.held(raise_after=False))
        model = model_now()
    return model


def _encode(sentences, vocab, start, tmp_root, stream_path, pruning):
    """(vocabulary, EncodedCorpus) of the sentences, the stream written to stream_path: the vocabulary counted
    here, or the resumed model's (vocab). pruning receives what the bounded counting dropped."""
    opts = start.opts
    if isinstance(sentences, TextCorpus):
        # one compiled pass: count and write provisional ids (every token), then remap them in place
        ids = estimated_stream_ids(sentences.inputs)  # None from standard input: its size is not known
        stream_size = None if ids is None else 4 * ids
        if stream_size is not None:
            check_free_space(tmp_root, stream_size, "the encoded corpus", TMP_HINT)
        with disk_errors(stream_path, stream_size, TMP_HINT):
            counted = CountedCorpus(sentences.inputs, stream_path, opts.lowercase, opts.max_vocab_size)
        pruning.update(pruned=counted.pruned, max_pruned_count=counted.max_pruned_count)
        if start.grow is not None:
            vocab = grown_vocabulary(start.grow, counted.word_counts(), opts.min_count, opts.max_vocab,
                                     counted.raw_words, counted.raw_sentences)
        elif vocab is None:
            vocab = counted.vocabulary(opts.min_count, opts.max_vocab)
        check_training_memory(vocab, opts)
        return vocab, counted.encode(vocab)
    if start.grow is not None:
        counts, raw_words, raw_sentences = token_counts(sentences)
        vocab = grown_vocabulary(start.grow, counts, opts.min_count, opts.max_vocab, raw_words, raw_sentences)
    elif vocab is None:
        vocab = Vocabulary.build(sentences, opts.min_count, opts.max_vocab, opts.max_vocab_size, pruning)
    check_training_memory(vocab, opts)
    kept = vocab.raw_words if start.grow is not None else int(vocab.counts.sum())
    if vocab.raw_sentences is not None:
        n_sentences = vocab.raw_sentences
    else:  # resumed: the stream's sentences as saved (at least one per MAX_SENTENCE kept tokens)
        n_sentences = int(start.record.get("sentences", -(-kept // MAX_SENTENCE)))
    stream_size = stream_bytes(kept, n_sentences)
    check_free_space(tmp_root, stream_size, "the encoded corpus", TMP_HINT)
    with disk_errors(stream_path, stream_size, TMP_HINT):
        return vocab, EncodedCorpus.encode(sentences, vocab.index, stream_path)


def check_training_memory(vocab, opts):
    check_memory(training_memory(len(vocab), opts.dim, opts.objective, opts.negative, opts.workers,
                                 uses_blocked_softmax(opts, len(vocab))),
                 f"training {len(vocab):,} words of {opts.dim:,} dimensions")


def check_memory_before_counting(sentences, opts):
    """Refuse, after reading at most PREFIX_TOKENS tokens, a job whose vocabulary is already too large to train
    in the memory available: the words seen min_count times in a prefix of the corpus are a lower bound on the
    vocabulary (capped by max_vocab). Skipped when no prefix could show that (the common case: then the check
    after counting decides)."""
    fit = vocabulary_that_fits(opts.dim, opts.objective, opts.negative, opts.workers,
                               opts.objective == "softmax" and opts.softmax_block is not False)
    cap = opts.max_vocab if opts.max_vocab is not None else float("inf")
    if fit is None or fit >= min(cap, PREFIX_TOKENS // opts.min_count):
        return
    counts = {}
    reached = 0  # words seen min_count times so far
    tokens = 0
    for sent in sentences:
        for w in sent:
            c = counts.get(w, 0) + 1
            counts[w] = c
            if c == opts.min_count:
                reached += 1
        tokens += len(sent)
        if min(reached, cap) > fit or tokens >= PREFIX_TOKENS:
            break
    words = int(min(reached, cap))
    if words > fit:
        check_memory(training_memory(words, opts.dim, opts.objective, opts.negative, opts.workers,
                                     uses_blocked_softmax(opts, words)),
                     f"training at least {words:,} words (seen {opts.min_count}+ times in the first {tokens:,} "
                     f"tokens) of {opts.dim:,} dimensions")
