import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from detectors.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PreprocessConfig,
    center_crop_box,
    load_rgb,
    preprocess_image,
    to_rgb_array,
)
from spectral._errors import ImageReadError, ShapeError


def _normalise(rgb01):
    mean = np.array(IMAGENET_MEAN, np.float32)
    std = np.array(IMAGENET_STD, np.float32)
    return ((rgb01 - mean) / std).transpose(2, 0, 1)


def test_default_is_centre_crop_224_without_resize():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (256, 300, 3), dtype=np.uint8)
    out = preprocess_image(image)
    expected = _normalise(image[16:240, 38:262].astype(np.float32) / 255)
    # float32 arithmetic on values of order 1.
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert out.dtype == torch.float32


def test_pil_and_array_inputs_agree():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (230, 240, 3), dtype=np.uint8)
    a = preprocess_image(image)
    b = preprocess_image(Image.fromarray(image))
    c = preprocess_image(image.astype(np.float64) / 255)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(a, c, rtol=1e-6, atol=1e-6)


def test_centre_crop_rounds_as_torchvision():
    # torchvision: int(round((H - c) / 2)), Python's round-half-to-even.
    assert center_crop_box(225, 225, 224) == (0, 0)
    assert center_crop_box(227, 229, 224) == (2, 2)
    assert center_crop_box(256, 224, 224) == (16, 0)


def test_full_image_mode_keeps_size():
    image = np.random.default_rng(2).random((37, 51))
    out = preprocess_image(image, PreprocessConfig(crop=None))
    assert out.shape == (3, 37, 51)
    torch.testing.assert_close(out[0], out[1] * IMAGENET_STD[1] / IMAGENET_STD[0]
                               + (IMAGENET_MEAN[1] - IMAGENET_MEAN[0])
                               / IMAGENET_STD[0], rtol=1e-5, atol=1e-5)


def test_small_images_upscale_error_or_full_never_pad():
    rng = np.random.default_rng(3)
    image = rng.random((100, 150, 3)).astype(np.float32)

    up = preprocess_image(image, PreprocessConfig(small_image_policy="upscale"))
    assert up.shape == (3, 224, 224)
    tensor = torch.from_numpy(image.transpose(2, 0, 1))[None]
    resized = F.interpolate(tensor, size=(224, 336), mode="bilinear",
                            align_corners=False)[0]
    expected = _normalise(resized[:, :, 56:280].numpy().transpose(1, 2, 0))
    np.testing.assert_allclose(up.numpy(), expected, rtol=1e-5, atol=1e-5)
    # No zero padding: the normalised value of black would appear at the border.
    black = -np.array(IMAGENET_MEAN) / np.array(IMAGENET_STD)
    assert not np.isclose(up[:, 0, :].numpy().T, black, atol=1e-4).all(axis=1).any()

    with pytest.raises(ShapeError, match="100x150.*smaller than the 224x224"):
        preprocess_image(image, PreprocessConfig(small_image_policy="error"))
    full = preprocess_image(image, PreprocessConfig(small_image_policy="full"))
    assert full.shape == (3, 100, 150)


def test_resize_shorter_side_before_crop():
    image = np.zeros((512, 600, 3), np.uint8)
    out = preprocess_image(image, PreprocessConfig(resize=256, crop=None))
    assert out.shape == (3, 256, 300)


def test_grey_rgba_and_16_bit_become_rgb():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgb = to_rgb_array(grey)
    assert rgb.shape == (3, 4, 3) and (rgb[..., 0] == rgb[..., 2]).all()
    rgba = np.dstack([np.full((3, 4, 3), 255, np.uint8), np.zeros((3, 4), np.uint8)])
    np.testing.assert_array_equal(to_rgb_array(rgba), np.ones((3, 4, 3), np.float32))
    deep = np.full((2, 2), 65535, np.uint16)
    np.testing.assert_array_equal(to_rgb_array(deep), np.ones((2, 2, 3), np.float32))
    with pytest.raises(ShapeError, match="got shape \\(2, 2, 5\\)"):
        to_rgb_array(np.zeros((2, 2, 5)))


def test_config_round_trip_and_validation():
    cfg = PreprocessConfig(crop=None, resize=256, small_image_policy="full")
    assert PreprocessConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown preprocessing setting"):
        PreprocessConfig.from_dict({"crop": 224, "pad": True})
    with pytest.raises(ValueError, match="small_image_policy must be one of"):
        PreprocessConfig(small_image_policy="pad")
    with pytest.raises(ValueError, match="crop must be a positive integer"):
        PreprocessConfig(crop=0)
    with pytest.raises(ValueError, match="std must hold 3 values"):
        PreprocessConfig(std=(1, 1, 0))


def test_load_rgb_modes(tmp_path):
    Image.new("RGBA", (6, 5), (10, 20, 30, 0)).save(tmp_path / "a.png")
    Image.new("P", (6, 5), 3).save(tmp_path / "p.png")
    Image.fromarray(np.full((5, 6), 65535, np.uint16)).save(tmp_path / "d.png")
    for name in ("a.png", "p.png", "d.png"):
        img = load_rgb(tmp_path / name)
        assert img.mode == "RGB" and img.size == (6, 5), name
    assert load_rgb(tmp_path / "a.png").getpixel((0, 0)) == (10, 20, 30)
    assert load_rgb(tmp_path / "d.png").getpixel((0, 0)) == (255, 255, 255)


def test_load_rgb_applies_exif_orientation(tmp_path):
    img = Image.new("RGB", (8, 4))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_rgb(tmp_path / "r.jpg").size == (4, 8)
    assert load_rgb(tmp_path / "r.jpg", exif_transpose=False).size == (8, 4)


def test_load_rgb_bad_files(tmp_path):
    with pytest.raises(ImageReadError, match="missing.png"):
        load_rgb(tmp_path / "missing.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        load_rgb(tmp_path / "empty.png")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format="PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:40])
    with pytest.raises(ImageReadError, match="cut.png"):
        load_rgb(tmp_path / "cut.png")
