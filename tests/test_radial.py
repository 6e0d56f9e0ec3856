import numpy as np
import pytest
import reference_radial as ref
from tolerances import tol

import spectral
from spectral import ShapeError

DTYPES = [np.float32, np.float64]


def _decibel_tol(dtype):
    # float32 spectra carry ~1e-6 relative error in the power: ~1e-5 dB, more in
    # low-power rings; float64 agrees to round-off.
    return {"rtol": 0, "atol": 1e-3} if dtype == np.float32 else tol(dtype)


# -- azimuthal_average, mode="durall" ---------------------------------------


@pytest.mark.parametrize(
    ("shape", "length"),
    [((64, 64), 43), ((128, 128), 88), ((256, 256), 179), ((218, 178), 139)],
)
def test_durall_lengths_match_theirs(shape, length):
    rng = np.random.default_rng(0)
    profile = spectral.azimuthal_average(rng.random(shape), mode="durall")
    assert profile.shape == (length,)
    freqs = spectral.azimuthal_frequencies(shape, mode="durall")
    assert freqs.shape == (length,)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape", [(64, 64), (32, 48), (33, 47), (31, 31), (1, 9), (9, 1), (2, 7)]
)
def test_durall_matches_pixel_loop(shape, dtype):
    rng = np.random.default_rng(1)
    image = rng.random(shape).astype(dtype)
    expected = ref.durall_profile(image)
    got = spectral.azimuthal_average(image, mode="durall")
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, **tol(dtype))


def test_durall_non_square_218x178_matches_pixel_loop():
    rng = np.random.default_rng(2)
    image = rng.random((218, 178)) * 255
    got = spectral.azimuthal_average(image, mode="durall")
    np.testing.assert_allclose(got, ref.durall_profile(image), **tol(np.float64))


def test_durall_constant_image_is_flat_at_the_epsilon_floor():
    # A constant image: every non-zero frequency is exactly 0, and ring 0 (the
    # only one holding the zero frequency) is dropped: every ring is 20 ln 1e-8.
    image = np.full((16, 16), 3.0)
    profile = spectral.azimuthal_average(image, mode="durall")
    np.testing.assert_allclose(profile, 20 * np.log(1e-8), rtol=1e-12)


def test_durall_frequencies():
    pixels = spectral.azimuthal_frequencies((64, 48), mode="durall", units="pixels")
    cycles = spectral.azimuthal_frequencies((64, 48), mode="durall")
    np.testing.assert_array_equal(pixels, np.arange(1, len(pixels) + 1))
    np.testing.assert_allclose(cycles, pixels / 64, rtol=1e-15)


def test_durall_too_small_raises():
    with pytest.raises(ShapeError, match="too small for a Durall profile"):
        spectral.azimuthal_average(np.ones((3, 3)), mode="durall")


def test_durall_rejects_corrected_options():
    with pytest.raises(ValueError, match="inscribed=True"):
        spectral.azimuthal_average(np.ones((8, 8)), mode="durall", inscribed=True)
    with pytest.raises(ValueError, match="bin_width=0.1"):
        spectral.azimuthal_frequencies((8, 8), mode="durall", bin_width=0.1)


# -- azimuthal_average, mode="corrected" ------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(64, 64), (33, 47), (40, 31), (1, 16), (17, 1)])
@pytest.mark.parametrize("inscribed", [False, True])
@pytest.mark.parametrize("bin_width", [None, 1 / 17, 0.03])
def test_corrected_matches_bincount(shape, dtype, inscribed, bin_width):
    rng = np.random.default_rng(3)
    image = rng.random(shape).astype(dtype)
    expected = ref.corrected_profile(image, inscribed=inscribed, bin_width=bin_width)
    got = spectral.azimuthal_average(image, inscribed=inscribed, bin_width=bin_width)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, **_decibel_tol(dtype))


def test_corrected_empty_annuli_are_nan():
    rng = np.random.default_rng(4)
    image = rng.random((16, 16))
    got = spectral.azimuthal_average(image, bin_width=0.01)
    expected = ref.corrected_profile(image, bin_width=0.01)
    assert np.isnan(got).any()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))


def test_corrected_white_noise_is_flat_at_its_variance():
    # White noise of variance s2 has expected power s2 at every frequency.
    rng = np.random.default_rng(5)
    image = rng.normal(0, 2.0, (64, 256, 256))
    profile = spectral.azimuthal_average(image, inscribed=True).mean(axis=0)
    # Rings 8..128 hold >= 50 x 64 samples: the mean is within ~2 % (0.1 dB).
    np.testing.assert_allclose(profile[8:], 10 * np.log10(4.0), atol=0.15)


def test_inscribed_keeps_rings_up_to_nyquist():
    rng = np.random.default_rng(6)
    image = rng.random((48, 40))
    full = spectral.azimuthal_average(image)
    cut = spectral.azimuthal_average(image, inscribed=True)
    freqs = spectral.azimuthal_frequencies((48, 40), inscribed=True)
    assert freqs[-1] == 0.5 and len(cut) == len(freqs) == 25
    assert len(full) > len(cut)
    # Annuli wholly inside the circle are the same; the Nyquist one is halved.
    np.testing.assert_allclose(cut[:-1], full[: len(cut) - 1], rtol=1e-12)
    assert cut[-1] != full[len(cut) - 1]


def test_corrected_frequencies_and_units():
    freqs = spectral.azimuthal_frequencies((30, 60), bin_width=0.05)
    np.testing.assert_allclose(freqs, 0.05 * np.arange(len(freqs)))
    assert len(freqs) == int(np.rint(np.hypot(0.5, 0.5) / 0.05)) + 1
    pixels = spectral.azimuthal_frequencies((30, 60), units="pixels")
    np.testing.assert_allclose(pixels, np.arange(len(pixels)), atol=1e-12)


@pytest.mark.parametrize("mode", ["durall", "corrected"])
def test_batch_equals_per_image(mode):
    rng = np.random.default_rng(7)
    # 12 images: above the threshold where the parallel driver runs.
    images = rng.random((12, 40, 36))
    batch = spectral.azimuthal_average(images, mode=mode)
    single = np.stack([spectral.azimuthal_average(im, mode=mode) for im in images])
    assert batch.shape == single.shape
    np.testing.assert_allclose(batch, single, rtol=1e-13)


@pytest.mark.parametrize("mode", ["durall", "corrected"])
def test_chunks_and_blocks_do_not_change_the_result(mode, monkeypatch):
    from spectral import _radial

    rng = np.random.default_rng(22)
    images = rng.random((11, 20, 18)).astype(np.float32)
    whole = spectral.azimuthal_average(images, mode=mode)
    plane = 20 * (18 // 2 + 1)
    # FFT chunks of 2 planes, kernel blocks of 5 (the last block holds 1).
    monkeypatch.setattr(_radial, "_CHUNK_ELEMENTS", 2 * plane)
    monkeypatch.setattr(_radial, "_BLOCK_ELEMENTS", 5 * plane)
    monkeypatch.setattr(_radial, "_PARALLEL_MIN_PLANES", 2)
    chunked = spectral.azimuthal_average(images, mode=mode)
    np.testing.assert_allclose(chunked, whole, **tol(np.float32))


@pytest.mark.parametrize("mode", ["durall", "corrected"])
def test_colour_is_converted_to_grey(mode):
    rng = np.random.default_rng(8)
    rgb = rng.random((2, 24, 20, 3))
    got = spectral.azimuthal_average(rgb, mode=mode, channel_axis=-1)
    grey = spectral.to_gray(rgb)
    np.testing.assert_allclose(got, spectral.azimuthal_average(grey, mode=mode),
                               rtol=1e-13)
    moved = np.moveaxis(rgb[0], -1, 0)
    np.testing.assert_allclose(
        spectral.azimuthal_average(moved, mode=mode, channel_axis=0), got[0],
        rtol=1e-13,
    )


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.uint8, np.float64), (np.int16, np.float64), (np.bool_, np.float64),
     (np.float16, np.float32), (np.float32, np.float32), (np.float64, np.float64)],
)
def test_dtype_policy(dtype, expected):
    image = (np.random.default_rng(9).random((16, 16)) * 100).astype(dtype)
    assert spectral.azimuthal_average(image).dtype == expected
    assert spectral.azimuthal_average(image, mode="durall").dtype == expected
    assert spectral.radial_energy(image, bin_width=1 / 16).dtype == expected
    assert spectral.decay_fit(image).dtype == np.float64


def test_azimuthal_bad_arguments():
    image = np.ones((8, 8))
    with pytest.raises(ValueError, match="mode must be one of .*'radial'"):
        spectral.azimuthal_average(image, mode="radial")
    with pytest.raises(ValueError, match="bin_width must be finite and > 0; got 0.0"):
        spectral.azimuthal_average(image, bin_width=0)
    with pytest.raises(TypeError, match="bin_width must be a real number"):
        spectral.azimuthal_average(image, bin_width="0.1")
    with pytest.raises(ShapeError, match=r"got shape \(8, 8, 8, 8, 3\)"):
        spectral.azimuthal_average(np.ones((8, 8, 8, 8, 3)), channel_axis=-1)
    with pytest.raises(ValueError, match="channel_axis=5 is out of range"):
        spectral.azimuthal_average(np.ones((8, 8, 3)), channel_axis=5)
    with pytest.raises(TypeError, match="channel_axis must be an integer"):
        spectral.azimuthal_average(np.ones((8, 8, 3)), channel_axis=1.0)
    with pytest.raises(ValueError, match="NaN"):
        spectral.azimuthal_average(np.full((8, 8), np.nan))
    with pytest.raises(ShapeError, match=r"shape must be two positive integers"):
        spectral.azimuthal_frequencies((8, 0))
    with pytest.raises(ValueError, match="units must be one of"):
        spectral.azimuthal_frequencies((8, 8), units="hertz")


# -- radial_energy and angular_energy ---------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(32, 32), (31, 20), (1, 24), (15, 1)])
@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("normalize", [True, False])
def test_radial_energy_matches_reference(shape, dtype, channels, normalize):
    rng = np.random.default_rng(10)
    full = shape if channels is None else (*shape, channels)
    image = rng.random(full).astype(dtype)
    axis = None if channels is None else -1
    expected = ref.radial_energy(image, channel_axis=axis, bin_width=1 / 32,
                                 normalize=normalize)
    got = spectral.radial_energy(image, channel_axis=axis, bin_width=1 / 32,
                                 normalize=normalize)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(32, 32), (31, 20), (1, 24)])
@pytest.mark.parametrize(("sectors", "r_min"), [(16, 0.1), (5, 0.0), (8, 0.3)])
def test_angular_energy_matches_reference(shape, dtype, sectors, r_min):
    rng = np.random.default_rng(11)
    image = rng.random((*shape, 3)).astype(dtype)
    expected = ref.angular_energy(image, channel_axis=-1, sectors=sectors,
                                  r_min=r_min)
    got = spectral.angular_energy(image, channel_axis=-1, sectors=sectors,
                                  r_min=r_min)
    assert got.shape == (sectors,)
    np.testing.assert_allclose(got, expected, **tol(dtype))


def test_radial_energy_256_has_182_bins_and_conserves_energy():
    rng = np.random.default_rng(12)
    image = rng.random((256, 256, 3))
    energy = spectral.radial_energy(image, channel_axis=-1)
    assert energy.shape == (182,)
    np.testing.assert_allclose(energy, ref.radial_energy(image, channel_axis=-1),
                               **tol(np.float64))
    # Normalised to unit RMS: the bins add up to 1.
    np.testing.assert_allclose(energy.sum(), 1.0, rtol=1e-12)


@pytest.mark.parametrize("channel_axis", [None, -1])
def test_radial_energy_sum_is_total_power_without_normalisation(channel_axis):
    rng = np.random.default_rng(13)
    shape = (37, 26) if channel_axis is None else (37, 26, 3)
    image = rng.normal(0.3, 1.5, shape)
    energy = spectral.radial_energy(image, channel_axis=channel_axis,
                                    normalize=False)
    # Parseval: sum |F_ortho|^2 / (H W) = mean of x^2 (over pixels and channels).
    np.testing.assert_allclose(energy.sum(), np.mean(image**2), rtol=1e-12)
    angular = spectral.angular_energy(image, channel_axis=channel_axis, r_min=0,
                                      normalize=False)
    dc = np.mean(image) ** 2 if channel_axis is None else np.mean(
        image.mean(axis=(0, 1)) ** 2
    )
    np.testing.assert_allclose(angular.sum(), np.mean(image**2) - dc, rtol=1e-12)


def test_energy_batch_equals_per_image():
    rng = np.random.default_rng(14)
    images = rng.random((10, 20, 24, 3))
    for func in (spectral.radial_energy, spectral.angular_energy):
        batch = func(images, channel_axis=-1)
        single = np.stack([func(im, channel_axis=-1) for im in images])
        assert batch.shape == single.shape
        np.testing.assert_allclose(batch, single, rtol=1e-12)


def test_energy_of_a_constant_image_is_zero():
    energy = spectral.radial_energy(np.full((16, 16), 0.5), bin_width=1 / 16)
    np.testing.assert_array_equal(energy, 0.0)


def test_angular_energy_finds_the_orientation_of_stripes():
    # Horizontal stripes vary along y: energy at f_x = 0, angle pi/2, sector 4.
    y = np.arange(64)[:, None]
    stripes = np.cos(2 * np.pi * 0.25 * y) * np.ones((1, 64))
    energy = spectral.angular_energy(stripes, sectors=8)
    assert int(np.argmax(energy)) == 4
    np.testing.assert_allclose(energy[4], energy.sum(), rtol=1e-12)


def test_energy_bad_arguments():
    image = np.ones((8, 8))
    with pytest.raises(ValueError, match="sectors must be >= 1, got 0"):
        spectral.angular_energy(image, sectors=0)
    with pytest.raises(TypeError, match="sectors must be an integer"):
        spectral.angular_energy(image, sectors=4.0)
    with pytest.raises(ValueError, match="r_min must be finite and >= 0; got -0.1"):
        spectral.angular_energy(image, r_min=-0.1)
    with pytest.raises(ValueError, match="bin_width must be finite"):
        spectral.radial_energy(image, bin_width=np.inf)


# -- decay_fit ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(32, 32), (40, 36), (33, 31), (64, 64)])
def test_dzanic_matches_step_by_step_reference(shape, dtype):
    rng = np.random.default_rng(15)
    image = ref.power_law_image(shape, -1.5, seed=16) + 0.05 * rng.random(shape)
    image = image.astype(dtype)
    expected = ref.dzanic_features(image)
    got = spectral.decay_fit(image)
    # b: two different optimisers (Nelder-Mead, bounded Brent) stopped at
    # 1e-10 / 1e-12 agree to ~1e-8; float32 spectra move it by up to ~1e-5.
    atol_b = 5e-5 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(got[0], expected[0], rtol=0, atol=atol_b)
    np.testing.assert_allclose(got[1:], expected[1:], **tol(dtype))


def test_dzanic_bins_follow_their_centre_and_edges():
    # 64x64: MATLAB centre (32, 32) is 0-based (31, 31), one pixel off the
    # zero frequency at (32, 32); so the shifted pixel (63, 63) has radius
    # sqrt(2) * 32, the largest, and (0, 0) has sqrt(2) * 31.
    from spectral._radial import _dzanic_bins

    bins, centres = _dzanic_bins((64, 64))
    assert len(centres) == 200 and bins.counts.sum() > 0
    np.testing.assert_allclose(centres[-1] + (centres[1] - centres[0]) / 2,
                               np.sqrt(2) * 32, rtol=1e-12)


@pytest.mark.parametrize("exponent", [-0.5, -2.0, -3.0])
def test_decay_fit_recovers_an_exact_power_law(exponent):
    image = ref.power_law_image((256, 256), exponent, seed=17)
    b_dzanic = spectral.decay_fit(image)[0]
    b_corrected = spectral.decay_fit(image, mode="corrected")[0]
    # Their centre, one pixel off the zero frequency, biases b toward 0 by
    # ~0.7 % at 256x256 (measured 0.004-0.02); the corrected fit is within 0.1 %.
    assert abs(b_dzanic - exponent) < 0.03
    assert abs(b_corrected - exponent) < 0.005


def test_dzanic_is_exact_for_odd_sizes():
    # For odd sizes their centre falls on the zero frequency.
    image = ref.power_law_image((255, 255), -2.0, seed=18)
    assert abs(spectral.decay_fit(image)[0] + 2.0) < 1e-3


def test_corrected_decay_fit_on_shaped_noise_and_levels():
    rng = np.random.default_rng(19)
    shape = (256, 256)
    fy, fx = np.meshgrid(np.fft.fftfreq(256), np.fft.fftfreq(256), indexing="ij")
    radius = np.hypot(fy, fx)
    radius[0, 0] = 1.0
    noise = np.fft.fft2(rng.standard_normal(shape))
    image = np.fft.ifft2(noise * radius**-1.5).real
    b, y_i, y_f = spectral.decay_fit(image, mode="corrected")
    # Mean power of unit white noise is 1 per frequency, so the amplitude of
    # the shaped noise is r ** -1.5: 8 at 0.25, 2.83 at 0.5 (within noise).
    assert abs(b + 1.5) < 0.05
    np.testing.assert_allclose([y_i, y_f], [0.25**-1.5, 0.5**-1.5], rtol=0.05)


def test_corrected_decay_levels_do_not_depend_on_size():
    small = ref.power_law_image((128, 128), -2.0, seed=20)
    large = ref.power_law_image((256, 256), -2.0, seed=20)
    # Same |F| ~ r^b per frequency: scaled to the same amplitude density.
    small *= 128
    large *= 256
    f_small = spectral.decay_fit(small, mode="corrected")
    f_large = spectral.decay_fit(large, mode="corrected")
    np.testing.assert_allclose(f_small, f_large, rtol=0.01)


@pytest.mark.parametrize("mode", ["dzanic", "corrected"])
def test_decay_fit_batch_and_colour(mode):
    rng = np.random.default_rng(21)
    images = rng.random((3, 32, 40, 3))
    batch = spectral.decay_fit(images, mode=mode, channel_axis=-1)
    assert batch.shape == (3, 3)
    single = spectral.decay_fit(spectral.to_gray(images[1]), mode=mode)
    np.testing.assert_allclose(batch[1], single, rtol=1e-12)


def test_decay_fit_bad_arguments():
    with pytest.raises(ShapeError, match="at least 8x8"):
        spectral.decay_fit(np.ones((4, 16)))
    with pytest.raises(ValueError, match="mode must be one of 'dzanic', 'corrected'"):
        spectral.decay_fit(np.ones((16, 16)), mode="durall")
