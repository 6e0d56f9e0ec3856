"""Streaming, mergeable mean and variance of spectra over many images."""

import os
from pathlib import Path

import numpy as np

from ._errors import ShapeError
from ._validate import as_float_array, check_finite, check_positive_int

__all__ = ["SpectrumStats"]

# Tag stored in every saved file, so that ``load`` can refuse foreign npz files.
_FORMAT = "spectral-forensics/SpectrumStats"
_VERSION = 1

# Images combined per step: bounds the float64 temporaries of one update to
# about 32 MiB whatever the batch size.
_CHUNK_VALUES = 1 << 22


class SpectrumStats:
    r"""Streaming mean and variance of spectra, mergeable across processes.

    Feed spectra one image or one batch at a time with :meth:`update`; combine
    statistics computed on separate shards with :meth:`merge`. Everything is
    accumulated in float64 (complex128 with ``complex_mean=True``).

    Parameters
    ----------
    shape : tuple of int, optional
        Shape of one spectrum. When None (default) the first :meth:`update`
        fixes it, reading a 2-D array as one spectrum ``(H, W)`` and a 3-D
        array as a batch ``(N, H, W)``. Give it explicitly for spectra of other
        ranks, e.g. ``(C, H, W)`` per-channel spectra.
    complex_mean : bool, optional
        When True, complex spectra are accepted and the mean stays complex: a
        phase-coherent average in which content whose phase varies from image
        to image cancels while periodic generator artifacts, which sit at the
        same phase in every image, remain (Wang et al.'s Fig. 7 fingerprint).
        Real input is accepted too and treated as complex with zero imaginary
        part. Default False.

    Attributes
    ----------
    count : int
        Number of spectra seen.
    shape : tuple of int or None
        Shape of one spectrum, None until it is fixed.
    complex_mean : bool
        Whether the mean is complex.

    See Also
    --------
    power_spectrum, dct_spectrum : spectra to accumulate.

    Notes
    -----
    Each batch is reduced exactly (mean, then the sum of squared deviations
    about it), and the batch is added to the running totals with the pairwise
    update of Chan, Golub and LeVeque:

    .. math::

        n = n_a + n_b, \quad \delta = \bar x_b - \bar x_a, \quad
        \bar x = \bar x_a + \delta \, n_b / n, \quad
        M_2 = M_{2,a} + M_{2,b} + |\delta|^2 \, n_a n_b / n.

    The same formula merges two shards, so statistics computed in parallel and
    merged equal the statistics of the whole set up to float64 round-off, in any
    order. With ``complex_mean=True`` the variance is the mean of
    :math:`|x - \bar x|^2`, a real number.

    Spectra must be finite: NaN or infinity raises ``ValueError`` (use
    ``log=True`` spectra, whose floor keeps them finite, or power spectra).

    References
    ----------
    .. [1] T. F. Chan, G. H. Golub, R. J. LeVeque, "Algorithms for computing the
       sample variance: analysis and recommendations", The American
       Statistician 37(3), 1983. :doi:`10.1080/00031305.1983.10483115`
    .. [2] B. P. Welford, "Note on a method for calculating corrected sums of
       squares and products", Technometrics 4(3), 1962.
       :doi:`10.1080/00401706.1962.10490022`

    Examples
    --------
    >>> from spectral import SpectrumStats
    >>> rng = np.random.default_rng(0)
    >>> spectra = rng.normal(size=(10, 4, 6))
    >>> left = SpectrumStats().update(spectra[:3])
    >>> right = SpectrumStats().update(spectra[3:])
    >>> whole = left.merge(right)
    >>> whole.count
    10
    >>> bool(np.allclose(whole.mean, spectra.mean(axis=0)))
    True
    >>> bool(np.allclose(whole.var, spectra.var(axis=0)))
    True
    """

    def __init__(self, shape=None, *, complex_mean=False):
        if shape is not None:
            shape = _check_shape(shape)
        self._shape = shape
        self._complex = bool(complex_mean)
        self._count = 0
        self._mean = None
        self._m2 = None

    # Read-only state ---------------------------------------------------------

    @property
    def count(self):
        """Number of spectra accumulated (int)."""
        return self._count

    @property
    def shape(self):
        """Shape of one spectrum, or None while it is not fixed."""
        return self._shape

    @property
    def complex_mean(self):
        """Whether the mean is kept complex (bool)."""
        return self._complex

    @property
    def mean(self):
        """Mean spectrum: float64, or complex128 with ``complex_mean=True``."""
        self._require_data("mean")
        return self._mean.copy()

    @property
    def m2(self):
        """Sum of squared deviations from the mean, float64."""
        self._require_data("m2")
        return self._m2.copy()

    @property
    def var(self):
        """Population variance (``ddof=0``), float64."""
        return self.variance()

    @property
    def std(self):
        """Population standard deviation (``ddof=0``), float64."""
        return np.sqrt(self.variance())

    def variance(self, ddof=0):
        """Return the variance with ``ddof`` delta degrees of freedom.

        Parameters
        ----------
        ddof : int, optional
            The divisor is ``count - ddof``; 0 (default) gives the population
            variance, 1 the unbiased sample variance.

        Returns
        -------
        variance : ndarray of float64
            Array of shape :attr:`shape`.

        Raises
        ------
        ValueError
            When no spectrum was added or ``count - ddof`` is not positive.
        """
        self._require_data("variance")
        ddof = check_positive_int(ddof, name="ddof", minimum=0)
        if self._count - ddof <= 0:
            raise ValueError(
                f"ddof={ddof!r} leaves no degrees of freedom with count="
                f"{self._count}; ddof must be smaller than count"
            )
        return self._m2 / (self._count - ddof)

    # Accumulation --------------------------------------------------------------

    def update(self, spectra):
        """Add one spectrum or a batch of spectra.

        Parameters
        ----------
        spectra : array_like
            One spectrum of shape :attr:`shape` or a batch ``(N, *shape)``.
            While the shape is not fixed, ``(H, W)`` is one spectrum and
            ``(N, H, W)`` a batch. Real input (integers, booleans, floats);
            complex input only with ``complex_mean=True``.

        Returns
        -------
        self : SpectrumStats
            The updated object, so that calls can be chained.

        Raises
        ------
        ShapeError
            When the spectra do not have the fixed shape.
        TypeError
            For complex input without ``complex_mean=True``, or non-numeric
            input.
        ValueError
            For NaN or infinite values.
        """
        batch = self._as_batch(spectra)
        step = max(1, _CHUNK_VALUES // max(1, int(np.prod(self._shape))))
        for start in range(0, batch.shape[0], step):
            chunk = batch[start:start + step]
            work = np.complex128 if self._complex else np.float64
            chunk_mean = np.mean(chunk, axis=0, dtype=work)
            dev = chunk - chunk_mean
            if self._complex:
                chunk_m2 = np.sum(dev.real**2 + dev.imag**2, axis=0)
            else:
                chunk_m2 = np.einsum("i...,i...->...", dev, dev)
            self._combine(chunk.shape[0], chunk_mean, chunk_m2)
        return self

    def merge(self, other):
        """Add the statistics of ``other`` to these, in place.

        Parameters
        ----------
        other : SpectrumStats
            Statistics over a disjoint set of spectra, with the same shape and
            the same ``complex_mean`` setting. It is not modified.

        Returns
        -------
        self : SpectrumStats
            The merged object.

        Raises
        ------
        TypeError
            When ``other`` is not a :class:`SpectrumStats` or its
            ``complex_mean`` setting differs.
        ShapeError
            When the spectrum shapes differ.
        """
        if not isinstance(other, SpectrumStats):
            raise TypeError(
                f"other must be a SpectrumStats, got {type(other).__name__}"
            )
        if other._complex != self._complex:
            raise TypeError(
                f"cannot merge statistics with complex_mean={other._complex!r} "
                f"into statistics with complex_mean={self._complex!r}"
            )
        if other._shape is not None:
            self._fix_shape(other._shape)
        if other._count:
            self._combine(other._count, other._mean, other._m2)
        return self

    def _combine(self, count, mean, m2):
        """Add a group of ``count`` values with ``mean`` and ``m2`` (Chan et al.)."""
        if self._count == 0:
            self._count = int(count)
            self._mean = np.array(mean, dtype=self._mean_dtype())
            self._m2 = np.array(m2, dtype=np.float64)
            return
        total = self._count + count
        delta = mean - self._mean
        weight = count / total
        self._mean = self._mean + delta * weight
        if self._complex:
            delta_sq = delta.real**2 + delta.imag**2
        else:
            delta_sq = delta * delta
        self._m2 = self._m2 + m2 + delta_sq * (self._count * weight)
        self._count = total

    # Construction and files ---------------------------------------------------

    @classmethod
    def from_moments(cls, count, mean, m2, *, complex_mean=False):
        """Build statistics from a count, a mean and a sum of squared deviations.

        Parameters
        ----------
        count : int
            Number of spectra, at least 1.
        mean : array_like
            Mean spectrum; complex only with ``complex_mean=True``.
        m2 : array_like
            Sum over the spectra of ``|x - mean|**2``, same shape as ``mean``,
            non-negative.
        complex_mean : bool, optional
            Whether the statistics keep a complex mean. Default False.

        Returns
        -------
        stats : SpectrumStats
            Statistics that merge and update like any other.

        Raises
        ------
        ValueError
            For ``count < 1``, negative or non-finite ``m2``, non-finite
            ``mean``.
        ShapeError
            When ``mean`` and ``m2`` have different shapes or are 0-D.
        TypeError
            For complex ``mean`` without ``complex_mean=True``, complex ``m2``.

        Examples
        --------
        >>> from spectral import SpectrumStats
        >>> x = np.arange(12.0).reshape(3, 2, 2)
        >>> m2 = ((x - x.mean(axis=0)) ** 2).sum(axis=0)
        >>> stats = SpectrumStats.from_moments(3, x.mean(axis=0), m2)
        >>> bool(np.allclose(stats.var, x.var(axis=0)))
        True
        """
        count = check_positive_int(count, name="count", minimum=1)
        stats = cls(complex_mean=complex_mean)
        mean = stats._as_values(mean, name="mean")
        m2 = as_float_array(m2, name="m2", dtype=np.float64)
        if mean.ndim == 0 or mean.shape != m2.shape:
            raise ShapeError(
                f"mean and m2 must have the same shape with at least one axis; got "
                f"mean {mean.shape} and m2 {m2.shape}"
            )
        if np.any(m2 < 0):
            raise ValueError(
                f"m2 must be non-negative; got minimum {float(m2.min())!r}"
            )
        stats._shape = mean.shape
        stats._combine(count, mean, m2)
        return stats

    def save(self, path, *, overwrite=False):
        """Write the statistics to a NumPy ``.npz`` file.

        Parameters
        ----------
        path : str or os.PathLike
            Destination; ``.npz`` is appended when the name lacks it.
        overwrite : bool, optional
            When False (default) an existing file is never replaced.

        Returns
        -------
        path : pathlib.Path
            The file written.

        Raises
        ------
        FileExistsError
            When the file exists and ``overwrite`` is False.
        ValueError
            When no spectrum was added.

        Examples
        --------
        >>> import tempfile, os
        >>> from spectral import SpectrumStats
        >>> stats = SpectrumStats().update(np.ones((2, 3, 3)))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = stats.save(os.path.join(folder, "stats"))
        ...     back = SpectrumStats.load(path)
        >>> path.name, back.count
        ('stats.npz', 2)
        """
        self._require_data("save")
        path = Path(os.fspath(path))
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        mode = "wb" if overwrite else "xb"
        try:
            handle = open(path, mode)
        except FileExistsError:
            raise FileExistsError(
                f"{str(path)!r} already exists; pass overwrite=True to replace it"
            ) from None
        with handle:
            np.savez(
                handle,
                format=np.array(_FORMAT),
                version=np.array(_VERSION),
                count=np.array(self._count, dtype=np.int64),
                complex_mean=np.array(self._complex),
                mean=self._mean,
                m2=self._m2,
            )
        return path

    @classmethod
    def load(cls, path):
        """Read statistics written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        stats : SpectrumStats
            The statistics, ready to be updated or merged further.

        Raises
        ------
        FileNotFoundError
            When the file does not exist.
        ValueError
            When the file is not a statistics file written by :meth:`save`
            or its contents are inconsistent.
        """
        path = Path(os.fspath(path))
        try:
            with np.load(path, allow_pickle=False) as data:
                contents = {key: data[key] for key in data.files}
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise ValueError(
                f"{str(path)!r} is not a SpectrumStats file (npz): {exc}"
            ) from None
        if str(contents.get("format")) != _FORMAT:
            raise ValueError(
                f"{str(path)!r} is not a SpectrumStats file: the format tag "
                f"{_FORMAT!r} is missing"
            )
        if int(contents.get("version", -1)) != _VERSION:
            raise ValueError(
                f"{str(path)!r} has SpectrumStats file version "
                f"{contents.get('version')!r}; this version reads {_VERSION}"
            )
        missing = {"count", "complex_mean", "mean", "m2"} - set(contents)
        if missing:
            raise ValueError(f"{str(path)!r} lacks the fields {sorted(missing)}")
        try:
            return cls.from_moments(
                int(contents["count"]),
                contents["mean"],
                contents["m2"],
                complex_mean=bool(contents["complex_mean"]),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{str(path)!r} holds invalid statistics: {exc}") from None

    def __repr__(self):
        return (
            f"SpectrumStats(shape={self._shape!r}, count={self._count}, "
            f"complex_mean={self._complex!r})"
        )

    # Helpers -------------------------------------------------------------------

    def _mean_dtype(self):
        return np.complex128 if self._complex else np.float64

    def _require_data(self, what):
        if self._count == 0:
            raise ValueError(
                f"cannot compute {what} of empty SpectrumStats (count 0): call "
                "update() with at least one spectrum first"
            )

    def _as_values(self, values, *, name):
        """Validate real (or, when allowed, complex) finite values."""
        arr = np.asarray(values)
        if self._complex and arr.dtype.kind == "c":
            arr = np.ascontiguousarray(arr)
            check_finite(arr, name=name)
            return arr
        if arr.dtype.kind == "c":
            raise TypeError(
                f"{name} is complex (dtype {arr.dtype}); pass complex_mean=True to "
                "average complex spectra"
            )
        return as_float_array(arr, name=name)

    def _fix_shape(self, shape, *, given=None):
        if self._shape is None:
            self._shape = tuple(shape)
        elif tuple(shape) != self._shape:
            given = tuple(shape) if given is None else tuple(given)
            raise ShapeError(
                f"spectra of shape {given} do not match the accumulated "
                f"shape {self._shape}"
            )

    def _as_batch(self, spectra):
        arr = self._as_values(spectra, name="spectra")
        if self._shape is None:
            if arr.ndim not in (2, 3):
                raise ShapeError(
                    "spectra must have shape (H, W) or (N, H, W) when the "
                    f"SpectrumStats shape is not fixed; got shape {arr.shape}"
                )
            rank = 2
        else:
            rank = len(self._shape)
        if arr.ndim == rank:
            arr = arr[np.newaxis]
        elif arr.ndim != rank + 1:
            raise ShapeError(
                f"spectra of shape {arr.shape} do not match the accumulated shape "
                f"{self._shape}: expected {self._shape} or (N, *{self._shape})"
            )
        if arr.shape[0] == 0:
            raise ShapeError(
                f"spectra holds an empty batch: got shape {arr.shape}"
            )
        self._fix_shape(arr.shape[1:], given=np.shape(spectra))
        return arr


def _check_shape(shape):
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}") from None
    if len(shape) == 0 or any(s < 1 for s in shape):
        raise ValueError(
            f"shape must hold at least one axis, each of length >= 1; got {shape!r}"
        )
    return shape
