"""predict, score, similar and evaluate: the installed command line (`python -m w2v_nce`) run as a subprocess,
against the Python API and gensim's own functions on the same files."""
import gzip
import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

import w2v_nce
from w2v_nce import Model
from w2v_nce.model.inference import distribution
from w2v_nce.prepare.sample import bundled_corpus_path


def run(*args):
    return subprocess.run([sys.executable, "-m", "w2v_nce", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def ok(*args):
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return r


def data_lines(stdout):
    """(word, value) of the output lines that are not # notes."""
    rows = [line.split("\t") for line in stdout.splitlines() if line and not line.startswith("#")]
    return [(w, float(v)) for w, v in rows]


def assert_one_line_error(r, *fragments):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for fragment in fragments:
        assert str(fragment) in lines[0], (fragment, lines[0])


@pytest.fixture(scope="module")
def trained(small_corpus, tmp_path_factory):
    """Tiny models (one epoch, one worker, fixed seed) saved as .npz, and the nce model's vectors as word2vec
    text and binary, named so that their extensions lie (the format is recognized by content)."""
    d = tmp_path_factory.mktemp("models")
    paths = {}
    common = dict(dim=16, epochs=1, min_count=3, workers=1, seed=1)
    for name, options in [("nce", dict(objective="nce")), ("ns", dict(objective="ns")),
                          ("hs", dict(objective="hs")), ("cbow", dict(objective="nce", arch="cbow"))]:
        model = w2v_nce.train(small_corpus, **common, **options)
        paths[name] = d / f"{name}.npz"
        model.save(paths[name])
    nce = Model.load(paths["nce"])
    paths["text"], paths["binary"] = d / "vectors.bin", d / "vectors.txt"  # sic: content, not name
    nce.save_word2vec_format(paths["text"])
    nce.save_word2vec_format(paths["binary"], binary=True)
    paths["heldout"] = d / "heldout.txt"
    with gzip.open(bundled_corpus_path(), "rt") as f:  # lines after the 60 of small_corpus
        lines = [line for _, line in zip(range(62), f)][60:]
    paths["heldout"].write_text("".join(lines))
    paths["dir"] = d
    return paths


# --- predict ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["nce", "ns", "hs"])
def test_exact_predict_sums_to_one_over_the_vocabulary_and_matches_the_api(trained, name):
    model = Model.load(trained[name])
    r = ok("predict", trained[name], "king", "--topn", len(model))
    rows = data_lines(r.stdout)
    assert sorted(w for w, _ in rows) == sorted(model.vocab)
    assert sum(p for _, p in rows) == pytest.approx(1.0, abs=1e-4)
    api = model.predict("king", topn=5)
    assert [w for w, _ in rows[:5]] == [w for w, _ in api]
    np.testing.assert_allclose([p for _, p in rows[:5]], [p for _, p in api], rtol=1e-5)
    assert r.stdout.startswith("# p(w | king)")


def test_self_normalized_predict_of_nce_is_exp_s(trained):
    model = Model.load(trained["nce"])
    r = ok("predict", trained["nce"], "king", "--topn", 5, "--self-normalized")
    assert "self-normalized" in r.stdout.splitlines()[0] and "NOT" not in r.stdout and r.stderr == ""
    api = model.predict("king", topn=5, normalize="self")
    assert [w for w, _ in data_lines(r.stdout)] == [w for w, _ in api]
    np.testing.assert_allclose([p for _, p in data_lines(r.stdout)], [p for _, p in api], rtol=1e-5)


def test_self_normalized_predict_of_ns_says_it_is_not_normalized_with_its_log_z(trained):
    model = Model.load(trained["ns"])
    r = ok("predict", trained["ns"], "king", "--topn", 3, "--self-normalized")
    head = r.stdout.splitlines()[0]
    assert head.startswith("#") and "NOT NORMALIZED" in head and "ns scores are not normalized" in head
    log_z = math.log(distribution(model, "king", "self").sum())
    shown = float(head.split("log Z(c) = ")[1].split(")")[0])
    assert shown == pytest.approx(log_z, abs=1e-4) and abs(log_z) > 0.5
    assert r.stderr.startswith("warning: ns scores are not normalized")
    assert len(data_lines(r.stdout)) == 3


def test_cbow_predicts_from_several_words_and_names_the_unknown_ones(trained):
    model = Model.load(trained["cbow"])
    r = ok("predict", trained["cbow"], "the", "king", "zzyzx", "--topn", 3)
    assert "not in the vocabulary, left out of the context: zzyzx" in r.stderr
    api = model.predict(["the", "king"], topn=3)
    assert [w for w, _ in data_lines(r.stdout)] == [w for w, _ in api]


@pytest.mark.parametrize("args,fragments", [
    (["nce", "zzyzx", "qqqq"], ["no context word is in the vocabulary: zzyzx, qqqq"]),
    (["nce", "king", "queen"], ["skip-gram model predicts from one context word"]),
    (["text", "king"], ["holds word vectors only", "vectors.bin"]),
])
def test_predict_bad_input(trained, args, fragments):
    assert_one_line_error(run("predict", trained[args[0]], *args[1:]), *fragments)


# --- score --------------------------------------------------------------------------------------------------

def test_score_modes_match_score_text_and_nce_is_normalized(trained):
    model = Model.load(trained["nce"])
    out = trained["dir"] / "score.json"
    for flag, normalize in [("--exact", "exact"), ("--self-normalized", "self")]:
        r = ok("score", trained["nce"], trained["heldout"], flag, "--json", out)
        got = json.loads(out.read_text())
        want = model.score_text(str(trained["heldout"]), normalize=normalize)
        assert got["pairs"] == want["pairs"] > 1000 and got["normalize"] == normalize and got["normalized"]
        assert got["nll"] == pytest.approx(want["nll"], abs=1e-9)
        assert got["log_z_mean"] == pytest.approx(want["log_z_mean"], abs=1e-9 if normalize == "exact" else 1e-6)
        for label in ("pairs", "mean NLL", "perplexity", "mean log Z", "pairs/s"):
            assert any(line.startswith(label) for line in r.stdout.splitlines()), (label, r.stdout)
        assert f"{got['pairs']:,}" in r.stdout and "NOT NORMALIZED" not in r.stdout
    assert ok("score", trained["nce"], trained["heldout"], "--window", 2, "--json", out)
    assert json.loads(out.read_text())["window"] == 2


def test_self_normalized_score_of_ns_is_flagged(trained):
    out = trained["dir"] / "ns.json"
    r = ok("score", trained["ns"], trained["heldout"], "--self-normalized", "--json", out)
    got = json.loads(out.read_text())
    assert got["normalized"] is False and got["objective"] == "ns" and got["log_z_mean"] > 0.5
    assert "NOT NORMALIZED" in r.stdout and r.stderr.startswith("warning: ns scores are not normalized")
    exact = ok("score", trained["ns"], trained["heldout"], "--json", out)
    assert json.loads(out.read_text())["normalized"] is True and "NOT NORMALIZED" not in exact.stdout


def test_score_bad_input(trained, tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(trained["nce"].read_bytes()[:5000])
    assert_one_line_error(run("score", truncated, trained["heldout"]), truncated)
    assert_one_line_error(run("score", trained["nce"], tmp_path / "missing.txt"), "missing.txt")
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("zzyzx qqqq xyzzy\n")
    assert_one_line_error(run("score", trained["nce"], unknown), "nothing to score")


# --- similar ------------------------------------------------------------------------------------------------

def test_similar_is_gensims_most_similar_for_text_binary_and_model(trained):
    kv = KeyedVectors.load_word2vec_format(str(trained["text"]))
    want = kv.most_similar("king", topn=5)
    for path in (trained["text"], trained["binary"], trained["nce"]):
        rows = data_lines(ok("similar", path, "king", "--topn", 5).stdout)
        assert [w for w, _ in rows] == [w for w, _ in want], path
        np.testing.assert_allclose([s for _, s in rows], [s for _, s in want], atol=1e-4)


def test_analogy_is_b_minus_a_plus_c(trained):
    kv = KeyedVectors.load_word2vec_format(str(trained["binary"]), binary=True)
    want = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=4)
    r = ok("similar", trained["binary"], "--analogy", "man", "king", "woman", "--topn", 4)
    assert [w for w, _ in data_lines(r.stdout)] == [w for w, _ in want]


def test_similar_looks_a_word_missing_as_written_up_lowercased(trained):
    kv = KeyedVectors.load_word2vec_format(str(trained["text"]))
    assert "King" not in kv.key_to_index
    lower = data_lines(ok("similar", trained["text"], "king", "--topn", 3).stdout)
    assert data_lines(ok("similar", trained["text"], "King", "--topn", 3).stdout) == lower
    r = ok("similar", trained["binary"], "--analogy", "Man", "KING", "woman", "--topn", 2)
    assert data_lines(r.stdout) == data_lines(ok("similar", trained["binary"], "--analogy", "man", "king",
                                                 "woman", "--topn", 2).stdout)


def test_similar_needs_a_word_or_an_analogy(trained):
    r = run("similar", trained["nce"])
    assert r.returncode == 2 and "give either WORD or --analogy" in r.stderr


def _bad_vectors(d):
    files = {
        "prose.txt": b"the quick brown fox jumps over the lazy dog\n" * 20,
        "empty.txt": b"",
        "short_line.txt": b"3 4\na 1 2 3 4\nb 1 2 3\nc 1 2 3 4\n",
        "few_lines.txt": b"3 4\na 1 2 3 4\nb 1 2 3 4\n",
        "not_numbers.txt": b"2 2\na x y\nb 1 2\n",
        "binary_short.bin": b"2 4\na " + np.ones(4, "<f4").tobytes() + b"\nb " + bytes(3),
        "garbage.npz": b"PK\x03\x04" + bytes(200),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    return files


@pytest.mark.parametrize("name,fragment", [
    ("prose.txt", "first line should be 'COUNT DIM'"), ("empty.txt", "first line"),
    ("short_line.txt", "line 3"), ("few_lines.txt", "truncated"), ("not_numbers.txt", "line 2"),
    ("binary_short.bin", "truncated"), ("garbage.npz", ""), ("missing.txt", "not found"),
])
def test_similar_bad_vectors_files(tmp_path, name, fragment):
    _bad_vectors(tmp_path)
    r = run("similar", tmp_path / name, "a")
    assert_one_line_error(r, tmp_path / name, fragment)


def test_similar_names_unknown_words(trained):
    assert_one_line_error(run("similar", trained["text"], "zzyzx"), "not in the vocabulary: zzyzx")
    assert_one_line_error(run("similar", trained["nce"], "--analogy", "man", "qqqq", "xyzzy"),
                          "not in the vocabulary: qqqq, xyzzy")


# --- evaluate -----------------------------------------------------------------------------------------------

def _user_files(d, kv):
    """A WS353-format file and a questions-words file built from the vocabulary (so that they are covered),
    with a comment, a blank line and a pair or question of unknown words."""
    words = kv.index_to_key[:60]
    rng = np.random.default_rng(3)
    pairs = d / "pairs.tsv"
    lines = ["# word1\tword2\tscore"] + [f"{a}\t{b}\t{rng.uniform(0, 10):.2f}" for a, b in
                                          zip(words[:30], words[30:])] + ["", "zzyzx\tqqqq\t5.0"]
    pairs.write_text("\n".join(lines) + "\n")
    analogies = d / "questions.txt"
    q = [" ".join(words[i:i + 4]) for i in range(0, 40, 2)]
    analogies.write_text(": first\n" + "\n".join(q[:10]) + "\n\n: second\n" + "\n".join(q[10:]) +
                         "\nzzyzx qqqq the of\n")
    return pairs, analogies


def test_evaluate_gives_gensims_figures_on_the_same_files(trained):
    kv = KeyedVectors.load_word2vec_format(str(trained["text"]))
    pairs, analogies = _user_files(trained["dir"], kv)
    out = trained["dir"] / "eval.json"
    r = ok("evaluate", trained["text"], "--pairs", pairs, "--analogies", analogies, "--json", out)
    got = json.loads(out.read_text())
    assert (got["words"], got["dim"]) == (len(kv), 16)
    assert [x["name"] for x in got["results"]] == ["questions-words", "WS353", "SimLex-999", str(analogies),
                                                    str(pairs)]
    files = {"questions-words": datapath("questions-words.txt"), "WS353": datapath("wordsim353.tsv"),
             "SimLex-999": datapath("simlex999.txt"), str(analogies): str(analogies), str(pairs): str(pairs)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in got["results"]:
            assert x["file"] == files[x["name"]]
            if x["kind"] == "analogies":
                score, sections = kv.evaluate_word_analogies(x["file"], restrict_vocab=30000)
                assert x["evaluated"] == len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) > 0
                assert x["accuracy"] == score and x["correct"] == len(sections[-1]["correct"])
            else:
                pearson, spearman, oov = kv.evaluate_word_pairs(x["file"])
                assert x["spearman"] == spearman[0] and x["pearson"] == pearson[0]
                assert x["evaluated"] > 1 and oov == pytest.approx(100 * (1 - x["evaluated"] / x["pairs"]))
    mine = {x["name"]: x for x in got["results"]}
    assert mine[str(pairs)]["pairs"] == 31 and mine[str(pairs)]["evaluated"] == 30
    assert mine[str(analogies)]["questions"] == 21 and mine[str(analogies)]["evaluated"] == 20
    assert "WS353" in r.stdout and "SimLex-999" in r.stdout and str(pairs) in r.stdout
    # the model gives the figures of its own vectors
    ok("evaluate", trained["nce"], "--pairs", pairs, "--json", out)
    from_model = json.loads(out.read_text())["results"]
    assert from_model == [x for x in got["results"] if x["name"] != str(analogies)]


@pytest.mark.parametrize("kind,content,line", [
    ("--pairs", "# comment\nking\tqueen\t8.5\nking queen 7.0\n", 3),
    ("--pairs", "king\tqueen\t8.5\nman\twoman\thigh\n", 2),
    ("--pairs", "king\tqueen\t8.5\tx\n", 1),
    ("--analogies", "king queen man woman\n", 1),
    ("--analogies", ": family\nking queen man woman\nboy girl\n", 3),
    ("--analogies", ":family\nking queen man woman\n", 1),
    ("--analogies", ": family\nking queen man woman\n\xff\n", 3),
])
def test_evaluate_names_the_bad_line_of_a_user_file(trained, tmp_path, kind, content, line):
    path = tmp_path / "bench.txt"
    path.write_bytes(content.encode("latin-1" if "\xff" in content else "utf-8"))
    assert_one_line_error(run("evaluate", trained["text"], kind, path), f"{path}, line {line}:")


def test_evaluate_bad_vectors_and_empty_benchmark(trained, tmp_path):
    prose = tmp_path / "prose.vec"
    prose.write_text("not vectors at all\n")
    assert_one_line_error(run("evaluate", prose), prose, "COUNT DIM")
    empty = tmp_path / "empty.tsv"
    empty.write_text("# nothing here\n")
    assert_one_line_error(run("evaluate", trained["nce"], "--pairs", empty), empty, "no word pair")
