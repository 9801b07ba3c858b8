"""w2v-nce: word embeddings trained with full softmax, negative sampling, NCE, InfoNCE or hierarchical softmax."""
from .errors import W2VError
from .model import Model
from .trainer import train

__version__ = "0.1.0"
__all__ = ["train", "Model", "W2VError", "__version__"]
