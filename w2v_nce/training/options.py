"""Training options: defaults, checks and derived values, shared by the API and the CLI. resolved() is called
once where a training starts (training/run.py resolve_start); everything after it receives the result."""
from dataclasses import asdict, dataclass
from typing import Optional

from ..core.errors import W2VError
from ..core.resources import available_cores
from ..objectives import OBJECTIVES, SOFTMAX_STEPS
from ..prepare.counting import DEFAULT_MAX_VOCAB_SIZE


class OptionError(W2VError):
    """An invalid option value; `option` names it (as the API keyword)."""

    def __init__(self, option, message):
        super().__init__(f"{option}: {message}")
        self.option = option
        self.detail = message


BIAS_INITS = ("unigram", "zero")


@dataclass
class TrainOptions:
    objective: str = "ns"
    arch: str = "sg"
    dim: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    min_count: int = 5
    max_vocab: Optional[int] = None
    max_vocab_size: Optional[int] = None  # bound of the counting table (distinct tokens); None: the default
    epochs: int = 5
    alpha: Optional[float] = None  # 0.04 for sg, 0.075 for cbow (softmax: 0.025, 0.05)
    min_alpha: float = 1e-4
    noise_exponent: float = 0.75
    workers: Optional[int] = None  # all cores
    seed: int = 1
    fixed_window: bool = False
    bias: Optional[bool] = None  # the objective's default
    bias_init: str = "unigram"  # output bias at step 0: log unigram probabilities ("unigram") or 0 ("zero")
    lowercase: bool = False
    shared_negatives: bool = True  # one noise sample per skip-gram target, shared by its contexts (CBOW: per minibatch)
    # skip-gram: a window's examples as one minibatch; CBOW (ns, nce, infonce): 2 windows far apart as one
    # (objectives/window.py); None: the objective's default (ns, nce, infonce: on; hs off; off on a cluster)
    window_batch: Optional[bool] = None
    softmax_block: Optional[bool] = None  # full softmax on blocks (True) or per example (False); None: by vocabulary
    softmax_step: str = "adagrad"  # blocked full softmax's output-row step: "adagrad" or "sgd" (kernels/blocked.py)

    def resolved(self, on_cluster=False):
        """A checked copy with the defaults that depend on other options (and, for window_batch, on whether the run
        is on a cluster) filled in."""
        o = TrainOptions(**asdict(self))
        if o.objective not in OBJECTIVES:
            raise OptionError("objective", f"unknown objective {o.objective!r} (choose from {', '.join(OBJECTIVES)})")
        if o.arch not in ("sg", "cbow"):
            raise OptionError("arch", f"unknown architecture {o.arch!r} (choose sg or cbow)")
        for name in ("dim", "window", "negative", "epochs"):
            _positive_int(name, getattr(o, name))
        _positive_int("min_count", o.min_count)
        if o.max_vocab is not None:
            _positive_int("max_vocab", o.max_vocab)
        if o.max_vocab_size is None:
            o.max_vocab_size = DEFAULT_MAX_VOCAB_SIZE
        _positive_int("max_vocab_size", o.max_vocab_size)
        if o.workers is None:
            o.workers = available_cores()
        _positive_int("workers", o.workers)
        if o.alpha is None:
            o.alpha = default_alpha(o.objective, o.arch)
        for name in ("sample", "alpha", "min_alpha"):
            v = getattr(o, name)
            if not isinstance(v, (int, float)) or not v == v or v < 0 or v == float("inf"):
                raise OptionError(name, f"must be a finite number ≥ 0, got {v!r}")
        if o.min_alpha > o.alpha:
            raise OptionError("min_alpha", f"must not exceed alpha ({o.min_alpha} > {o.alpha})")
        if not isinstance(o.noise_exponent, (int, float)) or not 0.0 <= o.noise_exponent <= 1.0:
            raise OptionError("noise_exponent", f"must lie in [0, 1], got {o.noise_exponent!r}")
        if not isinstance(o.seed, int) or isinstance(o.seed, bool) or o.seed < 0:
            raise OptionError("seed", f"must be an integer ≥ 0, got {o.seed!r}")
        if o.window_batch is None:
            o.window_batch = default_window_batch(o, on_cluster)
        o.window_batch = bool(o.window_batch) and applies_window_batch(o)
        if o.bias is None:
            o.bias = OBJECTIVES[o.objective].default_bias
        if o.softmax_step not in SOFTMAX_STEPS:
            raise OptionError("softmax_step", f"unknown step {o.softmax_step!r} (choose {' or '.join(SOFTMAX_STEPS)})")
        if o.bias_init not in BIAS_INITS:
            raise OptionError("bias_init", f"unknown bias initialization {o.bias_init!r} (choose unigram or zero)")
        return o

    def as_dict(self):
        return asdict(self)

    def learning_rate(self, frac):
        """The rate after a fraction frac of all epochs' words: linear from alpha to min_alpha (word2vec's)."""
        return self.alpha - (self.alpha - self.min_alpha) * min(max(frac, 0.0), 1.0)


def default_window_batch(o, on_cluster):
    """The objective's default (ns, nce, infonce: minibatches; hs: one example at a time), but one example (CBOW: one
    window) at a time on a cluster: there the minibatches lost analogy points against the local run (CBOW on 4
    workers 0.4 more; skip-gram ns on 8 workers 0.8 more, infonce 2.5 more) and gain little speed, a cluster's
    workers having one thread each (docs/cluster.md)."""
    return OBJECTIVES[o.objective].window_default and not on_cluster


def applies_window_batch(o):
    """Whether examples can train as minibatches: an objective with a window form (ns, nce, infonce, hs), for CBOW
    one with a CBOW minibatch form (ns, nce, infonce), and for the sampling ones a noise sample shared by the
    minibatch (with --per-example-negatives every example has rows of its own)."""
    spec = OBJECTIVES[o.objective]
    if o.arch == "cbow" and not spec.cbow_batch_form:
        return False
    return spec.window_form and (o.shared_negatives or not spec.samples_noise)


def default_alpha(objective, arch):
    """The default initial learning rate (README, Learning rate): 0.04 skip-gram, 0.075 CBOW; full softmax keeps
    word2vec's 0.025 / 0.05, at which its blocked updates stay stable (at 0.04 they diverged)."""
    if objective == "softmax":
        return 0.05 if arch == "cbow" else 0.025
    return 0.075 if arch == "cbow" else 0.04


def _positive_int(name, v):
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise OptionError(name, f"must be an integer ≥ 1, got {v!r}")
