"""The trained model: vocabulary, input and output vectors, output bias, losses and the options used."""
import numpy as np

from ..core.errors import W2VError
from ..kernels.huffman import HuffmanTree
from . import gensim_model, inference
from .export import write_word2vec
from .file import read_model_file, write_model_file


class Model:
    """A trained embedding model.

    vocab: words in index order; counts: their corpus counts; input_vectors v_c (the word vectors) and
    output_vectors u_w, float32 (V × dim); output_bias b_w or None; epoch_losses: mean training loss per
    epoch; options: the training options; stats: measured figures of the run (seconds, words/s, ...);
    progress: where training stands (epoch, chunk, ...; progress["complete"] is False after an interruption);
    tree: for hs, a Huffman tree other than the one the counts build (a gensim model's, see gensim_model.py),
    kept in the model's file; None: the tree of the counts. optimizer_state: what an unfinished run's optimizer
    carries over to its resumption (file.OPTIMIZER_STATE: name → array of length V), {} otherwise.
    """

    def __init__(self, vocab, counts, input_vectors, output_vectors, output_bias=None, epoch_losses=(),
                 options=None, stats=None, progress=None, tree=None, optimizer_state=None):
        self.vocab = list(vocab)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.input_vectors = input_vectors
        self.output_vectors = output_vectors
        self.output_bias = output_bias
        self.epoch_losses = list(epoch_losses)
        self.options = dict(options or {})
        self.stats = dict(stats or {})
        self.progress = dict(progress or {})  # where training stands, for resuming (training/epochs.py)
        if tree is not None and tree.lengths.shape[0] != len(self.vocab):
            raise W2VError(f"the Huffman tree has {tree.lengths.shape[0]:,} words, the vocabulary {len(self.vocab):,}")
        self.tree = tree
        self.optimizer_state = dict(optimizer_state or {})
        self._index = None
        self._tree = tree

    @property
    def index(self):
        """word → id."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.vocab)}
        return self._index

    @property
    def huffman_tree(self):
        """The Huffman tree of the vocabulary (hierarchical softmax's output layer): the given tree, or the tree of
        the counts, built on first use."""
        if self._tree is None:
            self._tree = HuffmanTree(self.counts)
        return self._tree

    @property
    def dim(self):
        return self.input_vectors.shape[1]

    def __len__(self):
        return len(self.vocab)

    def __repr__(self):
        return (f"Model(vocab={len(self.vocab)}, dim={self.dim}, objective={self.options.get('objective')!r}, "
                f"arch={self.options.get('arch')!r}, epochs={len(self.epoch_losses)})")

    def __getitem__(self, word):
        return self.input_vectors[self.index[word]]

    def scores(self, word_ids):
        """s(w, c) = u_w · v_c (+ b_w) for each given input word c (rows) and every word w (columns), float64.

        For hierarchical softmax, whose output vectors belong to the Huffman tree's inner nodes, the score is
        log p(w|c) = Σ_d log σ(±u_node·v_c (+ b_node)) along w's path (so log Σ_w exp s(w,c) = 0).
        """
        ids = np.atleast_1d(np.asarray(word_ids, dtype=np.int64))
        return self.context_scores(self.input_vectors[ids])

    def context_scores(self, h):
        """Scores of every word for arbitrary context vectors h (n × dim), as scores() defines them."""
        h = np.atleast_2d(np.asarray(h, dtype=np.float64))
        s = h @ self.output_vectors.T.astype(np.float64)
        if self.output_bias is not None:
            s += self.output_bias.astype(np.float64)
        if self.options.get("objective") == "hs":
            inner = s[:, :max(len(self) - 1, 0)]
            step = 16  # bounds the n × V × path-length temporary
            tree = self.huffman_tree
            s = np.concatenate([tree.log_probabilities(inner[i:i + step]) for i in range(0, len(h), step)])
        return s

    def log_prob(self, context_words, target_words, normalize="exact"):
        """log p(w|c) of each target word w (a float for one word given as a str), given the context: one word
        (skip-gram) or the mean of the given words (CBOW). normalize="exact" divides by Z(c) = Σ_w exp s(w,c)
        (O(V)); "self" takes exp s(w,c) as it is (O(1); a probability for nce and hs only, else a warning).
        See w2v_nce.model.inference."""
        return inference.log_prob(self, context_words, target_words, normalize)

    def predict(self, context_words, topn=10, normalize="exact"):
        """The topn most probable words given the context, [(word, probability)], most probable first."""
        return inference.predict(self, context_words, topn, normalize)

    def score_text(self, path_or_sentences, window=None, normalize="exact"):
        """Mean negative log-likelihood per (context, target) pair of a text, its perplexity, the number of pairs
        and (exact) the mean log Z: a dict, see w2v_nce.model.inference.score_text."""
        return inference.score_text(self, path_or_sentences, window, normalize)

    def to_keyedvectors(self):
        """The input vectors as a gensim KeyedVectors (with the word counts as its 'count' attribute)."""
        from gensim.models import KeyedVectors

        kv = KeyedVectors(self.dim, count=0, dtype=np.float32)
        kv.add_vectors(self.vocab, self.input_vectors.copy())
        kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
        kv.expandos["count"][:] = self.counts
        return kv

    def to_gensim(self, bias=None):
        """A gensim Word2Vec holding this model (copies of its arrays), on which gensim's predict_output_word,
        score (hs) and train work. A model with an output bias needs bias="fold" (one more dimension carries it)
        or bias="drop". See w2v_nce.model.gensim_model."""
        return gensim_model.to_gensim(self, bias)

    @classmethod
    def from_gensim(cls, w2v, objective=None):
        """The model of a gensim Word2Vec the caller has loaded (ns: syn1neg, hs: syn1 and its Huffman tree;
        objective names one when it trained both). See w2v_nce.model.gensim_model."""
        return cls(**gensim_model.from_gensim(w2v, objective))

    def save_word2vec_format(self, path, binary=False):
        write_word2vec(path, self.vocab, self.input_vectors, binary=binary)

    def save(self, path):
        """Everything needed to evaluate or continue later, as one .npz file (written atomically; file.py)."""
        write_model_file(path, self)

    @classmethod
    def load(cls, path):
        """The model saved at path by save(). Nothing is unpickled; the file is validated first (see
        file.model_file_arrays), and anything that is not a complete w2v-nce model raises ModelFileError with one line:
        "PATH is not a w2v-nce model (reason)", or the format versions for a file of a future version."""
        a = read_model_file(path)
        return cls(a["vocab"], a["counts"], a["input_vectors"], a["output_vectors"], a.get("output_bias"),
                   a["epoch_losses"].tolist(), a["options"], a["stats"], a.get("progress", {}), a.get("tree"),
                   a["optimizer_state"])
