"""Scoring images with a detector: batched, on the CPU or a GPU, bf16 where it pays.

Images of different sizes (full-image mode) are grouped by size into batches
instead of being scored one at a time; unreadable files are skipped and reported.
"""

import dataclasses
import functools
import os

import numpy as np
import torch
from PIL import Image
from scipy.special import expit

from spectral._errors import ImageReadError, ShapeError
from spectral._validate import check_choice, check_positive_int, warn

from .preprocess import PreprocessConfig, load_rgb, preprocess_image

__all__ = ["Scores", "resolve_precision", "score_images"]

PRECISIONS = ("auto", "fp32", "bf16")


@dataclasses.dataclass
class Scores:
    """Result of :func:`score_images`, aligned with the inputs.

    Attributes
    ----------
    probabilities : ndarray, shape (N,), float64
        P(fake) = sigmoid(logit); NaN for skipped inputs.
    logits : ndarray, shape (N,), float64
        Raw logits; NaN for skipped inputs.
    errors : dict of int to str
        Index of each skipped input -> reason.
    precision : str
        The precision actually used ("fp32" or "bf16").

    Notes
    -----
    ``np.asarray(scores)`` gives ``probabilities``.
    """

    probabilities: np.ndarray
    logits: np.ndarray
    errors: dict
    precision: str

    def __len__(self):
        return len(self.probabilities)

    def __array__(self, dtype=None, copy=None):
        out = self.probabilities if dtype is None else self.probabilities.astype(dtype)
        return out.copy() if copy else out


@functools.lru_cache(maxsize=1)
def _cpu_has_native_bf16():
    """True when the CPU advertises bf16 arithmetic (AVX512-BF16 or AMX)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(precision, device):
    """Return the precision "auto" stands for on ``device``.

    "auto" is the fastest mode: "bf16" on a CPU with native bf16 arithmetic
    (AVX512-BF16 or AMX), where ``benchmarks/bench_inference.py`` measured
    ResNet-50 2.5-3.3x faster than the official fp32 path, and "fp32" elsewhere
    (on older CPUs bf16 is emulated and slower; on GPUs bf16 is not measured
    here). It trades score fidelity for speed: see :func:`score_images`.

    Examples
    --------
    >>> resolve_precision("fp32", "cpu")
    'fp32'
    """
    check_choice(precision, PRECISIONS, name="precision")
    if precision != "auto":
        return precision
    device = torch.device(device)
    return "bf16" if device.type == "cpu" and _cpu_has_native_bf16() else "fp32"


def _as_items(inputs):
    if isinstance(inputs, (str, os.PathLike, Image.Image)):
        return [inputs]
    if isinstance(inputs, np.ndarray) and inputs.ndim in (2, 3):
        return [inputs]
    return list(inputs)


def _prepare(item, cfg):
    if isinstance(item, (str, os.PathLike)):
        item = load_rgb(item)
    return preprocess_image(item, cfg)


def _describe(item, index):
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    return f"input {index}"


def score_images(model, inputs, *, cfg=None, batch_size=32, device=None,
                 precision="auto", progress=True, on_error="warn"):
    """Score images with a detector: the probability that each is fake.

    Parameters
    ----------
    model : torch.nn.Module
        Detector returning one logit per image (e.g. from
        :func:`detectors.load_checkpoint`); moved to ``device`` and put in eval
        mode for the call (its training flag is restored afterwards).
    inputs : sequence
        Image files, PIL images or ``(H, W[, C])`` arrays, mixed freely; a single
        one is accepted too.
    cfg : PreprocessConfig, optional
        Input settings; default ``model.preprocess_config`` (set from the
        checkpoint), else ``PreprocessConfig()``.
    batch_size : int, optional
        Images per forward pass.
    device : str or torch.device, optional
        Default: the first GPU when there is one, else the CPU.
    precision : {"auto", "fp32", "bf16"}, optional
        "auto" (default): see :func:`resolve_precision`. "fp32": float32
        arithmetic, channels-last tensors on the CPU; the choice when scores must
        match another float32 implementation to the last digit. "bf16":
        channels-last tensors under ``torch.autocast`` with bfloat16.
    progress : bool, optional
        Show a tqdm progress bar.
    on_error : {"warn", "ignore", "raise"}, optional
        For an input that cannot be read or preprocessed: skip it and warn once
        at the end (listing the first few), skip silently (see ``errors``), or
        raise.

    Returns
    -------
    Scores
        ``probabilities`` aligned with ``inputs`` (NaN where skipped).

    Raises
    ------
    ImageReadError, ShapeError
        With ``on_error="raise"``.

    Notes
    -----
    Decoding and preprocessing run in the calling process, one image at a time;
    for ResNet-50 they cost a few percent of the network's time. Tensors wait in
    one bucket per input size and a bucket is scored when it holds
    ``batch_size`` images; with more than ``4 * batch_size`` images waiting, the
    fullest bucket is scored early, so memory stays bounded even when every
    image has its own size.

    Why "auto" (bf16 on CPUs with native bf16) is the default:
    ``benchmarks/bench_inference.py`` trains a ResNet-50 to a held-out AP of about
    0.99 on photo crops against x2 transposed-convolution fakes and scores 256
    held-out images. On two CPU cores bf16 ran 2.6-3.3x faster than the official
    float32 NCHW path (channels-last fp32: 1.3-1.4x), moved probabilities by at
    most 0.022 (mean 0.0012) and average precision by 0.0002, within the 0.002
    tolerance; it swapped the order of 0.3 % of image pairs. On a model whose
    scores bunch together (an undertrained one) the same rounding moves AP more:
    pass ``precision="fp32"`` to reproduce published float32 numbers exactly.

    Examples
    --------
    >>> from detectors import create_detector
    >>> from detectors.preprocess import PreprocessConfig
    >>> model = create_detector("resnet_tiny")
    >>> images = [np.zeros((40, 40, 3), np.uint8), np.ones((48, 40, 3))]
    >>> scores = score_images(model, images, cfg=PreprocessConfig(crop=None),
    ...                       progress=False)
    >>> scores.probabilities.shape, bool(np.all((scores.probabilities > 0)
    ...                                          & (scores.probabilities < 1)))
    ((2,), True)
    """
    from tqdm.auto import tqdm

    batch_size = check_positive_int(batch_size, name="batch_size")
    check_choice(on_error, ("warn", "ignore", "raise"), name="on_error")
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    precision = resolve_precision(precision, device)
    if cfg is None:
        cfg = getattr(model, "preprocess_config", None) or PreprocessConfig()
    items = _as_items(inputs)
    logits = np.full(len(items), np.nan)
    errors = {}

    # Channels-last suits oneDNN's CPU convolutions (about 1.2x in fp32, with the
    # same float32 arithmetic in another summation order).
    cpu_or_bf16 = device.type == "cpu" or precision == "bf16"
    memory = torch.channels_last if cpu_or_bf16 else torch.contiguous_format
    was_training = model.training
    model.to(device, memory_format=memory).eval()

    def run(key):
        indices, tensors = zip(*buckets.pop(key), strict=True)
        batch = torch.stack(tensors).to(device, memory_format=memory)
        with torch.inference_mode(), torch.autocast(
            device.type, dtype=torch.bfloat16, enabled=precision == "bf16"
        ):
            out = model(batch).float().reshape(len(indices)).cpu().numpy()
        logits[list(indices)] = out
        bar.update(len(indices))
        return len(indices)

    buckets = {}
    pending = 0
    bar = tqdm(total=len(items), disable=not progress, unit="img")
    try:
        for index, item in enumerate(items):
            try:
                tensor = _prepare(item, cfg)
            except (ImageReadError, ShapeError, ValueError, TypeError) as exc:
                if on_error == "raise":
                    raise
                errors[index] = f"{_describe(item, index)}: {exc}"
                bar.update(1)
                continue
            key = tuple(tensor.shape)
            buckets.setdefault(key, []).append((index, tensor))
            pending += 1
            if len(buckets[key]) >= batch_size:
                pending -= run(key)
            elif pending > 4 * batch_size:
                pending -= run(max(buckets, key=lambda k: len(buckets[k])))
        for key in list(buckets):
            run(key)
    finally:
        bar.close()
        model.train(was_training)

    if errors and on_error == "warn":
        shown = "; ".join(list(errors.values())[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        warn(f"skipped {len(errors)} of {len(items)} input(s): {shown}{more}",
             stacklevel=2)
    probabilities = expit(logits)
    return Scores(probabilities, logits, errors, precision)
