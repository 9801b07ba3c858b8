import gzip
import os
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
