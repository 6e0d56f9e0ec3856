"""Colour to grey conversion used by every feature that works on luminance."""

import numpy as np

from ._errors import ShapeError
from ._validate import as_float_array

#: ITU-R BT.601 luma weights, the ones Pillow's ``"L"`` mode and OpenCV use
#: (Durall et al. write them 0.2989, 0.5870, 0.1140).
BT601 = (0.299, 0.587, 0.114)


def to_gray(image, *, channel_axis=-1, weights=BT601):
    """Convert colour images to grey luminance.

    Parameters
    ----------
    image : array_like, shape (..., C, ...)
        One image ``(H, W, C)`` or a batch ``(N, H, W, C)``; ``C`` is 1, 3 or 4
        (alpha is ignored).
    channel_axis : int, optional
        Axis of the colour channels, default the last.
    weights : sequence of 3 floats, optional
        Weights of R, G and B, default ITU-R BT.601.

    Returns
    -------
    gray : ndarray
        ``image`` without its channel axis, in the working float type (float32 for
        float32 input, float64 for integer input).

    Raises
    ------
    ShapeError
        When the channel axis does not hold 1, 3 or 4 channels.

    Examples
    --------
    >>> import numpy as np
    >>> import spectral
    >>> rgb = np.ones((4, 5, 3), dtype=np.float32)
    >>> gray = spectral.to_gray(rgb)
    >>> gray.shape, gray.dtype
    ((4, 5), dtype('float32'))
    >>> bool(np.allclose(gray, 1.0))
    True
    """
    arr = as_float_array(image, name="image")
    if arr.ndim < 3:
        raise ShapeError(
            f"image must have a channel axis, got shape {arr.shape}; a grey image "
            "needs no conversion"
        )
    arr = np.moveaxis(arr, channel_axis, -1)
    n_channels = arr.shape[-1]
    if n_channels == 1:
        return np.ascontiguousarray(arr[..., 0])
    if n_channels not in (3, 4):
        raise ShapeError(
            f"image must have 1, 3 or 4 channels on axis {channel_axis}; got "
            f"{n_channels} (shape {np.shape(image)})"
        )
    w = np.asarray(weights, dtype=arr.dtype)
    if w.shape != (3,):
        raise ValueError(f"weights must hold 3 numbers, got {weights!r}")
    return np.ascontiguousarray(arr[..., :3] @ w)
