"""The training objectives, one small jitted unit each (see base.py for the shared signature)."""
import functools
import importlib

from .base import NoiseTables, ThreadState


class ObjectiveSpec:
    """An objective's properties; its kernel (module.attribute of this package) is loaded on first use, so that a
    run loads (from Numba's cache) only the objective it trains."""

    def __init__(self, name, kernel, default_bias, samples_noise, description, window_form=False,
                 window_default=False, cbow_batch_form=False):
        self.name = name
        self.kernel = kernel
        self.samples_noise = samples_noise  # reads k noise words per example from state.noise_ids
        self.window_form = window_form  # can train a skip-gram window as one minibatch (window.py)
        self.cbow_batch_form = cbow_batch_form  # and CBOW windows sharing one noise sample (window.py)
        self.window_default = window_default  # does so unless told otherwise (measured: docs/objectives.md)
        self.default_bias = default_bias
        self.description = description

    @functools.cached_property
    def function(self):
        module, attribute = self.kernel.split(".")
        return getattr(importlib.import_module(f".{module}", __name__), attribute)


OBJECTIVES = {
    "ns": ObjectiveSpec("ns", "ns.negative_sampling", False, True, "negative sampling (word2vec)", True, True,
                        True),
    "nce": ObjectiveSpec("nce", "nce.nce", True, True, "noise-contrastive estimation, self-normalized", True,
                         True, True),
    "softmax": ObjectiveSpec("softmax", "softmax.softmax", True, False, "full softmax over the vocabulary"),
    "infonce": ObjectiveSpec("infonce", "infonce.infonce", True, True, "sampled softmax with log-Q correction",
                             True, True, True),
    "hs": ObjectiveSpec("hs", "hs.hierarchical_softmax", False, False, "hierarchical softmax over a Huffman tree",
                        True),
}

# The blocked full softmax's output-row steps (kernels/blocked.py): row-wise AdaGrad (the default) or word2vec-style SGD
SOFTMAX_STEPS = ("adagrad", "sgd")

__all__ = ["OBJECTIVES", "ObjectiveSpec", "NoiseTables", "SOFTMAX_STEPS", "ThreadState"]
