"""Azimuthal profile of in-memory images: Durall et al.'s algorithm vs ours.

The reference is their profile as their code computes it, per image: NumPy
``fft2``, ``fftshift``, ``20 ln|F + 1e-8|``, then ``np.indices``, the radius of
every pixel, an ``argsort`` of the radii, a cumulative sum and differences at the
radius changes. Ours is ``spectral.azimuthal_average(..., mode="durall")``, called
once per image and once on the whole batch. **Both timings include the FFT**,
since the public function takes images. A second table times the profile stage
alone, from a log-magnitude spectrum computed beforehand (their sort-based
average vs our cached-map kernel, parallel and serial drivers).

Each figure is the median of ``--passes`` timed passes after a warm-up; the first
call of ours in this fresh process is timed separately (Numba compilation).

    .venv/bin/python benchmarks/bench_azimuthal.py [--n 200] [--size 256]

With the FFT included, ours is bound by ``scipy.fft.rfft2`` (about 2,300-3,500
float32 256x256 transforms per second per core): the ratio can exceed about 25x
per core only through a faster FFT.
"""

import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np
import scipy.fft

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spectral  # noqa: E402
from spectral import _radial  # noqa: E402
from spectral._kernels import radial as _kernels  # noqa: E402

EPSILON = 1e-8


def durall_average(image):
    """Their radial profile of a 2-D array (sort by radius, cumulative sums)."""
    y, x = np.indices(image.shape)
    centre = np.array([(x.max() - x.min()) / 2.0, (y.max() - y.min()) / 2.0])
    radius = np.hypot(x - centre[0], y - centre[1])
    order = np.argsort(radius.flat)
    radius_sorted = radius.flat[order]
    values_sorted = image.flat[order]
    radius_int = radius_sorted.astype(int)
    changes = np.where(radius_int[1:] - radius_int[:-1])[0]
    per_ring = changes[1:] - changes[:-1]
    cumulative = np.cumsum(values_sorted, dtype=float)
    ring_sums = cumulative[changes[1:]] - cumulative[changes[:-1]]
    return ring_sums / per_ring


def durall_log_spectrum(image):
    spectrum = np.fft.fftshift(np.fft.fft2(image))
    spectrum += EPSILON
    return 20 * np.log(np.abs(spectrum))


def durall_profile(image):
    return durall_average(durall_log_spectrum(image))


def median_rate(func, n_images, passes):
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return n_images / float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="images per pass")
    parser.add_argument("--size", type=int, default=256, help="image side")
    parser.add_argument("--passes", type=int, default=5, help="timed passes")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    images = rng.random((args.n, args.size, args.size), dtype=np.float32)

    start = time.perf_counter()
    spectral.azimuthal_average(images[0], mode="durall")
    first_call = time.perf_counter() - start
    start = time.perf_counter()
    spectral.azimuthal_average(images[:16], mode="durall")
    first_batch = time.perf_counter() - start

    # Same numbers before timing anything (float32 FFT vs their float64 one).
    ours = spectral.azimuthal_average(images[:8], mode="durall")
    theirs = np.stack([durall_profile(im) for im in images[:8]])
    max_diff = float(np.max(np.abs(ours - theirs)))
    if max_diff > 1e-3:
        raise RuntimeError(f"profiles differ by {max_diff} dB")

    def run_theirs():
        for im in images:
            durall_profile(im)

    def run_ours_per_image():
        for im in images:
            spectral.azimuthal_average(im, mode="durall")

    def run_ours_batch(workers):
        return lambda: spectral.azimuthal_average(images, mode="durall",
                                                  workers=workers)

    passes = args.passes
    rate_theirs = median_rate(run_theirs, args.n, passes)
    run_ours_per_image()
    rate_per_image = median_rate(run_ours_per_image, args.n, passes)
    rate_batch = median_rate(run_ours_batch(None), args.n, passes)
    rate_batch_w = median_rate(run_ours_batch(-1), args.n, passes)
    # One Numba thread: shows what the thread pool gains (or loses on a busy
    # machine, where a descheduled thread stalls every parallel region).
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    rate_batch_1 = median_rate(run_ours_batch(None), args.n, passes)
    numba.set_num_threads(threads)

    # Profile stage alone: log-magnitude spectra computed beforehand.
    logmag_full = np.stack([durall_log_spectrum(im) for im in images])
    bins = _radial._durall_bins(images.shape[1:])
    half = scipy.fft.rfft2(images)
    half.real += EPSILON
    logmag_half = np.log(np.abs(half))

    def profile_theirs():
        for plane in logmag_full:
            durall_average(plane)

    def profile_ours(driver):
        return lambda: driver(logmag_half, bins.idx_a, bins.idx_b, bins.n_bins)

    parallel = profile_ours(_kernels._bin_sums)
    serial = profile_ours(_kernels._bin_sums_serial)
    parallel()
    serial()
    rate_profile_theirs = median_rate(profile_theirs, args.n, passes)
    rate_profile_ours = median_rate(parallel, args.n, passes)
    rate_profile_serial = median_rate(serial, args.n, passes)

    print(f"{args.n} images {args.size}x{args.size} float32, median of {passes} "
          f"passes, {threads} Numba threads; max |ours - theirs| = {max_diff:.2e}")
    print(f"first call (JIT compile + run): one image {first_call:.2f} s, "
          f"first batch {first_batch:.2f} s")
    print("\nwith the FFT               images/s   vs theirs")
    for name, rate in [
        ("theirs (argsort + cumsum)", rate_theirs),
        ("ours, per image", rate_per_image),
        ("ours, batch", rate_batch),
        ("ours, batch, workers=-1", rate_batch_w),
        ("ours, batch, 1 thread", rate_batch_1),
    ]:
        print(f"{name:26s} {rate:9.0f}   {rate / rate_theirs:7.1f}x")
    print("\nprofile stage only         images/s   vs theirs")
    for name, rate in [
        ("theirs (argsort + cumsum)", rate_profile_theirs),
        ("ours, parallel kernel", rate_profile_ours),
        ("ours, serial kernel", rate_profile_serial),
    ]:
        print(f"{name:26s} {rate:9.0f}   {rate / rate_profile_theirs:7.1f}x")


if __name__ == "__main__":
    main()
