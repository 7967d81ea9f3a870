"""Figures of images: a labelled grid and Grad-CAM overlays (notebooks 02 and 04)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from casekit.plots.figure import (
    CORRECT,
    WRONG,
    NotebookFigure,
    class_name,
)


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
        title = f"true: {class_name(y[i], class_names)}"
        color = "black"
        if pred is not None:
            title += f"\npred: {class_name(pred[i], class_names)}"
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
