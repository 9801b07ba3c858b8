"""`w2v-nce bench`: runs of the objectives (and gensim) on one corpus, their summary, the report and its
figures."""
