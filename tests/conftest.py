import gzip
import os
import sys

import numpy as np
import pytest

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
