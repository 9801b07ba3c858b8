import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a pass is a pass, a failure reproduces):
# HYPOTHESIS_PROFILE=explore draws new ones and keeps failing examples in .hypothesis/.
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

sys.path.insert(0, os.path.dirname(__file__))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "data", "text8_sample.txt.gz")


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """The first 60,000 words of the bundled sample, as a plain text file of 60 lines."""
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
        for _, line in zip(range(60), f):
            out.write(line)
    return str(path)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# Each objective's training kernel takes a minute or more to compile the first time (then Numba's cache on disk
# serves it): in a fresh clone, one process compiling the five one after another took half the suite's time. Two
# processes compile them at the session's start, one on each of two cores; with the cache warm each only loads them.
KERNEL_GROUPS = (("hs", "nce", "softmax"), ("ns", "infonce"))
COMPILE_KERNELS = """import sys, w2v_nce
for objective in sys.argv[2:]:
    w2v_nce.train(sys.argv[1], objective=objective, dim=8, epochs=1, workers=1, seed=1)
"""


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels(small_corpus):
    """The objectives' kernels compiled (or loaded) into Numba's cache before the first test, in parallel. A group
    that fails is left to the tests that use it, which then compile it and report its error."""
    procs = [subprocess.Popen([sys.executable, "-c", COMPILE_KERNELS, small_corpus, *group], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for group in KERNEL_GROUPS]
    for proc in procs:
        proc.wait()
