"""Metrics with honest uncertainty for the skin-lesion case study.

scikit-learn computes every metric; this package adds bootstrap confidence intervals
that resample patients or lesions (not images), calibration, subgroup tables and
cross-validation summaries, and returns plain dicts and DataFrames.

Example:
    >>> import numpy as np
    >>> from casekit import metrics
    >>> y = np.array([0, 0, 1, 1]); score = np.array([0.1, 0.6, 0.4, 0.9])
    >>> metrics.threshold_stats(y, score, 0.5)["sensitivity"]
    0.5
"""

from casekit.metrics.binary import binary_report, operating_point
from casekit.metrics.bootstrap import bootstrap_stats, bootstrap_weights, percentile_ci
from casekit.metrics.calibration import (
    confidence_calibration,
    expected_calibration_error,
    reliability_curve,
)
from casekit.metrics.confusion import threshold_for_sensitivity, threshold_stats
from casekit.metrics.multiclass import multiclass_report
from casekit.metrics.ranking import pr_curve_ci, roc_curve_ci
from casekit.metrics.subgroups import age_bands, subgroup_table
from casekit.metrics.summary import fold_summary, format_estimate, metrics_table, to_jsonable

__all__ = [
    "age_bands",
    "binary_report",
    "bootstrap_stats",
    "bootstrap_weights",
    "confidence_calibration",
    "expected_calibration_error",
    "fold_summary",
    "format_estimate",
    "metrics_table",
    "multiclass_report",
    "operating_point",
    "percentile_ci",
    "pr_curve_ci",
    "reliability_curve",
    "roc_curve_ci",
    "subgroup_table",
    "threshold_for_sensitivity",
    "threshold_stats",
    "to_jsonable",
]
