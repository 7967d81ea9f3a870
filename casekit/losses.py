"""Focal loss: cross-entropy that pays less attention to examples the model already gets right.

Cross-entropy charges ``-log(p_t)`` per image, where ``p_t`` is the probability the model
gives to the true class. Focal loss (Lin et al., 2017) multiplies it by ``(1 - p_t) ** gamma``:
an easy image (``p_t = 0.95``) then costs ``0.05 ** 2 = 400`` times less at ``gamma = 2``,
so the many easy benign moles stop drowning the few hard melanomas. ``gamma = 0`` gives
back plain cross-entropy exactly (the tests check this against ``keras.losses``).
``alpha`` additionally weights classes, like ``class_weight`` in ``model.fit``.

Both losses take probabilities (the casekit models end in sigmoid / softmax), work on every
Keras backend (only ``keras.ops``), and are registered with Keras, so a model saved with
them loads again with ``keras.models.load_model`` once ``casekit.losses`` is imported.

Example:
    >>> import numpy as np
    >>> loss = BinaryFocalLoss(gamma=2.0)
    >>> easy, hard = float(loss([1.0], [0.95])), float(loss([1.0], [0.30]))
    >>> hard > 100 * easy
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops


def _clip(p: Any) -> Any:
    eps = keras.config.epsilon()
    return ops.clip(p, eps, 1.0 - eps)


@keras.saving.register_keras_serializable(package="casekit")
class BinaryFocalLoss(keras.losses.Loss):
    """Focal loss for one sigmoid output (two classes); labels 0/1 of shape ``(N,)`` or ``(N, 1)``.

    Args:
        gamma: focusing strength; 0 is binary cross-entropy, 2 the usual choice.
        alpha: weight of the positive class (label 1) between 0 and 1, negatives get
            ``1 - alpha``; ``None`` weights both classes equally.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | None = None,
        name: str = "binary_focal_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}.")
        if alpha is not None and not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}.")
        self.gamma = float(gamma)
        self.alpha = None if alpha is None else float(alpha)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = _clip(ops.cast(y_pred, "float32"))
        y_true = ops.reshape(ops.cast(y_true, "float32"), ops.shape(y_pred))
        cross_entropy = -(y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred))
        p_true = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
        loss = ops.power(1.0 - p_true, self.gamma) * cross_entropy
        if self.alpha is not None:
            loss = loss * (y_true * self.alpha + (1.0 - y_true) * (1.0 - self.alpha))
        return ops.mean(loss, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="casekit")
class CategoricalFocalLoss(keras.losses.Loss):
    """Focal loss for a softmax output; labels as class indices ``(N,)`` or one-hot ``(N, C)``.

    Args:
        gamma: focusing strength; 0 is categorical cross-entropy.
        alpha: one weight per class (e.g. the values of :func:`casekit.imbalance.class_weights`
            in class order), or one number for all classes; ``None`` for no weighting.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | None = None,
        name: str = "categorical_focal_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}.")
        self.gamma = float(gamma)
        if alpha is None or isinstance(alpha, (int, float)):
            self.alpha = alpha if alpha is None else float(alpha)
        else:
            self.alpha = [float(a) for a in alpha]

    def _one_hot(self, y_true: Any, num_classes: int) -> Any:
        if len(y_true.shape) >= 2 and y_true.shape[-1] == num_classes:
            return ops.cast(y_true, "float32")  # already one-hot
        indices = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        return ops.one_hot(indices, num_classes, dtype="float32")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = ops.cast(y_pred, "float32")
        num_classes = y_pred.shape[-1]
        if isinstance(self.alpha, list) and len(self.alpha) != num_classes:
            raise ValueError(
                f"alpha has {len(self.alpha)} weights but the model predicts {num_classes} "
                "classes: give one weight per class."
            )
        y_pred = _clip(y_pred / ops.sum(y_pred, axis=-1, keepdims=True))
        y_true = self._one_hot(y_true, num_classes)
        loss = -y_true * ops.power(1.0 - y_pred, self.gamma) * ops.log(y_pred)
        if self.alpha is not None:
            loss = loss * ops.convert_to_tensor(self.alpha, dtype="float32")
        return ops.sum(loss, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma, "alpha": self.alpha}


def focal_loss(
    num_classes: int, gamma: float = 2.0, alpha: float | Sequence[float] | None = None
) -> keras.losses.Loss:
    """The focal loss that fits a casekit model with ``num_classes`` outputs.

    Example:
        >>> focal_loss(2).name, focal_loss(6).name
        ('binary_focal_loss', 'categorical_focal_loss')
    """
    if num_classes == 2:
        if alpha is not None and not isinstance(alpha, (int, float)):
            raise ValueError("For two classes alpha is one number: the weight of class 1.")
        return BinaryFocalLoss(gamma=gamma, alpha=alpha)
    return CategoricalFocalLoss(gamma=gamma, alpha=alpha)
