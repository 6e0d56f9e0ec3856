"""ResNet-50 inference on the CPU: the official demo path against the fast modes.

Official path: float32, NCHW tensors, a batch of equal-size 224x224 images (what
CNNDetection's demo and eval scripts run). Ours: the default of ``score_images``
(float32, channels-last tensors) and the fast opt-in (bfloat16 autocast,
channels-last; what ``precision="auto"`` picks on a CPU with native bf16). Speed:
all modes run in the same process, interleaved pass by pass, and the report gives
medians and ratios to the official path.

Fidelity is measured on a detector that separates real from fake the way a
trained one does, not on random weights whose scores bunch together. The
ResNet-50 (``create_detector("resnet50")``) is trained here, in float32, on
synthetic data made from the photos bundled with scikit-image, scikit-learn and
matplotlib (``analysis.photos``; photos split by source, so scored crops come
from photos never seen in training):

* real: a natural crop of a photo;
* fake: the same kind of crop, downscaled 2x by averaging and brought back by a
  random x2 transposed convolution (zero insertion, then a 4x4 kernel equal to
  bilinear interpolation plus seeded noise, so its four phases have unequal
  gains: the checkerboard of upsampling generators), blended into the crop at a
  strength drawn uniformly in ``--strength``.

Training uses pairs (a crop and its fake) of small crops (``--train-crop``) for a
few hundred Adam steps with a cosine schedule, then a short fine-tune on 224x224
crops so that the batch-norm statistics match the scored size. The scored set is
``--scored`` unpaired 224x224 crops of the held-out photos, every other one
faked. Each mode scores it; the report gives average precision (AP), its change
from the official path and the largest and mean change of a probability. The
fast mode is called faithful when ``|delta AP| <= --ap-tol`` (0.002).

Run: ``.venv/bin/python benchmarks/bench_inference.py [--cache FILE] [--json FILE]``
(training takes a few minutes on two cores; ``--cache`` keeps the weights).
"""

import argparse
import hashlib
import json
import os
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

# Run from a checkout without installing: the repository root holds the packages.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from analysis.photos import load_photos, sample_crops, split_photos  # noqa: E402
from detectors import (  # noqa: E402
    PreprocessConfig,
    create_detector,
    preprocess_image,
    score_images,
)

SCORED_CFG = PreprocessConfig(crop=224)

# Bilinear interpolation as a x2 transposed-convolution kernel (phases sum to 1).
_TAPS = torch.tensor([0.25, 0.75, 0.75, 0.25])
BILINEAR = torch.outer(_TAPS, _TAPS)


def upsample_fakes(images, rng, strength, kernel_noise):
    """Fake versions of ``(B, 3, S, S)`` images in [0, 1] (S even).

    Each image is averaged 2x2 down, upsampled by a transposed convolution with
    its own kernel ``BILINEAR + kernel_noise * N(0, 1)`` (4x4, one kernel for the
    three channels, total gain 4 so the mean is kept) and blended into the
    original at a strength uniform in ``strength``. Edges are replicated before
    upsampling so that the border carries no trace of its own.
    """
    n = len(images)
    noise = torch.from_numpy(rng.normal(size=(n, 4, 4))).float()
    kernels = BILINEAR + kernel_noise * noise
    kernels = kernels * 4.0 / kernels.sum(dim=(1, 2), keepdim=True)
    mix = torch.from_numpy(rng.uniform(*strength, size=n)).float()

    low = F.pad(F.avg_pool2d(images, 2), (1, 1, 1, 1), mode="replicate")
    # One depthwise transposed convolution for the whole batch: fold the batch
    # into channels so that every image gets its own kernel.
    size = images.shape[-1]
    weight = kernels.repeat_interleave(3, dim=0)[:, None]
    up = F.conv_transpose2d(low.reshape(1, 3 * n, *low.shape[-2:]), weight,
                            stride=2, padding=3, groups=3 * n)
    up = up.reshape(n, 3, size, size)
    mix = mix[:, None, None, None]
    return ((1 - mix) * images + mix * up).clamp(0.0, 1.0)


def crops_tensor(sources, n, size, seed):
    """``(n, 3, size, size)`` float32 crops in [0, 1] of the given photos."""
    crops = sample_crops(sources, n, size=size, seed=seed)
    return torch.from_numpy(np.stack([c.image for c in crops])).permute(0, 3, 1, 2)


def normalise(x, cfg=SCORED_CFG):
    """Apply the detector's mean/std to ``(B, 3, H, W)`` images in [0, 1]."""
    mean = torch.tensor(cfg.mean).reshape(1, 3, 1, 1)
    std = torch.tensor(cfg.std).reshape(1, 3, 1, 1)
    return (x - mean) / std


def train_detector(sources, args, log):
    """Train ResNet-50 in float32 on pairs of real and faked photo crops.

    Stage 1: ``args.steps`` Adam steps on ``args.train_crop`` crops, cosine
    learning-rate decay; stage 2: ``args.finetune_steps`` steps on 224x224 crops
    at a tenth of the rate. Every step draws fresh crops (``args.pairs`` photos,
    each real and faked), seeded by ``args.seed`` and the step number.
    """
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = create_detector("resnet50").to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    total = args.steps + args.finetune_steps
    loss_fn = torch.nn.BCEWithLogitsLoss()
    labels = torch.cat([torch.zeros(args.pairs), torch.ones(args.pairs)])
    model.train()
    start = time.perf_counter()
    for step in range(total):
        if step < args.steps:
            size = args.train_crop
            lr = 0.5 * args.lr * (1 + np.cos(np.pi * step / args.steps))
        else:
            size = 224
            lr = 0.1 * args.lr
        for group in optimizer.param_groups:
            group["lr"] = lr
        real = crops_tensor(sources, args.pairs, size, seed=args.seed * 100003 + step)
        fake = upsample_fakes(real, rng, args.strength, args.kernel_noise)
        x = normalise(torch.cat([real, fake])).contiguous(
            memory_format=torch.channels_last)
        loss = loss_fn(model(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == total - 1:
            log(f"  step {step:4d} crop {size:3d} loss {loss.item():.3f} "
                f"({time.perf_counter() - start:5.0f} s)")
    return model.eval().to(memory_format=torch.contiguous_format)


def training_key(args, sources):
    """Hash of everything the trained weights depend on (for ``--cache``)."""
    fields = ("seed", "steps", "finetune_steps", "train_crop", "pairs", "lr",
              "strength", "kernel_noise")
    record = {f: getattr(args, f) for f in fields}
    record["photos"] = sorted(s.name for s in sources)
    record["torch"] = torch.__version__
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def trained_detector(sources, args, log):
    """The trained detector, from ``args.cache`` when it holds matching weights."""
    key = training_key(args, sources)
    if args.cache and os.path.isfile(args.cache):
        saved = torch.load(args.cache, weights_only=True)
        if saved.get("key") == key:
            model = create_detector("resnet50")
            model.load_state_dict(saved["state_dict"])
            log(f"weights from cache {args.cache}")
            return model.eval(), 0.0
        log(f"cache {args.cache} was made with other settings: training again")
    log(f"training ResNet-50 (fp32, {args.train_threads} thread(s)): "
        f"{args.steps} steps at {args.train_crop}px + {args.finetune_steps} at "
        f"224px, {2 * args.pairs} images per step")
    # One thread by default: on a shared machine two threads of small-crop
    # steps stall each other at every barrier (4-30x slower measured here).
    threads = torch.get_num_threads()
    torch.set_num_threads(args.train_threads)
    start = time.perf_counter()
    try:
        model = train_detector(sources, args, log)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start
    if args.cache:
        torch.save({"key": key, "state_dict": model.state_dict()}, args.cache)
    return model, seconds


def scored_set(sources, n, seed, args):
    """``n`` held-out 224x224 crops (HWC float32 arrays), every other one faked."""
    rng = np.random.default_rng(seed + 1)
    real = crops_tensor(sources, n, 224, seed=seed)
    labels = np.arange(n) % 2
    fake = upsample_fakes(real[1::2], rng, args.strength, args.kernel_noise)
    images = real.clone()
    images[1::2] = fake
    arrays = [np.ascontiguousarray(im.permute(1, 2, 0).numpy()) for im in images]
    return arrays, labels


def official_scores(model, images, batch):
    """P(fake) by the official path: fp32, NCHW model and tensors, fixed batches."""
    model.to(memory_format=torch.contiguous_format).eval()
    out = []
    with torch.inference_mode():
        for s in range(0, len(images), batch):
            x = torch.stack([preprocess_image(im, SCORED_CFG)
                             for im in images[s:s + batch]])
            out.append(torch.sigmoid(model(x).float()))
    return torch.cat(out).double().numpy()


def time_forward(model, batch, memory_format, bf16):
    """Images/s of one timed ``model(batch)`` pass after one warm-up pass."""
    x = batch.contiguous(memory_format=memory_format)
    model.to(memory_format=memory_format)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                enabled=bf16):
        model(x)  # warm-up: oneDNN primitive creation after a format switch
        start = time.perf_counter()
        model(x)
        return len(x) / (time.perf_counter() - start)


MODES = {
    # name: (memory format, bf16 autocast, precision for score_images)
    "official fp32 NCHW": (torch.contiguous_format, False, None),
    "fp32 channels_last": (torch.channels_last, False, "fp32"),
    "bf16 channels_last": (torch.channels_last, True, "bf16"),
}
OFFICIAL = "official fp32 NCHW"


def parse_args():
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7,
                        help="timed passes per mode (interleaved)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--scored", type=int, default=256,
                        help="held-out images of the fidelity check")
    parser.add_argument("--steps", type=int, default=400,
                        help="training steps on small crops")
    parser.add_argument("--finetune-steps", type=int, default=20,
                        help="training steps on 224x224 crops")
    parser.add_argument("--train-crop", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=8,
                        help="photo crops per step (each real and faked)")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--strength", type=float, nargs=2, default=(0.3, 1.0),
                        help="range of the fake's blending strength")
    parser.add_argument("--kernel-noise", type=float, default=0.25,
                        help="std of the noise added to the bilinear kernel")
    parser.add_argument("--train-threads", type=int, default=1,
                        help="torch threads while training (timing uses the "
                        "default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ap-tol", type=float, default=0.002)
    parser.add_argument("--cache", help="file keeping the trained weights")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    args.strength = tuple(args.strength)
    if args.repeats < 1 or args.batch < 1 or args.scored < 2:
        parser.error("--repeats and --batch must be >= 1, --scored >= 2")
    if args.train_crop % 2 or args.train_crop < 32:
        parser.error("--train-crop must be even and >= 32")
    return args


def main():
    """Train (or load) the detector, time the modes, score the held-out set."""
    args = parse_args()
    log = print
    load_start = os.getloadavg()
    parts = split_photos(load_photos())
    held_out = parts["val"] + parts["test"]
    model, train_seconds = trained_detector(parts["train"], args, log)
    images, labels = scored_set(held_out, args.scored, args.seed + 7, args)

    # Speed: interleave the modes so that machine noise hits them alike.
    batch = torch.stack([preprocess_image(im, SCORED_CFG)
                         for im in images[:args.batch]])
    rates = {name: [] for name in MODES}
    for _ in range(args.repeats):
        for name, (memory, bf16, _) in MODES.items():
            rates[name].append(time_forward(model, batch, memory, bf16))
    medians = {name: statistics.median(r) for name, r in rates.items()}

    # Fidelity: the official path by hand, ours through the public API.
    probs = {OFFICIAL: official_scores(model, images, args.batch)}
    for name, (_, _, precision) in MODES.items():
        if precision is not None:
            probs[name] = score_images(model, images, cfg=SCORED_CFG,
                                       batch_size=args.batch, precision=precision,
                                       progress=False).probabilities
    model.to(memory_format=torch.contiguous_format)
    load_end = os.getloadavg()

    ref = probs[OFFICIAL]
    ap = {name: float(average_precision_score(labels, p)) for name, p in probs.items()}
    rows = {}
    for name in MODES:
        diff = np.abs(probs[name] - ref)
        rows[name] = {
            "img_per_s_median": medians[name],
            "speed_ratio": medians[name] / medians[OFFICIAL],
            "ap": ap[name],
            "abs_delta_ap": abs(ap[name] - ap[OFFICIAL]),
            "max_abs_prob_diff": float(diff.max()),
            "mean_abs_prob_diff": float(diff.mean()),
            "faithful": bool(abs(ap[name] - ap[OFFICIAL]) <= args.ap_tol),
        }
    quantiles = np.quantile(ref, [0.05, 0.25, 0.5, 0.75, 0.95])
    order_flips = {
        name: int(np.sum(np.sign(np.subtract.outer(ref, ref))
                         != np.sign(np.subtract.outer(probs[name], probs[name])))
                  // 2)
        for name in MODES if name != OFFICIAL
    }

    print(f"\nResNet-50, 224x224, batch {args.batch}, {torch.get_num_threads()} "
          f"threads; load average {load_start[0]:.2f} at start, "
          f"{load_end[0]:.2f} at end")
    if train_seconds:
        print(f"detector trained in fp32 in {train_seconds:.0f} s")
    print(f"scored set: {len(images)} held-out crops ({int(labels.sum())} fake) of "
          f"{', '.join(s.name for s in held_out)}")
    print("official fp32 P(fake) quantiles 5/25/50/75/95 %: "
          + " ".join(f"{q:.3f}" for q in quantiles)
          + f"; in (0.05, 0.95): {np.mean((ref > 0.05) & (ref < 0.95)):.0%}")
    print(f"speed: medians of {args.repeats} interleaved passes\n")
    header = (f"{'mode':<20} {'img/s':>7} {'ratio':>6} {'AP':>7} {'|dAP|':>7} "
              f"{'max|dp|':>8} {'mean|dp|':>8}  AP within {args.ap_tol}")
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        print(f"{name:<20} {row['img_per_s_median']:7.2f} "
              f"{row['speed_ratio']:5.2f}x {row['ap']:7.4f} "
              f"{row['abs_delta_ap']:7.4f} {row['max_abs_prob_diff']:8.1e} "
              f"{row['mean_abs_prob_diff']:8.1e}  "
              f"{'yes' if row['faithful'] else 'NO'}")
    print("pairs of scored images whose order differs from the official path: "
          + ", ".join(f"{k} {v}" for k, v in order_flips.items()))

    if args.json:
        with open(args.json, "w") as handle:
            json.dump({
                "settings": {k: v for k, v in vars(args).items()
                             if k not in ("json", "cache")},
                "threads": torch.get_num_threads(),
                "load_average": {"start": load_start, "end": load_end},
                "train_seconds": train_seconds,
                "held_out_photos": [s.name for s in held_out],
                "prob_quantiles": dict(zip(("5", "25", "50", "75", "95"),
                                           quantiles.tolist(), strict=True)),
                "rates": rates,
                "modes": rows,
                "order_flips": order_flips,
            }, handle, indent=2)


if __name__ == "__main__":
    main()
