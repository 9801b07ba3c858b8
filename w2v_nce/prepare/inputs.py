"""The files a corpus is read from: what the user names (files, directories, globs, "-" for standard input)
resolved into an ordered list of inputs, and the bytes of each, plain or gzip (told by content, per file).

A directory stands for its regular files, recursively, in sorted path order; hidden files and directories (names
starting with ".") are skipped, and so are FIFOs, sockets and devices found inside it. A glob (a name with *, ?
or [ that is not an existing path) stands for its matches, sorted. The inputs are read one after the other as
one corpus; each file ends a line, so a file without a final newline does not run into the next one.

Every failure is a W2VError naming the path: a name that matches nothing, an empty directory, a directory loop
through a symbolic link, a broken symbolic link, a file that vanishes or cannot be read once reading has begun,
a binary file, a damaged .gz.
"""
import contextlib
import errno
import glob
import gzip
import os
import stat
import sys
import warnings
import zlib

from ..core.errors import W2VError, W2VWarning

STDIN = "-"
BLOCK_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


def display(path):
    """How messages name an input."""
    return "standard input (-)" if path == STDIN else os.fspath(path)


def not_found(path, detail=""):
    return W2VError(f"corpus not found: {path}{detail}")


def check_readable_file(path, what):
    """Raise W2VError, naming the file as `what` ("corpus", "vectors file", ...), unless path names a readable
    file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise W2VError(f"{what} not found: {path}")
    if os.path.isdir(path):
        raise W2VError(f"{what} is a directory, not a file: {path}")
    if not os.access(path, os.R_OK):
        raise W2VError(f"{what} is not readable: {path}")


class Inputs:
    """The inputs of a corpus in reading order (paths; STDIN for standard input), as resolve_inputs found them
    from `given` (the names the user gave).

    rereadable: every input is a regular file (no standard input, pipe or device), so the corpus can be read
    more than once and its size is known."""

    def __init__(self, paths, given, rereadable):
        self.paths = list(paths)
        self.given = list(given)
        self.rereadable = rereadable
        self._stdin_read = False

    def __len__(self):
        return len(self.paths)

    def __str__(self):
        return " ".join(display(g) if g == STDIN else os.fspath(g) for g in self.given)

    @property
    def name(self):
        """A short name: the base names of what was given."""
        return " ".join("stdin" if g == STDIN else os.path.basename(os.path.normpath(os.fspath(g))) or os.fspath(g)
                        for g in self.given)

    def blocks(self, block_bytes=BLOCK_BYTES):
        """(input index, bytes) of every input in turn, read by read_blocks; after an input that does not end
        with a newline, b"\\n" (counted to that input) ends its last line. Standard input is read only once."""
        if STDIN in self.paths:
            if self._stdin_read:
                raise W2VError("standard input (-) can be read only once, and it was read already")
            self._stdin_read = True
        last = len(self.paths) - 1
        for i, path in enumerate(self.paths):
            tail = b"\n"
            for block in read_blocks(path, block_bytes):
                tail = block
                yield i, block
            if i < last and not tail.endswith(b"\n"):
                yield i, b"\n"


def resolve_inputs(corpus):
    """The Inputs of `corpus`: a path, a directory, a glob or "-" (str or PathLike), a list of them, or Inputs
    (returned as they are)."""
    if isinstance(corpus, Inputs):
        return corpus
    given = [corpus] if isinstance(corpus, (str, bytes, os.PathLike)) else list(corpus)
    if not given:
        raise W2VError("no corpus given")
    paths = []
    for spec in given:
        if not isinstance(spec, (str, os.PathLike)):
            raise W2VError(f"a corpus is named by paths (str or os.PathLike), got {type(spec).__name__}")
        spec = os.fspath(spec)
        if spec == STDIN:
            if STDIN in paths:
                raise W2VError("standard input (-) is given twice: it can be read only once")
            if sys.stdin is None or sys.stdin.isatty():
                raise W2VError("standard input (-) is a terminal (or closed): pipe the corpus in, e.g. "
                               "`zcat corpus.gz | w2v-nce train -`")
            paths.append(STDIN)
        elif os.path.exists(spec) or not glob.has_magic(spec):
            if len(spec.split()) > 1 and not os.path.lexists(spec) and not isinstance(corpus, (str, os.PathLike)):
                raise not_found(repr(spec), " (a corpus of sentences is a re-iterable of token lists, not of "
                                            "strings)")
            paths.extend(_named(spec))
        else:
            matches = sorted(glob.glob(spec))
            if not matches:
                raise not_found(f"no file matches {spec}")
            for m in matches:
                paths.extend(_named(m))
    rereadable = all(p != STDIN and stat.S_ISREG(os.stat(p).st_mode) for p in paths)
    return Inputs(paths, given, rereadable)


def _named(path):
    """The files a path that exists stands for: itself, or a directory's files."""
    if os.path.isdir(path):
        return directory_files(path)
    if not os.path.exists(path):
        broken = " (a broken symbolic link)" if os.path.islink(path) else ""
        raise not_found(path, broken)
    check_readable_file(path, "corpus")
    return [path]


def directory_files(root):
    """The regular files under the directory root, recursively, in sorted path order; hidden names skipped."""
    files = []

    def visit(directory, ancestors):
        try:
            st = os.stat(directory)
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                raise W2VError(f"corpus directory loop: {directory} leads back to {ancestors[key]} "
                               f"(a symbolic link to a directory above it)")
            ancestors = {**ancestors, key: directory}
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            raise W2VError(f"cannot read corpus directory {directory}: {e.strerror or e}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                visit(entry.path, ancestors)
            elif entry.is_file():
                check_readable_file(entry.path, "corpus")
                files.append(entry.path)
            elif entry.is_symlink() and not os.path.exists(entry.path):
                raise not_found(entry.path, " (a broken symbolic link)")

    visit(root, {})
    if not files:
        raise W2VError(f"corpus directory has no files to read: {root} (hidden files and directories are "
                       f"skipped)")
    return sorted(files)


class _Prefixed:
    """A binary stream whose first bytes, already read from it to tell gzip from text, are given back first."""

    def __init__(self, head, raw):
        self.head = head
        self.raw = raw

    def read(self, size=-1):
        if not self.head:
            return self.raw.read(size)
        if size is None or size < 0:
            head, self.head = self.head, b""
            return head + self.raw.read()
        head, self.head = self.head[:size], self.head[size:]
        return head + self.raw.read(size - len(head)) if size > len(head) else head

    def close(self):
        pass


class _Descriptor:
    """Reads of standard input straight from its file descriptor: a reader thread left blocked on it holds no lock
    of sys.stdin's buffer, which the interpreter takes when it exits."""

    def __init__(self, fd):
        self.fd = fd

    def read(self, size=-1):
        parts, left = [], size if size is not None and size >= 0 else None
        while left is None or left > 0:
            part = os.read(self.fd, BLOCK_BYTES if left is None else min(left, BLOCK_BYTES))
            if not part:
                break
            parts.append(part)
            if left is not None:
                left -= len(part)
        return b"".join(parts)

    def close(self):
        pass


def _stdin():
    try:
        return _Descriptor(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):  # replaced by a stream without a descriptor
        return sys.stdin.buffer


@contextlib.contextmanager
def _opened(path, byte_range=None):
    """The content of an input as a binary stream: gunzipped if it starts with gzip's magic bytes; standard
    input is left open. byte_range: a plain file positioned at its start."""
    raw = _stdin() if path == STDIN else open(path, "rb")
    try:
        if byte_range is not None:
            raw.seek(byte_range[0])
            yield raw
            return
        head = raw.read(2)
        yield gzip.GzipFile(fileobj=_Prefixed(head, raw), mode="rb") if head == GZIP_MAGIC else _Prefixed(head, raw)
    finally:
        if path != STDIN:
            raw.close()


@contextlib.contextmanager
def reading(path):
    """Errors met reading the input at path (OSError, a damaged gzip stream) become a W2VError naming it."""
    try:
        yield
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, (EOFError, zlib.error, gzip.BadGzipFile)):
            raise W2VError(f"corrupt or truncated gzip file {display(path)}: {e}") from None
        if e.errno == errno.ENOENT:
            raise W2VError(f"corpus file vanished before it was read: {path}") from None
        raise W2VError(f"cannot read corpus {display(path)}: {e.strerror or e}") from None


def read_blocks(path, block_bytes=BLOCK_BYTES, byte_range=None):
    """The bytes of an input (text or gzip) in blocks of block_bytes (the first at least 64 KiB, checked for NUL
    bytes: a binary file is refused); read errors become W2VError naming the input (reading). byte_range=(start,
    end), end None for the input's end: of a plain text file exactly those bytes (start and end at line starts: it
    is sought); of a gzip file, the lines that start in that range of its content (read_ranges)."""
    if byte_range is not None and is_gzip(path):
        yield from (block for _, block in read_ranges(path, [byte_range], block_bytes))
        return
    first = True
    left = None if byte_range is None or byte_range[1] is None else byte_range[1] - byte_range[0]
    with reading(path), _opened(path, byte_range) as f:
        while left is None or left > 0:
            size = block_bytes if not first else max(block_bytes, 1 << 16)
            raw = f.read(size if left is None else min(size, left))
            if not raw:
                break
            if left is not None:
                left -= len(raw)
            if first and b"\x00" in raw:
                raise W2VError(f"{display(path)} looks like a binary file (NUL bytes in its first "
                               f"{len(raw):,} bytes); expected UTF-8 text")
            first = False
            yield raw


def read_ranges(path, ranges, block_bytes=BLOCK_BYTES):
    """(k, bytes) of the byte ranges of one input (increasing, disjoint; end None: to the end), range by range:
    of a plain file each range read as read_blocks reads it; of a gzip file, which cannot be sought, the lines
    that start in each range of its content, gunzipped once from the start up to the last range's last line
    (line_ranges)."""
    if not is_gzip(path):
        for k, byte_range in enumerate(ranges):
            yield from ((k, block) for block in read_blocks(path, block_bytes, byte_range))
        return
    yield from line_ranges(read_blocks(path, block_bytes), ranges)


def line_ranges(blocks, ranges):
    """(k, bytes) of a text given as blocks from its first byte: range k = (start, end) (increasing, disjoint; end
    None: to the end) holds the lines that start in it, from the first line start ≥ start (0, or the byte after the
    first newline at or after start − 1) to the first line start ≥ end: ranges that tile the text give each line to
    exactly one of them."""
    k, at, begin, stop = 0, 0, None, 0  # stop: where range k − 1 stopped (a line start)
    for block in blocks:
        lo = 0  # the bytes of the block before lo are placed
        while k < len(ranges):
            start, end = ranges[k]
            if begin is None:
                if start <= stop:  # no line starts in [start, stop)
                    begin = stop
                else:
                    j = block.find(b"\n", max(lo, start - 1 - at))
                    if j < 0:
                        break
                    begin = at + j + 1
                if end is not None and begin >= end:  # no line starts in the range
                    k, begin, stop = k + 1, None, begin
                    continue
            lo = max(lo, begin - at)
            j = -1 if end is None else block.find(b"\n", max(lo, end - 1 - at))
            if j < 0:
                if len(block) > lo:
                    yield k, block[lo:] if lo else block
                break
            if j + 1 > lo:
                yield k, block[lo:j + 1]
            k, begin, stop, lo = k + 1, None, at + j + 1, j + 1
        if k >= len(ranges):
            return
        at += len(block)


def is_gzip(path):
    with reading(path), open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def uncompressed_size(path):
    """The size of a plain file, or of a .gz file's content: its trailer's size modulo 2³² (ISIZE), raised by
    2³² while below the compressed size less what gzip adds (its header and trailer, a name, 5 bytes per stored
    block of 64 KiB: at most 64 KiB + a thousandth of the file here), so that a small or incompressible file
    keeps its own size."""
    with reading(path):
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if f.read(2) != GZIP_MAGIC or size < 18:
                return size
            f.seek(-4, os.SEEK_END)
            content = int.from_bytes(f.read(4), "little")
    while content < size - (1 << 16) - size // 1000:
        content += 1 << 32
    return content


def plain_size(inputs):
    """The bytes of a corpus of plain files (None if any input is gzip or not a regular file)."""
    if not inputs.rereadable or any(is_gzip(p) for p in inputs.paths):
        return None
    return sum(os.path.getsize(p) for p in inputs.paths)


def warn_invalid_utf8(invalid, stacklevel=3):
    """One warning for the invalid UTF-8 byte sequences replaced while reading: invalid = {path: count}."""
    bad = {p: n for p, n in invalid.items() if n}
    if not bad:
        return
    first = next(iter(bad))
    where = display(first) if len(bad) == 1 else \
        f"{len(bad):,} files of the corpus (the first: {display(first)})"
    warnings.warn(f"{where}: {sum(bad.values()):,} invalid UTF-8 byte sequence(s) replaced by U+FFFD", W2VWarning,
                  stacklevel=stacklevel + 1)
