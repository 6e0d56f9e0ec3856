import csv
import json
import math

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    roc_auc_score,
)

from analysis.metrics import (
    COLUMNS,
    MetricsTable,
    best_threshold_accuracy,
    binary_metrics,
    evaluate_scores,
)


def _random_set(seed, n=300, shift=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    logits = rng.normal(size=n) + shift * labels
    return labels, 1 / (1 + np.exp(-logits))


def _brute_best_accuracy(labels, scores):
    candidates = np.concatenate([[-np.inf], np.unique(scores)])
    return max(np.mean((scores > t) == labels) for t in candidates)


def test_row_equals_direct_sklearn_calls():
    labels, scores = _random_set(0)
    metrics, notes = binary_metrics(labels, scores)
    predicted = (scores > 0.5).astype(int)
    assert notes == []
    # Same library calls on the same inputs: equal to float round-off.
    assert metrics["avg precision"] == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(labels, scores),
                                               abs=1e-12)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    assert metrics["real_acc"] == pytest.approx(
        accuracy_score(labels[labels == 0], predicted[labels == 0]))
    assert metrics["fake_acc"] == pytest.approx(
        accuracy_score(labels[labels == 1], predicted[labels == 1]))
    (tn, fp), (fn, tp) = confusion_matrix(labels, predicted, labels=[0, 1])
    assert (metrics["tn"], metrics["fp"], metrics["fn"], metrics["tp"]) == (
        tn, fp, fn, tp)
    assert metrics["balanced_acc"] == pytest.approx(
        (metrics["real_acc"] + metrics["fake_acc"]) / 2)


def test_threshold_is_strict_as_the_official_code():
    metrics, _ = binary_metrics([0, 1], [0.5, 0.5])
    assert metrics["real_acc"] == 1.0 and metrics["fake_acc"] == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_best_threshold_accuracy_matches_brute_force(seed):
    labels, scores = _random_set(seed, n=120, shift=0.7)
    scores = np.round(scores, 2)  # ties
    acc, threshold = best_threshold_accuracy(labels, scores)
    assert acc == pytest.approx(_brute_best_accuracy(labels, scores))
    assert np.mean((scores > threshold) == labels) == pytest.approx(acc)


def test_best_threshold_all_fake():
    acc, threshold = best_threshold_accuracy([1, 1, 0], [0.2, 0.3, 0.9])
    assert acc == pytest.approx(2 / 3)
    acc, threshold = best_threshold_accuracy([1, 1], [0.2, 0.3])
    assert acc == 1.0 and threshold < 0.2


def test_one_class_gives_nan_with_a_note_not_a_crash():
    metrics, notes = binary_metrics([1, 1, 1], [0.9, 0.2, 0.7])
    assert math.isnan(metrics["avg precision"]) and math.isnan(metrics["roc_auc"])
    assert math.isnan(metrics["real_acc"]) and metrics["fake_acc"] == 2 / 3
    assert notes == ["only fake images: AP and ROC-AUC are undefined (NaN)"]
    table = evaluate_scores([0, 1, 0, 0], [0.1, 0.9, 0.2, 0.6],
                            ["a", "a", "b", "b"])
    assert math.isnan(table.row("b")["avg precision"])
    assert table.row("mean")["avg precision"] == 1.0
    assert any(note.startswith("b: only real") for note in table.notes)


def test_per_generator_rows_mean_and_pooled():
    rng = np.random.default_rng(4)
    labels, scores = _random_set(5, n=400)
    generators = rng.choice(["progan", "san", "crn"], size=400)
    table = evaluate_scores(labels, scores, generators)
    names = [row["testset"] for row in table.rows]
    assert names == list(dict.fromkeys(generators)) + ["mean", "all"]
    for name in ("progan", "san", "crn"):
        mask = generators == name
        assert table.row(name)["avg precision"] == pytest.approx(
            average_precision_score(labels[mask], scores[mask]), abs=1e-12)
    assert table.row("mean")["avg precision"] == pytest.approx(np.mean(
        [table.row(n)["avg precision"] for n in ("progan", "san", "crn")]))
    assert table.row("all")["avg precision"] == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12)
    assert table.row("mean")["n_real"] == int(np.sum(labels == 0))
    assert "progan" in table.format()


def test_single_set_has_one_row():
    labels, scores = _random_set(6, n=50)
    table = evaluate_scores(labels, scores)
    assert [row["testset"] for row in table.rows] == ["all"]


def test_csv_and_json_writers(tmp_path):
    table = evaluate_scores([0, 1, 1, 1], [0.2, 0.8, 0.4, 0.9], ["x", "x", "y", "y"])
    table.to_csv(tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    # eval.py's columns first, fractions in [0, 1].
    assert rows[0][:3] == ["testset", "accuracy", "avg precision"]
    assert rows[0] == list(COLUMNS)
    assert rows[1][0] == "x" and float(rows[1][1]) == 1.0
    table.to_json(tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["rows"][1]["testset"] == "y"
    assert data["rows"][1]["avg precision"] is None  # NaN written as null
    assert data["notes"]
    with pytest.raises(FileExistsError, match="overwrite"):
        table.to_csv(tmp_path / "t.csv")
    table.to_json(tmp_path / "t.json", overwrite=True)
    with pytest.raises(KeyError, match="no row 'z'"):
        table.row("z")
    assert len(MetricsTable(table.rows)) == 4


def test_bad_inputs():
    with pytest.raises(ValueError, match="labels must be 0 \\(real\\) or 1"):
        binary_metrics([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="same length"):
        binary_metrics([0, 1], [0.1])
    with pytest.raises(ValueError, match="NaN"):
        binary_metrics([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="empty"):
        binary_metrics([], [])
    with pytest.raises(ValueError, match="one name per score"):
        evaluate_scores([0, 1], [0.1, 0.2], ["a"])
