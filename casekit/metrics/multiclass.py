"""Everything about a multiclass classifier (one diagnosis per image) with bootstrap CIs.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 300)
    >>> proba = rng.dirichlet([1, 1, 1], 300); proba[np.arange(300), y] += 1; proba /= 2
    >>> report = multiclass_report(y, proba, ["a", "b", "c"], n_boot=50, progress=False)
    >>> round(report["metrics"]["top1_accuracy"]["value"], 2) > 0.5
    True
    >>> list(report["per_class"].index)
    ['a', 'b', 'c']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    roc_auc_score,
    top_k_accuracy_score,
)

from casekit.metrics.bootstrap import (
    bootstrap_info,
    bootstrap_stats,
    bootstrap_units,
    estimate,
    percentile_ci,
)
from casekit.metrics.calibration import (
    confidence_and_correct,
    confidence_calibration,
    resampled_classwise_ece,
    resampled_ece,
)
from casekit.metrics.confusion import (
    confusion_counts,
    confusion_frames,
    multiclass_rates,
    nanmean_rows,
)
from casekit.metrics.inputs import group_codes, multiclass_inputs
from casekit.metrics.ranking import (
    one_vs_rest,
    resampled_auroc,
    resampled_average_precision,
    resampled_one_vs_rest,
)


def multiclass_report(
    y_true,
    proba,
    class_names: Sequence[str],
    groups=None,
    *,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    n_bins: int = 10,
    progress: bool = True,
) -> dict:
    """Top-1/2/3 accuracy, balanced accuracy, macro F1/AUROC/AUPRC, per-class table, ECE.

    ``y_true`` holds class indices into ``class_names``; ``proba`` is (n, K) softmax
    output. ``groups`` (patient or lesion ids) makes the bootstrap resample groups.
    Macro AUROC/AUPRC are one-vs-rest means over the classes present in ``y_true``.
    Returns a dict with ``metrics``, ``per_class`` (DataFrame), ``confusion_matrix``,
    ``calibration`` (confidence reliability bins, ECE, class-wise ECE), ``subgroups`` (None:
    :func:`casekit.evaluation` fills it with :func:`subgroup_table`) and
    ``notes`` (sentences about classes absent from ``y_true``, also issued as warnings).
    Options after ``groups`` are keyword-only (``n_boot``, ``ci``, ``seed``,
    ``n_bins``, ``progress``), as in :func:`binary_report`.

    Raises:
        ValueError: ``proba`` not (n, K) probabilities with rows summing to 1, class indices
            outside 0..K-1, or arrays of different lengths.
    """
    y, p = multiclass_inputs(y_true, proba, class_names)
    names = [str(name) for name in class_names]
    k = len(names)
    codes = group_codes(groups, len(y))
    predicted = p.argmax(axis=1)
    top_ks = [t for t in (1, 2, 3) if t < k]
    hits = top_k_hits(y, p, max(top_ks))[:, [t - 1 for t in top_ks]]
    confidence, correct = confidence_and_correct(y, p)
    samples = bootstrap_stats(
        {
            "confusion": lambda w: confusion_counts(w, y, predicted, k),
            "top_k": lambda w: (w @ hits) / w.sum(axis=1, keepdims=True),
            "auroc": lambda w: resampled_one_vs_rest(resampled_auroc, y, p, w),
            "auprc": lambda w: resampled_one_vs_rest(resampled_average_precision, y, p, w),
            "ece": lambda w: resampled_ece(w, correct, confidence, n_bins),
            "classwise_ece": lambda w: resampled_classwise_ece(w, y, p, n_bins),
        },
        len(y), codes, n_boot=n_boot, seed=seed, progress=progress,
    )
    rates = multiclass_rates(samples["confusion"])
    point_rates = multiclass_rates(confusion_counts(np.ones((1, len(y))), y, predicted, k))
    present = np.unique(y)
    auroc = one_vs_rest(roc_auc_score, y, p)
    auprc = one_vs_rest(average_precision_score, y, p)
    calibration = confidence_calibration(y, p, n_bins=n_bins)

    n_units, unit = bootstrap_units(codes, len(y))
    units = {"n_units": n_units, "unit": unit}
    metrics = {
        f"top{t}_accuracy": estimate(
            top_k_accuracy_score(y, p, k=t, labels=np.arange(k)), samples["top_k"][:, i], ci,
            **units,
        )
        for i, t in enumerate(top_ks)
    }
    metrics.update(
        {
            "balanced_accuracy": estimate(  # mean recall of the classes present in y_true
                point_rates["balanced_accuracy"][0], rates["balanced_accuracy"], ci, **units
            ),
            "macro_f1": estimate(
                f1_score(y, predicted, labels=present, average="macro", zero_division=0),
                rates["macro_f1"], ci, **units,
            ),
            "macro_auroc": estimate(np.nanmean(auroc), nanmean_rows(samples["auroc"]), ci, **units),
            "macro_auprc": estimate(np.nanmean(auprc), nanmean_rows(samples["auprc"]), ci, **units),
            "ece": estimate(calibration["ece"], samples["ece"], ci, **units),
            "classwise_ece": estimate(
                calibration["classwise_ece"], samples["classwise_ece"], ci, **units
            ),
        }
    )
    per_class = pd.DataFrame({"n": np.bincount(y, minlength=k)}, index=pd.Index(names))
    point = {
        "recall": point_rates["recall"][0],
        "precision": point_rates["precision"][0],
        "f1": point_rates["f1"][0],
        "auroc": auroc,
        "auprc": auprc,
    }
    spread = {name: rates[name] for name in ("recall", "precision", "f1")}
    spread.update(auroc=samples["auroc"], auprc=samples["auprc"])
    for name, value in point.items():
        low, high, _ = percentile_ci(spread[name], ci=ci)
        per_class[name], per_class[f"{name}_ci_low"], per_class[f"{name}_ci_high"] = (
            value, low, high,
        )

    report = {
        "task": "multiclass",
        "class_names": names,
        "n_images": int(len(y)),
        "n_groups": None if codes is None else int(codes.max() + 1),
        "bootstrap": bootstrap_info(n_boot, ci, seed, codes),
        "metrics": metrics,
        "per_class": per_class,
        "confusion_matrix": confusion_frames(
            confusion_counts(np.ones((1, len(y))), y, predicted, k)[0].astype(int), names
        ),
        "calibration": {"bins": calibration["bins"], "n_bins": n_bins},
        "subgroups": None,
        "notes": absent_class_notes(y, predicted, names),
    }
    for note in report["notes"]:
        warnings.warn(note, UserWarning, stacklevel=2)
    return report


def absent_class_notes(y_true: np.ndarray, predicted: np.ndarray, names: list[str]) -> list[str]:
    """One sentence per class that has no image in ``y_true`` (what the report does about it).

    Such a class (a rare class missing from a small fold or subgroup) has no recall, F1,
    AUROC or AUPRC: they are NaN and left out of the macro means and balanced accuracy.
    """
    counts = np.bincount(y_true, minlength=len(names))
    guessed = np.bincount(predicted, minlength=len(names))
    notes = []
    for k in np.flatnonzero(counts == 0):
        wrong = (f"; the model still predicted it for {guessed[k]} of the {len(y_true)} "
                 "images (all wrong)" if guessed[k] else "")
        notes.append(
            f"class {names[k]!r} has no image among the {len(y_true)} evaluated{wrong}. "
            "Its recall, F1, AUROC and AUPRC are undefined (NaN) and left out of the macro "
            f"means and balanced accuracy, which average the {int((counts > 0).sum())} "
            "classes present."
        )
    return notes


def top_k_hits(y_true: np.ndarray, proba: np.ndarray, k: int) -> np.ndarray:
    """(n, k) 0/1 array: column j says whether the true class is among the top j+1 classes.

    Ties are broken as scikit-learn's ``top_k_accuracy_score`` breaks them.
    """
    ranked = np.argsort(proba, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return np.cumsum(ranked == y_true[:, None], axis=1).astype(float)
