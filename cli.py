"""w2v-nce command line: `w2v-nce train CORPUS` (and more subcommands), a thin layer over the w2v_nce API."""
import os
import sys
import time

import click

def _bundled_corpus():
    from w2v_nce.sample import bundled_corpus_path

    return bundled_corpus_path()


class _Group(click.Group):
    """Expected failures (W2VError) become one line on stderr and exit code 1; --debug shows the traceback."""

    def invoke(self, ctx):
        from w2v_nce.errors import W2VError

        try:
            return super().invoke(ctx)
        except W2VError as e:
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="w2v-nce")
def main(debug):
    """Word embeddings with full softmax, negative sampling, NCE, InfoNCE and hierarchical softmax."""


POS_INT = click.IntRange(min=1)
NONNEG_FLOAT = click.FloatRange(min=0.0)


def _objective_choices():
    from w2v_nce.objectives import OBJECTIVES

    return list(OBJECTIVES)


@main.command()
@click.argument("corpus", required=False, type=click.Path(dir_okay=True))
@click.option("-o", "--output", default="vectors.txt", show_default=True, type=click.Path(),
              help="Word vectors in word2vec format.")
@click.option("--binary", is_flag=True, help="Write word2vec binary format instead of text.")
@click.option("--save-model", type=click.Path(), help="Also save the full model (.npz) for evaluation or reuse.")
@click.option("--objective", type=click.Choice(_objective_choices()), default="ns", show_default=True)
@click.option("--arch", type=click.Choice(["sg", "cbow"]), default="sg", show_default=True)
@click.option("--dim", type=POS_INT, default=100, show_default=True, help="Vector dimension.")
@click.option("--window", type=POS_INT, default=5, show_default=True, help="Maximum context window.")
@click.option("--fixed-window", is_flag=True, help="Always use the full window (no random shrinking).")
@click.option("--negative", type=POS_INT, default=5, show_default=True, help="Noise samples per example (k).")
@click.option("--sample", type=NONNEG_FLOAT, default=1e-3, show_default=True,
              help="Subsampling threshold for frequent words (0 = off).")
@click.option("--min-count", type=POS_INT, default=5, show_default=True, help="Drop rarer words.")
@click.option("--max-vocab", type=POS_INT, default=None, help="Keep only the most frequent words.")
@click.option("--epochs", type=POS_INT, default=5, show_default=True)
@click.option("--alpha", type=NONNEG_FLOAT, default=None, help="Initial learning rate [0.025 sg, 0.05 cbow].")
@click.option("--min-alpha", type=NONNEG_FLOAT, default=1e-4, show_default=True, help="Final learning rate.")
@click.option("--noise-exponent", type=click.FloatRange(0.0, 1.0), default=0.75, show_default=True,
              help="Q(w) ∝ count(w)^exponent.")
@click.option("--bias/--no-bias", default=None, help="Output bias b_w [on for softmax/nce/infonce, off for ns/hs].")
@click.option("--workers", type=POS_INT, default=None, help="Threads [all cores].")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--lowercase", is_flag=True, help="Lowercase the corpus.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def train(corpus, output, binary, save_model, quiet, **options):
    """Train word vectors on CORPUS (plain text or .gz, one sentence per line; default: the bundled sample)."""
    from w2v_nce.corpus import check_corpus_path
    from w2v_nce.export import check_writable
    from w2v_nce.options import OptionError, TrainOptions
    from w2v_nce.trainer import train as train_model

    corpus = corpus or _bundled_corpus()
    check_corpus_path(corpus)
    try:
        TrainOptions(**options).resolved()
    except OptionError as e:
        raise click.BadParameter(e.detail, param_hint=f"'--{e.option.replace('_', '-')}'") from None
    for path in (output, save_model):
        if path:
            check_writable(path)
    t0 = time.perf_counter()
    model = train_model(corpus, progress=not quiet, **options)
    model.save_word2vec_format(output, binary=binary)
    if save_model:
        model.save(save_model)
    if not quiet:
        s = model.stats
        saved = output + (f", {save_model}" if save_model else "")
        click.echo(f"{s['train_words']:,} words in {s['train_seconds']:.1f} s ({s['words_per_second']:,.0f} words/s"
                   f", {time.perf_counter() - t0:.1f} s in all), vocabulary {len(model):,}, final loss "
                   f"{model.epoch_losses[-1]:.4f} → {saved}", err=True)


if __name__ == "__main__":
    main()
