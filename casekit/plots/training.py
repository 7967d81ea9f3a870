"""Training curves of the two fine-tuning stages (notebooks 02 and 03)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from casekit.history import merge_histories, stage_lengths
from casekit.plots.figure import (
    NotebookFigure,
)

#: History keys that are not metrics (learning-rate schedules).
_NOT_METRICS = ("lr", "learning_rate")


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


def _metric_names(log: Mapping[str, Sequence[float]]) -> list[str]:
    names = [k for k in log if not k.startswith("val_") and k not in _NOT_METRICS]
    return sorted(names, key=lambda name: (name != "loss", name))
