"""Real operations through the command line: signals from a job scheduler, full disks, impossible sizes.

Signals go to the installed `w2v-nce` as real signals. A full disk is either a real small file system (a 1 MB
tmpfs, when this process may mount one) or an injected ENOSPC: the command line runs in a Python process whose
writes under one directory fail with ENOSPC once a byte budget is spent (FULL_DIR, FULL_BUDGET), as they do when
another process fills the disk after the free-space checks passed.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from w2v_nce import Model
from w2v_nce.core import signals
from w2v_nce.core.resources import format_bytes

EXE = shutil.which("w2v-nce")
needs_cli = pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# Runs w2v_nce.cli.main() with sys.argv[1:]; FULL_DIR/FULL_BUDGET make writes under FULL_DIR fail with ENOSPC
# after FULL_BUDGET bytes; FREE_BYTES makes every file system report that many free bytes; AVAILABLE_MEMORY
# makes that the memory available; FAIL_ALLOCATION raises MemoryError where the weights are allocated;
# HIDE_MATPLOTLIB makes `import matplotlib` fail as where it is not installed.
PREAMBLE = r"""
import builtins, errno, os, sys
full_dir, budget = os.environ.get("FULL_DIR"), [int(os.environ.get("FULL_BUDGET", "0"))]
if os.environ.get("HIDE_MATPLOTLIB"):
    sys.modules["matplotlib"] = None

class FullDisk:
    def __init__(self, f):
        self._f = f
    def write(self, data):
        n = len(data.encode("utf-8")) if isinstance(data, str) else memoryview(data).nbytes
        if n > budget[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        budget[0] -= n
        return self._f.write(data)
    def __getattr__(self, name):
        return getattr(self._f, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self._f.__exit__(*exc)

def on_full_disk(path):
    return full_dir and os.path.abspath(path).startswith(os.path.abspath(full_dir) + os.sep)

real_open, real_fdopen = builtins.open, os.fdopen
def limited_open(file, mode="r", *args, **kwargs):
    f = real_open(file, mode, *args, **kwargs)
    return FullDisk(f) if isinstance(file, (str, bytes, os.PathLike)) and set(mode) & set("wax+") \
        and on_full_disk(os.fsdecode(file)) else f
def limited_fdopen(fd, mode="r", *args, **kwargs):
    f = real_fdopen(fd, mode, *args, **kwargs)
    return FullDisk(f) if set(mode) & set("wax+") and on_full_disk(os.readlink(f"/proc/self/fd/{fd}")) else f
builtins.open, os.fdopen = limited_open, limited_fdopen

import w2v_nce.core.resources as resources
if os.environ.get("FREE_BYTES"):
    resources.free_bytes = lambda directory: int(os.environ["FREE_BYTES"])
if os.environ.get("AVAILABLE_MEMORY"):
    resources.available_memory = lambda: int(os.environ["AVAILABLE_MEMORY"])
if os.environ.get("FAIL_ALLOCATION"):
    import w2v_nce.training.run as trainer
    def init_weights(*args):
        raise MemoryError("Unable to allocate 84.0 GiB for an array with shape (22541, 1000000)")
    trainer.init_weights = init_weights
from w2v_nce.cli import main
sys.argv[0] = "w2v-nce"
main()
"""


def run_injected(*args, **env):
    return subprocess.run([sys.executable, "-c", PREAMBLE, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **{k: str(v) for k, v in env.items()}})


def one_error_line(r, *fragments, warnings=()):
    """The one error line of a failed command, after exactly the given warnings (a fragment of each)."""
    assert r.returncode == 1, (r.returncode, r.stderr)
    lines = [line for line in r.stderr.replace("\r", "\n").splitlines() if line.strip()
             and not line.startswith("epoch ")]
    assert len(lines) == len(warnings) + 1 and lines[-1].startswith("error: "), r.stderr
    for line, warning in zip(lines, warnings):
        assert line.startswith("warning: ") and warning in line, (warning, r.stderr)
    assert "Traceback" not in r.stderr
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])
    return lines[-1]


def stream_size(corpus):
    """The encoded corpus as the one pass over a file writes it: 4 bytes per token (all of them: the vocabulary
    is known only at the end) and per sentence end."""
    with open(corpus, encoding="utf-8") as f:
        sentences = [line.split() for line in f if line.split()]  # lines of at most 1,000 tokens here
    return 4 * (sum(len(s) for s in sentences) + len(sentences))


def leftovers(*directories):
    """Temporary files and directories our writes leave behind (none may remain)."""
    found = []
    for d in directories:
        found += glob.glob(os.path.join(str(d), ".*.tmp")) + glob.glob(os.path.join(str(d), "w2v-nce-*"))
    return found


@pytest.fixture(scope="module")
def five_times_corpus(small_corpus, tmp_path_factory):
    """The small corpus five times over (300,000 words): an epoch lasts a few progress updates."""
    path = tmp_path_factory.mktemp("five") / "five.txt"
    path.write_text(open(small_corpus).read() * 5)
    return str(path)


# --- signals -----------------------------------------------------------------------------------------------

def start_training(corpus, out, *extra, env=None):
    args = [EXE, "train", corpus, "-o", str(out), "--min-count", "3", "--workers", "1", *extra]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = proc.stderr.readline()  # the progress display's first line: training has started
    assert first.startswith("epoch 1/"), first
    return proc


@needs_cli
@posix_signals
@pytest.mark.parametrize("signum,status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_save_a_resumable_checkpoint(five_times_corpus, tmp_path, signum, status):
    out = tmp_path / "v.txt"
    out.write_text("previous vectors")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = start_training(five_times_corpus, out, "--dim", "32", "--epochs", "60",
                          env={**os.environ, "TMPDIR": str(tmp)})
    time.sleep(1.0)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    name = signal.Signals(signum).name
    assert proc.returncode == status, err
    assert f"{name}: stopping after the work in progress" in err and f"interrupted ({name}) in epoch" in err
    assert "Traceback" not in err
    ckpt = f"{out}.checkpoint.npz"
    resume = err.split("resume with: ")[1].strip()
    assert resume == f"w2v-nce train {five_times_corpus} --resume {ckpt} -o {out}"
    saved = Model.load(ckpt)
    assert not saved.progress["complete"] and 0 < saved.progress["words_done"] < 60 * 300_000
    assert out.read_text() == "previous vectors"
    assert leftovers(tmp_path, tmp) == []


@needs_cli
@posix_signals
def test_a_second_signal_during_the_checkpoint_write_exits_at_once_and_corrupts_nothing(five_times_corpus,
                                                                                       tmp_path):
    """The checkpoint of a 1,500-dimension model takes a while to write: the second SIGTERM comes during it. The
    previous checkpoint stays as it was (or, if the write won the race, the new one is complete), and no temporary
    file or directory remains."""
    out = tmp_path / "v.txt"
    ckpt = tmp_path / "v.txt.checkpoint.npz"
    ckpt.write_text("previous checkpoint")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = start_training(five_times_corpus, out, "--dim", "1500", "--epochs", "2",
                          env={**os.environ, "TMPDIR": str(tmp)})
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 240
    while not glob.glob(str(tmp_path / ".v.txt.checkpoint.npz.*.tmp")) and proc.poll() is None \
            and time.time() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    if "SIGTERM again: stopped at once without saving" in err:
        assert ckpt.read_text() == "previous checkpoint"
    else:  # the write completed before the second signal arrived
        assert not Model.load(ckpt).progress["complete"]
    assert not out.exists()
    assert leftovers(tmp_path, tmp) == []


@needs_cli
@posix_signals
def test_sigterm_during_bench_keeps_the_finished_runs_and_the_same_command_continues(small_corpus, tmp_path):
    report = tmp_path / "report"
    # the second run (full softmax, ~50 times the cost of ns per example) lasts seconds; the signal is sent as
    # soon as it starts (a fixed delay would let a fast machine finish the run first)
    args = [EXE, "bench", small_corpus, "--objectives", "ns,softmax", "--no-gensim", "--dim", "32", "--epochs", "2",
            "--min-count", "3", "--max-vocab", "400", "--workers", "1", "--no-curves", "--report", str(report)]
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("[2/2] softmax"):  # the first run is finished and kept
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 143, err
    assert f"interrupted (SIGTERM): the finished runs are kept in {report / 'runs.json'}" in err
    assert "Traceback" not in err and "nothing was saved" not in err
    assert [r["objective"] for r in json.loads((report / "runs.json").read_text())] == ["ns"]
    assert leftovers(report, tmp) == []
    r = subprocess.run(args + ["--quiet"], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert [x["objective"] for x in json.loads((report / "runs.json").read_text())] == ["ns", "softmax"]
    assert (report / "summary.json").exists() and (report / "report.md").exists()


@needs_cli
@posix_signals
def test_sigterm_during_bench_without_report_says_nothing_was_kept(small_corpus, tmp_path):
    args = [EXE, "bench", small_corpus, "--objectives", "ns", "--no-gensim", "--dim", "16", "--epochs", "60",
            "--min-count", "3", "--max-vocab", "400", "--workers", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("[1/1] ns"):
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 129, err
    assert "interrupted (SIGHUP): no run was kept" in err and "Traceback" not in err


# --- full disks ----------------------------------------------------------------------------------------------

def test_an_interrupt_inside_a_compiled_function_stays_an_interrupt():
    """Numba hands a KeyboardInterrupt raised during its call into Python back as a SystemError caused by it."""
    def chained(*excs):
        for inner, outer in zip(excs, excs[1:]):
            outer.__cause__ = inner
        return excs[-1]

    interrupted = chained(KeyboardInterrupt(), SystemError("a"), SystemError("<function _numba_unpickle> returned "
                                                                             "a result with an exception set"))
    assert signals.is_interrupt(interrupted) and signals.is_interrupt(KeyboardInterrupt())
    assert not signals.is_interrupt(chained(ValueError(), SystemError("b")))
    with pytest.raises(KeyboardInterrupt), signals.as_interrupt():
        raise interrupted
    with pytest.raises(SystemError), signals.as_interrupt():
        raise chained(ValueError(), SystemError("b"))


@posix_signals
def test_a_signal_during_the_held_out_evaluation_is_an_interrupt():
    """The evaluation runs compiled code in the main thread, where the handler raises KeyboardInterrupt."""
    from w2v_nce.model.examples import heldout_examples

    class Words:
        index = {str(i): i for i in range(300)}

        def __len__(self):
            return len(self.index)

    rng = np.random.default_rng(0)
    sentences = [[str(i) for i in rng.integers(0, 300, 50)] for _ in range(20)]
    heldout_examples(Words(), sentences, "sg", 5)  # compiled or loaded from the cache
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    with signals.stop_on_signals():
        timer.start()
        deadline = time.monotonic() + 60
        with pytest.raises(KeyboardInterrupt), signals.as_interrupt():
            while time.monotonic() < deadline:
                heldout_examples(Words(), sentences, "sg", 5)
    timer.join()
    assert signals.received() is None  # the handlers are restored


@posix_signals
def test_a_signal_while_numba_compiles_is_raised_once_the_kernel_is_built():
    """A KeyboardInterrupt in the middle of Numba's compiler would leave half-built LLVM objects behind: the signal
    is held until the compile is over, then raised, and the kernel is complete and usable."""
    import numba
    from numba.core import event

    class SignalWhenTypingStarts(event.Listener):
        sent = False

        def on_start(self, ev):
            if not self.sent:
                self.sent = True
                os.kill(os.getpid(), signal.SIGTERM)  # handled in the main thread, at Numba's next Python line

        def on_end(self, ev):
            pass

    @numba.njit(cache=False)
    def add_one(x):
        return x + 1

    listener = SignalWhenTypingStarts()
    with signals.stop_on_signals():
        with event.install_listener("numba:run_pass", listener), pytest.raises(KeyboardInterrupt):
            add_one(1)
        assert listener.sent and signals.received() == signal.SIGTERM
    assert len(add_one.overloads) == 1 and add_one(41) == 42  # compiled to the end, not recompiled on this call
    assert len(add_one.overloads) == 1


def test_disk_full_while_encoding_the_corpus(small_corpus, tmp_path):
    tmp, out = tmp_path / "tmp", tmp_path / "v.txt"
    tmp.mkdir()
    out.write_text("previous vectors")
    r = run_injected("train", small_corpus, "-o", out, "--min-count", "3", "--dim", "8", "--epochs", "1",
                     "--tmp-dir", tmp, FULL_DIR=tmp, FULL_BUDGET=100_000)
    line = one_error_line(r, "error: no space left on device writing ", "/ids.i32 (it needs ",
                          "choose another directory with --tmp-dir (or TMPDIR)")
    assert str(tmp) in line
    assert out.read_text() == "previous vectors" and os.listdir(tmp) == []
    r = run_injected("train", small_corpus, "-o", out, "--min-count", "3", "--dim", "8", "--epochs", "1",
                     FULL_DIR=tmp, FULL_BUDGET=100_000, TMPDIR=tmp)  # TMPDIR, without --tmp-dir
    assert str(tmp) in one_error_line(r, "/ids.i32 (it needs ") and os.listdir(tmp) == []


def test_not_enough_free_space_for_the_encoded_corpus_is_refused_before_encoding(small_corpus, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = run_injected("train", small_corpus, "-o", tmp_path / "v.txt", "--min-count", "3", "--tmp-dir", tmp,
                     FREE_BYTES=100_000)
    one_error_line(r, f"error: not enough disk space in {tmp} for the encoded corpus: it needs "
                      f"{format_bytes(stream_size(small_corpus))}, 97.7 KiB are free; free some space or choose "
                      f"another directory with --tmp-dir (or TMPDIR)")
    assert "epoch" not in r.stderr and os.listdir(tmp) == []


@pytest.fixture
def small_filesystem(tmp_path):
    """A real 1 MB file system (tmpfs), where this process may mount one; else the test is skipped (the
    injected-ENOSPC tests cover the same paths)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root on Linux")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


@needs_cli
def test_a_real_small_file_system(small_corpus, small_filesystem, tmp_path):
    medium = tmp_path / "medium.txt"
    medium.write_text(open(small_corpus).read() * 5)
    out = small_filesystem / "v.txt"
    out.write_text("previous vectors")
    run = [EXE, "train", str(medium), "--min-count", "3", "--dim", "64", "--epochs", "1", "--quiet"]
    r = subprocess.run(run + ["-o", str(tmp_path / "v.txt"), "--tmp-dir", str(small_filesystem)],
                       capture_output=True, text=True, timeout=300)
    one_error_line(r, f"error: not enough disk space in {small_filesystem} for the encoded corpus: it needs "
                      f"{format_bytes(stream_size(medium))}, ")
    r = subprocess.run(run + ["-o", str(out)], capture_output=True, text=True, timeout=300)  # text: size unknown
    one_error_line(r, f"error: no space left on device writing {out}")
    r = subprocess.run(run + ["-o", str(out), "--binary"], capture_output=True, text=True, timeout=300)
    one_error_line(r, f"error: not enough disk space in {small_filesystem} for {out}: it needs ")
    r = subprocess.run(run + ["-o", str(tmp_path / "v.txt"), "--save-model", str(small_filesystem / "m.npz")],
                       capture_output=True, text=True, timeout=300)
    one_error_line(r, f"error: not enough disk space in {small_filesystem} for {small_filesystem / 'm.npz'}")
    assert out.read_text() == "previous vectors" and sorted(os.listdir(small_filesystem)) == ["v.txt"]


@pytest.mark.parametrize("what", ["vectors", "binary", "model", "checkpoint"])
def test_disk_full_writing_an_output_leaves_the_old_file_intact(small_corpus, tmp_path, what):
    full = tmp_path / "full"
    full.mkdir()
    out = full / "v.txt" if what in ("vectors", "binary") else tmp_path / "v.txt"
    model = full / "m.npz"
    target = {"vectors": out, "binary": out, "model": model, "checkpoint": model}[what]
    target.write_bytes(b"previous")
    args = ["train", small_corpus, "-o", out, "--min-count", "3", "--dim", "8", "--epochs", "2", "--quiet"]
    args += {"vectors": [], "binary": ["--binary"], "model": ["--save-model", model],
             "checkpoint": ["--save-model", model, "--checkpoint-every", "1"]}[what]
    r = run_injected(*args, FULL_DIR=full, FULL_BUDGET=2000)
    line = one_error_line(r, f"error: no space left on device writing {target}")
    if what != "vectors":  # its size is known beforehand
        assert " (it needs " in line and " bytes)" in line or "KiB)" in line
    assert target.read_bytes() == b"previous" and sorted(os.listdir(full)) == [target.name]


@pytest.mark.parametrize("matplotlib", ["hidden", "installed"])
def test_disk_full_writing_the_bench_report(small_corpus, tmp_path, matplotlib):
    if matplotlib == "installed":
        pytest.importorskip("matplotlib", reason="the report's figures need matplotlib (the plot extra)")
    report = tmp_path / "report"
    report.mkdir()
    (report / "runs.json").write_text("[]")
    r = run_injected("bench", small_corpus, "--objectives", "ns,nce", "--no-gensim", "--dim", "8", "--epochs", "1",
                     "--min-count", "3", "--max-vocab", "300", "--workers", "1", "--quiet", "--report", report,
                     FULL_DIR=report, FULL_BUDGET=100, **({"HIDE_MATPLOTLIB": 1} if matplotlib == "hidden" else {}))
    # without matplotlib, the bench first warns that the report will have no figures
    one_error_line(r, f"error: no space left on device writing {report / 'runs.json'} (it needs ",
                   warnings=["the report's figures need matplotlib"] if matplotlib == "hidden" else [])
    assert (report / "runs.json").read_text() == "[]" and sorted(os.listdir(report)) == ["runs.json"]
    assert r.stdout == ""  # the bench stopped at the first run: a full disk fails every run


def test_disk_full_writing_the_bench_training_part(small_corpus, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = run_injected("bench", small_corpus, "--objectives", "ns", "--no-gensim", "--dim", "8", "--epochs", "1",
                     "--min-count", "3", "--quiet", "--tmp-dir", tmp, FULL_DIR=tmp, FULL_BUDGET=1000)
    one_error_line(r, "error: no space left on device writing ",
                   f"/train.txt (it needs {format_bytes(os.path.getsize(small_corpus))}); free some space")
    assert os.listdir(tmp) == []


# --- impossible sizes ----------------------------------------------------------------------------------------

def test_a_dimension_that_cannot_fit_is_refused_before_allocating(small_corpus, tmp_path):
    """The case of a 22,541-word vocabulary and --dim 1000000 (84 GiB) on a machine with 4 GiB available."""
    r = run_injected("train", small_corpus, "-o", tmp_path / "v.txt", "--dim", "1000000", "--min-count", "1",
                     AVAILABLE_MEMORY=4 << 30)
    one_error_line(r, "error: training at least ", " of 1,000,000 dimensions needs ", " GiB of memory (input and "
                   "output vectors: ", "but only 4.0 GiB is available; lower --dim or --max-vocab, or raise "
                   "--min-count")
    assert "epoch" not in r.stderr and not (tmp_path / "v.txt").exists()


@needs_cli
def test_an_absurd_dimension_is_refused_on_any_machine(small_corpus, tmp_path):
    r = subprocess.run([EXE, "train", small_corpus, "-o", str(tmp_path / "v.txt"), "--dim", "1000000000"],
                       capture_output=True, text=True, timeout=300)
    one_error_line(r, "of 1,000,000,000 dimensions needs ", "lower --dim or --max-vocab, or raise --min-count")


def test_a_memory_error_is_one_line(small_corpus, tmp_path):
    r = run_injected("train", small_corpus, "-o", tmp_path / "v.txt", "--min-count", "3", FAIL_ALLOCATION=1)
    one_error_line(r, "error: out of memory (Unable to allocate 84.0 GiB", "lower --dim or --max-vocab, or raise "
                   "--min-count")
