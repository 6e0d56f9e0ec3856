"""``spectral-forensics spectra``: mean spectra of image folders.

For each folder, the streaming mean and variance of the centred log power
spectrum (decibels) of its grey images, optionally of their high-pass residual,
are written to ``OUT/<name>_mean_spectrum.npz`` (``SpectrumStats.save``). All
the mean spectra are drawn on one colour scale in ``OUT/mean_spectra.png``, and
the files that were skipped are listed in ``OUT/failed.csv``. Existing outputs
are never replaced without ``--overwrite``.
"""

import csv
import os
import sys
from pathlib import Path

HELP = "mean spectra of image folders: npz, CSV and PNG"

RESIDUALS = ("none", "median", "laplacian", "npr")


def add_arguments(parser):
    """Add the command's arguments to ``parser``."""
    parser.add_argument("folders", nargs="+", metavar="FOLDER",
                        help="folders of images, one mean spectrum each")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (created when missing)")
    add_common_arguments(parser, residual_default="none")


def add_common_arguments(parser, *, residual_default):
    """Options shared by the ``spectra`` and ``peaks`` commands."""
    parser.add_argument("--residual", choices=RESIDUALS, default=residual_default,
                        help="average the spectrum of this high-pass residual "
                             f"(default: {residual_default})")
    parser.add_argument("--size", nargs=2, type=int, metavar=("H", "W"),
                        help="centre-crop every image to H x W (default: every "
                             "image must have the size of the folder's first)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes (default: every core)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar")


def folder_names(folders):
    """Unique short names for folders: their base name, ``_2``, ``_3`` on clashes."""
    names = []
    for folder in folders:
        base = Path(os.path.abspath(folder)).name or "root"
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


def check_new(paths, overwrite):
    """Return an error message when an output exists and may not be replaced."""
    if overwrite:
        return None
    existing = [str(p) for p in paths if os.path.lexists(p)]
    if existing:
        return (f"{', '.join(existing)} already exist(s); pass --overwrite to "
                "replace")
    return None


def write_failed_csv(path, rows, overwrite):
    """Write ``(name, folder, path, reason)`` rows to ``path``."""
    with open(path, "w" if overwrite else "x", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "folder", "path", "reason"])
        writer.writerows(rows)


def mean_spectra(folders, names, args, *, log):
    """Mean spectrum of each folder; raises ValueError naming a failing folder."""
    import spectral

    results = {}
    for name, folder in zip(names, folders, strict=True):
        try:
            results[name] = spectral.mean_spectrum(
                folder, residual=None if args.residual == "none" else args.residual,
                log=log, size=args.size, workers=args.workers,
                progress=not args.quiet)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{folder}: {exc}") from None
    return results


def run(args):
    """Compute and write the mean spectra; return the exit status."""
    out = Path(args.out)
    names = folder_names(args.folders)
    npz_paths = [out / f"{name}_mean_spectrum.npz" for name in names]
    png_path = out / "mean_spectra.png"
    csv_path = out / "failed.csv"
    problem = check_new([*npz_paths, png_path, csv_path], args.overwrite)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1

    try:
        results = mean_spectra(args.folders, names, args, log=True)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    out.mkdir(parents=True, exist_ok=True)
    for path, result in zip(npz_paths, results.values(), strict=True):
        result.stats.save(path, overwrite=args.overwrite)
    _plot(results, png_path)
    failed = [(name, folder, path, reason)
              for name, folder in zip(names, args.folders, strict=True)
              for path, reason in results[name].failed]
    write_failed_csv(csv_path, failed, args.overwrite)

    print(f"{'name':20s} {'images':>7s} {'failed':>7s}  shape     file")
    for (name, result), path in zip(results.items(), npz_paths, strict=True):
        height, width = result.stats.shape
        print(f"{name:20s} {result.stats.count:7d} {len(result.failed):7d}  "
              f"{height}x{width:<6d} {path}")
    print(png_path)
    return 0


def _plot(results, path):
    from matplotlib.figure import Figure

    from spectral.plot import plot_mean_spectra

    ncols = min(len(results), 4)
    nrows = -(-len(results) // ncols)
    fig = Figure(figsize=(3.2 * ncols + 1.0, 3.0 * nrows), layout="constrained")
    plot_mean_spectra({name: r.stats.mean for name, r in results.items()},
                      ncols=ncols, fig=fig)
    fig.savefig(path, dpi=100)
