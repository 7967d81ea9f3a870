"""Evaluation figures: ROC and PR curves with bootstrap bands, confusion matrix,
reliability diagram (notebooks 02-04).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn import metrics as skm
from sklearn.metrics import ConfusionMatrixDisplay

from casekit.metrics import (
    confidence_calibration,
    format_estimate,
    pr_curve_ci,
    reliability_curve,
    roc_curve_ci,
)
from casekit.metrics.calibration import expected_calibration_error
from casekit.metrics.inputs import multiclass_inputs
from casekit.metrics.ranking import one_vs_rest_targets
from casekit.plots.figure import (
    WRONG,
    NotebookFigure,
    class_name_list,
    figure_and_axes,
)


def plot_roc(y_true, y_score, groups=None, *, class_names: Sequence[str] | None = None,
             n_boot: int = 1000, ci: float = 0.95, seed: int = 0, ax: Axes | None = None,
             label: str | None = None) -> Figure:
    """ROC curve with a bootstrap band (binary), or one-vs-rest curves per class.

    Args:
        y_true: shape (n,) class indices (binary: 0/1).
        y_score: shape (n,) probability of class 1 (binary; the shaded band is the
            pointwise ``ci`` bootstrap interval), or (n, K) class probabilities (one curve
            per class, without bands: see ``multiclass_report``'s per-class intervals).
        groups: shape (n,) patient/lesion id per image: the bootstrap resamples these.
        class_names: K names for the legend (multiclass).
        n_boot, ci, seed: bootstrap resamples, interval level (fraction), seed.
        ax: draw onto these Axes (default: a new Figure).
        label: the binary curve's legend name (default ``"model"``).

    Returns:
        The Figure drawn on.

    Raises:
        ValueError: from :mod:`casekit.metrics` for inputs of mismatched shapes or a single
            class.
    """
    fig, ax = figure_and_axes(ax=ax, figsize=(5.5, 5))
    scores = np.asarray(y_score, dtype=float)
    if scores.ndim == 2 and scores.shape[1] > 2:
        names = class_name_list(class_names, scores.shape[1])
        for k, target in one_vs_rest_targets(y_true, scores.shape[1]):
            name, score = names[k], scores[:, k]
            fpr, tpr, _ = skm.roc_curve(target, score)
            ax.plot(fpr, tpr, label=f"{name} (AUROC {skm.roc_auc_score(target, score):.3f})")
        ax.set_title("ROC curves, one class vs rest")
    else:
        result = roc_curve_ci(y_true, y_score, groups, n_boot=n_boot, ci=ci, seed=seed)
        text = label or "model"
        line = ax.plot(result["fpr"], result["tpr"],
                       label=f"{text}: AUROC {format_estimate(result['auroc'])}")[0]
        ax.fill_between(result["grid"], result["tpr_low"], result["tpr_high"],
                        color=line.get_color(), alpha=0.2, label=f"{ci:.0%} CI ({_unit(groups)})")
        ax.set_title("ROC curve")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="chance")
    ax.set(xlabel="false positive rate (1 − specificity)", ylabel="true positive rate "
           "(sensitivity)", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_pr(y_true, y_score, groups=None, *, class_names: Sequence[str] | None = None,
            n_boot: int = 1000, ci: float = 0.95, seed: int = 0, ax: Axes | None = None,
            label: str | None = None) -> Figure:
    """Precision–recall curve with a bootstrap band and the chance (prevalence) line.

    Same arguments, return value and errors as :func:`plot_roc`; multiclass draws
    one-vs-rest curves without bands.
    """
    fig, ax = figure_and_axes(ax=ax, figsize=(5.5, 5))
    scores = np.asarray(y_score, dtype=float)
    if scores.ndim == 2 and scores.shape[1] > 2:
        names = class_name_list(class_names, scores.shape[1])
        for k, target in one_vs_rest_targets(y_true, scores.shape[1]):
            name, score = names[k], scores[:, k]
            precision, recall, _ = skm.precision_recall_curve(target, score)
            auprc = skm.average_precision_score(target, score)
            ax.plot(recall, precision, label=f"{name} (AUPRC {auprc:.3f})")
        ax.set_title("Precision–recall curves, one class vs rest")
    else:
        result = pr_curve_ci(y_true, y_score, groups, n_boot=n_boot, ci=ci, seed=seed)
        text = label or "model"
        line = ax.plot(result["recall"], result["precision"],
                       label=f"{text}: AUPRC {format_estimate(result['auprc'])}")[0]
        ax.fill_between(result["grid"], result["precision_low"], result["precision_high"],
                        color=line.get_color(), alpha=0.2, label=f"{ci:.0%} CI ({_unit(groups)})")
        ax.axhline(result["prevalence"], color="grey", ls=":", lw=1,
                   label=f"chance (prevalence {result['prevalence']:.2f})")
        ax.set_title("Precision–recall curve")
    ax.set(xlabel="recall (sensitivity)", ylabel="precision (PPV)", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(fontsize=8, loc="lower left")
    return fig


def plot_confusion_matrix(y_true, y_pred, *, class_names: Sequence[str]) -> Figure:
    """Counts and row-normalised confusion matrices side by side (rows = true class),
    drawn by scikit-learn's :class:`~sklearn.metrics.ConfusionMatrixDisplay`.

    Args:
        y_true, y_pred: shape (n,) class indices 0..K-1.
        class_names: the K class names, in index order.

    Returns:
        A Figure with two Axes (counts; shares of each true class, recall on the diagonal).

    Raises:
        ValueError: for arrays of different shapes or indices outside 0..K-1.
    """
    names = [str(name) for name in class_names]
    k = len(names)
    y, pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y.shape != pred.shape or y.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length: {y.shape}, {pred.shape}")
    if min(y.min(), pred.min()) < 0 or max(y.max(), pred.max()) >= k:
        raise ValueError(f"labels must be class indices 0..{k - 1} matching class_names")
    fig = NotebookFigure(figsize=(5.5 * 2, 0.5 * k + 3.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, normalize, fmt, title in ((axes[0], None, ",d", "Counts"),
                                      (axes[1], "true", ".2f",
                                       "Row-normalised (recall on diagonal)")):
        ConfusionMatrixDisplay.from_predictions(
            y, pred, labels=list(range(k)), display_labels=names, normalize=normalize,
            values_format=fmt, cmap="Blues", colorbar=False, ax=ax, xticks_rotation=45,
        )
        ax.set(xlabel="predicted", ylabel="true", title=title)
    return fig


def plot_reliability_diagram(y_true, y_prob, *, n_bins: int = 10,
                             class_names: Sequence[str] | None = None) -> Figure:
    """Observed frequency against predicted probability per bin, with ECE and bin counts.

    Args:
        y_true: shape (n,) class indices (binary: 0/1).
        y_prob: shape (n,) probability of class 1, or (n, K) class probabilities (then the
            top probability, the confidence, is plotted against being right).
        n_bins: equal-width bins on [0, 1], closed on the right (scikit-learn's
            ``calibration_curve`` rule, see :mod:`casekit.metrics.calibration`).
        class_names: K names (multiclass).

    Returns:
        A Figure with two Axes: reliability (top) and images per bin (bottom).

    Raises:
        ValueError: for probabilities outside [0, 1] or mismatched shapes.
    """
    prob = np.asarray(y_prob, dtype=float)
    if prob.ndim == 2 and prob.shape[1] > 2:
        names = class_name_list(class_names, prob.shape[1])
        y, prob = multiclass_inputs(y_true, prob, names)
        result = confidence_calibration(y, prob, n_bins=n_bins)
        bins, ece = result["bins"], result["ece"]
        xlabel, ylabel = "confidence (top probability)", "accuracy"
    else:
        bins = reliability_curve(y_true, prob, n_bins=n_bins)
        ece = expected_calibration_error(y_true, prob, n_bins=n_bins)
        xlabel, ylabel = "predicted probability", "observed frequency"
    fig = NotebookFigure(figsize=(5.5, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    centres = (bins["bin_low"] + bins["bin_high"]) / 2
    width = 1 / n_bins
    top.bar(centres, bins["observed"].fillna(0), width=width, edgecolor="black",
            color="#4575b4", alpha=0.7, label="observed")
    top.plot([0, 1], [0, 1], color="grey", ls=":", label="perfect calibration")
    top.plot(bins["mean_predicted"], bins["observed"], "o-", color=WRONG, ms=4,
             label="mean predicted vs observed")
    top.set(ylabel=ylabel, xlim=(0, 1), ylim=(0, 1), title=f"Reliability diagram, ECE = {ece:.3f}")
    top.legend(fontsize=8, loc="upper left")
    bottom.bar(centres, bins["n"], width=width, color="#999999", edgecolor="black")
    bottom.set(xlabel=xlabel, ylabel="images")
    return fig


def _unit(groups) -> str:
    return "bootstrap over images" if groups is None else "bootstrap over patients/lesions"
