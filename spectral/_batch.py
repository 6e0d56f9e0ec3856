"""Features and mean spectra of many image files, computed in worker processes."""

import math
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import ImageReadError
from ._io import _arrange, _decode, _to_float, iter_images, read_image
from ._validate import check_choice, check_positive_int

__all__ = ["BatchResult", "MeanSpectrumResult", "extract_features", "mean_spectrum"]

#: Feature names accepted by :func:`extract_features`, each a public function of
#: the package, looked up when the batch runs.
FEATURES = (
    "power_spectrum",
    "dct_spectrum",
    "azimuthal_average",
    "radial_energy",
    "angular_energy",
    "decay_fit",
    "jpeg_grid_score",
    "residual",
)

_RESIDUALS = ("median", "laplacian", "npr")

# Same floor as spectral.power_spectrum, so that decibels agree.
_LOG_FLOOR = 1e-12

# Chunks handed to each worker: enough to balance the load and move the progress
# bar, few enough that the per-chunk overhead (pickled moments) stays small.
_CHUNKS_PER_WORKER = 8
_MAX_CHUNK = 256


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Features of a batch of image files.

    Attributes
    ----------
    features : ndarray or list of ndarray
        One feature per readable file, in input order: an array ``(N, ...)``
        when every feature has the same shape, else a list of ``N`` arrays. An
        empty array ``(0,)`` when no file could be read.
    paths : tuple of str
        The files behind ``features``, in input order.
    failed : tuple of (str, str)
        ``(path, reason)`` for each file that was skipped.
    """

    features: object
    paths: tuple
    failed: tuple

    def to_npz(self, path, *, overwrite=False):
        """Write the features, paths and failures to a NumPy ``.npz`` file.

        Parameters
        ----------
        path : str or os.PathLike
            Destination, written as given (no suffix is added).
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

        Notes
        -----
        Keys: ``features`` (stacked features) or ``features_00000``,
        ``features_00001``, ... (one per file when shapes differ); ``paths``;
        ``failed_paths`` and ``failed_reasons``. All are plain arrays, readable
        with ``np.load(path, allow_pickle=False)``.
        """
        path = Path(os.fspath(path))
        arrays = {"paths": np.array(self.paths, dtype=str)}
        if isinstance(self.features, list):
            for i, feature in enumerate(self.features):
                arrays[f"features_{i:05d}"] = feature
        else:
            arrays["features"] = self.features
        arrays["failed_paths"] = np.array([p for p, _ in self.failed], dtype=str)
        arrays["failed_reasons"] = np.array([r for _, r in self.failed], dtype=str)

        with _open_new(path, overwrite) as handle:
            np.savez(handle, **arrays)
        return path


@dataclass(frozen=True, eq=False)
class MeanSpectrumResult:
    """Mean spectrum of a batch of image files.

    Attributes
    ----------
    stats : SpectrumStats
        Count, mean, variance of the centred spectra (full plane).
    paths : tuple of str
        The files that were averaged, in input order.
    failed : tuple of (str, str)
        ``(path, reason)`` for each file that was skipped.
    """

    stats: object
    paths: tuple
    failed: tuple


def extract_features(inputs, feature, *, workers=None, progress=True, mode="gray",
                     size=None, **params):
    """Compute one feature per image file, in parallel processes.

    Parameters
    ----------
    inputs : str, os.PathLike or sequence of them
        A folder (its image files, see :func:`iter_images`) or a sequence of
        image files.
    feature : str or callable
        A name among ``"power_spectrum"``, ``"dct_spectrum"``,
        ``"azimuthal_average"``, ``"radial_energy"``, ``"angular_energy"``,
        ``"decay_fit"``, ``"jpeg_grid_score"``, ``"residual"`` (the function of
        this package), or any callable ``f(image, **params) -> array``; with
        several workers it must be picklable (a module-level function).
    workers : int, optional
        Processes to use; None (default) uses every core, 1 runs in this
        process.
    progress : bool, optional
        Show a progress bar on stderr (default True).
    mode : {"gray", "rgb", "keep"}, optional
        How images are read (see :func:`read_image`); default grey.
    size : (int, int), optional
        Centre-crop every image to ``(H, W)``; smaller images are skipped and
        reported in ``failed``.
    **params
        Keyword arguments passed to the feature.

    Returns
    -------
    result : BatchResult
        ``features`` (stacked ``(N, ...)`` when all shapes agree, else a list),
        ``paths`` and ``failed``.

    Raises
    ------
    ValueError
        For an empty folder or sequence, a folder without image files, an
        unknown feature name, ``mode`` or ``size``.
    FileNotFoundError, NotADirectoryError
        When a folder given as ``inputs`` does not exist or is a file.
    TypeError
        For a feature that is neither a name nor a callable, or that cannot be
        pickled while ``workers > 1``.

    Notes
    -----
    Files that cannot be read (see :func:`read_image`) or are smaller than
    ``size`` are skipped and listed in ``failed``; they never stop the batch.
    An exception raised by the feature itself is not a file problem: it stops
    the batch and propagates, with a note naming the file. When no file can be
    read, ``features`` is an empty array.

    Work is split into chunks sent to a pool of processes (``fork`` on Linux
    before Python 3.12, else ``forkserver`` or ``spawn``); each new worker pays
    the import of the package and of the feature's module.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> import spectral
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for i in range(3):
    ...         pixels = rng.integers(0, 256, (8, 8), dtype=np.uint8)
    ...         Image.fromarray(pixels).save(os.path.join(folder, f"{i}.png"))
    ...     open(os.path.join(folder, "broken.png"), "wb").close()
    ...     result = spectral.extract_features(
    ...         folder, np.mean, workers=1, progress=False)
    >>> result.features.shape, len(result.failed)
    ((3,), 1)
    """
    paths = _resolve_inputs(inputs)
    task_feature = _check_feature(feature)
    check_choice(mode, ("gray", "rgb", "keep"), name="mode")
    size = _check_size(size)
    workers = _check_workers(workers)
    if workers > 1:
        _check_picklable(task_feature, params)

    options = (task_feature, mode, size, params)
    chunks = _chunks(paths, workers)
    values = [None] * len(paths)
    failed = []
    for part in _run(_features_chunk, chunks, options, workers, progress,
                     len(paths), "features"):
        for index, value, reason in part:
            if reason is None:
                values[index] = value
            else:
                failed.append((index, reason))

    kept = [i for i, value in enumerate(values) if value is not None]
    features = _stack([values[i] for i in kept])
    return BatchResult(
        features=features,
        paths=tuple(paths[i] for i in kept),
        failed=tuple((paths[i], reason) for i, reason in sorted(failed)),
    )


def mean_spectrum(inputs, *, residual=None, log=True, complex_mean=False,
                  window=None, size=None, workers=None, progress=True):
    r"""Stream the mean and variance of the power spectra of many image files.

    Parameters
    ----------
    inputs : str, os.PathLike or sequence of them
        A folder (its image files, see :func:`iter_images`) or a sequence of
        image files.
    residual : {None, "median", "laplacian", "npr"}, optional
        Average the spectrum of the high-pass residual of each grey image
        (:func:`residual` with this method) instead of the image's own.
    log : bool, optional
        Average decibels ``10 * log10(P + 1e-12)`` (default True) or, when
        False, the linear power ``P``. Ignored with ``complex_mean=True``.
    complex_mean : bool, optional
        Average the complex Fourier transform itself instead of its power
        (default False): content whose phase changes from image to image
        cancels, periodic artifacts at a fixed phase remain.
    window : {None, "hann", "tukey"} or ("tukey", alpha), optional
        Taper applied before the transform, as in :func:`power_spectrum`.
    size : (int, int), optional
        Centre-crop every image to ``(H, W)``. By default every image must have
        the size of the first readable one.
    workers : int, optional
        Processes to use; None (default) uses every core, 1 runs in this
        process.
    progress : bool, optional
        Show a progress bar on stderr (default True).

    Returns
    -------
    result : MeanSpectrumResult
        ``stats`` (a :class:`SpectrumStats` of shape ``(H, W)``, centred with
        the zero frequency at ``(H // 2, W // 2)``; complex with
        ``complex_mean=True``), ``paths`` and ``failed``.

    Raises
    ------
    ValueError
        For an empty folder or sequence, a folder without image files, bad
        options, or when no file could be read.
    FileNotFoundError, NotADirectoryError
        When a folder given as ``inputs`` does not exist or is a file.

    See Also
    --------
    power_spectrum : the spectrum of one image, which this averages.
    SpectrumStats : the statistics returned.

    Notes
    -----
    For images :math:`x_n` (grey, BT.601, float32 in [0, 1]; optionally their
    residual and a window) with unnormalised DFT :math:`X_n`, the statistics
    are the mean and population variance over :math:`n` of
    :math:`10 \log_{10}(|X_n|^2 + 10^{-12})`, of :math:`|X_n|^2`, or with
    ``complex_mean=True`` of :math:`X_n` itself (variance
    :math:`\overline{|X_n - \bar X|^2}`); they equal the mean of
    ``power_spectrum(x_n)`` up to float32 round-off.

    Each worker decodes a file, writes its grey values straight into a reused
    float32 buffer, takes a real FFT (``scipy.fft.rfft2``, one thread), forms
    the power of the half plane, takes NumPy's in-place logarithm and adds the
    result to float64 running moments (Welford). Workers return their moments,
    merged with Chan's formula; the full plane is rebuilt once at the end from
    Hermitian symmetry and centred. The first call in a process compiles small
    Numba kernels (about a second); so does each new worker process unless it
    is forked from one that already did.

    Files that cannot be read, or whose size differs from the first readable
    image (or is smaller than ``size``), are skipped and listed in ``failed``.

    References
    ----------
    .. [1] S.-Y. Wang, O. Wang, R. Zhang, A. Owens, A. A. Efros, "CNN-generated
       images are surprisingly easy to spot... for now", CVPR 2020, Fig. 7.
       :doi:`10.1109/CVPR42600.2020.00872`

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> import spectral
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for i in range(4):
    ...         pixels = rng.integers(0, 256, (8, 6), dtype=np.uint8)
    ...         Image.fromarray(pixels).save(os.path.join(folder, f"{i}.png"))
    ...     result = spectral.mean_spectrum(folder, workers=1, progress=False)
    >>> result.stats.count, result.stats.mean.shape
    (4, (8, 6))
    """
    paths = _resolve_inputs(inputs)
    if residual is not None:
        check_choice(residual, _RESIDUALS, name="residual")
    size = _check_size(size)
    workers = _check_workers(workers)
    taper = _check_window(window)

    shape, start, failed = _reference_shape(paths, size)
    if shape is None:
        raise ValueError(
            f"no image of {_describe_inputs(inputs)} could be read: "
            f"{len(failed)} file(s) failed, e.g. {failed[0][0]!r}: {failed[0][1]}"
        )
    options = (shape, size is not None, residual, bool(log), bool(complex_mean),
               taper)
    todo = paths[start:]
    chunks = [[(start + i, path) for i, path in chunk]
              for chunk in _chunks(todo, workers)]

    if workers > 1 and _start_method() == "fork":
        # Compile once here; forked workers inherit the machine code.
        _warm_kernels()
    total = _Moments(shape[0], shape[1] // 2 + 1, bool(complex_mean))
    used = []
    failures = [(i, reason) for i, (_, reason) in enumerate(failed)]
    for part in _run(_spectrum_chunk, chunks, options, workers, progress,
                     len(todo), "spectra"):
        moments, done, bad = part
        total.merge(moments)
        used.extend(done)
        failures.extend(bad)

    stats = total.to_stats(shape[1])
    return MeanSpectrumResult(
        stats=stats,
        paths=tuple(paths[i] for i in sorted(used)),
        failed=tuple((paths[i], reason) for i, reason in sorted(failures)),
    )


# Inputs and options -------------------------------------------------------------


def _resolve_inputs(inputs):
    """Return the list of file paths (str) behind ``inputs``."""
    if isinstance(inputs, (str, os.PathLike)):
        paths = [str(p) for p in iter_images(inputs)]
        if not paths:
            raise ValueError(
                f"folder {os.fspath(inputs)!r} holds no image files "
                "(.png .jpg .jpeg .bmp .tif .tiff .webp)"
            )
        return paths
    try:
        items = list(inputs)
    except TypeError:
        raise TypeError(
            f"inputs must be a folder or a sequence of image files; got {inputs!r}"
        ) from None
    if not items:
        raise ValueError("inputs is an empty sequence; give at least one image file")
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(
                f"inputs must hold file paths (str or os.PathLike); got {item!r}"
            )
    return [os.fspath(item) for item in items]


def _describe_inputs(inputs):
    if isinstance(inputs, (str, os.PathLike)):
        return f"folder {os.fspath(inputs)!r}"
    return "the given files"


def _check_feature(feature):
    if isinstance(feature, str):
        return check_choice(feature, FEATURES, name="feature")
    if not callable(feature):
        raise TypeError(
            f"feature must be a feature name or a callable; got {feature!r}"
        )
    return feature


def _check_picklable(feature, params):
    try:
        pickle.dumps((feature, params))
    except Exception as exc:
        raise TypeError(
            f"feature {feature!r} and its parameters cannot be sent to worker "
            f"processes ({exc}); use a module-level function or workers=1"
        ) from None


def _check_size(size):
    if size is None:
        return None
    try:
        height, width = size
    except (TypeError, ValueError):
        raise ValueError(
            f"size must be a pair (height, width) of positive integers; got {size!r}"
        ) from None
    return (check_positive_int(height, name="size[0]"),
            check_positive_int(width, name="size[1]"))


def _check_workers(workers):
    if workers is None:
        return _cpu_count()
    return check_positive_int(workers, name="workers")


def _cpu_count():
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _check_window(window):
    if window is None:
        return None
    from ._fourier import _parse_window

    return _parse_window(window)


# Running chunks -----------------------------------------------------------------


def _chunks(paths, workers):
    """Split ``paths`` into chunks of ``(index, path)``."""
    indexed = list(enumerate(paths))
    if workers == 1:
        size = min(_MAX_CHUNK, max(1, len(indexed)))
    else:
        size = math.ceil(len(indexed) / (workers * _CHUNKS_PER_WORKER))
        size = min(_MAX_CHUNK, max(1, size))
    return [indexed[i:i + size] for i in range(0, len(indexed), size)]


def _start_method():
    """``fork`` where it is safe and cheap, else ``forkserver`` or ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and sys.version_info < (3, 12):
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _run(task, chunks, options, workers, progress, total, label):
    """Yield ``task(chunk, options)`` for every chunk, in completion order."""
    from tqdm import tqdm

    bar = tqdm(total=total, disable=not progress, file=sys.stderr, unit="img",
               desc=label, leave=False)
    with bar:
        if workers == 1 or len(chunks) == 1:
            for chunk in chunks:
                yield task(chunk, options)
                bar.update(len(chunk))
            return
        context = multiprocessing.get_context(_start_method())
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)),
                                 mp_context=context) as pool:
            futures = {pool.submit(task, chunk, options): len(chunk)
                       for chunk in chunks}
            try:
                for future in as_completed(futures):
                    yield future.result()
                    bar.update(futures[future])
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise


# Features -------------------------------------------------------------------------


def _features_chunk(chunk, options):
    """Worker: ``[(index, feature or None, reason or None), ...]``."""
    feature, mode, size, params = options
    if isinstance(feature, str):
        import spectral

        feature = getattr(spectral, feature)
    out = []
    for index, path in chunk:
        try:
            image = read_image(path, mode=mode)
        except ImageReadError as exc:
            out.append((index, None, exc.reason))
            continue
        image, reason = _crop(image, size)
        if reason is not None:
            out.append((index, None, reason))
            continue
        try:
            value = np.asarray(feature(image, **params))
        except Exception as exc:
            if hasattr(exc, "add_note"):
                exc.add_note(f"while computing the feature of {path!r}")
            raise
        out.append((index, value, None))
    return out


def _crop(image, size):
    """Centre-crop the first two axes to ``size``: ``(image, None)`` or a reason."""
    if size is None:
        return image, None
    height, width = image.shape[:2]
    want_h, want_w = size
    if height < want_h or width < want_w:
        return None, (
            f"image is {height}x{width} pixels, smaller than size {want_h}x{want_w}"
        )
    top = (height - want_h) // 2
    left = (width - want_w) // 2
    return image[top:top + want_h, left:left + want_w], None


def _stack(values):
    if not values:
        return np.empty((0,))
    shapes = {value.shape for value in values}
    if len(shapes) == 1:
        return np.stack(values)
    return values


# Mean spectrum -------------------------------------------------------------------


class _Moments:
    """Running count, mean and m2 of half-plane spectra (Chan's merge)."""

    def __init__(self, height, half, complex_mean):
        dtype = np.complex128 if complex_mean else np.float64
        self.count = 0
        self.mean = np.zeros((height, half), dtype=dtype)
        self.m2 = np.zeros((height, half), dtype=np.float64)
        self.complex_mean = complex_mean

    def merge(self, other):
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = other.count, other.mean, other.m2
            return
        total = self.count + other.count
        delta = other.mean - self.mean
        weight = other.count / total
        delta_sq = (delta.real**2 + delta.imag**2) if self.complex_mean else delta**2
        self.mean = self.mean + delta * weight
        self.m2 = self.m2 + other.m2 + delta_sq * (self.count * weight)
        self.count = total

    def to_stats(self, width):
        from ._stats import SpectrumStats

        mean = _full_plane(self.mean, width, conjugate=self.complex_mean)
        m2 = _full_plane(self.m2, width, conjugate=False)
        return SpectrumStats.from_moments(self.count, mean, m2,
                                          complex_mean=self.complex_mean)


def _full_plane(half, width, *, conjugate):
    """Rebuild the centred full plane ``(H, W)`` from a real FFT's half plane."""
    height, n_half = half.shape
    full = np.empty((height, width), dtype=half.dtype)
    full[:, :n_half] = half
    if width > n_half:
        # X[k, l] = conj(X[-k mod H, W - l]) for the columns the rfft omits.
        rows = (-np.arange(height)) % height
        cols = width - np.arange(n_half, width)
        mirrored = half[rows][:, cols]
        full[:, n_half:] = np.conj(mirrored) if conjugate else mirrored
    return np.fft.fftshift(full)


def _reference_shape(paths, size):
    """Shape every image must have, the index to start from, and early failures.

    With ``size`` it is the answer; otherwise the size of the first file that
    can be read (the files before it are reported as failed).
    """
    if size is not None:
        return size, 0, []
    failed = []
    for index, path in enumerate(paths):
        try:
            pixels, _ = _decode(path)
        except ImageReadError as exc:
            failed.append((path, exc.reason))
            continue
        return pixels.shape[:2], index, failed
    return None, len(paths), failed


_BUFFERS = {}


def _buffers(shape):
    """Per-process float32 buffers reused across images of one shape."""
    buffers = _BUFFERS.get(shape)
    if buffers is None:
        height, width = shape
        buffers = (np.empty((height, width), dtype=np.float32),
                   np.empty((height, width // 2 + 1), dtype=np.float32))
        _BUFFERS.clear()
        _BUFFERS[shape] = buffers
    return buffers


def _gray_into(pixels, scale, out):
    """Write the grey [0, 1] values of decoded pixels into ``out``."""
    from ._kernels.batch import gray_from_rgb_u8

    if pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] >= 3:
        gray_from_rgb_u8(pixels, out)
    elif pixels.dtype == np.uint8 and pixels.ndim == 2:
        np.divide(pixels, np.float32(255.0), out=out)
    else:
        out[...] = _arrange(_to_float(pixels, scale), "gray")


def _spectrum_chunk(chunk, options):
    """Worker: moments of the half-plane spectra of a chunk, and its bookkeeping."""
    import scipy.fft

    from ._kernels.batch import power_half, welford_complex, welford_real

    shape, crop, residual, log, complex_mean, taper = options
    height, width = shape
    gray, power = _buffers(shape)
    moments = _Moments(height, width // 2 + 1, complex_mean)
    window = None
    if taper is not None:
        from ._fourier import _window_2d

        window = _window_2d(taper, height, width, np.float32)
    residual_fn = None
    if residual is not None:
        import spectral

        residual_fn = spectral.residual

    done, bad = [], []
    for index, path in chunk:
        try:
            pixels, scale = _decode(path)
        except ImageReadError as exc:
            bad.append((index, exc.reason))
            continue
        if crop:
            pixels, reason = _crop(pixels, shape)
            if reason is not None:
                bad.append((index, reason))
                continue
        elif pixels.shape[:2] != shape:
            got = "x".join(str(n) for n in pixels.shape[:2])
            bad.append((index, f"image is {got} pixels; the batch is "
                               f"{height}x{width} (pass size= to crop)"))
            continue

        _gray_into(np.ascontiguousarray(pixels), scale, gray)
        image = gray
        if residual_fn is not None:
            image = np.asarray(residual_fn(gray, method=residual), dtype=np.float32)
        if window is not None:
            image = np.multiply(image, window, out=gray if image is gray else image)
        spectrum = scipy.fft.rfft2(image, workers=1)

        moments.count += 1
        if complex_mean:
            welford_complex(moments.mean, moments.m2, spectrum, moments.count)
        elif log:
            power_half(spectrum, power, np.float32(_LOG_FLOOR))
            np.log10(power, out=power)
            welford_real(moments.mean, moments.m2, power, moments.count, 10.0)
        else:
            power_half(spectrum, power, np.float32(0.0))
            welford_real(moments.mean, moments.m2, power, moments.count, 1.0)
        done.append(index)
    return moments, done, bad


def _warm_kernels():
    """Compile the mean-spectrum kernels for the types they will see."""
    from ._kernels.batch import (
        gray_from_rgb_u8,
        power_half,
        welford_complex,
        welford_real,
    )

    gray_from_rgb_u8(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.float32))
    spectrum = np.zeros((2, 2), np.complex64)
    power = np.zeros((2, 2), np.float32)
    power_half(spectrum, power, np.float32(0.0))
    welford_real(np.zeros((2, 2)), np.zeros((2, 2)), power, 1, 1.0)
    welford_complex(np.zeros((2, 2), np.complex128), np.zeros((2, 2)), spectrum, 1)


# Files -----------------------------------------------------------------------------


def _open_new(path, overwrite):
    """Open ``path`` for binary writing, refusing to replace it unless asked."""
    try:
        return open(path, "wb" if overwrite else "xb")
    except FileExistsError:
        raise FileExistsError(
            f"{str(path)!r} already exists; pass overwrite=True to replace it"
        ) from None
