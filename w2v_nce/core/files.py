"""Files out, atomically: a file is replaced only once its new content is complete."""
import contextlib
import os
import stat
import tempfile

from . import signals
from .errors import W2VError
from .resources import check_free_space, disk_errors


def check_writable(path):
    """Raise W2VError unless a file can be created at path (its directory exists and is writable)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise W2VError(f"output path is a directory: {path}")
    if not os.path.isdir(directory):
        raise W2VError(f"output directory does not exist: {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise W2VError(f"output directory is not writable: {directory}")


def _file_mode(path):
    """The mode a replaced file keeps, else what open() would give a new one (0666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path, size=None):
    """Yield a binary file object whose content replaces `path` only if the block completes.

    The data goes to a temporary file in the same directory, then os.replace: readers see the old file or
    the whole new one, never a half-written one, and a failure leaves an existing file untouched. `size`, the
    bytes the file will take if known, is checked against the free space first. A full disk is a one-line
    NoSpaceError naming the path. A first SIGTERM/SIGHUP/SIGINT under the command line waits until the file
    is complete; a second one removes the temporary file and ends the process (see signals.py).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if size is not None:
        check_free_space(directory, size, path)
    with signals.held():
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
        with signals.temporary(tmp):
            try:
                os.chmod(tmp, _file_mode(path))  # mkstemp's file is private (0600); outputs get the usual mode
                with disk_errors(path, size):
                    with os.fdopen(fd, "wb") as f:
                        yield f
                        f.flush()
                        os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


def write_bytes(path, data):
    """data (bytes) as the file at path, atomically, its size checked against the free space first."""
    with atomic_write(path, len(data)) as f:
        f.write(data)

