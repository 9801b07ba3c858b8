"""The trained model: the Model and its file, word2vec vector files, and what a model computes (p(w|c), the
likelihood of a text, held-out metrics and word-vector benchmarks)."""
