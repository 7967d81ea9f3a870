"""Figures for the case study: data, training, evaluation and explanations.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` built without
``pyplot``'s global state: no ``plt.show()``, safe on a server without a display. In Jupyter
or Colab, end a cell with the figure to see it (it renders itself as PNG); save it with
:func:`save_figure`. The names say "plot": :func:`plot_roc` draws what
``sklearn.metrics.roc_curve`` computes. Data arguments come first, options are keyword-only.

Example:
    >>> fig = plot_class_distribution(["nv", "nv", "mel"])
    >>> fig.axes[0].get_title()
    'Class distribution (n = 3)'
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image
from sklearn import metrics as skm
from sklearn.metrics import ConfusionMatrixDisplay

from casekit.history import merge_histories, stage_lengths
from casekit.io import save_figure  # noqa: F401  (callers use plots.save_figure)
from casekit.metrics import (
    confidence_calibration,
    format_estimate,
    pr_curve_ci,
    reliability_curve,
    roc_curve_ci,
)
from casekit.metrics.calibration import expected_calibration_error
from casekit.metrics.inputs import multiclass_inputs

CORRECT = "#1a9850"
WRONG = "#d73027"
#: History keys that are not metrics (learning-rate schedules).
_NOT_METRICS = ("lr", "learning_rate")


class NotebookFigure(Figure):
    """A Figure that Jupyter shows as a PNG even when ``pyplot`` was never imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


# ----------------------------------------------------------------------------- data
def plot_class_distribution(
    labels: Sequence[str], *, order: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Horizontal bars of images per class, each labelled with its count and share.

    Args:
        labels: shape (n,) class name of each image.
        order: the classes shown, top to bottom (absent ones get 0); default: most
            frequent first.
        title: default ``"Class distribution (n = <n>)"``.

    Returns:
        A Figure with one Axes.
    """
    counts = pd.Series(np.asarray(labels, dtype=object)).value_counts()
    if order is not None:
        counts = counts.reindex(list(order), fill_value=0)
    total = int(counts.sum())
    fig, ax = _single(figsize=(7, 0.45 * len(counts) + 1.5))
    positions = np.arange(len(counts))[::-1]
    ax.barh(positions, counts.to_numpy(), color="#4575b4")
    ax.set_yticks(positions, [str(name) for name in counts.index])
    for y, count in zip(positions, counts.to_numpy(), strict=True):
        share = count / total if total else 0.0
        ax.text(count, y, f" {count:,} ({share:.1%})", va="center", fontsize=9)
    ax.set_xlim(0, max(1, counts.max()) * 1.3)
    ax.set_xlabel("images")
    ax.set_title(title or f"Class distribution (n = {total:,})")
    return fig


def plot_demographics(df: pd.DataFrame, *, label_column: str = "label",
                      top_sites: int = 10) -> Figure:
    """Six panels: age histogram, age by diagnosis, sex by diagnosis, body site, skin type,
    and missing values.

    Args:
        df: one row per image with the normalised columns ``age`` (years), ``sex``,
            ``site``, ``skin_type`` (Fitzpatrick 1-6); a panel whose column is absent or
            empty says so.
        label_column: the diagnosis column.
        top_sites: body sites shown (most frequent first).

    Returns:
        A Figure with six Axes.

    Raises:
        KeyError: when ``label_column`` is not a column of ``df``.
    """
    if label_column not in df.columns:
        raise KeyError(f"column {label_column!r} not in the DataFrame; pass label_column=...")
    fig = NotebookFigure(figsize=(15, 9), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    labels = df[label_column].astype(str)
    _age_panels(axes[0], axes[1], df, labels)
    _sex_panel(axes[2], df, labels)
    _site_panel(axes[3], df, top_sites)
    _skin_type_panel(axes[4], df)
    _missing_panel(axes[5], df)
    return fig


def _age_panels(histogram: Axes, violins: Axes, df: pd.DataFrame, labels: pd.Series) -> None:
    ages = pd.to_numeric(df["age"], errors="coerce") if "age" in df else pd.Series(dtype=float)
    if ages.notna().any():
        histogram.hist(ages.dropna(), bins=np.arange(0, 105, 5), color="#4575b4")
        _age_violins(violins, ages, labels)
    else:
        _no_data(histogram, "no age data")
        _no_data(violins, "no age data")
    histogram.set_title(f"Age ({int(ages.isna().sum())} missing)" if len(ages) else "Age")
    histogram.set_xlabel("age (years)")
    violins.set_title("Age by diagnosis")


def _age_violins(ax: Axes, ages: pd.Series, labels: pd.Series) -> None:
    import seaborn as sns  # imported here: only this panel needs it

    frame = pd.DataFrame({"age": ages.to_numpy(), "label": labels.to_numpy()}).dropna()
    order = sorted(frame["label"].unique())
    sns.violinplot(data=frame, x="age", y="label", order=order, ax=ax, cut=0,
                   inner="quartile", color="#91bfdb")
    ax.set(xlabel="age (years)", ylabel="")


def _sex_panel(ax: Axes, df: pd.DataFrame, labels: pd.Series) -> None:
    ax.set_title("Sex by diagnosis")
    if "sex" not in df:
        _no_data(ax, "no sex column")
        return
    table = pd.crosstab(labels, df["sex"].astype(object).fillna("missing"))
    shares = table.div(table.sum(axis=1), axis=0)
    left = np.zeros(len(shares))
    for column in shares.columns:
        ax.barh(shares.index, shares[column], left=left, label=str(column))
        left += shares[column].to_numpy()
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    ax.set_xlabel("share of images")


def _site_panel(ax: Axes, df: pd.DataFrame, top_sites: int) -> None:
    ax.set_title(f"Body site (top {top_sites})")
    if "site" not in df or df["site"].isna().all():
        _no_data(ax, "no body-site data")
        return
    sites = df["site"].dropna().astype(str).value_counts().head(top_sites)[::-1]
    ax.barh(sites.index, sites.to_numpy(), color="#4575b4")
    ax.set_xlabel("images")


def _skin_type_panel(ax: Axes, df: pd.DataFrame) -> None:
    skin = pd.to_numeric(df["skin_type"], errors="coerce") if "skin_type" in df else None
    if skin is None or skin.isna().all():
        _no_data(ax, "no skin-type data recorded")
        ax.set_title("Skin type")
        return
    counts = skin.dropna().astype(int).value_counts().reindex(range(1, 7), fill_value=0)
    ax.bar([_roman(t) for t in counts.index], counts.to_numpy(), color="#4575b4")
    for x, count in enumerate(counts.to_numpy()):
        ax.text(x, count, str(count), ha="center", va="bottom", fontsize=9)
    ax.set_xlabel("Fitzpatrick skin type")
    ax.set_title(f"Skin type ({int(skin.isna().sum())} missing)")


def _missing_panel(ax: Axes, df: pd.DataFrame) -> None:
    columns = [c for c in ("age", "sex", "site", "skin_type") if c in df]
    missing = df[columns].isna().mean() if columns else pd.Series(dtype=float)
    ax.barh(missing.index[::-1], missing.to_numpy()[::-1], color="#999999")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share missing")
    ax.set_title("Missing values")


# ------------------------------------------------------------------------- training
def plot_training_curves(history, *, metrics: Sequence[str] | None = None,
                         fine_tune_epoch: int | None = None) -> Figure:
    """Loss and metrics per epoch, training vs validation, one panel each.

    Args:
        history: a Keras ``History``, its ``.history`` dict, or a list of them (head
            training, then fine-tuning), joined with :func:`casekit.history.merge_histories`.
        metrics: the names to plot (default: every logged metric but the learning rate).
        fine_tune_epoch: epochs before fine-tuning started (the ``initial_epoch`` of the
            second ``fit``); taken from the first history's length when a list is given.
            A dotted line marks it.

    Returns:
        A Figure with one Axes per metric.

    Raises:
        KeyError: when a requested metric was not logged.
    """
    log = merge_histories(history)
    stages = stage_lengths(history)
    if fine_tune_epoch is None and len(stages) > 1:
        fine_tune_epoch = stages[0]
    names = list(metrics) if metrics else _metric_names(log)
    missing = [name for name in names if name not in log]
    if missing or not names:
        raise KeyError(f"history has no {missing or 'metrics'}; keys are {sorted(log)}")
    fig = NotebookFigure(figsize=(5 * len(names), 3.8), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in log:
                values = np.asarray(log[key], dtype=float)
                label = "validation" if key.startswith("val_") else "training"
                ax.plot(np.arange(1, len(values) + 1), values, style, marker="o", ms=3,
                        label=label)
        if fine_tune_epoch:
            ax.axvline(fine_tune_epoch + 0.5, color="grey", ls=":", label="fine-tuning starts")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend(fontsize=8)
    return fig


# ----------------------------------------------------------------------- evaluation
def _one_vs_rest(y_true, scores: np.ndarray, class_names: Sequence[str] | None):
    """Yield ``(class name, 0/1 target, that class's scores)`` for every class that has
    both positives and negatives (a curve needs both)."""
    y = np.asarray(y_true)
    for k, name in enumerate(_class_names(class_names, scores.shape[1])):
        target = (y == k).astype(int)
        if 0 < target.sum() < len(y):
            yield name, target, scores[:, k]


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
    fig, ax = _single(ax=ax, figsize=(5.5, 5))
    scores = np.asarray(y_score, dtype=float)
    if scores.ndim == 2 and scores.shape[1] > 2:
        for name, target, score in _one_vs_rest(y_true, scores, class_names):
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
    fig, ax = _single(ax=ax, figsize=(5.5, 5))
    scores = np.asarray(y_score, dtype=float)
    if scores.ndim == 2 and scores.shape[1] > 2:
        for name, target, score in _one_vs_rest(y_true, scores, class_names):
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
        names = _class_names(class_names, prob.shape[1])
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


# --------------------------------------------------------------------------- images
def plot_image_grid(images, y_true, y_pred=None, *, class_names: Sequence[str] | None = None,
                    ncols: int = 6, max_images: int = 24) -> Figure:
    """Images with their true (and predicted) labels; green when right, red when wrong.

    Args:
        images: shape (n, H, W, 3) pixels in [0, 255] (uint8 or float).
        y_true, y_pred: shape (n,) class indices (``y_pred`` optional).
        class_names: names for the indices (default: the indices).
        ncols, max_images: grid width, and how many images at most.

    Returns:
        A Figure with one Axes per grid cell.

    Raises:
        ValueError: when the lengths differ or ``images`` is not (n, H, W, C).
    """
    batch = _as_uint8_batch(images)
    y = np.asarray(y_true)
    pred = None if y_pred is None else np.asarray(y_pred)
    if len(y) != len(batch) or (pred is not None and len(pred) != len(batch)):
        raise ValueError("images, y_true and y_pred must have the same length")
    n = min(len(batch), max_images)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig = NotebookFigure(figsize=(2.2 * ncols, 2.5 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(batch[i])
        title = f"true: {_name(y[i], class_names)}"
        color = "black"
        if pred is not None:
            title += f"\npred: {_name(pred[i], class_names)}"
            color = CORRECT if pred[i] == y[i] else WRONG
        ax.set_title(title, color=color, fontsize=9)
    return fig


def plot_gradcam(images, heatmaps, *, titles: Sequence[str] | None = None,
                 alpha: float = 0.45, cmap: str = "jet") -> Figure:
    """Each image above its Grad-CAM heatmap overlay (heatmaps resized to fit).

    Args:
        images: shape (n, H, W, 3) uint8 pixels (or one (H, W, 3) image).
        heatmaps: shape (n, h, w) floats in [0, 1], e.g. from :func:`casekit.gradcam.gradcam`.
        titles: n strings, one above each column.
        alpha, cmap: the overlay's opacity (0-1) and matplotlib colour map.

    Returns:
        A Figure with 2 × n Axes.

    Raises:
        ValueError: when the counts differ or heatmaps are not finite values in [0, 1].
    """
    batch = _as_uint8_batch(images)
    maps = np.asarray(heatmaps, dtype=float)
    maps = maps[None] if maps.ndim == 2 else maps
    if maps.ndim != 3 or len(maps) != len(batch):
        raise ValueError(f"need one 2-D heatmap per image: images {batch.shape}, "
                         f"heatmaps {maps.shape}")
    if not np.isfinite(maps).all() or maps.min() < -1e-6 or maps.max() > 1 + 1e-6:
        raise ValueError("heatmaps must be finite values in [0, 1]; normalise them first")
    if titles is not None and len(titles) != len(batch):
        raise ValueError(f"{len(titles)} titles for {len(batch)} images")
    n = len(batch)
    fig = NotebookFigure(figsize=(2.6 * n, 5.4), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for i in range(n):
        height, width = batch[i].shape[:2]
        heat = _resize(maps[i], (width, height))
        axes[0, i].imshow(batch[i])
        axes[1, i].imshow(batch[i])
        axes[1, i].imshow(heat, cmap=cmap, alpha=alpha, vmin=0, vmax=1)
        for ax in axes[:, i]:
            ax.axis("off")
        if titles is not None:
            axes[0, i].set_title(str(titles[i]), fontsize=9)
    return fig


# -------------------------------------------------------------------------- helpers
def _single(ax: Axes | None = None, figsize=(6, 4)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = NotebookFigure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def _roman(number: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI")[int(number) - 1]


def _metric_names(log: Mapping[str, Sequence[float]]) -> list[str]:
    names = [k for k in log if not k.startswith("val_") and k not in _NOT_METRICS]
    return sorted(names, key=lambda name: (name != "loss", name))


def _unit(groups) -> str:
    return "bootstrap over images" if groups is None else "bootstrap over patients/lesions"


def _class_names(class_names, k: int) -> list[str]:
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"{len(names)} class names for {k} score columns")
    return names


def _name(index, class_names) -> str:
    return str(class_names[int(index)]) if class_names is not None else str(index)


def _as_uint8_batch(images) -> np.ndarray:
    batch = np.asarray(images)
    batch = batch[None] if batch.ndim == 3 else batch
    if batch.ndim != 4 or batch.shape[-1] not in (1, 3, 4):
        raise ValueError(f"images must be (n, height, width, channels), got {batch.shape}")
    if batch.dtype != np.uint8:
        batch = np.clip(batch, 0, 255).astype(np.uint8)  # pixel values in [0, 255], not [0, 1]
    return batch[..., 0] if batch.shape[-1] == 1 else batch


def _resize(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if heatmap.shape[::-1] == size:
        return heatmap
    image = Image.fromarray(heatmap.astype(np.float32))  # 32-bit float image, mode "F"
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR)).clip(0, 1)
