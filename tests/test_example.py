import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter
from test_report import _fmt, _parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "compare_generators.py")


def _run_example(*args, timeout=600):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, EXAMPLE, *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def _check_outputs(out, generators, *, with_training):
    """Every output exists, and per-generator numbers agree across files."""
    for name in ("report.html", "results.json", "blur_study.csv",
                 "spectra/spectra.npz", "spectra/peaks.csv",
                 "spectra/distances.csv", "figures/mean_spectra.png",
                 "figures/fingerprints.png", "figures/dct.png",
                 "figures/profiles.png", "figures/band_blur.png",
                 "figures/peaks.png", "figures/distances.png"):
        assert os.path.getsize(os.path.join(out, name)) > 0, name
    if with_training:
        for name in ("evaluation.csv", "evaluation_summary.csv",
                     "figures/ap_vs_prob.png", "figures/ap_bars.png",
                     "figures/confusion.png", "figures/accuracy.png"):
            assert os.path.getsize(os.path.join(out, name)) > 0, name

    with open(os.path.join(out, "results.json"), encoding="utf-8") as fh:
        res = json.load(fh)
    assert sorted(res["generators"]) == sorted(generators)
    text, parser = _parse(os.path.join(out, "report.html"))
    assert "<script" not in text and parser.external == []
    for entry in res["figures"].values():
        assert os.path.isfile(os.path.join(out, entry["path"]))

    # Blur study: JSON = HTML table (rounded) = CSV (exact).
    gens = res["blur_study"]["generators"]
    assert sorted(gens) == sorted(generators)
    head, *rows = parser.tables["blur_table"]
    with open(os.path.join(out, "blur_study.csv"), encoding="utf-8") as fh:
        csv_rows = {r["generator"]: r for r in csv.DictReader(fh)}
    for row in rows:
        d = gens[row[0]]
        assert row[1] == _fmt(d["peak_separability"])
        col = head.index("removed p=0.5")
        assert row[col] == _fmt(d["removed"]["0.5"])
        want = d["removed"]["0.5"]
        got = csv_rows[row[0]]["removed_p0.5"]
        assert (got == "" and want is None) or float(got) == want

    # Peak table: JSON = HTML = the compare step's CSV.
    head, *rows = parser.tables["peaks_table"]
    with open(os.path.join(out, "spectra", "peaks.csv"), encoding="utf-8") as fh:
        peaks_csv = list(csv.DictReader(fh))
    assert len(rows) == len(res["peaks"]) == len(peaks_csv) == 2 * len(generators)
    for row, peak, line in zip(rows, res["peaks"], peaks_csv, strict=True):
        assert row[:3] == [peak["generator"], peak["class"], str(peak["factor"])]
        assert row[3] == _fmt(peak["x2"])
        assert float(line["x2"]) == peak["x2"]

    if with_training:
        summary = res["evaluation_summary"]
        head, *rows = parser.tables["summary_table"]
        keys = ["setting", "generator", "n_seeds", "ap", "ap_std", "auc", "acc",
                "acc_real", "acc_fake", "best_acc"]
        for row, entry in zip(rows, summary, strict=True):
            assert row == [_fmt(entry[k]) for k in keys]
        with open(os.path.join(out, "evaluation.csv"), encoding="utf-8") as fh:
            per_seed = list(csv.DictReader(fh))
        assert [float(r["ap"]) for r in per_seed] == [
            r["ap"] for r in res["evaluation"]]
        assert {r["generator"] for r in res["evaluation"]} == set(generators)
    return res


def _smooth(rng, shape):
    x = gaussian_filter(rng.normal(size=shape), 1.5)
    return (x - x.min()) / (np.ptp(x) + 1e-12)


@pytest.fixture(scope="module")
def tiny_testset(tmp_path_factory):
    """A test set in the CNNDetection layout with three generators."""
    root = tmp_path_factory.mktemp("testset")
    rng = np.random.default_rng(0)
    tile = np.array([[1.0, -0.3], [0.4, -1.1]])
    for gen in ("crn", "san", "up2"):
        for i in range(8):
            for sub, fake in (("0_real", False), ("1_fake", True)):
                img = _smooth(rng, (48, 48))
                if fake and gen == "up2":
                    img = 0.9 * img + 0.04 * (np.tile(tile, (24, 24)) + 1.1)
                if fake and gen == "san":
                    img = np.clip(img + 0.03 * rng.normal(size=img.shape), 0, 1)
                rgb = np.repeat((img * 255).astype(np.uint8)[..., None], 3, -1)
                folder = root / gen / sub
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rgb).save(folder / f"{i}.png")
    return root


def test_example_on_a_given_test_set_with_weights(tiny_testset, tmp_path):
    from detectors import create_detector, save_checkpoint
    from detectors.preprocess import PreprocessConfig

    weights = tmp_path / "tiny.pth"
    model = create_detector("resnet_tiny", preprocess_config=PreprocessConfig(crop=32))
    save_checkpoint(model, weights)
    out = tmp_path / "results"
    proc = _run_example("--data", str(tiny_testset), "--weights", str(weights),
                        "--out", str(out))
    assert f"Report: {out / 'report.html'}" in proc.stdout
    res = _check_outputs(str(out), ["crn", "san", "up2"], with_training=False)
    assert {r["detector"] for r in res["evaluation"]} == {"weights tiny.pth"}
    assert {r["generator"] for r in res["evaluation"]} == {"crn", "san", "up2"}
    # The x2 pattern of 'up2' is the strongest band difference there is.
    gens = res["blur_study"]["generators"]
    assert gens["up2"]["peak_frequency"] >= 0.45
    assert "not available" in " ".join(p["text"] for p in res["explanation"])


@pytest.mark.slow
def test_run_comparison_on_a_small_zoo(tmp_path):
    # In-process and small: three families at 32 px, one epoch, one seed.
    from analysis.experiment import RunSettings, run_comparison

    settings = RunSettings(size=32, n_train=16, n_val=6, n_test=6, crop=32,
                           batch_size=8, epochs=1, patience=1,
                           spectral=("DurallDetector",))
    families = ["crn", "progan", "san"]
    run = run_comparison(tmp_path / "out", quick=True, settings=settings,
                         families=families, progress=False)
    res = _check_outputs(str(tmp_path / "out"), families, with_training=True)
    assert run.results == res
    settings_seen = {r["setting"] for r in res["evaluation"]}
    assert settings_seen == {"cnn p=0", "cnn p=0.1", "cnn p=0.5",
                             "spectral DurallDetector",
                             "fusion cnn p=0.5 + DurallDetector"}
    assert all(r["n_real"] == r["n_fake"] == 6 for r in res["evaluation"])
    # The CNN checkpoints are reused by a second run with the same settings.
    best = tmp_path / "out" / "models" / "cnn_p0.5_s0" / "best.pth"
    stamp = os.path.getmtime(best)
    run_comparison(tmp_path / "out", quick=True, settings=settings,
                   families=families, progress=False)
    assert os.path.getmtime(best) == stamp


def test_example_quick_mode_on_the_zoo(tmp_path):
    from analysis.zoo import FAMILIES

    out = tmp_path / "results"
    proc = _run_example("--quick", "--out", str(out))
    assert "Share of each family's discriminative power" in proc.stdout
    res = _check_outputs(str(out), list(FAMILIES), with_training=True)
    settings = {r["setting"] for r in res["evaluation"]}
    assert {"cnn p=0", "cnn p=0.1", "cnn p=0.5"} <= settings
    assert any(s.startswith("spectral ") for s in settings)
    assert any(s.startswith("fusion ") for s in settings)
    assert set(res["ap_vs_prob"]) == set(FAMILIES)
    assert os.path.isdir(out / "zoo")
