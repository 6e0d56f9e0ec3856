import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.cli import main
from detectors import PreprocessConfig, load_checkpoint, score_images


def _make_zoo(root, seed=0, size=32):
    """Zoo layout: <root>/{train,val,test}/<family>/{0_real,1_fake}/*.png."""
    rng = np.random.default_rng(seed)
    board = ((np.add.outer(np.arange(size), np.arange(size)) % 2) * 2 - 1)[..., None]
    families = {"train": ("progan", "san"), "val": ("progan",),
                "test": ("progan", "san")}
    for split, names in families.items():
        for family in names:
            for label in ("0_real", "1_fake"):
                folder = root / split / family / label
                folder.mkdir(parents=True)
                for i in range(12 if split == "train" else 6):
                    image = rng.normal(128, 30, (size, size, 3))
                    if label == "1_fake":
                        image += 20 * board
                    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
                        folder / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = _make_zoo(tmp_path_factory.mktemp("zoo"))
    out = tmp_path_factory.mktemp("run") / "detector"
    status = main(["train", "--data", str(root), "--generator", "progan",
                   "--out", str(out), "--arch", "resnet_tiny", "--load-size",
                   "none", "--crop-size", "32", "--batch-size", "8", "--lr",
                   "1e-3", "--epochs", "2", "--workers", "0", "--blur-prob",
                   "0.1", "--jpeg-prob", "0.1", "--quiet"])
    assert status == 0
    return root, out


def test_train_writes_a_run_and_refuses_to_clobber_it(trained, capsys):
    root, out = trained
    assert {"best.pth", "latest.pth", "log.csv", "train_config.json"} <= {
        p.name for p in out.iterdir()}
    config = json.loads((out / "train_config.json").read_text())
    assert config["generators"] == ["progan"] and config["blur_prob"] == 0.1
    status = main(["train", "--data", str(root), "--out", str(out), "--arch",
                   "resnet_tiny", "--quiet"])
    assert status == 2
    assert "already holds a training run" in capsys.readouterr().err


def test_train_bad_data_root(tmp_path, capsys):
    (tmp_path / "train" / "progan").mkdir(parents=True)
    status = main(["train", "--data", str(tmp_path), "--out",
                   str(tmp_path / "out"), "--arch", "resnet_tiny", "--quiet"])
    assert status == 2
    assert "expected <root>/<generator>" in capsys.readouterr().err


def test_evaluate_prints_and_writes_tables(trained, tmp_path, capsys):
    root, out = trained
    table = tmp_path / "table.csv"
    status = main(["evaluate", str(root), "--split", "test", "--weights",
                   str(out / "best.pth"), "--out", str(table), "--precision",
                   "fp32", "--quiet"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "progan" in printed and "san" in printed and "mean" in printed
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["testset"] for r in rows] == ["progan", "san", "mean", "all"]
    assert all(0 <= float(r["avg precision"]) <= 1 for r in rows)
    assert int(rows[0]["n_real"]) == 6 and int(rows[0]["n_fake"]) == 6
    data = json.loads((tmp_path / "table.json").read_text())
    assert data["rows"][0]["testset"] == "progan"

    status = main(["evaluate", str(root), "--split", "test", "--weights",
                   str(out / "best.pth"), "--out", str(table), "--quiet"])
    assert status == 2 and "--overwrite" in capsys.readouterr().err


def test_evaluate_errors(trained, tmp_path, capsys):
    root, out = trained
    assert main(["evaluate", str(root), "--weights", str(out / "best.pth"),
                 "--quiet"]) == 2
    assert "split root" in capsys.readouterr().err
    assert main(["evaluate", str(root), "--split", "test", "--weights",
                 str(tmp_path / "none.pth"), "--quiet"]) == 2
    assert "none.pth" in capsys.readouterr().err


def test_detect_folder_skips_bad_files(trained, tmp_path, capsys):
    root, out = trained
    folder = tmp_path / "images"
    folder.mkdir()
    sources = sorted((root / "test" / "san" / "1_fake").glob("*.png"))[:3]
    for source in sources:
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    scores_csv = tmp_path / "scores.csv"
    status = main(["detect", str(folder), "--weights", str(out / "best.pth"),
                   "--out", str(scores_csv), "--precision", "fp32", "--quiet"])
    assert status == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "broken.png" in err
    with open(scores_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [Path(r["path"]).name for r in rows] == [s.name for s in sources]
    model = load_checkpoint(out / "best.pth")
    expected = score_images(model, [r["path"] for r in rows], precision="fp32",
                            progress=False).probabilities
    np.testing.assert_allclose([float(r["probability"]) for r in rows], expected,
                               rtol=1e-6)
    for row, p in zip(rows, expected, strict=True):
        assert row["label"] == ("fake" if p > 0.5 else "real")

    status = main(["detect", str(folder), "--weights", str(out / "best.pth"),
                   "--out", str(scores_csv), "--quiet"])
    assert status == 2 and "--overwrite" in capsys.readouterr().err


def test_detect_single_file_full_image_to_stdout(trained, capsys):
    root, out = trained
    image = sorted((root / "test" / "progan" / "0_real").glob("*.png"))[0]
    status = main(["detect", str(image), "--weights", str(out / "best.pth"),
                   "--crop", "none", "--precision", "fp32", "--quiet"])
    assert status == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "path,probability,label" and len(lines) == 2
    model = load_checkpoint(out / "best.pth")
    expected = score_images(model, [image], cfg=PreprocessConfig(crop=None),
                            precision="fp32", progress=False).probabilities[0]
    assert float(lines[1].split(",")[1]) == pytest.approx(expected, rel=1e-6)
    assert main(["detect", str(image), "--weights", str(out / "best.pth"),
                 "--crop", "big", "--quiet"]) == 2
    assert "--crop must be a positive integer or 'none'" in capsys.readouterr().err


def test_detect_without_weights_or_input(tmp_path, capsys):
    image = tmp_path / "x.png"
    Image.new("RGB", (32, 32)).save(image)
    assert main(["detect", str(image), "--quiet"]) == 2
    assert "nothing is downloaded" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "nope"), "--quiet"]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["detect", str(empty), "--quiet"]) == 2
    assert "no images found" in capsys.readouterr().err
