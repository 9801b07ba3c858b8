"""Disk space and memory a job needs, checked before it starts writing or allocating, with one-line errors.

Disk: the encoded id stream takes 4 bytes per kept token and per sentence end; a file is written next to its
final path, whose file system must hold all of it before the rename. A write that still meets a full disk
(another process filled it) becomes a W2VError naming the path (disk_errors).
Memory: the weights and the buffers that training and evaluation allocate, against the memory available now
(MemAvailable, or the cgroup's limit when lower: a container's). Cores: those this process may run on.
"""
import contextlib
import errno
import os
import tempfile

from .errors import NoSpaceError, W2VError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
# What to do when the temporary directory is full (appended to the error).
TMP_HINT = "; free some space or choose another directory with --tmp-dir (or TMPDIR)"


def format_bytes(n, digits=1):
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{int(n):,} bytes" if unit == "bytes" else f"{n:,.{digits}f} {unit}"
        n /= 1024


def format_two(needed, available):
    """needed and available, with enough digits that the first reads larger than the second."""
    for digits in (1, 2, 3):
        a, b = format_bytes(needed, digits), format_bytes(available, digits)
        if a != b:
            break
    return a, b


# --- disk -------------------------------------------------------------------------------------------------

def temporary_directory(tmp_dir=None):
    """The directory for temporary files: tmp_dir, else $TMPDIR, else the system's; W2VError unless usable."""
    if tmp_dir is None and os.environ.get("TMPDIR"):
        tmp_dir, source = os.environ["TMPDIR"], "TMPDIR"
    else:
        source = "--tmp-dir"
    if tmp_dir is None:
        return tempfile.gettempdir()
    tmp_dir = os.fspath(tmp_dir)
    if not os.path.isdir(tmp_dir):
        raise W2VError(f"temporary directory ({source}) does not exist or is not a directory: {tmp_dir}")
    if not os.access(tmp_dir, os.W_OK | os.X_OK):
        raise W2VError(f"temporary directory ({source}) is not writable: {tmp_dir}")
    return tmp_dir


def free_bytes(directory):
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize


def check_free_space(directory, needed, what, hint=""):
    """Raise W2VError if the file system of `directory` has fewer than `needed` bytes free."""
    free = free_bytes(directory)
    if needed > free:
        need, have = format_two(needed, free)
        raise NoSpaceError(f"not enough disk space in {directory} for {what}: it needs {need}, {have} are free{hint}")


def stream_bytes(kept_tokens, sentences):
    """Size of the encoded id stream: an int32 per kept token and per sentence end."""
    return 4 * (int(kept_tokens) + int(sentences))


@contextlib.contextmanager
def disk_errors(path, needed=None, hint=""):
    """Turn a full disk (ENOSPC, EDQUOT) met inside the block into a W2VError naming `path`."""
    try:
        yield
    except OSError as e:
        if e.errno not in NO_SPACE:
            raise
        size = f" (it needs {format_bytes(needed)})" if needed else ""
        raise NoSpaceError(f"no space left on device writing {path}{size}{hint}") from None


# --- cores and memory -------------------------------------------------------------------------------------

def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _cgroup_available():
    """Bytes the cgroup (v2 or v1) still allows, or None without a limit."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 1 << 60:
            return None
        return max(int(limit) - usage, 0)
    return None


def available_memory():
    """Bytes of memory a new allocation can use now: /proc/meminfo's MemAvailable (else free physical pages),
    lowered to the cgroup's remaining limit if there is one; None if unknown."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    cgroup = _cgroup_available()
    if cgroup is not None:
        avail = cgroup if avail is None else min(avail, cgroup)
    return avail


def training_memory(vocab_size, dim, objective, negative=5, workers=1, blocked=False, max_sentence=1000,
                    hs_depth=None, resume=False):
    """The bytes training allocates for a vocabulary of vocab_size words, itemized (dict name → bytes).

    Weights: input and output float32 matrices (V × dim) and the bias; the noise tables (alias table, log Q and
    log kQ: 28 bytes a word) and subsampling probabilities; each thread's buffers (a float64 scratch row of V,
    vectors, a sentence); hs: the Huffman paths (5 bytes per word and level); blocked softmax: a block of scores
    (256 × V float32), the output-step temporaries (2 × V × dim float32, one of them AdaGrad's gradient) and
    AdaGrad's sums (16 bytes a word); resume: the loaded weights too.
    """
    V, d = int(vocab_size), int(dim)
    items = {"input and output vectors": 2 * 4 * V * d, "bias, noise and subsampling tables": (4 + 28 + 4) * V,
             "per-thread buffers": workers * (8 * V + 8 * d + 4 * max_sentence + 16 * (negative + 1) + 1024)}
    if objective == "hs":
        depth = hs_depth if hs_depth is not None else max(V.bit_length() * 2, 1)
        items["Huffman tree"] = 5 * V * depth + 64 * V
    if objective == "softmax" and blocked:
        items["softmax blocks"] = 4 * 256 * V + 2 * 4 * V * d + 2 * 4 * 256 * d + 16 * V
    if resume:
        items["the resumed model's weights"] = 2 * 4 * V * d + 4 * V
    return items


def evaluation_memory(vocab_size, dim, objective, block_rows=256, hs_depth=None):
    """The bytes held-out evaluation (bench) allocates on top of the model: the float64 output matrix, a block
    of float64 scores and its temporaries, and for hs the path scores of 16 contexts at a time."""
    V, d = int(vocab_size), int(dim)
    items = {"evaluation": 8 * V * d + 3 * 8 * block_rows * V + 4 * V * d}
    if objective == "hs":
        depth = hs_depth if hs_depth is not None else max(V.bit_length() * 2, 1)
        items["evaluation"] += 4 * 8 * 16 * V * depth
    return items


def check_memory(items, what="training", lower="lower --dim or --max-vocab, or raise --min-count"):
    """Raise W2VError if the itemized bytes exceed the memory available now."""
    needed = sum(items.values())
    avail = available_memory()
    if avail is None or needed <= avail:
        return
    largest = max(items, key=items.get)
    need, have = format_two(needed, avail)
    raise W2VError(f"{what} needs {need} of memory ({largest}: {format_bytes(items[largest])}), "
                   f"but only {have} is available; {lower}")


def vocabulary_that_fits(dim, objective, negative=5, workers=1, blocked=False):
    """The largest vocabulary whose training fits in the memory available now (None if unknown)."""
    avail = available_memory()
    if avail is None:
        return None
    lo, hi = 0, 1
    while sum(training_memory(hi, dim, objective, negative, workers, blocked).values()) <= avail:
        lo, hi = hi, hi * 2
        if hi > 1 << 40:
            return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sum(training_memory(mid, dim, objective, negative, workers, blocked).values()) <= avail:
            lo = mid
        else:
            hi = mid
    return lo
