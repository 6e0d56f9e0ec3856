"""The simulated generator zoo: one small generator per CNNDetection family.

The CNNDetection test set (Wang et al., CVPR 2020) spans twelve generator
families. Their images cannot be shipped, so this module simulates each family
with a small PyTorch network that has the family's upsampling path (nearest +
conv, bilinear or [1, 3, 3, 1] filtered, transposed convolution, pixel shuffle,
super-resolution, face-swap blending) and is trained on CPU to rebuild real
photo crops from a degraded version of them: the AutoGAN idea (Zhang et al.,
WIFS 2019) of learning an upsampler's traces without the target GAN.

Trained weights ship with the package (``analysis/zoo_weights/<family>.pt``,
fp16 state dicts) with a ``zoo.json`` record of each family's size, training
time, reconstruction PSNR and the upsampling-peak scores of its mean residual
spectrum. :func:`build_zoo` writes real/fake datasets in the CNNDetection
folder layout.

Train every family again with ``python -m analysis.zoo train`` (or
``spectral-forensics zoo train``); ``spectral-forensics zoo info`` prints the
table of ``zoo.json``.

=========  ================================================  =====================
family     degraded input -> upsampling path                 loss
=========  ================================================  =====================
progan     1/8 encoding -> nearest x2 + conv, pixel norm      L1
stylegan   1/8 encoding -> bilinear x2, noise, AdaIN style    L1
stylegan2  1/8 encoding -> filtered x2, mod/demod, skip RGB   L1
biggan     1/8 encoding -> res up-blocks, nearest x2, CBN     L1
cyclegan   ResNet autoencoder -> ConvTranspose k3 s2 (x2 x2)  L1 (AutoGAN)
stargan    + domain code -> ConvTranspose k4 s2 (x2 x2)       L1
gaugan     27-colour label map + 1/8 code -> SPADE, nearest   L1
crn        label map + 1/8 image -> bilinear refinement       L1
imle       CRN + noise channels                               IMLE (nearest of 3)
sitd       dark noisy packed Bayer -> U-Net, PixelShuffle 2   L1
san        bicubic x1/4 -> channel-attention, PixelShuffle x4 L1
deepfake   1/8 code -> PixelShuffle x2 x3, soft ellipse blend L1
=========  ================================================  =====================

Known limits: the networks are tiny and briefly trained (test PSNR 21-27 dB,
see ``zoo.json``), so they imitate where each family puts or avoids
upsampling traces, not its image quality. Learned weights can damp the traces
their architecture allows: the recorded peak scores, not the architecture
alone, say how visible each family is.
"""

import json
import math
import time
from pathlib import Path

import numpy as np

from analysis import photos as _photos
from analysis._zoo_build import ZooBuild, build_zoo
from spectral._validate import check_choice, check_positive_int

__all__ = [
    "FAMILIES",
    "ZooBuild",
    "build_zoo",
    "create_generator",
    "format_info",
    "generate",
    "load_generator",
    "peak_scores",
    "psnr",
    "residual_power_spectrum",
    "train_generator",
    "train_zoo",
    "zoo_info",
]

FAMILIES = (
    "progan",
    "stylegan",
    "stylegan2",
    "biggan",
    "cyclegan",
    "stargan",
    "gaugan",
    "crn",
    "imle",
    "sitd",
    "san",
    "deepfake",
)

WEIGHTS_DIR = Path(__file__).parent / "zoo_weights"
PEAK_FACTORS = (2, 4, 8)

# Training recipe per family: optimiser steps of ``batch`` random ``crop``-pixel
# crops, Adam at ``lr`` with cosine decay, L1 loss (``imle``: loss of the
# nearest of ``samples`` noise draws). Steps are sized for two to five minutes
# on one thread of a shared two-core CPU.
TRAIN_CONFIG = {
    "progan": {"steps": 1200},
    "stylegan": {"steps": 1600},
    "stylegan2": {"steps": 1000},
    "biggan": {"steps": 1000},
    "cyclegan": {"steps": 700},
    "stargan": {"steps": 800},
    "gaugan": {"steps": 500},
    "crn": {"steps": 800},
    "imle": {"steps": 900, "objective": "imle", "samples": 3},
    "sitd": {"steps": 1500},
    "san": {"steps": 1000},
    "deepfake": {"steps": 1000},
}
_TRAIN_DEFAULTS = {
    "batch": 8,
    "crop": 64,
    "lr": 2e-3,
    "objective": "l1",
    "samples": 1,
}

# Evaluation crops: taken from the val and test splits at full size.
EVAL_SIZE = 128
EVAL_COUNT = 32
CHECK_COUNT = 4


def _family(family):
    return check_choice(family, FAMILIES, name="family")


def create_generator(family, **kwargs):
    """Return a new, randomly initialised generator of one family.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    **kwargs
        Architecture options of the family's network (widths, blocks).

    Returns
    -------
    torch.nn.Module
        Maps real crops ``(B, 3, H, W)`` in [-1, 1] (``H``, ``W`` multiples of
        8) to fakes of the same shape; ``forward(real, generator=None)``.

    Raises
    ------
    ValueError
        If ``family`` is unknown.

    Notes
    -----
    Each network degrades its input itself (low-resolution encoding, label
    map, packed dark raw, bicubic x4 downscale) and rebuilds the crop through
    its namesake's upsampling path; see ``analysis._zoo_nets``. The attribute
    ``upsampler`` describes that path.

    Examples
    --------
    >>> import torch
    >>> net = create_generator("cyclegan")
    >>> net(torch.zeros(1, 3, 16, 16)).shape
    torch.Size([1, 3, 16, 16])
    """
    from analysis._zoo_nets import NETWORKS

    return NETWORKS[_family(family)](**kwargs)


def load_generator(family, *, weights_dir=None):
    """Return a generator with its trained weights, in eval mode (float32, CPU).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    weights_dir : str or os.PathLike, optional
        Folder with ``<family>.pt`` and ``zoo.json``; default the shipped
        ``analysis/zoo_weights``.

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    ValueError
        If ``family`` is unknown.
    FileNotFoundError
        If the weights file is missing (train it with ``train_zoo``).

    Notes
    -----
    Loaded with ``torch.load(..., weights_only=True)``; the stored fp16
    tensors are cast to float32. The architecture options come from
    ``zoo.json``.

    Examples
    --------
    >>> net = load_generator("san")
    >>> net.training
    False
    """
    import torch

    family = _family(family)
    folder = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    path = folder / f"{family}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"no weights for family={family!r} in {str(folder)!r}; "
            "run `python -m analysis.zoo train`"
        )
    record = zoo_info(folder)["families"].get(family, {})
    net = create_generator(family, **record.get("config", {}).get("net", {}))
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict({k: v.float() for k, v in state.items()})
    return net.eval()


def _to_tensor(images):
    import torch

    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(
            f"images must have shape (N, H, W, 3) or (H, W, 3); got {arr.shape!r}"
        )
    if arr.shape[1] % 8 or arr.shape[2] % 8:
        raise ValueError(
            f"image height and width must be multiples of 8; got {arr.shape[1:3]!r}"
        )
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2))) * 2 - 1


def generate(generator, images, *, seed=0, batch_size=16):
    """Run a zoo generator on real images; return the fakes.

    Parameters
    ----------
    generator : str or torch.nn.Module
        A family name (the shipped weights are loaded) or a network.
    images : array_like
        ``(N, H, W, 3)`` or ``(H, W, 3)`` RGB in [0, 1]; ``H`` and ``W``
        multiples of 8.
    seed : int, default 0
        Seed of the noise drawn inside the networks (style noise, sensor
        noise, IMLE noise).
    batch_size : int, default 16
        Images per forward pass.

    Returns
    -------
    numpy.ndarray
        float32 of the shape of ``images``, clipped to [0, 1].

    Raises
    ------
    ValueError
        If the shape is not RGB or not a multiple of 8.

    Notes
    -----
    The noise is drawn per batch from one ``torch.Generator`` seeded with
    ``seed``, so outputs of the noisy families depend on ``batch_size`` and on
    the order of the images. Runs under ``torch.no_grad`` on the CPU.

    Examples
    --------
    >>> fake = generate("cyclegan", np.full((16, 16, 3), 0.5))
    >>> fake.shape, fake.dtype
    ((16, 16, 3), dtype('float32'))
    """
    import torch

    if isinstance(generator, str):
        generator = load_generator(generator)
    single = np.ndim(images) == 3
    x = _to_tensor(images)
    batch_size = check_positive_int(batch_size, name="batch_size")
    gen = torch.Generator().manual_seed(int(seed))
    outs = []
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            y = generator(x[start : start + batch_size], generator=gen)
            outs.append(((y.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy())
    generator.train(was_training)
    out = np.concatenate(outs).astype(np.float32)
    return out[0] if single else out


def psnr(image0, image1):
    """Return the mean over images of the PSNR (dB) between two stacks in [0, 1].

    Parameters
    ----------
    image0, image1 : array_like
        Stacks of the same shape ``(N, ...)`` (the first axis indexes images),
        or one grey image ``(H, W)`` each.

    Returns
    -------
    float
        Mean over images of ``10 log10(1 / MSE)``; identical images count as
        100 dB.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> round(psnr(np.zeros((2, 4, 4)), np.full((2, 4, 4), 0.1)), 3)
    20.0
    """
    a = np.asarray(image0, dtype=np.float64)
    b = np.asarray(image1, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"image shapes differ: {a.shape!r} and {b.shape!r}")
    if a.ndim <= 2:
        a, b = a[None], b[None]
    mse = ((a - b) ** 2).reshape(a.shape[0], -1).mean(axis=1)
    per = np.where(mse > 0, 10 * np.log10(1.0 / np.maximum(mse, 1e-10)), 100.0)
    return float(per.mean())


# Peak physics ---------------------------------------------------------------------


def residual_power_spectrum(images):
    """Return the mean power spectrum of the median residuals of images.

    Parameters
    ----------
    images : array_like
        ``(N, H, W, 3)`` RGB or ``(N, H, W)`` grey images of one size, in
        [0, 1].

    Returns
    -------
    numpy.ndarray
        float64 ``(H, W)``, fftshifted (DC at ``(H // 2, W // 2)``).

    Raises
    ------
    ValueError
        If ``images`` is not a stack of grey or RGB images.

    Notes
    -----
    As Wang et al. (Fig. 7): grey (BT.601, :func:`spectral.to_gray`) minus its
    5x5 median (:func:`spectral.residual`), in float, then the power
    spectrum (:func:`spectral.power_spectrum`, no window) averaged over the
    images. Power, not complex, averaging: periodic traces need not be
    phase-aligned across images.

    Examples
    --------
    >>> p = residual_power_spectrum(np.random.default_rng(0).random((2, 16, 16)))
    >>> p.shape, bool((p >= 0).all())
    ((16, 16), True)
    """
    import spectral

    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 4 and arr.shape[-1] == 3:
        arr = spectral.to_gray(arr, channel_axis=-1)
    if arr.ndim != 3:
        raise ValueError(
            f"images must have shape (N, H, W) or (N, H, W, 3); got {arr.shape!r}"
        )
    res = spectral.residual(arr, method="median", size=5)
    power = spectral.power_spectrum(res, log=False, shift=True)
    return np.asarray(power, dtype=np.float64).mean(axis=0)


def peak_scores(images, *, factors=PEAK_FACTORS):
    """Score the upsampling peaks of the mean residual spectrum of images.

    Parameters
    ----------
    images : array_like
        ``(N, H, W, 3)`` or ``(N, H, W)`` images of one size.
    factors : tuple of int, default (2, 4, 8)
        Upsampling factors to score.

    Returns
    -------
    dict
        ``{"peaks": {factor: dB above the local median}, "factor": int}``;
        ``factor`` is the estimated upsampling factor (1 = none).

    Notes
    -----
    Uses :func:`spectral.upsampling_peaks` (median over the bins new to each
    factor of their excess over the neighbourhood, in dB) and
    :func:`spectral.estimate_upsampling_factor` (its default 10 dB threshold,
    sub-grids required) on :func:`residual_power_spectrum`. On 32 test crops
    of 128 px the bundled reals score below 0.5 dB at every factor; a factor's
    estimate needs 10 dB, so a weaker but real peak (a few dB) shows in
    ``peaks`` and not in ``factor``.

    Examples
    --------
    >>> out = peak_scores(np.random.default_rng(0).random((4, 32, 32)))
    >>> sorted(out["peaks"])
    [2, 4, 8]
    """
    import spectral

    spec = residual_power_spectrum(images)
    peaks = spectral.upsampling_peaks(spec, factors=tuple(factors))
    factor = spectral.estimate_upsampling_factor(spec, factors=tuple(factors))
    peaks = {int(k): round(float(v), 2) for k, v in peaks.items()}
    return {"peaks": peaks, "factor": int(factor)}


# Training ---------------------------------------------------------------------------


class _CropSampler:
    # Random training crops from the (downscaled) views of the train photos,
    # views drawn with probability proportional to their pixel count.
    def __init__(self, sources, crop, generator):
        import torch

        self.views = []
        for src in sources:
            for view in range(len(src.paths)):
                for scale in src.scales:
                    arr = src.view(view, scale)
                    if min(arr.shape[:2]) >= crop:
                        t = torch.from_numpy(np.array(arr.transpose(2, 0, 1)))
                        self.views.append(t * 2 - 1)
        if not self.views:
            raise ValueError(f"no training photo is at least crop={crop!r} pixels")
        areas = torch.tensor([float(v.shape[1] * v.shape[2]) for v in self.views])
        self.weights = areas / areas.sum()
        self.crop = crop
        self.gen = generator

    def batch(self, n):
        import torch

        idx = torch.multinomial(self.weights, n, replacement=True, generator=self.gen)
        out = []
        for i in idx.tolist():
            v = self.views[i]
            span = (v.shape[1] - self.crop + 1, v.shape[2] - self.crop + 1)
            top = int(torch.randint(span[0], (1,), generator=self.gen))
            left = int(torch.randint(span[1], (1,), generator=self.gen))
            c = v[:, top : top + self.crop, left : left + self.crop]
            if bool(torch.rand((), generator=self.gen) < 0.5):
                c = c.flip(-1)
            out.append(c)
        return torch.stack(out)


def _loss(net, real, cfg, gen):
    import torch

    if cfg["objective"] != "imle":
        return (net(real, generator=gen) - real).abs().mean()
    # IMLE: draw several noise samples, keep the one whose output is nearest
    # to the target, and back-propagate only through that sample.
    b = real.shape[0]
    low = real.shape[2] // 2**net.n_stages, real.shape[3] // 2**net.n_stages
    noise = torch.randn(cfg["samples"], b, net.noise_channels, *low, generator=gen)
    with torch.no_grad():
        dists = torch.stack(
            [(net(real, noise=z) - real).abs().mean(dim=(1, 2, 3)) for z in noise]
        )
    best = noise[dists.argmin(dim=0), torch.arange(b)]
    return (net(real, noise=best) - real).abs().mean()


def _eval_sets(seed):
    parts = _photos.split_photos(_photos.load_photos(), seed=seed)
    return {
        split: np.stack(
            [c.image for c in _photos.sample_crops(parts[split], EVAL_COUNT,
                                                   size=EVAL_SIZE, seed=seed + 1)]
        )
        for split in ("val", "test")
    }


def train_generator(family, *, seed=0, steps=None, sources=None, threads=1,
                    progress=False, **overrides):
    """Train one family's generator on real crops of the train split.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    seed : int, default 0
        Seed of the initialisation, the crop sampler and the noise.
    steps : int, optional
        Optimiser steps; default from :data:`TRAIN_CONFIG`.
    sources : list of PhotoSource, optional
        Training photos; default the train split of the bundled photos.
    threads : int, default 1
        ``torch.set_num_threads`` during training (restored afterwards). One
        thread avoids OpenMP oversubscription on a shared CPU, where two
        threads ran several times slower.
    progress : bool, default False
        Show a tqdm bar.
    **overrides
        ``batch``, ``crop``, ``lr``, ``samples`` or ``net`` (architecture
        options) to change the recipe.

    Returns
    -------
    net : torch.nn.Module
        The trained network, in eval mode.
    history : dict
        ``{"config": ..., "seconds": float, "loss": list of floats}``: the
        recipe, the wall time, and the mean loss of each tenth of training.

    Raises
    ------
    ValueError
        If ``family`` is unknown or ``steps`` is not positive.

    Notes
    -----
    Adam (betas 0.9, 0.999) with a cosine decay of the learning rate to 5 %,
    L1 loss on [-1, 1] images (IMLE: the nearest of several noise draws).
    Subnormal floats are flushed during training (they slowed some networks
    tenfold). Deterministic for a given seed, thread count and torch build.

    Examples
    --------
    >>> net, hist = train_generator("san", steps=2, progress=False,
    ...                             batch=2, crop=32)
    >>> len(hist["loss"]) >= 1
    True
    """
    import torch
    from tqdm.auto import tqdm

    family = _family(family)
    cfg = {**_TRAIN_DEFAULTS, **TRAIN_CONFIG[family], **overrides}
    net_kwargs = cfg.pop("net", {})
    if steps is not None:
        cfg["steps"] = steps
    cfg["steps"] = check_positive_int(cfg["steps"], name="steps")
    if sources is None:
        sources = _photos.split_photos(_photos.load_photos(), seed=seed)["train"]

    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    old_flush = torch.set_flush_denormal(True)
    try:
        torch.manual_seed(seed)
        net = create_generator(family, **net_kwargs).train()
        gen = torch.Generator().manual_seed(seed)
        sampler = _CropSampler(sources, cfg["crop"], gen)
        opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
        def factor(i):
            return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * i / cfg["steps"]))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        losses, chunk = [], []
        every = max(cfg["steps"] // 10, 1)
        start = time.perf_counter()
        for step in tqdm(range(cfg["steps"]), desc=family, disable=not progress):
            loss = _loss(net, sampler.batch(cfg["batch"]), cfg, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            chunk.append(loss.item())
            if (step + 1) % every == 0 or step + 1 == cfg["steps"]:
                losses.append(float(np.mean(chunk)))
                chunk = []
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(old_threads)
        torch.set_flush_denormal(old_flush)
    cfg["net"] = net_kwargs
    return net.eval(), {"config": cfg, "seconds": seconds, "loss": losses}


def _state_fp16(net):
    return {k: v.detach().half().contiguous() for k, v in net.state_dict().items()}


def train_zoo(out_dir=None, *, families=None, seed=0, steps=None, threads=1,
              progress=True):
    """Train generators and write their weights and ``zoo.json``.

    Parameters
    ----------
    out_dir : str or os.PathLike, optional
        Destination folder; default the package's ``analysis/zoo_weights``.
    families : list of str, optional
        Families to train; default all of :data:`FAMILIES`. Records of other
        families already in ``zoo.json`` are kept.
    seed : int, default 0
        Training seed.
    steps : int, optional
        Steps for every family (default: each family's recipe).
    threads : int, default 1
        torch threads (see :func:`train_generator`).
    progress : bool, default True
        Progress bars and one line per family.

    Returns
    -------
    dict
        The content written to ``zoo.json``.

    Notes
    -----
    Per family: train (:func:`train_generator`), store the state dict in fp16
    (``<family>.pt``), reload it and measure the PSNR on 32 crops of 128 px of
    the val and test photos, the PSNR of the first 4 test crops generated
    alone (``psnr_check``, what the tests reproduce), and the peak scores of
    the mean residual spectrum of its test outputs. The reals' peak scores are
    recorded too.
    """
    import torch

    out = Path(out_dir) if out_dir is not None else WEIGHTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    families = list(FAMILIES if families is None else [_family(f) for f in families])
    index = out / "zoo.json"
    info = json.loads(index.read_text()) if index.is_file() else {}
    evals = _eval_sets(seed)
    info.update(
        {
            "format": 1,
            "torch": torch.__version__,
            "seed": seed,
            "threads": threads,
            "eval": {
                "size": EVAL_SIZE,
                "count": EVAL_COUNT,
                "check_count": CHECK_COUNT,
                "crop_seed": seed + 1,
                "psnr": "mean over crops of 10 log10(1 / MSE), images in [0, 1]",
            },
            "reals": peak_scores(evals["test"]),
        }
    )
    info.setdefault("families", {})
    for family in families:
        net, hist = train_generator(
            family, seed=seed, steps=steps, threads=threads, progress=progress
        )
        path = out / f"{family}.pt"
        torch.save(_state_fp16(net), path)
        net = _reload(family, path, hist["config"]["net"])
        fakes = {s: generate(net, evals[s], seed=seed) for s in evals}
        check = generate(net, evals["test"][:CHECK_COUNT], seed=seed)
        record = {
            "upsampler": net.upsampler,
            "parameters": int(sum(p.numel() for p in net.parameters())),
            "bytes": path.stat().st_size,
            "train_seconds": round(hist["seconds"], 1),
            "steps": hist["config"]["steps"],
            "loss_first": round(hist["loss"][0], 4),
            "loss_last": round(hist["loss"][-1], 4),
            "psnr_val": round(psnr(fakes["val"], evals["val"]), 3),
            "psnr_test": round(psnr(fakes["test"], evals["test"]), 3),
            "psnr_check": round(psnr(check, evals["test"][:CHECK_COUNT]), 3),
            **peak_scores(fakes["test"]),
            "config": hist["config"],
        }
        info["families"][family] = record
        info["families"] = {f: info["families"][f] for f in FAMILIES
                            if f in info["families"]}
        index.write_text(json.dumps(info, indent=1) + "\n")
        if progress:
            print(
                f"{family}: {record['parameters']} params, "
                f"{record['train_seconds']} s, PSNR test {record['psnr_test']} dB, "
                f"peaks {record['peaks']}, factor {record['factor']}",
                flush=True,
            )
    return info


def _reload(family, path, net_kwargs):
    import torch

    net = create_generator(family, **net_kwargs)
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict({k: v.float() for k, v in state.items()})
    return net.eval()


def zoo_info(weights_dir=None):
    """Return the content of ``zoo.json`` (the record of the trained zoo).

    Parameters
    ----------
    weights_dir : str or os.PathLike, optional
        Folder of the weights; default the shipped ``analysis/zoo_weights``.

    Returns
    -------
    dict
        ``{"families": {family: record}, "reals": ..., "torch": ..., ...}``;
        ``{"families": {}}`` when no zoo has been trained there.

    Examples
    --------
    >>> "cyclegan" in zoo_info()["families"]
    True
    """
    path = (Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR) / "zoo.json"
    if not path.is_file():
        return {"families": {}}
    return json.loads(path.read_text())


def format_info(info=None):
    """Return the table of ``zoo.json`` as plain text.

    Parameters
    ----------
    info : dict, optional
        As returned by :func:`zoo_info`; default the shipped record.

    Returns
    -------
    str
        One row per family (and one for the reals): parameters, bytes,
        training seconds, test PSNR, peak scores at x2/x4/x8, estimated factor.

    Examples
    --------
    >>> print(format_info({"families": {}}).splitlines()[0].split()[0])
    family
    """
    info = zoo_info() if info is None else info
    head = (f"{'family':<10} {'params':>8} {'bytes':>8} {'train s':>8} "
            f"{'PSNR dB':>8} {'x2 dB':>7} {'x4 dB':>7} {'x8 dB':>7} {'factor':>6}")
    rows = [head, "-" * len(head)]

    def peaks(rec):
        p = {int(k): v for k, v in rec.get("peaks", {}).items()}
        return " ".join(f"{p.get(s, float('nan')):>7.2f}" for s in PEAK_FACTORS)

    for fam, rec in info.get("families", {}).items():
        rows.append(
            f"{fam:<10} {rec['parameters']:>8} {rec['bytes']:>8} "
            f"{rec['train_seconds']:>8.1f} {rec['psnr_test']:>8.2f} {peaks(rec)} "
            f"{rec['factor']:>6}"
        )
    if "reals" in info:
        rec = info["reals"]
        rows.append(f"{'reals':<10} {'':>8} {'':>8} {'':>8} {'':>8} {peaks(rec)} "
                    f"{rec['factor']:>6}")
    return "\n".join(rows)


def main(argv=None):
    """Run ``python -m analysis.zoo {train,build,info}``; return the exit status."""
    from analysis import _cmd_zoo

    return _cmd_zoo.main(argv)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
