"""Evaluate a run folder: the numbers the results document reports, and nothing else.

One function, :func:`evaluate_run`, turns a loaded run (:mod:`casekit.runs`) into the
metrics of its test split (its validation split when it has no test split) with
patient-level bootstrap CIs, the threshold chosen on validation and applied to test
(binary), per-subgroup results with small groups collapsed into ``other``, the
degenerate-model alarm (:mod:`casekit.alarms`), and a plain-words reason for every metric
that came out undefined.

Example:
    >>> import pandas as pd
    >>> collapse_rare(pd.Series(["face", "face", "ear", None]), min_count=2).tolist()
    ['face', 'face', 'other (ear)', nan]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from casekit import metrics
from casekit.alarms import degenerate_model_warning
from casekit.metrics import age_bands
from casekit.runs import SUBGROUP_COLUMNS, Run

#: Subgroup values with fewer images than this are pooled into ``other`` (``subgroup_table``
#: cannot evaluate them on their own: its ``min_n``).
MIN_SUBGROUP = 30
OTHER = "other"


@dataclass
class Evaluation:
    """What :func:`evaluate_run` computed for one run.

    Attributes:
        run: the run evaluated.
        split: ``"test"``, or ``"val"`` when the run has no test rows.
        data: the evaluated rows of ``run.predictions``.
        y: shape (n,) true class indices. scores: (n,) probability of class 1 (binary) or
            (n, K) class probabilities. groups: (n,) patient/lesion ids.
        predicted: shape (n,) predicted class indices (binary: score ≥ the report threshold).
        report: ``metrics.binary_report`` / ``metrics.multiclass_report`` output, with
            ``subgroups`` (small values pooled into ``other``) and ``subgroup_n_boot``.
        operating_point: binary with a test split: ``metrics.operating_point`` at the
            threshold chosen on validation (key ``chosen_on_val``); else ``None``.
        warning: the degenerate-model alarm text, or ``None`` when the model looks fine.
        undefined: metric name → why it is undefined (NaN), in words.
    """

    run: Run
    split: str
    data: pd.DataFrame
    y: np.ndarray
    scores: np.ndarray
    groups: np.ndarray
    predicted: np.ndarray
    report: dict
    operating_point: dict | None
    warning: str | None
    undefined: dict[str, str]


def evaluate_run(run: Run, *, n_boot: int = 1000, seed: int = 0,
                 target_sensitivity: float = 0.9, n_boot_subgroups: int = 200,
                 min_subgroup: int = MIN_SUBGROUP, n_bins: int = 10,
                 progress: bool = True) -> Evaluation:
    """Metrics of ``run`` on its test split (else validation) with bootstrap CIs.

    Args:
        run: a loaded run (:func:`casekit.runs.load_run`).
        n_boot: bootstrap resamples of patients/lesions for the headline metrics.
        seed: bootstrap seed.
        target_sensitivity: binary: the threshold is chosen on validation to reach this
            sensitivity (a fraction in (0, 1]) and then applied to the test split.
        n_boot_subgroups: resamples per subgroup (each subgroup is a separate bootstrap).
        min_subgroup: subgroup values with fewer images are pooled into ``other``.
        n_bins: equal-width calibration bins of the ECE (:mod:`casekit.metrics.calibration`).
        progress: show progress bars.

    Returns:
        An :class:`Evaluation`.

    Raises:
        ValueError: when the run has neither test nor validation rows, or the evaluated
            split holds a single class (binary).
    """
    frame = run.predictions
    split = "test" if (frame["split"] == "test").any() else "val"
    data = frame[frame["split"] == split].reset_index(drop=True)
    if data.empty:
        raise ValueError(f"{run.path}: the predictions have no test or val rows to evaluate")
    names = run.info["class_names"]
    y = data["y_true"].to_numpy()
    groups = data["group_id"].to_numpy()
    scores = data[run.score_columns()].to_numpy()
    operating = None
    if run.info["task"] == "binary":
        scores = scores[:, 0]
        report = metrics.binary_report(
            y, scores, groups, target_sensitivity=target_sensitivity, n_boot=n_boot,
            seed=seed, labels=tuple(names), n_bins=n_bins, progress=progress,
        )
        predicted = (scores >= report["threshold"]).astype(int)
        validation = frame[frame["split"] == "val"]
        if split == "test" and validation["y_true"].nunique() == 2:
            chosen = metrics.threshold_for_sensitivity(
                validation["y_true"], validation["score"], target=target_sensitivity
            )
            operating = metrics.operating_point(y, scores, chosen["threshold"], groups,
                                                n_boot=n_boot, seed=seed)
            operating["chosen_on_val"] = chosen
    else:
        report = metrics.multiclass_report(y, scores, names, groups, n_boot=n_boot, seed=seed,
                                           n_bins=n_bins, progress=progress)
        predicted = scores.argmax(axis=1)
    subgroups = subgroup_columns(data, min_count=min_subgroup)
    if subgroups is not None:
        report["subgroups"] = metrics.subgroup_table(
            y, scores, subgroups, groups, class_names=names, min_n=min_subgroup,
            n_boot=n_boot_subgroups, seed=seed, progress=progress,
        )
        report["subgroup_n_boot"] = n_boot_subgroups
    warning = degenerate_model_warning(scores, class_names=names)
    undefined = undefined_reasons(report["metrics"])
    if operating is not None:
        undefined.update({f"operating_point.{name}": text for name, text in
                          undefined_reasons(operating["metrics"]).items()})
    return Evaluation(run, split, data, y, scores, groups, predicted, report, operating,
                      warning, undefined)


def collapse_rare(values: pd.Series, *, min_count: int = MIN_SUBGROUP,
                  other: str = OTHER) -> pd.Series:
    """Pool values seen fewer than ``min_count`` times into one ``other`` value.

    Keeps a subgroup table readable: thirteen body sites of a few images each become one
    row. The pooled value names its members when there are at most four (``"other (ear,
    lip)"``), else counts them (``"other (13 values)"``); missing stays missing. Ordered
    categoricals (age bands) become plain strings.

    Args:
        values: shape (n,) one attribute's value per image.
        min_count: values with fewer images are pooled.
        other: the pooled value's name.

    Returns:
        A Series of the same length and index.
    """
    series = values.astype(object).where(values.notna())
    counts = series.value_counts()
    rare = [value for value in counts.index if counts[value] < min_count]
    if not rare:
        return series
    members = sorted(str(value) for value in rare)
    label = (f"{other} ({', '.join(members)})" if len(members) <= 4
             else f"{other} ({len(members)} values)")
    return series.where(~series.isin(rare) | series.isna(), label)


def subgroup_columns(data: pd.DataFrame, *, min_count: int = MIN_SUBGROUP) -> pd.DataFrame | None:
    """The subgroup attributes of ``data`` (sex, age band, site, skin type), rare values
    pooled with :func:`collapse_rare`; ``None`` when the predictions carry none."""
    columns = {}
    for name in SUBGROUP_COLUMNS:
        if name in data and data[name].notna().any():
            column = age_bands(data[name]) if name == "age" else data[name]
            columns[name] = collapse_rare(column, min_count=min_count)
    return pd.DataFrame(columns) if columns else None


#: Why a metric is undefined: the fraction whose denominator was zero, in words.
UNDEFINED = {
    "sensitivity": "there are no positive images, so sensitivity = TP / (TP + FN) divides by "
                   "zero",
    "specificity": "there are no negative images, so specificity = TN / (TN + FP) divides by "
                   "zero",
    "ppv": "the model called no image positive, so PPV = TP / (TP + FP) divides by zero",
    "npv": "the model called no image negative, so NPV = TN / (TN + FN) divides by zero",
    "f1": "there are no true positives and nothing was called positive",
    "auroc": "the images hold a single class, and a ranking needs both",
    "auprc": "there are no positive images",
    "ece": "the scores are not probabilities in [0, 1]",
    "macro_auroc": "no class has both members and non-members here",
    "macro_auprc": "no class has both members and non-members here",
}


def undefined_reasons(values: Mapping[str, Mapping]) -> dict[str, str]:
    """``{metric: reason}`` for each metric whose value is NaN (``{"value": nan, ...}``)."""
    reasons = {}
    for name, entry in values.items():
        value = entry.get("value") if isinstance(entry, Mapping) else entry
        if value is None or not np.isfinite(value):
            reasons[name] = UNDEFINED.get(name, "its denominator is zero on these images")
    return reasons
