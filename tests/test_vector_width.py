"""On CPUs with AVX-512 the package asks Numba for 256-bit vectors before anything is compiled, and leaves the
setting alone where the user chose it or where Numba compiled code before the import."""
import ast
import os
import subprocess
import sys

from w2v_nce.core.vector_width import PREFER_256_BIT, features_preferring_256_bit

# The child prints what the import left in Numba's setting, what it should be on this host, and the features the
# target machine was made with.
CHILD = r'''
import sys
if sys.argv[1] == "compile-first":
    import numba
    numba.njit(lambda x: x + 1)(1)
import llvmlite.binding as llvm
import w2v_nce
from numba.core import config
from numba.core.registry import cpu_target
from w2v_nce.core.vector_width import features_preferring_256_bit
from w2v_nce.core.vecops import dot
import numpy as np
dot(np.ones(4, np.float32), np.ones(4, np.float32))
print(repr(config.CPU_FEATURES))
print(repr(features_preferring_256_bit(llvm.get_host_cpu_features().flatten())))
print(repr(cpu_target.target_context.codegen().magic_tuple()[2]))
'''


def run_child(mode, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME")}
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True,
                         env={**environ, **env})
    return [ast.literal_eval(line) for line in out.stdout.strip().splitlines()[-3:]]


def test_avx512_features_get_the_256_bit_preference_and_others_are_left_alone():
    assert features_preferring_256_bit("+avx2,+avx512f,+fma") == "+avx2,+avx512f,+fma," + PREFER_256_BIT
    assert features_preferring_256_bit("+avx2,-avx512f,+fma") is None
    assert features_preferring_256_bit("+avx2,+avx512fp16") is None  # only the foundation counts
    assert features_preferring_256_bit("+sse2") is None


def test_the_import_sets_numba_features_before_anything_is_compiled():
    setting, expected, compiled_with = run_child("import-first")
    assert setting == expected  # the host's features with the preference on an AVX-512 host, else untouched
    if expected is not None:
        assert compiled_with == expected  # and the kernels were compiled with them


def test_features_the_user_chose_are_kept():
    setting, _, compiled_with = run_child("import-first", NUMBA_CPU_FEATURES="+sse2,+avx2,+fma")
    assert setting == compiled_with == "+sse2,+avx2,+fma"


def test_code_compiled_before_the_import_keeps_numbas_own_features():
    setting, _, compiled_with = run_child("compile-first")
    assert setting is None
    assert PREFER_256_BIT not in compiled_with
