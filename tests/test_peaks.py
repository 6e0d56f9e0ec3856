import io

import numpy as np
import pytest
import scipy.fft
from PIL import Image
from scipy import ndimage
from skimage import data

import spectral
from spectral._peaks import JPEG_GRID_THRESHOLD, PEAK_THRESHOLD_DB

PHOTOS = ("astronaut", "chelsea", "coffee", "camera", "rocket")


# ---------------------------------------------------------------- helpers


def photo(name, size, *, y=None, x=None):
    """Grey float64 crop in [0, 1] of a scikit-image photo (centred by default)."""
    img = getattr(data, name)()
    if img.ndim == 3:
        img = spectral.to_gray(img[..., :3])
    img = np.asarray(img, dtype=np.float64) / 255.0
    h, w = img.shape
    y = (h - size) // 2 if y is None else y
    x = (w - size) // 2 if x is None else x
    return img[y:y + size, x:x + size]


def power(image):
    return np.abs(np.fft.fftshift(np.fft.fft2(image))) ** 2


def zero_insert(x, s):
    out = np.zeros((x.shape[0] * s, x.shape[1] * s))
    out[::s, ::s] = x
    return out


def transposed_conv(x, kernel, s):
    # Zero insertion then convolution with zero padding: ConvTranspose2d's algebra.
    return ndimage.convolve(zero_insert(x, s), kernel, mode="constant")


def nearest(x, s):
    return np.repeat(np.repeat(x, s, axis=0), s, axis=1)


def bilinear2(x):
    # Half-pixel bilinear x2 (align_corners=False): taps 1/4, 3/4, edges repeated.
    for axis in (0, 1):
        a = np.moveaxis(x, axis, 0)
        pad = np.concatenate([a[:1], a, a[-1:]])
        out = np.empty((2 * a.shape[0], *a.shape[1:]))
        out[0::2] = 0.75 * pad[1:-1] + 0.25 * pad[:-2]
        out[1::2] = 0.75 * pad[1:-1] + 0.25 * pad[2:]
        x = np.moveaxis(out, 0, axis)
    return x


def pixel_shuffle(x, s, rng):
    # One independent random 3x3 filter per output phase (s * s of them).
    weights = rng.normal(1 / 9, 0.1, size=(s, s, 3, 3))
    out = np.empty((x.shape[0] * s, x.shape[1] * s))
    for p in range(s):
        for q in range(s):
            out[p::s, q::s] = ndimage.convolve(x, weights[p, q], mode="reflect")
    return out


def jpeg(image, quality=75):
    u8 = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf))


def upsample(kind, low, rng):
    if kind == "zero":
        return zero_insert(low, 2)
    if kind == "tconv3":
        return transposed_conv(low, rng.normal(4 / 9, 0.2, (3, 3)), 2)
    if kind == "tconv4":
        return transposed_conv(low, rng.normal(4 / 16, 0.2, (4, 4)), 2)
    if kind == "nearest":
        return nearest(low, 2)
    if kind == "bilinear":
        return bilinear2(low)
    raise AssertionError(kind)


def flat_with_spikes(shape, bins, value, *, centered=True):
    """Ones everywhere, ``value`` at the given unshifted bins."""
    spec = np.ones(shape)
    for r, c in bins:
        spec[r, c] = value
    return np.fft.fftshift(spec) if centered else spec


# --------------------------------------------------- known answers (planted)


@pytest.mark.parametrize("shape", [(64, 64), (63, 50), (31, 96)])
@pytest.mark.parametrize("centered", [True, False])
def test_planted_x2_spikes_score_their_height(shape, centered):
    h, w = shape
    # Nearest bin to N/2, rounding half up, as the Notes say.
    r2, c2 = int(np.floor(h / 2 + 0.5)), int(np.floor(w / 2 + 0.5))
    spec = flat_with_spikes(shape, [(r2, 0), (0, c2), (r2, c2)], 100.0,
                            centered=centered)
    scores = spectral.upsampling_peaks(spec, factors=(2, 4), centered=centered)
    # 100x over a flat floor is 20 dB; the 1e-12 * max floor moves it < 1e-8 dB.
    assert scores[2] == pytest.approx(20.0, abs=1e-8)
    assert scores[4] == pytest.approx(0.0, abs=1e-8)


def test_planted_x4_spikes_are_new_at_factor_4_only():
    n = 64
    bins = [(j * n // 4, k * n // 4) for j in range(4) for k in range(4)][1:]
    spec = flat_with_spikes((n, n), bins, 1000.0)
    scores = spectral.upsampling_peaks(spec, factors=(2, 4, 8))
    # Exact up to the 1e-12 * max floor (< 1e-8 dB).
    assert scores[2] == pytest.approx(30.0, abs=1e-8)
    assert scores[4] == pytest.approx(30.0, abs=1e-8)
    assert scores[8] == pytest.approx(0.0, abs=1e-8)
    assert spectral.estimate_upsampling_factor(spec) == 4
    # Without factor 2 in the list, factor 4 is scored over all 15 of its bins.
    only4 = spectral.upsampling_peaks(spec, factors=(4,))
    assert only4[4] == pytest.approx(30.0, abs=1e-8)


def test_lone_spike_does_not_make_a_factor():
    # One bright axis bin (as a lossless photo's own texture gives) is 1 of 3.
    spec = flat_with_spikes((64, 64), [(32, 0)], 1e4)
    assert spectral.upsampling_peaks(spec)[2] == pytest.approx(0.0, abs=1e-8)
    assert spectral.estimate_upsampling_factor(spec) == 1


def test_factor_needs_its_subgrid():
    # Peaks at the new x4 bins only (none at N/2): not reported as x4.
    n = 64
    bins = [(j * n // 4, k * n // 4) for j in range(4) for k in range(4)
            if (j % 2 or k % 2)]
    spec = flat_with_spikes((n, n), bins, 1000.0)
    scores = spectral.upsampling_peaks(spec)
    assert scores[4] == pytest.approx(30.0, abs=1e-8)
    assert scores[2] == pytest.approx(0.0, abs=1e-8)
    assert spectral.estimate_upsampling_factor(spec) == 1


def test_log_input_gives_the_same_scores():
    rng = np.random.default_rng(11)
    spec = rng.exponential(size=(48, 64))
    spec[0, 32] = spec[24, 0] = spec[24, 32] = 500.0
    spec = np.fft.fftshift(spec)
    linear = spectral.upsampling_peaks(spec)
    decibels = spectral.upsampling_peaks(10 * np.log10(spec), log=True)
    for s in linear:
        # The linear path adds a floor of 1e-12 * max: far below every bin here.
        assert decibels[s] == pytest.approx(linear[s], abs=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.uint16,
                                   np.int32])
def test_dtypes_accepted(dtype):
    rng = np.random.default_rng(12)
    spec = rng.integers(1, 50, size=(32, 32)).astype(np.float64)
    spec[16, 0] = spec[0, 16] = spec[0, 0] = 1000
    ref = spectral.upsampling_peaks(spec, factors=(2, 4))
    got = spectral.upsampling_peaks(spec.astype(dtype), factors=(2, 4))
    assert got.keys() == ref.keys()
    for s in ref:
        # float16 keeps ~3 significant digits: 0.01 dB covers its rounding.
        assert got[s] == pytest.approx(ref[s], abs=1e-2)


# ------------------------------------------------ natural photos, upsamplers


def test_natural_photos_stay_below_threshold():
    rng = np.random.default_rng(13)
    for name in PHOTOS:
        for size in (128, 256):
            img = getattr(data, name)()
            y = int(rng.integers(0, img.shape[0] - size + 1))
            x = int(rng.integers(0, img.shape[1] - size + 1))
            crop = photo(name, size, y=y, x=x)
            scores = spectral.upsampling_peaks(power(crop))
            assert max(scores.values()) < PEAK_THRESHOLD_DB, (name, scores)
            assert spectral.estimate_upsampling_factor(power(crop)) == 1


@pytest.mark.parametrize("kind", ["zero", "tconv3", "tconv4"])
def test_x2_with_a_dc_image_peaks_at_2(kind):
    rng = np.random.default_rng(21)
    for name in PHOTOS:
        original = spectral.upsampling_peaks(power(photo(name, 256)))
        up = upsample(kind, photo(name, 128), rng)
        scores = spectral.upsampling_peaks(power(up))
        # Measured 24-38 dB against 0-6 dB for the originals.
        assert scores[2] > original[2] + 15, (name, scores, original)
        assert spectral.estimate_upsampling_factor(power(up)) == 2, name


@pytest.mark.parametrize("kind", ["nearest", "bilinear"])
def test_nearest_and_bilinear_leave_no_dc_peak(kind):
    rng = np.random.default_rng(22)
    for name in PHOTOS:
        original = spectral.upsampling_peaks(power(photo(name, 256)))
        up = upsample(kind, photo(name, 128), rng)
        scores = spectral.upsampling_peaks(power(up))
        # Their transfer function is 0 at f = 1/2: no higher than the original's.
        assert scores[2] <= original[2] + 3.0, (name, scores, original)
        assert spectral.estimate_upsampling_factor(power(up)) == 1, name


def test_nearest_transfer_function_is_zero_at_nyquist():
    # The reason for the previous test, checked on the spectrum itself.
    rng = np.random.default_rng(23)
    up = nearest(rng.random((32, 32)), 2)
    spec = np.abs(np.fft.fft2(up)) ** 2
    assert np.max(spec[32, :]) < 1e-20 * spec[0, 0]
    assert np.max(spec[:, 32]) < 1e-20 * spec[0, 0]


def test_pixel_shuffle_x4_peaks_at_4():
    rng = np.random.default_rng(24)
    for name in PHOTOS:
        up = pixel_shuffle(photo(name, 64), 4, rng)
        scores = spectral.upsampling_peaks(power(up))
        assert scores[4] > PEAK_THRESHOLD_DB + 5, (name, scores)
        assert scores[8] < PEAK_THRESHOLD_DB, (name, scores)
        assert spectral.estimate_upsampling_factor(power(up)) == 4, name


def test_mean_over_a_batch_gives_the_same_verdicts():
    rng = np.random.default_rng(25)
    corners = ((100, 100), (200, 240))
    names = ("astronaut", "coffee", "rocket")
    expected = {"original": 1, "tconv3": 2, "tconv4": 2, "nearest": 1,
                "bilinear": 1, "pshuffle4": 4}
    for kind, factor in expected.items():
        spectra = []
        for name in names:
            for y, x in corners:
                if kind == "original":
                    img = photo(name, 128, y=y, x=x)
                elif kind == "pshuffle4":
                    img = pixel_shuffle(photo(name, 32, y=y, x=x), 4, rng)
                else:
                    img = upsample(kind, photo(name, 64, y=y, x=x), rng)
                spectra.append(power(img))
        mean = np.mean(spectra, axis=0)
        assert spectral.estimate_upsampling_factor(mean) == factor, kind


# ------------------------------------------------------------- JPEG grid


def reference_jpeg_grid_score(gray255):
    """Block by block, as the Notes define it (slow and obvious)."""
    def zero_share(dy, dx):
        zeros = total = 0
        for y in range(dy, gray255.shape[0] - 7, 8):
            for x in range(dx, gray255.shape[1] - 7, 8):
                c = scipy.fft.dctn(gray255[y:y + 8, x:x + 8] - 128, norm="ortho")
                ac = np.delete(c.ravel(), 0)
                zeros += np.count_nonzero(np.abs(ac) < 1.0)
                total += ac.size
        return zeros / total

    shifted = np.median([zero_share(dy, dx) for dy in (2, 4, 6) for dx in (2, 4, 6)])
    if 1 - shifted < 0.01:
        return 0.0
    return (zero_share(0, 0) - shifted) / (1 - shifted)


@pytest.mark.parametrize("shape", [(16, 16), (37, 53), (64, 40)])
def test_jpeg_grid_score_matches_reference(shape):
    rng = np.random.default_rng(31)
    # Blocky noise so that both grids hold near-zero coefficients.
    img = np.kron(rng.integers(0, 256, (shape[0] // 4 + 1, shape[1] // 4 + 1)),
                  np.ones((4, 4)))[:shape[0], :shape[1]]
    img = img + rng.normal(0, 0.3, shape)
    got = spectral.jpeg_grid_score(img.astype(np.uint8))
    want = reference_jpeg_grid_score(img.astype(np.uint8).astype(np.float64))
    # Same arithmetic in another order: float64 round-off only.
    assert got == pytest.approx(want, abs=1e-12)


def test_jpeg_raises_the_grid_score():
    for name in PHOTOS:
        lossless = photo(name, 256)
        compressed = jpeg(lossless, 75)
        before = spectral.jpeg_grid_score(lossless)
        after = spectral.jpeg_grid_score(compressed)
        # Measured: lossless <= 0.03, quality 75 >= 0.6.
        assert abs(before) < 0.05, name
        assert after > 0.5, name
        assert after > JPEG_GRID_THRESHOLD > before


def test_jpeg_grid_score_follows_the_data_range():
    u8 = jpeg(photo("coffee", 128), 75)
    ref = spectral.jpeg_grid_score(u8)
    assert spectral.jpeg_grid_score(u8 / 255.0) == pytest.approx(ref, abs=1e-12)
    # 16-bit: white is 65535 by default, or as given.
    u16 = u8.astype(np.uint16) * 257
    assert spectral.jpeg_grid_score(u16) == pytest.approx(ref, abs=1e-12)
    assert spectral.jpeg_grid_score(u8 * 2.0, data_range=510) == pytest.approx(
        ref, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float16, np.float32,
                                   np.float64])
def test_jpeg_grid_score_dtypes(dtype):
    u8 = jpeg(photo("camera", 64), 75)
    ref = spectral.jpeg_grid_score(u8)
    if np.dtype(dtype).kind in "iu":
        got = spectral.jpeg_grid_score(u8.astype(dtype), data_range=255)
    else:
        got = spectral.jpeg_grid_score((u8 / 255.0).astype(dtype))
    # Integers and float64 are exact to round-off. k/255 rounded to float32
    # (~6e-8 relative) or float16 (~5e-4) moves the few coefficients that sit at
    # the |c| < 1 cut: measured 2e-4 for float32.
    atol = {np.float16: 0.02, np.float32: 1e-3}.get(dtype, 1e-9)
    assert got == pytest.approx(ref, abs=atol)


def test_jpeg_grid_score_batch_and_colour():
    rgb = data.astronaut()[100:228, 150:278]
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=75)
    decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())))

    colour = spectral.jpeg_grid_score(decoded, channel_axis=-1)
    assert isinstance(colour, float) and colour > 0.5
    first = spectral.jpeg_grid_score(np.moveaxis(decoded, -1, 0), channel_axis=0)
    assert first == pytest.approx(colour, abs=1e-12)

    batch = np.stack([decoded, rgb])
    scores = spectral.jpeg_grid_score(batch, channel_axis=-1)
    assert scores.shape == (2,)
    assert scores[0] == pytest.approx(colour, abs=1e-12) and abs(scores[1]) < 0.05

    grey = spectral.jpeg_grid_score(spectral.to_gray(batch) / 255.0)
    assert grey.shape == (2,)


def test_x8_upsampling_without_jpeg_does_not_score_like_jpeg():
    rng = np.random.default_rng(32)
    for name in PHOTOS:
        low = photo(name, 32)
        shuffled = pixel_shuffle(low, 8, rng)
        tconv = transposed_conv(low, rng.normal(1.0, 0.3, (8, 8)), 8)
        tconv11 = transposed_conv(low, rng.normal(64 / 121, 0.3, (11, 11)), 8)
        for up in (shuffled, tconv, tconv11):
            # Rounded to 8 bits like a saved PNG; measured <= 0.06.
            u8 = np.clip(np.rint(up * 255), 0, 255).astype(np.uint8)
            assert spectral.jpeg_grid_score(u8) < JPEG_GRID_THRESHOLD, name


def test_jpeg_grid_hides_x8_evidence_and_warns():
    rng = np.random.default_rng(33)
    up = np.clip(pixel_shuffle(photo("astronaut", 32), 8, rng), 0, 1)
    compressed = jpeg(up, 75)
    spec = power(compressed / 255.0)
    scores = spectral.upsampling_peaks(spec)
    # The JPEG's spectrum shows clear peaks at the multiples of N/8.
    assert scores[8] > PEAK_THRESHOLD_DB
    assert spectral.estimate_upsampling_factor(spec) == 8

    grid = spectral.jpeg_grid_score(compressed)
    assert grid > JPEG_GRID_THRESHOLD
    with pytest.warns(UserWarning, match="JPEG 8x8 grid") as record:
        factor = spectral.estimate_upsampling_factor(spec, jpeg_grid=grid)
    assert factor == 4
    # The warning points at the caller, not at the library.
    assert record[0].filename == __file__


def test_jpeg_grid_without_x8_peaks_is_silent():
    compressed = jpeg(photo("chelsea", 256), 75)
    grid = spectral.jpeg_grid_score(compressed)
    # pytest turns any warning into an error here.
    assert spectral.estimate_upsampling_factor(power(compressed / 255.0),
                                               jpeg_grid=grid) == 1


def test_lossless_grid_score_keeps_x8():
    rng = np.random.default_rng(34)
    up = np.clip(pixel_shuffle(photo("coffee", 32), 8, rng), 0, 1)
    grid = spectral.jpeg_grid_score(up)
    assert spectral.estimate_upsampling_factor(power(up), jpeg_grid=grid) == 8


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [np.ones(64), np.ones((2, 32, 32)), np.ones(())])
def test_spectrum_must_be_2d(bad):
    with pytest.raises(spectral.ShapeError, match="spectrum must be a 2-D"):
        spectral.upsampling_peaks(bad)


def test_bad_spectra_values():
    spec = np.ones((32, 32))
    spec[3, 4] = np.nan
    with pytest.raises(ValueError, match="spectrum contains 1 NaN"):
        spectral.upsampling_peaks(spec)
    with pytest.raises(ValueError, match="negative values.*log=True"):
        spectral.upsampling_peaks(-np.ones((32, 32)))
    assert spectral.upsampling_peaks(-np.ones((32, 32)), log=True)[2] == 0.0
    with pytest.raises(TypeError, match="real-valued"):
        spectral.upsampling_peaks(np.ones((32, 32), dtype=complex))


@pytest.mark.parametrize(
    ("factors", "error", "match"),
    [
        ((1, 2), ValueError, "factors must be >= 2, got 1"),
        ((0,), ValueError, "factors must be >= 2"),
        ((2.5,), TypeError, "factors must be an integer, got 2.5"),
        ((), ValueError, "at least one integer"),
        (2, TypeError, "factors must be a sequence"),
        ((2, 32), ValueError, "at most min\\(H, W\\) // 2 = 16"),
    ],
)
def test_bad_factors(factors, error, match):
    with pytest.raises(error, match=match):
        spectral.upsampling_peaks(np.ones((32, 40)), factors=factors)
    with pytest.raises(error, match=match):
        spectral.estimate_upsampling_factor(np.ones((32, 40)), factors=factors)


def test_bad_options():
    spec = np.ones((32, 32))
    with pytest.raises(ValueError, match="radius must be >= 2, got 1"):
        spectral.upsampling_peaks(spec, radius=1)
    with pytest.raises(ValueError, match="threshold must be finite"):
        spectral.estimate_upsampling_factor(spec, threshold=np.nan)
    with pytest.raises(TypeError, match="threshold must be a real number"):
        spectral.estimate_upsampling_factor(spec, threshold="high")
    with pytest.raises(ValueError, match="jpeg_grid must be a finite"):
        spectral.estimate_upsampling_factor(spec, jpeg_grid=np.nan)


def test_jpeg_grid_score_bad_input():
    with pytest.raises(ValueError, match="at least 16x16"):
        spectral.jpeg_grid_score(np.zeros((15, 64)))
    with pytest.raises(spectral.ShapeError, match=r"\(H, W\) or \(N, H, W\)"):
        spectral.jpeg_grid_score(np.zeros(64))
    img = np.zeros((32, 32))
    img[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        spectral.jpeg_grid_score(img)
    with pytest.raises(spectral.ShapeError, match="1, 3 or 4 channels"):
        spectral.jpeg_grid_score(np.zeros((32, 32, 5)), channel_axis=-1)
    with pytest.raises(ValueError, match="signed integer.*data_range"):
        spectral.jpeg_grid_score(np.zeros((32, 32), dtype=np.int32))
    with pytest.raises(ValueError, match="data_range must be a positive"):
        spectral.jpeg_grid_score(np.zeros((32, 32)), data_range=0)
    # A flat image gives no evidence either way.
    assert spectral.jpeg_grid_score(np.full((32, 32), 0.5)) == 0.0
