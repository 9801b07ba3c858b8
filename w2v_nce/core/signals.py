"""Stopping on signals: SIGINT (Ctrl-C), SIGTERM (what SLURM, Kubernetes and systemd send before they kill a job)
and SIGHUP (a closed terminal or session).

The command line installs one handler for the three (stop_on_signals). The first signal asks the job to stop
cleanly: it raises KeyboardInterrupt in the main thread, exactly as Ctrl-C does, so training stops after the
chunks in progress and the command saves what it has. While a file is being written (held(): atomic_write and
the command's final outputs), the first signal waits until the file is complete. A second signal ends the
process at once with status 128 + its number: the temporary files registered with temporary() are removed, and
every other file is either complete or untouched (all writes go to a temporary file renamed into place).

A KeyboardInterrupt raised while a compiled (Numba) function is calling back into Python reaches its caller as a
SystemError ("... returned a result with an exception set") caused by it; as_interrupt() turns it back.

Numba's compiler (compiling a kernel or loading it from the on-disk cache) is held the same way: an exception
raised in the middle of it leaves half-built LLVM objects behind (their destructors then fail at exit), so a
first signal that arrives while Numba holds its compiler lock is raised once the lock is released.
"""
import contextlib
import os
import shutil
import signal
import threading

try:  # Numba's event API (numba.core.event), present since Numba 0.53
    from numba.core.event import Listener as _NumbaListener, register as _register, unregister as _unregister
except ImportError:
    _NumbaListener = None

HANDLED = ("SIGINT", "SIGTERM", "SIGHUP")


class _State:
    received = None  # the number of the first signal received, while handlers are installed
    pending = False  # a first signal arrived while held and is still to be raised
    hold_depth = 0
    temporaries = {}  # path → True for a directory


_state = _State()


def signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(signum):
    """The shell's convention for a process ended by a signal: 128 + its number (130, 143, 129)."""
    return 128 + int(signum)


def received():
    """The number of the first signal received since stop_on_signals() began, or None."""
    return _state.received


def _remove_temporaries():
    for path, is_dir in list(_state.temporaries.items()):
        try:
            if is_dir:
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def _handler(signum, frame):
    name = signal_name(signum)
    if _state.received is not None:  # the second signal: end now
        _remove_temporaries()
        with contextlib.suppress(OSError):
            os.write(2, f"\n{name} again: stopped at once without saving; files already written are intact\n"
                        .encode())
        os._exit(exit_status(signum))
    _state.received = signum
    with contextlib.suppress(OSError):
        os.write(2, f"\n{name}: stopping after the work in progress and saving it "
                    f"(send it again to stop at once, without saving)\n".encode())
    if _state.hold_depth:
        _state.pending = True
    else:
        raise KeyboardInterrupt


def is_interrupt(exc):
    """Whether exc is KeyboardInterrupt or holds one in its chain of causes (see as_interrupt)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def as_interrupt():
    """Raise KeyboardInterrupt for a SystemError that one caused inside a compiled function's call."""
    try:
        yield
    except SystemError as e:
        if is_interrupt(e):
            raise KeyboardInterrupt from e
        raise


if _NumbaListener is not None:
    class _HoldWhileCompiling(_NumbaListener):
        """The main thread's sections under Numba's compiler lock (compiling, loading from the cache) are held()
        sections. Numba takes the lock re-entrantly, so only the outermost section may raise."""

        def __init__(self):
            self.depth = 0  # sections entered since this listener was registered

        def on_start(self, event):
            if threading.current_thread() is threading.main_thread():
                self.depth += 1
                _state.hold_depth += 1

        def on_end(self, event):
            if threading.current_thread() is not threading.main_thread() or self.depth == 0:
                return
            self.depth -= 1
            _state.hold_depth -= 1
            if _state.hold_depth == 0 and _state.pending:  # the outermost held section: raise the held signal
                _state.pending = False
                raise KeyboardInterrupt


@contextlib.contextmanager
def _held_while_compiling():
    if _NumbaListener is None:  # another Numba layout: compiling stays interruptible
        yield
        return
    listener = _HoldWhileCompiling()
    _register("numba:compiler_lock", listener)
    try:
        yield
    finally:
        _unregister("numba:compiler_lock", listener)
        _state.hold_depth -= listener.depth


@contextlib.contextmanager
def stop_on_signals():
    """Handle SIGINT, SIGTERM and SIGHUP as described above for the duration of the block (main thread only;
    elsewhere the block runs with the process's handlers unchanged)."""
    previous = {}
    try:
        for name in HANDLED:
            sig = getattr(signal, name, None)
            if sig is not None:
                previous[sig] = signal.signal(sig, _handler)
    except ValueError:  # not the main thread
        pass
    _state.received, _state.pending = None, False
    try:
        with _held_while_compiling() if previous else contextlib.nullcontext():
            yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state.received, _state.pending = None, False


@contextlib.contextmanager
def held(raise_after=True):
    """Hold a first signal until the block ends (a file being written is completed); then raise KeyboardInterrupt
    for it if raise_after (and the block did not fail). A second signal still ends the process at once."""
    _state.hold_depth += 1
    try:
        yield
    finally:
        _state.hold_depth -= 1
    if _state.hold_depth == 0 and _state.pending:
        _state.pending = False
        if raise_after:
            raise KeyboardInterrupt


@contextlib.contextmanager
def temporary(path, is_dir=False):
    """Register a temporary file or directory for removal if a second signal ends the process inside the block."""
    path = os.fspath(path)
    _state.temporaries[path] = is_dir
    try:
        yield path
    finally:
        _state.temporaries.pop(path, None)
