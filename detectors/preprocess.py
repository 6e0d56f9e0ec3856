"""The detector's input policy: how an image becomes the tensor the network sees.

A :class:`PreprocessConfig` is stored inside every checkpoint written by
:func:`detectors.save_checkpoint`, so a model is always scored with the settings it
was trained and validated for. The defaults follow the test protocol of Wang et al.
(CVPR 2020): no resize, a 224x224 centre crop, ImageNet mean and standard deviation.
"""

import dataclasses
import io
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from spectral._errors import ImageReadError, ShapeError
from spectral._validate import as_float_array, check_choice

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "PreprocessConfig",
    "center_crop_box",
    "load_rgb",
    "preprocess_image",
    "to_rgb_array",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_SMALL_POLICIES = ("upscale", "error", "full")
_INTERPOLATIONS = ("bilinear", "bicubic", "nearest")


@dataclasses.dataclass(frozen=True)
class PreprocessConfig:
    """Input settings of a detector; they travel with its weights.

    Parameters
    ----------
    crop : int or None, optional
        Side of the square centre crop; None scores the full image (``--no_crop``
        of the official ``eval.py``). Default 224, the paper's test protocol.
    resize : int or None, optional
        Resize the shorter side to this many pixels before cropping; None (the
        default, and the paper's test protocol) keeps the native resolution.
    small_image_policy : {"upscale", "error", "full"}, optional
        What happens when the shorter side is below ``crop``: "upscale" resizes the
        image so that its shorter side equals ``crop`` and then crops; "error"
        raises :class:`ShapeError`; "full" scores the whole image uncropped.
    mean, std : tuple of 3 floats, optional
        Per-channel normalisation, ImageNet's by default.
    interpolation : {"bilinear", "bicubic", "nearest"}, optional
        Resampling used by ``resize`` and by the "upscale" policy.
    version : int, optional
        Format version of this record; 1 is the only one so far.

    Notes
    -----
    The official code's ``CenterCrop`` pads an image smaller than the crop with
    zeros (black borders after normalisation become a strong, meaningless signal,
    the cause of near-zero scores on small face crops). No policy here pads:
    "upscale" is the remedy the paper's authors advise (resize small images up
    first), at the cost of adding interpolation traces of its own.
    """

    crop: int | None = 224
    resize: int | None = None
    small_image_policy: str = "upscale"
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    interpolation: str = "bilinear"
    version: int = 1

    def __post_init__(self):
        for field in ("crop", "resize"):
            value = getattr(self, field)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or value < 1
            ):
                raise ValueError(
                    f"{field} must be a positive integer or None; got {value!r}"
                )
        check_choice(self.small_image_policy, _SMALL_POLICIES,
                     name="small_image_policy")
        check_choice(self.interpolation, _INTERPOLATIONS, name="interpolation")
        for field in ("mean", "std"):
            value = tuple(float(v) for v in getattr(self, field))
            if len(value) != 3 or (field == "std" and min(value) <= 0):
                raise ValueError(
                    f"{field} must hold 3 values (std > 0); got {value!r}"
                )
            object.__setattr__(self, field, value)
        if self.version != 1:
            raise ValueError(f"unsupported PreprocessConfig version {self.version!r}")

    def replace(self, **changes):
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """Return the settings as a plain dict (what checkpoints store)."""
        out = dataclasses.asdict(self)
        out["mean"] = list(self.mean)
        out["std"] = list(self.std)
        return out

    @classmethod
    def from_dict(cls, data):
        """Build a config from :meth:`to_dict` output; unknown keys raise."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"unknown preprocessing setting(s) {unknown!r}; allowed: "
                f"{sorted(names)!r}"
            )
        kwargs = dict(data)
        for field in ("mean", "std"):
            if field in kwargs:
                kwargs[field] = tuple(kwargs[field])
        return cls(**kwargs)


def load_rgb(path, *, exif_transpose=True):
    """Read an image file as an 8-bit RGB PIL image.

    Parameters
    ----------
    path : str or os.PathLike
        Image file.
    exif_transpose : bool, optional
        Apply the EXIF orientation tag (the official code does not).

    Returns
    -------
    PIL.Image.Image
        Mode "RGB", fully decoded.

    Raises
    ------
    ImageReadError
        The file is missing, truncated or not an image.

    Notes
    -----
    Grey and palette images are expanded to RGB; an alpha channel is dropped, not
    composited (as PIL's ``convert("RGB")`` in the official loader); 16-bit and
    32-bit integer images are scaled to 8 bits by their nominal range.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("L", (5, 4), 7).save(os.path.join(folder, "g.png"))
    >>> img = load_rgb(os.path.join(folder, "g.png"))
    >>> img.mode, img.size
    ('RGB', (5, 4))
    """
    try:
        with open(os.fspath(path), "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ImageReadError(path, exc.strerror or str(exc)) from None
    if not data:
        raise ImageReadError(path, "the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if exif_transpose:
                img = ImageOps.exif_transpose(img)
            return _to_rgb_image(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(path, str(exc) or type(exc).__name__) from None


def _to_rgb_image(img):
    """Convert any PIL mode to 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)
        img = Image.fromarray(arr, mode="L")
    elif img.mode == "F":
        arr = np.clip(np.rint(np.asarray(img) * 255.0), 0, 255).astype(np.uint8)
        img = Image.fromarray(arr, mode="L")
    return img if img.mode == "RGB" else img.convert("RGB")


def to_rgb_array(image):
    """Return an image as a float32 ``(H, W, 3)`` array in [0, 1].

    Parameters
    ----------
    image : PIL.Image.Image or array_like
        A PIL image of any mode, or an array ``(H, W)`` (grey), ``(H, W, 1)``,
        ``(H, W, 2)`` (grey + alpha), ``(H, W, 3)`` or ``(H, W, 4)`` (alpha
        dropped). uint8 values are divided by 255 and uint16 by 65535; float values
        are taken as already in [0, 1].

    Returns
    -------
    ndarray, shape (H, W, 3), float32

    Raises
    ------
    ShapeError
        The array is not one of the shapes above.

    Examples
    --------
    >>> to_rgb_array(np.full((2, 3), 255, np.uint8)).shape
    (2, 3, 3)
    """
    if isinstance(image, Image.Image):
        image = np.asarray(_to_rgb_image(image))
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4) or 0 in arr.shape[:2]:
        raise ShapeError(
            f"image must have shape (H, W) or (H, W, C) with C in 1..4; "
            f"got shape {np.shape(image)}"
        )
    if arr.shape[2] in (1, 2):
        arr = np.repeat(arr[:, :, :1], 3, axis=2)
    arr = arr[:, :, :3]
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(arr.dtype)
    out = as_float_array(arr, name="image", dtype=np.float32)
    if scale is not None:
        out /= np.float32(scale)
    return out


def center_crop_box(height, width, crop):
    """Return ``(top, left)`` of a centred ``crop`` x ``crop`` window.

    The offsets round as torchvision's ``CenterCrop`` does (``round((H - c) / 2)``
    with Python's round-half-to-even), so crops match the official pipeline pixel
    for pixel.

    Examples
    --------
    >>> center_crop_box(256, 256, 224)
    (16, 16)
    """
    return int(round((height - crop) / 2.0)), int(round((width - crop) / 2.0))


def _resize_short_side(tensor, size, interpolation):
    """Resize a ``(3, H, W)`` float tensor so that its shorter side is ``size``."""
    height, width = tensor.shape[-2:]
    if min(height, width) == size:
        return tensor
    # Same rounding as torchvision's Resize(int): the longer side is truncated.
    if height <= width:
        new_h, new_w = size, int(size * width / height)
    else:
        new_h, new_w = int(size * height / width), size
    scale = size / min(height, width)
    antialias = interpolation != "nearest" and scale < 1
    kwargs = {} if interpolation == "nearest" else {"align_corners": False}
    return F.interpolate(
        tensor[None], size=(new_h, new_w), mode=interpolation,
        antialias=antialias, **kwargs,
    )[0]


def preprocess_image(image, cfg=None):
    """Turn one image into the normalised ``(3, H, W)`` tensor a detector scores.

    Parameters
    ----------
    image : PIL.Image.Image or array_like
        See :func:`to_rgb_array` for the accepted modes and shapes.
    cfg : PreprocessConfig, optional
        Settings; the default is ``PreprocessConfig()`` (224 centre crop, no
        resize).

    Returns
    -------
    torch.Tensor, shape (3, H, W), float32
        ``(x - mean) / std`` of the resized and cropped RGB image in [0, 1].

    Raises
    ------
    ShapeError
        The image is smaller than the crop and the policy is "error", or the
        array has an unsupported shape.

    Notes
    -----
    Steps: RGB in [0, 1] -> optional shorter-side resize -> small-image policy ->
    centre crop -> normalisation. Resizing uses ``torch.nn.functional.interpolate``
    (antialiased when shrinking, which follows PIL's filter support), so results
    can differ from PIL's uint8 resize by a rounding step.

    Examples
    --------
    >>> from detectors.preprocess import PreprocessConfig, preprocess_image
    >>> x = preprocess_image(np.zeros((40, 50, 3), np.uint8), PreprocessConfig(crop=32))
    >>> tuple(x.shape)
    (3, 32, 32)
    >>> full = preprocess_image(np.zeros((40, 50)), PreprocessConfig(crop=None))
    >>> tuple(full.shape)
    (3, 40, 50)
    """
    cfg = PreprocessConfig() if cfg is None else cfg
    tensor = torch.from_numpy(np.ascontiguousarray(
        to_rgb_array(image).transpose(2, 0, 1)))

    if cfg.resize is not None:
        tensor = _resize_short_side(tensor, cfg.resize, cfg.interpolation)

    if cfg.crop is not None:
        height, width = tensor.shape[-2:]
        crop = cfg.crop
        if min(height, width) < crop:
            if cfg.small_image_policy == "error":
                raise ShapeError(
                    f"image of {height}x{width} pixels is smaller than the "
                    f"{crop}x{crop} crop and small_image_policy is 'error'; use "
                    "'upscale' or 'full' to score it"
                )
            if cfg.small_image_policy == "upscale":
                tensor = _resize_short_side(tensor, crop, cfg.interpolation)
            else:
                crop = None
        if crop is not None:
            top, left = center_crop_box(*tensor.shape[-2:], crop)
            tensor = tensor[:, top:top + crop, left:left + crop]

    mean = torch.tensor(cfg.mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(cfg.std, dtype=torch.float32).view(3, 1, 1)
    return ((tensor - mean) / std).contiguous()
