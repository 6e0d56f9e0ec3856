import numpy as np
import pytest
import torch
from PIL import Image

from detectors.augment import AugmentConfig, TrainTransform
from detectors.data import (
    DatasetLayoutError,
    ImageFolderDataset,
    Sample,
    count_samples,
    list_dataset,
)
from spectral._errors import ImageReadError


def _png(path, value=0, size=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value, value)).save(path)


def _leaf(folder, n_real=2, n_fake=3):
    for i in range(n_real):
        _png(folder / "0_real" / f"r{i}.png", 10)
    for i in range(n_fake):
        _png(folder / "1_fake" / f"f{i}.png", 200)


def test_set_root_with_and_without_class_folders(tmp_path):
    _leaf(tmp_path / "gaugan", 2, 3)
    _leaf(tmp_path / "progan" / "cat", 1, 1)
    _leaf(tmp_path / "progan" / "airplane", 2, 1)
    (tmp_path / "gaugan" / "1_fake" / "notes.txt").write_text("not an image")
    samples = list_dataset(tmp_path)
    assert count_samples(samples) == {"gaugan": (2, 3), "progan": (3, 2)}
    assert [s.subclass for s in samples if s.generator == "progan"] == [
        "airplane", "airplane", "airplane", "cat", "cat"]
    assert all(s.subclass is None for s in samples if s.generator == "gaugan")
    for s in samples:
        expected = 0 if "/0_real/" in s.path else 1
        assert s.label == expected


def test_zoo_split_root_and_generator_filter(tmp_path):
    for split in ("train", "val", "test"):
        for family in ("progan", "san"):
            _leaf(tmp_path / split / family, 1, 2)
    train = list_dataset(tmp_path, split="train", generators=["progan"])
    assert count_samples(train) == {"progan": (1, 2)}
    assert all("/train/progan/" in s.path for s in train)
    with pytest.raises(DatasetLayoutError, match="split root.*pass split="):
        list_dataset(tmp_path)
    with pytest.raises(DatasetLayoutError, match="\\['stylegan'\\] not found.*san"):
        list_dataset(tmp_path, split="test", generators=["stylegan", "san"])
    with pytest.raises(ValueError, match="split must be one of"):
        list_dataset(tmp_path, split="validation")


def test_single_generator_folder(tmp_path):
    _leaf(tmp_path / "realfakedir", 1, 1)
    samples = list_dataset(tmp_path / "realfakedir")
    assert [(s.label, s.generator) for s in samples] == [(0, "realfakedir"),
                                                         (1, "realfakedir")]


def test_images_are_found_recursively_and_by_extension(tmp_path):
    _leaf(tmp_path / "g", 1, 1)
    _png(tmp_path / "g" / "1_fake" / "deeper" / "x.JPG")
    (tmp_path / "g" / "1_fake" / ".hidden.png").write_bytes(b"")
    assert count_samples(list_dataset(tmp_path)) == {"g": (1, 2)}


def test_bad_trees_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing"):
        list_dataset(tmp_path / "nothing")
    with pytest.raises(DatasetLayoutError, match="holds no folders"):
        list_dataset(tmp_path)

    (tmp_path / "a" / "gan" / "0_real").mkdir(parents=True)
    _png(tmp_path / "a" / "gan" / "0_real" / "x.png")
    with pytest.raises(DatasetLayoutError, match="gan.*has no 1_fake/ folder"):
        list_dataset(tmp_path / "a")

    (tmp_path / "b" / "gan" / "0_real").mkdir(parents=True)
    (tmp_path / "b" / "gan" / "1_fake").mkdir(parents=True)
    _png(tmp_path / "b" / "gan" / "1_fake" / "x.png")
    with pytest.raises(DatasetLayoutError, match="0_real.*holds no images"):
        list_dataset(tmp_path / "b")

    (tmp_path / "c" / "gan" / "cat" / "images").mkdir(parents=True)
    with pytest.raises(DatasetLayoutError,
                       match="class folder .*cat.* has no 0_real/1_fake"):
        list_dataset(tmp_path / "c")

    (tmp_path / "d" / "gan").mkdir(parents=True)
    with pytest.raises(DatasetLayoutError, match="expected <root>/<generator>"):
        list_dataset(tmp_path / "d")


def test_image_folder_dataset_items_and_seeding(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("0_real", "1_fake"):
        for i in range(2):
            path = tmp_path / "g" / label / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(
                path)
    samples = list_dataset(tmp_path)
    transform = TrainTransform(AugmentConfig(load_size=None, crop_size=16,
                                             blur_prob=0.5, jpeg_prob=0.5))
    dataset = ImageFolderDataset(samples, transform, seed=3)
    assert len(dataset) == 4
    assert dataset.labels.tolist() == [0, 0, 1, 1]
    x, y = dataset[2]
    assert x.shape == (3, 16, 16) and y == 1
    # Same epoch, same draw; another epoch, another draw.
    torch.testing.assert_close(dataset[2][0], x, rtol=0, atol=0)
    dataset.set_epoch(1)
    assert not torch.equal(dataset[2][0], x)
    loader = torch.utils.data.DataLoader(dataset, batch_size=4)
    images, labels = next(iter(loader))
    assert images.shape == (4, 3, 16, 16) and labels.tolist() == [0, 0, 1, 1]


def test_image_folder_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match="samples is empty"):
        ImageFolderDataset([], lambda img, rng: img)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    dataset = ImageFolderDataset([Sample(str(bad), 1, "g")], lambda img, rng: img)
    with pytest.raises(ImageReadError, match="bad.png"):
        dataset[0]
