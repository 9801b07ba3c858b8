"""What the benchmark scripts share: the corpus, the base argument parser, whole-process timing and peak memory of a
child process, the `median [min–max]` text, gensim's word-vector evaluators and the `w2v-nce` command.

A script in this folder imports it as `common` (Python puts the running script's folder first on sys.path).
"""
import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # the repository
# The default corpus: text8_2m next to the repository (../shared/data), else the sample bundled with it.
DEFAULT_CORPORA = [os.path.join(ROOT, "..", "shared", "data", "text8_2m.txt.gz"),
                   os.path.join(ROOT, "data", "text8_sample.txt.gz")]
SAMPLE_CORPUS = DEFAULT_CORPORA[-1]


def default_corpus():
    """The first of DEFAULT_CORPORA that exists (None if none does)."""
    return next((c for c in DEFAULT_CORPORA if os.path.exists(c)), None)


def parser(doc, *, corpus=True, reps=None, json_help=None, whole_doc=False):
    """The base argument parser: the description is the docstring's first paragraph (all of it with whole_doc);
    --corpus (default: default_corpus()) unless corpus is False; --reps with this default if given; --json with
    this help if given."""
    if whole_doc:
        p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    else:
        p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    if corpus:
        p.add_argument("--corpus", default=default_corpus())
    if reps is not None:
        p.add_argument("--reps", type=int, default=reps)
    if json_help:
        p.add_argument("--json", help=json_help)
    return p


def write_json(path, data):
    """data to path as indented JSON; nothing when path is None."""
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=1)


def rounded(row, digits=4):
    """The row with its floats rounded, for a one-line JSON progress report."""
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in row.items()}


# --- corpus files ---------------------------------------------------------------------------------------------


def plain_copy(path, tmp, name=None):
    """A plain-text copy of the corpus in tmp (named `name`, else as the corpus without .gz) if it is .gz (gensim's
    corpus_file mode reads plain text), else the path itself (made absolute)."""
    path = os.path.abspath(path)
    if not path.endswith(".gz"):
        return path
    out = os.path.join(tmp, name or os.path.basename(path)[:-3])
    with gzip.open(path, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return out


def split_heldout(corpus, fraction, train_path):
    """Write all but the last `fraction` of the corpus's non-empty lines (plain or .gz) to train_path; returns
    (the held-out lines, the number of training lines)."""
    opener = gzip.open if corpus.endswith(".gz") else open
    with opener(corpus, "rt", encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    n_held = max(1, int(round(fraction * len(lines))))
    with open(train_path, "w", encoding="utf-8") as f:
        f.writelines(lines[:-n_held])
    return lines[-n_held:], len(lines) - n_held


def repeated(src, dst, times):
    """dst: the file src written `times` times in a row."""
    with open(dst, "wb") as out:
        for _ in range(times):
            with open(src, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 22)
    return dst


def head(src, dst, size=200_000):
    """dst: the first `size` bytes of the plain-text file src."""
    with open(src, "rb") as f, open(dst, "wb") as out:
        out.write(f.read(size))
    return dst


# --- timing -----------------------------------------------------------------------------------------------------


def sgemm_gflops(n, rng):
    """numpy's SGEMM rate on two n × n float32 matrices (2·n³ flops), GFLOP/s: the median of three calls."""
    import numpy as np

    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def sgemm_gflops_in_child(n, seed):
    """sgemm_gflops in a child process: after a product OpenBLAS's threads keep spinning for a while, and in the
    measuring process they would take the cores from what is timed next."""
    code = (f"import sys; sys.path.insert(0, {HERE!r}); import numpy, common; "
            f"print(common.sgemm_gflops({int(n)}, numpy.random.default_rng({int(seed)})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def cpu_model():
    """The processor's model name as lscpu prints it (Linux: /proc/cpuinfo's "model name"), for speed tables."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown processor"


def median_range(values, fmt=".2f", sep="–"):
    """"median [min–max]" of the values, each formatted with fmt."""
    return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}{sep}{max(values):{fmt}}]"


@dataclass
class Child:
    """A finished child process: wall seconds from its start to its exit, its peak resident memory in MB (its
    ru_maxrss, os.wait4), its exit code and what it wrote."""
    wall_seconds: float
    peak_rss_mb: float
    code: int
    stdout: str
    stderr: str

    def last_line(self):
        """The last non-blank line of stderr ("" if none)."""
        lines = [x for x in self.stderr.strip().splitlines() if x.strip()]
        return lines[-1] if lines else ""


def run_child(args, *, stdout=True, check=True, env=None):
    """Run args to completion as a child process: a Child. stdout=False sends its standard output to /dev/null.
    With check, a non-zero exit ends this script with the command and the end of its stderr."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE if stdout else subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    out = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read())) if stdout else None
    if reader:
        reader.start()
    err = proc.stderr.read()
    if reader:
        reader.join()
    _, status, usage = os.wait4(proc.pid, 0)  # not proc.wait(): the child's own resource usage comes with it
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if check and proc.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {proc.returncode}\n{err[-2000:]}")
    return Child(wall, usage.ru_maxrss / 1024.0, proc.returncode, out[0] if out else "", err)


# --- the w2v-nce command ------------------------------------------------------------------------------------------


def w2v_nce_command():
    """The installed console script: the one next to this Python if there is one (a version manager's shim found
    first on PATH would add its own start-up time to every run), else the first on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "w2v-nce")
    exe = beside if os.access(beside, os.X_OK) else shutil.which("w2v-nce")
    if exe is None:
        sys.exit("the w2v-nce command is not installed (pip install -e .)")
    return [exe]


# The command's summary line: "N words in T s (R words/s; preparation P s, A s in all), vocabulary V, ..."
_SUMMARY = re.compile(r"([\d,]+) words in ([\d.]+) s \(([\d,]+) words/s; preparation ([\d.]+) s")


def train_summary(stderr):
    """(words trained, training seconds, preparation seconds) from the last summary line of `w2v-nce train`;
    ends this script if there is none."""
    found = _SUMMARY.findall(stderr)
    if not found:
        sys.exit(f"no summary line in the output of w2v-nce train:\n{stderr[-2000:]}")
    words, train_s, _, prep_s = found[-1]
    return int(words.replace(",", "")), float(train_s), float(prep_s)


def warm_up(corpus, tmp, archs=("sg",), extra=()):
    """Tiny runs of `w2v-nce train` (one per architecture) on the corpus's first 200 kB fill Numba's cache, so that
    no measured run includes compilation."""
    warm = head(corpus, os.path.join(tmp, "warm.txt"))
    for arch in archs:
        run_child(w2v_nce_command() + ["train", warm, "-o", os.path.join(tmp, "warm.vec"), "--epochs", "1",
                                       "--min-count", "1", "--arch", arch, "--quiet", *extra])


# --- word-vector quality -----------------------------------------------------------------------------------------


def evaluate(kv):
    """Analogy accuracy (questions-words, restrict_vocab 30000), WS353 and SimLex-999 Spearman of gensim
    KeyedVectors, by gensim's evaluators."""
    from gensim.test.utils import datapath

    analogy = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=30000)[0]
    ws = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0]
    sl = kv.evaluate_word_pairs(datapath("simlex999.txt"))[1][0]
    return dict(analogy=analogy, ws353=ws, simlex=sl)


def load_vectors(path):
    """gensim KeyedVectors of a word2vec text file."""
    from gensim.models import KeyedVectors

    return KeyedVectors.load_word2vec_format(path)
