"""Private Numba kernels. They receive only validated, C-contiguous float arrays."""
