import io

import numpy as np
import pytest

import reference_spectra as ref
from spectral import ShapeError, block_dct, block_dct_statistics, dct_spectrum
from tolerances import tol

SHAPES = [(1, 7), (1, 8), (6, 1), (5, 5), (8, 8), (7, 12), (16, 9)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_signed_coefficients_match_frank_fftpack_path(shape, dtype):
    rng = np.random.default_rng(30)
    image = rng.random(shape).astype(dtype)
    out = dct_spectrum(image, log=False)
    assert out.dtype == dtype
    assert out.shape == shape
    np.testing.assert_allclose(out, ref.frank_dct(image, log=False), **tol(dtype))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_matches_frank_fftpack_path(shape, dtype):
    rng = np.random.default_rng(31)
    image = rng.normal(size=shape).astype(dtype)
    out = dct_spectrum(image)
    expected = ref.frank_dct(image)
    # ln|c| is well conditioned where |c| is not tiny: compare those bins in
    # absolute log units (float32: 1e-4 of the largest |c| or more).
    keep = expected > np.log(np.abs(ref.frank_dct(image, log=False)).max() * 1e-4)
    np.testing.assert_allclose(out[keep], expected[keep], atol=1e-4)


def test_known_answer_single_cosine():
    # A separable DCT basis function gives a single coefficient, and the
    # orthonormal transform preserves energy, so it equals the image's norm.
    h, w = 8, 12
    y = np.arange(h)[:, np.newaxis]
    x = np.arange(w)[np.newaxis, :]
    image = np.cos(np.pi * 3 * (2 * y + 1) / (2 * h)) * np.cos(
        np.pi * 5 * (2 * x + 1) / (2 * w)
    )
    coeffs = dct_spectrum(image, log=False)
    expected = np.zeros((h, w))
    expected[3, 5] = np.sqrt(np.sum(image**2))
    np.testing.assert_allclose(coeffs, expected, atol=1e-12)


def test_log_of_zero_image_is_the_floor():
    np.testing.assert_allclose(dct_spectrum(np.zeros((3, 4))), np.log(1e-12))


def test_batch_and_channels():
    rng = np.random.default_rng(32)
    batch = rng.random((4, 9, 10, 3)).astype(np.float32)
    out = dct_spectrum(batch, channel_axis=-1, workers=2)
    assert out.shape == (4, 3, 9, 10)
    for n in range(4):
        for c in range(3):
            expected = ref.frank_dct(batch[n, :, :, c], log=False)
            np.testing.assert_allclose(
                np.exp(out[n, c]), np.abs(expected) + 1e-12, rtol=1e-4, atol=1e-6
            )
    grey = dct_spectrum(batch[..., 0], log=False)
    assert grey.shape == (4, 9, 10)
    np.testing.assert_allclose(
        grey[2], ref.frank_dct(batch[2, :, :, 0], log=False), **tol(np.float32)
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, bool, np.float16])
def test_dtype_policy(dtype):
    rng = np.random.default_rng(33)
    image = (rng.random((6, 5)) * 2).astype(dtype)
    expected = np.float32 if dtype == np.float16 else np.float64
    out = dct_spectrum(image, log=False)
    assert out.dtype == expected
    np.testing.assert_allclose(
        out, ref.frank_dct(image.astype(np.float64), log=False), **tol(expected)
    )


def test_dct_errors():
    with pytest.raises(ShapeError, match=r"got shape \(5,\)"):
        dct_spectrum(np.zeros(5))
    with pytest.raises(TypeError, match="real-valued"):
        dct_spectrum(np.zeros((4, 4), dtype=complex))
    bad = np.zeros((4, 4))
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        dct_spectrum(bad)


# Block DCT -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("shape", "block", "offset"),
    [((16, 16), 8, (0, 0)), ((21, 30), 8, (3, 5)), ((9, 9), 4, (1, 0)),
     ((8, 8), 8, (0, 0)), ((1, 12), 1, (0, 0)), ((7, 11), 3, (2, 2))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_dct_matches_a_loop_over_blocks(shape, block, offset, dtype):
    rng = np.random.default_rng(34)
    image = rng.random(shape).astype(dtype)
    out = block_dct(image, block=block, offset=offset)
    expected = ref.block_dct(image, block=block, offset=offset)
    assert out.dtype == dtype
    assert out.shape == expected.shape
    # Coefficients are in 0..255 units: compare relative to that scale.
    np.testing.assert_allclose(out / 255, expected / 255, **tol(dtype))


def test_block_dct_scaling_by_dtype_and_data_range():
    rng = np.random.default_rng(35)
    grey = rng.integers(0, 256, size=(16, 16)).astype(np.uint8)
    as_float = grey / 255.0
    expected = ref.block_dct(as_float)
    np.testing.assert_allclose(block_dct(grey), expected, atol=1e-9)
    np.testing.assert_allclose(block_dct(as_float), expected, atol=1e-9)
    np.testing.assert_allclose(
        block_dct(grey.astype(np.int16), data_range=255), expected, atol=1e-9
    )
    wide = grey.astype(np.uint16) * 257
    np.testing.assert_allclose(block_dct(wide), expected, atol=1e-9)
    # A flat mid-grey block has zero coefficients; DC = 8 * (level - 128).
    flat = block_dct(np.full((8, 8), 200, dtype=np.uint8))
    assert flat[0, 0, 0, 0] == pytest.approx(8 * 72)
    np.testing.assert_allclose(flat[0, 0].ravel()[1:], 0, atol=1e-12)


def test_block_dct_batch():
    rng = np.random.default_rng(36)
    batch = rng.random((3, 17, 19))
    out = block_dct(batch, offset=(1, 2))
    assert out.shape == (3, 2, 2, 8, 8)
    for n in range(3):
        np.testing.assert_allclose(
            out[n], ref.block_dct(batch[n], offset=(1, 2)), atol=1e-9
        )
    stat = block_dct_statistics(batch, offset=(1, 2))
    assert stat.shape == (3, 8, 8)


@pytest.mark.parametrize("statistic", ["mean_abs", "mean_log_abs", "zero_fraction"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_statistics_match_the_definition(statistic, dtype):
    rng = np.random.default_rng(37)
    # Coefficients spread around the 0.5 threshold, none within float32
    # round-off of it for this seed (integer-valued images can hit it exactly).
    image = (0.5 + rng.normal(scale=0.6 / 255, size=(35, 41))).astype(dtype)
    coeffs = np.abs(ref.block_dct(image, offset=(2, 5)))
    expected = {
        "mean_abs": coeffs.mean(axis=(0, 1)),
        "mean_log_abs": np.log1p(coeffs).mean(axis=(0, 1)),
        "zero_fraction": (coeffs < 0.5).mean(axis=(0, 1)),
    }[statistic]
    out = block_dct_statistics(image, offset=(2, 5), statistic=statistic)
    assert out.dtype == np.float64
    assert out.shape == (8, 8)
    if statistic == "zero_fraction":
        assert 0.2 < expected.mean() < 0.8
        np.testing.assert_array_equal(out, expected)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def _grey_crop(name):
    from PIL import Image
    from skimage import data

    photo = getattr(data, name)()
    if photo.ndim == 3:
        photo = np.asarray(Image.fromarray(photo).convert("L"))
    return photo[100:356, 100:356]


def _jpeg(grey, quality):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))


def _ac_zero_fraction(image, offset):
    stat = block_dct_statistics(image, offset=offset, statistic="zero_fraction")
    return stat.ravel()[1:].mean()


@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_jpeg_grid_raises_zero_fraction_at_the_aligned_offset(name):
    crop = _grey_crop(name)
    jpeg = _jpeg(crop, 75)
    # Measured on these crops: JPEG q75 about 0.72-0.74 on the grid against
    # 0.27-0.28 off it; the lossless crop about 0.16-0.21 at both offsets.
    aligned, shifted = _ac_zero_fraction(jpeg, (0, 0)), _ac_zero_fraction(jpeg, (4, 4))
    assert aligned - shifted > 0.3
    aligned, shifted = _ac_zero_fraction(crop, (0, 0)), _ac_zero_fraction(crop, (4, 4))
    assert abs(aligned - shifted) < 0.05


def test_block_errors():
    image = np.zeros((16, 16))
    with pytest.raises(ValueError, match=r"offset.*\(8, 0\)"):
        block_dct(image, offset=(8, 0))
    with pytest.raises(ValueError, match=r"offset.*\(-1, 0\)"):
        block_dct(image, offset=(-1, 0))
    with pytest.raises(TypeError, match="offset.*pair"):
        block_dct(image, offset=3)
    with pytest.raises(TypeError, match="offset.*pair"):
        block_dct(image, offset=(1.5, 0))
    with pytest.raises(ValueError, match="block must be >= 1"):
        block_dct(image, block=0)
    with pytest.raises(ShapeError, match=r"no complete 8x8 block.*\(2, 2\)"):
        block_dct(np.zeros((9, 20)), offset=(2, 2))
    with pytest.raises(ValueError, match="signed integer.*data_range"):
        block_dct(image.astype(np.int8))
    with pytest.raises(ValueError, match="data_range.*-1"):
        block_dct(image, data_range=-1)
    with pytest.raises(ValueError, match="statistic.*'median'"):
        block_dct_statistics(image, statistic="median")
    with pytest.raises(ShapeError, match="channel_axis is None"):
        block_dct(np.zeros((16, 16, 3, 2)))
