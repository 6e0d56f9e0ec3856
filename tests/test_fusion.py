"""Tests of detectors.fusion: stacking of CNN logits with a spectral detector."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import average_precision_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.base import clone
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

from detectors.fusion import FusionDetector
from detectors.spectral import DurallDetector, FrankDetector


def _evidence(rng, n, *, cnn_shift, spectral_shift):
    """Labels, CNN logits and a one-column "spectral" feature, independent noise.

    Each score is ``shift * (2 y - 1) + N(0, 1)``: both parts carry evidence about
    ``y`` with noises independent of each other.
    """
    y = rng.permutation(np.repeat([0, 1], n // 2))
    sign = 2.0 * y - 1.0
    cnn = cnn_shift * sign + rng.normal(size=n)
    feature = spectral_shift * sign + rng.normal(size=n)
    return y, cnn, feature[:, None]


def _fusion(**kwargs):
    # The identity transformer makes the spectral part a logistic regression on
    # the planted feature; the images are stood in for by the feature column.
    return FusionDetector(spectral=FunctionTransformer(), random_state=0, **kwargs)


def test_independent_evidence_fusion_beats_both_parts():
    rng = np.random.default_rng(1)
    y_val, cnn_val, x_val = _evidence(rng, 1000, cnn_shift=1.0, spectral_shift=1.0)
    y_test, cnn_test, x_test = _evidence(rng, 3000, cnn_shift=1.0, spectral_shift=1.0)

    fusion = _fusion().fit(x_val, y_val, cnn_logits=cnn_val)
    report = fusion.evaluate_parts(x_test, y_test, cnn_logits=cnn_test)

    # Each part alone has AUC about 0.92 and the optimal combination about 0.98
    # (Gaussian shifts of 2 and 2 sqrt 2 standard deviations); the AP gain is
    # about 0.05, ten standard errors at 3000 test images: demand 0.02.
    best = max(report["cnn"]["ap"], report["spectral"]["ap"])
    assert report["fusion"]["ap"] >= best + 0.02, report
    assert report["fusion"]["auc"] >= 0.95, report
    assert report["fusion_ok"] is True
    # Both parts count about equally.
    assert fusion.weights_[0] > 0 and fusion.weights_[1] > 0
    assert 0.5 < fusion.weights_[0] / fusion.weights_[1] < 2.0


def _checker_images(rng, n):
    """Noise images, the fakes with a period-2 pattern of random strength.

    The CNN logit carries independent evidence: ``2 y - 1`` plus unit noise.
    """
    y = rng.permutation(np.repeat([0, 1], n // 2))
    X = rng.random((n, 16, 16))
    checker = np.indices((16, 16)).sum(axis=0) % 2 - 0.5
    strength = rng.uniform(0.0, 0.5, size=n) * y
    X += strength[:, None, None] * checker
    cnn = (2.0 * y - 1.0) + rng.normal(size=n)
    return X, y, cnn


def test_fusion_with_a_spectral_detector_on_images():
    rng = np.random.default_rng(9)
    X_val, y_val, cnn_val = _checker_images(rng, 300)
    X_test, y_test, cnn_test = _checker_images(rng, 600)

    fusion = FusionDetector(spectral=FrankDetector(), random_state=0)
    fusion.fit(X_val, y_val, cnn_logits=cnn_val)
    report = fusion.evaluate_parts(X_test, y_test, cnn_logits=cnn_test)

    # Measured on seeds 0-2: CNN AP about 0.91, Frank alone 0.77-0.87, fusion
    # 0.93-0.95, i.e. 0.02-0.04 above the better part; demand 0.01.
    best = max(report["cnn"]["ap"], report["spectral"]["ap"])
    assert report["fusion"]["ap"] >= best + 0.01, report
    assert isinstance(fusion.spectral_, FrankDetector)


def test_default_spectral_part_is_durall():
    rng = np.random.default_rng(10)
    X, y, cnn = _checker_images(rng, 60)
    fusion = FusionDetector(cv=3, random_state=0).fit(X, y, cnn_logits=cnn)
    assert isinstance(fusion.spectral_, DurallDetector)
    assert fusion.spectral is None
    assert fusion.predict(X, cnn_logits=cnn).shape == (60,)


def test_noise_part_does_not_hurt():
    rng = np.random.default_rng(2)
    y_val, cnn_val, x_val = _evidence(rng, 600, cnn_shift=1.0, spectral_shift=0.0)
    y_test, cnn_test, x_test = _evidence(rng, 3000, cnn_shift=1.0, spectral_shift=0.0)

    fusion = _fusion().fit(x_val, y_val, cnn_logits=cnn_val)
    report = fusion.evaluate_parts(x_test, y_test, cnn_logits=cnn_test, tolerance=0.01)

    # A pure-noise spectral part gets a small weight; the fusion stays within 0.01
    # AP of the CNN alone (measured gap: a few thousandths).
    assert report["best_part"] == "cnn"
    assert report["fusion"]["ap"] >= report["cnn"]["ap"] - 0.01, report
    assert abs(fusion.weights_[1]) < 0.2 * fusion.weights_[0]
    assert report["fusion_ok"] is True


def test_warns_when_fusion_loses_to_a_part():
    rng = np.random.default_rng(3)
    y_val, cnn_val, x_val = _evidence(rng, 600, cnn_shift=1.0, spectral_shift=1.5)
    y_test, cnn_test, x_test = _evidence(rng, 1000, cnn_shift=1.0, spectral_shift=1.5)
    fusion = _fusion().fit(x_val, y_val, cnn_logits=cnn_val)

    # On the test data the spectral evidence is reversed (a shift between the
    # validation and the test generators): the fusion, which trusts it, falls
    # below the CNN alone and must say so.
    with pytest.warns(UserWarning, match=r"below the cnn part's \(0\.9") as record:
        report = fusion.evaluate_parts(-x_test, y_test, cnn_logits=cnn_test)
    assert report["fusion_ok"] is False
    assert report["best_part"] == "cnn"
    assert report["fusion"]["ap"] < report["cnn"]["ap"]
    # The warning points at the caller, not into the library.
    assert record[0].filename == __file__


def test_out_of_fold_scores_keep_an_overfitting_part_out():
    rng = np.random.default_rng(4)
    y, cnn, _ = _evidence(rng, 400, cnn_shift=1.0, spectral_shift=0.0)
    noise = rng.normal(size=(400, 5))

    # A 1-nearest-neighbour part on noise is perfect in sample and useless out of
    # sample; stacking on in-sample scores would trust it completely.
    part = KNeighborsClassifier(n_neighbors=1)
    fusion = FusionDetector(spectral=part, random_state=0).fit(noise, y, cnn_logits=cnn)
    assert abs(fusion.weights_[1]) < 0.2 * fusion.weights_[0]


def test_groups_stay_within_one_fold():
    rng = np.random.default_rng(5)
    n_groups, per_group = 40, 10
    groups = np.repeat(np.arange(n_groups), per_group)
    group_label = rng.permutation(np.repeat([0, 1], n_groups // 2))
    y = group_label[groups]
    cnn = 1.0 * (2 * y - 1) + rng.normal(size=len(y))
    # Images of a group share a random signature unrelated to the label, so a
    # 1-NN part scores perfectly only when the group leaks across folds.
    signature = rng.normal(size=(n_groups, 3))[groups]
    signature += 0.01 * rng.normal(size=signature.shape)

    part = KNeighborsClassifier(n_neighbors=1)
    leaky = FusionDetector(spectral=part, random_state=0)
    leaky.fit(signature, y, cnn_logits=cnn)
    grouped = FusionDetector(spectral=part, random_state=0)
    grouped.fit(signature, y, cnn_logits=cnn, groups=groups)

    assert leaky.weights_[1] > 2 * leaky.weights_[0]
    assert abs(grouped.weights_[1]) < 0.5 * grouped.weights_[0]


def test_outputs_are_consistent():
    rng = np.random.default_rng(6)
    y, cnn, x = _evidence(rng, 300, cnn_shift=1.0, spectral_shift=1.0)
    fusion = _fusion().fit(x, y, cnn_logits=cnn)

    proba = fusion.predict_proba(x, cnn_logits=cnn)
    scores = fusion.decision_function(x, cnn_logits=cnn)
    pred = fusion.predict(x, cnn_logits=cnn)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # The score is the log-odds of the fake probability.
    np.testing.assert_allclose(
        scores, np.log(proba[:, 1] / proba[:, 0]), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_array_equal(pred, (scores > 0).astype(int))
    np.testing.assert_array_equal(fusion.classes_, [0, 1])
    assert fusion.score(x, y, cnn_logits=cnn) > 0.8


def test_isotonic_calibration():
    rng = np.random.default_rng(7)
    y_val, cnn_val, x_val = _evidence(rng, 1000, cnn_shift=1.0, spectral_shift=1.0)
    y_test, cnn_test, x_test = _evidence(rng, 2000, cnn_shift=1.0, spectral_shift=1.0)
    sigmoid = _fusion().fit(x_val, y_val, cnn_logits=cnn_val)
    isotonic = _fusion(calibration="isotonic").fit(x_val, y_val, cnn_logits=cnn_val)

    proba = isotonic.predict_proba(x_test, cnn_logits=cnn_test)
    assert np.all((proba >= 0) & (proba <= 1))
    ap_iso = average_precision_score(
        y_test, isotonic.decision_function(x_test, cnn_logits=cnn_test)
    )
    ap_sig = average_precision_score(
        y_test, sigmoid.decision_function(x_test, cnn_logits=cnn_test)
    )
    # Isotonic steps tie some scores; the ranking stays within 0.02 AP.
    assert ap_iso >= ap_sig - 0.02
    assert isotonic.weights_.shape == (2,)


def test_bad_inputs():
    rng = np.random.default_rng(8)
    y, cnn, x = _evidence(rng, 100, cnn_shift=1.0, spectral_shift=1.0)
    with pytest.raises(ValueError, match="cnn_logits must be a 1-D array"):
        _fusion().fit(x, y, cnn_logits=cnn[:-1])
    with pytest.raises(ValueError, match="cnn_logits contains 1 NaN"):
        _fusion().fit(x, y, cnn_logits=np.where(np.arange(100) == 3, np.nan, cnn))
    with pytest.raises(ValueError, match="exactly two classes"):
        _fusion().fit(x, np.zeros(100, dtype=int), cnn_logits=cnn)
    with pytest.raises(ValueError, match="exactly two classes"):
        _fusion().fit(x, np.arange(100) % 3, cnn_logits=cnn)
    with pytest.raises(ValueError, match="cv=80"):
        _fusion(cv=80).fit(x, y, cnn_logits=cnn)
    with pytest.raises(ValueError, match="calibration must be one of"):
        _fusion(calibration="platt").fit(x, y, cnn_logits=cnn)
    with pytest.raises(TypeError, match="spectral must be a classifier"):
        FusionDetector(spectral=object()).fit(x, y, cnn_logits=cnn)
    with pytest.raises(NotFittedError):
        _fusion().evaluate_parts(x, y, cnn_logits=cnn)

    fusion = _fusion().fit(x, y, cnn_logits=cnn)
    with pytest.raises(ValueError, match="both classes"):
        fusion.evaluate_parts(x[:10], np.zeros(10, dtype=int), cnn_logits=cnn[:10])
    with pytest.raises(ValueError, match="one logit per image"):
        fusion.predict(x, cnn_logits=cnn[:5])


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_valid_tag_types,
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
        estimator_checks.check_mixin_order,
    ],
    ids=lambda c: c.__name__,
)
def test_scikit_learn_api_checks(check):
    check("FusionDetector", clone(FusionDetector(spectral=FrankDetector(C=0.5))))
