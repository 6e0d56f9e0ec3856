"""Kernels of the streaming mean spectrum and of the 16-bit PNG reader.

The mean-spectrum kernels work on one image at a time inside a worker process,
writing into buffers the worker reuses: grey conversion straight into the FFT's
input, the power of a half-plane real FFT, and Welford's running update of the
mean and the sum of squared deviations in float64.
"""

import numpy as np

from .._config import kernel

# ITU-R BT.601 luma weights (the ones of spectral._color.to_gray).
_W_R = np.float32(0.299)
_W_G = np.float32(0.587)
_W_B = np.float32(0.114)


@kernel
def gray_from_rgb_u8(rgb, out):
    # rgb: (H, W, C >= 3) uint8; out: (H, W) float32. Each channel is scaled to
    # [0, 1] first, as read_image does before to_gray.
    height, width = out.shape
    scale = np.float32(255.0)
    for i in range(height):
        for j in range(width):
            r = np.float32(rgb[i, j, 0]) / scale
            g = np.float32(rgb[i, j, 1]) / scale
            b = np.float32(rgb[i, j, 2]) / scale
            out[i, j] = _W_R * r + _W_G * g + _W_B * b


@kernel
def power_half(spectrum, out, floor):
    # spectrum: (H, Wh) complex64 half plane; out: (H, Wh) float32 |F|^2 + floor.
    height, width = out.shape
    for i in range(height):
        for j in range(width):
            value = spectrum[i, j]
            out[i, j] = value.real * value.real + value.imag * value.imag + floor


@kernel
def welford_real(mean, m2, values, count, scale):
    # Add the image ``scale * values`` as the ``count``-th sample (count >= 1).
    height, width = values.shape
    inv = 1.0 / count
    for i in range(height):
        for j in range(width):
            x = scale * np.float64(values[i, j])
            delta = x - mean[i, j]
            mean[i, j] += delta * inv
            m2[i, j] += delta * (x - mean[i, j])


@kernel
def welford_complex(mean, m2, values, count):
    # Complex Welford: m2 accumulates |x - mean|^2, a real number.
    height, width = values.shape
    inv = 1.0 / count
    for i in range(height):
        for j in range(width):
            x = np.complex128(values[i, j])
            delta = x - mean[i, j]
            mean[i, j] += delta * inv
            after = x - mean[i, j]
            m2[i, j] += delta.real * after.real + delta.imag * after.imag


@kernel
def png_unfilter(raw, height, stride, bpp, out):
    # Undo the PNG row filters (None, Sub, Up, Average, Paeth) of one
    # non-interlaced pass. raw holds ``height`` rows of 1 filter byte followed by
    # ``stride`` bytes; out is (height, stride) uint8. Returns False on an
    # unknown filter type.
    pos = 0
    for i in range(height):
        kind = raw[pos]
        pos += 1
        for j in range(stride):
            x = np.int32(raw[pos + j])
            a = np.int32(out[i, j - bpp]) if j >= bpp else np.int32(0)
            b = np.int32(out[i - 1, j]) if i > 0 else np.int32(0)
            if kind == 0:
                value = x
            elif kind == 1:
                value = x + a
            elif kind == 2:
                value = x + b
            elif kind == 3:
                value = x + (a + b) // 2
            elif kind == 4:
                c = np.int32(out[i - 1, j - bpp]) if (i > 0 and j >= bpp) else 0
                p = a + b - c
                pa = abs(p - a)
                pb = abs(p - b)
                pc = abs(p - c)
                if pa <= pb and pa <= pc:
                    pred = a
                elif pb <= pc:
                    pred = b
                else:
                    pred = c
                value = x + pred
            else:
                return False
            out[i, j] = np.uint8(value & 255)
        pos += stride
    return True
