"""w2v-nce: word embeddings trained with full softmax, negative sampling, NCE, InfoNCE or hierarchical softmax."""
from .core import kernel_cache, vector_width

kernel_cache.register()  # before any kernel is compiled or loaded from the cache
vector_width.prefer_256_bit_vectors()  # likewise: Numba reads the features once, when it makes its target machine

from .api import train  # noqa: E402
from .core.errors import W2VError  # noqa: E402
from .model.model import Model  # noqa: E402

__version__ = "0.1.0"
__all__ = ["train", "Model", "W2VError", "__version__"]
