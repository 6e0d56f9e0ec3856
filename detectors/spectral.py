"""Scikit-learn detectors on spectral features.

Each detector of the literature is a feature transformer followed by a classifier:

==================  ==================  ==========================================
detector            features            classifier
==================  ==================  ==========================================
``DurallDetector``  ``DurallFeatures``  logistic regression (liblinear), linear SVM
``FrankDetector``   ``DCTFeatures``     standardised, L2 logistic regression
``DzanicDetector``  ``DecayFeatures``   standardised, 5 nearest neighbours
``PeakDetector``    ``PeakFeatures``    standardised, logistic regression
==================  ==================  ==========================================

The transformers are usable on their own in a :class:`sklearn.pipeline.Pipeline`.

Input images
------------
``X`` is one of

- an array ``(N, H, W)`` of grey images or ``(N, H, W, C)`` of colour images
  (channels last, ``C`` in 1, 3, 4; alpha is dropped);
- a sequence of arrays ``(H, W)`` or ``(H, W, C)``, sizes may differ (except where
  a transformer needs one size);
- a sequence of file paths, read with :func:`spectral.read_image`.

Unsigned integer arrays are scaled to [0, 1] by their type's maximum (as
:func:`spectral.read_image` does for files), so arrays and files of the same
pictures give the same features; float arrays are used as given and should hold
values in [0, 1]; signed integers and booleans are converted without scaling.
Colour images are converted to grey with ITU-R BT.601 weights where a feature is
defined on luminance. Labels follow the project's convention: real = 0, fake = 1.
"""

import os

import numpy as np
from scipy.interpolate import make_interp_spline
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

import spectral
from spectral._errors import ImageReadError, ShapeError
from spectral._validate import (
    as_float_array,
    check_choice,
    check_finite,
    check_positive_int,
)

__all__ = [
    "DCTFeatures",
    "DecayFeatures",
    "DurallDetector",
    "DurallFeatures",
    "DzanicDetector",
    "FrankDetector",
    "PeakDetector",
    "PeakFeatures",
]

# Images converted and featurised at once; bounds the memory of path inputs.
_CHUNK = 256

# Probabilities are clipped here before taking log-odds, so a classifier that
# outputs exact 0 or 1 (k nearest neighbours) still gives finite scores.
_PROBA_EPS = 1e-6


# ---------------------------------------------------------------------------
# Input handling


def _is_path(item):
    return isinstance(item, (str, os.PathLike))


def _as_items(X, *, name="X"):
    """Check the container of images and return an indexable sequence of items."""
    if _is_path(X):
        raise TypeError(
            f"{name} must be a sequence of images or of image paths, got the single "
            f"path {X!r}; wrap it in a list"
        )
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        if X.ndim == 3 and X.shape[-1] in (3, 4):
            raise ShapeError(
                f"{name} has shape {X.shape}, which reads as {X.shape[0]} grey images "
                f"{X.shape[-1]} pixels wide; a single colour image needs {name}[None] "
                "and a batch of colour images has shape (N, H, W, 3)"
            )
        if X.ndim == 4 and X.shape[-1] not in (1, 3, 4):
            raise ShapeError(
                f"{name} has shape {X.shape}: a batch of colour images must be "
                "(N, H, W, C) with the channels last and C in 1, 3, 4"
            )
        if X.ndim not in (3, 4):
            raise ShapeError(
                f"{name} must be a batch of images of shape (N, H, W) or "
                f"(N, H, W, C), or a sequence of images or paths; got an array of "
                f"shape {X.shape} (one image needs {name}[None])"
            )
        items = X
    elif isinstance(X, np.ndarray) and X.dtype.kind not in "OUS":
        raise TypeError(
            f"{name} must hold real numbers, image arrays or paths; got an array of "
            f"dtype {X.dtype}"
        )
    else:
        try:
            items = list(X)
        except TypeError:
            raise TypeError(
                f"{name} must be an array of images or a sequence of images or "
                f"paths; got {type(X).__name__}"
            ) from None
    if len(items) == 0:
        raise ValueError(f"{name} holds no images; pass at least one image")
    return items


def _scale(arr, *, name):
    """Bring an image array to float, unsigned integers scaled to [0, 1]."""
    if arr.dtype.kind == "u":
        return arr / float(np.iinfo(arr.dtype).max)
    return as_float_array(arr, name=name)


def _load_one(item, index, *, mode, name):
    """Return image ``index`` as float ``(H, W)`` (grey) or ``(H, W, 3)`` (rgb)."""
    label = f"{name}[{index}]"
    if _is_path(item):
        arr = np.asarray(spectral.read_image(item, mode=mode))
    else:
        arr = np.asarray(item)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"{label} must be a real-valued image array or a path; got "
                f"{type(item).__name__} of dtype {arr.dtype}"
            )
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4)):
            raise ShapeError(
                f"{label} has shape {arr.shape}; an image must be (H, W) or "
                "(H, W, C) with C in 1, 3, 4 (channels last)"
            )
        arr = _scale(arr, name=label)
    if mode == "gray":
        if arr.ndim == 3:
            arr = spectral.to_gray(arr, channel_axis=-1)
    else:
        if arr.ndim == 2 or arr.shape[-1] == 1:
            raise ShapeError(
                f"mode='rgb' needs colour images (H, W, 3); {label} has shape "
                f"{arr.shape} (use mode='gray' for grey images)"
            )
        arr = arr[..., :3]
    check_finite(arr, name=label)
    return np.ascontiguousarray(arr)


def _featurise(X, compute, *, mode, name="X", expected_shape=None, workers=None):
    """Features of every image of ``X`` as a float64 array ``(N, F)``.

    Images are loaded in chunks; inside a chunk, images of one size are stacked
    and passed together to ``compute(stack) -> (n, F)``. With ``expected_shape``
    every image must have that shape; the value ``"first"`` takes the first
    image's shape. With ``workers > 1`` and only paths in ``X``, the files are read
    and featurised by :func:`spectral.extract_features` in worker processes.
    Returns the features and the shape of the first image.
    """
    items = _as_items(X, name=name)
    if workers is not None and workers > 1 and all(_is_path(i) for i in items):
        return _featurise_files(items, compute, mode=mode, name=name,
                                expected_shape=expected_shape, workers=workers)
    n_images = len(items)
    out = None
    first_shape = None
    for start in range(0, n_images, _CHUNK):
        stop = min(n_images, start + _CHUNK)
        images = [
            _load_one(items[i], i, mode=mode, name=name) for i in range(start, stop)
        ]
        if first_shape is None:
            first_shape = images[0].shape
            if isinstance(expected_shape, str):
                expected_shape = first_shape
        groups = {}
        for offset, image in enumerate(images):
            _check_shape(image.shape, expected_shape, f"{name}[{start + offset}]")
            groups.setdefault((image.shape, image.dtype), []).append(offset)
        for offsets in groups.values():
            stack = np.stack([images[k] for k in offsets])
            feats = np.asarray(compute(stack), dtype=np.float64)
            feats = feats.reshape(len(offsets), -1)
            if out is None:
                out = np.empty((n_images, feats.shape[1]))
            elif feats.shape[1] != out.shape[1]:
                raise ShapeError(
                    f"images of shape {stack.shape[1:]} give {feats.shape[1]} "
                    f"features but earlier ones gave {out.shape[1]}"
                )
            out[[start + k for k in offsets]] = feats
    return _check_features(out, name=name), first_shape


def _check_shape(shape, expected, label):
    if expected is not None and tuple(shape) != tuple(expected):
        raise ShapeError(
            f"{label} has shape {tuple(shape)} but these features need every image "
            f"at {tuple(expected)}; crop the images to one size first (e.g. a "
            "centre crop)"
        )


def _check_features(out, *, name):
    bad = np.flatnonzero(~np.all(np.isfinite(out), axis=1))
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:10])
        raise ValueError(
            f"the features of {bad.size} image(s) of {name} are not finite (images "
            f"{shown}{', ...' if bad.size > 10 else ''}); constant or degenerate "
            "images have no usable spectrum"
        )
    return out


def _no_features(stack):
    """A feature of no columns, to read image shapes through _featurise."""
    return np.empty((len(stack), 0))


def _file_features(image, *, compute, expected_shape):
    """Worker side of :func:`_featurise_files`: the features of one read image."""
    _check_shape(image.shape, expected_shape, "the image")
    return np.asarray(compute(image[None]), dtype=np.float64).reshape(-1)


def _featurise_files(items, compute, *, mode, name, expected_shape, workers):
    paths = [os.fspath(item) for item in items]
    first_shape = _load_one(paths[0], 0, mode=mode, name=name).shape
    if isinstance(expected_shape, str):
        expected_shape = first_shape
    result = spectral.extract_features(
        paths, _file_features, workers=workers, progress=False, mode=mode,
        compute=compute, expected_shape=expected_shape,
    )
    if result.failed:
        path, reason = result.failed[0]
        raise ImageReadError(
            path, f"{reason} ({len(result.failed)} of {len(paths)} files of {name} "
            "could not be read)"
        )
    if isinstance(result.features, list):
        raise ShapeError(
            f"the images of {name} give feature vectors of different lengths"
        )
    return _check_features(result.features, name=name), first_shape


def _input_tags(tags):
    """Declare image input (arrays of 3 or 4 dimensions, or paths)."""
    tags.input_tags.two_d_array = False
    tags.input_tags.three_d_array = True
    tags.input_tags.string = True
    return tags


# ---------------------------------------------------------------------------
# Feature transformers


class _SpectralFeatures(TransformerMixin, BaseEstimator):
    """Shared plumbing: parameter checks, fixed-size bookkeeping, transform."""

    _name = "features"

    def _mode(self):
        return "gray"

    def _needs_fixed_size(self):
        return False

    def _check_params(self):
        """Validate the constructor arguments; raise on a bad value."""

    def _workers(self):
        if self.workers is None:
            return None
        return check_positive_int(self.workers, name="workers")

    def _compute(self, stack):
        raise NotImplementedError

    def _n_features(self):
        raise NotImplementedError

    def _finish_fit(self, shape):
        self.image_shape_ = None if shape is None else tuple(shape)
        self.n_features_out_ = self._n_features()

    def fit(self, X, y=None):
        """Check the parameters and, where needed, record the image size.

        Parameters
        ----------
        X : array or sequence of images or paths
            Training images (see the module documentation for the forms).
        y : ignored
            Present for the scikit-learn API.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._check_params()
        shape = None
        if self._needs_fixed_size():
            _, shape = _featurise(X, _no_features, mode=self._mode(),
                                  expected_shape="first", workers=self._workers())
        else:
            _as_items(X)
        self._finish_fit(shape)
        return self

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and return its features, reading every image once.

        Parameters
        ----------
        X : array or sequence of images or paths
            Training images.
        y : ignored
            Present for the scikit-learn API.

        Returns
        -------
        features : ndarray of float64, shape (N, n_features_out_)
            One row per image.
        """
        self._check_params()
        expected = "first" if self._needs_fixed_size() else None
        feats, shape = _featurise(X, self._compute, mode=self._mode(),
                                  expected_shape=expected, workers=self._workers())
        self._finish_fit(shape if self._needs_fixed_size() else None)
        return feats

    def transform(self, X):
        """Compute the features of ``X``.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images (see the module documentation for the forms).

        Returns
        -------
        features : ndarray of float64, shape (N, n_features_out_)
            One row per image.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ShapeError
            When an image's size differs from the fitted one (fixed-size features).
        """
        check_is_fitted(self, "n_features_out_")
        feats, _ = _featurise(X, self._compute, mode=self._mode(),
                              expected_shape=self.image_shape_,
                              workers=self._workers())
        return feats

    def get_feature_names_out(self, input_features=None):
        """Return the names of the output features.

        Parameters
        ----------
        input_features : ignored
            Present for the scikit-learn API (the inputs are images).

        Returns
        -------
        names : ndarray of str, shape (n_features_out_,)
            One name per feature column.
        """
        check_is_fitted(self, "n_features_out_")
        return np.asarray(self._feature_names(), dtype=object)

    def _feature_names(self):
        return [f"{self._name}{i}" for i in range(self.n_features_out_)]

    def __sklearn_tags__(self):
        tags = _input_tags(super().__sklearn_tags__())
        tags.requires_fit = True
        return tags


def _resample_cubic(profiles, n_points):
    """Resample rows ``(n, R)`` to ``n_points`` by a cubic interpolating spline.

    The abscissae follow Durall et al.'s notebooks: the ``R`` input values sit at
    ``linspace(0, n_points, R)`` and are read at ``linspace(0, n_points,
    n_points)``; the not-a-knot cubic spline is what ``scipy.interpolate.griddata``
    (``method="cubic"``) fits in one dimension.
    """
    length = profiles.shape[1]
    x = np.linspace(0.0, n_points, length)
    xi = np.linspace(0.0, n_points, n_points)
    spline = make_interp_spline(x, profiles, k=3, axis=1)
    return spline(xi)


class DurallFeatures(_SpectralFeatures):
    """Durall et al.'s 1-D azimuthal spectrum of each image.

    The grey image's log-magnitude spectrum ``20 ln(|F| + 1e-8)`` is averaged over
    integer radii (:func:`spectral.azimuthal_average` with ``mode="durall"``:
    half-pixel centre, DC and the last partial ring dropped), resampled to
    ``n_bins`` points by cubic interpolation and normalised.

    Parameters
    ----------
    n_bins : int or None, optional
        Length of the resampled profile (default 80, Durall's CelebA setting).
        ``None`` keeps the raw profile (Faces-HQ setting); then every image must
        have one size, since the profile length depends on it.
    normalize : {"first", "minmax", None}, optional
        ``"first"`` (default) divides each profile by its first element (CelebA
        and FaceForensics++ notebooks); ``"minmax"`` maps it to [0, 1] (the
        CVPR 2020 spectral loss); ``None`` keeps raw ``20 ln |F|`` values.
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    n_features_out_ : int
        Number of output features.
    image_shape_ : tuple or None
        The common image size when ``n_bins`` is ``None``, else ``None``.

    See Also
    --------
    DurallDetector : these features with Durall's classifiers.
    spectral.azimuthal_average : the profile itself.

    Notes
    -----
    The profile of a ``64 x 64`` image has 43 values, of ``128 x 128`` 88, of
    ``256 x 256`` 179: with the default 80 bins small images are interpolated up,
    large ones down. Cubic resampling needs at least 4 profile values (images of
    at least about 8 x 8 pixels). The ``"first"`` normalisation divides by the
    lowest non-DC frequency, so it is not invariant to the image's intensity scale
    (``20 ln |F|`` shifts by a constant under scaling); feed images scaled the same
    way at training and test time.

    References
    ----------
    .. [1] R. Durall, M. Keuper, F.-J. Pfreundt, J. Keuper, "Unmasking DeepFakes
       with simple Features", arXiv:1911.00686, 2019.
    .. [2] R. Durall, M. Keuper, J. Keuper, "Watch your Up-Convolution: CNN Based
       Generative Deep Neural Networks are Failing to Reproduce Spectral
       Distributions", CVPR 2020. :doi:`10.1109/CVPR42600.2020.00791`

    Examples
    --------
    >>> from detectors.spectral import DurallFeatures
    >>> images = np.random.default_rng(0).random((5, 32, 32))
    >>> features = DurallFeatures(n_bins=16).fit_transform(images)
    >>> features.shape
    (5, 16)
    >>> bool(np.allclose(features[:, 0], 1.0))
    True
    """

    _name = "profile"

    def __init__(self, *, n_bins=80, normalize="first", workers=None):
        self.n_bins = n_bins
        self.normalize = normalize
        self.workers = workers

    def _check_params(self):
        if self.n_bins is not None:
            check_positive_int(self.n_bins, name="n_bins", minimum=4)
        check_choice(self.normalize, ("first", "minmax", None), name="normalize")

    def _needs_fixed_size(self):
        return self.n_bins is None

    def _n_features(self):
        if self.n_bins is not None:
            return int(self.n_bins)
        probe = np.zeros((1, *self.image_shape_))
        return spectral.azimuthal_average(probe, mode="durall").shape[-1]

    def _compute(self, stack):
        profiles = np.asarray(spectral.azimuthal_average(stack, mode="durall"))
        profiles = profiles.reshape(len(stack), -1).astype(np.float64)
        if self.n_bins is not None:
            if profiles.shape[1] < 4:
                raise ShapeError(
                    f"images of shape {stack.shape[1:]} give a profile of "
                    f"{profiles.shape[1]} values; cubic resampling needs at least 4 "
                    "(use images of at least 8 x 8 pixels)"
                )
            profiles = _resample_cubic(profiles, self.n_bins)
        if self.normalize == "first":
            with np.errstate(divide="ignore", invalid="ignore"):
                profiles = profiles / profiles[:, :1]
        elif self.normalize == "minmax":
            low = profiles.min(axis=1, keepdims=True)
            span = profiles.max(axis=1, keepdims=True) - low
            # A flat profile (constant image) would stretch rounding noise to
            # [0, 1]: mark it as degenerate instead.
            flat = span <= 1e-6 * np.abs(profiles).max(axis=1, keepdims=True)
            span = np.where(flat, np.nan, span)
            with np.errstate(divide="ignore", invalid="ignore"):
                profiles = (profiles - low) / span
        return profiles

    def _describe(self):
        size = "raw length" if self.n_bins is None else f"{self.n_bins} points (cubic)"
        return (
            "Durall azimuthal profile of 20 ln|F| (grey, integer radii, DC dropped), "
            f"{size}, normalize={self.normalize!r}"
        )


class DCTFeatures(_SpectralFeatures):
    """Frank et al.'s full-image log-DCT coefficients, flattened.

    Each image (grey, or each RGB channel) goes through the orthonormal 2-D DCT-II
    of the whole image and ``ln(|c| + 1e-12)`` (:func:`spectral.dct_spectrum`);
    the coefficients are flattened, channel first. Standardise them per
    coefficient afterwards (``StandardScaler``), as :class:`FrankDetector` does.

    Parameters
    ----------
    mode : {"gray", "rgb"}, optional
        ``"gray"`` (default) transforms the BT.601 luminance; ``"rgb"`` each colour
        channel (Frank et al.'s setting; colour input required).
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    image_shape_ : tuple
        The image size seen in ``fit`` (``(H, W)`` or ``(H, W, 3)``); every image
        passed to ``transform`` must have it.
    n_features_out_ : int
        ``H * W`` (grey) or ``3 * H * W`` (rgb).

    Raises
    ------
    ShapeError
        In ``fit`` when the images differ in size, in ``transform`` when an image
        differs from the fitted size. Crop images to one size first.

    See Also
    --------
    FrankDetector : these features with a standardised L2 logistic model.
    spectral.dct_spectrum : the log-DCT itself.

    Notes
    -----
    The features grow with the image: ``3 * 128 * 128 = 49152`` per image at
    Frank et al.'s size, held in float64 for the whole data set.

    References
    ----------
    .. [1] J. Frank, T. Eisenhofer, L. Schoenherr, A. Fischer, D. Kolossa, T. Holz,
       "Leveraging Frequency Analysis for Deep Fake Image Recognition", ICML 2020.

    Examples
    --------
    >>> from detectors.spectral import DCTFeatures
    >>> images = np.random.default_rng(0).random((4, 8, 6, 3))
    >>> dct = DCTFeatures(mode="rgb").fit(images)
    >>> dct.transform(images).shape
    (4, 144)
    >>> dct.image_shape_
    (8, 6, 3)
    """

    _name = "dct"

    def __init__(self, *, mode="gray", workers=None):
        self.mode = mode
        self.workers = workers

    def _mode(self):
        return self.mode

    def _check_params(self):
        check_choice(self.mode, ("gray", "rgb"), name="mode")

    def _needs_fixed_size(self):
        return True

    def _n_features(self):
        return int(np.prod(self.image_shape_))

    def _compute(self, stack):
        channel_axis = -1 if self.mode == "rgb" else None
        spectra = spectral.dct_spectrum(stack, log=True, channel_axis=channel_axis)
        return np.asarray(spectra)

    def _feature_names(self):
        height, width = self.image_shape_[:2]
        rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
        cells = [f"{r}_{c}" for r, c in zip(rows.ravel(), cols.ravel(), strict=True)]
        if self.mode == "gray":
            return [f"dct_{cell}" for cell in cells]
        return [f"dct_{ch}_{cell}" for ch in "rgb" for cell in cells]

    def _describe(self):
        return (
            f"Frank log-DCT: ln(|DCT-II ortho| + 1e-12) of the whole {self.mode} image "
            f"{self.image_shape_}, flattened (channel, row, column)"
        )


class DecayFeatures(_SpectralFeatures):
    """Dzanic et al.'s high-frequency decay features ``[b, y_i, y_f]``.

    A power law ``y = y_i (x / x_1)^b`` is fitted to the high-frequency tail of the
    binned radial magnitude spectrum of the grey image
    (:func:`spectral.decay_fit`): ``b`` is the decay exponent, ``y_i`` and ``y_f``
    the smoothed magnitudes at the start and end of the fitted band.

    Parameters
    ----------
    mode : {"dzanic", "corrected"}, optional
        ``"dzanic"`` (default) reproduces the published feature (fit over 0.85-1.0
        of the corner radius, i.e. the diagonal frequencies only); ``"corrected"``
        uses :func:`spectral.decay_fit`'s corrected variant.
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    n_features_out_ : int
        3.

    See Also
    --------
    DzanicDetector : these features with standardisation and 5 nearest neighbours.

    Notes
    -----
    ``y_i`` and ``y_f`` are absolute magnitudes: they grow with image size and
    contrast, so train and test on images of one size and scaling.

    References
    ----------
    .. [1] T. Dzanic, K. Shah, F. Witherden, "Fourier spectrum discrepancies in deep
       network generated images", NeurIPS 2020.

    Examples
    --------
    >>> from detectors.spectral import DecayFeatures
    >>> images = np.random.default_rng(0).random((3, 64, 64))
    >>> DecayFeatures().fit_transform(images).shape
    (3, 3)
    """

    def __init__(self, *, mode="dzanic", workers=None):
        self.mode = mode
        self.workers = workers

    def _check_params(self):
        check_choice(self.mode, ("dzanic", "corrected"), name="mode")

    def _n_features(self):
        return 3

    def _compute(self, stack):
        return np.asarray(spectral.decay_fit(stack, mode=self.mode))

    def _feature_names(self):
        return ["b", "y_i", "y_f"]

    def _describe(self):
        return (
            "Dzanic decay fit [b, y_i, y_f] of the grey magnitude spectrum, "
            f"mode={self.mode!r}"
        )


class PeakFeatures(_SpectralFeatures):
    """Upsampling-peak scores of the residual spectrum, plus a JPEG-grid score.

    For each grey image: the high-pass residual (:func:`spectral.residual`, the
    image minus its ``size x size`` median), its centred power spectrum
    (:func:`spectral.power_spectrum`), the peak scores at the frequencies where an
    upsampling by each factor puts its replicas (:func:`spectral.upsampling_peaks`)
    and :func:`spectral.jpeg_grid_score` of the image, so that a classifier can
    tell JPEG blocking (period 8) from upsampling by 8.

    Parameters
    ----------
    factors : sequence of int, optional
        Upsampling factors scored, default ``(2, 4, 8)``.
    size : int, optional
        Median filter size of the residual, default 5 (Wang et al.'s high-pass).
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    n_features_out_ : int
        ``len(factors) + 1``.

    See Also
    --------
    PeakDetector : these features with standardisation and logistic regression.

    Notes
    -----
    The peak scores are in decibels above the local background (about 0 without a
    peak). :func:`spectral.upsampling_peaks` needs images of at least
    ``2 * max(factors)`` pixels on a side, and :func:`spectral.jpeg_grid_score`
    at least 16 x 16.

    References
    ----------
    .. [1] A. Odena, V. Dumoulin, C. Olah, "Deconvolution and Checkerboard
       Artifacts", Distill, 2016. :doi:`10.23915/distill.00003`
    .. [2] S.-Y. Wang, O. Wang, R. Zhang, A. Owens, A. A. Efros, "CNN-generated
       images are surprisingly easy to spot... for now", CVPR 2020.
       :doi:`10.1109/CVPR42600.2020.00872`

    Examples
    --------
    >>> from detectors.spectral import PeakFeatures
    >>> images = np.random.default_rng(0).random((3, 32, 32))
    >>> peaks = PeakFeatures().fit(images)
    >>> peaks.transform(images).shape
    (3, 4)
    >>> list(peaks.get_feature_names_out())
    ['peak_x2', 'peak_x4', 'peak_x8', 'jpeg_grid']
    """

    def __init__(self, *, factors=(2, 4, 8), size=5, workers=None):
        self.factors = factors
        self.size = size
        self.workers = workers

    def _factors(self):
        try:
            factors = tuple(self.factors)
        except TypeError:
            raise TypeError(
                f"factors must be a sequence of integers >= 2, got {self.factors!r}"
            ) from None
        if not factors:
            raise ValueError(f"factors must hold at least one factor, got {factors!r}")
        return tuple(check_positive_int(f, name="factors", minimum=2) for f in factors)

    def _check_params(self):
        self._factors()
        check_positive_int(self.size, name="size")

    def _n_features(self):
        return len(self._factors()) + 1

    def _compute(self, stack):
        factors = self._factors()
        resid = spectral.residual(stack, method="median", size=self.size)
        power = spectral.power_spectrum(resid, log=False, shift=True)
        out = np.empty((len(stack), len(factors) + 1))
        for i, plane in enumerate(power):
            scores = spectral.upsampling_peaks(plane, factors=factors)
            out[i, :-1] = [scores[f] for f in factors]
        out[:, -1] = spectral.jpeg_grid_score(stack)
        return out

    def _feature_names(self):
        return [f"peak_x{f}" for f in self._factors()] + ["jpeg_grid"]

    def _describe(self):
        return (
            f"upsampling-peak scores (dB) at factors {self._factors()} of the "
            f"median-{self.size} residual power spectrum, and the JPEG-grid score"
        )


# ---------------------------------------------------------------------------
# Detectors


class _SpectralDetector(ClassifierMixin, BaseEstimator):
    """Shared plumbing: a features + classifier pipeline fitted on images."""

    def _make_features(self):
        raise NotImplementedError

    def _make_classifier(self, y):
        raise NotImplementedError

    def fit(self, X, y):
        """Fit the features and the classifier on training images.

        Parameters
        ----------
        X : array or sequence of images or paths
            Training images (see :mod:`detectors.spectral` for the forms).
        y : array_like, shape (N,)
            Labels, real = 0 and fake = 1 (any two or more labels are accepted;
            the scores of :meth:`decision_function` favour ``classes_[1]``).

        Returns
        -------
        self : object
            The fitted detector.

        Raises
        ------
        ValueError
            When ``X`` is empty, ``y`` does not match it, or ``y`` holds one class.
        ShapeError
            When an image has an unusable shape.
        """
        n_images = len(_as_items(X))
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_images:
            raise ValueError(
                f"y must be a 1-D array with one label per image ({n_images}); got "
                f"shape {y.shape}"
            )
        check_classification_targets(y)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError(
                f"y holds the single class {classes.tolist()[0]!r}; a detector needs "
                "examples of at least two classes (real = 0, fake = 1)"
            )
        features = self._make_features()
        steps = [("features", features), *self._make_classifier(counts)]
        self.pipeline_ = Pipeline(steps).fit(X, y)
        self.classes_ = self.pipeline_.classes_
        fitted = self.pipeline_.named_steps["features"]
        self.features_ = fitted._describe()
        self.feature_names_ = fitted.get_feature_names_out()
        return self

    def predict_proba(self, X):
        """Return class probabilities.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images.

        Returns
        -------
        proba : ndarray, shape (N, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(X)

    def predict(self, X):
        """Return the predicted label of each image.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images.

        Returns
        -------
        labels : ndarray, shape (N,)
            Labels from ``classes_``.
        """
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(X)

    def decision_function(self, X):
        """Return a score that grows with the evidence for ``classes_[1]`` (fake).

        Parameters
        ----------
        X : array or sequence of images or paths
            Images.

        Returns
        -------
        scores : ndarray, shape (N,) or (N, n_classes)
            For two classes, the log-odds of ``classes_[1]``: the linear model's
            margin where the classifier has one (logistic regression), otherwise
            ``ln(p / (1 - p))`` of ``predict_proba`` with ``p`` clipped to
            ``[1e-6, 1 - 1e-6]`` (nearest neighbours, calibrated SVM). A positive
            score predicts ``classes_[1]``. For more classes, the logistic
            model's per-class scores or the clipped log-probabilities.
        """
        check_is_fitted(self, "pipeline_")
        final = self.pipeline_.steps[-1][1]
        if isinstance(final, LogisticRegression):
            return self.pipeline_.decision_function(X)
        proba = np.clip(self.pipeline_.predict_proba(X), _PROBA_EPS, 1 - _PROBA_EPS)
        if proba.shape[1] == 2:
            return np.log(proba[:, 1]) - np.log(proba[:, 0])
        return np.log(proba)

    def __sklearn_tags__(self):
        return _input_tags(super().__sklearn_tags__())


class DurallDetector(_SpectralDetector):
    """Durall et al.'s detector: azimuthal log spectrum + linear classifier.

    :class:`DurallFeatures` (resampled, normalised profile; no feature scaling, as
    in the paper) followed by ``LogisticRegression(solver="liblinear",
    max_iter=1000)`` or a linear SVM.

    Parameters
    ----------
    classifier : {"logistic", "svm"}, optional
        ``"logistic"`` (default) or ``"svm"``: ``SVC(kernel="linear", C=C)``
        wrapped in ``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` so
        that it gives probabilities (Platt scaling fitted on up to 5 stratified
        folds; the SVM itself is refitted on all the data).
    n_bins : int or None, optional
        Profile length, default 80 (see :class:`DurallFeatures`).
    normalize : {"first", "minmax", None}, optional
        Profile normalisation, default ``"first"``.
    C : float, optional
        Inverse regularisation strength of either classifier, default 1 (the
        scikit-learn default Durall et al. used).
    random_state : int, numpy.random.RandomState or None, optional
        Seed of the liblinear solver and of the SVM.
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    classes_ : ndarray
        Labels seen in ``fit``.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted features and classifier.
    features_ : str
        A description of the features.
    feature_names_ : ndarray of str
        Names of the feature columns.

    See Also
    --------
    DurallFeatures : the features alone.

    Notes
    -----
    The SVM needs at least 2 training images per class for its calibration folds.

    References
    ----------
    .. [1] R. Durall, M. Keuper, F.-J. Pfreundt, J. Keuper, "Unmasking DeepFakes
       with simple Features", arXiv:1911.00686, 2019.

    Examples
    --------
    >>> from detectors.spectral import DurallDetector
    >>> rng = np.random.default_rng(0)
    >>> smooth = np.cumsum(np.cumsum(rng.random((20, 32, 32)), 1), 2) / 300
    >>> noisy = smooth + 0.5 * rng.random((20, 32, 32))
    >>> X = np.concatenate([smooth, noisy])
    >>> y = np.repeat([0, 1], 20)
    >>> detector = DurallDetector(n_bins=16).fit(X, y)
    >>> bool(np.allclose(detector.predict_proba(X).sum(axis=1), 1.0))
    True
    >>> float(np.mean(detector.predict(X) == y)) > 0.9
    True
    """

    def __init__(self, *, classifier="logistic", n_bins=80, normalize="first", C=1.0,
                 random_state=None, workers=None):
        self.workers = workers
        self.classifier = classifier
        self.n_bins = n_bins
        self.normalize = normalize
        self.C = C
        self.random_state = random_state

    def _make_features(self):
        return DurallFeatures(n_bins=self.n_bins, normalize=self.normalize,
                              workers=self.workers)

    def _make_classifier(self, counts):
        check_choice(self.classifier, ("logistic", "svm"), name="classifier")
        if self.classifier == "logistic":
            model = LogisticRegression(
                C=self.C, solver="liblinear", max_iter=1000,
                random_state=self.random_state,
            )
            return [("classifier", model)]
        n_folds = int(min(5, counts.min()))
        if n_folds < 2:
            raise ValueError(
                "classifier='svm' needs at least 2 training images per class for "
                f"its calibration folds; the smallest class has {counts.min()}"
            )
        svm = SVC(kernel="linear", C=self.C, random_state=self.random_state)
        model = CalibratedClassifierCV(
            svm, method="sigmoid", cv=StratifiedKFold(n_folds), ensemble=False
        )
        return [("classifier", model)]


class FrankDetector(_SpectralDetector):
    """Frank et al.'s detector: standardised log-DCT + L2 logistic regression.

    :class:`DCTFeatures`, then ``StandardScaler`` (the per-coefficient z-score,
    per position and channel, fitted on the training images only), then an
    L2-penalised ``LogisticRegression`` (lbfgs): the paper's "ridge" model, an
    L2-regularised softmax.

    Parameters
    ----------
    C : float or None, optional
        Inverse regularisation strength. ``None`` (default) uses the paper's
        penalty ``0.01 * ||w||^2`` added to the mean cross-entropy, which in
        scikit-learn's parametrisation is ``C = 1 / (2 * 0.01 * n_samples)``.
    mode : {"gray", "rgb"}, optional
        DCT of the luminance (default) or of each RGB channel (the paper).
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    classes_ : ndarray
        Labels seen in ``fit``.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted features, scaler and classifier.
    C_ : float
        The ``C`` used.
    features_ : str
        A description of the features.
    feature_names_ : ndarray of str
        Names of the feature columns.

    Raises
    ------
    ShapeError
        When the images do not share one size (crop them first, e.g. a centre
        crop), or a test image differs from the training size.

    See Also
    --------
    DCTFeatures : the features alone.

    References
    ----------
    .. [1] J. Frank, T. Eisenhofer, L. Schoenherr, A. Fischer, D. Kolossa, T. Holz,
       "Leveraging Frequency Analysis for Deep Fake Image Recognition", ICML 2020.

    Examples
    --------
    >>> from detectors.spectral import FrankDetector
    >>> rng = np.random.default_rng(0)
    >>> real = rng.random((20, 16, 16))
    >>> fake = real.copy()
    >>> fake[:, ::2, ::2] += 0.5
    >>> X = np.concatenate([real, fake])
    >>> y = np.repeat([0, 1], 20)
    >>> detector = FrankDetector().fit(X, y)
    >>> detector.feature_names_.shape
    (256,)
    >>> bool(np.all(detector.predict(X) == y))
    True
    """

    def __init__(self, *, C=None, mode="gray", workers=None):
        self.workers = workers
        self.C = C
        self.mode = mode

    def _make_features(self):
        return DCTFeatures(mode=self.mode, workers=self.workers)

    def _make_classifier(self, counts):
        if self.C is None:
            self.C_ = 1.0 / (2 * 0.01 * int(counts.sum()))
        else:
            self.C_ = float(self.C)
        model = LogisticRegression(C=self.C_, max_iter=1000)
        return [("scale", StandardScaler()), ("classifier", model)]


class DzanicDetector(_SpectralDetector):
    """Dzanic et al.'s detector: decay features, standardised, k nearest neighbours.

    :class:`DecayFeatures` ``[b, y_i, y_f]``, ``StandardScaler`` (MATLAB
    ``fitcknn``'s ``Standardize`` option) and ``KNeighborsClassifier``.

    Parameters
    ----------
    mode : {"dzanic", "corrected"}, optional
        Decay fit variant, default ``"dzanic"``.
    n_neighbors : int, optional
        Number of neighbours, default 5 (the paper).
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    classes_ : ndarray
        Labels seen in ``fit``.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted features, scaler and classifier.
    features_ : str
        A description of the features.
    feature_names_ : ndarray of str
        ``["b", "y_i", "y_f"]``.

    See Also
    --------
    DecayFeatures : the features alone.

    Notes
    -----
    The probabilities are neighbour fractions (multiples of ``1 / n_neighbors``),
    so :meth:`decision_function` takes few distinct values and ranking metrics
    (AUC, AP) see ties. The paper oversampled minority classes by repetition; pass
    balanced data instead.

    References
    ----------
    .. [1] T. Dzanic, K. Shah, F. Witherden, "Fourier spectrum discrepancies in deep
       network generated images", NeurIPS 2020.

    Examples
    --------
    >>> from detectors.spectral import DzanicDetector
    >>> rng = np.random.default_rng(0)
    >>> smooth = np.cumsum(np.cumsum(rng.random((20, 64, 64)), 1), 2) / 1000
    >>> noisy = smooth + 0.5 * rng.random((20, 64, 64))
    >>> X = np.concatenate([smooth, noisy])
    >>> y = np.repeat([0, 1], 20)
    >>> detector = DzanicDetector().fit(X, y)
    >>> list(detector.feature_names_)
    ['b', 'y_i', 'y_f']
    >>> detector.predict_proba(X).shape
    (40, 2)
    """

    def __init__(self, *, mode="dzanic", n_neighbors=5, workers=None):
        self.workers = workers
        self.mode = mode
        self.n_neighbors = n_neighbors

    def _make_features(self):
        return DecayFeatures(mode=self.mode, workers=self.workers)

    def _make_classifier(self, counts):
        k = check_positive_int(self.n_neighbors, name="n_neighbors")
        if k > counts.sum():
            raise ValueError(
                f"n_neighbors={k!r} exceeds the number of training images "
                f"({int(counts.sum())})"
            )
        model = KNeighborsClassifier(n_neighbors=k)
        return [("scale", StandardScaler()), ("classifier", model)]


class PeakDetector(_SpectralDetector):
    """Upsampling-peak detector: peak and JPEG-grid scores + logistic regression.

    :class:`PeakFeatures` (log peak scores at the upsampling factors of the
    residual power spectrum and the JPEG-grid score), ``StandardScaler`` and an
    L2 ``LogisticRegression``.

    Parameters
    ----------
    factors : sequence of int, optional
        Upsampling factors, default ``(2, 4, 8)``.
    size : int, optional
        Median filter size of the residual, default 5.
    C : float, optional
        Inverse regularisation strength, default 1.
    workers : int or None, optional
        Processes that read and featurise image files when ``X`` is a list of
        paths (:func:`spectral.extract_features`); None (default) or 1 works in
        this process, as do arrays.

    Attributes
    ----------
    classes_ : ndarray
        Labels seen in ``fit``.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted features, scaler and classifier.
    features_ : str
        A description of the features.
    feature_names_ : ndarray of str
        Names of the feature columns.

    See Also
    --------
    PeakFeatures : the features alone.

    Examples
    --------
    >>> from detectors.spectral import PeakDetector
    >>> rng = np.random.default_rng(0)
    >>> real = rng.random((20, 32, 32))
    >>> fake = real.copy()
    >>> fake[:, ::2, ::2] += 0.5
    >>> X = np.concatenate([real, fake])
    >>> y = np.repeat([0, 1], 20)
    >>> detector = PeakDetector().fit(X, y)
    >>> float(np.mean(detector.predict(X) == y)) > 0.9
    True
    """

    def __init__(self, *, factors=(2, 4, 8), size=5, C=1.0, workers=None):
        self.workers = workers
        self.factors = factors
        self.size = size
        self.C = C

    def _make_features(self):
        return PeakFeatures(factors=self.factors, size=self.size,
                            workers=self.workers)

    def _make_classifier(self, counts):
        model = LogisticRegression(C=self.C, max_iter=1000)
        return [("scale", StandardScaler()), ("classifier", model)]
