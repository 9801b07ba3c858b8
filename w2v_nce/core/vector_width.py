"""The vector width Numba compiles for: 256 bits on CPUs with AVX-512.

The kernels spend their time in loops over one row of d floats (d = 100 by default): dot products and
y += a·x. On a CPU with AVX-512 LLVM vectorizes them 512 bits wide unless its model of the CPU prefers 256 (its
models of Intel's AVX-512 CPUs do; its models of AMD's Zen 4 and Zen 5, "znver4" and "znver5", do not). On an AMD
EPYC Zen 4 (lscpu family 25, model 17), d = 100, one worker, the 256-bit loops trained 7–18% faster, every
objective and both architectures, and skip-gram 5–13% faster at d = 128 and 300, where CBOW was unchanged
(docs/performance.md). So the package asks for them, as clang's -mprefer-vector-width=256 does, through the
features Numba hands LLVM (Numba's NUMBA_CPU_FEATURES setting) before anything is compiled in the process.
The setting is the process's, so the caller's own Numba code compiled afterwards gets it too.
"""
import llvmlite.binding as llvm
from numba.core import config
from numba.core.registry import cpu_target

PREFER_256_BIT = "+prefer-256-bit"


def features_preferring_256_bit(host_features):
    """host_features (LLVM's comma-separated "+feature,-feature" list) with 256-bit vectors preferred when the
    list has AVX-512 ("+avx512f"); None when it has not (nothing to change)."""
    if "+avx512f" not in host_features.split(","):
        return None
    return host_features + "," + PREFER_256_BIT


def prefer_256_bit_vectors():
    """Set Numba's CPU features to the host's with 256-bit vectors preferred (features_preferring_256_bit).
    Left as it is when the user chose the CPU or its features (NUMBA_CPU_NAME, NUMBA_CPU_FEATURES), when Numba
    has already made its target machine in this process (code compiled before the package was imported), or
    when the host has no AVX-512. Returns whether the features were set."""
    if config.CPU_NAME is not None or config.CPU_FEATURES is not None:
        return False
    if "_toplevel_target_context" in vars(cpu_target):
        return False
    try:
        features = features_preferring_256_bit(llvm.get_host_cpu_features().flatten())
    except RuntimeError:  # LLVM cannot read this host's features: Numba then compiles for the CPU's name alone
        return False
    if features is None:
        return False
    config.CPU_FEATURES = features
    return True
