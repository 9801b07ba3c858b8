"""Cached kernels are fresh only if no module of the package changed (kernels inline code across modules); their
arguments stay under the size that slowed them."""
import shutil

import pytest
from numba.core.registry import cpu_target

import w2v_nce
from w2v_nce.core import kernel_cache
from w2v_nce.kernels.objective_loops import CHUNK_TRAINERS, train_ns
from w2v_nce.objectives.base import KERNEL_ARGUMENT_WORDS_LIMIT
from w2v_nce.objectives.ns import negative_sampling


def test_kernels_use_the_package_wide_source_stamp():
    for kernel in (negative_sampling, train_ns):
        locator = kernel._cache._impl.locator
        assert type(locator).__name__.startswith("Package")
        assert locator.get_source_stamp() == kernel_cache.package_source_stamp()


def test_the_stamp_changes_when_an_inlined_module_changes(tmp_path):
    copy = tmp_path / "w2v_nce"
    shutil.copytree(kernel_cache.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = kernel_cache.source_stamp(copy)
    assert before == kernel_cache.package_source_stamp()
    base = copy / "objectives" / "base.py"  # inlined by every objective, defines none of their entry points
    base.write_text(base.read_text().replace("MAX_SCORE = 20.0", "MAX_SCORE = 30.0"))
    assert kernel_cache.source_stamp(copy) != before


@pytest.mark.parametrize("objective", ["ns", "nce", "infonce", "hs"])
def test_the_kernels_arguments_stay_under_the_size_that_slowed_them(small_corpus, objective):
    """The chunk kernel as training calls it (one worker, so without hs's copies; two, with them) takes at most
    KERNEL_ARGUMENT_WORDS_LIMIT machine words of arguments."""
    for workers in (1, 2):
        w2v_nce.train(small_corpus, dim=8, epochs=1, min_count=5, workers=workers, objective=objective)
    signatures = CHUNK_TRAINERS[objective].signatures
    assert signatures
    for sig in signatures:
        words = len(cpu_target.target_context.get_arg_packer(sig).argument_types)
        assert words <= KERNEL_ARGUMENT_WORDS_LIMIT, (sig, words)
