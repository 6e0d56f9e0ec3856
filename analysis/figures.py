"""Figures of the generator comparison and the detector evaluation.

Every function draws with matplotlib, imported lazily, into the ``ax=`` (or
``fig=``) it is given or a new one, returns its artists and never calls ``show()``.
:func:`report_figures` draws the standard set from a results dictionary (the one
:func:`analysis.report.write_report` renders) and writes them as PNG files.

Frequencies are in cycles per pixel; scores and rates in [0, 1].
"""

import os

import numpy as np

from .blur import blur_transfer

__all__ = [
    "plot_accuracy_bars",
    "plot_ap_bars",
    "plot_ap_vs_prob",
    "plot_band_blur",
    "plot_confusion_matrices",
    "plot_distance_matrix",
    "plot_peak_table",
    "report_figures",
    "save_figure",
]

# Width of a full-page figure, inches (the style guide's limit is 8).
_WIDE = 7.5


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _check_mapping(value, name):
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{name} must be a non-empty dict, got {value!r}")
    return value


def save_figure(fig, path, *, dpi=100):
    """Write a figure as PNG and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        Output file; parent folders are created.
    dpi : int, optional
        Resolution.

    Returns
    -------
    str
        The path written.

    Examples
    --------
    >>> import tempfile, os
    >>> import matplotlib.pyplot as plt
    >>> from analysis.figures import save_figure
    >>> fig, ax = plt.subplots()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_figure(fig, os.path.join(tmp, "a", "f.png"))
    ...     os.path.getsize(out) > 0
    True
    """
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    _pyplot().close(fig)
    return path


def plot_confusion_matrices(confusions, *, normalise=True, fig=None, ncols=4):
    """Draw one 2 x 2 confusion matrix per generator.

    Parameters
    ----------
    confusions : dict of str to array_like, shape (2, 2)
        ``[[TN, FP], [FN, TP]]`` per generator (rows: true real, true fake;
        columns: predicted real, predicted fake), as counts.
    normalise : bool, optional
        Colour by the share of each true class (rows sum to 1); the counts are
        printed in the cells either way.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (cleared first); a new one by default.
    ncols : int, optional
        Panels per row.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
        One per generator, in the order of ``confusions``.

    Raises
    ------
    ValueError
        If ``confusions`` is empty or a matrix is not 2 x 2.

    Examples
    --------
    >>> from analysis.figures import plot_confusion_matrices
    >>> fig, axes = plot_confusion_matrices({"san": [[9, 1], [7, 3]]})
    >>> len(axes), axes[0].get_title()
    (1, 'san')
    """
    _check_mapping(confusions, "confusions")
    mats = {}
    for name, mat in confusions.items():
        arr = np.asarray(mat, dtype=np.float64)
        if arr.shape != (2, 2):
            raise ValueError(
                f"confusion matrix of {name!r} must have shape (2, 2), got {arr.shape}"
            )
        mats[name] = arr
    plt = _pyplot()
    n = len(mats)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(figsize=(min(_WIDE, 1.9 * ncols), 1.9 * nrows),
                         layout="constrained")
    else:
        fig.clear()
    grid = fig.subplots(nrows, ncols, squeeze=False)
    axes = []
    for i, (name, arr) in enumerate(mats.items()):
        ax = grid.flat[i]
        rows = arr.sum(axis=1, keepdims=True)
        shown = np.divide(arr, rows, out=np.zeros_like(arr), where=rows > 0)
        ax.imshow(shown if normalise else arr, cmap="Blues", vmin=0,
                  vmax=1 if normalise else None)
        for (r, c), count in np.ndenumerate(arr):
            ax.text(c, r, f"{int(count)}", ha="center", va="center",
                    color="white" if shown[r, c] > 0.6 else "black", fontsize=9)
        ax.set_xticks([0, 1], ["real", "fake"], fontsize=7)
        ax.set_yticks([0, 1], ["real", "fake"], fontsize=7)
        ax.set_title(name, fontsize=9)
        axes.append(ax)
    for ax in list(grid.flat)[n:]:
        ax.set_axis_off()
    fig.supxlabel("predicted", fontsize=8)
    fig.supylabel("true", fontsize=8)
    return fig, axes


def plot_accuracy_bars(accuracies, *, ax=None):
    """Draw accuracy on reals and on fakes per generator as grouped bars.

    Parameters
    ----------
    accuracies : dict of str to dict
        Per generator a dict with ``"acc_real"`` and ``"acc_fake"`` in [0, 1].
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    list of matplotlib.container.BarContainer
        The real and the fake bars.

    Raises
    ------
    ValueError
        If ``accuracies`` is empty.
    KeyError
        If an entry lacks ``"acc_real"`` or ``"acc_fake"``.

    Examples
    --------
    >>> from analysis.figures import plot_accuracy_bars
    >>> bars = plot_accuracy_bars({"san": {"acc_real": 1.0, "acc_fake": 0.1}})
    >>> len(bars), float(bars[1][0].get_height())
    (2, 0.1)
    """
    _check_mapping(accuracies, "accuracies")
    names = list(accuracies)
    real = [float(accuracies[g]["acc_real"]) for g in names]
    fake = [float(accuracies[g]["acc_fake"]) for g in names]
    fig, ax = _axes(ax, (_WIDE, 2.8))
    x = np.arange(len(names))
    bars = [
        ax.bar(x - 0.2, real, 0.4, label="reals", color="#4c78a8"),
        ax.bar(x + 0.2, fake, 0.4, label="fakes", color="#e45756"),
    ]
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy at 0.5")
    ax.legend(fontsize=8, loc="lower left")
    return bars


def plot_ap_bars(ap, *, spread=None, ax=None):
    """Draw average precision per generator, one bar group per setting.

    Parameters
    ----------
    ap : dict of str to dict of str to float
        ``ap[setting][generator]``, e.g. settings "p=0", "p=0.1", "p=0.5".
    spread : dict of str to dict of str to float, optional
        Same layout: half-length of an error bar (e.g. the standard deviation
        over seeds).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    list of matplotlib.container.BarContainer
        One per setting.

    Raises
    ------
    ValueError
        If ``ap`` is empty.

    Examples
    --------
    >>> from analysis.figures import plot_ap_bars
    >>> bars = plot_ap_bars({"p=0": {"san": 0.9, "crn": 1.0},
    ...                      "p=0.5": {"san": 0.6, "crn": 1.0}})
    >>> len(bars), len(bars[0])
    (2, 2)
    """
    _check_mapping(ap, "ap")
    settings = list(ap)
    names = []
    for s in settings:
        names.extend(g for g in ap[s] if g not in names)
    fig, ax = _axes(ax, (_WIDE, 2.8))
    x = np.arange(len(names))
    width = 0.8 / len(settings)
    cmap = _pyplot().get_cmap("viridis")
    bars = []
    for i, s in enumerate(settings):
        heights = [float(ap[s].get(g, np.nan)) for g in names]
        err = None
        if spread is not None and s in spread:
            err = [float(spread[s].get(g, 0.0)) for g in names]
        bars.append(ax.bar(x - 0.4 + width * (i + 0.5), heights, width, yerr=err,
                           label=s, color=cmap(i / max(1, len(settings) - 1) * 0.85),
                           capsize=2, error_kw={"lw": 0.8}))
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("average precision")
    # Outside the axes, to the right: setting names can be long.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    return bars


def plot_ap_vs_prob(summary, *, highlight=("san",), ax=None):
    """Draw AP against the augmentation probability, mean and spread over seeds.

    Parameters
    ----------
    summary : dict of str to dict
        Output of :func:`analysis.blur.ap_against_prob`: per generator
        ``"probs"``, ``"mean"`` and ``"std"`` (and optionally ``"min"``,
        ``"max"``).
    highlight : sequence of str, optional
        Generators drawn thick.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    list of matplotlib.lines.Line2D
        One line per generator.

    Raises
    ------
    ValueError
        If ``summary`` is empty.

    Notes
    -----
    The shaded band is mean +- one standard deviation over seeds; with a single
    seed it has zero width.

    Examples
    --------
    >>> from analysis.figures import plot_ap_vs_prob
    >>> lines = plot_ap_vs_prob({"san": {"probs": [0, 0.5], "mean": [0.8, 0.6],
    ...                                  "std": [0.02, 0.05]}})
    >>> lines[0].get_label()
    'san'
    """
    _check_mapping(summary, "summary")
    fig, ax = _axes(ax, (_WIDE * 0.6, 3.2))
    cmap = _pyplot().get_cmap("tab20")
    lines = []
    for i, (name, s) in enumerate(summary.items()):
        p = np.asarray(s["probs"], dtype=float)
        m = np.asarray(s["mean"], dtype=float)
        sd = np.asarray(s.get("std", np.zeros_like(m)), dtype=float)
        thick = name in highlight
        (line,) = ax.plot(p, m, marker="o", ms=4 if thick else 3,
                          lw=2.5 if thick else 1.0, color=cmap(i % 20), label=name,
                          zorder=3 if thick else 2)
        ax.fill_between(p, m - sd, m + sd, color=line.get_color(),
                        alpha=0.25 if thick else 0.1, lw=0)
        lines.append(line)
    ax.set_xlabel("blur / JPEG probability p in training")
    ax.set_ylabel("average precision")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, ncols=2, loc="lower left")
    return lines


def plot_band_blur(bands, *, probs=(0.1, 0.5), sigma_range=(0.0, 3.0),
                   kind="power", model="sampled", highlight=("san",), ax=None):
    """Draw per-band separability per generator with the blur transfer overlaid.

    Parameters
    ----------
    bands : dict of str to dict or BandDiscrimination
        Per generator the band frequencies (``"freqs"``) and separabilities
        (``"separability"``): :class:`analysis.blur.BandDiscrimination` objects or
        their ``to_dict()``.
    probs : sequence of float, optional
        Augmentation probabilities whose expected transfer is drawn (right axis).
    sigma_range, kind, model
        Passed to :func:`analysis.blur.blur_transfer`.
    highlight : sequence of str, optional
        Generators drawn thick.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    curves : list of matplotlib.lines.Line2D
        One separability curve per generator.
    transfers : list of matplotlib.lines.Line2D
        One transfer curve per probability (on a twin axis).

    Raises
    ------
    ValueError
        If ``bands`` is empty.

    Examples
    --------
    >>> from analysis.figures import plot_band_blur
    >>> curves, transfers = plot_band_blur(
    ...     {"san": {"freqs": [0.1, 0.3, 0.5], "separability": [0.5, 0.7, 0.9]}})
    >>> len(curves), len(transfers)
    (1, 2)
    """
    _check_mapping(bands, "bands")
    fig, ax = _axes(ax, (_WIDE, 3.4))
    cmap = _pyplot().get_cmap("tab20")
    curves = []
    f_max = 0.0
    for i, (name, b) in enumerate(bands.items()):
        d = b.to_dict() if hasattr(b, "to_dict") else b
        f = np.asarray(d["freqs"], dtype=float)
        sep = np.asarray([np.nan if v is None else v for v in d["separability"]],
                         dtype=float)
        f_max = max(f_max, float(np.nanmax(f)))
        thick = name in highlight
        (line,) = ax.plot(f, sep, lw=2.5 if thick else 1.0, color=cmap(i % 20),
                          label=name, zorder=3 if thick else 2)
        curves.append(line)
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("radial frequency (cycles/px)")
    ax.set_ylabel("band separability max(AUC, 1 - AUC)")
    ax.set_ylim(0.45, 1.01)
    ax.legend(fontsize=7, ncols=3, loc="upper left")

    twin = ax.twinx()
    grid = np.linspace(0, max(f_max, 0.5), 200)
    transfers = []
    label = "E[H(f)^2]" if kind == "power" else "E[H(f)]"
    for p, ls in zip(probs, ["--", "-.", ":", (0, (5, 1, 1, 1))] * 4, strict=False):
        h = blur_transfer(grid, prob=p, sigma_range=sigma_range, kind=kind,
                          model=model)
        (t,) = twin.plot(grid, h, color="black", ls=ls, lw=1.2,
                         label=f"{label}, blur p={p:g}")
        transfers.append(t)
    twin.set_ylim(0, 1.02)
    twin.set_ylabel("signal kept by the augmentation")
    twin.legend(fontsize=7, loc="lower right")
    return curves, transfers


def plot_distance_matrix(matrix, names, *, ax=None, label="distance"):
    """Draw a symmetric distance matrix between generators as an annotated heatmap.

    Parameters
    ----------
    matrix : array_like, shape (G, G)
        Distances.
    names : sequence of str
        Generator names, length G.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    label : str, optional
        Colour-bar label.

    Returns
    -------
    matplotlib.image.AxesImage

    Raises
    ------
    ValueError
        If the matrix is not square or does not match ``names``.

    Examples
    --------
    >>> from analysis.figures import plot_distance_matrix
    >>> im = plot_distance_matrix([[0, 1], [1, 0]], ["a", "b"])
    >>> im.get_array().shape
    (2, 2)
    """
    arr = np.asarray(matrix, dtype=np.float64)
    names = list(names)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] != len(names):
        raise ValueError(
            f"matrix must be square with one row per name ({len(names)}); got shape "
            f"{arr.shape}"
        )
    n = len(names)
    fig, ax = _axes(ax, (min(_WIDE, 1.0 + 0.45 * n), min(_WIDE, 0.8 + 0.45 * n)))
    im = ax.imshow(arr, cmap="magma_r")
    if n <= 14:
        top = np.nanmax(arr) if np.any(np.isfinite(arr)) else 1.0
        for (r, c), v in np.ndenumerate(arr):
            ax.text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=6,
                    color="white" if v > 0.6 * top else "black")
    ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n), names, fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.8, label=label)
    return im


def plot_peak_table(rows, *, ax=None, columns=("x2", "x4", "x8", "jpeg_grid")):
    """Draw the upsampling-peak table as an annotated heatmap.

    Parameters
    ----------
    rows : sequence of dict
        One row per (generator, class) with ``"generator"``, ``"class"``
        ("real"/"fake"), ``"factor"`` and the score ``columns`` (dB).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    columns : sequence of str, optional
        Score columns to draw.

    Returns
    -------
    matplotlib.image.AxesImage

    Raises
    ------
    ValueError
        If ``rows`` is empty.

    Examples
    --------
    >>> from analysis.figures import plot_peak_table
    >>> im = plot_peak_table([{"generator": "g", "class": "fake", "factor": 2,
    ...                        "x2": 9.0, "x4": 1.0, "x8": 0.5, "jpeg_grid": 0.1}])
    >>> im.get_array().shape
    (1, 4)
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must hold at least one peak-table row")
    values = np.array([[np.nan if r.get(c) is None else float(r[c]) for c in columns]
                       for r in rows])
    labels = [f"{r['generator']} ({r['class']}) -> x{r.get('factor', '?')}"
              for r in rows]
    fig, ax = _axes(ax, (_WIDE * 0.6, 0.9 + 0.22 * len(rows)))
    finite = values[np.isfinite(values)]
    top = float(np.max(np.abs(finite))) if finite.size else 1.0
    im = ax.imshow(values, cmap="RdBu_r", vmin=-top, vmax=top, aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.1f}", ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(columns)), list(columns), fontsize=7)
    ax.set_yticks(range(len(rows)), labels, fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8, label="peak score (dB)")
    return im


def _by_setting(evaluation):
    """Group evaluation rows: setting -> generator -> list of rows."""
    out = {}
    for row in evaluation:
        out.setdefault(row["setting"], {}).setdefault(row["generator"], []).append(row)
    return out


def report_figures(results, out_dir, *, figure_dir="figures", main_setting=None):
    """Draw the standard figures of a results dictionary and write them as PNG.

    Parameters
    ----------
    results : dict
        Results in the layout of :func:`analysis.report.write_report`. Figures
        whose data are missing are skipped.
    out_dir : str or os.PathLike
        Report folder; figures go to ``out_dir/figure_dir``.
    figure_dir : str, optional
        Sub-folder for the figures.
    main_setting : str, optional
        Evaluation setting whose confusion matrices and accuracies are drawn; by
        default the first one in ``results["evaluation"]``.

    Returns
    -------
    dict of str to dict
        ``{key: {"path": relative path, "caption": text}}``, ready to be merged
        into ``results["figures"]``.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.figures import report_figures
    >>> res = {"ap_vs_prob": {"san": {"probs": [0, 0.5], "mean": [0.9, 0.6],
    ...                               "std": [0, 0]}}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(report_figures(res, tmp))
    ['ap_vs_prob']
    """
    plt = _pyplot()
    out = {}

    def _save(key, fig, caption):
        rel = f"{figure_dir}/{key}.png"
        save_figure(fig, os.path.join(os.fspath(out_dir), rel))
        out[key] = {"path": rel, "caption": caption}

    evaluation = results.get("evaluation") or []
    if evaluation:
        grouped = _by_setting(evaluation)
        setting = main_setting if main_setting in grouped else next(iter(grouped))
        first = {g: rows[0] for g, rows in grouped[setting].items()}
        conf = {g: r["confusion"] for g, r in first.items() if r.get("confusion")}
        if conf:
            fig, _ = plot_confusion_matrices(conf)
            fig.suptitle(f"Confusion matrices, {setting}", fontsize=9)
            _save("confusion", fig, f"Confusion matrices per generator ({setting}; "
                                    "threshold 0.5, counts; colour = row share).")
        fig, ax = plt.subplots(figsize=(_WIDE, 2.8), layout="constrained")
        plot_accuracy_bars(first, ax=ax)
        ax.set_title(f"Accuracy on reals and on fakes, {setting}", fontsize=9)
        _save("accuracy", fig, f"Accuracy at threshold 0.5 on the reals and on the "
                               f"fakes of each generator ({setting}).")

        ap, spread = {}, {}
        for s, gens in grouped.items():
            ap[s] = {g: float(np.mean([r["ap"] for r in rows]))
                     for g, rows in gens.items()}
            spread[s] = {g: float(np.std([r["ap"] for r in rows], ddof=1))
                         if len(rows) > 1 else 0.0 for g, rows in gens.items()}
        fig, ax = plt.subplots(figsize=(_WIDE, 3.2), layout="constrained")
        plot_ap_bars(ap, spread=spread, ax=ax)
        ax.set_title("Average precision per generator and detector", fontsize=9)
        _save("ap_bars", fig, "Average precision per generator for every detector "
                              "setting (bars: mean over seeds; whiskers: standard "
                              "deviation).")

    if results.get("ap_vs_prob"):
        fig, ax = plt.subplots(figsize=(_WIDE * 0.7, 3.4), layout="constrained")
        plot_ap_vs_prob(results["ap_vs_prob"], ax=ax)
        ax.set_title("AP against the training augmentation probability", fontsize=9)
        _save("ap_vs_prob", fig, "Average precision of the CNN detector against the "
                                 "blur/JPEG probability p used in training (line: "
                                 "mean over seeds; band: +- one standard deviation).")

    study = results.get("blur_study")
    if study and study.get("generators"):
        fig, ax = plt.subplots(figsize=(_WIDE, 3.6), layout="constrained")
        plot_band_blur(study["generators"], probs=study.get("probs", (0.1, 0.5)),
                       sigma_range=study.get("sigma_range", (0.0, 3.0)),
                       kind=study.get("kind", "power"),
                       model=study.get("model", "sampled"), ax=ax)
        ax.set_title("Where each generator differs from its reals, and what blur "
                     "keeps", fontsize=9)
        _save("band_blur", fig, "Per-band separability of fakes from reals (ROC-AUC "
                                "of the residual power in each radial band, folded "
                                "to max(AUC, 1 - AUC)), with the expected share of "
                                "the power the blur augmentation keeps at each "
                                "probability (dashed, right axis).")

    distances = results.get("distances")
    if distances and distances.get("names"):
        fig, ax = plt.subplots(layout="constrained")
        plot_distance_matrix(distances["matrix"], distances["names"], ax=ax)
        ax.set_title("Distance between mean residual spectra", fontsize=9)
        _save("distances", fig, "Distance between the generators' mean residual "
                                f"spectra ({distances.get('method', '')}).")

    if results.get("peaks"):
        fig, ax = plt.subplots(layout="constrained")
        plot_peak_table(results["peaks"], ax=ax)
        ax.set_title("Upsampling-peak scores", fontsize=9)
        _save("peaks", fig, "Upsampling-peak scores (dB over the local median) at "
                            "the positions factors 2, 4 and 8 predict, and the "
                            "JPEG-grid score, per generator and class.")
    return out
