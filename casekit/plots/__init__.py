"""Figures for the case study, one module per kind: :mod:`~casekit.plots.data` (classes,
demographics), :mod:`~casekit.plots.training` (training curves),
:mod:`~casekit.plots.evaluation` (ROC, PR, confusion matrix, reliability) and
:mod:`~casekit.plots.images` (image grid, Grad-CAM); all are importable from here.

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

from casekit.io import save_figure
from casekit.plots.data import plot_class_distribution, plot_demographics
from casekit.plots.evaluation import (
    plot_confusion_matrix,
    plot_pr,
    plot_reliability_diagram,
    plot_roc,
)
from casekit.plots.figure import NotebookFigure
from casekit.plots.images import plot_gradcam, plot_image_grid
from casekit.plots.training import plot_training_curves

__all__ = [
    "NotebookFigure", "plot_class_distribution", "plot_confusion_matrix", "plot_demographics",
    "plot_gradcam", "plot_image_grid", "plot_pr", "plot_reliability_diagram", "plot_roc",
    "plot_training_curves", "save_figure",
]
