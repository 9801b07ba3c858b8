"""Rows of the bench for existing models: a saved w2v-nce model and one converted from gensim, evaluated on the
bench's held-out split without training (run_bench(models=...), `w2v-nce bench --model PATH`)."""
import json
import math
import os
import subprocess
import sys

import pytest

from test_bench import EXE, HAS_MATPLOTLIB, TODAYS_KEYS, WITHOUT_MATPLOTLIB, figures_warnings
from w2v_nce import Model, W2VError, train
from w2v_nce.bench.runs import run_bench
from w2v_nce.bench.summary import MODEL_KEYS, format_table, json_rows, summarize
from w2v_nce.model.evaluation import heldout_metrics
from w2v_nce.training.options import TrainOptions

OPTS = dict(dim=8, epochs=1, min_count=3, workers=1)
HELD_FRACTION = 0.05


def sentences(path):
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f]


@pytest.fixture(scope="module")
def saved_ns(small_corpus, tmp_path_factory):
    """A saved ns model, trained on the first 40 sentences with its own (smaller) vocabulary."""
    path = tmp_path_factory.mktemp("models") / "ns40.npz"
    train(sentences(small_corpus)[:40], objective="ns", max_vocab=200, **OPTS).save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def from_gensim(small_corpus):
    from gensim.models import Word2Vec

    w2v = Word2Vec(sentences(small_corpus)[:40], vector_size=8, window=5, min_count=5, sg=1, negative=5, epochs=1,
                   workers=1, seed=3)
    return Model.from_gensim(w2v)


def held_out(small_corpus):
    s = sentences(small_corpus)
    return s[len(s) - round(len(s) * HELD_FRACTION):]


def check_model_row(row, model, held, name):
    assert row["objective"] == name and row["trained"] is False
    assert row["train_seconds"] is None and row["words_per_second"] is None and row["train_loss"] is None
    assert row["vocab_size"] == len(model) and row["curve"] == [] and "error" not in row
    assert row["insample_nll"] is None and row.get("insample_pairs") is None  # not trained on the bench's text
    expected = heldout_metrics(model, held, "sg", 5)  # the same held-out sentences, the bench's pairs
    assert row["heldout_nll"] == pytest.approx(expected["heldout_nll"])
    assert row["log_z_mean"] == pytest.approx(expected["log_z_mean"])
    assert row["heldout_pairs"] == expected["heldout_pairs"] > 0
    tokens = sum(map(len, held))
    oov = sum(w not in model.index for s in held for w in s)
    assert row["heldout_tokens"] == tokens and row["heldout_oov_tokens"] == oov > 0
    for key in ("heldout_nll", "heldout_perplexity", "selfnorm_nll", "log_z_mean", "log_z_std"):
        assert isinstance(row[key], float) and math.isfinite(row[key]), key
    assert {"analogy_accuracy", "ws353_spearman", "simlex_spearman"} <= set(row)  # None without pairs in vocabulary


def test_rows_of_existing_models_through_the_api(small_corpus, saved_ns, from_gensim, tmp_path, recwarn):
    opts = TrainOptions(max_vocab=300, **OPTS).resolved()
    report = tmp_path / "report"
    rows = run_bench(small_corpus, ["ns"], opts, heldout_fraction=HELD_FRACTION, gensim=False, progress=False,
                     log=lambda m: None, report_dir=str(report), models=[saved_ns, from_gensim])
    assert [r["objective"] for r in rows] == ["ns", "model:ns40.npz", "model:2"]
    held = held_out(small_corpus)
    check_model_row(rows[1], Model.load(saved_ns), held, "model:ns40.npz")
    check_model_row(rows[2], from_gensim, held, "model:2")
    assert rows[1]["model"] == saved_ns and "gensim" in rows[2]["model"]
    assert rows[1]["settings"]["max_vocab"] == 200 and rows[2]["settings"]["min_count"] == 5

    out = json_rows(rows)
    assert set(out[0]) == TODAYS_KEYS | {"insample_pairs", "seed", "negative", "max_vocab", "curve", "epoch_losses"}
    assert all(set(r) == set(out[0]) | set(MODEL_KEYS) for r in out[1:])
    table = format_table(rows)
    assert "model:ns40.npz" in table and "n/a" in table
    assert "held-out tokens" in table and f"{rows[1]['heldout_oov_tokens']:,} of" in table
    assert [g["trained"] for g in summarize(rows)] == [True, False, False]

    kept = json.loads((report / "runs.json").read_text())
    assert [r["objective"] for r in kept] == ["ns"]  # existing models are evaluated, not kept as runs
    text = (report / "report.md").read_text()
    assert "## Existing models" in text and "| model:2 |" in text and "### existing models (each with" in text and "1 trained by this command, 0 kept" in text
    summary = json.loads((report / "summary.json").read_text())
    assert summary[1]["objective"] == "model:ns40.npz" and summary[1]["trained"] is False
    if HAS_MATPLOTLIB:
        assert len(list(report.glob("*.png"))) == 6
    else:
        assert figures_warnings(recwarn) and "need matplotlib" in text


def test_bad_models_through_the_api(small_corpus, tmp_path):
    opts = TrainOptions(**OPTS).resolved()
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello\n")
    for bad, message in ((tmp_path / "missing.npz", "model not found"), (not_a_model, "not a w2v-nce model"),
                         (42, "a bench model is a path")):
        report = tmp_path / "report"
        with pytest.raises(W2VError, match=message):
            run_bench(small_corpus, ["ns"], opts, heldout_fraction=HELD_FRACTION, gensim=False, progress=False,
                      log=lambda m: None, report_dir=str(report), models=[bad])
        assert not report.exists()


def run_cli(args, without_matplotlib=False):
    head = [sys.executable, "-c", WITHOUT_MATPLOTLIB] if without_matplotlib else [EXE]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), os.environ.get("PYTHONPATH")] if p))
    return subprocess.run(head + args, capture_output=True, text=True, timeout=300, env=env)


def bench_args(corpus):
    return ["bench", corpus, "--objectives", "ns", "--dim", "8", "--epochs", "1", "--min-count", "3",
            "--max-vocab", "300", "--workers", "1", "--no-gensim", "--heldout-fraction", str(HELD_FRACTION),
            "--quiet"]


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
@pytest.mark.parametrize("without_matplotlib", [False, True])
def test_model_rows_through_the_cli(small_corpus, saved_ns, from_gensim, tmp_path, without_matplotlib):
    converted = tmp_path / "from_gensim.npz"
    from_gensim.save(str(converted))
    out, report = tmp_path / "bench.json", tmp_path / "report"
    r = run_cli(bench_args(small_corpus) + ["--model", saved_ns, "--model", str(converted), "--json", str(out),
                                            "--report", str(report)], without_matplotlib)
    assert r.returncode == 0, r.stderr
    assert "model:ns40.npz" in r.stdout and "model:from_gensim.npz" in r.stdout and "n/a" in r.stdout
    rows = json.loads(out.read_text())
    assert [x["objective"] for x in rows] == ["ns", "model:ns40.npz", "model:from_gensim.npz"]
    assert "trained" not in rows[0] and all(TODAYS_KEYS <= set(x) for x in rows)
    held = held_out(small_corpus)
    for row, model in zip(rows[1:], (Model.load(saved_ns), from_gensim)):
        assert row["trained"] is False and row["train_seconds"] is None and "error" not in row
        assert row["heldout_nll"] == pytest.approx(heldout_metrics(model, held, "sg", 5)["heldout_nll"])
        assert row["heldout_oov_tokens"] == sum(w not in model.index for s in held for w in s)
    assert "## Existing models" in (report / "report.md").read_text()
    if without_matplotlib:
        assert "figures need matplotlib" in r.stderr and list(report.glob("*.png")) == []


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_a_bad_model_path_is_one_line_and_writes_nothing(small_corpus, tmp_path):
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello\n")
    for bad in (str(tmp_path / "missing.npz"), str(not_a_model), str(tmp_path)):
        out, report = tmp_path / "bench.json", tmp_path / "report"
        r = run_cli(bench_args(small_corpus) + ["--model", bad, "--json", str(out), "--report", str(report)])
        assert r.returncode == 1, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and bad in lines[0] and lines[0].startswith("error:"), r.stderr
        assert r.stdout == "" and not out.exists() and not report.exists()
