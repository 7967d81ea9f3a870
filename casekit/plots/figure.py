"""What every casekit figure shares: a Figure that renders itself, one-Axes set-up, names."""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Colours of a right and a wrong answer (image titles, the reliability curve).
CORRECT = "#1a9850"
WRONG = "#d73027"


class NotebookFigure(Figure):
    """A Figure that Jupyter shows as a PNG even when ``pyplot`` was never imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def figure_and_axes(ax: Axes | None = None, figsize=(6, 4)) -> tuple[Figure, Axes]:
    """``ax`` and its Figure, or a new :class:`NotebookFigure` with one Axes."""
    if ax is not None:
        return ax.figure, ax
    fig = NotebookFigure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def mark_no_data(ax: Axes, text: str) -> None:
    """Write ``text`` in the middle of an empty panel, without ticks."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def class_name_list(class_names, k: int) -> list[str]:
    """``class_names`` as K strings, or ``"0"`` … ``"K-1"``; a wrong count is an error."""
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"{len(names)} class names for {k} score columns")
    return names


def class_name(index, class_names) -> str:
    """The name of class ``index`` (the index itself without ``class_names``)."""
    return str(class_names[int(index)]) if class_names is not None else str(index)
