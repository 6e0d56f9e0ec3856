import csv
import os

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

import spectral
from analysis import compare as compare_mod
from analysis.compare import GeneratorComparison, compare_generators

N = 6


def _smooth(rng, shape):
    x = gaussian_filter(rng.normal(size=shape), 1.5)
    return (x - x.min()) / (np.ptp(x) + 1e-12)


def _phase_pattern(shape):
    # A 2x2 tile with a different value per output phase, as a stride-2
    # transposed convolution leaves: peaks at (N/2, 0), (0, N/2) and (N/2, N/2).
    tile = np.array([[1.0, -0.3], [0.4, -1.1]])
    return np.tile(tile, (shape[0] // 2, shape[1] // 2))


def _save(path, arr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8)).save(path)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two generators: 'up2' adds a phase-locked x2 pattern, 'plain' adds none."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    shape = (40, 48)
    for gen in ("plain", "up2"):
        for i in range(N):
            # One real and one fake larger than the rest: they are centre-cropped.
            big = (44, 52) if (gen, i) == ("plain", 0) else shape
            _save(root / gen / "0_real" / f"{i}.png", _smooth(rng, big))
            fake = _smooth(rng, big)
            if gen == "up2":
                fake = 0.9 * fake + 0.04 * (_phase_pattern(shape) + 1.1)
            _save(root / gen / "1_fake" / f"{i}.png", fake)
    return root


@pytest.fixture(scope="module")
def comparison(dataset):
    return compare_generators(dataset, workers=1, progress=False)


def _crop(img, size):
    h, w = size
    top, left = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[top:top + h, left:left + w]


def _reference(folder, size):
    imgs = [_crop(spectral.read_image(os.path.join(folder, f), mode="gray"), size)
            for f in sorted(os.listdir(folder))]
    res = [spectral.residual(x, method="median", size=5) for x in imgs]
    ffts = [np.fft.fftshift(np.fft.fft2(r.astype(np.float64))) for r in res]
    return {
        "residual": np.mean([10 * np.log10(np.abs(f) ** 2 + 1e-12) for f in ffts], 0),
        "fingerprint": np.log(np.abs(np.mean(ffts, 0)) + 1e-6),
        "dct": np.mean([spectral.dct_spectrum(x) for x in imgs], 0),
        "profiles": np.stack([spectral.azimuthal_average(r)
                              for r in res]),
        "jpeg": np.array([spectral.jpeg_grid_score(x) for x in imgs]),
    }


def test_statistics_match_a_plain_numpy_reference(dataset, comparison):
    assert comparison.generators == ["plain", "up2"]
    # The common size is the smallest: the larger real is centre-cropped.
    assert comparison.size == (40, 48)
    for gen in ("plain", "up2"):
        for cls, sub in (("real", "0_real"), ("fake", "1_fake")):
            ref = _reference(dataset / gen / sub, comparison.size)
            assert comparison.count(gen, cls) == N
            # Per-image work is float32 (read_image), accumulation float64: the
            # dB values agree to ~1e-3 dB; bins near the 1e-12 floor are the
            # most sensitive, so the tolerance is absolute.
            np.testing.assert_allclose(comparison.mean_residual(gen, cls),
                                       ref["residual"], rtol=0, atol=2e-2)
            np.testing.assert_allclose(comparison.fingerprint(gen, cls),
                                       ref["fingerprint"], rtol=0, atol=2e-3)
            np.testing.assert_allclose(comparison.mean_dct(gen, cls), ref["dct"],
                                       rtol=0, atol=2e-3)
            np.testing.assert_allclose(comparison.profiles(gen, cls),
                                       ref["profiles"], rtol=0, atol=2e-3)
            np.testing.assert_allclose(comparison.groups[(gen, cls)].jpeg,
                                       ref["jpeg"], rtol=0, atol=1e-5)
    freqs = spectral.azimuthal_frequencies((40, 48))
    np.testing.assert_array_equal(comparison.freqs, freqs)
    lin = comparison.profiles("up2", "fake", linear=True)
    np.testing.assert_allclose(10 * np.log10(lin), comparison.profiles("up2", "fake"))


def test_peak_table_finds_the_planted_x2_grid(comparison):
    rows = {(r["generator"], r["class"]): r for r in comparison.peak_table()}
    up = rows[("up2", "fake")]
    # The pattern puts peaks at the three x2 positions, far above their
    # neighbourhoods.
    assert up["factor"] == 2
    assert up["x2"] > 20
    for key in (("plain", "real"), ("plain", "fake"), ("up2", "real")):
        assert rows[key]["factor"] == 1, key
        assert rows[key]["x2"] < 10, key
    assert all(r["n"] == N for r in rows.values())


def test_fingerprint_keeps_the_phase_locked_pattern(comparison):
    h, w = comparison.size
    fp = comparison.fingerprint("up2", "fake")
    plain = comparison.fingerprint("plain", "fake")
    # The pattern sits at the same phase in every fake: the corner bin of the
    # centred spectrum (frequency (-1/2, -1/2)) survives complex averaging.
    assert fp[0, 0] > plain[0, 0] + 3


def test_distances(comparison):
    d = comparison.distances()
    assert d.shape == (2, 2)
    np.testing.assert_array_equal(np.diag(d), 0)
    assert d[0, 1] == d[1, 0] > 0
    # Reference: RMS of the difference of the two signatures, DC left out.
    h, w = comparison.size
    sig = [comparison.mean_residual(g, "fake") - comparison.mean_residual(g, "real")
           for g in comparison.generators]
    diff = (sig[0] - sig[1]).ravel()
    diff = np.delete(diff, (h // 2) * w + w // 2)
    assert d[0, 1] == pytest.approx(np.sqrt(np.mean(diff**2)), rel=1e-12)
    cos = comparison.distances(method="cosine")
    assert 0 < cos[0, 1] <= 2
    with pytest.raises(ValueError, match="method"):
        comparison.distances(method="l1")


def test_streaming_in_chunks_and_processes_gives_the_same_result(
        dataset, comparison, monkeypatch):
    # Chunks of 16 images and a process pool for every chunk.
    monkeypatch.setattr(compare_mod, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(compare_mod, "_MIN_PARALLEL", 1)
    other = compare_generators(dataset, workers=2, progress=False)
    for key, group in comparison.groups.items():
        o = other.groups[key]
        # Chan's merge reorders the float64 sums: round-off only.
        np.testing.assert_allclose(o.residual.mean, group.residual.mean,
                                   rtol=0, atol=1e-9)
        np.testing.assert_allclose(o.fingerprint.mean, group.fingerprint.mean,
                                   rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(o.profiles, group.profiles)
        assert o.paths == group.paths


def test_size_max_images_and_generators(dataset):
    comp = compare_generators(dataset, size=42, progress=False, workers=1,
                              generators=["plain"])
    assert comp.generators == ["plain"]
    # Only the larger real and fake are at least 42 px high: the rest is skipped.
    assert comp.count("plain", "real") == comp.count("plain", "fake") == 1
    assert len(comp.failed) == 2 * N - 2
    assert all("smaller than size" in reason for _, reason in comp.failed)
    with pytest.raises(ValueError, match="no readable real image of generator 'up2'"):
        compare_generators(dataset, size=42, progress=False, workers=1)

    comp = compare_generators(dataset, max_images=2, progress=False, workers=1)
    assert comp.count("up2", "fake") == 2
    again = compare_generators(dataset, max_images=2, progress=False, workers=1)
    assert comp.groups[("up2", "fake")].paths == again.groups[("up2", "fake")].paths

    with pytest.raises(ValueError, match="below 16"):
        compare_generators(dataset, size=8, progress=False, workers=1)
    with pytest.raises(ValueError, match="max_images"):
        compare_generators(dataset, max_images=0, progress=False)
    with pytest.raises(ValueError, match="workers"):
        compare_generators(dataset, workers=0, progress=False)


def test_save_load_and_plot(comparison, tmp_path):
    paths = comparison.save(tmp_path)
    loaded = GeneratorComparison.load(tmp_path)
    assert loaded.generators == comparison.generators
    assert loaded.size == comparison.size
    for key, group in comparison.groups.items():
        np.testing.assert_array_equal(loaded.groups[key].residual.mean,
                                      group.residual.mean)
        np.testing.assert_array_equal(loaded.groups[key].fingerprint.mean,
                                      group.fingerprint.mean)
        np.testing.assert_array_equal(loaded.groups[key].profiles, group.profiles)
    assert loaded.peak_table() == comparison.peak_table()

    with open(paths["peaks"], encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row, ref in zip(rows, comparison.peak_table(), strict=True):
        assert row["generator"] == ref["generator"]
        assert int(row["factor"]) == ref["factor"]
        assert float(row["x2"]) == ref["x2"]
    with open(paths["distances"], encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert float(rows[1][2]) == comparison.distances()[0, 1]

    figures = comparison.plot(tmp_path)
    assert set(figures) == {"mean_spectra", "fingerprints", "dct", "profiles",
                            "peaks", "distances"}
    for entry in figures.values():
        assert os.path.getsize(tmp_path / entry["path"]) > 1000
        assert entry["section"] == "spectra"

    res = comparison.to_results()
    assert res["distances"]["names"] == ["plain", "up2"]
    assert res["spectra_summary"]["counts"]["up2"]["fake"] == N


def test_band_profiles_feed_the_blur_study(comparison):
    from analysis.blur import blur_study

    profiles, freqs = comparison.band_profiles()
    assert freqs[0] > 0 and profiles["up2"][1].shape[1] == freqs.size
    study = blur_study(profiles, freqs)
    # The x2 pattern lives at the highest frequencies (0.5 on the axes, 0.71 in
    # the corners): the 'up2' fakes differ from their reals there.
    assert study.bands["up2"].peak_frequency >= 0.5
