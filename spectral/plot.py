"""Plots of spectra and spectral profiles.

Each function draws on the ``ax=`` (or ``fig=``) it is given, or on a new pyplot
figure, returns its artists and never calls ``show()``. Matplotlib is imported
inside the functions, so ``import spectral.plot`` costs nothing until a plot is
drawn. Frequencies are in cycles per pixel.
"""

from collections.abc import Mapping

import numpy as np

from ._errors import ShapeError
from ._validate import as_float_array, check_choice, check_positive_int

__all__ = ["plot_mean_spectra", "plot_profiles", "plot_spectrum"]

# Percentiles of the pooled finite values that set a shared colour scale.
_ROBUST_PERCENTILES = (1.0, 99.0)

# Marker and colour of the predicted peak bins of each upsampling factor.
_PEAK_STYLES = {2: ("o", "tab:red"), 4: ("s", "tab:orange"), 8: ("D", "tab:pink"),
                16: ("^", "tab:cyan")}


def _as_spectrum(spectrum, *, name):
    arr = as_float_array(spectrum, name=name, allow_nan=True)
    if arr.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D array (H, W); got shape {arr.shape}")
    return arr


def _frequency_axes(shape, freqs, *, name):
    """Return (fy, fx): the given axes, checked, or the centred DFT axes."""
    if freqs is None:
        return tuple(np.fft.fftshift(np.fft.fftfreq(n)) for n in shape)
    try:
        fy, fx = freqs
    except (TypeError, ValueError):
        raise ValueError(
            f"freqs must be a pair (fy, fx) of 1-D arrays, got {freqs!r}"
        ) from None
    out = []
    for axis, n, label in ((fy, shape[0], "fy"), (fx, shape[1], "fx")):
        axis = as_float_array(axis, name=f"freqs {label}")
        if axis.ndim != 1 or axis.size != n:
            raise ShapeError(
                f"freqs {label} must be 1-D of length {n} to match {name} of shape "
                f"{shape}; got shape {axis.shape}"
            )
        if n > 1 and not np.all(np.diff(axis) > 0):
            raise ValueError(f"freqs {label} must increase strictly, got {axis!r}")
        out.append(axis)
    return tuple(out)


def _extent(fy, fx):
    """Return the imshow extent that puts pixel centres on the frequencies."""
    def edges(f):
        step = f[1] - f[0] if f.size > 1 else 1.0
        return f[0] - step / 2, f[-1] + step / 2

    (y0, y1), (x0, x1) = edges(fy), edges(fx)
    return (float(x0), float(x1), float(y0), float(y1))


def _check_limits(vmin, vmax):
    for value, label in ((vmin, "vmin"), (vmax, "vmax")):
        if value is None:
            continue
        try:
            finite = np.isfinite(float(value))
        except (TypeError, ValueError):
            raise TypeError(
                f"{label} must be a number or None, got {value!r}"
            ) from None
        if not finite:
            raise ValueError(f"{label} must be a finite number or None, got {value!r}")
    if vmin is not None and vmax is not None and vmin >= vmax:
        raise ValueError(f"vmin must be below vmax, got vmin={vmin!r}, vmax={vmax!r}")


def plot_spectrum(spectrum, *, ax=None, freqs=None, cmap="viridis", vmin=None,
                  vmax=None, title=None, colorbar=True):
    """Draw a centred 2-D spectrum on frequency axes.

    Parameters
    ----------
    spectrum : array_like, shape (H, W)
        Spectrum with DC at ``(H // 2, W // 2)`` (as ``fftshift`` leaves it),
        usually in decibels. NaN bins are left blank.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new pyplot figure when None.
    freqs : pair of array_like, optional
        ``(fy, fx)``, strictly increasing, of lengths H and W, in cycles per pixel
        (as :func:`spectral.spectrum_frequencies` gives). Default: the centred DFT
        frequencies of the shape, ``fftshift(fftfreq(n))``.
    cmap : str or Colormap, optional
        Colour map, default ``"viridis"``.
    vmin, vmax : float, optional
        Colour limits; matplotlib's (data range) by default.
    title : str, optional
        Axes title.
    colorbar : bool, optional
        Add a colour bar beside the axes (default True); it is reachable as
        ``image.colorbar``.

    Returns
    -------
    image : matplotlib.image.AxesImage
        The drawn image.

    Raises
    ------
    ShapeError
        When ``spectrum`` is not 2-D or ``freqs`` does not match its shape.
    ValueError
        For infinite values, non-increasing ``freqs``, non-finite limits or
        ``vmin >= vmax``.

    Notes
    -----
    The image is drawn with ``origin="lower"``: ``fy`` grows upward, like a
    Cartesian frequency plane, and each pixel centre sits on its frequency.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from spectral.plot import plot_spectrum
    >>> fig, ax = plt.subplots()
    >>> image = plot_spectrum(np.zeros((8, 6)), ax=ax, vmin=-1, vmax=1)
    >>> [round(float(e), 4) for e in image.get_extent()]
    [-0.5833, 0.4167, -0.5625, 0.4375]
    >>> plt.close(fig)
    """
    arr = _as_spectrum(spectrum, name="spectrum")
    fy, fx = _frequency_axes(arr.shape, freqs, name="spectrum")
    _check_limits(vmin, vmax)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    image = ax.imshow(arr, origin="lower", extent=_extent(fy, fx), cmap=cmap,
                      vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xlabel("$f_x$ (cycles/px)")
    ax.set_ylabel("$f_y$ (cycles/px)")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax)
    return image


def _check_factors(peaks):
    if peaks is None or peaks is False:
        return []
    if peaks is True:
        return [2, 4, 8]
    try:
        items = list(peaks)
    except TypeError:
        raise TypeError(
            f"peaks must be None, True or a sequence of integers >= 2, got {peaks!r}"
        ) from None
    return sorted({check_positive_int(s, name="peaks", minimum=2) for s in items})


def _peak_frequencies(factor, seen):
    """Centred frequencies (fy, fx) of the DC images of ``factor`` not in ``seen``."""
    grid = {((j / factor + 0.5) % 1.0 - 0.5) for j in range(factor)}
    points = {(fy, fx) for fy in grid for fx in grid} - {(0.0, 0.0)}
    return sorted(points - seen), points


def plot_mean_spectra(spectra, *, ncols=None, vmin=None, vmax=None, cmap="viridis",
                      freqs=None, fig=None, titles=True, peaks=None):
    """Draw named mean spectra side by side on one shared colour scale.

    Parameters
    ----------
    spectra : mapping of {str: array_like of shape (H, W)}
        Centred spectra (e.g. mean log power per generator), drawn in the
        mapping's order. Shapes may differ unless ``freqs`` is given.
    ncols : int, optional
        Columns of the grid, default ``min(len(spectra), 4)``.
    vmin, vmax : float, optional
        Shared colour limits; by default the 1st and 99th percentiles of all the
        finite values pooled, so that one bright DC bin does not flatten the rest.
    cmap : str or Colormap, optional
        Colour map, default ``"viridis"``.
    freqs : pair of array_like, optional
        ``(fy, fx)`` for every panel (then all spectra must share one shape);
        default the centred DFT frequencies of each shape.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in; a new pyplot figure when None.
    titles : bool, optional
        Title each panel with its name (default True).
    peaks : bool or sequence of int, optional
        Mark the frequencies ``(j / s, l / s)`` (wrapped to [-0.5, 0.5)) where an
        upsampling by ``s`` puts its peaks, one marker style per factor, each
        position under the smallest factor that predicts it. True means
        ``(2, 4, 8)``; None (default) marks nothing.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    axes : ndarray of matplotlib.axes.Axes, shape (len(spectra),)
        One axes per spectrum, in order (unused grid cells are removed). The
        shared colour bar has its own axes, ``fig.axes[-1]``.

    Raises
    ------
    ValueError
        For an empty mapping, limits as in :func:`plot_spectrum`, or a factor
        below 2.
    ShapeError
        For a spectrum that is not 2-D, or shapes that differ from ``freqs``.
    TypeError
        When ``spectra`` is not a mapping or ``ncols`` or a factor is not an
        integer.

    See Also
    --------
    plot_spectrum : One spectrum.
    spectral.upsampling_peaks : Scores of the marked positions.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from spectral.plot import plot_mean_spectra
    >>> rng = np.random.default_rng(0)
    >>> spectra = {"real": rng.normal(size=(16, 16)), "fake": rng.normal(size=(16, 16))}
    >>> fig, axes = plot_mean_spectra(spectra, peaks=True)
    >>> len(axes), len(fig.axes)
    (2, 3)
    >>> axes[0].images[0].get_clim() == axes[1].images[0].get_clim()
    True
    >>> plt.close(fig)
    """
    if not isinstance(spectra, Mapping):
        raise TypeError(
            f"spectra must be a mapping {{name: 2-D array}}, got {type(spectra)!r}"
        )
    if not spectra:
        raise ValueError(
            "spectra must hold at least one spectrum, got an empty mapping"
        )
    arrays = {name: _as_spectrum(s, name=f"spectra[{name!r}]")
              for name, s in spectra.items()}
    axes_of = {name: _frequency_axes(a.shape, freqs, name=f"spectra[{name!r}]")
               for name, a in arrays.items()}
    ncols = min(len(arrays), 4) if ncols is None else check_positive_int(
        ncols, name="ncols")
    factors = _check_factors(peaks)
    vmin, vmax = _shared_limits(arrays.values(), vmin, vmax)
    import matplotlib.pyplot as plt

    ncols = min(ncols, len(arrays))
    nrows = -(-len(arrays) // ncols)
    if fig is None:
        fig = plt.figure(figsize=(min(8.0, 2.4 * ncols + 1.0), 2.3 * nrows + 0.4),
                         layout="constrained")
    grid = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for extra in grid[len(arrays):]:
        extra.remove()
    axes = grid[:len(arrays)]

    for ax, (name, arr) in zip(axes, arrays.items(), strict=True):
        plot_spectrum(arr, ax=ax, freqs=axes_of[name], cmap=cmap, vmin=vmin,
                      vmax=vmax, title=str(name) if titles else None,
                      colorbar=False)
        seen = set()
        for factor in factors:
            points, seen_now = _peak_frequencies(factor, seen)
            seen |= seen_now
            marker, colour = _PEAK_STYLES.get(factor, ("x", "tab:gray"))
            ax.plot([p[1] for p in points], [p[0] for p in points], linestyle="none",
                    marker=marker, markersize=4, markerfacecolor="none",
                    markeredgecolor=colour, markeredgewidth=0.8,
                    label=f"x{factor}")
    for index, ax in enumerate(axes):
        # Frequency labels on the outer panels only.
        if index % ncols:
            ax.set_ylabel("")
        if index + ncols < len(axes):
            ax.set_xlabel("")
    if factors:
        axes[0].legend(loc="upper right", fontsize="x-small", framealpha=0.6)
    fig.colorbar(axes[0].images[0], ax=list(axes), shrink=0.8)
    return fig, axes


def _shared_limits(arrays, vmin, vmax):
    _check_limits(vmin, vmax)
    if vmin is not None and vmax is not None:
        return vmin, vmax
    pooled = np.concatenate([a[np.isfinite(a)] for a in arrays])
    if pooled.size == 0:
        raise ValueError("spectra hold no finite value to set the colour scale")
    low, high = np.percentile(pooled, _ROBUST_PERCENTILES)
    if vmin is None and vmax is None and low == high:
        # Constant spectra: centre a unit range on the value.
        return float(low) - 0.5, float(low) + 0.5
    vmin = float(low) if vmin is None else vmin
    vmax = float(high) if vmax is None else vmax
    if vmin >= vmax:
        raise ValueError(
            f"the given colour limit is past the data's robust range: vmin={vmin!r} "
            f">= vmax={vmax!r}; give both vmin and vmax"
        )
    return vmin, vmax


def _profile_band(value, *, band, name):
    """Return (mean, low, high) of one entry of ``profiles``; low/high may be None."""
    if isinstance(value, tuple) and len(value) == 2:
        mean = as_float_array(value[0], name=f"{name} mean")
        spread = as_float_array(value[1], name=f"{name} spread")
        if mean.ndim != 1:
            raise ShapeError(f"{name} mean must be 1-D (R,), got shape {mean.shape}")
        if spread.shape == mean.shape:
            return mean, mean - spread, mean + spread
        if spread.shape == (2, mean.size):
            return mean, spread[0], spread[1]
        raise ShapeError(
            f"{name} spread must have shape {mean.shape} (+- spread) or "
            f"{(2, mean.size)} (low, high); got {spread.shape}"
        )
    arr = as_float_array(value, name=name)
    if arr.ndim == 1:
        return arr, None, None
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ShapeError(
            f"{name} must be an (N, R) array of per-image profiles or a (mean, "
            f"spread) tuple; got shape {arr.shape}"
        )
    mean = arr.mean(axis=0)
    if band == "std":
        std = arr.std(axis=0)
        return mean, mean - std, mean + std
    if band == "iqr":
        low, high = np.percentile(arr, [25.0, 75.0], axis=0)
        return mean, low, high
    return mean, None, None


def plot_profiles(profiles, *, freqs=None, ax=None, band="std", xlabel=None,
                  ylabel="power (dB)"):
    """Draw mean spectral profiles with a shaded band of their spread.

    Parameters
    ----------
    profiles : mapping of {str: array_like or tuple}
        Per name, either an ``(N, R)`` array of per-image profiles (e.g.
        azimuthal averages), a single ``(R,)`` profile (no band), or a tuple
        ``(mean, spread)`` with ``mean`` of shape ``(R,)`` and ``spread`` of shape
        ``(R,)`` (band ``mean +- spread``) or ``(2, R)`` (band from ``spread[0]``
        to ``spread[1]``).
    freqs : array_like, shape (R,), optional
        x values in cycles per pixel, shared by all profiles (which must then
        all have length R). Default: the bin index of each profile.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new pyplot figure when None.
    band : {"std", "iqr", None}, optional
        For ``(N, R)`` arrays: shade mean +- standard deviation (``ddof=0``,
        default), the 25th to 75th percentile range, or nothing.
    xlabel : str, optional
        Default ``"frequency (cycles/px)"`` with ``freqs``, ``"bin"`` without.
    ylabel : str, optional
        Default ``"power (dB)"``.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes, with one line (labelled by name) and one band per profile and a
        legend.

    Raises
    ------
    ValueError
        For an empty mapping, an unknown ``band``, or NaN or infinite values.
    ShapeError
        For profiles of the wrong shape or a length that differs from ``freqs``.
    TypeError
        When ``profiles`` is not a mapping.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from spectral.plot import plot_profiles
    >>> rng = np.random.default_rng(0)
    >>> freqs = np.linspace(0, 0.5, 32)
    >>> ax = plot_profiles({"real": rng.normal(size=(5, 32))}, freqs=freqs)
    >>> len(ax.lines), len(ax.collections)
    (1, 1)
    >>> plt.close(ax.figure)
    """
    if not isinstance(profiles, Mapping):
        raise TypeError(
            f"profiles must be a mapping {{name: profiles}}, got {type(profiles)!r}"
        )
    if not profiles:
        raise ValueError("profiles must hold at least one entry, got an empty mapping")
    band = check_choice(band, ("std", "iqr", None), name="band")
    x_shared = None
    if freqs is not None:
        x_shared = as_float_array(freqs, name="freqs")
        if x_shared.ndim != 1:
            raise ShapeError(f"freqs must be 1-D (R,), got shape {x_shared.shape}")
    curves = {}
    for name, value in profiles.items():
        mean, low, high = _profile_band(value, band=band, name=f"profiles[{name!r}]")
        if x_shared is not None and mean.size != x_shared.size:
            raise ShapeError(
                f"profiles[{name!r}] has {mean.size} bins but freqs has "
                f"{x_shared.size}"
            )
        curves[name] = (mean, low, high)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    for name, (mean, low, high) in curves.items():
        x = np.arange(mean.size) if x_shared is None else x_shared
        (line,) = ax.plot(x, mean, label=str(name))
        if low is not None:
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.25,
                            linewidth=0)
    if xlabel is None:
        xlabel = "bin" if x_shared is None else "frequency (cycles/px)"
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.legend()
    return ax
