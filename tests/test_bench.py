import importlib.util
import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

import w2v_nce.bench.runs as bench
from w2v_nce import Model
from w2v_nce.bench.measures import insample_sentences
from w2v_nce.bench.runs import bench_grid, run_bench, split_corpus, train_with_curve
from w2v_nce.bench.summary import CURVE_KEYS, METRICS, format_table, json_rows, mean_sd, summarize
from w2v_nce.core.errors import W2VWarning
from w2v_nce.model.evaluation import heldout_metrics
from w2v_nce.training.options import TrainOptions

# the keys every --json row had before seeds, sweeps and curves: readers of that format keep working
TODAYS_KEYS = {"objective", "arch", "vocab_size", "settings"} | set(METRICS)

# matplotlib is optional (the `plot` extra): tests of the figures skip without it, and the tests of what happens
# without it hide it (without_matplotlib), so that they run whether it is installed or not
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
FIGURES = ("fig1_heldout_nll_vs_time.png", "fig2_heldout_nll_vs_k.png", "fig3_epoch_seconds_vs_vocab.png",
           "fig4_log_z.png", "fig5_word_vectors.png", "fig6_insample_nll_vs_epoch.png")
PNG = b"\x89PNG\r\n\x1a\n"
# `python -m w2v_nce ARGS` as where matplotlib is not installed: `import matplotlib` raises ImportError
WITHOUT_MATPLOTLIB = ("import runpy, sys; sys.modules['matplotlib'] = None; "
                      "runpy.run_module('w2v_nce', run_name='__main__')")


@pytest.fixture
def without_matplotlib(monkeypatch):
    """In this process, `import matplotlib` raises ImportError as where it is not installed."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def figures_warnings(recorded):
    return [w for w in recorded if issubclass(w.category, W2VWarning) and "figures need matplotlib" in str(w.message)]


def hand_model(objective="nce"):
    return Model(["a", "b", "c"], [5, 4, 3],
                 np.array([[1, 0], [0, 1], [1, 1]], np.float32),
                 np.array([[0.5, 0], [0, -1], [2, 1]], np.float32),
                 np.array([0.1, 0.2, -0.3], np.float32), options={"objective": objective})


def test_heldout_metrics_of_a_hand_built_model():
    m = hand_model()
    # skip-gram, window 1, sentence "a b c x" (x unknown): pairs (context, target) = (b,a), (a,b), (c,b), (b,c)
    pairs = [(1, 0), (0, 1), (2, 1), (1, 2)]
    v, u, bias = m.input_vectors, m.output_vectors, m.output_bias
    nll, neg_s, log_z = [], [], []
    for c, w in pairs:
        s = [float(v[c] @ u[j] + bias[j]) for j in range(3)]
        z = math.log(sum(math.exp(x) for x in s))
        nll.append(z - s[w])
        neg_s.append(-s[w])
        log_z.append(z)
    got = heldout_metrics(m, [["a", "b", "c", "x"]], arch="sg", window=1)
    assert got["heldout_pairs"] == 4
    assert got["heldout_nll"] == pytest.approx(np.mean(nll), rel=1e-6)
    assert got["heldout_perplexity"] == pytest.approx(math.exp(np.mean(nll)), rel=1e-6)
    assert got["selfnorm_nll"] == pytest.approx(np.mean(neg_s), rel=1e-6)
    assert got["log_z_mean"] == pytest.approx(np.mean(log_z), rel=1e-6)
    assert got["log_z_std"] == pytest.approx(np.std(log_z), rel=1e-6)


def test_heldout_metrics_cbow_uses_the_window_mean():
    m = hand_model()
    got = heldout_metrics(m, [["a", "b", "c"]], arch="cbow", window=1)
    v, u, bias = m.input_vectors.astype(float), m.output_vectors, m.output_bias
    contexts = [(v[1], 0), ((v[0] + v[2]) / 2, 1), (v[1], 2)]
    nll = []
    for h, w in contexts:
        s = u @ h + bias
        nll.append(np.log(np.exp(s).sum()) - s[w])
    assert got["heldout_pairs"] == 3 and got["heldout_nll"] == pytest.approx(np.mean(nll), rel=1e-6)


def test_hierarchical_softmax_is_normalized_on_heldout():
    got = heldout_metrics(hand_model("hs"), [["a", "b", "c", "a"]], arch="sg", window=2)
    assert abs(got["log_z_mean"]) < 1e-9 and got["log_z_std"] < 1e-9
    assert got["selfnorm_nll"] == pytest.approx(got["heldout_nll"], rel=1e-9)


def test_split_corpus_holds_out_the_end(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("".join(f"s{i} w w\n" for i in range(10)))
    held = split_corpus(str(src), str(tmp_path / "train.txt"), heldout_fraction=0.2)
    assert held == [["s8", "w", "w"], ["s9", "w", "w"]]
    assert (tmp_path / "train.txt").read_text().splitlines()[-1] == "s7 w w"


@pytest.fixture(scope="module")
def bench_rows(small_corpus):
    opts = TrainOptions(dim=16, epochs=2, min_count=3, max_vocab=800, workers=1).resolved()
    return run_bench(small_corpus, ["ns", "nce", "softmax", "infonce", "hs"], opts, heldout_fraction=0.05,
                     progress=False, log=lambda m: None)


def test_bench_runs_every_objective_and_gensim(bench_rows):
    rows = json_rows(bench_rows)
    assert [r["objective"] for r in rows] == ["ns", "nce", "softmax", "infonce", "hs", "gensim"]
    for r in rows:
        assert "error" not in r, r["error"]
        assert TODAYS_KEYS <= set(r)
        assert set(r) == TODAYS_KEYS | {"insample_pairs", "seed", "negative", "max_vocab", "curve", "epoch_losses"}
        assert r["vocab_size"] == 800 and r["arch"] == "sg" and r["settings"]["dim"] == 16
        assert r["seed"] == 1 and r["max_vocab"] == 800
        assert r["negative"] == (5 if r["objective"] in ("ns", "nce", "infonce", "gensim") else None)
        for key in METRICS:
            undefined = (key == "mi_lower_bound" and r["objective"] != "infonce") or \
                        (key == "train_loss" and r["objective"] == "gensim")
            if undefined:
                assert r[key] is None, (r["objective"], key)
            else:
                assert isinstance(r[key], (int, float)) and math.isfinite(r[key]), (r["objective"], key, r[key])
        assert 0.0 <= r["analogy_accuracy"] <= 1.0
    by = {r["objective"]: r for r in rows}
    assert abs(by["hs"]["log_z_mean"]) < 1e-6  # normalized by construction
    assert by["softmax"]["heldout_nll"] < math.log(800)  # better than uniform
    json.dumps(rows)  # serializable


def test_every_run_has_a_heldout_curve_per_epoch(bench_rows):
    for r in json_rows(bench_rows):
        curve = r["curve"]
        assert [p["epoch"] for p in curve] == [1, 2], r["objective"]
        for p in curve:
            assert list(p) == CURVE_KEYS
            assert all(isinstance(p[k], float) and math.isfinite(p[k]) for k in CURVE_KEYS[1:])
        assert 0 < curve[0]["train_seconds"] <= curve[1]["train_seconds"]
        # the training clock excludes the evaluation: the last point is the row's training time and metrics
        assert curve[-1]["train_seconds"] == pytest.approx(r["train_seconds"], rel=1e-9)
        for k in ("heldout_nll", "insample_nll", "selfnorm_nll", "log_z_mean"):
            assert curve[-1][k] == pytest.approx(r[k], rel=1e-9)


def test_every_run_has_an_insample_nll_on_the_same_training_pairs(bench_rows):
    rows = {r["objective"]: r for r in json_rows(bench_rows)}
    for objective, r in rows.items():
        assert isinstance(r["insample_nll"], float) and math.isfinite(r["insample_nll"]), objective
        assert all(math.isfinite(p["insample_nll"]) for p in r["curve"]), objective
    # one draw of pairs for every run: gensim's own word order included
    assert len({r["insample_pairs"] for r in rows.values()}) == 1 and rows["ns"]["insample_pairs"] > 1000
    # the objectives learn the training pairs: the in-sample NLL falls from epoch 1 to epoch 2
    for objective in ("nce", "hs"):
        first, last = (p["insample_nll"] for p in rows[objective]["curve"])
        assert last < first, objective


def test_the_insample_sentences_are_spread_over_the_training_part(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("".join(f"s{i} w w\n" for i in range(1000)))
    tokens = 3000
    sentences, every = insample_sentences(str(path), tokens, 30)  # as many tokens as a held-out part of 30
    assert every == 100 and sentences == [[f"s{i}", "w", "w"] for i in range(0, 1000, 100)]
    sentences, every = insample_sentences(str(path), tokens, 0)  # nothing held out: 1% of the training tokens
    assert every == 100 and len(sentences) == 10
    sentences, every = insample_sentences(str(path), tokens, 10 * tokens)  # never fewer than every sentence
    assert every == 1 and len(sentences) == 1000


@pytest.mark.parametrize("objective", ["nce", "softmax", "hs"])
def test_curves_do_not_change_what_is_trained(small_corpus, tmp_path, objective):
    train_path = str(tmp_path / "train.txt")
    held = split_corpus(small_corpus, train_path, heldout_fraction=0.05)
    opts = TrainOptions(dim=16, epochs=3, min_count=3, max_vocab=600, workers=1, negative=3).resolved()
    with open(train_path, encoding="utf-8") as f:
        insample = [line.split() for line in f][::10]
    with_curve, curve, final = train_with_curve(objective, train_path, held, opts, curves=True, insample=insample)
    without, none, final_without = train_with_curve(objective, train_path, held, opts, curves=False,
                                                    insample=insample)
    assert len(curve) == 3 and none == []
    np.testing.assert_array_equal(with_curve.input_vectors, without.input_vectors)
    np.testing.assert_array_equal(with_curve.output_vectors, without.output_vectors)
    if with_curve.output_bias is not None:
        np.testing.assert_array_equal(with_curve.output_bias, without.output_bias)
    assert with_curve.epoch_losses == without.epoch_losses
    assert final == final_without and math.isfinite(final["insample_nll"]) and final["insample_pairs"] > 0


def test_mean_sd():
    assert mean_sd([1.0, 2.0, 4.0]) == dict(mean=7 / 3, sd=pytest.approx(math.sqrt(7 / 3)), n=3)
    assert mean_sd([2.5]) == dict(mean=2.5, sd=None, n=1)
    assert mean_sd([None, float("nan"), 3.0, 5.0]) == dict(mean=4.0, sd=pytest.approx(math.sqrt(2)), n=2)
    assert mean_sd([None]) == dict(mean=None, sd=None, n=0)


def hand_row(objective, negative, seed, nll, seconds, log_z, curve=None, max_vocab=100, error=None):
    row = {k: None for k in METRICS}
    row.update(objective=objective, arch="sg", vocab_size=max_vocab, negative=negative, max_vocab=max_vocab,
               seed=seed, settings=dict(epochs=2, dim=8), heldout_nll=nll, train_seconds=seconds,
               log_z_mean=log_z, curve=curve or [])
    if error:
        row["error"] = error
    return row


def test_summary_of_hand_made_rows():
    def point(epoch, t, nll):
        return dict(epoch=epoch, train_seconds=t, heldout_nll=nll, selfnorm_nll=nll + 1, log_z_mean=0.5)

    rows = [hand_row("nce", 5, 1, 4.0, 10.0, -0.2, [point(1, 4.0, 5.0), point(2, 10.0, 4.0)]),
            hand_row("nce", 5, 2, 5.0, 14.0, 0.4, [point(1, 6.0, 6.0), point(2, 14.0, 5.0)]),
            hand_row("nce", 5, 3, None, None, None, error="W2VError: diverged"),
            hand_row("nce", 20, 1, 3.0, 30.0, 0.1),
            hand_row("softmax", None, 1, 2.0, 60.0, 7.0),
            hand_row("softmax", None, 2, 2.5, 62.0, 7.5),
            hand_row("softmax", None, 1, 3.5, 600.0, 9.0, max_vocab=1000)]
    s = summarize(rows)
    assert [(g["objective"], g["negative"], g["max_vocab"]) for g in s] == \
        [("nce", 5, 100), ("nce", 20, 100), ("softmax", None, 100), ("softmax", None, 1000)]
    nce5 = s[0]
    assert nce5["runs"] == 3 and nce5["failed"] == 1 and nce5["seeds"] == [1, 2]
    assert nce5["metrics"]["heldout_nll"] == dict(mean=4.5, sd=pytest.approx(math.sqrt(0.5)), n=2)
    assert nce5["metrics"]["seconds_per_epoch"] == dict(mean=6.0, sd=pytest.approx(math.sqrt(2)), n=2)
    assert nce5["metrics"]["abs_log_z_mean"]["mean"] == pytest.approx(0.3)
    assert nce5["metrics"]["analogy_accuracy"] == dict(mean=None, sd=None, n=0)
    assert [c["epoch"] for c in nce5["curve"]] == [1, 2]
    assert nce5["curve"][0]["train_seconds"] == dict(mean=5.0, sd=pytest.approx(math.sqrt(2)), n=2)
    assert nce5["curve"][1]["heldout_nll"]["mean"] == 4.5
    assert s[1]["metrics"]["heldout_nll"] == dict(mean=3.0, sd=None, n=1)
    assert s[2]["metrics"]["train_seconds"] == dict(mean=61.0, sd=pytest.approx(math.sqrt(2)), n=2)
    assert s[3]["metrics"]["heldout_nll"]["mean"] == 3.5 and s[3]["vocab_size"] == 1000
    table = format_table(rows).splitlines()
    assert "4.5000 ± 0.7071" in table[1] and table[1].split()[:4] == ["nce", "5", "100", "2"]
    assert "3.0000" in table[2] and "±" not in table[2].split("3.0000")[1].split()[0]
    assert table[-1] == "nce k=5 seed 3: W2VError: diverged"


def test_sweep_grid():
    grid = bench_grid(["ns", "softmax", "nce", "hs"], [5, 20], [100, 1000], [1, 2], gensim=True)
    one_seed = [("ns", 5, 100), ("ns", 20, 100), ("softmax", None, 100), ("nce", 5, 100), ("nce", 20, 100),
                ("hs", None, 100), ("gensim", 5, 100), ("gensim", 20, 100)]
    one_seed += [(o, k, 1000) for o, k, _ in one_seed]
    assert grid == [(o, k, v, seed) for seed in (1, 2) for o, k, v in one_seed]
    assert bench_grid(["softmax"], [5, 20], [None], [7], gensim=False) == [("softmax", None, None, 7)]


def test_sweep_rows_carry_their_configuration(small_corpus):
    opts = TrainOptions(dim=8, epochs=1, min_count=3, workers=1, negative=5).resolved()
    rows = run_bench(small_corpus, ["nce", "hs"], opts, heldout_fraction=0.05, gensim=False, progress=False,
                     log=lambda m: None, seeds=2, negatives=[2, 4], max_vocabs=[200, 400])
    got = [(r["objective"], r["negative"], r["max_vocab"], r["seed"], r["vocab_size"], r["settings"]["negative"],
            r["settings"]["seed"]) for r in rows]
    assert got == [(o, k, v, seed, v, k or 5, seed) for seed in (1, 2) for v in (200, 400)
                   for o, k in (("nce", 2), ("nce", 4), ("hs", None))]
    assert all("error" not in r for r in rows)
    assert len(summarize(rows)) == 6


def test_report_keeps_finished_runs_and_a_rerun_skips_them(small_corpus, tmp_path, monkeypatch, recwarn):
    report = tmp_path / "report"
    opts = TrainOptions(dim=8, epochs=1, min_count=3, max_vocab=300, workers=1).resolved()
    real = bench.run_objective
    calls = []

    def counting(name, *args, **kwargs):
        calls.append(name)
        if name == "hs" and interrupt:
            raise KeyboardInterrupt  # Ctrl-C in the third run
        return real(name, *args, **kwargs)

    def run(**kw):
        return run_bench(small_corpus, ["ns", "nce", "hs"], opts, heldout_fraction=0.05, gensim=False,
                         progress=False, log=lambda m: None, report_dir=str(report), **kw)

    monkeypatch.setattr(bench, "run_objective", counting)
    interrupt = True
    with pytest.raises(KeyboardInterrupt):
        run()
    kept = json.loads((report / "runs.json").read_text())
    assert [r["objective"] for r in kept] == ["ns", "nce"] and calls == ["ns", "nce", "hs"]
    assert all(TODAYS_KEYS <= set(r) and r["config"]["seed"] == 1 for r in kept)
    assert not (report / "summary.json").exists()

    interrupt, calls[:] = False, []
    rows = run()
    assert calls == ["hs"]  # only the run that was interrupted trains again
    assert [r["objective"] for r in rows] == ["ns", "nce", "hs"]
    assert rows[0]["heldout_nll"] == kept[0]["heldout_nll"] and rows[0]["curve"] == kept[0]["curve"]
    summary = json.loads((report / "summary.json").read_text())
    assert [g["objective"] for g in summary] == ["ns", "nce", "hs"]
    assert summary[0]["metrics"]["heldout_nll"]["mean"] == kept[0]["heldout_nll"]
    text = (report / "report.md").read_text()
    assert "2 kept from earlier" in text and "| nce | 5 |" in text

    calls[:] = []
    run()
    assert calls == []  # everything done: nothing trains
    calls[:] = []
    run(seeds=2)  # one more seed: only the new runs train
    assert calls == ["ns", "nce", "hs"]
    assert len(json.loads((report / "runs.json").read_text())) == 6
    calls[:] = []
    opts = TrainOptions(dim=8, epochs=1, min_count=3, max_vocab=300, workers=1, window=3).resolved()
    run()  # another configuration: nothing matches
    assert calls == ["ns", "nce", "hs"]
    assert len(json.loads((report / "runs.json").read_text())) == 9  # earlier runs are kept
    if HAS_MATPLOTLIB:
        for name in FIGURES:
            assert (report / name).read_bytes()[:8] == PNG, name
        assert figures_warnings(recwarn) == []
    else:  # the report is written without its figures and says so, and the bench warns beforehand
        assert "need matplotlib" in (report / "report.md").read_text() and list(report.glob("*.png")) == []
        assert figures_warnings(recwarn)


def test_runs_stored_before_the_insample_nll_are_trained_again(small_corpus, tmp_path, monkeypatch):
    report = tmp_path / "report"
    opts = TrainOptions(dim=8, epochs=1, min_count=3, max_vocab=300, workers=1).resolved()
    real, calls = bench.run_objective, []

    def counting(name, *args, **kwargs):
        calls.append(name)
        return real(name, *args, **kwargs)

    def run():
        return run_bench(small_corpus, ["ns", "hs"], opts, heldout_fraction=0.05, gensim=False, progress=False,
                         log=lambda m: None, report_dir=str(report))

    monkeypatch.setattr(bench, "run_objective", counting)
    run()
    runs_file = report / "runs.json"
    stored = json.loads(runs_file.read_text())
    assert [r["config"]["format"] for r in stored] == [bench.RUN_FORMAT] * 2 and bench.RUN_FORMAT >= 2
    # the rows as the bench stored them before the in-sample NLL: no such keys, a configuration without a format
    for r in stored:
        del r["config"]["format"], r["insample_nll"], r["insample_pairs"]
        for p in r["curve"]:
            del p["insample_nll"]
    runs_file.write_text(json.dumps(stored))
    calls[:] = []
    rows = run()
    assert calls == ["ns", "hs"]  # not kept: trained again, with the in-sample NLL
    assert all(isinstance(r["insample_nll"], float) and r["curve"][0]["insample_nll"] == r["insample_nll"]
               for r in rows)
    calls[:] = []
    assert [r["insample_nll"] for r in run()] == [r["insample_nll"] for r in rows] and calls == []
    text = (report / "report.md").read_text()
    assert "insample NLL" in text and "- In-sample pairs: 1 training sentence in " in text
    if HAS_MATPLOTLIB:
        assert "In-sample NLL after each epoch" in text
        assert (report / "fig6_insample_nll_vs_epoch.png").read_bytes()[:8] == PNG


def test_a_report_without_matplotlib_warns_and_says_so(small_corpus, tmp_path, without_matplotlib):
    report = tmp_path / "report"
    opts = TrainOptions(dim=8, epochs=1, min_count=3, max_vocab=300, workers=1).resolved()
    with pytest.warns(W2VWarning, match="figures need matplotlib"):
        rows = run_bench(small_corpus, ["ns"], opts, heldout_fraction=0.05, gensim=False, progress=False,
                         log=lambda m: None, report_dir=str(report))
    assert [r["objective"] for r in rows] == ["ns"] and all("error" not in r for r in rows)
    assert "need matplotlib" in (report / "report.md").read_text()
    assert (report / "summary.json").exists() and list(report.glob("*.png")) == []


EXE = shutil.which("w2v-nce")


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_bench_cli(small_corpus, tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([EXE, "bench", small_corpus, "--objectives", "ns,nce", "--dim", "8", "--epochs", "1",
                        "--min-count", "3", "--max-vocab", "300", "--no-gensim", "--json", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "heldout NLL" in r.stdout and "nce" in r.stdout
    rows = json.loads(out.read_text())
    assert [x["objective"] for x in rows] == ["ns", "nce"]
    assert all(TODAYS_KEYS <= set(x) for x in rows)
    r = subprocess.run([EXE, "bench", small_corpus, "--objectives", "ns,bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "--objectives" in r.stderr
    for bad in ("5,x", "0", ","):
        r = subprocess.run([EXE, "bench", small_corpus, "--negative", bad], capture_output=True, text=True)
        assert r.returncode == 2 and "--negative" in r.stderr, bad


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_bench_cli_sweeps_seeds_k_and_vocabulary(small_corpus, tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([EXE, "bench", small_corpus, "--objectives", "nce,hs", "--dim", "8", "--epochs", "1",
                        "--min-count", "3", "--negative", "2,4", "--max-vocab", "200,300", "--seeds", "2",
                        "--workers", "1", "--no-gensim", "--json", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(out.read_text())
    assert len(rows) == 2 * 2 * 3 and all(TODAYS_KEYS <= set(x) and "error" not in x for x in rows)
    assert {(x["objective"], x["negative"], x["max_vocab"], x["seed"]) for x in rows} == \
        {(o, k, v, s) for o, k in (("nce", 2), ("nce", 4), ("hs", None)) for v in (200, 300) for s in (1, 2)}
    table = r.stdout.splitlines()
    assert len(table) == 1 + 6 and all("±" in line for line in table[1:])


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_bench_plot(small_corpus, tmp_path):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib (the plot extra)")
    png = tmp_path / "bench.png"
    r = subprocess.run([EXE, "bench", small_corpus, "--objectives", "ns", "--dim", "8", "--epochs", "1",
                        "--min-count", "3", "--max-vocab", "300", "--no-gensim", "--plot", str(png), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == PNG


def test_bench_plot_without_matplotlib_says_how_to_install_it(small_corpus, tmp_path):
    png = tmp_path / "bench.png"
    r = subprocess.run([sys.executable, "-c", WITHOUT_MATPLOTLIB, "bench", small_corpus, "--objectives", "ns",
                        "--dim", "8", "--epochs", "1", "--min-count", "3", "--max-vocab", "300", "--no-gensim",
                        "--plot", str(png), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "pip install" in r.stderr and "matplotlib" in r.stderr, r.stderr
    assert not png.exists()


def test_without_a_given_alpha_each_objective_trains_at_its_default_rate(small_corpus, monkeypatch):
    """Full softmax keeps word2vec's rate, the others (and gensim, as negative sampling) 0.04; a given alpha
    applies to every run."""
    import dataclasses

    seen = {}

    def recording(name, train_path, heldout, opts, *args, **kwargs):
        seen[name] = opts.alpha
        return bench._row(name, opts.arch, 0, bench._settings(opts))

    monkeypatch.setattr(bench, "run_objective", recording)
    monkeypatch.setattr(bench, "run_gensim", lambda train_path, heldout, opts, curves: recording(
        "gensim", train_path, heldout, opts))
    opts = TrainOptions(dim=8, epochs=1, min_count=3, workers=1).resolved()
    run_bench(small_corpus, ["ns", "softmax", "nce"], dataclasses.replace(opts, alpha=None), heldout_fraction=0.05,
              progress=False, log=lambda m: None)
    assert seen == {"ns": 0.04, "softmax": 0.025, "nce": 0.04, "gensim": 0.04}
    run_bench(small_corpus, ["ns", "softmax"], dataclasses.replace(opts, alpha=0.01), heldout_fraction=0.05,
              progress=False, log=lambda m: None)
    assert seen == {"ns": 0.01, "softmax": 0.01, "nce": 0.04, "gensim": 0.01}
