"""Tolerances by working dtype: the one table the kernel tests compare with.

float32 kernels accumulate in float32 (FFT round-off grows like log N), so they
are held to about 1e-5 relative; float64 kernels to about 1e-10.
"""

import numpy as np

_TABLE = {
    np.dtype(np.float32): {"rtol": 2e-5, "atol": 1e-5},
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-10},
}


def tol(dtype):
    """Return ``dict(rtol=..., atol=...)`` for comparisons in ``dtype``."""
    return dict(_TABLE[np.dtype(dtype)])
