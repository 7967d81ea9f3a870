"""Calibration: do predicted probabilities match observed frequencies?

Scores are cut into ``n_bins`` equal-width bins on [0, 1], each closed on the right:
``[0, 1/n], (1/n, 2/n], …, ((n-1)/n, 1]``. A probability lying exactly on an edge belongs
to the lower bin — with 10 bins, 0.1 is in the first bin and 1.0 in the last. This is the
rule of scikit-learn's ``calibration_curve(strategy="uniform")`` (``np.searchsorted`` of
the inner edges ``np.linspace(0, 1, n_bins + 1)[1:-1]``), used by every casekit function
and by notebook 04's own exercise, so that they all give the same number. The expected
calibration error (ECE) is the image-weighted mean gap between the mean predicted
probability and the observed frequency in each bin. For a binary model the probability is
that of class 1; for a multiclass model it is the confidence (the top probability) against
being right, plus a class-wise ECE (one-vs-rest, averaged).

Example:
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.05, 0.15, 0.15, 0.95]), 3)
    0.2
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.05, 0.1, 0.15, 0.95]), 4)  # 0.1: bin 1
    0.2625
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casekit.metrics.inputs import binary_inputs


def bin_ids(prob: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Bin index 0..n_bins-1 of each probability: equal-width bins closed on the right (an
    edge goes to the lower bin), scikit-learn's ``calibration_curve`` rule.

    Raises:
        ValueError: when ``n_bins`` < 1.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], prob)


def reliability_curve(y_true, y_prob, *, n_bins: int = 10) -> pd.DataFrame:
    """One row per bin: ``bin_low, bin_high, n, mean_predicted, observed`` (NaN if empty).

    ``y_true`` (n,) 0/1 labels, ``y_prob`` (n,) probabilities of class 1. The non-empty
    rows equal ``sklearn.calibration.calibration_curve(y_true, y_prob, n_bins=n_bins)``.

    Raises:
        ValueError: probabilities outside [0, 1], labels other than 0/1, mismatched lengths.
    """
    y, p = _probabilities(y_true, y_prob)
    return _curve(y, p, n_bins)


def expected_calibration_error(y_true, y_prob, *, n_bins: int = 10) -> float:
    """ECE of the probability of class 1: Σ_bins (n_b / n) · |observed_b − mean predicted_b|.

    ``y_true`` (n,) 0/1 labels, ``y_prob`` (n,) probabilities in [0, 1]. Returns a float in
    [0, 1]; empty bins contribute nothing. Raises ``ValueError`` as
    :func:`reliability_curve`.
    """
    y, p = _probabilities(y_true, y_prob)
    return float(resampled_ece(np.ones((1, len(y))), y, p, n_bins)[0])


def confidence_calibration(y_true: np.ndarray, proba: np.ndarray, *,
                           n_bins: int = 10) -> dict:
    """Multiclass calibration: reliability of the top probability, its ECE, class-wise ECE.

    ``y_true`` are class indices and ``proba`` an (n, K) probability array (validated
    by the caller). Returns ``{"bins": DataFrame, "ece": float, "classwise_ece": float}``.
    """
    confidence, correct = confidence_and_correct(y_true, proba)
    ones = np.ones((1, len(y_true)))
    return {
        "bins": _curve(correct, confidence, n_bins),
        "ece": float(resampled_ece(ones, correct, confidence, n_bins)[0]),
        "classwise_ece": float(resampled_classwise_ece(ones, y_true, proba, n_bins)[0]),
    }


def confidence_and_correct(y_true: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top probability per image and whether its class is the true one (0/1)."""
    return proba.max(axis=1), (proba.argmax(axis=1) == y_true).astype(int)


def resampled_ece(
    weights: np.ndarray, outcome: np.ndarray, prob: np.ndarray, n_bins: int = 10
) -> np.ndarray:
    """ECE for each row of ``weights``: Σ_bins |Σ w·(outcome − prob)| / Σ w."""
    one_hot = np.zeros((len(prob), n_bins))
    one_hot[np.arange(len(prob)), bin_ids(prob, n_bins)] = 1.0
    gaps = weights @ (one_hot * (outcome - prob)[:, None])
    return np.abs(gaps).sum(axis=1) / weights.sum(axis=1)


def resampled_classwise_ece(
    weights: np.ndarray, y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10
) -> np.ndarray:
    """Mean over classes of the one-vs-rest ECE, for each row of ``weights``."""
    per_class = [
        resampled_ece(weights, (y_true == k).astype(int), proba[:, k], n_bins)
        for k in range(proba.shape[1])
    ]
    return np.mean(per_class, axis=0)


def _probabilities(y_true, y_prob) -> tuple[np.ndarray, np.ndarray]:
    y, p = binary_inputs(y_true, y_prob)
    if p.min() < 0 or p.max() > 1:
        raise ValueError("calibration needs probabilities in [0, 1]; apply a sigmoid first")
    return y, p


def _curve(outcome: np.ndarray, prob: np.ndarray, n_bins: int) -> pd.DataFrame:
    ids = bin_ids(prob, n_bins)
    n = np.bincount(ids, minlength=n_bins)
    safe = np.where(n > 0, n, 1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "n": n,
            "mean_predicted": np.where(
                n > 0, np.bincount(ids, prob, minlength=n_bins) / safe, np.nan
            ),
            "observed": np.where(
                n > 0, np.bincount(ids, outcome.astype(float), minlength=n_bins) / safe, np.nan
            ),
        }
    )
