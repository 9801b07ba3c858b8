"""The `w2v-nce` group: its options, and what every command's failure becomes on the terminal."""
import signal
import warnings

import click

from ..core import signals
from ..core.errors import W2VError, W2VWarning


class _Group(click.Group):
    """Expected failures (W2VError, and running out of memory) become one line on stderr and exit code 1;
    --debug shows the traceback. SIGINT, SIGTERM and SIGHUP stop a command cleanly (see w2v_nce/core/signals.py);
    its exit code is then 128 + the signal's number (130, 143, 129)."""

    def invoke(self, ctx):
        with signals.stop_on_signals():
            return self._invoke(ctx)

    def _invoke(self, ctx):
        def show_warning(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, W2VWarning):
                click.echo(f"warning: {message}", err=True)
            else:
                _show_warning(message, category, filename, lineno, file, line)

        _show_warning = warnings.showwarning
        warnings.showwarning = show_warning
        try:
            with signals.as_interrupt():
                return super().invoke(ctx)
        except W2VError as e:
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)
        except MemoryError as e:
            if ctx.params.get("debug"):
                raise
            detail = f" ({e})" if str(e) else ""
            click.echo(f"error: out of memory{detail}; lower --dim or --max-vocab, or raise --min-count", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            signum = signals.received() or signal.SIGINT
            click.echo(f"interrupted ({signals.signal_name(signum)}); nothing was saved", err=True)
            ctx.exit(signals.exit_status(signum))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="w2v-nce")
def main(debug):
    """Word embeddings with full softmax, negative sampling, NCE, InfoNCE and hierarchical softmax."""
