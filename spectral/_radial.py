"""Radial and angular features of the Fourier spectrum.

Azimuthal averages (Durall et al.'s profile and a corrected one), radial and
angular energy (Corvi et al.) and the high-frequency decay fit (Dzanic et al.).
Each feature is a sum of per-frequency values into bins given by an integer map
that depends only on the image shape; the maps are built once per shape and
cached, and the sums run in the Numba kernels of ``spectral._kernels.radial`` on
the half plane of a real FFT.
"""

import functools
import numbers

import numpy as np
import scipy.fft
import scipy.optimize

from ._color import to_gray
from ._errors import ShapeError
from ._kernels.radial import _bin_sums, _bin_sums_serial
from ._validate import as_image_stack, check_choice, check_positive_int

__all__ = [
    "angular_energy",
    "azimuthal_average",
    "azimuthal_frequencies",
    "decay_fit",
    "radial_energy",
]

_AZIMUTHAL_MODES = ("corrected", "durall")
_DECAY_MODES = ("dzanic", "corrected")
_UNITS = ("cycles", "pixels")

#: Durall et al. add this to the complex spectrum before the logarithm.
DURALL_EPS = 1e-8

#: Mean powers are floored here before decibels (-300 dB), so an exactly zero
#: annulus stays finite.
POWER_FLOOR = 1e-30

#: Dzanic et al.'s settings: radius threshold, number of bins, smoothing span,
#: start of the fit region as a fraction of the largest bin centre, and the
#: exponent the search starts from.
DZANIC_RTHRESH = 0.5
DZANIC_BINS = 200
DZANIC_SPAN = 5
DZANIC_FIT_START = 0.85
DZANIC_B0 = -2.0

#: Band of the corrected decay fit, cycles per pixel (inside the inscribed circle).
DECAY_BAND = (0.25, 0.5)

#: Half-plane values per FFT chunk: 256 Ki complex values (2 MiB in single
#: precision, 8 planes of 256x256) stay in a core's cache between the FFT and
#: the logarithm.
_CHUNK_ELEMENTS = 1 << 18

#: Half-plane values per kernel call: 2 Mi (8 MiB in single precision, 64 planes
#: of 256x256) stay in the shared cache until the kernel reads them, and bound
#: the memory of a large batch.
_BLOCK_ELEMENTS = 1 << 21

#: Below this many planes the kernel runs serially.
_PARALLEL_MIN_PLANES = 8


def azimuthal_average(image, *, mode="corrected", channel_axis=None,
                      inscribed=False, bin_width=None, workers=None):
    r"""Average the Fourier spectrum of an image over rings of equal radius.

    Parameters
    ----------
    image : array_like
        One grey image ``(H, W)``, a batch ``(N, H, W)``, or, with
        ``channel_axis``, colour images ``(H, W, C)`` / ``(N, H, W, C)``.
    mode : {'corrected', 'durall'}, optional
        'corrected' (default): mean power per annulus around the zero frequency,
        in decibels, on a frequency axis in cycles per pixel. 'durall': Durall et
        al.'s profile, reproduced exactly (see Notes).
    channel_axis : int, optional
        Axis of the colour channels; None (default) for grey input. Colour is
        converted to grey (BT.601 luma, :func:`spectral.to_gray`) first, since
        the published profiles work on luminance.
    inscribed : bool, optional
        'corrected' only: keep frequencies with ``r <= 0.5`` cycles/px, inside
        the circle inscribed in the frequency square, dropping the corner bins
        that hold only diagonal frequencies. Default False.
    bin_width : float, optional
        'corrected' only: width of the annuli in cycles/px. Default
        ``1 / max(H, W)``, the finest spacing that leaves no annulus empty up to
        ``r = 0.5``.
    workers : int, optional
        Threads of the FFT, as in :mod:`scipy.fft`.

    Returns
    -------
    profile : ndarray, shape (n_bins,) or (N, n_bins)
        One profile per image, in the working float type (float32 for float16 and
        float32 input, float64 otherwise). :func:`azimuthal_frequencies` gives the
        frequency of each bin.

    Raises
    ------
    ShapeError
        For an input of the wrong rank, or an image too small to give a Durall
        profile (its largest truncated radius must be at least 2 pixels).
    TypeError
        For complex or non-numeric input, or a non-numeric ``bin_width``.
    ValueError
        For NaN or infinite values, an unknown ``mode``, ``inscribed`` or
        ``bin_width`` given in 'durall' mode, or a ``bin_width`` that is not
        positive.

    See Also
    --------
    azimuthal_frequencies : frequency of each bin.
    radial_energy : summed (not averaged) power per annulus, Corvi et al.

    Notes
    -----
    **'durall'.** Grey image :math:`x`, :math:`F` = the unnormalised DFT
    (``numpy.fft.fft2``), shifted so the zero frequency sits at
    ``(H // 2, W // 2)``; value :math:`v = 20 \ln|F + 10^{-8}|` (natural
    logarithm; the constant is added to the complex value, as in their code);
    centre ``((W - 1) / 2, (H - 1) / 2)`` in (x, y), half a pixel off the zero
    frequency for even sizes; radius = Euclidean distance to that centre
    truncated to an integer; bin value = plain mean of :math:`v` over every
    position of the whole array with that radius (corners included). Radius 0
    and the largest (partial) radius :math:`R` are dropped: radii
    :math:`1 \dots R - 1` are returned, ``R - 1`` values (64x64 -> 43,
    128x128 -> 88, 256x256 -> 179, 218x178 -> 139). The values shift with the
    input scale: pass 0..255 images to match their numbers. Non-square images
    mix frequencies of the two axes in one bin, as theirs do.

    **'corrected'.** Power :math:`P = |F|^2 / (H W)` (``norm='ortho'``, so white
    noise of variance :math:`\sigma^2` gives :math:`P = \sigma^2`); radius
    :math:`r = \sqrt{f_y^2 + f_x^2}` in cycles/px from ``numpy.fft.fftfreq``
    (centred on the zero frequency, correct for non-square images); annulus
    :math:`k = \mathrm{rint}(r / w)`, whose centre is :math:`k w`; bin 0 holds
    only the zero frequency. Value :math:`10 \log_{10}` of the *mean power* of
    the annulus (the logarithm of the mean, not the mean of logarithms, which is
    biased by about -2.5 dB for noise-like spectra and undefined at zeros).
    Mean powers are floored at 1e-30 (-300 dB); an empty annulus (possible only
    with ``bin_width < 1 / max(H, W)``) is NaN. With ``inscribed=True`` the last
    bin, centred on 0.5, holds the inner half of its annulus only.

    Both modes run the FFT with :func:`scipy.fft.rfft2` and add the half plane
    with Hermitian weights in a Numba kernel, with a bin map cached per image
    shape; sums are float64. Batches of 8 images or more use a parallel driver
    (threads over the images). First-call JIT compile, measured on the 2-vCPU
    reference machine (busy): about 2 s for the first call (Numba start-up and
    the serial kernel), 0.8 s for a second input dtype, 3 s for the parallel
    driver on the first batch. The kernels are shared by every function of
    this module and compiled once per dtype (float32, float64) per process.

    References
    ----------
    .. [1] R. Durall, M. Keuper, F.-J. Pfreundt, J. Keuper, "Unmasking DeepFakes
       with simple Features", arXiv:1911.00686, 2019.
       :doi:`10.48550/arXiv.1911.00686`

    Examples
    --------
    >>> import numpy as np
    >>> import spectral
    >>> rng = np.random.default_rng(0)
    >>> image = rng.random((64, 64))
    >>> spectral.azimuthal_average(image, mode="durall").shape
    (43,)
    >>> profile = spectral.azimuthal_average(image, inscribed=True)
    >>> profile.shape == spectral.azimuthal_frequencies((64, 64), inscribed=True).shape
    True
    >>> batch = spectral.azimuthal_average(np.stack([image, image]))
    >>> batch.shape
    (2, 46)
    """
    check_choice(mode, _AZIMUTHAL_MODES, name="mode")
    if mode == "durall" and (inscribed or bin_width is not None):
        raise ValueError(
            "inscribed and bin_width apply to mode='corrected' only; mode='durall' "
            f"uses 1-pixel rings over the whole array (got inscribed={inscribed!r}, "
            f"bin_width={bin_width!r})"
        )
    stack, layout = _gray_stack(image, channel_axis)
    shape = stack.shape[1:]

    if mode == "durall":
        bins = _durall_bins(shape)
        sums = _binned(stack, bins, _log_magnitude, workers=workers)
        profile = 20.0 * sums / bins.counts
    else:
        width = _bin_width(bin_width, shape)
        bins = _corrected_bins(shape, bool(inscribed), width)
        sums = _binned(stack, bins, _power, workers=workers)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_power = sums / (bins.counts * float(shape[0] * shape[1]))
        profile = 10.0 * np.log10(np.maximum(mean_power, POWER_FLOOR))
        profile[:, bins.counts == 0] = np.nan

    return layout.restore(profile.astype(stack.dtype, copy=False))


def azimuthal_frequencies(shape, *, mode="corrected", inscribed=False,
                          bin_width=None, units="cycles"):
    """Return the frequency of each bin of :func:`azimuthal_average`.

    Parameters
    ----------
    shape : tuple of 2 ints
        Image size ``(H, W)``.
    mode, inscribed, bin_width
        As in :func:`azimuthal_average`.
    units : {'cycles', 'pixels'}, optional
        'cycles' (default): cycles per pixel. 'pixels': radius in DFT bins of
        the longer axis, i.e. the cycles/px value times ``max(H, W)``; in
        'durall' mode these are their integer pixel radii ``1 .. R - 1``.

    Returns
    -------
    freqs : ndarray of float64, shape (n_bins,)
        'corrected': bin centres :math:`k w` (``k = 0, 1, ...``). 'durall':
        radius :math:`r` pixels maps to ``r / max(H, W)`` cycles/px, exact on
        the axes of a square image; bin ``r`` holds distances in ``[r, r + 1)``
        from a centre half a pixel off the zero frequency, so its frequencies
        spread around ``(r + 0.5) / max(H, W)``.

    Raises
    ------
    ShapeError
        For a shape that is not two positive integers, or too small for a
        Durall profile.
    ValueError
        For an unknown mode or unit, or options of the wrong mode (as in
        :func:`azimuthal_average`).

    Examples
    --------
    >>> import spectral
    >>> f = spectral.azimuthal_frequencies((64, 64), inscribed=True)
    >>> float(f[0]), float(f[-1]), len(f)
    (0.0, 0.5, 33)
    >>> spectral.azimuthal_frequencies((64, 64), mode="durall", units="pixels")[:3]
    array([1., 2., 3.])
    """
    check_choice(mode, _AZIMUTHAL_MODES, name="mode")
    check_choice(units, _UNITS, name="units")
    shape = _check_shape(shape)
    longest = float(max(shape))
    if mode == "durall":
        if inscribed or bin_width is not None:
            raise ValueError(
                "inscribed and bin_width apply to mode='corrected' only; got "
                f"inscribed={inscribed!r}, bin_width={bin_width!r}"
            )
        pixels = np.arange(1, _durall_bins(shape).n_bins + 1, dtype=np.float64)
        return pixels if units == "pixels" else pixels / longest
    width = _bin_width(bin_width, shape)
    cycles = np.arange(_corrected_bins(shape, bool(inscribed), width).n_bins) * width
    return cycles * longest if units == "pixels" else cycles


def radial_energy(image, *, channel_axis=None, bin_width=1 / 256, normalize=True,
                  workers=None):
    r"""Sum the power spectrum over annuli of equal frequency (Corvi et al.).

    Parameters
    ----------
    image : array_like
        One image ``(H, W)``, a batch ``(N, H, W)``, or, with ``channel_axis``,
        ``(H, W, C)`` / ``(N, H, W, C)``.
    channel_axis : int, optional
        Axis of the colour channels; None (default) for grey input. The power is
        averaged over channels.
    bin_width : float, optional
        Width of the annuli in cycles/px, default 1/256 (theirs, for 256x256
        crops).
    normalize : bool, optional
        Subtract each image's mean and divide by its RMS, both over all pixels
        and channels, before the transform (default True, as they do).
    workers : int, optional
        Threads of the FFT, as in :mod:`scipy.fft`.

    Returns
    -------
    energy : ndarray, shape (n_bins,) or (N, n_bins)
        Bin ``k`` is centred on frequency ``k * bin_width`` cycles/px and spans
        ``[(k - 1/2) w, (k + 1/2) w)``; ``n_bins - 1`` is the rounded corner
        radius (256x256, ``w = 1/256``: 182 bins up to 0.707). Empty annuli hold
        0. Working float type.

    Raises
    ------
    ShapeError
        For an input of the wrong rank.
    TypeError
        For complex or non-numeric input, or a non-numeric ``bin_width``.
    ValueError
        For NaN or infinite values or a ``bin_width`` that is not positive.

    See Also
    --------
    angular_energy : the same power summed over angular sectors.
    azimuthal_average : mean (not summed) power per annulus, in decibels.

    Notes
    -----
    With :math:`x` normalised (or not), per channel
    :math:`P_c = |\mathrm{DFT}_{ortho}(x_c)|^2`, then
    :math:`P = \mathrm{mean}_c P_c / (H W)`; radius
    :math:`r = \sqrt{f_y^2 + f_x^2}` cycles/px (``numpy.fft.fftfreq``); bin
    :math:`\mathrm{rint}(r / w)`; value = sum of :math:`P` over the bin. By
    Parseval the bins add up to the mean square of :math:`x` over pixels and
    channels: 1 when normalised, unless the image is constant (zero RMS), whose
    energy is all zero. The first call compiles the Numba kernel (JIT costs as
    in :func:`azimuthal_average`, whose kernel this shares).

    References
    ----------
    .. [1] R. Corvi, D. Cozzolino, G. Poggi, K. Nagano, L. Verdoliva, "Intriguing
       properties of synthetic images: from generative adversarial networks to
       diffusion models", CVPR Workshops, 2023.
       :doi:`10.1109/CVPRW59228.2023.00104`

    Examples
    --------
    >>> import numpy as np
    >>> import spectral
    >>> image = np.random.default_rng(0).random((32, 32, 3))
    >>> energy = spectral.radial_energy(image, channel_axis=-1, bin_width=1 / 32)
    >>> energy.shape
    (24,)
    >>> bool(np.isclose(energy.sum(), 1.0))
    True
    """
    width = _positive_float(bin_width, name="bin_width")
    planes, lead, n_channels = _energy_planes(image, channel_axis, normalize)
    bins = _corvi_radial_bins(planes.shape[2:], width)
    return _energy(planes, bins, lead, n_channels, workers)


def angular_energy(image, *, channel_axis=None, sectors=16, r_min=0.1,
                   normalize=True, workers=None):
    r"""Sum the power spectrum over angular sectors (Corvi et al.).

    Parameters
    ----------
    image : array_like
        One image ``(H, W)``, a batch ``(N, H, W)``, or, with ``channel_axis``,
        ``(H, W, C)`` / ``(N, H, W, C)``.
    channel_axis : int, optional
        Axis of the colour channels; None (default) for grey input. The power is
        averaged over channels.
    sectors : int, optional
        Number of sectors over a half turn, default 16 (theirs).
    r_min : float, optional
        Only frequencies with ``r > r_min`` cycles/px count (default 0.1), which
        keeps the strong low frequencies out.
    normalize : bool, optional
        Subtract the mean and divide by the RMS over all pixels and channels
        first (default True).
    workers : int, optional
        Threads of the FFT, as in :mod:`scipy.fft`.

    Returns
    -------
    energy : ndarray, shape (sectors,) or (N, sectors)
        Sector ``s`` is centred on the angle ``pi * s / sectors`` (radians,
        ``atan2(f_y, f_x)``) and, since a real image's spectrum is symmetric,
        also covers the opposite direction. Working float type.

    Raises
    ------
    ShapeError
        For an input of the wrong rank.
    TypeError
        For complex or non-numeric input or a non-integer ``sectors``.
    ValueError
        For NaN or infinite values, ``sectors < 1`` or a negative ``r_min``.

    See Also
    --------
    radial_energy : the same power summed over annuli.

    Notes
    -----
    Power :math:`P` as in :func:`radial_energy`; sector
    :math:`\mathrm{rint}(S \, \mathrm{atan2}(f_y, f_x) / \pi) \bmod S`; value =
    sum of :math:`P` over the sector for :math:`r > r_{min}`. The first call
    compiles the Numba kernel (JIT costs as in :func:`azimuthal_average`).

    References
    ----------
    .. [1] R. Corvi, D. Cozzolino, G. Poggi, K. Nagano, L. Verdoliva, "Intriguing
       properties of synthetic images: from generative adversarial networks to
       diffusion models", CVPR Workshops, 2023.
       :doi:`10.1109/CVPRW59228.2023.00104`

    Examples
    --------
    >>> import numpy as np
    >>> import spectral
    >>> stripes = np.tile([0.0, 1.0], (16, 8))  # vertical stripes: energy at fx
    >>> energy = spectral.angular_energy(stripes, sectors=4)
    >>> energy.shape, int(np.argmax(energy))
    ((4,), 0)
    """
    n_sectors = check_positive_int(sectors, name="sectors")
    r_min = _positive_float(r_min, name="r_min", allow_zero=True)
    planes, lead, n_channels = _energy_planes(image, channel_axis, normalize)
    bins = _corvi_angular_bins(planes.shape[2:], n_sectors, r_min)
    return _energy(planes, bins, lead, n_channels, workers)


def decay_fit(image, *, mode="dzanic", channel_axis=None, workers=None):
    r"""Fit a power law to the high-frequency decay of the spectrum (Dzanic et al.).

    Parameters
    ----------
    image : array_like
        One grey image ``(H, W)``, a batch ``(N, H, W)``, or, with
        ``channel_axis``, colour images (converted to grey, BT.601). At least
        8x8 pixels.
    mode : {'dzanic', 'corrected'}, optional
        'dzanic' (default) reproduces their MATLAB pipeline; 'corrected' fits
        inside the inscribed circle on a log-log scale (see Notes).
    channel_axis : int, optional
        Axis of the colour channels; None (default) for grey input.
    workers : int, optional
        Threads of the FFT, as in :mod:`scipy.fft`.

    Returns
    -------
    features : ndarray, shape (3,) or (N, 3)
        ``[b, y_i, y_f]``: the decay exponent and the magnitudes at the start
        and the end of the fit region. float64.

    Raises
    ------
    ShapeError
        For an input of the wrong rank or smaller than 8x8.
    TypeError
        For complex or non-numeric input.
    ValueError
        For NaN or infinite values or an unknown mode.

    See Also
    --------
    azimuthal_average : the whole radial profile.

    Notes
    -----
    **'dzanic'**, step by step as their ``generatedata.m``: magnitude
    :math:`|F|` of the unnormalised DFT, shifted (no logarithm, window or
    normalisation). Their centre is ``(round(H/2), round(W/2))`` in MATLAB's
    1-based indices; we keep it, so in 0-based indices it is
    ``(round(H/2) - 1, round(W/2) - 1)``: one pixel above and left of the zero
    frequency for even sizes, on it for odd sizes. :math:`R` = distance of that
    centre to the origin of the index grid (the corner radius); keep
    :math:`r > R / 2`; 200 equal-width bins between the smallest and largest
    kept radius (a radius on an inner edge goes to the lower bin); mean
    :math:`|F|` per bin. Their code replaces a zero bin by the mean of its
    neighbours but leaves an empty bin at NaN (0/0, common below 64x64); here
    empty and zero bins are both filled by linear interpolation between the
    nearest filled bins (the same value for an isolated bin). Smoothing: centred
    moving average of span 5 with MATLAB ``smooth``'s shrinking window at the
    ends (1, 3, 5, ..., 5, 3, 1 points). Fit region: bins 141..200 (their
    ``int32(200 * (0.85 - 0.5) / 0.5) + 1``), :math:`x` = bin centre / largest
    bin centre; model :math:`y = y_i (x / x_1)^b` with :math:`y_i` the first
    smoothed value of the region; :math:`b` minimises the L2 norm of the
    residual by Nelder-Mead from :math:`b = -2` (their ``fminsearch``, run here
    to ``xatol=1e-10``, where MATLAB's default stops within 1e-4);
    :math:`y_f` is the last smoothed value. The region lies beyond
    :math:`0.6 N`: it sees only the four corners of the spectrum. Magnitudes
    scale with the input: pass 0..255 values to match their amplitudes (they
    also round the grey image to uint8, which we do not).

    **'corrected'**: power :math:`P = |F|^2 / (H W)` (``norm='ortho'``), mean
    power per annulus of width ``1 / max(H, W)`` around the zero frequency,
    amplitude :math:`a = \sqrt{\bar P}` (size-invariant: a stationary texture
    gives the same levels at any size); least-squares line
    :math:`\ln a = c + b \ln f` over the annuli centred in [0.25, 0.5]
    cycles/px, inside the inscribed circle; ``y_i``, ``y_f`` = the fitted
    amplitudes :math:`e^{c} f^{b}` at 0.25 and 0.5. Amplitudes are floored at
    the smallest normal float64, so a constant image gives finite but
    meaningless features.

    Both modes give the exponent of the *magnitude*: an image with
    :math:`|F| \propto r^{b}` gives :math:`b`. Measured on such exact power laws
    (:math:`b` from -3 to -0.5): 'corrected' is within 0.1 % at 256x256 and 0.6 %
    at 64x64; 'dzanic' is biased toward 0 by their off-centre radius, 0.7 % at
    256x256, 2.4 % at 128x128, 7 % at 64x64, exact for odd sizes, and by 13 % on
    a 256x200 image, whose pixel radii mix the two axes. The FFT and the binning
    run as in :func:`azimuthal_average` (the first call compiles the kernel);
    the 'dzanic' fit costs about 2 ms per image.

    References
    ----------
    .. [1] T. Dzanic, K. Shah, F. Witherden, "Fourier spectrum discrepancies in
       deep network generated images", NeurIPS 2020.
       :doi:`10.48550/arXiv.1911.06465`

    Examples
    --------
    >>> import numpy as np
    >>> import spectral
    >>> image = np.random.default_rng(0).random((64, 64))
    >>> features = spectral.decay_fit(image)
    >>> features.shape
    (3,)
    >>> b = spectral.decay_fit(image, mode="corrected")[0]
    >>> bool(abs(b) < 0.2)  # white noise: flat spectrum
    True
    """
    check_choice(mode, _DECAY_MODES, name="mode")
    stack, layout = _gray_stack(image, channel_axis, min_shape=(8, 8))
    shape = stack.shape[1:]

    if mode == "dzanic":
        bins, centres = _dzanic_bins(shape)
        sums = _binned(stack, bins, _magnitude, workers=workers)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / bins.counts
        features = _dzanic_features(means, centres)
    else:
        width = 1.0 / max(shape)
        bins = _corrected_bins(shape, True, width)
        sums = _binned(stack, bins, _power, workers=workers)
        amplitude = np.sqrt(sums / (bins.counts * float(shape[0] * shape[1])))
        freqs = np.arange(bins.n_bins) * width
        features = _loglog_features(amplitude, freqs)

    return layout.restore(features)


# -- input handling ---------------------------------------------------------


def _gray_stack(image, channel_axis, min_shape=(1, 1)):
    """Validate ``image`` and return grey planes ``(M, H, W)`` and the layout."""
    if channel_axis is not None:
        arr = np.asarray(image)
        if isinstance(channel_axis, bool) or not isinstance(
            channel_axis, numbers.Integral
        ):
            raise TypeError(f"channel_axis must be an integer, got {channel_axis!r}")
        if arr.ndim not in (3, 4):
            raise ShapeError(
                "image must have shape (H, W, C) or (N, H, W, C) when channel_axis "
                f"is given; got shape {arr.shape}"
            )
        if not -arr.ndim <= channel_axis < arr.ndim:
            raise ValueError(
                f"channel_axis={channel_axis!r} is out of range for image with "
                f"shape {arr.shape}"
            )
        image = to_gray(arr, channel_axis=int(channel_axis))
    return as_image_stack(image, name="image", min_shape=min_shape)


def _energy_planes(image, channel_axis, normalize):
    """Planes ``(N, C, H, W)`` for the energies, normalised per image if asked."""
    stack, layout = as_image_stack(image, name="image", channel_axis=channel_axis)
    n_channels = layout.n_channels or 1
    planes = stack.reshape(-1, n_channels, *stack.shape[1:])
    if normalize:
        planes = planes - planes.mean(axis=(1, 2, 3), keepdims=True)
        rms = np.sqrt(np.mean(planes * planes, axis=(1, 2, 3), keepdims=True))
        # A constant image has no fluctuation to scale: leave its zeros alone.
        planes /= np.where(rms > 0, rms, 1).astype(planes.dtype)
    return planes, layout.lead_shape, n_channels


def _energy(planes, bins, lead, n_channels, workers):
    """Sum the per-channel power into ``bins``, average channels, restore shape."""
    n_images = planes.shape[0]
    height, width = planes.shape[2:]
    flat = planes.reshape(-1, height, width)
    sums = _binned(flat, bins, _power, workers=workers, norm="ortho")
    energy = sums.reshape(n_images, n_channels, -1).mean(axis=1) / (height * width)
    return energy.reshape(*lead, -1).astype(planes.dtype, copy=False)


def _check_shape(shape):
    try:
        dims = tuple(int(s) for s in shape)
        valid = len(dims) == 2 and all(
            float(d) == float(s) and d >= 1 for d, s in zip(dims, shape, strict=True)
        )
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ShapeError(f"shape must be two positive integers (H, W); got {shape!r}")
    return dims


def _positive_float(value, *, name, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {rule}; got {value!r}")
    return value


def _bin_width(bin_width, shape):
    if bin_width is None:
        return 1.0 / max(shape)
    return _positive_float(bin_width, name="bin_width")


# -- bin maps ---------------------------------------------------------------


class _Bins:
    """Half-plane bin maps of one image shape (see ``spectral._kernels.radial``)."""

    def __init__(self, full, n_bins=None):
        height, width = full.shape
        self.n_bins = int(full.max()) + 1 if n_bins is None else n_bins
        half = width // 2 + 1
        self.idx_a = np.ascontiguousarray(full[:, :half], dtype=np.int32)
        idx_b = np.full((height, half), -1, dtype=np.int32)
        # Columns 1 .. (W - 1) // 2 have their Hermitian mirror outside the
        # half plane; columns 0 and W / 2 are their own mirror column.
        cols = np.arange(1, (width - 1) // 2 + 1)
        rows = (-np.arange(height)) % height
        idx_b[:, cols] = full[rows[:, None], (width - cols)[None, :]]
        self.idx_b = idx_b
        kept = full[full >= 0]
        self.counts = np.bincount(kept, minlength=self.n_bins).astype(np.float64)
        for arr in (self.idx_a, self.idx_b, self.counts):
            arr.setflags(write=False)


@functools.lru_cache(maxsize=32)
def _durall_bins(shape):
    height, width = shape
    y, x = np.indices(shape)
    radius = np.hypot(x - (width - 1) / 2.0, y - (height - 1) / 2.0).astype(np.int64)
    r_max = int(radius.max())
    if r_max < 2:
        raise ShapeError(
            f"image of shape {shape} is too small for a Durall profile: its largest "
            f"truncated radius is {r_max} pixel(s), at least 2 are needed"
        )
    index = np.where((radius >= 1) & (radius < r_max), radius - 1, -1)
    # The map was built on the shifted plane; the kernels read the unshifted FFT.
    return _Bins(np.fft.ifftshift(index))


def _radius_cycles(shape):
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    return fy, fx, np.sqrt(fy**2 + fx**2)


@functools.lru_cache(maxsize=32)
def _corrected_bins(shape, inscribed, width):
    radius = _radius_cycles(shape)[2]
    index = np.rint(radius / width).astype(np.int64)
    if inscribed:
        index[radius > 0.5] = -1
    return _Bins(index)


@functools.lru_cache(maxsize=32)
def _corvi_radial_bins(shape, width):
    radius = _radius_cycles(shape)[2]
    return _Bins(np.rint(radius / width).astype(np.int64))


@functools.lru_cache(maxsize=32)
def _corvi_angular_bins(shape, sectors, r_min):
    fy, fx, radius = _radius_cycles(shape)
    sector = np.rint(sectors * np.arctan2(fy, fx) / np.pi).astype(np.int64) % sectors
    return _Bins(np.where(radius > r_min, sector, -1), n_bins=sectors)


@functools.lru_cache(maxsize=32)
def _dzanic_bins(shape):
    height, width = shape
    # MATLAB's int32() rounds half away from zero.
    nx = np.floor(height / 2 + 0.5)
    ny = np.floor(width / 2 + 0.5)
    rows = np.arange(1, height + 1, dtype=np.float64)[:, None]
    cols = np.arange(1, width + 1, dtype=np.float64)[None, :]
    radius = np.sqrt((rows - nx) ** 2 + (cols - ny) ** 2)
    keep = radius > DZANIC_RTHRESH * np.sqrt(nx**2 + ny**2)
    kept = radius[keep]
    edges = np.linspace(kept.min(), kept.max(), DZANIC_BINS + 1)
    # First bin whose closed interval holds the radius, as their loop picks it.
    index = np.clip(np.searchsorted(edges, radius, side="left") - 1, 0, DZANIC_BINS - 1)
    index = np.where(keep, index, -1)
    bins = _Bins(np.fft.ifftshift(index), n_bins=DZANIC_BINS)
    centres = (edges[:-1] + edges[1:]) / 2.0
    centres.setflags(write=False)
    return bins, centres


# -- spectra into bins ------------------------------------------------------


def _binned(stack, bins, values_of, *, workers, norm="backward"):
    """Per-plane bin sums ``(M, n_bins)`` of ``values_of(spectrum, out)``.

    The FFT and ``values_of`` run on chunks small enough to stay in cache; their
    values go into a block buffer, which one kernel call (one parallel region)
    adds up, so a busy machine pays for few thread-pool wake-ups.
    """
    n_planes = stack.shape[0]
    height, width = stack.shape[1:]
    plane = height * (width // 2 + 1)
    step = max(1, _CHUNK_ELEMENTS // plane)
    block = max(step, _BLOCK_ELEMENTS // plane)
    values = np.empty((min(n_planes, block), height, width // 2 + 1),
                      dtype=stack.dtype)
    out = np.empty((n_planes, bins.n_bins))
    for first in range(0, n_planes, block):
        planes = stack[first:first + block]
        for lo in range(0, len(planes), step):
            spectrum = scipy.fft.rfft2(planes[lo:lo + step], norm=norm,
                                       workers=workers)
            values_of(spectrum, values[lo:lo + len(spectrum)])
        used = values[:len(planes)]
        driver = _bin_sums if len(used) >= _PARALLEL_MIN_PLANES else _bin_sums_serial
        out[first:first + len(planes)] = driver(
            used, bins.idx_a, bins.idx_b, bins.n_bins
        )
    return out


def _power(spectrum, out):
    np.abs(spectrum, out=out)
    np.square(out, out=out)


def _magnitude(spectrum, out):
    np.abs(spectrum, out=out)


def _log_magnitude(spectrum, out):
    # Their epsilon goes on the complex value: |F + eps|, not |F| + eps. The
    # mirror -k holds conj(F), and |conj(F) + eps| = |F + eps|.
    spectrum.real += DURALL_EPS
    np.abs(spectrum, out=out)
    # NumPy's vectorised log is faster than a scalar log inside the kernel.
    np.log(out, out=out)


# -- decay features ---------------------------------------------------------


def _fill_missing(values):
    """Linearly interpolate NaN and zero entries from the nearest valid ones."""
    missing = ~(np.isfinite(values) & (values != 0))
    if not missing.any():
        return values
    if missing.all():
        return np.zeros_like(values)
    position = np.arange(len(values))
    filled = values.copy()
    filled[missing] = np.interp(position[missing], position[~missing],
                                values[~missing])
    return filled


def _smooth(values, span):
    """MATLAB ``smooth(y, span)``: centred moving mean, shrinking at the ends."""
    n = values.shape[-1]
    half = (span - 1) // 2
    position = np.arange(n)
    reach = np.minimum(np.minimum(position, n - 1 - position), half)
    csum = np.concatenate(
        [np.zeros((*values.shape[:-1], 1)), np.cumsum(values, axis=-1)], axis=-1
    )
    upper = csum[..., position + reach + 1]
    lower = csum[..., position - reach]
    return (upper - lower) / (2 * reach + 1)


def _fit_exponent(t, y, y_i):
    """Least-squares exponent of ``y = y_i * t**b`` by Nelder-Mead from -2."""
    # Dividing by y_i leaves the minimiser unchanged and makes the tolerance on
    # the objective scale-free.
    scale = y_i if y_i > 0 else 1.0
    target = y / scale
    amp = y_i / scale

    def objective(b):
        return np.linalg.norm(target - amp * t ** b[0])

    result = scipy.optimize.minimize(
        objective, x0=[DZANIC_B0], method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 2000},
    )
    return float(result.x[0])


def _dzanic_features(means, centres):
    start = int(np.rint(DZANIC_BINS * (DZANIC_FIT_START - 0.5) / 0.5))
    x = centres[start:] / centres.max()
    t = x / x[0]
    features = np.empty((means.shape[0], 3))
    for m, row in enumerate(means):
        y = _smooth(_fill_missing(row), DZANIC_SPAN)[start:]
        features[m] = (_fit_exponent(t, y, y[0]), y[0], y[-1])
    return features


def _loglog_features(amplitude, freqs):
    lo, hi = DECAY_BAND
    band = (freqs >= lo - 1e-12) & (freqs <= hi + 1e-12)
    log_f = np.log(freqs[band])
    log_a = np.log(np.maximum(amplitude[:, band], np.finfo(np.float64).tiny))
    centred_f = log_f - log_f.mean()
    slope = (log_a - log_a.mean(axis=1, keepdims=True)) @ centred_f / (
        centred_f @ centred_f
    )
    intercept = log_a.mean(axis=1) - slope * log_f.mean()
    y_i = np.exp(intercept + slope * np.log(lo))
    y_f = np.exp(intercept + slope * np.log(hi))
    return np.stack([slope, y_i, y_f], axis=1)
