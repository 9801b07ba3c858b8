"""A one-line progress display on stderr: epoch, percent, words/s, learning rate, running loss, ETA."""
import sys
import time


def format_duration(seconds):
    seconds = int(max(seconds, 0) + 0.5)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    def __init__(self, total_words, epochs, stream=None, enabled=True, interval=0.25):
        self.total_words = max(int(total_words), 1)
        self.epochs = epochs
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if self.tty else 10.0
        self._last = 0.0
        self._shown = False

    def update(self, epoch, words_done, elapsed, lr, loss, force=False):
        """words_done: raw words trained so far over all epochs; elapsed: training seconds so far."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        frac = min(words_done / self.total_words, 1.0)
        wps = words_done / elapsed if elapsed > 0 else 0.0
        eta = (self.total_words - words_done) / wps if wps > 0 else 0.0
        width = 20
        filled = int(frac * width)
        bar = "#" * filled + "." * (width - filled)
        loss_text = f"{loss:.4f}" if loss == loss else "-"
        line = (f"epoch {epoch}/{self.epochs} [{bar}] {100 * frac:5.1f}% | {wps:,.0f} words/s | "
                f"lr {lr:.5f} | loss {loss_text} | ETA {format_duration(eta)}")
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True

    def close(self):
        if self.enabled and self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
