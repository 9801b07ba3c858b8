"""The model file: one .npz archive (format version, vocabulary, counts, weights, losses, and the options, stats
and training progress as JSON), written atomically and read back without unpickling anything, every array checked
before it is loaded.

Format 2 adds an hs model's own Huffman tree (huffman_parent, huffman_bit: HuffmanTree.structure), which a model
converted from gensim carries; every other model is written as format 1, which earlier versions read."""
import json
import os
import struct
import zipfile

import numpy as np

from ..core.errors import ModelFileError, W2VError
from ..core.files import atomic_write
from ..core.resources import check_memory
from ..kernels.huffman import HuffmanTree
from ..objectives import OBJECTIVES

_FORMAT_VERSION = 3  # the newest format, read and written: 1 for a model without a tree or optimizer state of
# its own, 2 with an hs tree of its own (a gensim model's), 3 with the optimizer state of an unfinished run


def _to_bytes_array(text):
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _from_bytes_array(arr):
    return arr.tobytes().decode("utf-8")


def write_model_file(path, model):
    """Everything needed to evaluate or continue `model` later, as one .npz file (written atomically)."""
    arrays = dict(
        format_version=np.array(3 if model.optimizer_state else 1 if model.tree is None else 2),
        vocab=_to_bytes_array("\n".join(model.vocab)),
        counts=model.counts,
        input_vectors=model.input_vectors,
        output_vectors=model.output_vectors,
        epoch_losses=np.asarray(model.epoch_losses, dtype=np.float64),
        options=_to_bytes_array(json.dumps(model.options)),
        stats=_to_bytes_array(json.dumps(model.stats)),
        progress=_to_bytes_array(json.dumps(model.progress)),
    )
    if model.output_bias is not None:
        arrays["output_bias"] = model.output_bias
    if model.tree is not None:
        arrays["huffman_parent"], arrays["huffman_bit"] = model.tree.structure
    arrays.update(model.optimizer_state)
    size = sum(a.nbytes for a in arrays.values()) + 1024 * len(arrays)  # data, plus npy and zip headers
    with atomic_write(path, size) as f:
        np.savez(f, **arrays)


# --- reading and validating a model file --------------------------------------------------------------------

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class _NotAModel(Exception):
    """Why a file is not a w2v-nce model (becomes ModelFileError)."""


def _what_the_file_is(head):
    """Why a file that does not start like a zip archive (as every .npz does) is not a model."""
    if not head:
        return "the file is empty"
    if b"PK\x03\x04".startswith(head[:4]):
        return "truncated or damaged: it ends inside the first bytes of a zip archive"
    if head.startswith(b"\x93NUMPY"):
        return "a single NumPy .npy array, not the .npz archive that --save-model writes"
    if head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05":
        return "a Python pickle; w2v-nce never unpickles files"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip file, not an .npz archive"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            text = True
        except UnicodeDecodeError as e:
            text = e.start >= len(head) - 3  # only a character cut at the end of the block read
        if text:
            return "a text file, not an .npz archive; word vectors in word2vec format are not a model"
    return "not an .npz archive"


def _check_members_fill_the_archive(zf):
    """The members, each a local header and its data, must follow each other from the archive's start to its
    directory (as zipfile and np.savez write them): a member that the directory fails to list (a damaged count
    or length in it) leaves a gap, and must not silently vanish from the model."""
    end, previous_descriptor = 0, False
    for info in sorted(zf.infolist(), key=lambda i: i.header_offset):
        gap = info.header_offset - end
        if gap and not (previous_descriptor and gap in (12, 16, 20, 24)):  # an optional data descriptor
            raise _NotAModel(f"damaged: its zip directory does not match its members (at '{info.filename}')")
        zf.fp.seek(info.header_offset)
        local = zf.fp.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise _NotAModel(f"damaged: no local header for '{info.filename}'")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        end = info.header_offset + 30 + name_len + extra_len + info.compress_size
        previous_descriptor = bool(info.flag_bits & 0x08)
    if end != zf.start_dir and not (zf.infolist() and previous_descriptor and zf.start_dir - end in (12, 16, 20, 24)):
        raise _NotAModel("damaged: its zip directory does not match its members (before the directory)")


def _array_header(zf, name):
    """Shape and dtype of the .npy member `name`, read from its header alone, checked against the member's size
    (so a damaged header never makes us allocate what the file does not hold); no object dtype."""
    member = name + ".npy"
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise _NotAModel(f"it has no '{name}' array") from None
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            header_bytes = f.tell()
        except ValueError as e:
            raise _NotAModel(f"'{name}' is not a NumPy array: {e}") from None
    if dtype.hasobject:
        raise _NotAModel(f"'{name}' holds Python objects (pickled data), which w2v-nce never loads")
    data_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if info.file_size != header_bytes + data_bytes:
        raise _NotAModel(f"'{name}' is damaged: its header announces {data_bytes:,} bytes of data, the archive "
                         f"holds {info.file_size - header_bytes:,}")
    return tuple(shape), dtype, data_bytes


def _read_array(zf, name):
    with zf.open(name + ".npy") as f:  # the CRC-32 of the member is checked as its last byte is read
        return np.lib.format.read_array(f, allow_pickle=False)


def _json(arr, name):
    try:
        value = json.loads(_from_bytes_array(arr))
    except ValueError as e:
        raise _NotAModel(f"'{name}' is not valid JSON text: {e}") from None
    if not isinstance(value, dict):
        raise _NotAModel(f"'{name}' is not a JSON object")
    return value


def _expect(name, shape, dtype, want_shape, kind, itemsize):
    if dtype.kind != kind or dtype.itemsize != itemsize:
        want = {"f": "float", "i": "int", "u": "uint"}[kind] + str(8 * itemsize)
        raise _NotAModel(f"'{name}' is {dtype.name}, expected {want}")
    if len(shape) != len(want_shape) or any(w is not None and s != w for s, w in zip(shape, want_shape)):
        want = "×".join("?" if w is None else str(w) for w in want_shape) or "a scalar"
        got = "×".join(map(str, shape)) or "a scalar"
        raise _NotAModel(f"'{name}' has shape {got}, expected {want}")


_PROGRESS_NUMBERS = ("epoch", "chunk", "words_done", "train_seconds", "partial_loss", "partial_examples",
                     "raw_words", "sentences")


def model_file_arrays(zf):
    """The validated content of an open model archive, as a dict: format version, then every array's presence,
    dtype and shape (vectors V × d float32 with the same V and d, counts int64 and bias float32 of length V,
    one word per count, no duplicate words), then the JSON of options, stats and progress; an hs model's own
    Huffman tree, checked to be one binary tree of its words, as "tree" (a HuffmanTree)."""
    shape, dtype, _ = _array_header(zf, "format_version")
    if dtype.kind not in "iu" or shape not in ((), (1,)):
        raise _NotAModel("'format_version' is not an integer")
    version = int(_read_array(zf, "format_version").reshape(()))
    if version > _FORMAT_VERSION:
        raise _FutureFormat(version)
    if version < 1:
        raise _NotAModel(f"format version {version} was never written by w2v-nce")

    _check_members_fill_the_archive(zf)
    known = {name + ".npy" for name in ("format_version",) + _REQUIRED + _OPTIONAL}
    unknown = [name for name in zf.namelist() if name not in known]
    if unknown:
        raise _NotAModel(f"it holds members a w2v-nce model does not have: {', '.join(unknown[:5])}")
    headers = {name: _array_header(zf, name) for name in _REQUIRED}
    for name in _OPTIONAL:
        if name + ".npy" in zf.namelist():
            headers[name] = _array_header(zf, name)
    _expect("input_vectors", *headers["input_vectors"][:2], (None, None), "f", 4)
    V, d = headers["input_vectors"][0]
    if V == 0 or d == 0:
        raise _NotAModel(f"'input_vectors' is empty ({V}×{d})")
    _expect("output_vectors", *headers["output_vectors"][:2], (V, d), "f", 4)
    _expect("counts", *headers["counts"][:2], (V,), "i", 8)
    if "output_bias" in headers:
        _expect("output_bias", *headers["output_bias"][:2], (V,), "f", 4)
    _expect("epoch_losses", *headers["epoch_losses"][:2], (None,), "f", 8)
    if ("huffman_parent" in headers) != ("huffman_bit" in headers):
        raise _NotAModel("it holds half a Huffman tree ('huffman_parent' and 'huffman_bit' go together)")
    if "huffman_parent" in headers:
        _expect("huffman_parent", *headers["huffman_parent"][:2], (2 * V - 2,), "i", 4)
        _expect("huffman_bit", *headers["huffman_bit"][:2], (2 * V - 2,), "u", 1)
    for name in ("vocab", "options", "stats", "progress"):
        if name in headers:
            _expect(name, *headers[name][:2], (None,), "u", 1)
    for name in OPTIMIZER_STATE:
        if name in headers:
            _expect(name, *headers[name][:2], (V,), "f", 8)
    check_memory({"the model's arrays": sum(h[2] for h in headers.values())}, "loading the model",
                 "free some memory or load it on a larger machine")

    out = {name: _read_array(zf, name) for name in headers}
    try:
        out["vocab"] = _from_bytes_array(out["vocab"]).split("\n")
    except UnicodeDecodeError as e:
        raise _NotAModel(f"'vocab' is not UTF-8 text: {e}") from None
    if len(out["vocab"]) != V:
        raise _NotAModel(f"the vocabulary has {len(out['vocab']):,} words but the vectors {V:,} rows")
    if len(set(out["vocab"])) != V:
        raise _NotAModel("the vocabulary repeats words")
    if (out["counts"] < 0).any():
        raise _NotAModel("'counts' has negative counts")
    for name in ("options", "stats", "progress"):
        if name in out:
            out[name] = _json(out[name], name)
    options = out["options"]
    if "dim" in options and options["dim"] != d:
        raise _NotAModel(f"its options say dim {options['dim']!r} but the vectors have {d} dimensions")
    objective = options.get("objective")
    if objective is not None:
        if objective not in OBJECTIVES:
            raise _NotAModel(f"unknown objective {objective!r}")
    if "bias" in options and bool(options["bias"]) != ("output_bias" in out):
        raise _NotAModel(f"its options say bias {options['bias']!r} but the file "
                         f"{'holds' if 'output_bias' in out else 'lacks'} an output bias")
    if "huffman_parent" in out:
        if objective != "hs":
            raise _NotAModel(f"it holds a Huffman tree, which only an hs model has (its objective: {objective!r})")
        try:
            out["tree"] = HuffmanTree.from_structure(out["counts"], out.pop("huffman_parent"), out.pop("huffman_bit"))
        except ValueError as e:
            raise _NotAModel(f"its Huffman tree is damaged: {e}") from None
    state = {name: out.pop(name) for name in OPTIMIZER_STATE if name in out}
    if any(not np.isfinite(a).all() or (a < 0).any() for a in state.values()):
        raise _NotAModel("its optimizer state holds negative or non-finite sums")
    out["optimizer_state"] = state
    progress = out.get("progress", {})
    for key in _PROGRESS_NUMBERS:
        if not _is_number(progress.get(key, 0)) or progress.get(key, 0) < 0:
            raise _NotAModel(f"its training progress has an invalid {key!r}: {progress[key]!r}")
    losses = progress.get("epoch_losses", [])
    if not isinstance(losses, list) or not all(_is_number(x) for x in losses):
        raise _NotAModel("its training progress has invalid 'epoch_losses'")
    return out


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# An unfinished run's optimizer state, resumed with it: the blocked softmax's AdaGrad sums (kernels/blocked.py)
OPTIMIZER_STATE = ("adagrad_output", "adagrad_bias")
_REQUIRED = ("vocab", "counts", "input_vectors", "output_vectors", "epoch_losses", "options", "stats")
_OPTIONAL = ("output_bias", "progress", "huffman_parent", "huffman_bit") + OPTIMIZER_STATE


class _FutureFormat(Exception):
    def __init__(self, version):
        super().__init__(version)
        self.version = version


def read_model_file(path):
    """model_file_arrays of the file at path; ModelFileError for anything that is not a readable model."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory, not a model file")
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        raise ModelFileError(f"model not found: {path}") from None
    except OSError as e:
        raise ModelFileError(f"cannot read the model {path}: {e.strerror or e}") from None
    try:
        if not head.startswith(_ZIP_MAGIC):
            raise _NotAModel(_what_the_file_is(head))
        try:
            zf = zipfile.ZipFile(path)
        except Exception:  # BadZipFile, or struct.error, ValueError... from a damaged directory
            raise _NotAModel("truncated or damaged: its zip directory is missing or broken") from None
        with zf:
            try:
                return model_file_arrays(zf)
            except (_NotAModel, _FutureFormat, W2VError, MemoryError):
                raise
            except Exception as e:  # whatever a damaged member makes zipfile or numpy raise: BadZipFile (a bad
                # CRC-32, a broken local header), EOFError, zlib.error, NotImplementedError (a compression method),
                # RuntimeError (encryption), ValueError...
                detail = str(e) if isinstance(e, zipfile.BadZipFile) else f"{type(e).__name__} {e}".strip()
                raise _NotAModel(f"damaged: {detail}") from None
    except _NotAModel as e:
        raise ModelFileError(f"{path} is not a w2v-nce model ({e})") from None
    except _FutureFormat as e:
        raise ModelFileError(f"{path} is a w2v-nce model of format {e.version}; this version reads format "
                             f"{_FORMAT_VERSION} — upgrade w2v-nce") from None
