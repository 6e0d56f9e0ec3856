import numpy as np
import pytest
import scipy.ndimage

import reference_spectra as ref
from spectral import ShapeError, residual
from tolerances import tol

SHAPES = [(1, 1), (1, 9), (9, 1), (2, 3), (5, 5), (6, 8), (7, 11)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [1, 3, 5, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_matches_loop_reference(shape, size, dtype):
    # Includes windows larger than the image: the symmetric extension repeats.
    rng = np.random.default_rng(40)
    image = rng.random(shape).astype(dtype)
    out = residual(image, method="median", size=size)
    assert out.dtype == dtype
    assert out.shape == shape
    np.testing.assert_allclose(out, ref.median_residual(image, size), **tol(dtype))


def test_median_matches_scipy_filter_with_reflect():
    rng = np.random.default_rng(41)
    image = rng.random((3, 17, 13))
    out = residual(image, size=5)
    for n in range(3):
        expected = image[n] - scipy.ndimage.median_filter(
            image[n], size=5, mode="reflect"
        )
        np.testing.assert_array_equal(out[n], expected)


def test_median_larger_than_a_tiny_image():
    # 2x2 image, 9x9 window: the reflected extension tiles the image, so the
    # window holds each pixel about equally often and the median sits between.
    image = np.array([[0.0, 1.0], [2.0, 10.0]])
    out = residual(image, size=9)
    np.testing.assert_allclose(out, ref.median_residual(image, 9), atol=0)
    one = residual(np.array([[3.5]]), size=7)
    assert one.shape == (1, 1) and one[0, 0] == 0


def test_median_does_not_wrap_like_uint8():
    image = np.full((5, 5), 10, dtype=np.uint8)
    image[2, 2] = 0
    out = residual(image, size=3)
    assert out.dtype == np.float64
    assert out[2, 2] == -10.0


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_laplacian_matches_scipy_convolve(shape, dtype):
    rng = np.random.default_rng(42)
    image = rng.random(shape).astype(dtype)
    out = residual(image, method="laplacian")
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref.laplacian(image), **tol(dtype))


def test_laplacian_known_answers():
    np.testing.assert_array_equal(residual(np.full((4, 6), 3.0), method="laplacian"), 0)
    # A linear ramp has zero Laplacian inside; the reflected border sees a kink.
    ramp = np.tile(np.arange(6.0), (5, 1))
    out = residual(ramp, method="laplacian")
    np.testing.assert_array_equal(out[:, 1:-1], 0)
    assert out[0, 0] == 1.0 and out[0, -1] == -1.0
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1
    expected = np.zeros((5, 5))
    expected[2, 2] = -4
    expected[[1, 3, 2, 2], [2, 2, 1, 3]] = 1
    np.testing.assert_array_equal(residual(impulse, method="laplacian"), expected)


@pytest.mark.parametrize("shape", SHAPES + [(8, 8), (9, 10)])
@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_npr_matches_loop_reference(shape, factor, dtype):
    rng = np.random.default_rng(43)
    image = rng.random(shape).astype(dtype)
    out = residual(image, method="npr", factor=factor)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, ref.npr(image, factor).astype(dtype))
    np.testing.assert_array_equal(out[::factor, ::factor], 0)


def test_npr_is_x_minus_nearest_up_of_nearest_down():
    # Tan et al.'s definition with scipy.ndimage.zoom (order 0) on even sizes.
    rng = np.random.default_rng(44)
    image = rng.random((8, 12))
    down = image[::2, ::2]
    up = scipy.ndimage.zoom(down, 2, order=0, grid_mode=True, mode="grid-constant")
    np.testing.assert_array_equal(residual(image, method="npr"), image - up)


def test_npr_vanishes_on_nearest_upsampled_images():
    rng = np.random.default_rng(45)
    small = rng.random((5, 4))
    upsampled = np.kron(small, np.ones((2, 2)))
    np.testing.assert_array_equal(residual(upsampled, method="npr"), 0)
    assert np.abs(residual(rng.random((10, 8)), method="npr")).max() > 0.1


@pytest.mark.parametrize("method", ["median", "laplacian", "npr"])
def test_batch_and_channel_layouts(method):
    rng = np.random.default_rng(46)
    batch = rng.random((2, 7, 9, 3)).astype(np.float32)
    out = residual(batch, method=method, channel_axis=-1)
    assert out.shape == (2, 3, 7, 9)
    for n in range(2):
        for c in range(3):
            np.testing.assert_array_equal(
                out[n, c], residual(batch[n, :, :, c], method=method)
            )
    assert residual(batch[0], method=method, channel_axis=-1).shape == (3, 7, 9)
    assert residual(batch[..., 0], method=method).shape == (2, 7, 9)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, bool, np.float16])
def test_dtype_policy(dtype):
    rng = np.random.default_rng(47)
    image = (rng.random((6, 7)) * 3).astype(dtype)
    expected = np.float32 if dtype == np.float16 else np.float64
    for method in ("median", "laplacian", "npr"):
        assert residual(image, method=method).dtype == expected


def test_input_is_not_modified():
    rng = np.random.default_rng(48)
    image = rng.random((6, 6))
    before = image.copy()
    for method in ("median", "laplacian", "npr"):
        residual(image, method=method)
    np.testing.assert_array_equal(image, before)


def test_errors():
    image = np.zeros((4, 4))
    with pytest.raises(ValueError, match="method.*'gaussian'"):
        residual(image, method="gaussian")
    with pytest.raises(ValueError, match="size must be odd; got 4"):
        residual(image, size=4)
    with pytest.raises(ValueError, match="size must be >= 1"):
        residual(image, size=0)
    with pytest.raises(TypeError, match="size must be an integer"):
        residual(image, size=2.5)
    with pytest.raises(ValueError, match="factor must be >= 2"):
        residual(image, method="npr", factor=1)
    with pytest.raises(ShapeError, match=r"got shape \(4,\)"):
        residual(np.zeros(4))
    with pytest.raises(TypeError, match="real-valued"):
        residual(image.astype(complex))
    bad = image.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        residual(bad)
