"""Detection metrics per generator: AP, ROC-AUC, accuracies, confusion matrix.

The conventions are those of CNNDetection's ``eval.py``: a score is P(fake), an
image is called fake when its score is strictly above the threshold (0.5), and
accuracy and average precision are fractions in [0, 1]. Following Ojha et al.
(CVPR 2023) the tables also give the accuracy on real and on fake images and the
oracle accuracy at the best threshold, since a detector that keeps the ordering of
real and fake scores on a new generator is often miscalibrated.
"""

import csv
import json
import math
import os

import numpy as np

from spectral._validate import as_float_array

__all__ = [
    "COLUMNS",
    "OFFICIAL_COLUMNS",
    "MetricsTable",
    "best_threshold_accuracy",
    "binary_metrics",
    "evaluate_scores",
]

# The columns of the official eval.py, then ours.
OFFICIAL_COLUMNS = ("testset", "accuracy", "avg precision")
COLUMNS = OFFICIAL_COLUMNS + (
    "roc_auc", "real_acc", "fake_acc", "balanced_acc", "best_acc",
    "best_threshold", "n_real", "n_fake", "tn", "fp", "fn", "tp",
)


def _check_inputs(labels, scores):
    labels = np.asarray(labels)
    scores = as_float_array(scores, name="scores", dtype=np.float64)
    if labels.ndim != 1 or scores.ndim != 1 or labels.shape != scores.shape:
        raise ValueError(
            f"labels and scores must be 1-D of the same length; got shapes "
            f"{labels.shape} and {scores.shape}"
        )
    if labels.size == 0:
        raise ValueError("labels is empty: nothing to evaluate")
    if not np.isin(labels, (0, 1)).all():
        bad = np.unique(labels[~np.isin(labels, (0, 1))])[:5]
        raise ValueError(f"labels must be 0 (real) or 1 (fake); got {bad.tolist()!r}")
    return labels.astype(np.int64), scores


def best_threshold_accuracy(labels, scores):
    """Return the highest accuracy over all thresholds, and its threshold.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        0 real, 1 fake.
    scores : array_like of float, shape (N,)
        Higher means more likely fake.

    Returns
    -------
    accuracy : float
        ``max_t mean((scores > t) == labels)``.
    threshold : float
        The smallest maximising ``t`` among the distinct scores (or just below
        the smallest score, when calling everything fake is best).

    Notes
    -----
    This "oracle" accuracy uses the labels of the set it is measured on, so it
    is an upper bound, not a deployable figure. Cost O(N log N).

    Examples
    --------
    >>> best_threshold_accuracy([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])
    (1.0, 0.2)
    """
    labels, scores = _check_inputs(labels, scores)
    real = np.sort(scores[labels == 0])
    fake = np.sort(scores[labels == 1])
    values = np.unique(scores)
    candidates = np.concatenate([[np.nextafter(values[0], -np.inf)], values])
    # Predict fake when score > t: reals at or below t and fakes above t are right.
    correct = (np.searchsorted(real, candidates, side="right")
               + fake.size - np.searchsorted(fake, candidates, side="right"))
    best = int(np.argmax(correct))
    return float(correct[best] / labels.size), float(candidates[best])


def binary_metrics(labels, scores, *, threshold=0.5):
    """Compute every metric of a table row for one set of scores.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        0 real, 1 fake.
    scores : array_like of float, shape (N,)
        P(fake), or any score where higher means fake.
    threshold : float, optional
        Scores strictly above it are called fake.

    Returns
    -------
    metrics : dict
        ``accuracy``, ``avg precision``, ``roc_auc``, ``real_acc``, ``fake_acc``,
        ``balanced_acc``, ``best_acc``, ``best_threshold``, ``n_real``,
        ``n_fake`` and the confusion counts ``tn``, ``fp``, ``fn``, ``tp`` (fake is
        the positive class).
    notes : list of str
        Why some values are NaN.

    Raises
    ------
    ValueError
        Labels other than 0/1, NaN scores, or mismatched lengths.

    Notes
    -----
    AP and ROC-AUC come from scikit-learn (``average_precision_score``,
    ``roc_auc_score``); both need real and fake images, so with one class only
    they are NaN (with a note) and the accuracy of the missing class is NaN.

    Examples
    --------
    >>> m, notes = binary_metrics([0, 1, 1], [0.2, 0.9, 0.4])
    >>> m["accuracy"], m["fake_acc"], m["avg precision"], notes
    (0.6666666666666666, 0.5, 1.0, [])
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels, scores = _check_inputs(labels, scores)
    predicted = (scores > threshold).astype(np.int64)
    n_real = int(np.sum(labels == 0))
    n_fake = int(labels.size - n_real)
    tn = int(np.sum((labels == 0) & (predicted == 0)))
    fp = n_real - tn
    tp = int(np.sum((labels == 1) & (predicted == 1)))
    fn = n_fake - tp
    real_acc = tn / n_real if n_real else math.nan
    fake_acc = tp / n_fake if n_fake else math.nan

    notes = []
    if n_real and n_fake:
        ap = float(average_precision_score(labels, scores))
        auc = float(roc_auc_score(labels, scores))
    else:
        ap = auc = math.nan
        only = "real" if n_fake == 0 else "fake"
        notes.append(f"only {only} images: AP and ROC-AUC are undefined (NaN)")
    best_acc, best_threshold = best_threshold_accuracy(labels, scores)

    metrics = {
        "accuracy": (tn + tp) / labels.size,
        "avg precision": ap,
        "roc_auc": auc,
        "real_acc": real_acc,
        "fake_acc": fake_acc,
        "balanced_acc": (real_acc + fake_acc) / 2,
        "best_acc": best_acc,
        "best_threshold": best_threshold,
        "n_real": n_real,
        "n_fake": n_fake,
        "tn": tn, "fp": fp, "fn": fn, "tp": tp,
    }
    return metrics, notes


class MetricsTable:
    """Rows of metrics, one per test set, plus "mean" and "all" summary rows.

    Attributes
    ----------
    rows : list of dict
        Each with the keys of :data:`COLUMNS`.
    notes : list of str
        Explanations of NaN values.
    threshold : float
        Decision threshold of the accuracies.
    """

    def __init__(self, rows, notes=(), threshold=0.5):
        self.rows = list(rows)
        self.notes = list(notes)
        self.threshold = float(threshold)

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        return f"MetricsTable({len(self.rows)} rows)"

    def row(self, testset):
        """Return the row of one test set (or "mean" / "all")."""
        for row in self.rows:
            if row["testset"] == testset:
                return row
        names = [row["testset"] for row in self.rows]
        raise KeyError(f"no row {testset!r}; rows: {names!r}")

    def format(self):
        """Return the table as aligned text (fractions, 4 decimals)."""
        shown = ("testset", "accuracy", "avg precision", "roc_auc", "real_acc",
                 "fake_acc", "best_acc", "n_real", "n_fake")
        width = max(12, *(len(str(r["testset"])) for r in self.rows))
        lines = [f"{'testset':<{width}}" + "".join(f"{c:>14}" for c in shown[1:])]
        for row in self.rows:
            cells = [f"{row[c]:>14d}" if isinstance(row[c], int)
                     else f"{row[c]:>14.4f}" for c in shown[1:]]
            lines.append(f"{row['testset']:<{width}}" + "".join(cells))
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_csv(self, path, *, overwrite=False):
        """Write the rows as CSV; the first three columns are eval.py's."""
        _check_target(path, overwrite)
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)

    def to_json(self, path, *, overwrite=False):
        """Write rows, notes and threshold as JSON (NaN written as null)."""
        _check_target(path, overwrite)

        def clean(value):
            return None if isinstance(value, float) and math.isnan(value) else value

        data = {
            "threshold": self.threshold,
            "columns": list(COLUMNS),
            "rows": [{k: clean(v) for k, v in row.items()} for row in self.rows],
            "notes": self.notes,
        }
        with open(path, "w") as handle:
            json.dump(data, handle, indent=2)


def _check_target(path, overwrite):
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{os.fspath(path)!r} exists; pass overwrite=True")


def evaluate_scores(labels, scores, generators=None, *, threshold=0.5):
    """Tabulate detection metrics per generator and overall.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        0 real, 1 fake.
    scores : array_like of float, shape (N,)
        P(fake).
    generators : sequence of str, shape (N,), optional
        Test set of each image; None puts all images in one set.
    threshold : float, optional
        Decision threshold (strict: ``score > threshold`` is fake).

    Returns
    -------
    MetricsTable
        One row per generator in order of first appearance, then, with several
        generators, "mean" (the unweighted mean of each rate over the
        generators, as the paper's mAP; counts are summed) and "all" (every
        image pooled).

    Raises
    ------
    ValueError
        Bad labels, NaN scores or mismatched lengths.

    Examples
    --------
    >>> table = evaluate_scores([0, 1, 0, 1], [0.1, 0.9, 0.6, 0.7],
    ...                         ["a", "a", "b", "b"])
    >>> [row["testset"] for row in table.rows]
    ['a', 'b', 'mean', 'all']
    >>> table.row("b")["accuracy"], table.row("mean")["avg precision"]
    (0.5, 1.0)
    """
    labels, scores = _check_inputs(labels, scores)
    if generators is None:
        generators = np.array(["all"] * labels.size)
    generators = np.asarray([str(g) for g in generators])
    if generators.shape != labels.shape:
        raise ValueError(
            f"generators must have one name per score; got {generators.shape[0]} "
            f"names for {labels.size} scores"
        )

    rows, notes = [], []
    names = list(dict.fromkeys(generators.tolist()))
    for name in names:
        mask = generators == name
        metrics, row_notes = binary_metrics(labels[mask], scores[mask],
                                            threshold=threshold)
        rows.append({"testset": name, **metrics})
        notes.extend(f"{name}: {note}" for note in row_notes)

    if len(names) > 1:
        mean = {"testset": "mean"}
        for column in COLUMNS[1:]:
            values = [row[column] for row in rows]
            if column in ("n_real", "n_fake", "tn", "fp", "fn", "tp"):
                mean[column] = int(sum(values))
            elif column == "best_threshold":
                mean[column] = math.nan
            else:
                finite = [v for v in values if not math.isnan(v)]
                mean[column] = float(np.mean(finite)) if finite else math.nan
        rows.append(mean)
        metrics, row_notes = binary_metrics(labels, scores, threshold=threshold)
        rows.append({"testset": "all", **metrics})
        notes.extend(f"all: {note}" for note in row_notes)
        if any(math.isnan(row["avg precision"]) for row in rows[:len(names)]):
            notes.append("mean: averages skip the generators whose value is NaN")
    return MetricsTable(rows, notes, threshold)
