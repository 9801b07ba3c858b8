"""The training objectives, one small jitted unit each (see base.py for the shared signature)."""
from .base import NoiseTables, ThreadState, objective_type
from .hs import hierarchical_softmax
from .infonce import infonce
from .nce import nce
from .ns import negative_sampling
from .softmax import softmax


class ObjectiveSpec:
    def __init__(self, name, function, default_bias, samples_noise, description):
        self.name = name
        self.samples_noise = samples_noise  # reads k noise words per example from state.noise_ids
        self.function = function
        self.default_bias = default_bias
        self.description = description


OBJECTIVES = {
    "ns": ObjectiveSpec("ns", negative_sampling, False, True, "negative sampling (word2vec)"),
    "nce": ObjectiveSpec("nce", nce, True, True, "noise-contrastive estimation, self-normalized"),
    "softmax": ObjectiveSpec("softmax", softmax, True, False, "full softmax over the vocabulary"),
    "infonce": ObjectiveSpec("infonce", infonce, True, True, "sampled softmax with log-Q correction"),
    "hs": ObjectiveSpec("hs", hierarchical_softmax, False, False, "hierarchical softmax over a Huffman tree"),
}

__all__ = ["OBJECTIVES", "ObjectiveSpec", "NoiseTables", "ThreadState", "objective_type"]
