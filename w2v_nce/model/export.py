"""word2vec's vector files out: text (floats formatted by floattext.py) or binary, written atomically."""
import numpy as np

from ..core.files import atomic_write
from .floattext import row_texts


def write_word2vec(path, words, vectors, binary=False):
    """word2vec format: a header line "V dim", then per word its token and dim floats.

    Text: floats as %.9g (float32 values round-trip exactly), formatted by floattext.row_texts. Binary: the
    token, a space, dim little-endian float32, a newline (the layout word2vec.c and gensim read).
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if len(words) != n:
        raise ValueError("words and vectors differ in length")
    size = None
    if binary:  # known exactly: the header, and per word its UTF-8 bytes, a space, dim float32, a newline
        size = len(f"{n} {dim}\n") + sum(len(w.encode("utf-8")) for w in words) + n * (2 + 4 * dim)
    with atomic_write(path, size) as f:
        f.write(f"{n} {dim}\n".encode("utf-8"))
        if binary:
            little = vectors.astype("<f4", copy=False)
            for word, row in zip(words, little):
                f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            step = 4096
            for s in range(0, n, step):
                texts = row_texts(vectors[s:s + step])
                f.write(b"".join([w.encode("utf-8") + b" " + t + b"\n" for w, t in zip(words[s:s + step], texts)]))
