"""Scatter-add kernels of the radial and angular features.

Every radial feature of the package is a sum over the frequency plane of a value
per frequency (a log magnitude, a magnitude or a power, computed beforehand with
NumPy's vectorised functions) into bins given by an integer map. The maps are
built once per image shape in ``spectral._radial``; the kernels here only add.

The kernels read values on the half plane of a real FFT, shape
``(M, H, W // 2 + 1)``. Each half-plane position ``(ky, kx)`` stands for itself
and, when ``1 <= kx <= (W - 1) // 2``, for its Hermitian mirror ``(-ky, -kx)`` as
well, which holds the same magnitude. ``idx_a`` is the bin of the position,
``idx_b`` the bin of its mirror; -1 means "not counted". Bins are accumulated in
float64 whatever the input dtype.

Each driver comes twice: a parallel one (threads over the images, each writing
its own output row) for batches, and a serial one for a few images, where waking
the thread pool costs more than it saves.
"""

import numpy as np
from numba import prange

from .._config import kernel, parallel_kernel


@kernel
def _scatter_values(values, idx_a, idx_b, out):
    # values (H, Wr) real; idx_a, idx_b (H, Wr) int; out (n_bins,) float64.
    height, width = values.shape
    for i in range(height):
        for j in range(width):
            v = values[i, j]
            a = idx_a[i, j]
            if a >= 0:
                out[a] += v
            b = idx_b[i, j]
            if b >= 0:
                out[b] += v


@parallel_kernel
def _bin_sums(values, idx_a, idx_b, n_bins):
    # values (M, H, Wr) real -> (M, n_bins) float64 sums; one thread per image row.
    n_planes = values.shape[0]
    out = np.zeros((n_planes, n_bins), dtype=np.float64)
    for m in prange(n_planes):
        _scatter_values(values[m], idx_a, idx_b, out[m])
    return out


@kernel
def _bin_sums_serial(values, idx_a, idx_b, n_bins):
    # Same contract as _bin_sums, on the calling thread.
    n_planes = values.shape[0]
    out = np.zeros((n_planes, n_bins), dtype=np.float64)
    for m in range(n_planes):
        _scatter_values(values[m], idx_a, idx_b, out[m])
    return out
