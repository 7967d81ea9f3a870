"""Two-stage transfer learning: train the new head on a frozen backbone, then fine-tune its top.

Stage 1 (:func:`freeze_backbone`): the pretrained backbone is frozen and only the new head
learns, at a high learning rate (1e-3). A random head would otherwise send large gradients
into the pretrained filters and wreck them.

Stage 2 (:func:`unfreeze_top`): the last blocks of the backbone (the most task-specific
features) are unfrozen and everything is trained at a small rate (1e-5…1e-4) after
:func:`recompile` — in Keras a change of ``trainable`` only takes effect after compiling.

BatchNormalization layers stay frozen throughout: their running mean/variance hold ImageNet
statistics, and letting small, skin-only batches overwrite them destroys what the backbone
learnt. Calling the backbone with ``training=False`` is not enough on its own in Keras 3:
``fit`` calls the model with ``training=True``, which reaches nested layers, so only
``BatchNormalization.trainable = False`` reliably freezes their statistics.

Example:
    >>> from casekit.models import build_model
    >>> model = build_model("EfficientNetB0", input_size=32, weights=None)
    >>> model = freeze_backbone(model)
    >>> model = unfreeze_top(model, from_block="block7")
    >>> "trainable" in trainable_summary(model)
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras

from casekit.models import backbone_of


def _backbone(model: keras.Model) -> keras.Model:
    backbone = backbone_of(model)
    if backbone is None:
        raise ValueError(
            f"Model {model.name!r} has no pretrained backbone to freeze or unfreeze "
            "(a from-scratch model such as build_baseline_cnn trains all its layers)."
        )
    return backbone


def freeze_backbone(model: keras.Model) -> keras.Model:
    """Freeze every layer of the backbone; the head stays trainable. Recompile afterwards."""
    _backbone(model).trainable = False
    return model


def unfreeze_top(
    model: keras.Model, from_block: str = "block6", n_layers: int | None = None
) -> keras.Model:
    """Unfreeze the top of the backbone, keeping every BatchNormalization layer frozen.

    Args:
        model: a model from :func:`casekit.models.build_model`.
        from_block: unfreeze from the first backbone layer whose name starts with this prefix
            to the end. EfficientNet names its blocks ``block1a`` … ``block7a`` followed by
            ``top_conv`` / ``top_bn``, so ``"block6"`` unfreezes blocks 6 and 7 and the top
            convolution. (MobileNetV2 uses ``block_1`` … ``block_16``, ResNet50 ``conv5_…``.)
        n_layers: instead of a block name, unfreeze the last ``n_layers`` backbone layers.

    Recompile (see :func:`recompile`) before training again.
    """
    backbone = _backbone(model)
    names = [layer.name for layer in backbone.layers]
    if n_layers is not None:
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}.")
        start = max(len(names) - n_layers, 0)
    else:
        start = next((i for i, name in enumerate(names) if name.startswith(from_block)), None)
        if start is None:
            prefixes = sorted({name.split("_")[0] for name in names})
            raise ValueError(
                f"No layer of backbone {backbone.name!r} starts with {from_block!r}. "
                f"Name prefixes there: {prefixes[:12]}… — or pass n_layers=20 instead."
            )
    backbone.trainable = True  # a frozen container would override its layers' flags
    for i, layer in enumerate(backbone.layers):
        batch_norm = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= start and not batch_norm
    return model


def _count(weights: Sequence[Any]) -> int:
    return int(sum(math.prod(w.shape) for w in weights))


def trainable_summary(model: keras.Model) -> str:
    """One line: how many parameters will learn and how many are frozen.

    Example:
        >>> from casekit.models import build_baseline_cnn
        >>> trainable_summary(build_baseline_cnn(input_size=32, filters=(8,), augment=False))
        'baseline_cnn: 833 trainable, 32 frozen parameters (96.3% trainable)'
    """
    trainable = _count(model.trainable_weights)
    frozen = _count(model.non_trainable_weights)
    share = trainable / max(trainable + frozen, 1)
    return (
        f"{model.name}: {trainable:,} trainable, {frozen:,} frozen parameters "
        f"({share:.1%} trainable)"
    )


def recompile(
    model: keras.Model,
    learning_rate: float,
    loss: Any = None,
    metrics: list[Any] | None = None,
) -> keras.Model:
    """Compile ``model`` again with a new learning rate, keeping its loss and metrics.

    The optimizer is a fresh copy of the one used before (same class and settings, new
    ``learning_rate``); ``loss`` / ``metrics`` replace the previous ones when given.
    Weights are untouched. The loss and metrics given to ``compile`` are reused as they
    are (functions and objects alike): rebuilding them from their serialised names fails
    for a plain function such as a student's focal loss or metric (keras-team/keras#3911).

    Example:
        >>> import keras
        >>> def hits(y_true, y_pred):
        ...     return keras.ops.mean(keras.ops.equal(y_true, keras.ops.round(y_pred)))
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse", metrics=[hits])
        >>> recompile(model, 1e-5).optimizer.__class__.__name__
        'Adam'
    """
    config = model.get_compile_config()
    if not config:
        raise ValueError(
            f"Model {model.name!r} was never compiled: call model.compile(...) first."
        )
    # What compile() was given, as given (Keras keeps it in a SerializableDict's .config).
    given = dict(model._compile_config.config)
    optimizer = keras.saving.deserialize_keras_object(config["optimizer"])
    settings = {**given, "optimizer": optimizer.__class__.from_config(
        {**optimizer.get_config(), "learning_rate": float(learning_rate)})}
    if loss is not None:
        settings["loss"] = loss
    if metrics is not None:
        settings["metrics"] = metrics
    model.compile(**settings)
    return model
