"""Confusion-matrix arithmetic: sensitivity, specificity, PPV, NPV, F1, balanced accuracy.

Counts are weighted sums, so the same code gives the point estimate (all weights 1) and
every bootstrap resample at once (one row of weights per resample, one matrix product).

Example:
    >>> stats = threshold_stats([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.5)
    >>> stats["tp"], stats["fp"], stats["sensitivity"], stats["specificity"]
    (1, 1, 0.5, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from casekit.metrics.inputs import binary_inputs

BINARY_RATES = (
    "sensitivity", "specificity", "ppv", "npv", "accuracy", "balanced_accuracy", "f1",
)


def binary_counts(weights: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Weighted TP, FP, TN, FN for each row of ``weights`` (shape (resamples, images))."""
    y_true = y_true.astype(bool)
    y_pred = y_pred.astype(bool)
    cells = np.stack(
        [y_true & y_pred, ~y_true & y_pred, ~y_true & ~y_pred, y_true & ~y_pred], axis=1
    ).astype(float)
    tp, fp, tn, fn = (weights @ cells).T
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn}


def binary_rates(tp, fp, tn, fn) -> dict[str, np.ndarray]:
    """Rates from counts (arrays broadcast); a rate with a zero denominator is NaN."""
    tp, fp, tn, fn = (np.asarray(x, dtype=float) for x in (tp, fp, tn, fn))
    sensitivity = _ratio(tp, tp + fn)
    specificity = _ratio(tn, tn + fp)
    return {
        "sensitivity": sensitivity,
        "specificity": specificity,
        "ppv": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
        "accuracy": _ratio(tp + tn, tp + fp + tn + fn),
        "balanced_accuracy": (sensitivity + specificity) / 2,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def threshold_stats(y_true, y_score, threshold: float) -> dict:
    """Confusion counts and rates when images with ``score >= threshold`` are called positive.

    ``y_true`` (n,) 0/1 labels, ``y_score`` (n,) scores. Returns ``tp, fp, tn, fn`` (ints)
    and ``sensitivity, specificity, ppv, npv, accuracy, balanced_accuracy, f1`` (floats, NaN
    where undefined, e.g. PPV with no positive calls).

    Raises:
        ValueError: labels other than 0/1, NaN scores, or arrays of different lengths.
    """
    y, s = binary_inputs(y_true, y_score)
    counts = binary_counts(np.ones((1, len(y))), y, s >= threshold)
    counts = {name: int(round(value[0])) for name, value in counts.items()}
    rates = {name: float(value) for name, value in binary_rates(**counts).items()}
    return {"threshold": float(threshold), **counts, **rates}


def threshold_for_sensitivity(y_true, y_score, *, target: float = 0.9) -> dict[str, float]:
    """The highest threshold whose sensitivity reaches ``target``, and what it costs.

    Among all thresholds with sensitivity ≥ target, the highest keeps the most
    specificity. Choose it on validation data and apply it to the test set: chosen and
    measured on the same images, the sensitivity is optimistic.

    Args:
        y_true: shape (n,) 0/1 labels. y_score: shape (n,) scores of class 1.
        target: the sensitivity to reach, a fraction in (0, 1].

    Returns:
        ``{"target", "threshold", "sensitivity", "specificity"}`` (floats, on these images).

    Raises:
        ValueError: ``target`` outside (0, 1], or no positive image.

    Example:
        >>> op = threshold_for_sensitivity([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], target=1.0)
        >>> op["threshold"], op["sensitivity"], op["specificity"]
        (0.4, 1.0, 0.5)
    """
    if not 0 < target <= 1:
        raise ValueError(f"target sensitivity must be in (0, 1], got {target}")
    y, s = binary_inputs(y_true, y_score)
    if y.sum() == 0:
        raise ValueError("y_true has no positive images: sensitivity is undefined")
    fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
    first = int(np.argmax(tpr >= target - 1e-12))
    return {
        "target": float(target),
        "threshold": float(thresholds[first]),
        "sensitivity": float(tpr[first]),
        "specificity": float(1 - fpr[first]),
    }


def confusion_counts(
    weights: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
) -> np.ndarray:
    """Weighted confusion matrices, shape (resamples, true class, predicted class)."""
    cell = y_true * n_classes + y_pred
    one_hot = np.zeros((len(cell), n_classes * n_classes))
    one_hot[np.arange(len(cell)), cell] = 1.0
    return (weights @ one_hot).reshape(len(weights), n_classes, n_classes)


def multiclass_rates(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class recall/precision/F1 and their summaries from (resamples, K, K) matrices.

    Balanced accuracy and macro F1 average over the classes present in the truth, as
    scikit-learn's ``balanced_accuracy_score`` does; absent classes are NaN per class.
    """
    diagonal = np.diagonal(confusion, axis1=1, axis2=2)
    support = confusion.sum(axis=2)
    predicted = confusion.sum(axis=1)
    recall = _ratio(diagonal, support)
    f1 = np.where(support > 0, _ratio(2 * diagonal, support + predicted), np.nan)
    return {
        "recall": recall,
        "precision": _ratio(diagonal, predicted),
        "f1": f1,
        "balanced_accuracy": nanmean_rows(recall),
        "macro_f1": nanmean_rows(f1),
        "accuracy": diagonal.sum(axis=1) / confusion.sum(axis=(1, 2)),
    }


def confusion_frames(counts: np.ndarray, labels: list[str]) -> dict[str, pd.DataFrame]:
    """Counts and row-normalised confusion matrices as labelled DataFrames (rows = truth)."""
    counts = np.asarray(counts)
    rows = counts.sum(axis=1, keepdims=True)
    normalised = _ratio(counts, rows)
    index = pd.Index(labels, name="true")
    columns = pd.Index(labels, name="predicted")
    return {
        "counts": pd.DataFrame(counts, index=index, columns=columns),
        "normalised": pd.DataFrame(normalised, index=index, columns=columns),
    }


def _ratio(numerator, denominator) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, np.nan)


def nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Mean of each row over its finite entries; NaN for a row with none."""
    present = np.isfinite(values)
    total = np.where(present, values, 0.0).sum(axis=1)
    return _ratio(total, present.sum(axis=1))
