"""The training objectives, one small jitted unit each (see base.py for the shared signature)."""
from .base import NoiseTables, ThreadState, objective_type
from .ns import negative_sampling


class ObjectiveSpec:
    def __init__(self, name, function, default_bias, description):
        self.name = name
        self.function = function
        self.default_bias = default_bias
        self.description = description


OBJECTIVES = {
    "ns": ObjectiveSpec("ns", negative_sampling, False, "negative sampling (word2vec)"),
}

__all__ = ["OBJECTIVES", "ObjectiveSpec", "NoiseTables", "ThreadState", "objective_type"]
