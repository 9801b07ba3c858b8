"""The learning rate gensim's Word2Vec reaches, in its corpus_file and its iterable mode, with 1 and 2 workers.

    python benchmarks/gensim_schedule.py [--corpus PATH] [--epochs 3,5] [--workers 1,2]

Iterable mode (sentences from gensim's LineSentence): one producer thread gives every job the rate of the
whole run's progress; `min_alpha_yet_reached` is the last rate handed out. corpus_file mode: each worker
thread reads its own byte range of the file and, after each batch, sets its rate from its own progress,
(epoch + its sentences / all sentences) / epochs (word2vec_corpusfile.pyx, get_next_alpha), so with W workers
its epoch ends at (epoch + 1/W) / epochs of the schedule; the rate never reaches Python
(`min_alpha_yet_reached` stays at alpha). This script records each worker's sentence count per epoch (the
value _do_train_epoch returns) and evaluates that same formula at the end of every epoch.
"""
import tempfile

import common


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--epochs", default="3,5")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--arch", default="cbow", help="the schedule is the same for sg; cbow is faster")
    p.add_argument("--alpha", type=float, default=0.025)
    p.add_argument("--min-alpha", type=float, default=1e-4)
    s = p.parse_args(argv)
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    class Recorded(Word2Vec):
        """Word2Vec that keeps (epoch, sentences) of every corpus_file worker's epoch."""

        def _do_train_epoch(self, corpus_file, thread_id, offset, cython_vocab, thread_private_mem, cur_epoch,
                            total_examples=None, total_words=None, **kwargs):
            out = super()._do_train_epoch(corpus_file, thread_id, offset, cython_vocab, thread_private_mem,
                                          cur_epoch, total_examples=total_examples, total_words=total_words,
                                          **kwargs)
            self.worker_epochs.append((cur_epoch, thread_id, out[0], total_examples))
            return out

    a0, a1 = s.alpha, s.min_alpha
    with tempfile.TemporaryDirectory() as tmp:
        corpus = common.plain_copy(s.corpus, tmp)
        print(f"corpus {s.corpus}; alpha {a0}, min_alpha {a1}, {s.arch}")
        print(f"{'mode':<12}{'workers':>8}{'epochs':>7}  rate at each epoch's end (per worker: min–max)"
              f"  min_alpha_yet_reached")
        for epochs in map(int, s.epochs.split(",")):
            for workers in map(int, s.workers.split(",")):
                kw = dict(sg=1 if s.arch == "sg" else 0, vector_size=50, window=5, negative=5, min_count=5,
                          epochs=epochs, workers=workers, seed=1, alpha=a0, min_alpha=a1)
                m = Recorded(**kw)
                m.worker_epochs = []
                m.build_vocab(corpus_file=corpus)
                m.train(corpus_file=corpus, total_examples=m.corpus_count, total_words=m.corpus_total_words,
                        epochs=epochs)
                ends = []
                for e in range(epochs):
                    rates = [a0 - (a0 - a1) * (e + n / total) / epochs for ep, _, n, total in m.worker_epochs
                             if ep == e]
                    ends.append(f"{max(a1, min(rates)):.4f}–{max(a1, max(rates)):.4f}")
                print(f"{'corpus_file':<12}{workers:>8}{epochs:>7}  {', '.join(ends)}  "
                      f"{m.min_alpha_yet_reached:.4f}", flush=True)
                g = Word2Vec(sentences=LineSentence(corpus), **kw)
                print(f"{'iterable':<12}{workers:>8}{epochs:>7}  (one schedule for all workers; "
                      f"{g.epochs} epochs)  {g.min_alpha_yet_reached:.4f}", flush=True)


if __name__ == "__main__":
    main()
