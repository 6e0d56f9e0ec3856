"""Full-image log-DCT of a batch: spectral.dct_spectrum against Frank et al.'s path.

The reference is the loop of Frank et al.'s code: for each image,
``scipy.fftpack.dct(norm='ortho')`` along axis 0, then along axis 1, then
``ln(|c| + 1e-12)``. Both run on the same batch of natural 256x256 grey crops
from the photos bundled with scikit-image, in the same process, and each figure
is the median of several interleaved timed passes after a warm-up. Run by hand:

    PYTHONPATH=. .venv/bin/python benchmarks/bench_dct.py [--images 500] [--passes 5]
"""

import argparse
import time

import numpy as np
import scipy.fftpack

from spectral import dct_spectrum

PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass",
          "gravel", "hubble_deep_field")


def natural_crops(count, size=256, seed=0):
    """Grey float32 crops in [0, 1] at random positions of the bundled photos."""
    from skimage import data
    from skimage.color import rgb2gray

    rng = np.random.default_rng(seed)
    photos = []
    for name in PHOTOS:
        photo = getattr(data, name)()
        grey = rgb2gray(photo) if photo.ndim == 3 else photo / 255.0
        if min(grey.shape) >= size:
            photos.append(grey.astype(np.float32))
    crops = np.empty((count, size, size), dtype=np.float32)
    for i in range(count):
        photo = photos[i % len(photos)]
        y = rng.integers(0, photo.shape[0] - size + 1)
        x = rng.integers(0, photo.shape[1] - size + 1)
        crops[i] = photo[y:y + size, x:x + size]
    return crops


def frank_reference(batch):
    out = np.empty_like(batch)
    for i, image in enumerate(batch):
        coeffs = scipy.fftpack.dct(image, type=2, norm="ortho", axis=0)
        coeffs = scipy.fftpack.dct(coeffs, type=2, norm="ortho", axis=1)
        out[i] = np.log(np.abs(coeffs) + 1e-12)
    return out


def median_rates(candidates, batch, passes):
    """Images per second of each candidate, median over interleaved passes.

    Each pass runs every candidate once, in turn, so that load from other
    processes on a shared machine falls on all of them alike.
    """
    for func in candidates.values():
        func(batch[:8])  # warm-up: plans, imports, caches
    times = {name: [] for name in candidates}
    for _ in range(passes):
        for name, func in candidates.items():
            start = time.perf_counter()
            func(batch)
            times[name].append(time.perf_counter() - start)
    return {name: len(batch) / float(np.median(t)) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args(argv)

    batch = natural_crops(args.images)
    ours = dct_spectrum(batch, workers=2)
    reference = frank_reference(batch)
    # Agreement first: the comparison only means something for equal outputs.
    keep = reference > np.log(1e-3)
    worst = float(np.abs(ours[keep] - reference[keep]).max())
    print(f"{args.images} grey crops 256x256 float32; max |difference| of ln|c| "
          f"where |c| > 1e-3: {worst:.2e}")

    candidates = {
        "fftpack per image, axis 0 then 1 (Frank)": frank_reference,
        "dct_spectrum batch, workers=1": lambda b: dct_spectrum(b, workers=1),
        "dct_spectrum batch, workers=2": lambda b: dct_spectrum(b, workers=2),
    }
    rates = median_rates(candidates, batch, args.passes)
    base = rates["fftpack per image, axis 0 then 1 (Frank)"]
    for name, rate in rates.items():
        print(f"{name:45s} {rate:8.0f} images/s  ratio {rate / base:4.2f}")


if __name__ == "__main__":
    main()
