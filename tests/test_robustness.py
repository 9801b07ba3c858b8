"""Bad inputs get clear errors; interrupted, resumed and diverging runs lose nothing."""
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import w2v_nce
from w2v_nce import Model, W2VError
from w2v_nce.kernels.rows import collect_rows
from w2v_nce.kernels.loop import SKIPGRAM
from w2v_nce.prepare.corpus import TextCorpus
from w2v_nce.core.errors import W2VWarning
from w2v_nce.core.rng import new_state
from w2v_nce.prepare.stream import SENTINEL
from w2v_nce.kernels.window import sentence_pairs

EXE = shutil.which("w2v-nce")
needs_cli = pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")


# --- the reader --------------------------------------------------------------------------------------------

def test_invalid_utf8_is_replaced_counted_and_warned_once(tmp_path):
    p = tmp_path / "c.txt"
    p.write_bytes(b"good words \xff here\nand \xc3\x28 there \xe2\x82\n")
    corpus = TextCorpus(p)
    with pytest.warns(W2VWarning, match="3 invalid UTF-8"):
        sents = list(corpus)
    assert corpus.invalid_utf8 == 3 and sents[0] == ["good", "words", "\ufffd", "here"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(corpus)  # one warning per corpus


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "model.bin"
    p.write_bytes(b"\x00\x01\x02binary" * 100)
    with pytest.raises(W2VError, match="binary file"):
        list(TextCorpus(p))


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_damaged_gzip_is_a_clear_error_naming_the_file(tmp_path, damage):
    p = tmp_path / "c.txt.gz"
    data = gzip.compress(("some words here and there\n" * 20000).encode())
    data = data[:len(data) // 2] if damage == "truncate" else data[:40] + bytes(200) + data[240:]
    p.write_bytes(data)
    with pytest.raises(W2VError, match=r"corrupt or truncated gzip file .*c\.txt\.gz"):
        list(TextCorpus(p))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 64))
def test_arbitrary_bytes_never_crash_the_reader(tmp_path_factory, data, block):
    p = tmp_path_factory.mktemp("fuzz") / "c.bin"
    p.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", W2VWarning)
            sents = list(TextCorpus(p, block_bytes=block))
    except W2VError:
        assert b"\x00" in data or data[:2] == b"\x1f\x8b"
        return
    for s in sents:
        assert 0 < len(s) <= 1000 and all(t and not any(c.isspace() for c in t) for t in s)
    text = data.decode("utf-8", errors="replace")
    assert sum(sents, []) == text.split()  # nothing lost, whatever the block boundaries


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=6), st.integers(1, 6), st.booleans(), st.integers(0, 99))
def test_pairs_stay_within_the_window_and_the_sentence(lengths, window, fixed, seed):
    # sentence k holds the words 100k, 100k+1, ...: a word's sentence and position are readable from its id
    sentences = [[100 * k + i for i in range(n)] for k, n in enumerate(lengths)]
    stream = np.array(sum((s + [SENTINEL] for s in sentences), []), np.int32)
    stream.setflags(write=False)
    in_off, in_ids, tg_off, tg_ids, _ = collect_rows(SKIPGRAM, stream, 0, len(stream), window, fixed,
                                                     np.ones(100 * len(lengths), np.float32),
                                                     np.zeros(1000, np.int32), new_state(seed), 1000)
    pairs = [(int(in_ids[r]), int(t)) for r in range(len(in_off) - 1) for t in tg_ids[tg_off[r]:tg_off[r + 1]]]
    for c, t in pairs:
        assert c // 100 == t // 100 and 0 < abs(c - t) <= window
    for s in sentences:
        for c, t in sentence_pairs(s, window, fixed, seed):
            assert 0 < abs(c - t) <= window
    if fixed:  # the full window: every pair within it, exactly once
        expected = sorted((a, b) for s in sentences for a in s for b in s if 0 < abs(a - b) <= window)
        assert sorted(pairs) == expected


# --- interruption, resume, checkpoints, divergence ---------------------------------------------------------

@pytest.fixture(scope="module")
def medium_corpus(small_corpus, tmp_path_factory):
    """The small corpus twenty times over (1,200,000 words): an epoch lasts several progress updates."""
    path = tmp_path_factory.mktemp("medium") / "medium.txt"
    text = open(small_corpus).read()
    path.write_text(text * 20)
    return str(path)


@pytest.fixture(scope="module")
def five_times_corpus(small_corpus, tmp_path_factory):
    """The small corpus five times over (300,000 words)."""
    path = tmp_path_factory.mktemp("five") / "five.txt"
    path.write_text(open(small_corpus).read() * 5)
    return str(path)


KW = dict(dim=16, epochs=2, workers=1, seed=4, min_count=3)


class StopAfter:
    """A progress display that presses Ctrl-C at its n-th update (the trainer updates it every 0.1 s)."""

    def __init__(self, n):
        self.n = n

    def update(self, *args, **kwargs):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt

    def close(self):
        pass


def test_interrupted_then_resumed_equals_uninterrupted(medium_corpus, tmp_path):
    full = w2v_nce.train(medium_corpus, **KW)
    part = w2v_nce.train(medium_corpus, progress=StopAfter(1), **KW)
    p = part.progress
    assert not p["complete"] and p["epoch"] == 0 and 0 < p["chunk"]  # stopped inside the first epoch
    assert 0 < p["words_done"] < full.stats["train_words"] / 2
    part.save(tmp_path / "part.npz")
    resumed = w2v_nce.train(medium_corpus, resume=tmp_path / "part.npz")
    assert resumed.progress["complete"]
    np.testing.assert_array_equal(resumed.input_vectors, full.input_vectors)
    np.testing.assert_array_equal(resumed.output_vectors, full.output_vectors)
    assert resumed.epoch_losses == pytest.approx(full.epoch_losses, rel=1e-12)


def test_checkpoints_are_resumable(medium_corpus, tmp_path):
    ckpt = tmp_path / "ckpt.npz"
    seen = []

    def stop_after_first_epoch(trainer):
        seen.append(trainer.epoch)
        raise KeyboardInterrupt

    kw = {**KW, "epochs": 3}
    part = w2v_nce.train(medium_corpus, checkpoint_every=1, checkpoint_path=str(ckpt),
                         on_epoch_end=stop_after_first_epoch, **kw)
    assert seen == [1] and part.progress["epoch"] == 1 and not part.progress["complete"]
    saved = Model.load(ckpt)
    assert saved.progress["epoch"] == 1 and len(saved.epoch_losses) == 1
    resumed = w2v_nce.train(medium_corpus, resume=saved)
    full = w2v_nce.train(medium_corpus, **kw)
    np.testing.assert_array_equal(resumed.input_vectors, full.input_vectors)


def test_resume_refuses_another_corpus_and_new_options(medium_corpus, small_corpus, tmp_path):
    part = w2v_nce.train(medium_corpus, progress=StopAfter(1), **KW)
    with pytest.raises(W2VError, match="corpus differs"):
        w2v_nce.train(small_corpus, resume=part)
    with pytest.raises(W2VError, match="keeps the model's options"):
        w2v_nce.train(medium_corpus, resume=part, dim=8)
    done = w2v_nce.train(small_corpus, **{**KW, "epochs": 1})
    with pytest.raises(W2VError, match="nothing to resume"):
        w2v_nce.train(small_corpus, resume=done)


@pytest.mark.parametrize("window_batch", [True, False])
@pytest.mark.parametrize("objective", ["ns", "nce", "infonce", "hs"])
@pytest.mark.parametrize("arch", ["sg", "cbow"])
def test_divergence_is_caught(small_corpus, arch, objective, window_batch):
    """Every objective, architecture and update form reaches the divergence check (a kernel's division by a NaN
    once raised ZeroDivisionError instead in 6 of these 16 cases: objectives/base.py KERNEL_OPTIONS)."""
    with pytest.raises(W2VError, match="diverged.*alpha"):
        w2v_nce.train(small_corpus, arch=arch, objective=objective, window_batch=window_batch, dim=16, epochs=1,
                      min_count=3, workers=1, alpha=50.0, min_alpha=50.0)


# --- the command line --------------------------------------------------------------------------------------

def run(*args, **kw):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=300, **kw)


@needs_cli
def test_cli_divergence_writes_nothing(small_corpus, tmp_path):
    out = tmp_path / "v.txt"
    r = run("train", small_corpus, "-o", out, "--alpha", 50, "--min-alpha", 50, "--epochs", 1, "--min-count", 3)
    assert r.returncode == 1 and "diverged" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


@needs_cli
def test_cli_debug_shows_the_traceback(tmp_path):
    r = run("--debug", "train", tmp_path / "missing.txt")
    assert r.returncode != 0 and "Traceback" in r.stderr


@needs_cli
def test_cli_binary_and_bad_gzip_and_invalid_utf8(tmp_path):
    out = tmp_path / "v.txt"
    binary = tmp_path / "b.bin"
    binary.write_bytes(bytes(range(256)) * 50)
    bad_gz = tmp_path / "bad.txt.gz"
    bad_gz.write_bytes(gzip.compress(b"words " * 10000)[:100])
    for corpus, message in [(binary, "binary file"), (bad_gz, "corrupt or truncated gzip")]:
        r = run("train", corpus, "-o", out)
        assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 na\xefve r\xe9sum\xe9 word\n".encode("latin-1") * 50)
    r = run("train", latin1, "-o", out, "--min-count", 1, "--dim", 4, "--epochs", 1, "--quiet")
    assert r.returncode == 0 and r.stderr.count("warning:") == 1 and "invalid UTF-8" in r.stderr
    assert out.exists()


@needs_cli
def test_cli_long_single_line_trains_whole_in_bounded_memory(tmp_path):
    """50 million characters, no newline: every token is trained on; memory stays far below the file size."""
    p = tmp_path / "oneline.txt"
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(2000)])
    with open(p, "w") as f:
        written = 0
        while written < 50_000_000:
            chunk = " ".join(words[rng.zipf(1.3, size=200_000) % 2000]) + " "
            f.write(chunk)
            written += len(chunk)
    n_tokens = sum(len(s) for s in TextCorpus(p))
    out = tmp_path / "v.txt"
    # the same command on a small file first, so that compiling the kernels (when Numba's cache is cold) is not
    # counted in the memory of the run measured below
    small = tmp_path / "small.txt"
    small.write_text(" ".join(words[:500].tolist() * 4))
    warm = subprocess.run([sys.executable, "-m", "w2v_nce", "train", str(small), "-o", str(out), "--dim", "8",
                           "--epochs", "1", "--workers", "2", "--min-count", "1"], capture_output=True, text=True,
                          timeout=600)
    assert warm.returncode == 0, warm.stderr
    r = subprocess.run([sys.executable, "-c",
                        "import resource, sys, cli; sys.argv = ['w2v-nce'] + sys.argv[1:]\n"
                        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
                        # the peak of this process's own memory: on Linux ru_maxrss also counts the parent's
                        # (the test runner's) resident memory before exec, VmHWM of /proc/self/status does not
                        "try:\n    peak = [int(line.split()[1]) for line in open('/proc/self/status')"
                        " if line.startswith('VmHWM:')][0]\n"
                        "except OSError:\n    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
                        "print('maxrss_kb', peak)",
                        "train", str(p), "-o", str(out), "--dim", "8", "--epochs", "1", "--workers", "2"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert f"{n_tokens:,} words in" in r.stderr  # trained on all of it
    maxrss_mb = int(r.stdout.split("maxrss_kb")[1]) / 1024
    assert maxrss_mb < 600, maxrss_mb  # the interpreter and libraries take ~300 MB; the 50 MB line is streamed


@needs_cli
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_cli_ctrl_c_saves_a_checkpoint_and_resume_finishes(five_times_corpus, tmp_path):
    out = tmp_path / "v.txt"
    out.write_text("previous vectors")
    args = [EXE, "train", five_times_corpus, "-o", str(out), "--dim", "32", "--epochs", "60", "--min-count", "3",
            "--workers", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # the progress display's first line: training has started
    assert first.startswith("epoch 1/60"), first
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume with:" in err
    assert out.read_text() == "previous vectors"  # the output is untouched
    ckpt = str(out) + ".checkpoint.npz"
    saved = Model.load(ckpt)
    assert not saved.progress["complete"] and saved.progress["words_done"] > 0
    resume_cmd = err.split("resume with: ")[1].strip().split(" ")
    assert resume_cmd[:2] == ["w2v-nce", "train"]
    r = subprocess.run([EXE] + resume_cmd[1:] + ["--quiet"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    kv_lines = out.read_text().splitlines()
    assert kv_lines[0] == f"{len(saved.vocab)} 32"
    assert os.path.exists(ckpt)
