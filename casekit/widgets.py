"""Interactive views for notebooks: a threshold explorer and an error browser.

The widgets are thin: what they show is computed by pure functions
(:func:`threshold_stats`, :func:`threshold_intervals`, :func:`error_types`,
:func:`filter_images`) that can be called and tested without Jupyter. They use only
controls that exist in ipywidgets 7.7 (what Colab preloads) and 8 (FloatSlider, Dropdown,
BoundedIntText, HTML, HBox, VBox), and work under both; in Colab,
:func:`casekit.notebook.setup` enables the custom widget manager that ipywidgets 8 needs.

Example:
    >>> import numpy as np
    >>> explorer = threshold_explorer([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> explorer.children[0].value = 0.5
    >>> "sensitivity" in explorer.children[1].value
    True
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
from PIL import Image

from casekit.metrics import bootstrap_weights, percentile_ci, threshold_stats
from casekit.metrics.confusion import binary_counts, binary_rates
from casekit.metrics.inputs import binary_inputs

__all__ = [
    "error_types",
    "filter_images",
    "image_browser",
    "threshold_explorer",
    "threshold_intervals",
    "threshold_stats",
]

ALL = "all"
_RATES = ("sensitivity", "specificity", "ppv", "npv", "balanced_accuracy")
#: Upper bound on resamples × images held in memory by the explorer's bootstrap.
_MAX_CELLS = 5_000_000


# ------------------------------------------------------------------ threshold explorer
def threshold_intervals(weights: np.ndarray, y_true, y_score, threshold: float,
                        ci: float = 0.95) -> dict[str, tuple[float, float]]:
    """Bootstrap intervals of the rates at ``threshold`` from precomputed resample weights.

    ``weights`` comes from :func:`casekit.metrics.bootstrap_weights` (one row per
    resample), so moving the threshold costs one matrix product, not a new bootstrap.
    """
    y, s = binary_inputs(y_true, y_score)
    rates = binary_rates(**binary_counts(weights, y, s >= threshold))
    intervals = {}
    for name in _RATES:
        low, high, _ = percentile_ci(rates[name], ci=ci)
        intervals[name] = (float(low), float(high))
    return intervals


def threshold_explorer(y_true, y_score, groups=None, n_boot: int = 500, ci: float = 0.95,
                       seed: int = 0) -> widgets.VBox:
    """A threshold slider over a live confusion matrix, sensitivity, specificity, PPV, NPV.

    Intervals are bootstrap CIs (over ``groups``, i.e. patients or lesions, when given).
    Returns ``VBox([slider, html])``; display it as the last line of a notebook cell.
    """
    y, s = binary_inputs(y_true, y_score)
    n_boot = max(1, min(n_boot, _MAX_CELLS // len(y)))
    weights = np.concatenate(list(bootstrap_weights(len(y), groups, n_boot=n_boot, seed=seed)))
    low, high = (0.0, 1.0) if s.min() >= 0 and s.max() <= 1 else (float(s.min()), float(s.max()))
    slider = widgets.FloatSlider(
        value=(low + high) / 2, min=low, max=high, step=(high - low) / 200,
        description="threshold", readout_format=".3f", continuous_update=True,
        layout=widgets.Layout(width="60%"),
    )
    unit = "patients/lesions" if groups is not None else "images"
    view = widgets.HTML()

    def update(change=None) -> None:
        stats = threshold_stats(y, s, slider.value)
        intervals = threshold_intervals(weights, y, s, slider.value, ci)
        view.value = threshold_html(stats, intervals, f"{ci:.0%} CI, bootstrap over {unit}")

    slider.observe(update, names="value")
    update()
    return widgets.VBox([slider, view])


def threshold_html(stats: dict, intervals: dict | None = None, note: str = "") -> str:
    """The explorer's panel: a 2×2 confusion matrix and the rates (with intervals)."""
    intervals = intervals or {}
    cell = "padding:4px 10px;border:1px solid #ccc;text-align:right"
    matrix = (
        f"<table style='border-collapse:collapse'><tr><th></th><th style='{cell}'>called "
        f"negative</th><th style='{cell}'>called positive</th></tr>"
        f"<tr><th style='{cell}'>truly negative</th><td style='{cell}'>TN {stats['tn']}</td>"
        f"<td style='{cell}'>FP {stats['fp']}</td></tr>"
        f"<tr><th style='{cell}'>truly positive</th><td style='{cell}'>FN {stats['fn']}</td>"
        f"<td style='{cell}'>TP {stats['tp']}</td></tr></table>"
    )
    rows = []
    for name in _RATES:
        value = stats[name]
        text = "undefined" if np.isnan(value) else f"{value:.3f}"
        low, high = intervals.get(name, (np.nan, np.nan))
        if np.isfinite(low) and np.isfinite(high):
            text += f" ({low:.3f}–{high:.3f})"
        rows.append(f"<tr><td style='{cell}'>{name.replace('_', ' ')}</td>"
                    f"<td style='{cell}'>{text}</td></tr>")
    rates = f"<table style='border-collapse:collapse'>{''.join(rows)}</table>"
    caption = f"<p>threshold {stats['threshold']:.3f}: score ≥ threshold is called positive"
    caption += f"; {html.escape(note)}</p>" if note else "</p>"
    return f"{caption}<div style='display:flex;gap:24px'>{matrix}{rates}</div>"


# ------------------------------------------------------------------------ image browser
def error_types(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Per image: ``TP/FP/TN/FN`` for two classes (class 1 positive), else ``correct/wrong``.

    Example:
        >>> error_types([1, 0, 1, 0], [1, 1, 0, 0], 2).tolist()
        ['TP', 'FP', 'FN', 'TN']
    """
    y, pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y.shape != pred.shape:
        raise ValueError(f"y_true {y.shape} and y_pred {pred.shape} differ in length")
    if n_classes == 2:
        names = np.array([["TN", "FP"], ["FN", "TP"]])
        return names[y, pred]
    return np.where(y == pred, "correct", "wrong")


def filter_images(df: pd.DataFrame, class_names: Sequence[str], true_class: str | None = None,
                  pred_class: str | None = None, error_type: str | None = None) -> np.ndarray:
    """Row positions of ``df`` matching a true class, a predicted class and an error type.

    ``df`` needs integer columns ``y_true`` and ``y_pred`` (class indices into
    ``class_names``); ``None`` or ``"all"`` leaves a filter off.

    Example:
        >>> frame = pd.DataFrame({"y_true": [0, 1, 1], "y_pred": [0, 0, 1]})
        >>> filter_images(frame, ["benign", "cancer"], error_type="FN").tolist()
        [1]
    """
    names = [str(name) for name in class_names]
    missing = {"y_true", "y_pred"} - set(df.columns)
    if missing:
        raise KeyError(f"df needs columns {sorted(missing)} (class indices); e.g. "
                       "df['y_pred'] = proba.argmax(axis=1)")
    y = df["y_true"].to_numpy(dtype=int)
    pred = df["y_pred"].to_numpy(dtype=int)
    keep = np.ones(len(df), dtype=bool)
    if true_class not in (None, ALL):
        keep &= y == _index(names, true_class)
    if pred_class not in (None, ALL):
        keep &= pred == _index(names, pred_class)
    if error_type not in (None, ALL):
        valid = _kinds(len(names))
        if error_type not in valid:
            raise ValueError(f"unknown error type {error_type!r}; choose from {valid}")
        keep &= error_types(y, pred, len(names)) == error_type
    return np.flatnonzero(keep)


def image_browser(images, df: pd.DataFrame, class_names: Sequence[str],
                  page_size: int = 12, thumbnail: int = 128) -> widgets.VBox:
    """Browse images by true class, predicted class and error type, a page at a time.

    ``images`` is a uint8 array (n, H, W, 3) in the row order of ``df``, which needs
    ``y_true`` and ``y_pred`` columns (and may have ``image_id``). Returns
    ``VBox([HBox([true, predicted, error, page]), summary, gallery])``.
    """
    batch = np.asarray(images)
    if batch.ndim != 4 or len(batch) != len(df):
        raise ValueError(f"images must be (n, height, width, 3) with n = len(df) = {len(df)}, "
                         f"got {batch.shape}")
    names = [str(name) for name in class_names]
    kinds = _kinds(len(names))
    true_box = widgets.Dropdown(options=[ALL, *names], description="true")
    pred_box = widgets.Dropdown(options=[ALL, *names], description="predicted")
    kind_box = widgets.Dropdown(options=[ALL, *kinds], description="error type")
    page_box = widgets.BoundedIntText(value=1, min=1, max=1, description="page")
    summary = widgets.HTML()
    gallery = widgets.HTML()
    thumbnails: dict[int, str] = {}

    def update(change=None) -> None:
        rows = filter_images(df, names, true_box.value, pred_box.value, kind_box.value)
        pages = max(1, int(np.ceil(len(rows) / page_size)))
        page_box.max = pages
        page = min(page_box.value, pages)
        shown = rows[(page - 1) * page_size : page * page_size]
        summary.value = f"<p>{len(rows)} images match; page {page} of {pages}</p>"
        cards = []
        for row in shown:
            if row not in thumbnails:
                thumbnails[row] = _png_data_uri(batch[row], thumbnail)
            cards.append(_card(df.iloc[row], names, thumbnails[row]))
        gallery.value = f"<div style='display:flex;flex-wrap:wrap;gap:8px'>{''.join(cards)}</div>"

    def new_filter(change) -> None:
        if page_box.value != 1:
            page_box.value = 1  # triggers update
        else:
            update()

    for box in (true_box, pred_box, kind_box):
        box.observe(new_filter, names="value")
    page_box.observe(update, names="value")
    update()
    controls = widgets.HBox([true_box, pred_box, kind_box, page_box])
    return widgets.VBox([controls, summary, gallery])


def _kinds(n_classes: int) -> list[str]:
    return ["TP", "FP", "TN", "FN"] if n_classes == 2 else ["correct", "wrong"]


def _index(names: list[str], name: str) -> int:
    if name not in names:
        raise ValueError(f"unknown class {name!r}; classes are {names}")
    return names.index(name)


def _png_data_uri(image: np.ndarray, size: int) -> str:
    picture = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    picture.thumbnail((size, size))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _card(row: pd.Series, names: list[str], uri: str) -> str:
    true, pred = names[int(row["y_true"])], names[int(row["y_pred"])]
    color = "#1a9850" if true == pred else "#d73027"
    title = html.escape(str(row["image_id"])) if "image_id" in row.index else ""
    return (
        f"<figure style='margin:0;text-align:center;font-size:11px'><img src='{uri}'>"
        f"<figcaption style='color:{color}'>{title}<br>true {html.escape(true)}<br>"
        f"pred {html.escape(pred)}</figcaption></figure>"
    )
