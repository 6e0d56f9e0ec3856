import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image

import spectral
from spectral import _batch

# Plain references ------------------------------------------------------------------


def reference_gray(path):
    """Pillow decode and BT.601 luma in float64, independent of read_image."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    return pixels @ np.array([0.299, 0.587, 0.114])


def reference_spectra(paths, *, log=True, complex_mean=False):
    """The obvious loop: read, grey, fft2, fftshift, (log) power, mean, var."""
    spectra = []
    for path in paths:
        transform = np.fft.fftshift(np.fft.fft2(reference_gray(path)))
        if complex_mean:
            spectra.append(transform)
            continue
        power = np.abs(transform) ** 2
        spectra.append(10 * np.log10(power + 1e-12) if log else power)
    spectra = np.array(spectra)
    mean = spectra.mean(axis=0)
    var = np.mean(np.abs(spectra - mean) ** 2, axis=0)
    return mean, var


def write_images(folder, shapes, *, seed, colour=True):
    """Write random 8-bit PNGs ``000.png, 001.png, ...``; return their paths."""
    rng = np.random.default_rng(seed)
    folder.mkdir(exist_ok=True)
    paths = []
    for i, shape in enumerate(shapes):
        full = (*shape, 3) if colour else shape
        pixels = rng.integers(0, 256, full, dtype=np.uint8)
        path = folder / f"{i:03d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


def scaled_sum(image, *, factor):
    return np.array([image.sum() * factor, image.shape[0]])


def fails_on_odd(image):
    if image.shape[1] % 2:
        raise ZeroDivisionError("odd width")
    return image.mean()


# extract_features -------------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "mixed"
    paths = write_images(folder, [(12, 10)] * 5, seed=0)
    (folder / "002_broken.png").write_bytes(b"not an image at all")
    (folder / "notes.txt").write_text("ignored")
    return folder, paths


def test_features_skip_bad_files_same_with_one_or_two_workers(mixed_folder):
    folder, paths = mixed_folder
    one = spectral.extract_features(folder, "power_spectrum", workers=1,
                                    progress=False)
    two = spectral.extract_features(folder, "power_spectrum", workers=2,
                                    progress=False)

    assert one.paths == tuple(paths)
    assert [p for p, _ in one.failed] == [str(folder / "002_broken.png")]
    assert "not recognised" in one.failed[0][1]
    assert one.features.shape == (5, 12, 10)
    expected = [spectral.power_spectrum(spectral.read_image(p, mode="gray"))
                for p in paths]
    assert_array_equal(one.features, np.array(expected))
    assert two.paths == one.paths and two.failed == one.failed
    assert_array_equal(two.features, one.features)


def test_features_keep_the_order_of_a_sequence(mixed_folder):
    _, paths = mixed_folder
    order = paths[::-1]
    result = spectral.extract_features(order, scaled_sum, workers=2, progress=False,
                                       factor=2.0)
    assert result.paths == tuple(order)
    sums = [2.0 * spectral.read_image(p, mode="gray").sum() for p in order]
    assert_allclose(result.features[:, 0], sums, rtol=1e-6)  # float32 sums


def test_features_ragged_become_a_list(tmp_path):
    paths = write_images(tmp_path / "r", [(4, 5), (6, 5), (4, 5)], seed=1)
    result = spectral.extract_features(paths, np.ravel, workers=1, progress=False,
                                       mode="rgb")
    assert isinstance(result.features, list)
    assert [f.shape for f in result.features] == [(60,), (90,), (60,)]


def test_features_size_crop(tmp_path):
    paths = write_images(tmp_path / "c", [(10, 12), (8, 8), (6, 6)], seed=2,
                         colour=False)
    result = spectral.extract_features(paths, np.asarray, workers=1,
                                       progress=False, size=(8, 8))
    assert result.paths == tuple(paths[:2])
    assert result.failed[0][0] == paths[2]
    assert "smaller than size 8x8" in result.failed[0][1]
    whole = spectral.read_image(paths[0], mode="gray")
    assert_array_equal(result.features[0], whole[1:9, 2:10])


def test_feature_errors_propagate_with_the_file(tmp_path):
    paths = write_images(tmp_path / "e", [(4, 4), (4, 5)], seed=3)
    with pytest.raises(ZeroDivisionError) as info:
        spectral.extract_features(paths, fails_on_odd, workers=2, progress=False)
    assert any(paths[1] in note for note in getattr(info.value, "__notes__", []))


def test_features_all_failed_is_empty(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    result = spectral.extract_features([bad], "residual", workers=1, progress=False)
    assert result.features.shape == (0,) and result.paths == ()
    assert result.failed[0][0] == str(bad)


def test_features_input_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty.*no image files"):
        spectral.extract_features(empty, "residual", progress=False)
    (empty / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="no image files"):
        spectral.extract_features(empty, "residual", progress=False)
    with pytest.raises(ValueError, match="empty sequence"):
        spectral.extract_features([], "residual", progress=False)
    with pytest.raises(FileNotFoundError, match="missing"):
        spectral.extract_features(tmp_path / "missing", "residual", progress=False)

    paths = write_images(tmp_path / "ok", [(4, 4)], seed=4)
    with pytest.raises(ValueError, match="feature must be one of"):
        spectral.extract_features(paths, "fft", progress=False)
    with pytest.raises(TypeError, match="feature must be"):
        spectral.extract_features(paths, 3, progress=False)
    with pytest.raises(TypeError, match="cannot be sent"):
        spectral.extract_features(paths * 2, lambda im: im, workers=2,
                                  progress=False)
    with pytest.raises(ValueError, match="size"):
        spectral.extract_features(paths, "residual", size=(4,), progress=False)
    with pytest.raises(ValueError, match="workers"):
        spectral.extract_features(paths, "residual", workers=0, progress=False)
    lam = spectral.extract_features(paths, lambda im: im.shape, workers=1,
                                    progress=False)
    assert lam.features.tolist() == [[4, 4]]


def test_to_npz_round_trip_and_no_overwrite(tmp_path):
    paths = write_images(tmp_path / "n", [(4, 5), (6, 5)], seed=5)
    bad = tmp_path / "n" / "zz.png"
    bad.write_bytes(b"")
    result = spectral.extract_features([*paths, bad], np.ravel, workers=1,
                                       progress=False)
    out = tmp_path / "features.npz"
    assert result.to_npz(out) == out
    with np.load(out, allow_pickle=False) as data:
        assert data["paths"].tolist() == paths
        assert_array_equal(data["features_00001"], result.features[1])
        assert data["failed_paths"].tolist() == [str(bad)]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        result.to_npz(out)
    stacked = spectral.extract_features(paths, np.mean, workers=1, progress=False)
    stacked.to_npz(out, overwrite=True)
    with np.load(out, allow_pickle=False) as data:
        assert_array_equal(data["features"], stacked.features)


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    paths = write_images(tmp_path / "p", [(4, 4)] * 3, seed=6)
    spectral.extract_features(paths, np.mean, workers=1, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "features" in captured.err
    spectral.mean_spectrum(paths, workers=1, progress=False)
    assert capsys.readouterr().err == ""


# mean_spectrum -----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 12), (7, 9), (1, 8), (9, 1)])
@pytest.mark.parametrize("log", [True, False])
def test_mean_spectrum_equals_numpy_reference(tmp_path, shape, log):
    paths = write_images(tmp_path / "m", [shape] * 6, seed=7)
    result = spectral.mean_spectrum(paths, log=log, workers=1, progress=False)
    mean, var = reference_spectra(paths, log=log)

    stats = result.stats
    assert stats.count == 6 and stats.mean.shape == shape
    assert result.paths == tuple(paths) and result.failed == ()
    if log:
        # float32 FFT round-off is about 1e-7 of the largest coefficient; in
        # decibels that is ~1e-5 dB at typical bins and more at near-zero ones.
        assert_allclose(stats.mean, mean, rtol=0, atol=2e-3)
        assert_allclose(stats.var, var, rtol=1e-3, atol=2e-3)
    else:
        scale = mean.max()
        assert_allclose(stats.mean, mean, rtol=1e-5, atol=1e-6 * scale)
        assert_allclose(stats.var, var, rtol=1e-4, atol=1e-6 * scale**2)


@pytest.mark.parametrize("shape", [(8, 10), (7, 5)])
def test_complex_mean_equals_numpy_reference(tmp_path, shape):
    paths = write_images(tmp_path / "z", [shape] * 5, seed=8)
    stats = spectral.mean_spectrum(paths, complex_mean=True, workers=1,
                                   progress=False).stats
    mean, var = reference_spectra(paths, complex_mean=True)
    assert stats.complex_mean and np.iscomplexobj(stats.mean)
    scale = np.abs(mean).max()  # the DC term; float32 error is relative to it
    assert_allclose(stats.mean, mean, rtol=0, atol=1e-6 * scale)
    assert_allclose(stats.var, var, rtol=1e-5, atol=1e-6 * scale**2)


def test_complex_mean_keeps_a_phase_coherent_pattern(tmp_path):
    # A fixed periodic pattern on random content survives the complex mean
    # while the content averages out.
    rng = np.random.default_rng(9)
    folder = tmp_path / "coherent"
    folder.mkdir()
    stripes = 40 * (np.arange(16) % 4 == 0)[None, :]
    for i in range(40):
        noise = rng.integers(0, 200, (16, 16))
        pixels = np.clip(noise + stripes, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:02d}.png")
    mean = spectral.mean_spectrum(folder, complex_mean=True, workers=1,
                                  progress=False).stats.mean
    magnitude = np.abs(mean)
    magnitude[8, 8] = 0  # the DC term
    peak = np.unravel_index(np.argmax(magnitude), magnitude.shape)
    assert peak[0] == 8 and abs(peak[1] - 8) == 4  # 1/4 cycle per pixel


def test_mean_spectrum_same_with_two_workers(tmp_path):
    paths = write_images(tmp_path / "w", [(10, 14)] * 40, seed=10)
    one = spectral.mean_spectrum(paths, workers=1, progress=False).stats
    two = spectral.mean_spectrum(paths, workers=2, progress=False).stats
    assert two.count == one.count == 40
    # Different merge orders: equal up to float64 round-off.
    assert_allclose(two.mean, one.mean, rtol=1e-12, atol=1e-10)
    assert_allclose(two.var, one.var, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("method", ["median", "laplacian", "npr"])
def test_mean_residual_spectrum_equals_public_functions(tmp_path, method):
    paths = write_images(tmp_path / "res", [(12, 15)] * 4, seed=11)
    result = spectral.mean_spectrum(paths, residual=method, workers=1,
                                    progress=False)
    spectra = [
        spectral.power_spectrum(
            spectral.residual(spectral.read_image(p, mode="gray"), method=method))
        for p in paths
    ]
    expected = np.mean(spectra, axis=0)
    # The same float32 pipeline up to one-ulp differences in the grey values.
    # Bins whose power is round-off (NPR's zero anchors leave some near the
    # 1e-12 floor) differ arbitrarily in decibels: both must just stay there.
    live = expected > -60.0
    assert_allclose(result.stats.mean[live], expected[live], rtol=1e-5, atol=1e-3)
    assert np.all(result.stats.mean[~live] < -50.0)


@pytest.mark.parametrize("window", ["hann", ("tukey", 0.25)])
def test_mean_spectrum_window_equals_power_spectrum(tmp_path, window):
    paths = write_images(tmp_path / "win", [(9, 16)] * 3, seed=12)
    result = spectral.mean_spectrum(paths, window=window, log=False, workers=1,
                                    progress=False)
    spectra = [spectral.power_spectrum(spectral.read_image(p, mode="gray"),
                                       window=window, log=False) for p in paths]
    expected = np.mean(spectra, axis=0)
    assert_allclose(result.stats.mean, expected, rtol=1e-5,
                    atol=1e-6 * expected.max())


def test_mean_spectrum_sizes_and_crop(tmp_path):
    folder = tmp_path / "sizes"
    paths = write_images(folder, [(8, 8), (8, 8), (10, 12), (6, 8)], seed=13)
    (folder / "000_bad.png").write_bytes(b"")  # sorts first

    plain = spectral.mean_spectrum(folder, workers=1, progress=False)
    assert plain.stats.count == 2 and plain.paths == tuple(paths[:2])
    reasons = dict(plain.failed)
    assert set(reasons) == {str(folder / "000_bad.png"), paths[2], paths[3]}
    assert "pass size= to crop" in reasons[paths[2]]

    cropped = spectral.mean_spectrum(folder, size=(8, 8), workers=1,
                                     progress=False)
    assert cropped.paths == tuple(paths[:3])
    assert "smaller than size" in dict(cropped.failed)[paths[3]]
    centre = spectral.read_image(paths[2], mode="gray")[1:9, 2:10]
    grey = [spectral.read_image(p, mode="gray") for p in paths[:2]] + [centre]
    expected = np.mean([spectral.power_spectrum(g) for g in grey], axis=0)
    assert_allclose(cropped.stats.mean, expected, rtol=1e-5, atol=1e-3)


def test_mean_spectrum_of_grey_and_16bit_files(tmp_path):
    folder = tmp_path / "kinds"
    folder.mkdir()
    rng = np.random.default_rng(14)
    grey8 = rng.integers(0, 256, (6, 8), dtype=np.uint8)
    grey16 = rng.integers(0, 65536, (6, 8), dtype=np.uint16)
    Image.fromarray(grey8).save(folder / "a.png")
    Image.fromarray(grey16).save(folder / "b.png")
    result = spectral.mean_spectrum(folder, log=False, workers=1, progress=False)
    images = [grey8 / 255.0, grey16 / 65535.0]
    expected = np.mean([np.abs(np.fft.fftshift(np.fft.fft2(g))) ** 2
                        for g in images], axis=0)
    assert_allclose(result.stats.mean, expected, rtol=1e-5,
                    atol=1e-6 * expected.max())


def test_mean_spectrum_errors(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    with pytest.raises(ValueError, match="no image of the given files"):
        spectral.mean_spectrum([bad], workers=1, progress=False)
    paths = write_images(tmp_path / "ok", [(4, 4)], seed=15)
    with pytest.raises(ValueError, match="residual must be one of"):
        spectral.mean_spectrum(paths, residual="gauss", progress=False)
    with pytest.raises(ValueError, match="window"):
        spectral.mean_spectrum(paths, window="kaiser", progress=False)


def test_full_plane_rebuild_matches_fft2():
    rng = np.random.default_rng(16)
    for shape in [(1, 1), (1, 6), (5, 1), (4, 7), (6, 6), (7, 8)]:
        image = rng.standard_normal(shape)
        half = np.fft.rfft2(image)
        full = _batch._full_plane(half, shape[1], conjugate=True)
        assert_allclose(full, np.fft.fftshift(np.fft.fft2(image)), atol=1e-12)
        power = _batch._full_plane(np.abs(half) ** 2, shape[1], conjugate=False)
        assert_allclose(power, np.abs(np.fft.fftshift(np.fft.fft2(image))) ** 2,
                        atol=1e-12)
