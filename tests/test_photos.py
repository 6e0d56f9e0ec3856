import numpy as np
import pytest
from PIL import Image

from analysis import photos


@pytest.fixture(scope="module")
def bundled():
    return photos.load_photos()


def test_bundled_photos_are_found_offline(bundled):
    names = {p.name for p in bundled}
    expected = {"astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle",
                "camera", "hubble_deep_field", "immunohistochemistry", "china",
                "flower", "grace_hopper"}
    assert expected <= names
    moto = next(p for p in bundled if p.name == "stereo_motorcycle")
    assert len(moto.paths) == 2


def test_no_photo_in_two_splits(bundled):
    parts = photos.split_photos(bundled, seed=3)
    seen = [p.name for split in photos.SPLITS for p in parts[split]]
    assert len(seen) == len(set(seen)) == len(bundled)
    assert all(parts[s] for s in photos.SPLITS)
    # Both views of the stereo pair travel together, as one source.
    assert sum("motorcycle" in name for name in seen) == 1


def test_bundled_split_follows_the_table(bundled):
    parts = photos.split_photos(bundled, seed=0)
    for split, sources in parts.items():
        for src in sources:
            assert photos.BUNDLED_SPLITS[src.name] == split


def test_crops_come_only_from_their_split(bundled):
    parts = photos.split_photos(bundled)
    for split in photos.SPLITS:
        names = {p.name for p in parts[split]}
        crops = photos.sample_crops(parts[split], 20, size=64, seed=5)
        assert {c.source for c in crops} <= names


def test_crops_are_deterministic_and_match_the_photo(bundled):
    parts = photos.split_photos(bundled)
    a = photos.sample_crops(parts["test"], 6, size=48, seed=11)
    b = photos.sample_crops(parts["test"], 6, size=48, seed=11)
    c = photos.sample_crops(parts["test"], 6, size=48, seed=12)
    assert [x.record() for x in a] == [x.record() for x in b]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [x.record() for x in a] != [x.record() for x in c]
    src = {p.name: p for p in bundled}
    for crop in a:
        top, left, size = crop.box
        view = src[crop.source].view(crop.view, crop.scale)
        np.testing.assert_array_equal(
            crop.image, view[top : top + size, left : left + size]
        )
        assert crop.image.dtype == np.float32
        assert 0.0 <= crop.image.min() and crop.image.max() <= 1.0


def test_jpeg_sources_are_cropped_at_scale_two_or_more(bundled):
    jpegs = [p for p in bundled if p.jpeg]
    assert {"rocket", "china", "grace_hopper"} <= {p.name for p in jpegs}
    crops = photos.sample_crops(jpegs, 40, size=64, seed=2)
    assert min(c.scale for c in crops) >= 2
    lossless = [p for p in bundled if not p.jpeg]
    scales = {c.scale for c in photos.sample_crops(lossless, 60, size=64, seed=2)}
    assert scales == {1, 2, 3}


def test_downscaling_is_antialiased(bundled):
    # A pixel-level checkerboard (frequency 1/2) must not survive a x2 Lanczos
    # downscale as a strong pattern: plain decimation would alias it to DC.
    src = next(p for p in bundled if p.name == "astronaut")
    full = src.view(0, 1)
    half = src.view(0, 2)
    assert half.shape[:2] == (full.shape[0] // 2, full.shape[1] // 2)
    box = full[: 2 * half.shape[0], : 2 * half.shape[1]]
    box = box.reshape(half.shape[0], 2, half.shape[1], 2, 3).mean(axis=(1, 3))
    # Close to the box average (same content) but not identical (a real filter).
    assert np.abs(half - box).mean() < 0.03
    assert not np.allclose(half, box)


def test_folder_replaces_or_extends_bundled(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(5):
        arr = (rng.random((80, 96, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(tmp_path / f"p{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    only = photos.load_photos(tmp_path)
    assert [p.name for p in only] == [f"p{i}" for i in range(5)]
    both = photos.load_photos(tmp_path, bundled=True)
    assert len(both) == len(only) + len(photos.bundled_photos())
    parts = photos.split_photos(only, seed=4)
    seen = [p.name for s in photos.SPLITS for p in parts[s]]
    assert sorted(seen) == [f"p{i}" for i in range(5)]
    assert all(parts[s] for s in photos.SPLITS)
    assert parts == photos.split_photos(only, seed=4)
    crop = photos.sample_crops(parts["train"], 1, size=64, seed=0)[0]
    assert crop.image.shape == (64, 64, 3)


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="real_dir"):
        photos.load_photos(tmp_path / "missing")
    with pytest.raises(ValueError, match="no image file"):
        photos.load_photos(tmp_path)


def test_crop_size_errors(bundled):
    with pytest.raises(ValueError, match="size=4096"):
        photos.sample_crops(bundled, 1, size=4096)
    with pytest.raises(ValueError, match="n must be"):
        photos.sample_crops(bundled, 0)
