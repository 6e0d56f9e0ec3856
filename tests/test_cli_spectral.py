import csv

import numpy as np
import pytest
from numpy.testing import assert_allclose
from PIL import Image

import spectral
from analysis.cli import COMMANDS, main


def write_folder(folder, n, *, seed, size=32, upsample=False):
    """Random grey PNGs; with ``upsample`` a x2 zero-insertion upsampling.

    The inserted pixels hold a constant level, which leaves the periodic
    pattern (peaks at N/2) that a transposed convolution leaves.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(n):
        if upsample:
            pixels = np.full((size, size), 64, dtype=np.uint8)
            pixels[::2, ::2] = rng.integers(128, 256, (size // 2, size // 2))
        else:
            pixels = rng.integers(0, 256, (size, size), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:02d}.png")
    return folder


@pytest.fixture
def folders(tmp_path):
    real = write_folder(tmp_path / "data" / "real", 4, seed=0)
    fake = write_folder(tmp_path / "data" / "fake", 4, seed=1, upsample=True)
    (fake / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return real, fake


def test_commands_are_registered():
    assert COMMANDS["spectra"][0] == "analysis._cmd_spectra"
    assert COMMANDS["peaks"][0] == "analysis._cmd_peaks"


def test_spectra_writes_npz_png_and_failed_csv(folders, tmp_path, capsys):
    real, fake = folders
    out = tmp_path / "out"
    argv = ["spectra", str(real), str(fake), "--out", str(out), "--workers", "1",
            "--quiet"]
    assert main(argv) == 0

    stats = spectral.SpectrumStats.load(out / "real_mean_spectrum.npz")
    assert stats.count == 4 and stats.shape == (32, 32)
    direct = spectral.mean_spectrum(real, workers=1, progress=False).stats
    assert_allclose(stats.mean, direct.mean)
    assert spectral.SpectrumStats.load(out / "fake_mean_spectrum.npz").count == 4
    assert (out / "mean_spectra.png").stat().st_size > 0
    with open(out / "failed.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["name"], r["path"]) for r in rows] == [
        ("fake", str(fake / "zz_broken.png"))]
    assert "real" in capsys.readouterr().out

    # A second run refuses to replace anything, unless told to.
    assert main(argv) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite", "--residual", "median"]) == 0
    residual = spectral.SpectrumStats.load(out / "real_mean_spectrum.npz")
    assert not np.allclose(residual.mean, stats.mean)


def test_spectra_size_crop_and_name_clash(tmp_path, capsys):
    first = write_folder(tmp_path / "a" / "set", 2, seed=2, size=20)
    second = write_folder(tmp_path / "b" / "set", 2, seed=3, size=24)
    out = tmp_path / "out"
    assert main(["spectra", str(first), str(second), "--out", str(out),
                 "--size", "16", "16", "--workers", "1", "--quiet"]) == 0
    for name in ("set", "set_2"):
        stats = spectral.SpectrumStats.load(out / f"{name}_mean_spectrum.npz")
        assert stats.shape == (16, 16) and stats.count == 2


def test_spectra_reports_an_unusable_folder(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    assert main(["spectra", str(empty), "--out", str(out), "--quiet"]) == 1
    assert "no image files" in capsys.readouterr().err
    assert not (out / "failed.csv").exists()


def test_peaks_table(folders, tmp_path, capsys):
    real, fake = folders
    table = tmp_path / "tables" / "peaks.csv"
    argv = ["peaks", str(real), str(fake), "--out", str(table), "--workers", "1",
            "--quiet"]
    assert main(argv) == 0

    with open(table, newline="") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"real", "fake"}
    assert rows["fake"]["images"] == "4" and rows["fake"]["failed"] == "1"

    # The same numbers from the library functions.
    mean = spectral.mean_spectrum(fake, residual="median", log=False, workers=1,
                                  progress=False).stats.mean
    peaks = spectral.upsampling_peaks(mean, factors=(2, 4, 8))
    assert float(rows["fake"]["peak_x2_db"]) == pytest.approx(peaks[2], abs=1e-3)
    grid = [spectral.jpeg_grid_score(spectral.read_image(p, mode="gray"))
            for p in sorted(fake.glob("0*.png"))]
    assert float(rows["fake"]["jpeg_grid_mean"]) == pytest.approx(np.mean(grid),
                                                                  abs=1e-4)
    expected = spectral.estimate_upsampling_factor(mean, jpeg_grid=np.array(grid))
    assert int(rows["fake"]["factor"]) == expected
    # The upsampled images carry the x2 peak; noise does not.
    assert float(rows["fake"]["peak_x2_db"]) > float(rows["real"]["peak_x2_db"])

    printed = capsys.readouterr().out
    assert "jpeg grid" in printed and "fake" in printed
    assert main(argv) == 1
    assert "--overwrite" in capsys.readouterr().err
