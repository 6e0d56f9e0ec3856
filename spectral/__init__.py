"""Frequency analysis of CNN-generated images.

Arrays in, arrays out: power and DCT spectra, high-pass residuals, azimuthal and
radial features, streaming statistics of spectra, upsampling-peak and JPEG-grid
tests, batch extraction over folders, and plots. ``import spectral`` is light: it
never imports torch, and each submodule (with its Numba kernels) is loaded on the
first use of one of its names.

The first call of a function backed by a Numba kernel compiles it: about 1 to 3
seconds per kernel and dtype on a 2-core machine, paid once per process (worker
processes started by fork inherit the compiled code).

Reading images
    read_image, iter_images, to_gray
Spectra
    power_spectrum, spectrum_frequencies, dct_spectrum, block_dct,
    block_dct_statistics
Residuals
    residual
Radial features
    azimuthal_average, azimuthal_frequencies, radial_energy, angular_energy,
    decay_fit
Statistics
    SpectrumStats
Peaks
    upsampling_peaks, estimate_upsampling_factor, jpeg_grid_score
Batches
    extract_features, mean_spectrum, BatchResult, MeanSpectrumResult
Plots
    spectral.plot (plot_spectrum, plot_mean_spectra, plot_profiles)
Errors
    ImageReadError, ShapeError
"""

import importlib

__version__ = "0.1.0"

# Public name -> private module that defines it. Loading is deferred so that
# ``import spectral`` costs no Numba compilation and no SciPy import.
_LAZY = {
    "read_image": "._io",
    "iter_images": "._io",
    "to_gray": "._color",
    "power_spectrum": "._fourier",
    "spectrum_frequencies": "._fourier",
    "dct_spectrum": "._dct",
    "block_dct_statistics": "._dct",
    "block_dct": "._dct",
    "residual": "._residual",
    "azimuthal_average": "._radial",
    "azimuthal_frequencies": "._radial",
    "radial_energy": "._radial",
    "angular_energy": "._radial",
    "decay_fit": "._radial",
    "SpectrumStats": "._stats",
    "upsampling_peaks": "._peaks",
    "estimate_upsampling_factor": "._peaks",
    "jpeg_grid_score": "._peaks",
    "extract_features": "._batch",
    "mean_spectrum": "._batch",
    "BatchResult": "._batch",
    "MeanSpectrumResult": "._batch",
    "ImageReadError": "._errors",
    "ShapeError": "._errors",
}
_SUBMODULES = {"plot"}

__all__ = sorted([*_LAZY, *_SUBMODULES])


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spectral' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *__all__])
