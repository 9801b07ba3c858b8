"""Corpus preparation: reading text, tokenizing and counting it in one compiled pass, the vocabulary, and the
id stream that every epoch reads."""
