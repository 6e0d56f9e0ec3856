"""Plain NumPy/SciPy references for the spectra, DCT and residual tests.

Each function follows the textbook or paper definition as directly as possible,
one image at a time, with loops where that is the clearest statement; they are
slow on purpose and never used by the library.
"""

import numpy as np
import scipy.fftpack
import scipy.fft
import scipy.ndimage
from scipy.signal import windows


def window_2d(name, height, width, alpha=0.5):
    """Outer product of two periodic scipy windows."""
    if name == "hann":
        wy, wx = windows.hann(height, sym=False), windows.hann(width, sym=False)
    else:
        wy = windows.tukey(height, alpha, sym=False)
        wx = windows.tukey(width, alpha, sym=False)
    return np.outer(wy, wx)


def power_spectrum(image, *, window=None, alpha=0.5, detrend=False, log=True,
                   shift=True, norm="backward"):
    """|fft2|^2 of one 2-D image with numpy.fft, in float64."""
    x = np.asarray(image, dtype=np.float64)
    if detrend:
        x = x - x.mean()
    if window is not None:
        x = x * window_2d(window, *x.shape, alpha=alpha)
    spectrum = np.fft.fft2(x, norm=norm)
    power = np.abs(spectrum) ** 2
    if shift:
        power = np.fft.fftshift(power)
    if log:
        power = 10 * np.log10(power + 1e-12)
    return power


def frank_dct(image, *, log=True):
    """Frank et al.'s code path: fftpack DCT-II ortho along axis 0 then axis 1."""
    x = np.asarray(image, dtype=np.float64)
    coeffs = scipy.fftpack.dct(x, type=2, norm="ortho", axis=0)
    coeffs = scipy.fftpack.dct(coeffs, type=2, norm="ortho", axis=1)
    if log:
        coeffs = np.log(np.abs(coeffs) + 1e-12)
    return coeffs


def block_dct(image, *, block=8, offset=(0, 0), scale=255.0):
    """2-D DCT of each aligned block, one block at a time."""
    x = np.asarray(image, dtype=np.float64) * scale - 128.0
    oy, ox = offset
    n_by = (x.shape[0] - oy) // block
    n_bx = (x.shape[1] - ox) // block
    out = np.zeros((n_by, n_bx, block, block))
    for by in range(n_by):
        for bx in range(n_bx):
            y0, x0 = oy + by * block, ox + bx * block
            tile = x[y0:y0 + block, x0:x0 + block]
            out[by, bx] = scipy.fft.dctn(tile, type=2, norm="ortho")
    return out


def median_residual(image, size):
    """Image minus its size x size median, borders by symmetric padding."""
    x = np.asarray(image, dtype=np.float64)
    radius = size // 2
    padded = np.pad(x, radius, mode="symmetric")
    out = np.empty_like(x)
    for y in range(x.shape[0]):
        for col in range(x.shape[1]):
            out[y, col] = x[y, col] - np.median(padded[y:y + size, col:col + size])
    return out


def laplacian(image):
    """4-neighbour Laplacian with scipy.ndimage.convolve, mode 'reflect'."""
    kernel = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64)
    return scipy.ndimage.convolve(
        np.asarray(image, dtype=np.float64), kernel, mode="reflect"
    )


def npr(image, factor):
    """Each pixel minus the top-left pixel of its factor x factor cell."""
    x = np.asarray(image, dtype=np.float64)
    out = np.empty_like(x)
    for y in range(x.shape[0]):
        for col in range(x.shape[1]):
            anchor = x[(y // factor) * factor, (col // factor) * factor]
            out[y, col] = x[y, col] - anchor
    return out
