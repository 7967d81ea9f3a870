"""Everything about a binary classifier (cancer vs not) in one report with bootstrap CIs.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200); score = np.clip(0.3 * y + 0.7 * rng.random(200), 0, 1)
    >>> report = binary_report(y, score, n_boot=50, progress=False)
    >>> sorted(report["metrics"])[:3]
    ['accuracy', 'auprc', 'auroc']
    >>> report.metrics.auroc.ci_low < report.metrics.auroc.value   # or report["metrics"]...
    True
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from casekit.metrics.bootstrap import (
    Record,
    bootstrap_info,
    bootstrap_stats,
    bootstrap_units,
    estimate,
)
from casekit.metrics.calibration import (
    expected_calibration_error,
    reliability_curve,
    resampled_ece,
)
from casekit.metrics.confusion import (
    BINARY_RATES,
    binary_counts,
    binary_rates,
    confusion_frames,
    threshold_for_sensitivity,
    threshold_stats,
)
from casekit.metrics.inputs import binary_inputs, group_codes
from casekit.metrics.ranking import resampled_auroc, resampled_average_precision


def binary_report(
    y_true,
    y_score,
    groups=None,
    *,
    threshold: float = 0.5,
    target_sensitivity: float = 0.9,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    labels: tuple[str, str] = ("negative", "positive"),
    n_bins: int = 10,
    progress: bool = True,
) -> Record:
    """AUROC, AUPRC, rates at ``threshold``, calibration and subgroups, with bootstrap CIs.

    ``y_true`` holds 0/1 labels and ``y_score`` the probability of class 1; an image is
    called positive when ``score >= threshold``. Give ``groups`` (patient or lesion id
    per image) so the bootstrap resamples groups, not images. Returns a :class:`Record`
    (a dict whose keys read as attributes: ``report.metrics.auroc.ci_low``):
    ``metrics`` (name → :class:`~casekit.metrics.bootstrap.Estimate`: ``value``, ``ci_low``,
    ``ci_high``, ``n_valid``, ``note``, e.g. "too few patients for an interval (n = 4)"
    below five patients), ``confusion_matrix``
    (``counts`` and row-normalised ``normalised`` DataFrames), ``threshold_for_sensitivity``,
    ``calibration`` (reliability bins; None when scores are not probabilities),
    ``subgroups`` (see :func:`subgroup_table`) and bookkeeping (n, bootstrap settings).

    Args:
        y_true: shape (n,) 0/1 labels (1 = ``labels[1]``, the positive class).
        y_score: shape (n,) score of class 1, usually a probability in [0, 1].
        groups: shape (n,) patient/lesion id per image (optional).
        threshold: score at or above which an image is called positive.
        target_sensitivity: fraction in (0, 1] for ``threshold_for_sensitivity``.
        n_boot, ci, seed: bootstrap resamples, interval level (fraction), seed.
        labels: names of class 0 and class 1.
        n_bins: calibration bins (see :mod:`casekit.metrics.calibration`).
        progress: show a progress bar.

    Raises:
        ValueError: labels other than 0/1, a single class, NaN scores, or arrays of
            different lengths.
    """
    y, s = binary_inputs(y_true, y_score)
    if y.min() == y.max():
        raise ValueError("y_true holds a single class: AUROC and specificity need both")
    codes = group_codes(groups, len(y))
    predicted = s >= threshold
    is_probability = bool(s.min() >= 0 and s.max() <= 1)
    stats = {
        "auroc": lambda w: resampled_auroc(y, s, w),
        "auprc": lambda w: resampled_average_precision(y, s, w),
        "counts": lambda w: np.column_stack(list(binary_counts(w, y, predicted).values())),
    }
    if is_probability:
        stats["ece"] = lambda w: resampled_ece(w, y, s, n_bins)
    samples = bootstrap_stats(stats, len(y), codes, n_boot=n_boot, seed=seed, progress=progress)

    n_units, unit = bootstrap_units(codes, len(y))

    def with_ci(value: float, resampled: np.ndarray) -> dict:
        return estimate(value, resampled, ci, n_units=n_units, unit=unit)

    point = threshold_stats(y, s, threshold)
    tp, fp, tn, fn = samples["counts"].T
    rate_samples = binary_rates(tp, fp, tn, fn)
    metrics = {
        "auroc": with_ci(roc_auc_score(y, s), samples["auroc"]),
        "auprc": with_ci(average_precision_score(y, s), samples["auprc"]),
    }
    metrics.update({name: with_ci(point[name], rate_samples[name]) for name in BINARY_RATES})
    calibration = None
    if is_probability:
        ece = expected_calibration_error(y, s, n_bins=n_bins)
        metrics["ece"] = with_ci(ece, samples["ece"])
        calibration = {"bins": reliability_curve(y, s, n_bins=n_bins), "n_bins": n_bins}

    counts = np.array([[point["tn"], point["fp"]], [point["fn"], point["tp"]]])
    return Record({
        "task": "binary",
        "labels": list(labels),
        "n_images": int(len(y)),
        "n_positive": int(y.sum()),
        "n_groups": None if codes is None else int(codes.max() + 1),
        "threshold": float(threshold),
        "bootstrap": bootstrap_info(n_boot, ci, seed, codes),
        "metrics": Record(metrics),
        "confusion_matrix": confusion_frames(counts, list(labels)),
        "threshold_for_sensitivity": threshold_for_sensitivity(y, s, target=target_sensitivity),
        "calibration": calibration,
        "subgroups": None,
    })


def operating_point(
    y_true,
    y_score,
    threshold: float,
    groups=None,
    *,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> dict:
    """Sensitivity, specificity, PPV, NPV … at one threshold, with bootstrap CIs.

    Use it to test a threshold chosen elsewhere (e.g. on validation data with
    :func:`threshold_for_sensitivity`). ``y_true``, ``y_score`` and ``groups`` are (n,)
    arrays as in :func:`binary_report`.

    Returns:
        ``{"threshold", "counts" (tp, fp, tn, fn), "metrics" (name → estimate with CI),
        "bootstrap"}``; undefined rates (e.g. NPV with no negative call) are NaN.

    Raises:
        ValueError: as :func:`binary_report`.

    Example:
        >>> op = operating_point([0, 0, 1, 1] * 10, [0.1, 0.6, 0.4, 0.9] * 10, 0.5, n_boot=50)
        >>> op["metrics"]["sensitivity"]["value"], op["counts"]["fp"]
        (0.5, 10)
    """
    y, s = binary_inputs(y_true, y_score)
    codes = group_codes(groups, len(y))
    predicted = s >= threshold
    samples = bootstrap_stats(
        {"counts": lambda w: np.column_stack(list(binary_counts(w, y, predicted).values()))},
        len(y), codes, n_boot=n_boot, seed=seed,
    )
    point = threshold_stats(y, s, threshold)
    rates = binary_rates(*samples["counts"].T)
    n_units, unit = bootstrap_units(codes, len(y))
    return {
        "threshold": float(threshold),
        "counts": {name: point[name] for name in ("tp", "fp", "tn", "fn")},
        "metrics": {name: estimate(point[name], rates[name], ci, n_units=n_units, unit=unit)
                    for name in BINARY_RATES},
        "bootstrap": bootstrap_info(n_boot, ci, seed, codes),
    }
