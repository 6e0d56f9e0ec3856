"""Time the mean log spectrum of a folder of PNGs: naive loop, decode alone, ours.

Usage::

    python benchmarks/bench_mean_spectrum.py [--n 2000] [--size 256] [--passes 5]

Writes ``--n`` PNG crops of scikit-image photos (rescaled, flipped and shifted
for variety) to a temporary folder, then times on ``--workers`` processes:

(a) the naive pipeline: Pillow RGB decode, float64 grey, ``np.fft.fft2``,
    ``fftshift``, log power, running sums;
(b) decoding alone, with the decoder ``read_image`` uses (libspng when
    ``pyspng`` is installed, else Pillow);
(c) ``spectral.mean_spectrum(..., log=True)``.

Each pipeline runs once to warm up, then ``--passes`` times; the table gives
the medians. Pools are started inside every timed pass for all three, as a
user's call would.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spectral  # noqa: E402
from spectral import _batch, _io  # noqa: E402

_BT601 = np.array([0.299, 0.587, 0.114])


def _photos():
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    grey = data.camera()
    return [data.astronaut(), data.chelsea(), data.coffee(), data.rocket(), left,
            right, np.stack([grey] * 3, axis=-1)]


def make_images(folder, n, size, seed):
    """Write ``n`` varied ``size`` x ``size`` PNG crops of the photos."""
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(p) for p in _photos()]
    for i in range(n):
        photo = photos[i % len(photos)]
        shortest = min(photo.size)
        low = min(1.0, size / shortest)
        scale = rng.uniform(max(low, 0.5), 1.0) if low < 1.0 else 1.0
        width = max(size, round(photo.width * scale))
        height = max(size, round(photo.height * scale))
        image = photo.resize((width, height), Image.Resampling.LANCZOS)
        if rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if rng.random() < 0.3:
            image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        left = int(rng.integers(0, width - size + 1))
        top = int(rng.integers(0, height - size + 1))
        crop = image.crop((left, top, left + size, top + size))
        crop.save(folder / f"{i:05d}.png")


def naive_chunk(paths):
    """The textbook loop on a share of the files: sums of dB and of dB^2."""
    total = total_sq = None
    for path in paths:
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
        spectrum = np.fft.fftshift(np.fft.fft2(rgb @ _BT601))
        decibels = 10 * np.log10(np.abs(spectrum) ** 2 + 1e-12)
        if total is None:
            total, total_sq = np.zeros_like(decibels), np.zeros_like(decibels)
        total += decibels
        total_sq += decibels**2
    return len(paths), total, total_sq


def decode_chunk(paths):
    """Decode only, with the library's decoder."""
    for path in paths:
        _io._decode(path)
    return len(paths)


def run_pool(function, paths, workers):
    shares = [paths[i::workers] for i in range(workers)]
    context = __import__("multiprocessing").get_context(_batch._start_method())
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(function, shares))


def naive(paths, workers):
    parts = run_pool(naive_chunk, paths, workers)
    count = sum(p[0] for p in parts)
    return sum(p[1] for p in parts) / count


def decode_only(paths, workers):
    return sum(run_pool(decode_chunk, paths, workers))


def ours(folder, workers):
    return spectral.mean_spectrum(folder, log=True, workers=workers,
                                  progress=False).stats.mean


def timed(function, passes):
    function()  # warm-up: page cache, imports, compilation
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="number of images")
    parser.add_argument("--size", type=int, default=256, help="side in pixels")
    parser.add_argument("--passes", type=int, default=5, help="timed passes")
    parser.add_argument("--workers", type=int, default=2, help="processes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        make_images(folder, args.n, args.size, args.seed)
        print(f"wrote {args.n} PNGs of {args.size}x{args.size} in "
              f"{time.perf_counter() - start:.1f} s; decoder: "
              f"{'libspng (pyspng)' if _io._spng is not None else 'Pillow'}; "
              f"{args.workers} processes, start method {_batch._start_method()}, "
              f"{os.cpu_count()} cores")
        paths = [str(p) for p in spectral.iter_images(folder)]

        reference = naive(paths, args.workers)
        difference = np.abs(ours(folder, args.workers) - reference).max()
        print(f"max |ours - naive| mean spectrum: {difference:.2e} dB")

        results = {
            "naive (Pillow RGB, np.fft.fft2)": timed(
                lambda: naive(paths, args.workers), args.passes),
            "decode only": timed(
                lambda: decode_only(paths, args.workers), args.passes),
            "spectral.mean_spectrum": timed(
                lambda: ours(folder, args.workers), args.passes),
        }

    print(f"\n{'pipeline':34s} {'median s':>9s} {'images/s':>9s}  passes (s)")
    for name, (median, times) in results.items():
        passes = " ".join(f"{t:.2f}" for t in times)
        print(f"{name:34s} {median:9.3f} {args.n / median:9.0f}  {passes}")
    t_naive = results["naive (Pillow RGB, np.fft.fft2)"][0]
    t_decode = results["decode only"][0]
    t_ours = results["spectral.mean_spectrum"][0]
    print(f"\nspeed-up ours / naive:        {t_naive / t_ours:5.2f}x  (target >= 5)")
    print(f"time ours / decode only:      {t_ours / t_decode:5.2f}x  (target <= 1.25)")
    print(f"speed-up decode only / naive: {t_naive / t_decode:5.2f}x  "
          "(the bound on ours / naive)")


if __name__ == "__main__":
    main()
