"""Does the model work equally well for everyone? Metrics per sex, age band, site, skin type.

Each subgroup gets its own AUROC and balanced accuracy with a (group-aware) bootstrap CI.
Subgroups too small to say anything are kept in the table and flagged ``too few``: an
empty row for skin type V–VI is itself a finding.

Example:
    >>> list(age_bands([25, 50, 80, None]))
    ['0-29', '45-59', '75+', nan]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from casekit.metrics.bootstrap import DECIMALS, bootstrap_stats, percentile_ci
from casekit.metrics.confusion import (
    binary_counts,
    binary_rates,
    confusion_counts,
    multiclass_rates,
    nanmean_rows,
)
from casekit.metrics.inputs import binary_inputs, group_codes, multiclass_inputs
from casekit.metrics.ranking import one_vs_rest, resampled_auroc, resampled_one_vs_rest
from casekit.progress import tqdm

TOO_FEW = "too few"
MISSING = "missing"
#: A numeric column with more distinct values than this must be binned first.
MAX_LEVELS = 12
_METRIC_COLUMNS = [f"{metric}{suffix}" for metric in ("auroc", "balanced_accuracy")
                   for suffix in ("", "_ci_low", "_ci_high")]


def age_bands(ages, *, edges: Sequence[float] = (0, 30, 45, 60, 75)) -> pd.Series:
    """Cut ages (years, shape (n,)) into ordered bands ``0-29, 30-44, 45-59, 60-74, 75+``.

    Returns an ordered categorical Series named ``age_band``; missing ages stay NA.

    Raises:
        ValueError: when an age is below ``edges[0]``.
    """
    series = ages.copy() if isinstance(ages, pd.Series) else pd.Series(ages)
    series = pd.to_numeric(series, errors="coerce").astype(float)
    if (series < edges[0]).any():
        raise ValueError(f"ages below {edges[0]} found; check the age column")
    labels = [f"{lo:g}-{hi - 1:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"{edges[-1]:g}+")
    bands = pd.cut(series, bins=[*edges, np.inf], right=False, labels=labels)
    return bands.rename("age_band")


def subgroup_table(
    y_true,
    y_score,
    subgroups: pd.DataFrame | Mapping[str, Sequence],
    groups=None,
    *,
    threshold: float = 0.5,
    class_names: Sequence[str] | None = None,
    min_n: int = 30,
    min_per_class: int = 5,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """One row per (attribute, value): n, positives, AUROC and balanced accuracy with CIs.

    Binary when ``y_score`` is 1-D (probability of class 1, positive when ≥ ``threshold``),
    multiclass when it is an (n, K) probability array (macro one-vs-rest AUROC, argmax
    balanced accuracy). A subgroup with fewer than ``min_n`` images, or (binary) fewer than
    ``min_per_class`` positives or negatives, or (multiclass) fewer than two classes with
    ``min_per_class`` images, gets NaN metrics and the note ``too few``. Missing values
    form their own ``missing`` subgroup. ``subgroups`` is a DataFrame or dict of (n,)
    columns; options after ``groups`` are keyword-only.

    Returns:
        A DataFrame: ``attribute, value, n, n_groups`` (with ``groups``), ``positives`` or
        ``classes``, ``auroc``/``balanced_accuracy`` with ``_ci_low``/``_ci_high``, ``note``.

    Raises:
        ValueError: a column of the wrong length or a continuous one (bin it first).
        TypeError: ``subgroups`` neither a DataFrame nor a dict.

    Example:
        >>> import numpy as np
        >>> y = np.tile([0, 1], 50); s = np.where(y == 1, 0.7, 0.3)
        >>> table = subgroup_table(y, s, {"sex": ["male", "female"] * 49 + [None] * 2},
        ...                        n_boot=20)
        >>> table[["value", "n", "auroc", "note"]].to_dict("records")[-1]
        {'value': 'missing', 'n': 2, 'auroc': nan, 'note': 'too few'}
    """
    score = np.asarray(y_score, dtype=float)
    multiclass = score.ndim == 2 and score.shape[1] > 2
    if multiclass:
        names = class_names or [str(k) for k in range(score.shape[1])]
        y, score = multiclass_inputs(y_true, score, names)
        positives = None
    else:
        y, score = binary_inputs(y_true, score)
        positives = y
    codes = group_codes(groups, len(y))
    levels = [
        (attribute, value, mask)
        for attribute, column in _columns(subgroups, len(y)).items()
        for value, mask in _levels(attribute, column)
    ]
    rows = []
    for attribute, value, mask in tqdm(levels, desc="subgroups", leave=False,
                                       disable=not progress):
        sub_codes = None if codes is None else codes[mask]
        row = {
            "attribute": attribute,
            "value": value,
            "n": int(mask.sum()),
            "n_groups": None if sub_codes is None else int(len(np.unique(sub_codes))),
        }
        if multiclass:
            row["classes"] = int(len(np.unique(y[mask])))
            enough = int((np.bincount(y[mask]) >= min_per_class).sum()) >= 2
            metric = _multiclass_metrics
        else:
            row["positives"] = int(positives[mask].sum())
            enough = min(row["positives"], row["n"] - row["positives"]) >= min_per_class
            metric = _binary_metrics
        if enough and row["n"] >= min_n:
            args = (y[mask], score[mask], sub_codes, threshold, n_boot, seed)
            row.update(_with_ci(metric(*args), ci))
            row["note"] = ""
        else:
            row.update({name: np.nan for name in _METRIC_COLUMNS})
            row["note"] = TOO_FEW
        rows.append(row)
    table = pd.DataFrame(rows)
    if codes is None:
        table = table.drop(columns="n_groups")
    return table


def _columns(subgroups, n: int) -> dict[str, pd.Series]:
    if isinstance(subgroups, pd.DataFrame):
        items = {str(name): subgroups[name] for name in subgroups.columns}
    elif isinstance(subgroups, Mapping):
        items = {str(name): values for name, values in subgroups.items()}
    else:
        raise TypeError("subgroups must be a DataFrame or a dict of columns, e.g. {'sex': ...}")
    columns = {}
    for name, values in items.items():
        # Rows are matched by position: a DataFrame's own index must not realign them.
        if isinstance(values, pd.Series):
            column = values.reset_index(drop=True)
        else:
            column = pd.Series(np.asarray(values, dtype=object))
        if len(column) != n:
            raise ValueError(f"subgroup column {name!r} has {len(column)} rows, expected {n}")
        columns[name] = column
    return columns


def _levels(attribute: str, column: pd.Series):
    """Yield (value label, boolean mask) per level, in a natural order, then missing."""
    missing = column.isna().to_numpy()
    present = column[~missing]
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = [level for level in column.cat.categories if (present == level).any()]
    else:
        numeric = pd.to_numeric(present, errors="coerce")
        is_numeric = len(present) > 0 and numeric.notna().all()
        if is_numeric and numeric.nunique() > MAX_LEVELS:
            raise ValueError(
                f"subgroup column {attribute!r} looks continuous ({numeric.nunique()} values); "
                "bin it first, e.g. subgroups['age'] = age_bands(ages)"
            )
        levels = sorted(present.unique(), key=float if is_numeric else str)
    for level in levels:
        yield _label(level), (column == level).fillna(False).to_numpy(dtype=bool)
    if missing.any():
        yield MISSING, missing


def _label(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _binary_metrics(y, score, codes, threshold, n_boot, seed) -> dict:
    predicted = score >= threshold
    samples = bootstrap_stats(
        {
            "auroc": lambda w: resampled_auroc(y, score, w),
            "counts": lambda w: np.column_stack(list(binary_counts(w, y, predicted).values())),
        },
        len(y), codes, n_boot=n_boot, seed=seed,
    )
    point = binary_rates(*binary_counts(np.ones((1, len(y))), y, predicted).values())
    return {
        "auroc": (roc_auc_score(y, score), samples["auroc"]),
        "balanced_accuracy": (
            float(point["balanced_accuracy"][0]),
            binary_rates(*samples["counts"].T)["balanced_accuracy"],
        ),
    }


def _multiclass_metrics(y, proba, codes, threshold, n_boot, seed) -> dict:
    k = proba.shape[1]
    predicted = proba.argmax(axis=1)
    samples = bootstrap_stats(
        {
            "auroc": lambda w: resampled_one_vs_rest(resampled_auroc, y, proba, w),
            "confusion": lambda w: confusion_counts(w, y, predicted, k),
        },
        len(y), codes, n_boot=n_boot, seed=seed,
    )
    point = multiclass_rates(confusion_counts(np.ones((1, len(y))), y, predicted, k))
    auroc = one_vs_rest(roc_auc_score, y, proba)[None, :]  # NaN for classes not in y
    return {
        "auroc": (nanmean_rows(auroc)[0], nanmean_rows(samples["auroc"])),
        "balanced_accuracy": (  # mean recall of the classes present, no third-party warning
            point["balanced_accuracy"][0],
            multiclass_rates(samples["confusion"])["balanced_accuracy"],
        ),
    }


def _with_ci(results: dict, ci: float) -> dict:
    row = {}
    for name, (value, samples) in results.items():
        low, high, _ = percentile_ci(samples, ci=ci)
        row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = (
            *(round(float(v), DECIMALS) for v in (value, low, high)),
        )
    return row
