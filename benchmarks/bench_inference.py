"""ResNet-50 inference on the CPU: the official demo path against the fast mode.

Official path: float32, NCHW tensors, a batch of equal-size 224x224 images (what
CNNDetection's demo and eval scripts run). Ours: the default of ``score_images``
(float32, channels-last tensors) and the fast opt-in that
``precision="auto"`` picks on this machine (bfloat16 autocast, channels-last, on
a CPU with native bf16). All run in the same process, interleaved, and the
report gives medians and ratios to the official path.

Weights: random initialisation (torch seed 0) followed by a brief training (120
Adam steps on 48x48 crops of synthetic images, seed 2), so that the scores mean
something; speed does not depend on the weights. The fidelity check scores 64
held-out synthetic images (seed 0) in both modes through ``score_images`` and
compares average precision and probabilities.

Run: ``.venv/bin/python benchmarks/bench_inference.py [--repeats 5] [--batch 16]``
"""

import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
from scipy import ndimage
from sklearn.metrics import average_precision_score

# Run from a checkout without installing: the repository root holds the packages.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from detectors import (  # noqa: E402
    PreprocessConfig,
    create_detector,
    preprocess_image,
    score_images,
)
from detectors.infer import resolve_precision  # noqa: E402


def make_images(n, size, seed):
    """Half "real" (smooth random textures), half "fake": the same kind of image
    mixed with its 2x nearest-neighbour upsampled half-resolution copy, at a
    strength uniform in [0.2, 1], so that the faintest fakes are hard."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(n):
        noise = rng.normal(size=(size, size, 3))
        scale = rng.uniform(0.8, 3.0)
        image = ndimage.gaussian_filter(noise, sigma=(scale, scale, 0))
        image = (image - image.min()) / (np.ptp(image) + 1e-12)
        label = i % 2
        if label:
            up = np.repeat(np.repeat(image[::2, ::2], 2, axis=0), 2, axis=1)
            strength = rng.uniform(0.2, 1.0)
            image = (1 - strength) * image + strength * up
        images.append(np.clip(image, 0, 1).astype(np.float32))
        labels.append(label)
    return images, np.array(labels)


def time_forward(model, batch, memory_format, bf16, repeats):
    """Median images/s of ``model(batch)`` over ``repeats`` timed passes."""
    x = batch.contiguous(memory_format=memory_format)
    model.to(memory_format=memory_format)
    rates = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                enabled=bf16):
        model(x)  # warm-up: oneDNN primitive creation
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            rates.append(len(x) / (time.perf_counter() - start))
    return rates


def train_briefly(model, images, labels, steps, seed):
    """A few Adam steps on random 48x48 crops: enough to make the scores mean
    something (the network is fully convolutional, so it then scores 224 crops)."""
    rng = np.random.default_rng(seed)
    cfg = PreprocessConfig(crop=None)
    full = torch.stack([preprocess_image(im, cfg) for im in images])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(steps):
        idx = rng.choice(len(images), size=16, replace=False)
        top, left = rng.integers(0, full.shape[-1] - 48, size=2) // 2 * 2
        x = full[idx, :, top:top + 48, left:left + 48]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
        loss = loss_fn(logits.float(), torch.from_numpy(labels[idx]).float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--scored", type=int, default=64,
                        help="held-out images for the fidelity check")
    parser.add_argument("--trained", type=int, default=96,
                        help="images of the brief training")
    parser.add_argument("--steps", type=int, default=120,
                        help="Adam steps of the brief training")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    torch.manual_seed(0)
    cfg = PreprocessConfig(crop=224)
    train_images, train_labels = make_images(args.trained, 256, seed=1)
    images, labels = make_images(args.scored, 256, seed=0)
    tensors = torch.stack([preprocess_image(im, cfg) for im in images[:args.batch]])
    model = create_detector("resnet50")
    train_briefly(model, train_images, train_labels, args.steps, seed=2)

    # Speed: interleave the modes so that machine noise hits them alike.
    fast = resolve_precision("auto", "cpu")
    batch = tensors
    modes = {
        "official fp32 NCHW": (torch.contiguous_format, False),
        "default fp32 chan-last": (torch.channels_last, False),
        f"auto ({fast}) chan-last": (torch.channels_last, fast == "bf16"),
    }
    rates = {name: [] for name in modes}
    for _ in range(args.repeats):
        for name, (memory, bf16) in modes.items():
            rates[name] += time_forward(model, batch, memory, bf16, repeats=1)
    model.to(memory_format=torch.contiguous_format)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    base = medians["official fp32 NCHW"]

    # Fidelity: held-out images through the official path and the public API.
    with torch.inference_mode():
        official = torch.sigmoid(torch.cat([
            model(torch.stack([preprocess_image(im, cfg) for im in
                               images[s:s + args.batch]]))
            for s in range(0, len(images), args.batch)
        ])).double().numpy()
    p32 = score_images(model, images, cfg=cfg, batch_size=args.batch,
                       precision="fp32", progress=False).probabilities
    pfast = score_images(model, images, cfg=cfg, batch_size=args.batch,
                         precision=fast, progress=False).probabilities
    ap_official = average_precision_score(labels, official)
    ap32 = average_precision_score(labels, p32)
    apfast = average_precision_score(labels, pfast)

    print(f"ResNet-50, batch {args.batch} of 224x224, {torch.get_num_threads()} "
          f"threads, medians of {args.repeats} passes")
    for name, median in medians.items():
        print(f"  {name:<22} {median:7.2f} img/s   x{median / base:.2f}")
    print(f"fidelity on {len(images)} held-out images (probabilities "
          f"{official.min():.3f}..{official.max():.3f}):")
    print(f"  AP official {ap_official:.4f}; default fp32 {ap32:.4f} (|dAP| "
          f"{abs(ap32 - ap_official):.4f}, max |dp| "
          f"{np.max(np.abs(p32 - official)):.1e})")
    print(f"  auto ({fast}) {apfast:.4f} (|dAP| {abs(apfast - ap_official):.4f}, "
          f"max |dp| {np.max(np.abs(pfast - official)):.1e})")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rates": rates, "medians": medians,
                       "ap_official": ap_official, "ap_fp32": ap32,
                       "ap_fast": apfast, "fast_mode": fast,
                       "max_abs_prob_diff_fp32": float(np.max(np.abs(
                           p32 - official))),
                       "max_abs_prob_diff_fast": float(np.max(np.abs(
                           pfast - official)))},
                      handle, indent=2)


if __name__ == "__main__":
    main()
