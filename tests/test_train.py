import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from detectors import TrainConfig, load_checkpoint, read_checkpoint, train_detector
from detectors.train import LOG_COLUMNS, _Schedule

ROOT = Path(__file__).resolve().parents[1]


def make_checkerboard_set(root, n_per_class=32, size=32, seed=0,
                          splits=("train", "val")):
    """Noise images; the fakes carry a faint +-20 grey-level checkerboard."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    board = ((yy + xx) % 2 * 2 - 1)[..., None]
    for split in splits:
        for label in ("0_real", "1_fake"):
            folder = Path(root) / split / "progan" / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n_per_class if split == "train" else n_per_class // 2):
                image = rng.normal(128, 30, (size, size, 3))
                if label == "1_fake":
                    image = image + 20 * board
                Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
                    folder / f"{i}.png")
    return Path(root)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return make_checkerboard_set(tmp_path_factory.mktemp("data"))


def _config(data_root, out_dir, **changes):
    settings = dict(data_root=str(data_root), out_dir=str(out_dir),
                    arch="resnet_tiny", load_size=None, crop_size=32,
                    batch_size=16, lr=1e-3, max_epochs=4, num_workers=0, seed=0)
    settings.update(changes)
    return TrainConfig(**settings)


def test_training_lowers_the_loss_and_writes_checkpoints(data_root, tmp_path):
    result = train_detector(_config(data_root, tmp_path / "run"), progress=False)
    losses = [row["train_loss"] for row in result.history]
    assert len(losses) == 4 and result.stop_reason == "max_epochs"
    # Learning a checkerboard: the mean loss drops well below log(2) = 0.693.
    assert losses[-1] < losses[0] - 0.1

    with open(tmp_path / "run" / "log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == LOG_COLUMNS and len(rows) == 4
    best = load_checkpoint(result.best_path)
    assert best.layers == (1, 1, 1, 1)
    assert best.preprocess_config.crop == 32
    raw = read_checkpoint(result.best_path)
    assert raw["epoch"] == result.best_epoch and "optimizer" not in raw
    assert raw["val_acc"] == pytest.approx(result.best_acc)
    latest = read_checkpoint(result.latest_path)
    assert latest["total_steps"] == 4 * 4 and "optimizer" in latest
    assert (tmp_path / "run" / "train_config.json").exists()

    with pytest.raises(FileExistsError, match="already holds a training run"):
        train_detector(_config(data_root, tmp_path / "run"), progress=False)


def test_resume_continues_from_the_saved_epoch(data_root, tmp_path):
    straight = train_detector(_config(data_root, tmp_path / "a", max_epochs=3),
                              progress=False)
    train_detector(_config(data_root, tmp_path / "b", max_epochs=2), progress=False)
    resumed = train_detector(_config(data_root, tmp_path / "b", max_epochs=3),
                             resume=True, progress=False)
    assert [row["epoch"] for row in resumed.history] == [0, 1, 2]
    assert read_checkpoint(resumed.latest_path)["total_steps"] == 3 * 4
    # Same data order, augmentation draws and optimiser state: the same weights
    # as the uninterrupted run, up to float32 summation order.
    a = read_checkpoint(straight.latest_path)["model"]
    b = read_checkpoint(resumed.latest_path)["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)
    # A finished run resumed without a larger cap does nothing more.
    again = train_detector(_config(data_root, tmp_path / "b", max_epochs=3),
                           resume=True, progress=False)
    assert len(again.history) == 3


def test_schedule_follows_the_official_early_stopping():
    cfg = TrainConfig(patience=2, lr=1e-4)
    schedule = _Schedule(lr=1e-4)
    # Phase 1, margin 0.001: +0.0015 resets the counter, +0.0005 and +0.0007 do not.
    steps = [schedule.update(acc, 0.5, cfg) for acc in (0.5, 0.5015, 0.502, 0.5022)]
    assert schedule.lr == pytest.approx(1e-5) and schedule.phase == 1
    assert [s[1] for s in steps] == [None] * 4
    # The new phase starts from the next accuracy; margin now 0.002, so +0.0015
    # no longer counts.
    schedule.update(0.6, 0.9, cfg)
    schedule.update(0.6015, 0.9, cfg)
    schedule.update(0.6019, 0.9, cfg)
    assert schedule.lr == pytest.approx(1e-6)
    # The last phase ends the run: 1e-6 / 10 is below min_lr.
    results = [schedule.update(0.55, 0.5, cfg) for _ in range(3)]
    assert results[-1][1] == "min_lr" and schedule.stopped == "min_lr"
    # The best checkpoint is the global best, not the best of the last phase.
    assert schedule.best_acc == pytest.approx(0.6019) and schedule.best_epoch == 6


def test_config_validation():
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="load_size \\(64\\) must be >= crop_size"):
        TrainConfig(load_size=64)
    with pytest.raises(ValueError, match="data_root"):
        train_detector(TrainConfig(out_dir="unused"), progress=False)


def test_two_process_gloo_training_through_torchrun(data_root, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc_per_node=2", "-m", "analysis.cli", "train",
        "--data", str(data_root), "--out", str(out), "--arch", "resnet_tiny",
        "--load-size", "none", "--crop-size", "32", "--batch-size", "16",
        "--lr", "1e-3", "--epochs", "2", "--workers", "0", "--device", "cpu",
        "--quiet",
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out / "log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    # 64 images, 8 per process per step: 4 steps per epoch.
    assert read_checkpoint(out / "latest.pth")["total_steps"] == 8
    assert load_checkpoint(out / "best.pth").layers == (1, 1, 1, 1)
    assert done.stderr.count("best epoch") == 1  # only rank 0 reports
