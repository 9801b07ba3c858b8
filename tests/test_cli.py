"""The installed console script, run as a user runs it."""
import os
import shutil
import subprocess

import numpy as np
import pytest
from gensim.models import KeyedVectors

from w2v_nce import Model

EXE = shutil.which("w2v-nce")
pytestmark = pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed (pip install -e '.[test]')")


def run(*args, cwd=None):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_train_writes_vectors_gensim_loads(small_corpus, tmp_path):
    out, binout, model = tmp_path / "v.txt", tmp_path / "v.bin", tmp_path / "m.npz"
    r = run("train", small_corpus, "-o", out, "--save-model", model, "--dim", 12, "--epochs", 1,
            "--min-count", 3, "--workers", 2)
    assert r.returncode == 0, r.stderr
    assert "words/s" in r.stderr and str(out) in r.stderr
    kv = KeyedVectors.load_word2vec_format(str(out))
    m = Model.load(model)
    assert kv.index_to_key == m.vocab and kv.vector_size == 12
    np.testing.assert_array_equal(kv.vectors, m.input_vectors)
    r = run("train", small_corpus, "-o", binout, "--binary", "--dim", 12, "--epochs", 1, "--min-count", 3,
            "--quiet", "--arch", "cbow")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert KeyedVectors.load_word2vec_format(str(binout), binary=True).vector_size == 12


def test_bundled_corpus_is_the_default(tmp_path):
    r = run("train", "-o", tmp_path / "v.txt", "--dim", 8, "--epochs", 1, "--quiet", "--max-vocab", 2000)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "v.txt").read_text().split("\n", 1)[0] == "2000 8"


def _assert_clean_failure(r, out, code):
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert not os.path.exists(out)


@pytest.mark.parametrize("args,message", [
    (["--dim", "0"], "--dim"), (["--window", "0"], "--window"), (["--negative", "-2"], "--negative"),
    (["--epochs", "0"], "--epochs"), (["--workers", "0"], "--workers"), (["--sample", "-1"], "--sample"),
    (["--alpha", "-0.5"], "--alpha"), (["--alpha", "0.01", "--min-alpha", "0.1"], "--min-alpha"),
    (["--noise-exponent", "2"], "--noise-exponent"), (["--objective", "bogus"], "--objective"),
    (["--dim", "abc"], "--dim"),
])
def test_invalid_options_are_usage_errors(small_corpus, tmp_path, args, message):
    out = tmp_path / "v.txt"
    r = run("train", small_corpus, "-o", out, *args)
    _assert_clean_failure(r, out, 2)
    assert message in r.stderr


def test_bad_corpora_fail_in_one_line(tmp_path):
    out = tmp_path / "v.txt"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    rare = tmp_path / "rare.txt"
    rare.write_text("a b c d\n")
    (tmp_path / "no_files").mkdir()
    for corpus, message in [(tmp_path / "missing.txt", "corpus not found"), (empty, "corpus is empty"),
                            (rare, "vocabulary is empty"), (tmp_path / "no_files", "directory has no files")]:
        r = run("train", corpus, "-o", out)
        _assert_clean_failure(r, out, 1)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], r.stderr


def test_unwritable_output_fails_before_training(small_corpus, tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "v.txt"
    r = run("train", small_corpus, "-o", out)
    _assert_clean_failure(r, out, 1)
    assert "output directory does not exist" in r.stderr and "epoch" not in r.stderr


def test_failed_run_leaves_existing_output_intact(tmp_path):
    out = tmp_path / "v.txt"
    out.write_text("precious")
    rare = tmp_path / "rare.txt"
    rare.write_text("a b c d\n")
    r = run("train", rare, "-o", out)
    assert r.returncode == 1 and out.read_text() == "precious"


@pytest.mark.parametrize("arch", ["sg", "cbow"])
def test_every_objective_trains_from_the_cli(small_corpus, tmp_path, arch):
    for objective in ["ns", "nce", "softmax", "infonce", "hs"]:
        out, model = tmp_path / f"{objective}.txt", tmp_path / f"{objective}.npz"
        r = run("train", small_corpus, "-o", out, "--save-model", model, "--objective", objective, "--arch", arch,
                "--dim", 8, "--epochs", 1, "--min-count", 3, "--max-vocab", 600)
        assert r.returncode == 0, (objective, r.stderr)
        m = Model.load(model)
        assert m.options["objective"] == objective and m.options["arch"] == arch
        assert len(m) == 600 and np.isfinite(m.epoch_losses[0])
        assert (m.output_bias is not None) == (objective in ("nce", "softmax", "infonce"))
        if objective == "infonce":
            assert "MI lower bound" in r.stderr
