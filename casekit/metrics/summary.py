"""Turn reports into tables, summarise cross-validation folds, and save reports as JSON.

Example:
    >>> folds = [{"metrics": {"auroc": {"value": 0.90}}}, {"metrics": {"auroc": {"value": 0.94}}}]
    >>> fold_summary(folds).loc["auroc", "mean ± sd"]
    '0.920 ± 0.028'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def metrics_table(report: Mapping) -> pd.DataFrame:
    """The report's headline metrics as a DataFrame: value, ci_low, ci_high per metric."""
    frame = pd.DataFrame.from_dict(report["metrics"], orient="index")
    return frame[["value", "ci_low", "ci_high"]].rename_axis("metric")


def format_estimate(entry: Mapping, *, digits: int = 3) -> str:
    """``0.912 (0.887–0.934)``; without an interval, its reason or the value alone.

    ``entry`` is ``{"value", "ci_low", "ci_high"}`` as in a report's ``metrics``; an
    :class:`~casekit.metrics.bootstrap.Estimate`'s ``note`` is shown instead of a missing
    interval: ``0.750 (too few patients for an interval (n = 4))``. A NaN value prints
    as ``nan`` (say in words why it is undefined where you show it).
    """
    value = f"{entry['value']:.{digits}f}"
    if entry.get("note"):
        return f"{value} ({entry['note']})"
    low, high = entry.get("ci_low"), entry.get("ci_high")
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return value
    return f"{value} ({low:.{digits}f}–{high:.{digits}f})"


def fold_summary(folds: Sequence[Mapping] | pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """Mean ± standard deviation of each metric across cross-validation folds.

    ``folds`` is a list of reports (from ``binary_report``/``multiclass_report``), a list
    of ``{metric: number}`` dicts, or a DataFrame with one row per fold. The sd uses
    ``ddof=1`` (sample sd); it describes fold-to-fold spread, not a confidence interval.
    """
    if isinstance(folds, pd.DataFrame):
        frame = folds.select_dtypes("number")
    else:
        frame = pd.DataFrame([_fold_values(fold) for fold in folds])
    if frame.empty:
        raise ValueError("fold_summary needs at least one fold with numeric metrics")
    mean, sd = frame.mean(), frame.std(ddof=1)
    summary = pd.DataFrame({"mean": mean, "sd": sd, "n_folds": frame.count()})
    summary["mean ± sd"] = [
        f"{m:.{digits}f} ± {s:.{digits}f}" if np.isfinite(s) else f"{m:.{digits}f}"
        for m, s in zip(mean, sd, strict=True)
    ]
    return summary.rename_axis("metric")


def to_jsonable(obj):
    """Convert a report (dicts, DataFrames, NumPy values) into plain JSON-ready Python.

    DataFrames become ``{"index", "columns", "data"}`` (rebuild with ``pd.DataFrame(**d)``);
    NaN, infinities and missing values become ``None``.

    Example:
        >>> to_jsonable({"auroc": np.float64(0.9), "ci": [np.nan, 1.0]})
        {'auroc': 0.9, 'ci': [None, 1.0]}
    """
    if isinstance(obj, pd.DataFrame):
        return {
            "index": to_jsonable(obj.index.tolist()),
            "columns": to_jsonable(obj.columns.tolist()),
            "data": to_jsonable(obj.to_numpy(dtype=object).tolist()),
        }
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(key): to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [to_jsonable(value) for value in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, str):
        return obj
    return str(obj)


def _fold_values(fold: Mapping) -> dict[str, float]:
    metrics = fold.get("metrics", fold)
    values = {}
    for name, entry in metrics.items():
        value = entry.get("value") if isinstance(entry, Mapping) else entry
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            values[name] = float(value)
    return values
