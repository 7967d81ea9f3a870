"""Two standard answers to class imbalance: weight the rare classes, or show them more often.

PAD-UFES-20 has 845 BCC but 52 melanoma images; HAM10000 6,705 nevi but 115 dermatofibromas.
A model minimising plain cross-entropy learns mostly the big classes. Two remedies:

* **Class weights** (:func:`class_weights`): each image's loss is multiplied by the weight of
  its class, ``n_images / (n_classes * n_images_of_class)`` (scikit-learn's "balanced"
  rule), so every class contributes the same total. Pass the dict to
  ``model.fit(class_weight=...)`` or :func:`casekit.training.fit`. Cheap; the rare images
  still come up rarely, so their gradient is larger but noisier.
* **Oversampling** (:func:`oversample_indices`): the rare images are repeated until every
  class is as frequent as the largest. Each epoch gets longer; because the augmentation
  layers are inside the model, each repeat is a different random flip/rotation/zoom, not an
  exact copy, which limits memorising. Give the indices to
  :func:`casekit.training.make_batches`. Oversample the TRAINING split only: validation and
  test sets must keep the real class frequencies.

Use one remedy, not both at once (that would correct the imbalance twice).

Example:
    >>> class_weights([0, 0, 0, 1])
    {0: 0.6666666666666666, 1: 2.0}
    >>> oversample_indices([0, 0, 0, 1], seed=0).tolist()
    [0, 1, 2, 3, 3, 3]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _as_labels(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"labels must be a non-empty 1-D sequence of class labels, got shape {labels.shape}."
        )
    return labels


def class_weights(labels: Sequence[Any] | np.ndarray) -> dict[Any, float]:
    """Balanced class weights ``{class: n / (k * n_class)}`` for the classes present in ``labels``.

    Same values as ``sklearn.utils.class_weight.compute_class_weight("balanced", ...)``;
    keys are plain Python values (``int`` for integer labels), as ``model.fit`` expects.
    """
    classes, counts = np.unique(_as_labels(labels), return_counts=True)
    total = counts.sum()
    return {
        cls.item(): float(total / (len(classes) * count))
        for cls, count in zip(classes, counts, strict=True)
    }


def oversample_indices(labels: Sequence[Any] | np.ndarray, seed: int = 0) -> np.ndarray:
    """Row indices in which every class appears as often as the largest class.

    Each original index appears at least once. A class with ``c`` images filled up to the
    majority count ``m`` repeats every image ``m // c`` times and draws the remaining
    ``m % c`` without replacement (seeded), so repeats are spread as evenly as possible.
    The result is sorted; :func:`casekit.training.make_batches` shuffles it every epoch.
    """
    labels = _as_labels(labels)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    target = counts.max()
    chosen = []
    for cls, count in zip(classes, counts, strict=True):
        members = np.flatnonzero(labels == cls)
        repeats, extra = divmod(target, count)
        chosen.append(np.tile(members, repeats))
        chosen.append(rng.choice(members, size=extra, replace=False))
    return np.sort(np.concatenate(chosen))
