"""Pass 2: encode the corpus once into a compact int32 id stream on disk that every epoch reads.

Layout: the in-vocabulary ids of each sentence followed by the sentinel -1; out-of-vocabulary tokens are
dropped (as word2vec does) but counted as raw words. The stream is cut into chunks of about `chunk_words`
ids at sentence boundaries; a chunk is the unit of work a thread takes, and the chunk table records each
chunk's [start, end) in the stream and the raw words it covers (for words/s and the learning-rate schedule).
Each epoch reads the stream chunk by chunk from the file (the OS page cache keeps it hot), so memory stays
bounded by the write buffer, the chunk table and one chunk per thread, whatever the corpus length.
"""
import os

import numpy as np

SENTINEL = -1
# A worker's unit of work. Each chunk costs a Python call (under the GIL) around the kernel: on 2 cores, CBOW
# trained about 8% faster with 50,000-word chunks than with 10,000-word ones (measured).
CHUNK_WORDS = 50_000
_FLUSH_IDS = 1 << 20


class EncodedCorpus:
    def __init__(self, path, chunks, n_sentences):
        self.path = path
        self.chunks = chunks  # int64 (n_chunks, 3): start, end, raw words
        self.n_sentences = n_sentences
        self.length = os.path.getsize(path) // 4
        self._fd = os.open(path, os.O_RDONLY)

    @property
    def raw_words(self):
        return int(self.chunks[:, 2].sum())

    @property
    def n_ids(self):
        return self.length - self.n_sentences

    def read(self, start, end):
        """stream[start:end] as a read-only int32 array, read from the file (thread-safe: pread).

        Reading chunk by chunk, rather than mapping the whole stream, keeps the process's resident memory
        independent of the corpus length.
        """
        data = os.pread(self._fd, 4 * (end - start), 4 * start)
        if len(data) != 4 * (end - start):
            raise OSError(f"short read from {self.path}")
        return np.frombuffer(data, dtype=np.int32)

    @property
    def ids(self):
        """The whole stream (for inspection and tests)."""
        return self.read(0, self.length)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @classmethod
    def encode(cls, sentences, index, path, chunk_words=CHUNK_WORDS):
        """Write the id stream of `sentences` (token lists) under vocabulary `index` (word → id) to `path`."""
        chunks = []
        buf = []
        buffered = 0
        written = 0  # stream length so far
        chunk_start = 0
        chunk_raw = 0
        n_sentences = 0
        get = index.get
        with open(path, "wb") as out:
            for sent in sentences:
                chunk_raw += len(sent)
                ids = [i for i in map(get, sent) if i is not None]
                if not ids:
                    continue
                ids.append(SENTINEL)
                arr = np.array(ids, dtype=np.int32)
                buf.append(arr)
                buffered += arr.shape[0]
                written += arr.shape[0]
                n_sentences += 1
                if written - chunk_start >= chunk_words:
                    chunks.append((chunk_start, written, chunk_raw))
                    chunk_start, chunk_raw = written, 0
                if buffered >= _FLUSH_IDS:
                    out.write(np.concatenate(buf).tobytes())
                    buf, buffered = [], 0
            if buf:
                out.write(np.concatenate(buf).tobytes())
        if written > chunk_start or chunk_raw:
            if chunks and written == chunk_start:
                s, e, r = chunks[-1]
                chunks[-1] = (s, e, r + chunk_raw)  # trailing out-of-vocabulary words only
            else:
                chunks.append((chunk_start, written, chunk_raw))
        table = np.array(chunks, dtype=np.int64).reshape(-1, 3)
        return cls(path, table, n_sentences)
