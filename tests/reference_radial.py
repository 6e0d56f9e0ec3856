"""Slow, literal references of the radial features, written from the papers' code.

Each function follows its definition step by step, with explicit loops where the
published code loops, and with the full (not half-plane) NumPy FFT in float64. The
fast implementations in ``spectral._radial`` are tested against these.
"""

import math

import numpy as np
import scipy.optimize


def durall_profile(image):
    """Durall et al.'s 1-D profile of one grey image, by a loop over pixels."""
    image = np.asarray(image, dtype=np.float64)
    height, width = image.shape
    spectrum = np.fft.fftshift(np.fft.fft2(image))
    spectrum = spectrum + 1e-8
    values = 20 * np.log(np.abs(spectrum))

    centre_x = (width - 1) / 2.0
    centre_y = (height - 1) / 2.0
    sums = {}
    counts = {}
    for y in range(height):
        for x in range(width):
            radius = int(math.hypot(x - centre_x, y - centre_y))
            sums[radius] = sums.get(radius, 0.0) + values[y, x]
            counts[radius] = counts.get(radius, 0) + 1

    radii = sorted(sums)
    profile = [sums[r] / counts[r] for r in radii]
    # Drop radius 0 (the zero frequency) and the last, partial ring.
    return np.array(profile[1:-1])


def corrected_profile(image, *, inscribed=False, bin_width=None):
    """Mean power per annulus in dB, by ``np.bincount`` on the full plane."""
    image = np.asarray(image, dtype=np.float64)
    height, width = image.shape
    power = np.abs(np.fft.fft2(image)) ** 2 / (height * width)
    fy, fx = np.meshgrid(np.fft.fftfreq(height), np.fft.fftfreq(width),
                         indexing="ij")
    radius = np.sqrt(fy**2 + fx**2)
    if bin_width is None:
        bin_width = 1.0 / max(height, width)
    index = np.rint(radius / bin_width).astype(int)
    keep = radius <= 0.5 if inscribed else np.ones(radius.shape, dtype=bool)
    sums = np.bincount(index[keep], weights=power[keep])
    counts = np.bincount(index[keep])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    return 10 * np.log10(np.maximum(mean, 1e-30))


def _corvi_power(image, channel_axis, normalize):
    x = np.asarray(image, dtype=np.float64)
    if channel_axis is None:
        x = x[..., None]
    else:
        x = np.moveaxis(x, channel_axis, -1)
    if normalize:
        x = x - np.mean(x)
        x = x / np.sqrt(np.mean(x**2))
    power = np.abs(np.fft.fft2(x, axes=(0, 1), norm="ortho")) ** 2
    power = np.mean(power, axis=-1)
    return power / power.size


def radial_energy(image, *, channel_axis=None, bin_width=1 / 256, normalize=True):
    """Corvi et al.'s radial energy of one image: sum of power per annulus."""
    power = _corvi_power(image, channel_axis, normalize)
    height, width = power.shape
    fy, fx = np.meshgrid(np.fft.fftfreq(height), np.fft.fftfreq(width),
                         indexing="ij")
    quantised = np.round(np.sqrt(fy**2 + fx**2) / bin_width)
    n_bins = int(quantised.max()) + 1
    return np.array([np.sum(power[quantised == k]) for k in range(n_bins)])


def angular_energy(image, *, channel_axis=None, sectors=16, r_min=0.1,
                   normalize=True):
    """Corvi et al.'s angular energy of one image: sum of power per sector."""
    power = _corvi_power(image, channel_axis, normalize)
    height, width = power.shape
    fy, fx = np.meshgrid(np.fft.fftfreq(height), np.fft.fftfreq(width),
                         indexing="ij")
    radius = np.sqrt(fy**2 + fx**2)
    sector = np.round(sectors * np.arctan2(fy, fx) / np.pi) % sectors
    return np.array(
        [np.sum(power[(sector == s) & (radius > r_min)]) for s in range(sectors)]
    )


def dzanic_features(image):
    """Dzanic et al.'s ``[b, y_i, y_f]`` of one grey image, step by step.

    Follows ``processImage``, ``binSpectrum`` and ``getFitCoeffs`` of their
    ``generatedata.m``, with MATLAB's 1-based indices. Empty and zero bins are
    filled by linear interpolation between the nearest filled bins.
    """
    image = np.asarray(image, dtype=np.float64)
    spectrum = np.fft.fftshift(np.fft.fft2(image))
    n_rows, n_cols = spectrum.shape

    # processImage: centre int32(size / 2), rounding half away from zero.
    nx = math.floor(n_rows / 2 + 0.5)
    ny = math.floor(n_cols / 2 + 0.5)
    corner = math.sqrt(nx**2 + ny**2)
    radii = []
    magnitudes = []
    for i in range(1, n_rows + 1):
        for j in range(1, n_cols + 1):
            r_ij = math.sqrt((i - nx) ** 2 + (j - ny) ** 2)
            if r_ij > 0.5 * corner:
                radii.append(r_ij)
                magnitudes.append(abs(spectrum[i - 1, j - 1]))

    # binSpectrum: 200 bins, first bin whose closed interval holds the radius.
    n_bins = 200
    edges = np.linspace(min(radii), max(radii), n_bins + 1)
    sums = [0.0] * n_bins
    counts = [0] * n_bins
    for radius, magnitude in zip(radii, magnitudes, strict=True):
        for j in range(n_bins):
            if edges[j] <= radius <= edges[j + 1]:
                sums[j] += magnitude
                counts[j] += 1
                break
    means = [s / c if c else float("nan") for s, c in zip(sums, counts, strict=True)]
    centres = [(edges[j] + edges[j + 1]) / 2.0 for j in range(n_bins)]

    # Fill empty (NaN) and zero bins from the nearest filled neighbours.
    valid = [j for j in range(n_bins) if means[j] == means[j] and means[j] != 0]
    filled = list(means)
    for j in range(n_bins):
        if j in valid:
            continue
        left = [k for k in valid if k < j]
        right = [k for k in valid if k > j]
        if not left:
            filled[j] = means[right[0]]
        elif not right:
            filled[j] = means[left[-1]]
        else:
            lo, hi = left[-1], right[0]
            weight = (j - lo) / (hi - lo)
            filled[j] = (1 - weight) * means[lo] + weight * means[hi]

    # MATLAB smooth(y, 5): the window shrinks to 3 and 1 points at the ends.
    smoothed = []
    for j in range(n_bins):
        reach = min(2, j, n_bins - 1 - j)
        window = filled[j - reach:j + reach + 1]
        smoothed.append(sum(window) / len(window))

    # getFitCoeffs with 0.85: region starts at bin int32(200 * 0.35 / 0.5) + 1.
    start = round(n_bins * (0.85 - 0.5) / 0.5)
    x = np.array(centres[start:]) / max(centres)
    y = np.array(smoothed[start:])
    y_i = y[0]
    y_f = y[-1]

    def residual_norm(b):
        return np.linalg.norm(y - y_i * (x / x[0]) ** b)

    # A bounded Brent search, not Nelder-Mead: an independent check of the
    # minimiser the fast code finds.
    fit = scipy.optimize.minimize_scalar(
        residual_norm, bounds=(-30.0, 30.0), method="bounded",
        options={"xatol": 1e-12},
    )
    return np.array([fit.x, y_i, y_f])


def power_law_image(shape, exponent, *, seed):
    """A real image whose DFT magnitude is exactly ``r ** exponent``.

    The phases come from white noise (so the image is real); the magnitude at
    each frequency is replaced by ``r ** exponent``, with ``r`` in cycles per
    pixel; the zero frequency gets magnitude 0.
    """
    rng = np.random.default_rng(seed)
    noise = np.fft.fft2(rng.standard_normal(shape))
    fy, fx = np.meshgrid(np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1]),
                         indexing="ij")
    radius = np.sqrt(fy**2 + fx**2)
    magnitude = np.zeros(shape)
    magnitude[radius > 0] = radius[radius > 0] ** exponent
    return np.fft.ifft2(noise / np.abs(noise) * magnitude).real
