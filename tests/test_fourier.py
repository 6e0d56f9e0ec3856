import numpy as np
import pytest

import reference_spectra as ref
from spectral import ShapeError, power_spectrum, spectrum_frequencies
from tolerances import tol

SHAPES = [(1, 7), (1, 8), (7, 1), (5, 5), (6, 6), (7, 10), (16, 9)]


def _close(actual, expected, dtype, *, log):
    # Power: relative to the largest bin (float32 FFT round-off is relative to
    # the image energy, not to each bin). Decibels: absolute, except for bins
    # so small that float32 round-off dominates them.
    if log:
        floor = expected.max() - (60 if dtype == np.float32 else 200)
        keep = expected > floor
        np.testing.assert_allclose(actual[keep], expected[keep], atol=1e-3)
    else:
        scale = max(float(expected.max()), 1e-300)
        np.testing.assert_allclose(
            actual / scale, expected / scale, atol=tol(dtype)["atol"] * 10
        )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shift", [True, False])
@pytest.mark.parametrize("log", [True, False])
def test_matches_numpy_fft(shape, dtype, shift, log):
    rng = np.random.default_rng(20)
    image = rng.random(shape).astype(dtype)
    out = power_spectrum(image, shift=shift, log=log)
    assert out.dtype == dtype
    assert out.shape == shape
    _close(out, ref.power_spectrum(image, shift=shift, log=log), dtype, log=log)


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward", None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norms(norm, dtype):
    rng = np.random.default_rng(21)
    image = rng.normal(size=(9, 12)).astype(dtype)
    expected = ref.power_spectrum(image, log=False, norm=norm or "backward")
    _close(power_spectrum(image, log=False, norm=norm), expected, dtype, log=False)


@pytest.mark.parametrize("shape", [(8, 8), (7, 12), (1, 9)])
def test_parseval_with_ortho(shape):
    rng = np.random.default_rng(22)
    image = rng.normal(size=shape)
    power = power_spectrum(image, log=False, norm="ortho")
    np.testing.assert_allclose(power.sum(), np.sum(image**2), rtol=1e-12)


@pytest.mark.parametrize(
    ("window", "name", "alpha"),
    [("hann", "hann", 0.5), ("tukey", "tukey", 0.5), (("tukey", 0.25), "tukey", 0.25),
     (("tukey", 0), "tukey", 0.0), (("tukey", 1.0), "tukey", 1.0)],
)
@pytest.mark.parametrize("shape", [(1, 6), (7, 10), (12, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_windows_are_outer_products(window, name, alpha, shape, dtype):
    rng = np.random.default_rng(23)
    image = rng.random(shape).astype(dtype)
    out = power_spectrum(image, window=window, log=False)
    expected = ref.power_spectrum(image, window=name, alpha=alpha, log=False)
    _close(out, expected, dtype, log=False)


def test_hann_window_is_periodic_and_tukey_zero_is_no_window():
    rng = np.random.default_rng(24)
    image = rng.random((8, 8))
    # Periodic Hann of length 8: first sample 0, the others symmetric about 4.
    w = ref.window_2d("hann", 8, 8)
    assert w[0, 0] == 0 and w[4, 4] == 1
    np.testing.assert_allclose(
        power_spectrum(image, window=("tukey", 0.0), log=False),
        power_spectrum(image, log=False),
        rtol=1e-12,
    )


def test_detrend_removes_dc():
    rng = np.random.default_rng(25)
    image = 5.0 + rng.random((10, 12))
    power = power_spectrum(image, detrend=True, log=False)
    assert power[5, 6] < 1e-20
    expected = ref.power_spectrum(image, detrend=True, window="hann", log=False)
    _close(power_spectrum(image, detrend=True, window="hann", log=False), expected,
           np.float64, log=False)
    # Detrending float32 input keeps float32.
    assert power_spectrum(image.astype(np.float32), detrend=True).dtype == np.float32


def test_planted_cosine_peak_known_answer():
    # cos(2 pi (fy y + fx x)) puts a quarter of the energy squared at +-(fy, fx).
    h, w = 16, 20
    yy, xx = np.mgrid[:h, :w]
    image = np.cos(2 * np.pi * (3 * yy / h + 5 * xx / w))
    power = power_spectrum(image, log=False, norm="ortho")
    fy, fx = spectrum_frequencies(image.shape)
    peaks = sorted(
        (float(fy[i]), float(fx[j])) for i, j in np.argwhere(power > 1e-6 * power.max())
    )
    assert peaks == [(-3 / h, -5 / w), (3 / h, 5 / w)]
    np.testing.assert_allclose(power.max(), h * w / 4, rtol=1e-12)


def test_batch_and_channel_layouts():
    rng = np.random.default_rng(26)
    batch = rng.random((3, 6, 7, 2)).astype(np.float32)
    per_channel = power_spectrum(batch, channel_axis=-1)
    assert per_channel.shape == (3, 2, 6, 7)
    for n in range(3):
        for c in range(2):
            expected = ref.power_spectrum(batch[n, :, :, c])
            _close(per_channel[n, c], expected, np.float32, log=True)

    single = power_spectrum(batch[0], channel_axis=2)
    assert single.shape == (2, 6, 7)
    np.testing.assert_array_equal(single, per_channel[0])

    channels_first = np.moveaxis(batch, -1, 1)
    np.testing.assert_array_equal(
        power_spectrum(channels_first, channel_axis=1), per_channel
    )

    grey = batch[..., 0]
    out = power_spectrum(grey, workers=2)
    assert out.shape == (3, 6, 7)
    for n in range(3):
        np.testing.assert_array_equal(out[n], power_spectrum(grey[n]))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, bool, np.float16])
def test_dtype_policy(dtype):
    rng = np.random.default_rng(27)
    image = (rng.random((5, 6)) * 3).astype(dtype)
    out = power_spectrum(image)
    expected = np.float32 if dtype == np.float16 else np.float64
    assert out.dtype == expected
    _close(out, ref.power_spectrum(image.astype(np.float64)), expected, log=True)


def test_log_floor_on_zero_image():
    out = power_spectrum(np.zeros((4, 4)))
    np.testing.assert_allclose(out, -120.0)


def test_input_is_not_modified():
    rng = np.random.default_rng(28)
    image = rng.random((6, 6))
    before = image.copy()
    power_spectrum(image, detrend=True, window="hann")
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("shape", [(4, 5), (1, 1), (1, 6), (7, 2)])
@pytest.mark.parametrize("shift", [True, False])
def test_frequencies_match_numpy(shape, shift):
    fy, fx = spectrum_frequencies(shape, shift=shift)
    ey, ex = np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1])
    if shift:
        ey, ex = np.fft.fftshift(ey), np.fft.fftshift(ex)
    np.testing.assert_array_equal(fy, ey)
    np.testing.assert_array_equal(fx, ex)
    if shift:
        assert fy[shape[0] // 2] == 0 and fx[shape[1] // 2] == 0
    # An image shape (with a batch axis) works too.
    assert spectrum_frequencies((3, *shape))[0].shape == (shape[0],)


def test_errors():
    image = np.zeros((4, 4))
    with pytest.raises(ShapeError, match=r"got shape \(4,\)"):
        power_spectrum(np.zeros(4))
    with pytest.raises(ShapeError, match=r"\(2, 2, 4, 4\)"):
        power_spectrum(np.zeros((2, 2, 4, 4)))
    with pytest.raises(TypeError, match="real-valued"):
        power_spectrum(image.astype(complex))
    nan = image.copy()
    nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        power_spectrum(nan)
    with pytest.raises(ValueError, match="window.*'hamming'"):
        power_spectrum(image, window="hamming")
    with pytest.raises(ValueError, match=r"window.*\('hann', 0.5\)"):
        power_spectrum(image, window=("hann", 0.5))
    with pytest.raises(ValueError, match="alpha.*1.5"):
        power_spectrum(image, window=("tukey", 1.5))
    with pytest.raises(ValueError, match="window"):
        power_spectrum(image, window=3)
    with pytest.raises(ValueError, match="norm.*'unitary'"):
        power_spectrum(image, norm="unitary")
    with pytest.raises(ValueError, match="channel_axis=5"):
        power_spectrum(np.zeros((4, 4, 3)), channel_axis=5)
    with pytest.raises(ValueError, match="shape"):
        spectrum_frequencies((4,))
    with pytest.raises(ValueError, match="shape"):
        spectrum_frequencies((0, 3))
