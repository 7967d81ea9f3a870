"""Ranking metrics (AUROC, average precision) and ROC / PR curves with bootstrap bands.

scikit-learn computes every curve and area; this module only feeds it one bootstrap
resample at a time as sample weights (images drawn 0 times are left out).

Example:
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1]); s = np.array([0.1, 0.4, 0.35, 0.8])
    >>> float(resampled_auroc(y, s, np.ones((1, 4)))[0])
    0.75
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sklearn
from sklearn.metrics import (
    auc,
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from casekit.metrics.bootstrap import bootstrap_stats, estimate
from casekit.metrics.inputs import binary_inputs

GRID = np.linspace(0.0, 1.0, 101)


def resampled_auroc(y_true: np.ndarray, y_score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUROC for each row of ``weights``; NaN where a resample lacks one of the classes."""
    return _each_resample(_auroc, y_true, y_score, weights, np.nan)


def resampled_average_precision(
    y_true: np.ndarray, y_score: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Average precision (AUPRC) for each row of ``weights``; NaN without both classes."""
    return _each_resample(_average_precision, y_true, y_score, weights, np.nan)


def roc_curve_ci(
    y_true, y_score, groups=None, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0
) -> dict:
    """ROC curve, its AUROC with CI, and a pointwise bootstrap band of TPR over an FPR grid.

    ``y_true`` (n,) 0/1 labels, ``y_score`` (n,) scores of class 1, ``groups`` (n,)
    patient/lesion ids (the bootstrap resamples these). Returns ``fpr, tpr`` (the curve on
    all images), ``grid, tpr_low, tpr_high`` (band, arrays of ``len(GRID)``) and ``auroc``
    (``{"value", "ci_low", "ci_high", "n_valid"}``).

    Raises:
        ValueError: a single class, labels other than 0/1, or arrays of different lengths.
    """
    y, s = _both_classes(y_true, y_score)
    fpr, tpr, _ = roc_curve(y, s)
    areas, low, high = _areas_and_band(_roc_area_and_band, y, s, groups, n_boot, ci, seed)
    return {
        "fpr": fpr, "tpr": tpr, "grid": GRID, "tpr_low": low, "tpr_high": high,
        "auroc": estimate(roc_auc_score(y, s), areas, ci),
    }


def pr_curve_ci(
    y_true, y_score, groups=None, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0
) -> dict:
    """Precision–recall curve, AUPRC with CI, and a bootstrap band of precision over recall.

    Inputs as :func:`roc_curve_ci`. Returns ``recall, precision`` (the curve), ``grid,
    precision_low, precision_high``, ``auprc`` and ``prevalence`` (the precision of a
    random classifier). Raises ``ValueError`` as :func:`roc_curve_ci`.
    """
    y, s = _both_classes(y_true, y_score)
    precision, recall, _ = precision_recall_curve(y, s)
    areas, low, high = _areas_and_band(_pr_area_and_band, y, s, groups, n_boot, ci, seed)
    return {
        "recall": recall, "precision": precision, "grid": GRID,
        "precision_low": low, "precision_high": high,
        "auprc": estimate(average_precision_score(y, s), areas, ci),
        "prevalence": float(y.mean()),
    }


def _both_classes(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y, s = binary_inputs(y_true, y_score)
    if y.min() == y.max():
        raise ValueError("y_true holds a single class: ROC and PR curves need both")
    return y, s


def _each_resample(metric, y: np.ndarray, s: np.ndarray, weights: np.ndarray, empty):
    """``metric(y, s, w)`` per resample, on the images drawn; ``empty`` if one class."""
    values = []
    # The inputs were checked once already; skipping scikit-learn's checks on each of the
    # thousand calls saves about a third of the time.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        for w in weights:
            drawn = w > 0
            y_drawn = y[drawn]
            single_class = y_drawn.min() == y_drawn.max()
            values.append(empty if single_class else metric(y_drawn, s[drawn], w[drawn]))
    return np.array(values)


def _auroc(y, s, w) -> float:
    fpr, tpr, _ = roc_curve(y, s, sample_weight=w)
    return float(auc(fpr, tpr))


def _average_precision(y, s, w) -> float:
    precision, recall, _ = precision_recall_curve(y, s, sample_weight=w)
    return _step_area(precision, recall)


def _step_area(precision: np.ndarray, recall: np.ndarray) -> float:
    # scikit-learn's definition of average precision (Σ Δrecall · precision), taken from
    # its PR curve: the same number as average_precision_score, without its slower checks.
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def _roc_area_and_band(y, s, w) -> np.ndarray:
    """AUROC, then TPR at each FPR of the grid (linear interpolation), from one ROC curve."""
    fpr, tpr, _ = roc_curve(y, s, sample_weight=w)
    return np.concatenate([[auc(fpr, tpr)], np.interp(GRID, fpr, tpr)])


def _pr_area_and_band(y, s, w) -> np.ndarray:
    """AUPRC, then precision at each recall of the grid, from one PR curve.

    Precision at recall r is that of the first operating point (highest threshold)
    whose recall reaches r.
    """
    precision, recall, _ = precision_recall_curve(y, s, sample_weight=w)
    ascending_recall, ascending_precision = recall[::-1], precision[::-1]
    first = np.searchsorted(ascending_recall, GRID, side="left").clip(max=len(recall) - 1)
    return np.concatenate([[_step_area(precision, recall)], ascending_precision[first]])


def _areas_and_band(area_and_band, y, s, groups, n_boot: int, ci: float, seed: int):
    """Bootstrap ``area_and_band``: the area per resample, and the band's low and high."""
    empty = np.full(1 + len(GRID), np.nan)
    samples = bootstrap_stats(
        {"curve": lambda w: _each_resample(area_and_band, y, s, w, empty)},
        len(y), groups, n_boot=n_boot, seed=seed,
    )["curve"]
    areas, band = samples[:, 0], samples[:, 1:]
    valid = band[np.isfinite(band).all(axis=1)]
    if len(valid) == 0:
        return areas, np.full(len(GRID), np.nan), np.full(len(GRID), np.nan)
    tail = 100 * (1 - ci) / 2
    low, high = np.percentile(valid, [tail, 100 - tail], axis=0)
    return areas, low, high


def one_vs_rest_targets(y_true, n_classes: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(k, 0/1 target of class k)`` for each class with both positives and negatives.

    Example:
        >>> [(k, t.tolist()) for k, t in one_vs_rest_targets([0, 1, 1], 3)]
        [(0, [1, 0, 0]), (1, [0, 1, 1])]
    """
    y = np.asarray(y_true)
    for k in range(n_classes):
        target = (y == k).astype(int)
        if 0 < target.sum() < len(target):
            yield k, target


def one_vs_rest(metric, y_true: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``metric(is_class_k, proba[:, k])`` per class; NaN for a class absent from y_true."""
    values = np.full(proba.shape[1], np.nan)
    for k, target in one_vs_rest_targets(y_true, proba.shape[1]):
        values[k] = metric(target, proba[:, k])
    return values


def resampled_one_vs_rest(
    resampled_metric, y_true: np.ndarray, proba: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """A binary ``resampled_*`` metric for each class against the rest: (resamples, K)."""
    return np.column_stack(
        [
            resampled_metric((y_true == k).astype(int), proba[:, k], weights)
            for k in range(proba.shape[1])
        ]
    )
