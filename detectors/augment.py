"""The training augmentation of Wang et al. (CVPR 2020): blur and JPEG.

Each training image is resized (shorter side to ``load_size``), then, in two
independent draws, blurred with probability ``blur_prob`` by a Gaussian of
standard deviation uniform in [0, 3], and re-encoded as JPEG with probability
``jpeg_prob`` at an integer quality uniform in 30..100; then randomly cropped,
flipped and normalised. Validation uses the midpoints (sigma 1.5, quality 65)
with the same probabilities. All randomness comes from a ``numpy.random.Generator``
passed to each call.
"""

import dataclasses
import io

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from spectral._errors import ShapeError
from spectral._validate import check_choice

from .preprocess import IMAGENET_MEAN, IMAGENET_STD, center_crop_box

__all__ = [
    "AugmentConfig",
    "AugmentDraw",
    "EvalTransform",
    "TrainTransform",
    "apply_augmentation",
    "draw_augmentation",
    "gaussian_blur",
    "jpeg_reencode",
    "resize_short_side",
]

JPEG_METHODS = ("cv2", "pil")

_PIL_FILTERS = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "nearest": Image.Resampling.NEAREST,
}


def _check_probability(value, name):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
    return value


def _as_range(value, name, cast):
    """Return ``(low, high)`` from one value or a pair; ``low <= high``."""
    values = tuple(np.atleast_1d(value).tolist())
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or values[0] > values[1]:
        raise ValueError(f"{name} must be a value or a (low, high) pair with "
                         f"low <= high; got {value!r}")
    return cast(values[0]), cast(values[1])


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Settings of the training and validation transforms.

    Parameters
    ----------
    blur_prob : float, optional
        Probability of the Gaussian blur.
    blur_sigma : float or (float, float), optional
        Range of the blur's sigma, drawn uniformly (continuous); one value fixes it.
    jpeg_prob : float, optional
        Probability of the JPEG re-encoding, drawn independently of the blur.
    jpeg_quality : int or (int, int), optional
        Inclusive integer range of the JPEG quality, drawn uniformly.
    jpeg_methods : tuple of {"cv2", "pil"}, optional
        Encoders drawn uniformly per image; see :func:`jpeg_reencode`.
    load_size : int or None, optional
        Shorter side after the initial resize; None skips it (for images already
        at the training size).
    crop_size : int, optional
        Side of the square crop (random in training, centred in validation).
    flip : bool, optional
        Random horizontal flip in training.
    interpolation : {"bilinear", "bicubic", "lanczos", "nearest"}, optional
        PIL filter of the resize.
    mean, std : tuple of 3 floats, optional
        Normalisation.

    Notes
    -----
    The defaults (probabilities 0) are the paper's "no augmentation" model; its
    released models use 0.1 or 0.5 for both probabilities.
    """

    blur_prob: float = 0.0
    blur_sigma: tuple = (0.0, 3.0)
    jpeg_prob: float = 0.0
    jpeg_quality: tuple = (30, 100)
    jpeg_methods: tuple = JPEG_METHODS
    load_size: int | None = 256
    crop_size: int = 224
    flip: bool = True
    interpolation: str = "bilinear"
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD

    def __post_init__(self):
        setattr_ = object.__setattr__
        setattr_(self, "blur_prob", _check_probability(self.blur_prob, "blur_prob"))
        setattr_(self, "jpeg_prob", _check_probability(self.jpeg_prob, "jpeg_prob"))
        sigma = _as_range(self.blur_sigma, "blur_sigma", float)
        if sigma[0] < 0:
            raise ValueError(f"blur_sigma must be >= 0; got {self.blur_sigma!r}")
        setattr_(self, "blur_sigma", sigma)
        quality = _as_range(self.jpeg_quality, "jpeg_quality", int)
        if not 1 <= quality[0] <= quality[1] <= 100:
            raise ValueError(
                f"jpeg_quality must lie in 1..100; got {self.jpeg_quality!r}"
            )
        setattr_(self, "jpeg_quality", quality)
        methods = (self.jpeg_methods,) if isinstance(self.jpeg_methods, str) else (
            tuple(self.jpeg_methods))
        if not methods:
            raise ValueError("jpeg_methods must name at least one method")
        for method in methods:
            check_choice(method, JPEG_METHODS, name="jpeg_methods")
        setattr_(self, "jpeg_methods", methods)
        check_choice(self.interpolation, tuple(_PIL_FILTERS), name="interpolation")
        if self.load_size is not None and self.load_size < self.crop_size:
            raise ValueError(
                f"load_size ({self.load_size}) must be >= crop_size "
                f"({self.crop_size})"
            )
        if self.crop_size < 1:
            raise ValueError(f"crop_size must be >= 1; got {self.crop_size!r}")

    def to_dict(self):
        """Return the settings as a plain dict."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


@dataclasses.dataclass(frozen=True)
class AugmentDraw:
    """What one image receives: None means the step is skipped."""

    blur_sigma: float | None
    jpeg_quality: int | None
    jpeg_method: str | None


def draw_augmentation(rng, cfg, *, validation=False):
    """Draw the blur and JPEG decisions for one image.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    cfg : AugmentConfig
        Probabilities and ranges.
    validation : bool, optional
        Use the fixed midpoints (sigma ``(lo + hi) / 2``, quality
        ``int((lo + hi) / 2)``, the "pil" encoder) with the same probabilities, as
        the official validation does.

    Returns
    -------
    AugmentDraw

    Notes
    -----
    Two independent Bernoulli draws (blur, then JPEG): with both probabilities at
    0.5 a quarter of the images get both. Sigma is continuous uniform on
    ``[lo, hi)``; the quality is uniform over the integers ``lo..hi`` inclusive
    (71 values for 30..100); the encoder is uniform over ``jpeg_methods``. Each
    call consumes two uniforms for the decisions plus one per value drawn.

    Examples
    --------
    >>> cfg = AugmentConfig(blur_prob=1.0, jpeg_prob=0.0)
    >>> draw = draw_augmentation(np.random.default_rng(0), cfg)
    >>> 0.0 <= draw.blur_sigma < 3.0 and draw.jpeg_quality is None
    True
    >>> draw_augmentation(np.random.default_rng(0), cfg, validation=True).blur_sigma
    1.5
    """
    sigma = quality = method = None
    if rng.random() < cfg.blur_prob:
        low, high = cfg.blur_sigma
        sigma = (low + high) / 2 if validation else low + (high - low) * rng.random()
    if rng.random() < cfg.jpeg_prob:
        low, high = cfg.jpeg_quality
        if validation:
            quality, method = int((low + high) / 2), "pil"
        else:
            method = cfg.jpeg_methods[int(rng.integers(len(cfg.jpeg_methods)))]
            quality = int(rng.integers(low, high + 1))
    return AugmentDraw(sigma, quality, method)


def gaussian_blur(image, sigma):
    """Blur each channel of a uint8 image with ``scipy.ndimage.gaussian_filter``.

    Parameters
    ----------
    image : ndarray, shape (H, W, C), uint8
        Image; not modified.
    sigma : float
        Standard deviation in pixels; 0 returns a copy.

    Returns
    -------
    ndarray, shape (H, W, C), uint8

    Notes
    -----
    SciPy's defaults as in the paper: kernel truncated at 4 sigma, 'reflect'
    borders. The filter writes straight into a uint8 output as the official code
    does, so each of the two 1-D passes truncates to an integer: the result is
    on average about one grey level darker than the exact blur, a bias the
    official models were trained with.

    Examples
    --------
    >>> flat = np.full((8, 8, 3), 100, np.uint8)
    >>> bool((gaussian_blur(flat, 2.0) == flat).all())
    True
    """
    out = np.array(image, dtype=np.uint8, copy=True)
    for channel in range(out.shape[2]):
        ndimage.gaussian_filter(out[:, :, channel], sigma=sigma,
                                output=out[:, :, channel])
    return out


def jpeg_reencode(image, quality, method="pil"):
    """Encode a uint8 RGB image as JPEG in memory and decode it again.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
        Image.
    quality : int
        JPEG quality, 1..100.
    method : {"pil", "cv2"}, optional
        "pil": Pillow with its defaults, as the official "pil" path. "cv2": an
        emulation through Pillow of OpenCV's ``imwrite`` defaults (libjpeg
        standard tables scaled by the quality, 4:2:0 chroma subsampling,
        baseline, no Huffman optimisation); OpenCV itself is not used.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8

    Notes
    -----
    With current Pillow the two methods write the same bytes, since Pillow's
    defaults are libjpeg's; the official "cv2" path can still differ from this
    emulation by the decoder's rounding (OpenCV's bundled libjpeg build), which is
    not reproduced.

    Examples
    --------
    >>> img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    >>> jpeg_reencode(img, 75).shape
    (16, 16, 3)
    """
    with Image.open(io.BytesIO(_jpeg_bytes(image, quality, method))) as decoded:
        return np.asarray(decoded.convert("RGB"))


def _jpeg_bytes(image, quality, method):
    """Encode a uint8 RGB array as JPEG bytes with one of :data:`JPEG_METHODS`."""
    check_choice(method, JPEG_METHODS, name="method")
    options = {"quality": int(quality)}
    if method == "cv2":
        options.update(subsampling="4:2:0", optimize=False, progressive=False)
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="JPEG",
                                                           **options)
    return buffer.getvalue()


def apply_augmentation(image, draw):
    """Apply an :class:`AugmentDraw` to a uint8 ``(H, W, 3)`` image (blur, then JPEG).

    Examples
    --------
    >>> img = np.zeros((8, 8, 3), np.uint8)
    >>> apply_augmentation(img, AugmentDraw(None, None, None)) is img
    True
    """
    if draw.blur_sigma is not None:
        image = gaussian_blur(image, draw.blur_sigma)
    if draw.jpeg_quality is not None:
        image = jpeg_reencode(image, draw.jpeg_quality, draw.jpeg_method)
    return image


def resize_short_side(image, size, interpolation="bilinear"):
    """Resize a PIL image so that its shorter side is ``size`` pixels.

    The longer side is ``int(size * long / short)``, torchvision's ``Resize(int)``
    rule; an image already at that size is returned unchanged.

    Examples
    --------
    >>> from PIL import Image
    >>> resize_short_side(Image.new("RGB", (40, 20)), 10).size
    (20, 10)
    """
    width, height = image.size
    if min(width, height) == size:
        return image
    if width <= height:
        new = (size, int(size * height / width))
    else:
        new = (int(size * width / height), size)
    return image.resize(new, _PIL_FILTERS[interpolation])


def _to_tensor(array, mean, std):
    """uint8 ``(H, W, 3)`` -> normalised float32 ``(3, H, W)`` tensor."""
    # A fresh, writable copy: decoded PIL buffers are read-only.
    tensor = torch.from_numpy(np.array(array, order="C")).permute(2, 0, 1)
    tensor = tensor.to(torch.float32).div_(255.0)
    mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    return ((tensor - mean) / std).contiguous()


def _check_size(array, crop, where):
    height, width = array.shape[:2]
    if height < crop or width < crop:
        raise ShapeError(
            f"{where}: image of {height}x{width} pixels is smaller than crop_size "
            f"{crop}; set load_size >= crop_size or a smaller crop_size"
        )


class TrainTransform:
    """Training transform: resize, blur/JPEG draw, random crop, flip, normalise.

    Parameters
    ----------
    cfg : AugmentConfig
        Settings.

    Examples
    --------
    >>> from PIL import Image
    >>> t = TrainTransform(AugmentConfig(load_size=40, crop_size=32, blur_prob=0.5))
    >>> x = t(Image.new("RGB", (50, 45)), np.random.default_rng(0))
    >>> tuple(x.shape)
    (3, 32, 32)
    """

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, image, rng):
        """Transform one RGB PIL image with randomness from ``rng``."""
        cfg = self.cfg
        if cfg.load_size is not None:
            image = resize_short_side(image, cfg.load_size, cfg.interpolation)
        array = apply_augmentation(np.asarray(image.convert("RGB")),
                                   draw_augmentation(rng, cfg))

        _check_size(array, cfg.crop_size, "TrainTransform")
        height, width = array.shape[:2]
        top = int(rng.integers(0, height - cfg.crop_size + 1))
        left = int(rng.integers(0, width - cfg.crop_size + 1))
        array = array[top:top + cfg.crop_size, left:left + cfg.crop_size]
        if cfg.flip and rng.random() < 0.5:
            array = array[:, ::-1]
        return _to_tensor(array, cfg.mean, cfg.std)

    def __repr__(self):
        return f"TrainTransform({self.cfg!r})"


class EvalTransform:
    """Validation transform: resize, midpoint blur/JPEG draw, centre crop, normalise.

    The blur and JPEG decisions still depend on ``rng`` (same probabilities as
    training); give each image a fixed generator to make validation repeatable.

    Examples
    --------
    >>> from PIL import Image
    >>> t = EvalTransform(AugmentConfig(load_size=40, crop_size=32))
    >>> tuple(t(Image.new("RGB", (50, 45)), np.random.default_rng(0)).shape)
    (3, 32, 32)
    """

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, image, rng):
        """Transform one RGB PIL image with randomness from ``rng``."""
        cfg = self.cfg
        if cfg.load_size is not None:
            image = resize_short_side(image, cfg.load_size, cfg.interpolation)
        array = apply_augmentation(np.asarray(image.convert("RGB")),
                                   draw_augmentation(rng, cfg, validation=True))
        _check_size(array, cfg.crop_size, "EvalTransform")
        top, left = center_crop_box(*array.shape[:2], cfg.crop_size)
        array = array[top:top + cfg.crop_size, left:left + cfg.crop_size]
        return _to_tensor(array, cfg.mean, cfg.std)

    def __repr__(self):
        return f"EvalTransform({self.cfg!r})"
