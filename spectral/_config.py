"""Numba compilation settings shared by every kernel of the package.

Kernels never hard-code ``fastmath`` or ``parallel``: they take them from here, so
that one place decides the numerical contract. ``FASTMATH`` leaves out ``nnan``
and ``ninf`` on purpose: masked spectra carry NaN and the kernels must keep it.
"""

import os

import numba

#: LLVM fast-math flags. Reassociation and contraction speed up reductions;
#: NaN and infinity keep their IEEE meaning.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: Whether the outer drivers run their loop with ``prange`` over threads.
#: ``SPECTRAL_FORENSICS_PARALLEL=0`` turns it off (useful inside worker processes
#: that already use every core).
PARALLEL = os.environ.get("SPECTRAL_FORENSICS_PARALLEL", "1") != "0"


def kernel(func):
    """Compile a serial kernel with the package's flags."""
    return numba.njit(fastmath=set(FASTMATH), nogil=True)(func)


def parallel_kernel(func):
    """Compile an outer driver whose ``prange`` loops run on several threads."""
    options = {"fastmath": set(FASTMATH), "parallel": PARALLEL, "nogil": True}
    return numba.njit(**options)(func)
