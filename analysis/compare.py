"""Compare generators by their spectra: mean spectra, fingerprints, peaks, distances.

:func:`compare_generators` reads a data set in the CNNDetection layout
(``<root>/<generator>/[<class>/]{0_real,1_fake}/``: a split of the simulated zoo or
the real test set) and computes, separately for each generator's reals and fakes:

* the mean power spectrum of the high-pass residual (grey minus its 5 x 5 median),
  in decibels;
* the complex-mean fingerprint of Wang et al. (Fig. 7): the mean of the complex
  Fourier transforms of the same residuals, shown as ``ln(|mean| + 1e-6)``;
* the mean log-DCT of Frank et al.;
* one azimuthal profile of the residual power per image (for mean and spread,
  and for the band analysis of :mod:`analysis.blur`);
* the JPEG-grid score per image;

and from those the peak table (upsampling factor and x2/x4/x8 peak scores) and a
distance matrix between generators. Statistics are streamed
(:class:`spectral.SpectrumStats`), so a folder of any size fits in memory.
"""

import csv
import os
from dataclasses import dataclass, field

import numpy as np

__all__ = ["GeneratorComparison", "compare_generators"]

CLASSES = ("real", "fake")

# Floors of the displayed logarithms: as power_spectrum's dB and Wang et al.'s
# fingerprint display.
_DB_FLOOR = 1e-12
_FINGERPRINT_FLOOR = 1e-6

# Bytes of per-image features held at once between the worker processes and the
# running statistics.
_CHUNK_BYTES = 64 * 2**20

# Below this many images the work runs in this process: a process pool costs
# more than it saves.
_MIN_PARALLEL = 192

_DISTANCES = ("rms", "cosine")


def _image_features(image, *, median_size=5):
    """Per-image features, flattened into one float32 vector.

    Layout: real and imaginary parts of the centred FFT of the residual (H*W
    each), the log-DCT of the image (H*W), the residual's azimuthal profile in dB
    (F values, whole square), the JPEG-grid score (1 value).
    """
    import scipy.fft

    import spectral

    res = spectral.residual(image, method="median", size=median_size)
    spec = scipy.fft.fftshift(scipy.fft.fft2(res, workers=1))
    dct = spectral.dct_spectrum(image, log=True, workers=1)
    profile = spectral.azimuthal_average(res, workers=1)
    jpeg = spectral.jpeg_grid_score(image)
    return np.concatenate([
        spec.real.ravel(), spec.imag.ravel(), dct.ravel(), profile.ravel(),
        [jpeg],
    ]).astype(np.float32)


@dataclass
class _Group:
    """Statistics of one generator's reals or fakes."""

    residual: object
    fingerprint: object
    dct: object
    profiles: np.ndarray
    jpeg: np.ndarray
    paths: tuple = ()


@dataclass
class GeneratorComparison:
    """Spectral statistics of several generators, per class (real, fake).

    Attributes
    ----------
    generators : list of str
        Generator names, in data-set order.
    size : tuple of int
        Common image size ``(H, W)`` every image was centre-cropped to.
    freqs : ndarray, shape (F,)
        Frequencies of the profile bins, cycles per pixel, from 0 to the corner
        of the spectrum (about 0.71): the corners hold the diagonal frequencies
        where x2 upsampling puts one of its peaks.
    groups : dict of (str, str) to _Group
        ``groups[(generator, "real" | "fake")]``: streamed statistics
        (``residual``, ``fingerprint``, ``dct``: :class:`spectral.SpectrumStats`),
        per-image ``profiles`` (dB, shape (N, F)) and ``jpeg`` scores.
    failed : tuple of (str, str)
        ``(path, reason)`` of every skipped file.
    median_size : int
        Side of the median filter of the residual.
    """

    generators: list
    size: tuple
    freqs: np.ndarray
    groups: dict
    failed: tuple = ()
    median_size: int = 5
    _peaks: list = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------ accessors

    def _group(self, generator, cls):
        if cls not in CLASSES:
            raise ValueError(f"cls must be 'real' or 'fake', got {cls!r}")
        try:
            return self.groups[(generator, cls)]
        except KeyError:
            raise KeyError(
                f"no {cls} images of generator {generator!r}; generators: "
                f"{self.generators}"
            ) from None

    def count(self, generator, cls):
        """Number of images averaged for a generator's class."""
        return self._group(generator, cls).residual.count

    def mean_residual(self, generator, cls):
        """Mean residual power spectrum in dB, centred, shape ``size``."""
        return self._group(generator, cls).residual.mean

    def std_residual(self, generator, cls):
        """Standard deviation over images of the residual power in dB."""
        return self._group(generator, cls).residual.std

    def fingerprint(self, generator, cls):
        """Wang et al.'s fingerprint ``ln(|mean complex residual FFT| + 1e-6)``."""
        mean = self._group(generator, cls).fingerprint.mean
        return np.log(np.abs(mean) + _FINGERPRINT_FLOOR)

    def mean_dct(self, generator, cls):
        """Mean log-DCT ``ln(|c| + 1e-12)`` of the images (Frank et al.)."""
        return self._group(generator, cls).dct.mean

    def profiles(self, generator, cls, *, linear=False):
        """Per-image residual power profiles ``(N, F)``: dB, or linear power."""
        prof = self._group(generator, cls).profiles
        return 10.0 ** (prof / 10.0) if linear else prof

    def band_profiles(self, *, linear=True, drop_dc=True):
        """Profiles for :func:`analysis.blur.blur_study`.

        Returns
        -------
        profiles : dict of str to (ndarray, ndarray)
            Per generator ``(real, fake)`` profiles.
        freqs : ndarray
            Their frequencies (without the zero frequency when ``drop_dc``).
        """
        start = 1 if drop_dc else 0
        out = {g: (self.profiles(g, "real", linear=linear)[:, start:],
                   self.profiles(g, "fake", linear=linear)[:, start:])
               for g in self.generators}
        return out, self.freqs[start:]

    def pooled(self, cls, what="residual"):
        """Statistics of one class pooled over all generators (merged moments)."""
        from spectral import SpectrumStats

        total = None
        for g in self.generators:
            stats = getattr(self._group(g, cls), what)
            copy = SpectrumStats.from_moments(stats.count, stats.mean, stats.m2,
                                              complex_mean=stats.complex_mean)
            total = copy if total is None else total.merge(copy)
        return total

    # ---------------------------------------------------------- derived tables

    def peak_table(self):
        """Upsampling-peak scores per generator and class.

        Returns
        -------
        list of dict
            Rows ``{"generator", "class", "n", "factor", "x2", "x4", "x8",
            "jpeg_grid"}``: the scores (dB) of :func:`spectral.upsampling_peaks`
            on the mean residual spectrum in dB, the factor of
            :func:`spectral.estimate_upsampling_factor` (told the median JPEG-grid
            score so that JPEG's 8 x 8 grid is not read as x8 upsampling), and
            the median JPEG-grid score of the images.
        """
        if self._peaks is not None:
            return [dict(r) for r in self._peaks]
        import spectral

        factors = tuple(f for f in (2, 4, 8) if f <= min(self.size) // 2)
        rows = []
        for g in self.generators:
            for cls in CLASSES:
                group = self._group(g, cls)
                mean = group.residual.mean
                jpeg = float(np.median(group.jpeg)) if group.jpeg.size else None
                scores = spectral.upsampling_peaks(mean, factors=factors, log=True)
                factor = spectral.estimate_upsampling_factor(
                    mean, factors=factors, log=True, jpeg_grid=jpeg)
                row = {"generator": g, "class": cls, "n": group.residual.count,
                       "factor": int(factor), "jpeg_grid": jpeg}
                for f in (2, 4, 8):
                    row[f"x{f}"] = float(scores[f]) if f in scores else None
                rows.append(row)
        self._peaks = rows
        return [dict(r) for r in rows]

    def distances(self, *, method="rms"):
        """Distance between the generators' spectral signatures.

        Parameters
        ----------
        method : {"rms", "cosine"}, optional
            ``"rms"``: root mean square, in dB, of the difference between two
            signatures. ``"cosine"``: one minus their cosine similarity.

        Returns
        -------
        ndarray, shape (G, G)
            Symmetric, zero diagonal; rows in the order of ``generators``.

        Notes
        -----
        The signature of a generator is the mean residual power spectrum (dB) of
        its fakes minus that of its own reals, with the zero frequency left out.
        Subtracting the reals removes what the image content and the real
        source (camera, JPEG history, data set) put into the spectrum, which
        differs from one test set to the next in the CNNDetection data; what is
        left is what the generator changes.
        """
        if method not in _DISTANCES:
            raise ValueError(f"method must be one of {_DISTANCES}, got {method!r}")
        h, w = self.size
        keep = np.ones((h, w), dtype=bool)
        keep[h // 2, w // 2] = False
        sig = np.stack([
            (self.mean_residual(g, "fake") - self.mean_residual(g, "real"))[keep]
            for g in self.generators
        ])
        if method == "rms":
            diff = sig[:, None, :] - sig[None, :, :]
            out = np.sqrt(np.mean(diff * diff, axis=-1))
        else:
            norm = np.linalg.norm(sig, axis=1)
            norm = np.where(norm > 0, norm, 1.0)
            unit = sig / norm[:, None]
            out = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
        np.fill_diagonal(out, 0.0)
        return out

    def to_results(self, *, method="rms"):
        """Peak table and distances in the layout of :mod:`analysis.report`."""
        return {
            "peaks": self.peak_table(),
            "distances": {
                "names": list(self.generators),
                "matrix": self.distances(method=method).tolist(),
                "method": ("RMS difference (dB) of mean residual spectra, each "
                           "minus its reals'" if method == "rms" else
                           "1 - cosine of mean residual spectra minus the reals'"),
            },
            "spectra_summary": {
                "size": list(self.size),
                "counts": {g: {c: self.count(g, c) for c in CLASSES}
                           for g in self.generators},
                "failed": len(self.failed),
            },
        }

    # ------------------------------------------------------------------ files

    def save(self, out_dir):
        """Write the statistics and tables.

        Parameters
        ----------
        out_dir : str or os.PathLike
            Folder (created).

        Returns
        -------
        dict of str to str
            Paths written: ``"spectra"`` (``spectra.npz``: moments of every
            statistic, per-image profiles and JPEG scores, frequencies, size),
            ``"peaks"`` (``peaks.csv``), ``"distances"`` (``distances.csv``, RMS
            in dB) and ``"failed"`` (``failed.csv``, skipped files).
        """
        out_dir = os.fspath(out_dir)
        os.makedirs(out_dir, exist_ok=True)
        arrays = {
            "generators": np.array(self.generators, dtype=str),
            "size": np.array(self.size),
            "freqs": self.freqs,
            "median_size": np.array(self.median_size),
        }
        for (g, cls), group in self.groups.items():
            key = f"{g}/{cls}"
            for what in ("residual", "fingerprint", "dct"):
                stats = getattr(group, what)
                arrays[f"{key}/{what}/count"] = np.array(stats.count)
                arrays[f"{key}/{what}/mean"] = stats.mean
                arrays[f"{key}/{what}/m2"] = stats.m2
            arrays[f"{key}/profiles"] = group.profiles
            arrays[f"{key}/jpeg"] = group.jpeg
            arrays[f"{key}/paths"] = np.array(group.paths, dtype=str)
        paths = {"spectra": os.path.join(out_dir, "spectra.npz")}
        np.savez_compressed(paths["spectra"], **arrays)

        paths["peaks"] = os.path.join(out_dir, "peaks.csv")
        columns = ["generator", "class", "n", "factor", "x2", "x4", "x8", "jpeg_grid"]
        with open(paths["peaks"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in self.peak_table():
                writer.writerow(["" if row[c] is None else
                                 (repr(row[c]) if isinstance(row[c], float)
                                  else row[c]) for c in columns])

        paths["distances"] = os.path.join(out_dir, "distances.csv")
        matrix = self.distances()
        with open(paths["distances"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["generator", *self.generators])
            for g, row in zip(self.generators, matrix, strict=True):
                writer.writerow([g, *(repr(float(v)) for v in row)])

        paths["failed"] = os.path.join(out_dir, "failed.csv")
        with open(paths["failed"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "reason"])
            writer.writerows(self.failed)
        return paths

    @classmethod
    def load(cls, path):
        """Read a comparison written by :meth:`save` (its folder or ``spectra.npz``)."""
        from spectral import SpectrumStats

        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "spectra.npz")
        with np.load(path, allow_pickle=False) as data:
            generators = [str(g) for g in data["generators"]]
            groups = {}
            for g in generators:
                for c in CLASSES:
                    key = f"{g}/{c}"
                    stats = {
                        what: SpectrumStats.from_moments(
                            int(data[f"{key}/{what}/count"]),
                            data[f"{key}/{what}/mean"], data[f"{key}/{what}/m2"],
                            complex_mean=what == "fingerprint")
                        for what in ("residual", "fingerprint", "dct")
                    }
                    groups[(g, c)] = _Group(
                        profiles=data[f"{key}/profiles"], jpeg=data[f"{key}/jpeg"],
                        paths=tuple(str(p) for p in data[f"{key}/paths"]), **stats)
            return cls(generators=generators, size=tuple(int(v) for v in data["size"]),
                       freqs=data["freqs"], groups=groups,
                       median_size=int(data["median_size"]))

    # ---------------------------------------------------------------- figures

    def plot(self, out_dir, *, figure_dir="figures", section="spectra"):
        """Draw the comparison figures and write them as PNG.

        Parameters
        ----------
        out_dir : str or os.PathLike
            Report folder; figures go to ``out_dir/figure_dir``.
        figure_dir : str, optional
            Sub-folder of the figures.
        section : str, optional
            Report section recorded with each figure.

        Returns
        -------
        dict of str to dict
            ``{key: {"path", "caption", "section"}}`` for
            :func:`analysis.report.write_report`: ``mean_spectra`` (mean residual
            spectra of every generator's fakes and of all reals, one colour
            scale), ``fingerprints`` (complex-mean fingerprints, one scale),
            ``dct`` (mean log-DCT of the fakes minus their reals), ``profiles``
            (per generator, reals against fakes, mean +- sd), ``peaks`` (peak
            table) and ``distances`` (heatmap).
        """
        import matplotlib.pyplot as plt

        from spectral.plot import plot_mean_spectra, plot_profiles

        from .figures import plot_distance_matrix, plot_peak_table, save_figure

        out = {}
        out_dir = os.fspath(out_dir)

        def _save(key, fig, caption):
            rel = f"{figure_dir}/{key}.png"
            save_figure(fig, os.path.join(out_dir, rel))
            out[key] = {"path": rel, "caption": caption, "section": section}

        n = len(self.generators) + 1
        ncols = min(n, 5)
        nrows = -(-n // ncols)
        figsize = (7.5, 1.6 * nrows + 0.6)

        spectra = {"reals (all)": self.pooled("real").mean}
        spectra.update({g: self.mean_residual(g, "fake") for g in self.generators})
        fig = plt.figure(figsize=figsize, layout="constrained")
        plot_mean_spectra(spectra, ncols=ncols, fig=fig)
        _save("mean_spectra", fig, (
            "Mean power spectrum (dB) of the high-pass residual (grey minus its "
            f"{self.median_size}x{self.median_size} median) of each generator's "
            "fakes and of all reals, one colour scale; axes in cycles/px."))

        prints = {"reals (all)": np.log(np.abs(self.pooled(
            "real", "fingerprint").mean) + _FINGERPRINT_FLOOR)}
        prints.update({g: self.fingerprint(g, "fake") for g in self.generators})
        fig = plt.figure(figsize=figsize, layout="constrained")
        plot_mean_spectra(prints, ncols=ncols, fig=fig)
        _save("fingerprints", fig, (
            "Fingerprints as Wang et al. (Fig. 7): ln(|mean of the complex FFTs of "
            "the residuals| + 1e-6). Averaging complex spectra cancels content "
            "whose phase varies; what stays is periodic at a fixed phase."))

        h, w = self.size
        dct_freqs = (np.arange(h) / (2.0 * h), np.arange(w) / (2.0 * w))
        diffs = {g: self.mean_dct(g, "fake") - self.mean_dct(g, "real")
                 for g in self.generators}
        top = max(float(np.percentile(np.abs(d), 99)) for d in diffs.values())
        fig = plt.figure(figsize=(7.5, 1.6 * (-(-len(diffs) // ncols)) + 0.6),
                         layout="constrained")
        plot_mean_spectra(diffs, ncols=ncols, fig=fig, freqs=dct_freqs,
                          cmap="RdBu_r", vmin=-top, vmax=top)
        _save("dct", fig, (
            "Mean log-DCT (Frank et al.) of each generator's fakes minus that of "
            "its reals, natural-log units; DCT index k is k/(2N) cycles/px, the "
            "zero frequency in the top-left corner."))

        ncols_p = min(len(self.generators), 4)
        nrows_p = -(-len(self.generators) // ncols_p)
        fig, axes = plt.subplots(nrows_p, ncols_p, figsize=(7.5, 1.9 * nrows_p + 0.4),
                                 layout="constrained", squeeze=False, sharex=True)
        for ax, g in zip(axes.flat, self.generators, strict=False):
            plot_profiles({"real": self.profiles(g, "real")[:, 1:],
                           "fake": self.profiles(g, "fake")[:, 1:]},
                          freqs=self.freqs[1:], ax=ax, xlabel="", ylabel="")
            ax.set_title(g, fontsize=8)
            ax.tick_params(labelsize=6)
            if ax.get_legend() is not None and g != self.generators[0]:
                ax.get_legend().remove()
        for ax in list(axes.flat)[len(self.generators):]:
            ax.set_axis_off()
        fig.supxlabel("radial frequency (cycles/px)", fontsize=8)
        fig.supylabel("residual power (dB)", fontsize=8)
        _save("profiles", fig, (
            "Azimuthal profiles of the residual power per generator: reals against "
            "fakes, mean over images with a band of +- one standard deviation."))

        fig, ax = plt.subplots(figsize=(5.5, 1.0 + 0.2 * 2 * len(self.generators)),
                               layout="constrained")
        plot_peak_table(self.peak_table(), ax=ax)
        _save("peaks", fig, (
            "Upsampling-peak scores (dB above the local median) of each mean "
            "residual spectrum at the positions x2, x4 and x8 upsampling predict, "
            "with the estimated factor, and the median JPEG-grid score."))

        fig, ax = plt.subplots(layout="constrained")
        plot_distance_matrix(self.distances(), self.generators, ax=ax,
                             label="RMS difference (dB)")
        _save("distances", fig, (
            "Distance between generators: RMS difference (dB) between their mean "
            "residual spectra, each taken minus the mean of its own reals."))
        return out


def _image_size(path):
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.size[1], img.size[0]
    except (OSError, ValueError):
        return None


def _select(samples, generators, max_images, seed):
    """Group sample paths by (generator, class), keeping at most max_images each."""
    groups = {}
    for s in samples:
        if generators is not None and s.generator not in generators:
            continue
        groups.setdefault((s.generator, CLASSES[s.label]), []).append(s.path)
    rng = np.random.default_rng(seed)
    for key, paths in groups.items():
        if max_images is not None and len(paths) > max_images:
            keep = np.sort(rng.choice(len(paths), size=max_images, replace=False))
            groups[key] = [paths[i] for i in keep]
    return groups


def compare_generators(root, *, generators=None, size=None, max_images=None,
                       workers=None, progress=True, median_size=5, seed=0):
    """Compute the spectral statistics of every generator of a data set.

    Parameters
    ----------
    root : str or os.PathLike
        Data set in the CNNDetection layout: generator folders, each holding
        ``0_real`` and ``1_fake`` (or class folders of them), such as a zoo
        split (``<zoo>/test``) or the real ``CNN_synth_testset``.
    generators : sequence of str, optional
        Generators to keep (default all, in folder order).
    size : int or (int, int), optional
        Centre-crop every image to this size; images smaller are skipped and
        reported. Default: the smallest height and width in the selection.
    max_images : int, optional
        Use at most this many images per generator and class (a seeded random
        subset).
    workers : int, optional
        Worker processes (default every core); fewer than 192 images run in
        this process.
    progress : bool, optional
        Show a progress bar on stderr.
    median_size : int, optional
        Side of the median filter of the residual (Wang et al.: 5).
    seed : int, optional
        Seed of the ``max_images`` subset.

    Returns
    -------
    GeneratorComparison

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    ValueError
        If the layout is wrong, a generator has no readable real or fake image,
        ``size`` is invalid, or the common size is below 16 pixels.

    Notes
    -----
    Every image is read once, in grey (BT.601 luma, [0, 1]), and centre-cropped
    to the common size. A worker process computes its residual ``x -
    median_5x5(x)``, the FFT of the residual, the log-DCT of the image, the
    azimuthal profile of the residual power (whole square, corners included,
    bins ``1 / max(H, W)`` wide, dB of the mean power per ring) and the JPEG-grid
    score; this process streams the first three into float64 running moments
    (:class:`spectral.SpectrumStats`) in chunks of about 64 MB, and keeps only the
    profiles and scores per image (about a hundred numbers each). The residual
    power is ``10 log10(|X|^2 + 1e-12)`` of the unnormalised DFT, as
    :func:`spectral.power_spectrum` gives. Multi-class generator folders are
    pooled over their classes.

    References
    ----------
    .. [1] S.-Y. Wang, O. Wang, R. Zhang, A. Owens, A. A. Efros, "CNN-generated
       images are surprisingly easy to spot... for now", CVPR 2020, Fig. 7.
    .. [2] J. Frank, T. Eisenhofer, L. Schoenherr, A. Fischer, D. Kolossa,
       T. Holz, "Leveraging Frequency Analysis for Deep Fake Image
       Recognition", ICML 2020.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from analysis.compare import compare_generators
    >>> rng = np.random.default_rng(0)
    >>> root = tempfile.mkdtemp()
    >>> for gen in ("a", "b"):
    ...     for sub in ("0_real", "1_fake"):
    ...         os.makedirs(os.path.join(root, gen, sub))
    ...         for i in range(3):
    ...             px = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    ...             Image.fromarray(px).save(os.path.join(root, gen, sub, f"{i}.png"))
    >>> comp = compare_generators(root, progress=False, workers=1)
    >>> comp.generators, comp.size, comp.count("a", "fake")
    (['a', 'b'], (32, 32), 3)
    >>> comp.distances().shape
    (2, 2)
    """
    import spectral
    from detectors.data import list_dataset

    if max_images is not None:
        if isinstance(max_images, bool) or not isinstance(max_images, int) or (
                max_images < 1):
            raise ValueError(f"max_images must be a positive integer, got "
                             f"{max_images!r}")
    if generators is not None:
        generators = [str(g) for g in generators]
    samples = list_dataset(root, generators=generators)
    groups = _select(samples, generators, max_images, seed)
    names = list(dict.fromkeys(g for g, _ in groups))
    for g in names:
        for c in CLASSES:
            if (g, c) not in groups:
                raise ValueError(f"generator {g!r} has no {c} images under {root!r}")

    size = _common_size(groups, size)
    if min(size) < 16:
        raise ValueError(
            f"the common image size {size} is below 16 pixels: pass a larger size "
            "or remove the smallest images"
        )
    n_freq = spectral.azimuthal_frequencies(size).size

    # Compile the Numba kernels here, before worker processes fork.
    _image_features(np.zeros(size, np.float32), median_size=median_size)

    order = [(key, p) for key, paths in groups.items() for p in paths]
    owner = {p: key for key, p in order}
    hw = size[0] * size[1]
    length = 3 * hw + n_freq + 1
    chunk = max(16, _CHUNK_BYTES // (4 * length))
    workers = _check_workers(workers)

    acc = {key: {"residual": spectral.SpectrumStats(),
                 "fingerprint": spectral.SpectrumStats(complex_mean=True),
                 "dct": spectral.SpectrumStats(), "profiles": [], "jpeg": [],
                 "paths": []} for key in groups}
    failed = []
    from tqdm import tqdm

    bar = tqdm(total=len(order), disable=not progress, unit="img", desc="spectra")
    with bar:
        for start in range(0, len(order), chunk):
            paths = [p for _, p in order[start:start + chunk]]
            result = spectral.extract_features(
                paths, _image_features, size=size, mode="gray", progress=False,
                workers=1 if len(paths) < _MIN_PARALLEL else workers,
                median_size=median_size)
            failed.extend(result.failed)
            feats = np.asarray(result.features) if len(result.paths) else None
            by_key = {}
            for i, p in enumerate(result.paths):
                by_key.setdefault(owner[p], []).append(i)
            for key, rows in by_key.items():
                _accumulate(acc[key], feats[rows], [result.paths[i] for i in rows],
                            size, n_freq)
            bar.update(len(paths))

    out = {}
    for key, a in acc.items():
        if a["residual"].count == 0:
            raise ValueError(
                f"no readable {key[1]} image of generator {key[0]!r} "
                f"(size {size}); e.g. {failed[0] if failed else None}"
            )
        out[key] = _Group(residual=a["residual"], fingerprint=a["fingerprint"],
                          dct=a["dct"], profiles=np.concatenate(a["profiles"]),
                          jpeg=np.concatenate(a["jpeg"]), paths=tuple(a["paths"]))
    freqs = spectral.azimuthal_frequencies(size)
    return GeneratorComparison(generators=names, size=size, freqs=freqs,
                               groups=out, failed=tuple(failed),
                               median_size=median_size)


def _accumulate(acc, feats, paths, size, n_freq):
    h, w = size
    hw = h * w
    spec = feats[:, :hw].astype(np.float64) + 1j * feats[:, hw:2 * hw]
    spec = spec.reshape(-1, h, w)
    power = spec.real**2 + spec.imag**2
    acc["residual"].update(10.0 * np.log10(power + _DB_FLOOR))
    acc["fingerprint"].update(spec)
    acc["dct"].update(feats[:, 2 * hw:3 * hw].reshape(-1, h, w))
    acc["profiles"].append(feats[:, 3 * hw:3 * hw + n_freq].astype(np.float64))
    acc["jpeg"].append(feats[:, -1].astype(np.float64))
    acc["paths"].extend(paths)


def _check_workers(workers):
    if workers is None:
        return max(1, len(os.sched_getaffinity(0))) if hasattr(
            os, "sched_getaffinity") else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    return workers


def _common_size(groups, size):
    if size is not None:
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            size = (int(size), int(size))
        try:
            h, w = (int(v) for v in size)
        except (TypeError, ValueError):
            raise ValueError(f"size must be an int or a pair (H, W), got {size!r}"
                             ) from None
        if h < 1 or w < 1:
            raise ValueError(f"size must be positive, got {size!r}")
        return (h, w)
    shapes = [s for paths in groups.values() for s in map(_image_size, paths) if s]
    if not shapes:
        raise ValueError("no readable image to take the common size from")
    return (min(s[0] for s in shapes), min(s[1] for s in shapes))
