"""``spectral-forensics peaks``: upsampling peaks and JPEG grid of image folders.

For each folder: the mean linear power spectrum of the high-pass residual of its
grey images (the 5x5 median residual by default), its upsampling-peak scores
for the factors 2, 4 and 8 (``spectral.upsampling_peaks``, decibels), the mean
``spectral.jpeg_grid_score`` of its images, and the estimated upsampling factor
(``spectral.estimate_upsampling_factor`` given the per-image JPEG-grid scores,
so that a JPEG 8x8 grid is not read as an upsampling by 8). The table is
printed and written to a CSV file.
"""

import csv
import sys
from pathlib import Path

import numpy as np

from ._cmd_spectra import add_common_arguments, check_new, folder_names, mean_spectra

HELP = "upsampling-peak and JPEG-grid table of image folders"

FACTORS = (2, 4, 8)

COLUMNS = ("name", "folder", "images", "failed",
           *(f"peak_x{f}_db" for f in FACTORS), "jpeg_grid_mean", "factor")


def add_arguments(parser):
    """Add the command's arguments to ``parser``."""
    parser.add_argument("folders", nargs="+", metavar="FOLDER",
                        help="folders of images, one table row each")
    parser.add_argument("--out", required=True, metavar="FILE.csv",
                        help="CSV file to write")
    add_common_arguments(parser, residual_default="median")


def run(args):
    """Compute the table, print it and write it; return the exit status."""
    import spectral

    out = Path(args.out)
    problem = check_new([out], args.overwrite)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    names = folder_names(args.folders)

    try:
        spectra = mean_spectra(args.folders, names, args, log=False)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rows = []
    for (name, result), folder in zip(spectra.items(), args.folders, strict=True):
        grid = spectral.extract_features(
            list(result.paths), "jpeg_grid_score", workers=args.workers,
            progress=not args.quiet, mode="gray", size=args.size)
        scores = np.asarray(grid.features, dtype=float)
        mean = result.stats.mean
        peaks = spectral.upsampling_peaks(mean, factors=FACTORS)
        factor = spectral.estimate_upsampling_factor(mean, factors=FACTORS,
                                                     jpeg_grid=scores)
        rows.append((name, folder, result.stats.count, len(result.failed),
                     *(peaks[f] for f in FACTORS), float(scores.mean()), factor))

    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w" if args.overwrite else "x", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(_formatted(row) for row in rows)
    _print_table(rows)
    print(out)
    return 0


def _formatted(row):
    return [f"{value:.4f}" if isinstance(value, float) else value for value in row]


def _print_table(rows):
    header = ["name", "images", "failed", *(f"x{f} dB" for f in FACTORS),
              "jpeg grid", "factor"]
    lines = [header]
    for name, _, count, failed, *peaks, grid, factor in rows:
        lines.append([name, str(count), str(failed),
                      *(f"{p:.2f}" for p in peaks), f"{grid:.3f}", str(factor)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [line[0].ljust(widths[0])]
        pairs = zip(line[1:], widths[1:], strict=True)
        cells += [cell.rjust(width) for cell, width in pairs]
        print("  ".join(cells))
