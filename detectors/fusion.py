"""Fusion of CNN scores with a spectral detector by stacking."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import (
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from spectral._validate import as_float_array, check_choice, warn

from .spectral import _PROBA_EPS, DurallDetector, _input_tags

__all__ = ["FusionDetector"]

_PARTS = ("cnn", "spectral")


def _n_samples(X):
    try:
        return len(X)
    except TypeError:
        raise TypeError(
            f"X must be a sequence or array of images, got {type(X).__name__}"
        ) from None


def _check_logits(cnn_logits, n_samples):
    logits = as_float_array(cnn_logits, name="cnn_logits", dtype=np.float64)
    if logits.ndim != 1 or len(logits) != n_samples:
        raise ValueError(
            f"cnn_logits must be a 1-D array with one logit per image ({n_samples}); "
            f"got shape {logits.shape}"
        )
    return logits


def _log_odds(proba):
    proba = np.clip(proba, _PROBA_EPS, 1 - _PROBA_EPS)
    return np.log(proba) - np.log1p(-proba)


def _score_method(estimator):
    return "decision_function" if hasattr(estimator, "decision_function") else (
        "predict_proba"
    )


def _as_score(values):
    """Turn the output of decision_function or predict_proba into a 1-D score."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        return _log_odds(values[:, 1])
    return values


class FusionDetector(ClassifierMixin, BaseEstimator):
    """Stack CNN logits and a spectral detector's scores in a calibrated model.

    The stacker is a logistic regression on two standardised inputs per image:
    the CNN's logit (computed elsewhere, passed as ``cnn_logits``) and the spectral
    detector's score. While fitting, the spectral scores are *out-of-fold*
    (``cross_val_predict``), so the stacker learns how much to trust the spectral
    detector from scores it gives on images it was not fitted on; the spectral
    detector is then refitted on all the data for later predictions.

    Fit it on a validation split: images the CNN was not trained on, since the
    CNN's logits on its own training images are overconfident.

    Parameters
    ----------
    spectral : estimator, optional
        A spectral detector (a classifier with ``decision_function`` or
        ``predict_proba``, such as :class:`~detectors.spectral.DurallDetector`),
        or a feature transformer (such as :class:`~detectors.spectral.PeakFeatures`),
        which is then followed by ``StandardScaler`` and a logistic regression.
        Default ``DurallDetector()``. It is cloned, never modified.
    calibration : {"sigmoid", "isotonic"}, optional
        ``"sigmoid"`` (default): the logistic regression alone; its output is a
        sigmoid of a linear score fitted by likelihood, i.e. already Platt-calibrated.
        ``"isotonic"``: the logistic regression wrapped in
        ``CalibratedClassifierCV(method="isotonic")`` over ``cv`` folds (needs a few
        hundred validation images to beat the sigmoid).
    C : float, optional
        Inverse regularisation strength of the stacker, default 1.
    cv : int or cross-validation splitter, optional
        Folds for the out-of-fold spectral scores (and the isotonic calibration),
        default 5. An integer gives ``StratifiedKFold`` with shuffling, or
        ``StratifiedGroupKFold`` when ``groups`` is passed to :meth:`fit`.
    random_state : int, numpy.random.RandomState or None, optional
        Seed of the fold shuffling.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Labels seen in ``fit``; ``classes_[1]`` (fake) is the one the CNN logit and
        the scores favour.
    spectral_ : estimator
        The spectral part refitted on all the fitting data.
    stacker_ : estimator
        The fitted stacker (input columns: CNN logit, spectral score).
    weights_ : ndarray of shape (2,)
        The stacker's logistic weights on the standardised CNN logit and spectral
        score (for ``"isotonic"``, averaged over the folds): how much each part
        counts.

    See Also
    --------
    detectors.spectral : the spectral detectors.

    Notes
    -----
    The fusion does not run the CNN: pass the logits of the same images, in the
    same order, to every method. Because it is a meta-estimator over two inputs,
    it is not meant for ``cross_val_score`` (the CNN logits would have to be
    routed to every method); evaluate it with :meth:`evaluate_parts` on held-out
    images instead. A stacked model can lose to its best part on new data (when the
    validation split is small or differs from the test data): :meth:`evaluate_parts`
    checks this and warns. Fitting runs the spectral detector ``cv + 1`` times; a
    list of paths is read each time.

    References
    ----------
    .. [1] D. H. Wolpert, "Stacked generalization", Neural Networks 5(2), 1992.
       :doi:`10.1016/S0893-6080(05)80023-1`
    .. [2] J. Platt, "Probabilistic outputs for support vector machines and
       comparisons to regularized likelihood methods", 1999.

    Examples
    --------
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from detectors.fusion import FusionDetector
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 200)
    >>> cnn = 2.0 * y + rng.normal(size=400)
    >>> X = (1.5 * y + rng.normal(size=400))[:, None]  # stands in for images
    >>> fusion = FusionDetector(spectral=FunctionTransformer(), random_state=0)
    >>> fusion = fusion.fit(X, y, cnn_logits=cnn)
    >>> fusion.predict_proba(X, cnn_logits=cnn).shape
    (400, 2)
    >>> bool(np.all(fusion.weights_ > 0))
    True
    """

    def __init__(self, *, spectral=None, calibration="sigmoid", C=1.0, cv=5,
                 random_state=None):
        self.spectral = spectral
        self.calibration = calibration
        self.C = C
        self.cv = cv
        self.random_state = random_state

    def _make_spectral(self):
        est = DurallDetector() if self.spectral is None else self.spectral
        if hasattr(est, "fit") and hasattr(est, "get_params") and is_classifier(est):
            return clone(est)
        if hasattr(est, "fit") and hasattr(est, "transform"):
            return Pipeline([
                ("features", clone(est)),
                ("scale", StandardScaler()),
                ("classifier", LogisticRegression(max_iter=1000)),
            ])
        raise TypeError(
            "spectral must be a classifier (with decision_function or predict_proba) "
            f"or a feature transformer; got {type(est).__name__}"
        )

    def _splitter(self, counts, groups):
        if not isinstance(self.cv, numbers.Integral) or isinstance(self.cv, bool):
            return self.cv
        if self.cv < 2 or self.cv > counts.min():
            raise ValueError(
                f"cv={self.cv!r} folds need 2 <= cv <= the smallest class size "
                f"({int(counts.min())})"
            )
        if groups is not None:
            return StratifiedGroupKFold(
                int(self.cv), shuffle=True, random_state=self.random_state
            )
        return StratifiedKFold(
            int(self.cv), shuffle=True, random_state=self.random_state
        )

    def _make_stacker(self, splitter):
        model = Pipeline([
            ("scale", StandardScaler()),
            ("logistic", LogisticRegression(C=self.C, max_iter=1000)),
        ])
        if self.calibration == "sigmoid":
            return model
        return CalibratedClassifierCV(model, method="isotonic", cv=splitter)

    def fit(self, X, y, *, cnn_logits, groups=None):
        """Fit the spectral part and the stacker on a validation split.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images, in any form the spectral part accepts.
        y : array_like, shape (N,)
            Two labels, real = 0 and fake = 1.
        cnn_logits : array_like, shape (N,)
            The CNN's logit for each image of ``X`` (positive = fake).
        groups : array_like, shape (N,), optional
            Group of each image (e.g. its source photo or video), kept within one
            fold of the out-of-fold scores.

        Returns
        -------
        self : object
            The fitted detector.

        Raises
        ------
        ValueError
            When ``y`` does not hold exactly two classes, the lengths of ``X``,
            ``y`` and ``cnn_logits`` differ, or ``cv`` exceeds a class's size.
        TypeError
            When ``spectral`` is neither a classifier nor a transformer.
        """
        check_choice(self.calibration, ("sigmoid", "isotonic"), name="calibration")
        n_samples = _n_samples(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_samples:
            raise ValueError(
                f"y must be a 1-D array with one label per image ({n_samples}); got "
                f"shape {y.shape}"
            )
        check_classification_targets(y)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) != 2:
            raise ValueError(
                f"y must hold exactly two classes (real = 0, fake = 1); got "
                f"{classes.tolist()!r}"
            )
        logits = _check_logits(cnn_logits, n_samples)

        # Out-of-fold scores: what the spectral part says about unseen images.
        spectral = self._make_spectral()
        splitter = self._splitter(counts, groups)
        method = _score_method(spectral)
        oof = _as_score(cross_val_predict(
            spectral, X, y, cv=splitter, groups=groups, method=method
        ))
        self.spectral_ = spectral.fit(X, y)

        stack = np.column_stack([logits, oof])
        self.stacker_ = self._make_stacker(splitter).fit(stack, y)
        self.classes_ = classes
        self.weights_ = self._weights()
        return self

    def _weights(self):
        if self.calibration == "sigmoid":
            return self.stacker_.named_steps["logistic"].coef_[0].copy()
        coefs = [
            c.estimator.named_steps["logistic"].coef_[0]
            for c in self.stacker_.calibrated_classifiers_
        ]
        return np.mean(coefs, axis=0)

    def _spectral_score(self, X):
        method = getattr(self.spectral_, _score_method(self.spectral_))
        return _as_score(method(X))

    def _stack(self, X, cnn_logits):
        check_is_fitted(self, "stacker_")
        logits = _check_logits(cnn_logits, _n_samples(X))
        return np.column_stack([logits, self._spectral_score(X)])

    def predict_proba(self, X, *, cnn_logits):
        """Return calibrated probabilities of real and fake.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images.
        cnn_logits : array_like, shape (N,)
            The CNN's logit for each image.

        Returns
        -------
        proba : ndarray, shape (N, 2)
            Probabilities of ``classes_``; rows sum to 1.
        """
        return self.stacker_.predict_proba(self._stack(X, cnn_logits))

    def decision_function(self, X, *, cnn_logits):
        """Return the fused log-odds of fake.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images.
        cnn_logits : array_like, shape (N,)
            The CNN's logit for each image.

        Returns
        -------
        scores : ndarray, shape (N,)
            The stacker's linear score (``"sigmoid"``) or the log-odds of the
            isotonic probability clipped to ``[1e-6, 1 - 1e-6]``; positive
            predicts ``classes_[1]``.
        """
        return self._fused_score(self._stack(X, cnn_logits))

    def _fused_score(self, stack):
        if self.calibration == "sigmoid":
            return self.stacker_.decision_function(stack)
        return _log_odds(self.stacker_.predict_proba(stack)[:, 1])

    def predict(self, X, *, cnn_logits):
        """Return the predicted label of each image.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images.
        cnn_logits : array_like, shape (N,)
            The CNN's logit for each image.

        Returns
        -------
        labels : ndarray, shape (N,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X, cnn_logits=cnn_logits)
        return self.classes_[(proba[:, 1] > 0.5).astype(int)]

    def score(self, X, y, *, cnn_logits, sample_weight=None):
        """Return the accuracy of :meth:`predict` on ``X``.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images.
        y : array_like, shape (N,)
            True labels.
        cnn_logits : array_like, shape (N,)
            The CNN's logit for each image.
        sample_weight : array_like, shape (N,), optional
            Weights of the images.

        Returns
        -------
        accuracy : float
            Share of correct predictions.
        """
        pred = self.predict(X, cnn_logits=cnn_logits)
        return float(np.average(pred == np.asarray(y), weights=sample_weight))

    def evaluate_parts(self, X, y, *, cnn_logits, tolerance=0.0):
        """Compare the fusion with its parts on held-out images.

        Parameters
        ----------
        X : array or sequence of images or paths
            Images the fusion (and the CNN) was not fitted on.
        y : array_like, shape (N,)
            True labels; both classes must be present.
        cnn_logits : array_like, shape (N,)
            The CNN's logit for each image.
        tolerance : float, optional
            How far the fusion's AP may fall below the best part's before the
            check fails, default 0.

        Returns
        -------
        report : dict
            ``{"cnn": {"ap", "auc"}, "spectral": {"ap", "auc"}, "fusion": {"ap",
            "auc"}, "best_part": "cnn" | "spectral", "fusion_ok": bool}``; AP is
            the average precision with fake as the positive class, AUC the ROC
            AUC. ``fusion_ok`` is false when the fusion's AP is below the best
            part's AP minus ``tolerance``.

        Raises
        ------
        ValueError
            When ``y`` does not hold both classes of ``classes_``.

        Warns
        -----
        UserWarning
            When ``fusion_ok`` is false: use the best part alone, or refit the
            fusion on a larger validation split closer to the test data.
        """
        check_is_fitted(self, "stacker_")
        y = np.asarray(y)
        expected = self.classes_.tolist()
        if y.ndim != 1 or sorted(np.unique(y).tolist()) != expected:
            raise ValueError(
                f"y must be a 1-D array holding both classes {expected!r}; got "
                f"classes {np.unique(y).tolist()!r}"
            )
        positive = y == self.classes_[1]
        stack = self._stack(X, cnn_logits)
        scores = {
            "cnn": stack[:, 0],
            "spectral": stack[:, 1],
            "fusion": self._fused_score(stack),
        }
        report = {
            name: {
                "ap": float(average_precision_score(positive, s)),
                "auc": float(roc_auc_score(positive, s)),
            }
            for name, s in scores.items()
        }
        best = max(_PARTS, key=lambda part: report[part]["ap"])
        best_ap = report[best]["ap"]
        fusion_ap = report["fusion"]["ap"]
        report["best_part"] = best
        report["fusion_ok"] = bool(fusion_ap >= best_ap - tolerance)
        if not report["fusion_ok"]:
            warn(
                f"the fusion's held-out AP ({fusion_ap:.4f}) is "
                f"{best_ap - fusion_ap:.2g} below the {best} part's ({best_ap:.4f}), "
                f"more than tolerance={tolerance!r}; use "
                f"the {best} scores alone, or refit the fusion on a larger "
                "validation split closer to the test data",
                UserWarning,
            )
        return report

    def __sklearn_tags__(self):
        return _input_tags(super().__sklearn_tags__())
