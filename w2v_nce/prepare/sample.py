"""Where the bundled sample corpus is: data/ of a source checkout, or <prefix>/share/w2v-nce once installed."""
import os
import sys
import sysconfig

from ..core.errors import W2VError

SAMPLE_NAME = "text8_sample.txt.gz"


def bundled_corpus_path():
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # above w2v_nce/
    candidates = [
        os.path.join(checkout, "data", SAMPLE_NAME),
        os.path.join(sys.prefix, "share", "w2v-nce", SAMPLE_NAME),
        os.path.join(sysconfig.get_path("data"), "share", "w2v-nce", SAMPLE_NAME),
    ]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise W2VError("the bundled sample corpus is not installed; pass a CORPUS path")
