"""Figures of the data: classes, demographics (notebook 01).

Example:
    >>> fig = plot_class_distribution(["nv", "nv", "mel"])
    >>> fig.axes[0].get_title()
    'Class distribution (n = 3)'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from casekit.plots.figure import (
    NotebookFigure,
    figure_and_axes,
    mark_no_data,
)


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
    fig, ax = figure_and_axes(figsize=(7, 0.45 * len(counts) + 1.5))
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
        mark_no_data(histogram, "no age data")
        mark_no_data(violins, "no age data")
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
        mark_no_data(ax, "no sex column")
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
        mark_no_data(ax, "no body-site data")
        return
    sites = df["site"].dropna().astype(str).value_counts().head(top_sites)[::-1]
    ax.barh(sites.index, sites.to_numpy(), color="#4575b4")
    ax.set_xlabel("images")


def _skin_type_panel(ax: Axes, df: pd.DataFrame) -> None:
    skin = pd.to_numeric(df["skin_type"], errors="coerce") if "skin_type" in df else None
    if skin is None or skin.isna().all():
        mark_no_data(ax, "no skin-type data recorded")
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


def _roman(number: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI")[int(number) - 1]
