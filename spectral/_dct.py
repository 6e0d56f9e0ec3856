"""Full-image DCT-II spectra (Frank et al.) and 8x8 block DCT statistics."""

import numbers

import numpy as np

from ._errors import ShapeError
from ._validate import as_image_stack, check_choice, check_positive_int

__all__ = ["block_dct", "block_dct_statistics", "dct_spectrum"]

#: Floor added to ``|c|`` before the natural logarithm, as in Frank et al.'s code.
LOG_EPS = 1e-12

#: ``|c|`` below this counts as a zero coefficient: JPEG quantisation followed by
#: rounding of the decoded pixels to integers leaves it well below one unit.
ZERO_THRESHOLD = 0.5

_STATISTICS = ("mean_abs", "mean_log_abs", "zero_fraction")


def dct_spectrum(image, *, log=True, channel_axis=None, workers=None):
    r"""Compute the full-image 2-D DCT-II spectrum of Frank et al.

    Parameters
    ----------
    image : array_like
        One image ``(H, W)`` or a batch ``(N, H, W)``; with ``channel_axis``,
        ``(H, W, C)`` or ``(N, H, W, C)``. Real values.
    log : bool, optional
        Return ``ln(|c| + 1e-12)`` (natural logarithm, as Frank et al.) instead
        of the signed coefficients. Default True.
    channel_axis : int, optional
        Axis of the colour channels; None (default) for grey images. Frank et
        al. transform each RGB channel independently.
    workers : int, optional
        Threads for the transform, as in :mod:`scipy.fft`; a batch is
        transformed in one call.

    Returns
    -------
    spectrum : ndarray
        ``(H, W)``, ``(N, H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; float32
        for float16 and float32 input, float64 otherwise. Index ``(k_y, k_x)``
        holds frequency ``(k_y / (2H), k_x / (2W))`` cycles per pixel (no
        shift: the DC term is at ``[0, 0]``).

    Raises
    ------
    ShapeError
        For an input of the wrong rank.
    TypeError
        For complex or non-numeric input.
    ValueError
        For NaN or infinite values or an out-of-range ``channel_axis``.

    See Also
    --------
    power_spectrum : the Fourier counterpart.
    block_dct : the 8x8 block DCT of JPEG.

    Notes
    -----
    The orthonormal type-II DCT along both axes,

    .. math::

        c[k_y, k_x] = a_{k_y} a_{k_x} \sum_{y, x} x[y, x]
        \cos\frac{\pi k_y (2y + 1)}{2H} \cos\frac{\pi k_x (2x + 1)}{2W},

    with :math:`a_0 = \sqrt{1/N}` and :math:`a_k = \sqrt{2/N}` otherwise, the
    same numbers as Frank et al.'s ``scipy.fftpack.dct(norm='ortho')`` along
    axis 0 then axis 1, computed with :func:`scipy.fft.dctn` on the whole
    batch at once. A pattern of period :math:`p` pixels lands near index
    :math:`2N/p`. No window and no block structure.

    References
    ----------
    .. [1] J. Frank, T. Eisenhofer, L. Schoenherr, A. Fischer, D. Kolossa,
       T. Holz, "Leveraging Frequency Analysis for Deep Fake Image
       Recognition", ICML 2020. :arxiv:`2003.08685`

    Examples
    --------
    >>> from spectral import dct_spectrum
    >>> image = np.cos(np.pi * 4 * (2 * np.arange(8) + 1) / 16) * np.ones((8, 1))
    >>> coeffs = dct_spectrum(image, log=False)
    >>> [tuple(int(i) for i in ij) for ij in np.argwhere(np.abs(coeffs) > 1e-9)]
    [(0, 4)]
    >>> dct_spectrum(np.ones((2, 4, 4, 3)), channel_axis=-1).shape
    (2, 3, 4, 4)
    """
    import scipy.fft

    stack, layout = as_image_stack(image, name="image", channel_axis=channel_axis)

    coeffs = scipy.fft.dctn(stack, type=2, norm="ortho", axes=(-2, -1),
                            workers=workers)
    if log:
        np.abs(coeffs, out=coeffs)
        coeffs += LOG_EPS
        np.log(coeffs, out=coeffs)
    return layout.restore(coeffs)


def block_dct(image, *, block=8, offset=(0, 0), data_range=None):
    r"""Compute the orthonormal 2-D DCT-II of each aligned block, as JPEG does.

    The grey image is scaled to 0..255 and 128 is subtracted (JPEG's level
    shift), so the coefficients are in the units of JPEG quantisation tables.

    Parameters
    ----------
    image : array_like
        A grey image ``(H, W)`` or a batch ``(N, H, W)``.
    block : int, optional
        Side of the square blocks. Default 8, the JPEG block.
    offset : tuple of int, optional
        ``(dy, dx)`` position of the first block's top-left pixel; each must be
        in ``[0, block)``. Default ``(0, 0)``: JPEG's grid for an uncropped
        image. Partial blocks at the right and bottom edges are dropped.
    data_range : float, optional
        The value of white. None (default) means 1 for float and boolean
        input (the range of :func:`read_image`) and the largest value of the
        type for unsigned integers (255 for uint8); signed integers need it.

    Returns
    -------
    coeffs : ndarray
        ``(n_by, n_bx, block, block)`` or ``(N, n_by, n_bx, block, block)``,
        with ``n_by = (H - dy) // block`` and ``n_bx = (W - dx) // block``;
        float32 for float16 and float32 input, float64 otherwise.

    Raises
    ------
    ShapeError
        For an input of the wrong rank or smaller than one block after the
        offset.
    TypeError
        For complex or non-numeric input, or a non-integer block or offset.
    ValueError
        For NaN or infinite values, an offset outside ``[0, block)``, a
        non-positive ``data_range`` or a signed integer image without one.

    See Also
    --------
    block_dct_statistics : statistics of the coefficients over all blocks.

    Notes
    -----
    Block :math:`(b_y, b_x)` covers rows :math:`d_y + b_y B \ldots d_y + b_y B
    + B - 1` and the matching columns; its coefficients are
    :func:`scipy.fft.dctn` of :math:`255\,x / r - 128` with ``norm='ortho'``,
    :math:`r` the data range. The DC coefficient is :math:`B` times the
    block's mean level.

    Examples
    --------
    >>> from spectral import block_dct
    >>> image = np.full((16, 24), 128, dtype=np.uint8)
    >>> coeffs = block_dct(image)
    >>> coeffs.shape
    (2, 3, 8, 8)
    >>> float(np.abs(coeffs).max())
    0.0
    >>> block_dct(np.zeros((20, 20)), offset=(4, 4)).shape
    (2, 2, 8, 8)
    """
    import scipy.fft

    block = check_positive_int(block, name="block")
    oy, ox = _check_offset(offset, block)
    scale = _scale_to_255(image, data_range)
    stack, layout = as_image_stack(image, name="image")
    count, height, width = stack.shape
    n_by, n_bx = (height - oy) // block, (width - ox) // block
    if n_by < 1 or n_bx < 1:
        raise ShapeError(
            f"image of shape {np.shape(image)} holds no complete {block}x{block} "
            f"block starting at offset {(oy, ox)}"
        )

    tiles = stack[:, oy:oy + n_by * block, ox:ox + n_bx * block]
    tiles = tiles.reshape(count, n_by, block, n_bx, block).transpose(0, 1, 3, 2, 4)
    tiles = tiles * stack.dtype.type(scale) - stack.dtype.type(128)
    coeffs = scipy.fft.dctn(tiles, type=2, norm="ortho", axes=(-2, -1))
    return layout.restore(coeffs)


def block_dct_statistics(image, *, block=8, offset=(0, 0), statistic="mean_abs",
                         data_range=None):
    r"""Summarise the block DCT coefficients at each frequency over all blocks.

    Parameters
    ----------
    image : array_like
        A grey image ``(H, W)`` or a batch ``(N, H, W)``.
    block : int, optional
        Side of the square blocks. Default 8.
    offset : tuple of int, optional
        ``(dy, dx)`` phase of the block grid, each in ``[0, block)``. Default
        ``(0, 0)``.
    statistic : {'mean_abs', 'mean_log_abs', 'zero_fraction'}, optional
        'mean_abs' (default): mean of :math:`|c|`; 'mean_log_abs': mean of
        :math:`\ln(1 + |c|)`; 'zero_fraction': share of blocks with
        :math:`|c| < 0.5`.
    data_range : float, optional
        The value of white, as in :func:`block_dct`.

    Returns
    -------
    stat : ndarray of float64
        ``(block, block)``, or ``(N, block, block)`` for a batch.

    Raises
    ------
    ShapeError, TypeError, ValueError
        As :func:`block_dct`; ``ValueError`` also for an unknown
        ``statistic``.

    See Also
    --------
    block_dct : the coefficients themselves.

    Notes
    -----
    JPEG divides each coefficient of each aligned 8x8 block by a quantisation
    step and rounds, so most high-frequency coefficients become exactly zero;
    after decoding to integers they stay within a few tenths of zero. On the
    JPEG grid (offset ``(0, 0)`` for an uncropped image) 'zero_fraction' is
    therefore high at the quantised frequencies, while at any other offset
    the blocks straddle the grid and the coefficients are not small. A
    never-compressed image shows no such difference between offsets. The
    threshold 0.5 is in 0..255 units. 'mean_log_abs' uses :math:`\ln(1 + x)`
    rather than a tiny floor, so exactly-zero coefficients (flat blocks) do
    not dominate the mean.

    Examples
    --------
    >>> from spectral import block_dct_statistics
    >>> rng = np.random.default_rng(0)
    >>> image = rng.random((32, 32))
    >>> stat = block_dct_statistics(image, statistic="zero_fraction")
    >>> stat.shape
    (8, 8)
    >>> bool(np.all((stat >= 0) & (stat <= 1)))
    True
    """
    check_choice(statistic, _STATISTICS, name="statistic")
    coeffs = block_dct(image, block=block, offset=offset, data_range=data_range)

    magnitude = np.abs(coeffs)
    axes = (-4, -3)
    if statistic == "mean_abs":
        stat = magnitude.mean(axis=axes, dtype=np.float64)
    elif statistic == "mean_log_abs":
        stat = np.log1p(magnitude).mean(axis=axes, dtype=np.float64)
    else:
        stat = (magnitude < ZERO_THRESHOLD).mean(axis=axes, dtype=np.float64)
    return stat


def _check_offset(offset, block):
    try:
        oy, ox = offset
    except (TypeError, ValueError):
        raise TypeError(
            f"offset must be a pair of integers (dy, dx); got {offset!r}"
        ) from None
    for value in (oy, ox):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(
                f"offset must be a pair of integers (dy, dx); got {offset!r}"
            )
        if not 0 <= value < block:
            raise ValueError(
                f"offset entries must be in [0, block={block}); got {offset!r}"
            )
    return int(oy), int(ox)


def _scale_to_255(image, data_range):
    """Factor that maps the image's white to 255."""
    if data_range is not None:
        if (isinstance(data_range, bool) or not isinstance(data_range, numbers.Real)
                or not np.isfinite(data_range) or data_range <= 0):
            raise ValueError(
                f"data_range must be a positive number; got {data_range!r}"
            )
        return 255.0 / float(data_range)
    dtype = np.asarray(image).dtype
    if dtype.kind == "u":
        return 255.0 / np.iinfo(dtype).max
    if dtype.kind == "i":
        raise ValueError(
            f"image has signed integer dtype {dtype}: pass data_range (the value "
            "of white) so it can be scaled to 0..255"
        )
    return 255.0
