"""Alarms for a model that learnt nothing, and for images already scaled to ``[0, 1]``.

A model that learnt nothing still produces numbers: a frozen *random* backbone gives every
image the same score to the fifth decimal place, and the metrics computed from those scores
(an "AUROC" decided by rounding noise, sensitivity 1.000 with specificity 0.000) look like
results. These checks say so in words, with the likely causes, before anyone reads the
metrics.

Example:
    >>> import numpy as np
    >>> print(degenerate_model_warning(np.full(100, 0.5012))[:40])
    The model has not learnt: its scores va
    >>> degenerate_model_warning(np.linspace(0.05, 0.95, 100)) is None
    True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

#: Scores whose whole range is narrower than this are noise, not a ranking.
MIN_SCORE_SPREAD = 1e-3

#: Share of images given one class above which a model is said to predict one class only.
ONE_CLASS_SHARE = 0.98

LIKELY_CAUSES = (
    "a frozen backbone with random weights (check which weights the run used)",
    "images divided by 255 before a model that expects [0, 255] pixels",
    "a learning rate far too high or too low",
    "too few epochs or too few training images",
)


class ScaledInputWarning(UserWarning):
    """Images given to a casekit model look already scaled to ``[0, 1]``."""


def _causes() -> str:
    return "Likely causes: " + "; ".join(LIKELY_CAUSES) + "."


def degenerate_model_warning(
    y_score: np.ndarray | Sequence[float], *, class_names: Sequence[str] | None = None
) -> str | None:
    """A warning text when predictions show that a model learnt nothing, else ``None``.

    Args:
        y_score: shape ``(N,)`` probabilities of the positive class (binary) or
            ``(N, K)`` class probabilities (multiclass).
        class_names: names of the classes, for the message (default: class indices).

    Returns:
        ``None`` for a model whose scores vary and whose predicted classes vary; otherwise a
        paragraph naming what is wrong (scores spread below :data:`MIN_SCORE_SPREAD`, or one
        class predicted for more than :data:`ONE_CLASS_SHARE` of the images) and its likely
        causes.

    Raises:
        ValueError: when ``y_score`` is empty or has more than two dimensions.

    Example:
        >>> import numpy as np
        >>> text = degenerate_model_warning(np.tile([0.1, 0.7, 0.2], (50, 1)),
        ...                                 class_names=["ACK", "BCC", "MEL"])
        >>> "BCC" in text
        True
    """
    scores = np.asarray(y_score, dtype=np.float64)
    if scores.size == 0 or scores.ndim > 2:
        raise ValueError(
            f"y_score must be a non-empty (N,) or (N, K) array, got shape {scores.shape}."
        )
    n = len(scores)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    spread = float(np.ptp(scores, axis=0).max())
    if spread < MIN_SCORE_SPREAD:
        return (
            f"The model has not learnt: its scores vary by only {spread:.1e} over {n} images "
            f"(less than {MIN_SCORE_SPREAD:g}), so every metric computed from them is noise. "
            + _causes()
        )
    if scores.ndim == 1:
        predicted = (scores >= 0.5).astype(int)
        names = list(class_names) if class_names is not None else ["0", "1"]
    else:
        predicted = scores.argmax(axis=1)
        names = (list(class_names) if class_names is not None
                 else [str(i) for i in range(scores.shape[1])])
    counts = np.bincount(predicted, minlength=len(names))
    top = int(counts.argmax())
    share = counts[top] / n
    if share > ONE_CLASS_SHARE:
        threshold_note = (
            " at the 0.5 threshold; the ranking (AUROC) may still carry signal, but a "
            "threshold must be chosen on validation data" if scores.ndim == 1 else ""
        )
        return (
            f"The model predicts one class, {names[top]}, for {counts[top]} of {n} images "
            f"({share:.0%}){threshold_note}. Per-class metrics then describe the label mix, "
            "not the model. " + _causes()
        )
    return None


_warned_scaled = False


def warn_if_scaled(images: np.ndarray) -> None:
    """Warn once per session when a float image batch has maximum ≤ 1.0.

    casekit models take pixels in ``[0, 255]`` and normalise inside; a batch already divided
    by 255 looks almost black to them and the model silently learns nothing. ``uint8``
    batches (the image cache) are never scaled and are not checked.

    Example:
        >>> import numpy as np
        >>> warn_if_scaled(np.zeros((2, 8, 8, 3), dtype="uint8"))   # uint8: nothing to say
    """
    global _warned_scaled
    array = np.asarray(images)
    if _warned_scaled or not np.issubdtype(array.dtype, np.floating) or array.size == 0:
        return
    if float(np.max(array)) <= 1.0:
        _warned_scaled = True
        warnings.warn(
            "These images have maximum <= 1.0: they look already scaled to [0, 1]. casekit "
            "models expect pixels in [0, 255] and normalise inside; dividing by 255 first is "
            "the classic silent failure (the network sees almost black images). Pass the "
            "cache's uint8 images unchanged.",
            ScaledInputWarning,
            stacklevel=3,
        )
