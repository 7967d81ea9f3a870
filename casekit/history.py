"""Training histories: the per-epoch logs of the two fine-tuning stages, joined into one.

Notebooks 02 and 03 train in two stages (the new head on a frozen backbone, then the top
blocks unfrozen); each ``fit`` call returns its own Keras ``History``. The run folder
(:mod:`casekit.runs`) and the training-curve plot (:mod:`casekit.plots.training`) want one
log with every epoch in order, and the plot marks where fine-tuning began.

Example:
    >>> merge_histories({"loss": [0.9, 0.7]}, None, {"loss": [0.5]})
    {'loss': [0.9, 0.7, 0.5]}
    >>> stage_lengths({"loss": [0.9, 0.7]}, None, {"loss": [0.5]})
    [2, 1]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_histories(*histories: Any) -> dict[str, list[float]]:
    """Join the per-epoch logs of successive ``fit`` calls (head, then fine-tuning) into one.

    Args:
        *histories: Keras ``History`` objects, their ``.history`` dicts, lists of either,
            or ``None`` (a stage that did not run; skipped).

    Returns:
        ``{name: [value per epoch]}`` with every stage's epochs in order, as floats. A key
        missing from one stage (e.g. no ``learning_rate`` logged) keeps the other stages'
        values.

    Raises:
        TypeError: when a part is not a History, a dict or ``None``.
        ValueError: when every part is ``None`` or empty.

    Example:
        >>> merge_histories({"loss": [0.9, 0.7]}, None, {"loss": [0.5]})
        {'loss': [0.9, 0.7, 0.5]}
    """
    merged: dict[str, list[float]] = {}
    for part in _flatten(histories):
        log = getattr(part, "history", part)
        if not isinstance(log, Mapping):
            raise TypeError("each history must be a keras History, its .history dict, or None; "
                            f"got {type(part).__name__}")
        for key, values in log.items():
            merged.setdefault(str(key), []).extend(float(v) for v in values)
    if not merged:
        raise ValueError("no training history to merge: every part is None or empty")
    return merged


def stage_lengths(*histories: Any) -> list[int]:
    """Epochs in each non-empty stage, e.g. ``[3, 2]`` for 3 head and 2 fine-tuning epochs."""
    lengths = []
    for part in _flatten(histories):
        log = getattr(part, "history", part)
        if isinstance(log, Mapping) and log:
            lengths.append(max(len(values) for values in log.values()))
    return lengths


def _flatten(histories) -> list:
    parts: list = []
    for part in histories:
        if isinstance(part, (list, tuple)):
            parts.extend(_flatten(part))
        elif part is not None:
            parts.append(part)
    return parts
