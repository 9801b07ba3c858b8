import json
import math
import shutil
import subprocess

import numpy as np
import pytest

from w2v_nce import Model
from w2v_nce.bench import METRICS, json_rows, run_bench, split_corpus
from w2v_nce.evaluation import heldout_metrics
from w2v_nce.options import TrainOptions


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
    opts = TrainOptions(dim=16, epochs=1, min_count=3, max_vocab=800, workers=2).resolved()
    return run_bench(small_corpus, ["ns", "nce", "softmax", "infonce", "hs"], opts, heldout_fraction=0.05,
                     progress=False, log=lambda m: None)


def test_bench_runs_every_objective_and_gensim(bench_rows):
    rows = json_rows(bench_rows)
    assert [r["objective"] for r in rows] == ["ns", "nce", "softmax", "infonce", "hs", "gensim"]
    for r in rows:
        assert set(r) == {"objective", "arch", "vocab_size", "settings"} | set(METRICS), r.get("error")
        assert r["vocab_size"] == 800 and r["arch"] == "sg" and r["settings"]["dim"] == 16
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
    r = subprocess.run([EXE, "bench", small_corpus, "--objectives", "ns,bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "--objectives" in r.stderr


@pytest.mark.skipif(EXE is None, reason="w2v-nce is not installed")
def test_bench_plot(small_corpus, tmp_path):
    png = tmp_path / "bench.png"
    r = subprocess.run([EXE, "bench", small_corpus, "--objectives", "ns", "--dim", "8", "--epochs", "1",
                        "--min-count", "3", "--max-vocab", "300", "--no-gensim", "--plot", str(png), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert r.returncode == 1 and "pip install" in r.stderr and "matplotlib" in r.stderr
        assert not png.exists()
    else:
        assert r.returncode == 0, r.stderr
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
