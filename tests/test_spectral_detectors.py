"""Tests of detectors.spectral: spectral feature transformers and detectors."""

import pickle

import numpy as np
import pytest
import scipy.fft
from PIL import Image
from scipy import ndimage
from scipy.interpolate import griddata
from skimage import data
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

import spectral
from detectors.spectral import (
    DCTFeatures,
    DecayFeatures,
    DurallDetector,
    DurallFeatures,
    DzanicDetector,
    FrankDetector,
    PeakDetector,
    PeakFeatures,
)
from spectral import ShapeError

# ---------------------------------------------------------------------------
# Synthetic data: crops of natural photos against the same crops upsampled x2


def _photos():
    """Four bundled scikit-image photos as grey float images in [0, 1]."""
    gray = [data.camera() / 255.0]
    for rgb in (data.astronaut(), data.coffee(), data.chelsea()):
        gray.append(spectral.to_gray(rgb / 255.0))
    return gray


def _upsample_x2(crop, rng):
    """Imitate a generator's last x2 stage on a crop.

    Box-downsample by 2, zero-insert back to full size (bed of nails), convolve
    with a random positive 3x3 kernel (a transposed convolution with stride 2:
    3 is not divisible by 2, so its phases carry unequal weights) and blur a
    little (Gaussian sigma 0.4), as later layers would.
    """
    size = crop.shape[0]
    low = crop.reshape(size // 2, 2, size // 2, 2).mean(axis=(1, 3))
    bed = np.zeros_like(crop)
    bed[::2, ::2] = low
    kernel = rng.uniform(0.2, 1.0, size=(3, 3))
    kernel *= 4.0 / kernel.sum()
    return ndimage.gaussian_filter(ndimage.convolve(bed, kernel, mode="reflect"), 0.4)


def _crops_dataset(seed, per_photo, size=64):
    """Real crops (label 0) and their x2-upsampled twins (label 1), by photo."""
    rng = np.random.default_rng(seed)
    reals, fakes, groups = [], [], []
    for index, photo in enumerate(_photos()):
        height, width = photo.shape
        for _ in range(per_photo):
            row = rng.integers(0, height - size)
            col = rng.integers(0, width - size)
            crop = photo[row:row + size, col:col + size]
            reals.append(crop)
            fakes.append(_upsample_x2(crop, rng))
            groups.append(index)
    X = np.concatenate([np.array(reals), np.array(fakes)])
    y = np.repeat([0, 1], len(reals))
    return X, y, np.tile(groups, 2)


@pytest.fixture(scope="module")
def crops():
    return _crops_dataset(seed=0, per_photo=16)


DETECTORS = [
    DurallDetector(),
    DurallDetector(classifier="svm"),
    FrankDetector(),
    DzanicDetector(),
    PeakDetector(),
]
TRANSFORMERS = [
    DurallFeatures(),
    DCTFeatures(),
    DecayFeatures(),
    PeakFeatures(),
]

# Held-out AUC bars (mean over folds, worst fold): every fold leaves one whole
# photo out, so the detector never saw its content. Fold AUCs measured with
# seed 0, 16 crops per photo (camera, astronaut, coffee, chelsea):
#   DurallDetector()             1.000 0.953 1.000 0.984
#   DurallDetector("svm")        1.000 0.953 1.000 1.000
#   FrankDetector()              1.000 1.000 1.000 1.000
#   DzanicDetector()             1.000 0.814 1.000 0.988
#   PeakDetector()               1.000 1.000 0.980 1.000
AUC_BARS = {
    "DurallDetector": (0.95, 0.9),
    "FrankDetector": (0.98, 0.95),
    "DzanicDetector": (0.9, 0.75),
    "PeakDetector": (0.97, 0.95),
}


@pytest.mark.parametrize("detector", DETECTORS, ids=repr)
def test_detector_separates_x2_upsampling_on_unseen_photos(detector, crops):
    X, y, groups = crops
    aucs = cross_val_score(
        detector, X, y, groups=groups, cv=GroupKFold(4), scoring="roc_auc"
    )
    mean_bar, min_bar = AUC_BARS[type(detector).__name__]
    assert aucs.mean() >= mean_bar, aucs
    assert aucs.min() >= min_bar, aucs


@pytest.mark.parametrize("detector", DETECTORS, ids=repr)
def test_fitted_detector_outputs_are_consistent(detector, crops):
    X, y, groups = crops
    train, test = groups != 3, groups == 3
    fitted = clone(detector).fit(X[train], y[train])

    proba = fitted.predict_proba(X[test])
    scores = fitted.decision_function(X[test])
    pred = fitted.predict(X[test])
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert proba.shape == (test.sum(), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert scores.shape == (test.sum(),)
    # A positive score predicts fake.
    np.testing.assert_array_equal(pred, (scores > 0).astype(int))
    assert isinstance(fitted.features_, str) and fitted.features_
    assert len(fitted.feature_names_) == fitted.pipeline_[:-1].transform(
        X[:2]
    ).shape[1]

    # A pickled and reloaded detector scores identically.
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.decision_function(X[test]), scores)


# ---------------------------------------------------------------------------
# Features against their papers' definitions


def _durall_profile_reference(image):
    """Durall et al.'s radialProfile of 20 ln|F + 1e-8|, written plainly."""
    f = np.fft.fftshift(np.fft.fft2(image))
    magnitude = 20 * np.log(np.abs(f + 1e-8))
    height, width = image.shape
    yy, xx = np.indices((height, width))
    radius = np.hypot(xx - (width - 1) / 2, yy - (height - 1) / 2).astype(int)
    sums = np.bincount(radius.ravel(), magnitude.ravel())
    counts = np.bincount(radius.ravel())
    return (sums / counts)[1:-1]


def test_durall_features_follow_the_published_recipe():
    rng = np.random.default_rng(10)
    images = rng.random((3, 40, 40))
    n_bins = 30
    features = DurallFeatures(n_bins=n_bins).fit_transform(images)

    for image, row in zip(images, features, strict=True):
        profile = _durall_profile_reference(image)
        # Their CelebA notebook: griddata cubic from linspace(0, N, len) to
        # linspace(0, N, N), then division by the first value.
        x = np.linspace(0, n_bins, len(profile))
        xi = np.linspace(0, n_bins, n_bins)
        expected = griddata(x, profile, xi, method="cubic")
        expected = expected / expected[0]
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-9)


def test_durall_features_raw_and_minmax():
    rng = np.random.default_rng(11)
    images = rng.random((2, 32, 32))
    raw = DurallFeatures(n_bins=None, normalize=None).fit(images)
    expected = np.array([_durall_profile_reference(im) for im in images])
    np.testing.assert_allclose(raw.transform(images), expected, rtol=1e-9, atol=1e-9)
    assert raw.n_features_out_ == expected.shape[1]
    assert raw.image_shape_ == (32, 32)

    minmax = DurallFeatures(n_bins=20, normalize="minmax").fit_transform(images)
    np.testing.assert_allclose(minmax.min(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(minmax.max(axis=1), 1.0, atol=1e-12)


def test_dct_features_are_the_log_dct_ii_ortho():
    rng = np.random.default_rng(12)
    rgb = rng.random((3, 9, 12, 3))
    features = DCTFeatures(mode="rgb").fit_transform(rgb)
    for image, row in zip(rgb, features, strict=True):
        coeffs = scipy.fft.dctn(image, type=2, norm="ortho", axes=(0, 1))
        expected = np.log(np.abs(coeffs) + 1e-12).transpose(2, 0, 1).ravel()
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-9)

    gray = DCTFeatures().fit(rgb)
    luma = spectral.to_gray(rgb)
    coeffs = scipy.fft.dctn(luma[0], type=2, norm="ortho")
    np.testing.assert_allclose(
        gray.transform(rgb)[0], np.log(np.abs(coeffs) + 1e-12).ravel(),
        rtol=1e-9, atol=1e-9,
    )
    assert gray.get_feature_names_out()[13] == "dct_1_1"


def test_decay_and_peak_features_wrap_the_spectral_functions():
    rng = np.random.default_rng(13)
    images = rng.random((3, 48, 48))
    np.testing.assert_allclose(
        DecayFeatures(mode="corrected").fit_transform(images),
        spectral.decay_fit(images, mode="corrected"),
        rtol=1e-12, atol=0,
    )
    peaks = PeakFeatures(factors=(2, 4)).fit_transform(images)
    for image, row in zip(images, peaks, strict=True):
        resid = spectral.residual(image, method="median", size=5)
        power = spectral.power_spectrum(resid, log=False, shift=True)
        scores = spectral.upsampling_peaks(power, factors=(2, 4))
        expected = [scores[2], scores[4], spectral.jpeg_grid_score(image)]
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-12)


def test_frank_detector_standardises_on_training_data_and_maps_the_penalty():
    rng = np.random.default_rng(14)
    X = rng.random((30, 8, 8))
    y = np.repeat([0, 1], 15)
    X[y == 1, ::2, ::2] += 0.3
    detector = FrankDetector().fit(X, y)

    dct = DCTFeatures().fit_transform(X)
    scaler = detector.pipeline_.named_steps["scale"]
    np.testing.assert_allclose(scaler.mean_, dct.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(scaler.scale_, dct.std(axis=0), rtol=1e-10)
    # Keras' 0.01 * ||w||^2 over the mean loss = C = 1 / (2 * 0.01 * n).
    assert detector.C_ == pytest.approx(1 / (2 * 0.01 * 30))
    assert FrankDetector(C=2.0).fit(X, y).C_ == 2.0


def test_frank_detector_attributes_several_classes():
    rng = np.random.default_rng(15)
    X = rng.random((45, 8, 8))
    y = np.repeat([0, 1, 2], 15)
    X[y == 1, ::2, ::2] += 0.3
    X[y == 2, ::4, ::4] += 0.6
    detector = FrankDetector().fit(X, y)
    assert detector.decision_function(X).shape == (45, 3)
    np.testing.assert_allclose(detector.predict_proba(X).sum(axis=1), 1.0, atol=1e-12)
    assert np.mean(detector.predict(X) == y) > 0.9


# ---------------------------------------------------------------------------
# Input forms


def test_transformers_work_in_a_pipeline_and_cross_validation(crops):
    X, y, groups = crops
    pipe = make_pipeline(
        DurallFeatures(n_bins=40), StandardScaler(), LogisticRegression()
    )
    aucs = cross_val_score(pipe, X, y, groups=groups, cv=GroupKFold(4),
                           scoring="roc_auc")
    assert aucs.min() >= AUC_BARS["DurallDetector"][1], aucs

    pipe = make_pipeline(DecayFeatures(), StandardScaler(), LogisticRegression())
    train = groups != 0
    pipe.fit(X[train], y[train])
    assert roc_auc_score(y[~train], pipe.decision_function(X[~train])) > 0.8


def test_mixed_sizes_lists_and_colour():
    rng = np.random.default_rng(16)
    images = [rng.random((32, 32)), rng.random((40, 36)), rng.random((32, 32))]
    features = DurallFeatures(n_bins=20).fit_transform(images)
    each = [DurallFeatures(n_bins=20).fit_transform(im[None]) for im in images]
    np.testing.assert_allclose(features, np.concatenate(each), rtol=1e-12)

    rgb = rng.random((2, 32, 32, 3))
    gray = spectral.to_gray(rgb)
    np.testing.assert_allclose(
        DecayFeatures().fit_transform(rgb), DecayFeatures().fit_transform(gray),
        rtol=1e-12,
    )
    # Unsigned integers are scaled by their maximum, like files.
    as_uint8 = (rng.random((2, 32, 32)) * 255).astype(np.uint8)
    np.testing.assert_allclose(
        DurallFeatures().fit_transform(as_uint8),
        DurallFeatures().fit_transform(as_uint8 / 255.0),
        rtol=1e-12,
    )


def test_paths_give_the_features_of_the_arrays(tmp_path):
    rng = np.random.default_rng(17)
    pixels = (rng.random((3, 32, 32, 3)) * 255).astype(np.uint8)
    paths = []
    for i, image in enumerate(pixels):
        path = tmp_path / f"im{i}.png"
        Image.fromarray(image).save(path)
        paths.append(path if i % 2 else str(path))

    from_files = DCTFeatures(mode="rgb").fit_transform(paths)
    from_arrays = DCTFeatures(mode="rgb").fit_transform(pixels)
    # read_image returns float32: log-DCT values agree to float32 precision,
    # except at coefficients near 0 where the log amplifies the rounding.
    close = np.abs(from_arrays) < 5
    np.testing.assert_allclose(from_files[close], from_arrays[close], atol=1e-3)

    y = np.array([0, 1, 0])
    detector = FrankDetector(mode="rgb").fit(paths, y)
    assert detector.predict(paths).shape == (3,)


def test_files_in_worker_processes(tmp_path):
    rng = np.random.default_rng(20)
    paths = []
    for i in range(6):
        size = 32 if i < 5 else 24
        path = tmp_path / f"im{i}.png"
        pixels = (rng.random((size, size)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    same_size = paths[:5]

    serial = DurallFeatures(n_bins=16).fit_transform(paths)
    parallel = DurallFeatures(n_bins=16, workers=2).fit_transform(paths)
    np.testing.assert_array_equal(parallel, serial)
    dct = DCTFeatures(workers=2).fit(same_size)
    assert dct.image_shape_ == (32, 32)
    np.testing.assert_array_equal(
        dct.transform(same_size), DCTFeatures().fit_transform(same_size)
    )

    with pytest.raises(ShapeError, match=r"\(24, 24\) but.*\(32, 32\)"):
        dct.transform(paths)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"")
    with pytest.raises(spectral.ImageReadError, match="1 of 6 files of X"):
        DurallFeatures(workers=2).fit_transform([*paths[:5], str(broken)])


# ---------------------------------------------------------------------------
# Errors


def test_frank_needs_one_image_size():
    rng = np.random.default_rng(18)
    mixed = [rng.random((16, 16)), rng.random((16, 20))]
    message = r"X\[1\] has shape \(16, 20\).*\(16, 16\); crop the images"
    with pytest.raises(ShapeError, match=message):
        FrankDetector().fit(mixed, [0, 1])
    with pytest.raises(ShapeError, match=message):
        DCTFeatures().fit(mixed)
    fitted = DCTFeatures().fit(rng.random((2, 16, 16)))
    with pytest.raises(ShapeError, match=r"X\[0\] has shape \(16, 20\).*\(16, 16\)"):
        fitted.transform([rng.random((16, 20))])


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.zeros(10), ShapeError, r"shape \(10,\)"),
        ([1.0, 2.0], ShapeError, r"X\[0\] has shape \(\)"),
        (np.zeros((0, 16, 16)), ValueError, "holds no images"),
        ([], ValueError, "holds no images"),
        (np.zeros((16, 16)), ShapeError, r"X\[None\]"),
        (np.zeros((16, 16, 3)), ShapeError, r"single colour image needs X\[None\]"),
        (np.zeros((2, 3, 16, 16)), ShapeError, "channels last"),
        ("photo.png", TypeError, "wrap it in a list"),
        (["no/such/file.png"], OSError, "no/such/file.png"),
        ([np.full((16, 16), np.nan)], ValueError, "NaN"),
        (np.zeros((2, 16, 16), dtype=complex), TypeError, "complex"),
        (5, TypeError, "got int"),
    ],
)
def test_bad_inputs_give_clear_errors(X, error, match):
    with pytest.raises(error, match=match):
        DurallFeatures().fit_transform(X)


def test_bad_labels_and_parameters():
    rng = np.random.default_rng(19)
    X = rng.random((6, 16, 16))
    with pytest.raises(ValueError, match="single class 0"):
        DurallDetector(n_bins=8).fit(X, np.zeros(6, dtype=int))
    with pytest.raises(ValueError, match="one label per image"):
        DurallDetector(n_bins=8).fit(X, [0, 1])
    with pytest.raises(ValueError, match="Unknown label type"):
        DurallDetector(n_bins=8).fit(X, np.linspace(0, 1, 6))
    with pytest.raises(ValueError, match="classifier must be one of"):
        DurallDetector(classifier="tree", n_bins=8).fit(X, [0, 1] * 3)
    with pytest.raises(ValueError, match="n_bins must be >= 4"):
        DurallFeatures(n_bins=2).fit(X)
    with pytest.raises(ValueError, match="normalize must be one of"):
        DurallFeatures(normalize="l2").fit(X)
    with pytest.raises(ValueError, match="mode must be one of"):
        DCTFeatures(mode="hsv").fit(X)
    with pytest.raises(ShapeError, match="mode='rgb' needs colour"):
        DCTFeatures(mode="rgb").fit(X)
    with pytest.raises(ValueError, match="n_neighbors=9 exceeds"):
        DzanicDetector(n_neighbors=9).fit(X, [0, 1] * 3)
    with pytest.raises(ValueError, match="factors must be >= 2"):
        PeakFeatures(factors=(1, 2)).fit(X)
    with pytest.raises(ValueError, match="at least 2 training images per class"):
        DurallDetector(classifier="svm", n_bins=8).fit(X, [0, 0, 0, 0, 0, 1])
    with pytest.raises(NotFittedError):
        DurallDetector().predict(X)
    with pytest.raises(NotFittedError):
        DurallFeatures().transform(X)
    with pytest.raises(ValueError, match="features of 1 image"):
        DurallFeatures(n_bins=8, normalize="minmax").fit_transform(np.ones((1, 16, 16)))


# ---------------------------------------------------------------------------
# scikit-learn API conventions

# The estimators take images, not the tabular arrays scikit-learn's behavioural
# checks generate, so their tags declare 3-D/path input and check_estimator
# skips them; these checks are the ones that need no data.
API_CHECKS = [
    estimator_checks.check_estimator_cloneable,
    estimator_checks.check_estimator_repr,
    estimator_checks.check_estimator_tags_renamed,
    estimator_checks.check_valid_tag_types,
    estimator_checks.check_no_attributes_set_in_init,
    estimator_checks.check_parameters_default_constructible,
    estimator_checks.check_get_params_invariance,
    estimator_checks.check_set_params,
    estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
    estimator_checks.check_mixin_order,
]


@pytest.mark.parametrize("estimator", DETECTORS + TRANSFORMERS, ids=repr)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_scikit_learn_api_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))
