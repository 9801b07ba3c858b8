"""What the commands share: the training options (click), their resolution, and the corpus argument."""
import click

from ..objectives import OBJECTIVES, SOFTMAX_STEPS
from ..prepare.inputs import resolve_inputs
from ..prepare.sample import bundled_corpus_path
from ..training.options import OptionError
from ..training.run import resolve_start

OBJECTIVE_NAMES = list(OBJECTIVES)
POS_INT = click.IntRange(min=1)
NONNEG_FLOAT = click.FloatRange(min=0.0)

_TRAINING_OPTIONS = [
    click.option("--arch", type=click.Choice(["sg", "cbow"]), default="sg", show_default=True),
    click.option("--dim", type=POS_INT, default=100, show_default=True, help="Vector dimension."),
    click.option("--window", type=POS_INT, default=5, show_default=True, help="Maximum context window."),
    click.option("--fixed-window", is_flag=True, help="Always use the full window (no random shrinking)."),
    click.option("--negative", type=POS_INT, default=5, show_default=True, help="Noise samples per example (k)."),
    click.option("--shared-negatives/--per-example-negatives", default=True, show_default=True,
                 help="Skip-gram: draw the k noise words once per target and share them among its context words "
                      "(faster, same measured quality), or afresh for every (context, target) example as "
                      "word2vec does. CBOW: once per minibatch of two windows, or once per window."),
    click.option("--window-batch/--per-example-updates", default=None,
                 help="Train minibatches, every output row written once per minibatch (HogBatch): skip-gram "
                      "with ns, nce, infonce or hs the examples of a window, CBOW with ns, nce or infonce 2 "
                      "windows far apart in the sentence sharing one noise sample; or each example in turn as "
                      "word2vec does [ns, nce, infonce: minibatches; hs, and every objective on a cluster: per "
                      "example]. --per-example-negatives implies --per-example-updates."),
    click.option("--sample", type=NONNEG_FLOAT, default=1e-3, show_default=True,
                 help="Subsampling threshold for frequent words (0 = off)."),
    click.option("--min-count", type=POS_INT, default=5, show_default=True, help="Drop rarer words."),
    click.option("--max-vocab", type=POS_INT, default=None, help="Keep only the most frequent words."),
    click.option("--max-vocab-size", type=POS_INT, default=None,
                 help="Distinct tokens counted at a time [10,000,000]: when the counting table is full, its rarest "
                      "tokens are pruned (word2vec's ReduceVocab), which bounds the memory of counting."),
    click.option("--epochs", type=POS_INT, default=5, show_default=True),
    click.option("--alpha", type=NONNEG_FLOAT, default=None,
                 help="Initial learning rate [0.04 sg, 0.075 cbow; softmax 0.025, 0.05]."),
    click.option("--min-alpha", type=NONNEG_FLOAT, default=1e-4, show_default=True, help="Final learning rate."),
    click.option("--noise-exponent", type=click.FloatRange(0.0, 1.0), default=0.75, show_default=True,
                 help="Q(w) ∝ count(w)^exponent."),
    click.option("--bias-init", type=click.Choice(["unigram", "zero"]), default="unigram", show_default=True,
                 help="Output bias at step 0 (objectives with a bias): log unigram probabilities, so training "
                      "starts from the normalized unigram model, or zero."),
    click.option("--softmax-step", type=click.Choice(SOFTMAX_STEPS), default="adagrad", show_default=True,
                 help="Full softmax on blocks (vocabularies above 512 words): the output rows' step, row-wise "
                      "AdaGrad (reaches the likelihood's optimum) or word2vec-style SGD."),
    click.option("--workers", type=POS_INT, default=None, help="Threads [all cores]."),
    click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True),
    click.option("--lowercase", is_flag=True, help="Lowercase the corpus."),
    click.option("--tmp-dir", type=click.Path(file_okay=False), default=None,
                 help="Directory for temporary files (the encoded corpus: 4 bytes per kept token) [$TMPDIR, else "
                      "the system's]."),
]


def training_options(f):
    for option in reversed(_TRAINING_OPTIONS):
        f = option(f)
    return f


def resolve(options, resume=None, continue_from=None, on_cluster=False):
    """The training's Start (training.run.resolve_start): its options resolved, once; a value that is invalid
    with another one is a usage error naming it."""
    try:
        return resolve_start(resume, options, continue_from, on_cluster)
    except OptionError as e:
        raise click.BadParameter(e.detail, param_hint=f"'--{e.option.replace('_', '-')}'") from None


def corpus_names(corpus):
    """The CORPUS arguments as given (files, directories, globs, "-"), or the bundled sample's path."""
    return list(corpus) or [bundled_corpus_path()]


def corpus_inputs(corpus):
    """The inputs the CORPUS arguments name (prepare.inputs.Inputs), resolved and checked here."""
    return resolve_inputs(corpus_names(corpus))
