"""Validation and dtype policy shared by the public functions.

Every public function goes validate -> coerce -> compute -> return. The checks here
raise ``TypeError`` for a bad type and ``ValueError`` (or :class:`ShapeError`) for a
bad value or shape, with a message that names the argument, shows the value and
says what is allowed.
"""

import warnings

import numpy as np

from ._errors import ShapeError

__all__ = [
    "as_float_array",
    "as_image_stack",
    "check_choice",
    "check_finite",
    "check_positive_int",
    "supported_float_type",
    "warn",
]


def supported_float_type(dtype):
    """Return the working float type for an input dtype.

    float16 -> float32; float32 and float64 are kept; booleans and integers ->
    float64. Complex and other kinds raise ``TypeError``.
    """
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return np.dtype(np.float32)
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    raise TypeError(
        f"unsupported dtype {dtype}: expected a real integer, boolean or float array"
    )


def as_float_array(x, *, name, dtype=None, allow_nan=False):
    """Coerce ``x`` to a C-contiguous float array following the dtype policy.

    Parameters
    ----------
    x : array_like
        Input values.
    name : str
        Argument name used in error messages.
    dtype : dtype, optional
        Force this float dtype instead of the policy's choice.
    allow_nan : bool, optional
        When false (default), NaN or infinite values raise ``ValueError``.
    """
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got an object array")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    try:
        target = supported_float_type(arr.dtype) if dtype is None else np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}") from None
    arr = np.ascontiguousarray(arr, dtype=target)
    if not allow_nan:
        check_finite(arr, name=name)
    return arr


def check_finite(arr, *, name):
    """Raise ``ValueError`` when ``arr`` holds NaN or infinite values."""
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")


def check_choice(value, choices, *, name):
    """Return ``value`` when it is one of ``choices``, else raise ``ValueError``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_positive_int(value, *, name, minimum=1):
    """Return ``value`` as int when it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


class _Layout:
    """How an input stack was flattened, so outputs can be given back its shape."""

    def __init__(self, lead_shape, n_channels):
        self.lead_shape = lead_shape
        self.n_channels = n_channels

    def restore(self, out):
        """Reshape ``(M, *feature)`` to ``(*lead, [C,] *feature)``."""
        feature = out.shape[1:]
        lead = self.lead_shape
        if self.n_channels is not None:
            lead = (*lead, self.n_channels)
        return out.reshape(*lead, *feature)


def as_image_stack(image, *, name="image", channel_axis=None, dtype=None,
                   min_shape=(1, 1), allow_nan=False):
    """Flatten an image or a batch of images to a float stack ``(M, H, W)``.

    Accepted shapes: with ``channel_axis=None`` (grey) ``(H, W)`` or ``(N, H, W)``;
    with a channel axis ``(H, W, C)`` or ``(N, H, W, C)`` (the axis may be anywhere
    but in the two image axes). Each channel of each image becomes one plane.

    Returns
    -------
    stack : ndarray, shape (M, H, W)
        C-contiguous float planes.
    layout : _Layout
        ``layout.restore(out)`` turns a per-plane result ``(M, ...)`` into
        ``(N, C, ...)``, ``(C, ...)``, ``(N, ...)`` or ``(...)`` to match the input:
        the channel axis comes first among the per-image axes.
    """
    arr = np.asarray(image)
    if channel_axis is None:
        if arr.ndim not in (2, 3):
            raise ShapeError(
                f"{name} must have shape (H, W) or (N, H, W) when channel_axis is "
                f"None; got shape {arr.shape}"
            )
        lead = arr.shape[:-2]
        n_channels = None
        planes = arr.reshape(-1, *arr.shape[-2:])
    else:
        if arr.ndim not in (3, 4):
            raise ShapeError(
                f"{name} must have shape (H, W, C) or (N, H, W, C) when channel_axis "
                f"is given; got shape {arr.shape}"
            )
        axis = channel_axis % arr.ndim if -arr.ndim <= channel_axis < arr.ndim else None
        if axis is None:
            raise ValueError(
                f"channel_axis={channel_axis!r} is out of range for {name} with "
                f"shape {arr.shape}"
            )
        arr = np.moveaxis(arr, axis, -1)
        if arr.ndim == 3:
            lead = ()
        else:
            lead = arr.shape[:1]
        n_channels = arr.shape[-1]
        arr = np.moveaxis(arr, -1, -3)
        planes = arr.reshape(-1, *arr.shape[-2:])
    height, width = planes.shape[-2:]
    if height < min_shape[0] or width < min_shape[1] or planes.shape[0] == 0:
        raise ShapeError(
            f"{name} must be at least {min_shape[0]}x{min_shape[1]} pixels and hold "
            f"at least one image; got shape {np.shape(image)}"
        )
    stack = as_float_array(planes, name=name, dtype=dtype, allow_nan=allow_nan)
    return stack, _Layout(lead, n_channels)


def warn(message, category=UserWarning, *, stacklevel=2):
    """Issue a warning that points at the caller of the public function."""
    warnings.warn(message, category, stacklevel=stacklevel + 1)
