"""The ground floor: errors, random numbers and vector primitives of the kernels, signals, disk and memory
checks, atomic file writes, the progress display and Numba's package-wide cache. It imports nothing else of
w2v_nce."""
