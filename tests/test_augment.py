import io

import numpy as np
import pytest
import torch
from PIL import Image, JpegImagePlugin
from scipy import stats

from detectors.augment import (
    AugmentConfig,
    AugmentDraw,
    EvalTransform,
    TrainTransform,
    _jpeg_bytes,
    apply_augmentation,
    draw_augmentation,
    gaussian_blur,
    jpeg_reencode,
    resize_short_side,
)
from detectors.preprocess import IMAGENET_MEAN, IMAGENET_STD
from spectral._errors import ShapeError

N_DRAWS = 20000


def _draws(cfg, seed, validation=False):
    rng = np.random.default_rng(seed)
    return [draw_augmentation(rng, cfg, validation=validation)
            for _ in range(N_DRAWS)]


def _rates(draws):
    blur = np.array([d.blur_sigma is not None for d in draws])
    jpeg = np.array([d.jpeg_quality is not None for d in draws])
    return blur, jpeg


def test_blur_and_jpeg_probabilities_and_independence():
    cfg = AugmentConfig(blur_prob=0.3, jpeg_prob=0.6)
    blur, jpeg = _rates(_draws(cfg, seed=0))
    # Binomial standard errors at n = 20000 are <= 0.0035; tolerances are ~4.5 SE.
    assert abs(blur.mean() - 0.3) < 0.015
    assert abs(jpeg.mean() - 0.6) < 0.015
    # Independent draws: both ~ 0.3 * 0.6, and JPEG's rate does not depend on blur.
    assert abs((blur & jpeg).mean() - 0.18) < 0.012
    assert abs(jpeg[blur].mean() - jpeg[~blur].mean()) < 0.03
    table = np.array([[np.sum(blur & jpeg), np.sum(blur & ~jpeg)],
                      [np.sum(~blur & jpeg), np.sum(~blur & ~jpeg)]])
    assert stats.chi2_contingency(table).pvalue > 0.01


def test_both_at_half_gives_a_quarter_with_both():
    blur, jpeg = _rates(_draws(AugmentConfig(blur_prob=0.5, jpeg_prob=0.5), seed=1))
    assert abs((blur & jpeg).mean() - 0.25) < 0.015


def test_sigma_is_continuous_uniform_on_0_3():
    draws = _draws(AugmentConfig(blur_prob=1.0), seed=2)
    sigmas = np.array([d.blur_sigma for d in draws])
    assert sigmas.min() >= 0.0 and sigmas.max() < 3.0
    assert np.unique(sigmas).size == sigmas.size  # continuous, not a grid
    assert stats.kstest(sigmas, stats.uniform(loc=0, scale=3).cdf).pvalue > 0.01


def test_quality_is_uniform_over_the_integers_30_to_100():
    draws = _draws(AugmentConfig(jpeg_prob=1.0), seed=3)
    quality = np.array([d.jpeg_quality for d in draws])
    assert all(isinstance(d.jpeg_quality, int) for d in draws[:100])
    values, counts = np.unique(quality, return_counts=True)
    np.testing.assert_array_equal(values, np.arange(30, 101))
    assert stats.chisquare(counts).pvalue > 0.01
    methods = np.array([d.jpeg_method for d in draws])
    assert set(methods) == {"cv2", "pil"}
    assert abs(np.mean(methods == "pil") - 0.5) < 0.02


def test_validation_uses_midpoints_with_the_same_probabilities():
    cfg = AugmentConfig(blur_prob=0.1, jpeg_prob=0.1)
    draws = _draws(cfg, seed=4, validation=True)
    blur, jpeg = _rates(draws)
    assert abs(blur.mean() - 0.1) < 0.01 and abs(jpeg.mean() - 0.1) < 0.01
    assert {d.blur_sigma for d in draws if d.blur_sigma is not None} == {1.5}
    assert {d.jpeg_quality for d in draws if d.jpeg_quality is not None} == {65}
    assert {d.jpeg_method for d in draws if d.jpeg_method is not None} == {"pil"}


def test_probability_zero_and_one():
    never = _draws(AugmentConfig(), seed=5)[:2000]
    assert all(d == AugmentDraw(None, None, None) for d in never)
    always = _draws(AugmentConfig(blur_prob=1, jpeg_prob=1), seed=6)[:2000]
    assert all(d.blur_sigma is not None and d.jpeg_quality is not None
               for d in always)


def _reference_blur(channel, sigma):
    """Separable Gaussian, kernel radius int(4 sigma + 0.5), symmetric borders.

    Each 1-D pass writes into uint8, truncating, as SciPy does for a uint8 output.
    """
    radius = int(4 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    out = channel.astype(np.float64)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0)
                              for a in (0, 1)], mode="symmetric")
        out = sum(w * np.take(padded, np.arange(k, k + out.shape[axis]), axis=axis)
                  for k, w in enumerate(kernel))
        out = np.floor(out)
    return out


@pytest.mark.parametrize("shape", [(17, 23), (32, 32), (9, 40)])
@pytest.mark.parametrize("sigma", [0.7, 1.5, 2.9])
def test_blur_matches_truncated_gaussian_with_reflected_borders(shape, sigma):
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    out = gaussian_blur(image, sigma)
    assert out.dtype == np.uint8 and out.shape == image.shape
    for c in range(3):
        ref = _reference_blur(image[:, :, c], sigma)
        # Exact: same kernel, borders and truncation; float64 sums stay far
        # from integer boundaries except by chance, hence the 1-level slack
        # on at most a few pixels.
        diff = np.abs(out[:, :, c].astype(np.float64) - ref)
        assert diff.max() <= 1.0 and np.mean(diff > 0) < 0.01
    np.testing.assert_array_equal(gaussian_blur(image, 0.0), image)


def test_jpeg_methods():
    rng = np.random.default_rng(8)
    image = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    manual = io.BytesIO()
    Image.fromarray(image).save(manual, format="JPEG", quality=70)
    manual.seek(0)
    np.testing.assert_array_equal(jpeg_reencode(image, 70, "pil"),
                                  np.asarray(Image.open(manual)))
    # The OpenCV emulation writes 4:2:0 chroma subsampling at every quality.
    for quality in (30, 95, 100):
        encoded = Image.open(io.BytesIO(_jpeg_bytes(image, quality, "cv2")))
        assert JpegImagePlugin.get_sampling(encoded) == 2
    low = np.abs(jpeg_reencode(image, 30, "cv2").astype(int) - image).mean()
    high = np.abs(jpeg_reencode(image, 95, "cv2").astype(int) - image).mean()
    assert low > high > 0
    with pytest.raises(ValueError, match="method must be one of"):
        jpeg_reencode(image, 70, "libjpeg")


def test_apply_augmentation_order_blur_then_jpeg():
    image = np.random.default_rng(9).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    out = apply_augmentation(image, AugmentDraw(1.0, 80, "pil"))
    np.testing.assert_array_equal(out, jpeg_reencode(gaussian_blur(image, 1.0), 80))


def test_train_transform_shapes_determinism_and_flip():
    rng = np.random.default_rng(10)
    pil = Image.fromarray(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8))
    transform = TrainTransform(AugmentConfig(load_size=40, crop_size=32,
                                             blur_prob=0.5, jpeg_prob=0.5))
    a = transform(pil, np.random.default_rng(11))
    b = transform(pil, np.random.default_rng(11))
    assert a.shape == (3, 32, 32) and a.dtype == torch.float32
    torch.testing.assert_close(a, b, rtol=0, atol=0)

    # Without blur/JPEG, every output is a crop of the resized image, some flipped.
    plain = TrainTransform(AugmentConfig(load_size=40, crop_size=32))
    resized = np.asarray(resize_short_side(pil, 40), dtype=np.float32) / 255
    mean, std = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    flipped = 0
    for seed in range(20):
        out = plain(pil, np.random.default_rng(seed)).numpy().transpose(1, 2, 0)
        crop = (out * std + mean).astype(np.float32)
        windows = [resized[i:i + 32, j:j + 32] for i in range(9) for j in range(29)]
        if any(np.allclose(w, crop, atol=1e-5) for w in windows):
            continue
        assert any(np.allclose(w[:, ::-1], crop, atol=1e-5) for w in windows)
        flipped += 1
    assert 0 < flipped < 20


def test_eval_transform_is_a_centre_crop():
    image = np.random.default_rng(12).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    out = EvalTransform(AugmentConfig(load_size=None, crop_size=32))(
        Image.fromarray(image), np.random.default_rng(0))
    expected = (image[4:36, 9:41] / 255 - IMAGENET_MEAN) / IMAGENET_STD
    np.testing.assert_allclose(out.numpy(), expected.transpose(2, 0, 1),
                               rtol=1e-5, atol=1e-5)


def test_resize_short_side_rule():
    assert resize_short_side(Image.new("RGB", (300, 200)), 256).size == (384, 256)
    assert resize_short_side(Image.new("RGB", (200, 301)), 100).size == (100, 150)


def test_config_validation_and_small_images():
    with pytest.raises(ValueError, match="blur_prob must be in"):
        AugmentConfig(blur_prob=1.5)
    with pytest.raises(ValueError, match="jpeg_quality must lie in 1..100"):
        AugmentConfig(jpeg_quality=(30, 101))
    with pytest.raises(ValueError, match="jpeg_methods must be one of"):
        AugmentConfig(jpeg_methods=("cv2", "turbo"))
    with pytest.raises(ValueError, match="load_size \\(100\\) must be >= crop_size"):
        AugmentConfig(load_size=100, crop_size=224)
    assert AugmentConfig(blur_sigma=1.0).blur_sigma == (1.0, 1.0)
    transform = TrainTransform(AugmentConfig(load_size=None, crop_size=32))
    with pytest.raises(ShapeError, match="20x40 pixels is smaller than crop_size"):
        transform(Image.new("RGB", (40, 20)), np.random.default_rng(0))
