"""Model files are read without pickle and validated: anything but a complete w2v-nce model is one clear error."""
import json
import os
import pickle
import shutil
import subprocess
import zipfile

import numpy as np
import pytest

import w2v_nce
from w2v_nce import Model
from w2v_nce.core.errors import ModelFileError
from w2v_nce.model.file import _FORMAT_VERSION

EXE = shutil.which("w2v-nce")


def tiny_model():
    rng = np.random.default_rng(3)
    V, d = 3, 4
    return Model(["a", "b", "c"], [3, 2, 1], rng.random((V, d), dtype=np.float32),
                 rng.random((V, d), dtype=np.float32), rng.random(V, dtype=np.float32), [1.5],
                 {"objective": "nce", "dim": d, "bias": True}, {"train_seconds": 0.5},
                 {"epoch": 1, "chunk": 0, "complete": False, "epoch_losses": [1.5]})


def same_model(a, b):
    return (a.vocab == b.vocab and np.array_equal(a.counts, b.counts)
            and np.array_equal(a.input_vectors, b.input_vectors) and np.array_equal(a.output_vectors, b.output_vectors)
            and (a.output_bias is None) == (b.output_bias is None)
            and (a.output_bias is None or np.array_equal(a.output_bias, b.output_bias))
            and a.epoch_losses == b.epoch_losses and a.options == b.options and a.stats == b.stats
            and a.progress == b.progress)


def not_a_model(path, reason):
    with pytest.raises(ModelFileError) as e:
        Model.load(path)
    message = str(e.value)
    assert message.startswith(f"{path} is not a w2v-nce model (") and message.endswith(")"), message
    assert reason in message, message
    assert "\n" not in message and "allow_pickle" not in message and "unsafely" not in message
    return message


@pytest.fixture(scope="module")
def trained(small_corpus, tmp_path_factory):
    """A model trained and saved for real, with the arrays its file holds."""
    path = tmp_path_factory.mktemp("trained") / "model.npz"
    model = w2v_nce.train(small_corpus, dim=8, epochs=1, min_count=3, max_vocab=300, workers=1, seed=2,
                          objective="nce")
    model.save(path)
    with np.load(path, allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    return model, str(path), arrays


def write_npz(path, arrays):
    np.savez(path, **arrays)
    return str(path)


def test_a_saved_model_loads_back_whole(trained):
    model, path, arrays = trained
    assert same_model(Model.load(path), model)
    assert int(arrays["format_version"]) == 1 and "progress" in arrays  # format 2 only for a tree of its own


@pytest.mark.parametrize("fraction", [0.0, 0.0001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.9999])
def test_a_truncated_model_is_refused(trained, tmp_path, fraction):
    _, path, _ = trained
    data = open(path, "rb").read()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[:int(len(data) * fraction)])
    not_a_model(cut, "empty" if fraction == 0 else "truncated or damaged")


def test_every_truncation_and_every_flipped_byte_is_refused_or_harmless(tmp_path):
    """Over a whole (small) file: a cut file never loads; a flipped byte, at every offset, either is refused or lies in
    a field no reader uses (e.g. a timestamp), and then the model loads identical. Never another exception."""
    model = tiny_model()
    path = tmp_path / "m.npz"
    model.save(path)
    data = path.read_bytes()
    damaged = tmp_path / "d.npz"
    harmless = 0
    for i in sorted(set(range(0, len(data), 5)) | set(range(len(data) - 30, len(data)))):
        damaged.write_bytes(data[:i])
        not_a_model(damaged, "")
    for i in range(len(data)):
        damaged.write_bytes(data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1:])
        try:
            loaded = Model.load(damaged)
        except ModelFileError as e:
            assert str(e).startswith(f"{damaged} is not a w2v-nce model (") or "upgrade w2v-nce" in str(e), str(e)
        else:
            assert same_model(loaded, model), i
            harmless += 1
    assert harmless < len(data) / 3  # the data and the names are checked: most flips are caught


def test_foreign_files_are_refused(tmp_path):
    npz = write_npz(tmp_path / "foreign.npz", {"weights": np.ones((3, 2)), "labels": np.arange(3)})
    not_a_model(npz, "it has no 'format_version' array")
    plain_zip = tmp_path / "archive.npz"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("readme.txt", "hello")
        z.writestr("format_version.npy", "not an array")
    not_a_model(plain_zip, "'format_version' is not a NumPy array")
    text = tmp_path / "vectors.txt"
    tiny_model().save_word2vec_format(text)
    not_a_model(text, "a text file, not an .npz archive")
    npy = tmp_path / "one.npy"
    np.save(npy, np.ones(3))
    not_a_model(npy, "a single NumPy .npy array")
    gz = tmp_path / "corpus.gz"
    import gzip
    gz.write_bytes(gzip.compress(b"words words"))
    not_a_model(gz, "a gzip file")
    binary = tmp_path / "random.bin"
    binary.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    not_a_model(binary, "not an .npz archive")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    not_a_model(empty, "the file is empty")
    with pytest.raises(ModelFileError, match="model not found"):
        Model.load(tmp_path / "missing.npz")
    with pytest.raises(ModelFileError, match="is a directory"):
        Model.load(tmp_path)


class _Trap:
    """Unpickling this object creates a file: the proof that a loader unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_data_is_never_unpickled(trained, tmp_path):
    model, _, arrays = trained
    marker = tmp_path / "unpickled"
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap(marker)
    for name in ("options", "vocab", "input_vectors"):
        path = write_npz(tmp_path / f"object_{name}.npz", {**arrays, name: trap})
        not_a_model(path, f"'{name}' holds Python objects (pickled data), which w2v-nce never loads")
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(_Trap(marker)))
    not_a_model(pickled, "a Python pickle; w2v-nce never unpickles files")
    assert not marker.exists()


def test_a_future_format_is_refused_with_both_versions(trained, tmp_path):
    _, _, arrays = trained
    future = _FORMAT_VERSION + 1
    path = write_npz(tmp_path / "future.npz", {**arrays, "format_version": np.array(future),
                                                "a_new_array": np.zeros(2)})
    with pytest.raises(ModelFileError) as e:
        Model.load(path)
    assert str(e.value) == (f"{path} is a w2v-nce model of format {future}; this version reads format "
                            f"{_FORMAT_VERSION} — upgrade w2v-nce")
    not_a_model(write_npz(tmp_path / "zero.npz", {**arrays, "format_version": np.array(0)}),
                "format version 0 was never written by w2v-nce")


def _bytes(text):
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


@pytest.mark.parametrize("change,reason", [
    (lambda a: {"output_vectors": a["output_vectors"][:, :-1]}, "'output_vectors' has shape 300×7, expected 300×8"),
    (lambda a: {"output_vectors": a["output_vectors"][:-1]}, "'output_vectors' has shape 299×8, expected 300×8"),
    (lambda a: {"input_vectors": a["input_vectors"].astype(np.float64)}, "'input_vectors' is float64, expected float32"),
    (lambda a: {"input_vectors": a["input_vectors"].ravel()}, "'input_vectors' has shape 2400, expected ?×?"),
    (lambda a: {"counts": a["counts"].astype(np.int32)}, "'counts' is int32, expected int64"),
    (lambda a: {"counts": a["counts"][:-1]}, "'counts' has shape 299, expected 300"),
    (lambda a: {"counts": -a["counts"]}, "'counts' has negative counts"),
    (lambda a: {"output_bias": a["output_bias"][:10]}, "'output_bias' has shape 10, expected 300"),
    (lambda a: {"vocab": _bytes("\n".join(["w"] * 300))}, "the vocabulary repeats words"),
    (lambda a: {"vocab": a["vocab"][:a["vocab"].tobytes().rindex(b"\n")]},
     "the vocabulary has 299 words but the vectors 300 rows"),
    (lambda a: {"vocab": np.concatenate([a["vocab"], np.array([0xFF], np.uint8)])}, "'vocab' is not UTF-8 text"),
    (lambda a: {"options": _bytes("{not json")}, "'options' is not valid JSON text"),
    (lambda a: {"stats": _bytes("[1, 2]")}, "'stats' is not a JSON object"),
    (lambda a: {"progress": _bytes(json.dumps({"epoch": "one"}))}, "invalid 'epoch'"),
    (lambda a: {"options": _bytes(json.dumps({**json.loads(a["options"].tobytes()), "dim": 9}))},
     "its options say dim 9 but the vectors have 8 dimensions"),
    (lambda a: {"options": _bytes(json.dumps({**json.loads(a["options"].tobytes()), "objective": "bogus"}))},
     "unknown objective 'bogus'"),
    (lambda a: {"output_bias": None}, "its options say bias True but the file lacks an output bias"),
    (lambda a: {"counts": None}, "it has no 'counts' array"),
    (lambda a: {"extra": np.zeros(3)}, "it holds members a w2v-nce model does not have: extra.npy"),
    (lambda a: {"format_version": np.array(1.0)}, "'format_version' is not an integer"),
])
def test_inconsistent_arrays_are_refused(trained, tmp_path, change, reason):
    _, _, arrays = trained
    arrays = {**arrays, **change(arrays)}
    path = write_npz(tmp_path / "bad.npz", {k: v for k, v in arrays.items() if v is not None})
    not_a_model(path, reason)


def test_an_oversized_header_is_refused_before_allocating(trained, tmp_path):
    """A header that claims far more data than the file holds is caught from the sizes alone."""
    _, path, _ = trained
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    for name in ("input_vectors.npy", "output_vectors.npy"):
        big = members[name].replace(b"'shape': (300, 8)", b"'shape': (3000000000, 8)")
        assert big != members[name]
        members[name] = big
    damaged = tmp_path / "big.npz"
    with zipfile.ZipFile(damaged, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    not_a_model(damaged, "'input_vectors' is damaged: its header announces 96,000,000,000 bytes of data")


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_cli_resume_with_a_damaged_or_foreign_file_is_one_line(trained, small_corpus, tmp_path):
    _, path, arrays = trained
    data = open(path, "rb").read()
    cases = {"cut.npz": data[:len(data) // 2], "flipped.npz": data[:2000] + bytes([data[2000] ^ 1]) + data[2001:]}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    marker = tmp_path / "unpickled"
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap(marker)
    write_npz(tmp_path / "objects.npz", {**arrays, "options": trap})
    write_npz(tmp_path / "future.npz", {**arrays, "format_version": np.array(_FORMAT_VERSION + 1)})
    out = tmp_path / "v.txt"
    for name, expected in [("cut.npz", "is not a w2v-nce model (truncated or damaged"),
                           ("flipped.npz", "is not a w2v-nce model (damaged"),
                           ("objects.npz", "is not a w2v-nce model ('options' holds Python objects"),
                           ("future.npz", f"is a w2v-nce model of format {_FORMAT_VERSION + 1}; this version reads "
                                          f"format {_FORMAT_VERSION} — upgrade w2v-nce")]:
        r = subprocess.run([EXE, "train", small_corpus, "--resume", str(tmp_path / name), "-o", str(out)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 1, (name, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / name} ") and expected in lines[0], \
            r.stderr
        assert "allow_pickle" not in r.stderr and "unsafely" not in r.stderr and "Traceback" not in r.stderr
        assert not out.exists() and not os.path.exists(str(out) + ".checkpoint.npz")
    assert not marker.exists()
