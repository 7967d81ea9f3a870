"""Grad-CAM: which part of the image pushed the model towards a class?

Grad-CAM (Selvaraju et al., 2017) looks at the last convolutional feature map ``A`` (for
EfficientNet ``top_activation``: 1280 channels on a 7×7 grid at 224 px). It asks how much the
class score would grow if each channel grew (the gradient ``dscore/dA``), averages that over
the grid to get one importance weight per channel, and sums the channels with those weights.
Negative evidence is cut off (ReLU) and the map is scaled to ``[0, 1]``. The score is the
class logit, before sigmoid/softmax, as in the paper.

A heat map shows where the model looked, not why, and not that it looked at the right thing:
rulers, ink marks and hair can light up too. That is exactly what it is good at revealing.

The casekit models are a chain of layers with the backbone nested inside as one layer, so the
model is cut in two at the chosen layer: ``features(image) -> A`` and ``head(A) -> score``.
The gradient of ``head`` is the only backend-specific step (:func:`casekit.backend.
input_gradients`).

Example:
    >>> import numpy as np
    >>> from casekit.models import build_baseline_cnn
    >>> model = build_baseline_cnn(input_size=32, filters=(8, 16))
    >>> gradcam(model, np.zeros((2, 32, 32, 3), np.uint8)).shape
    (2, 32, 32)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from casekit.backend import compiled, input_gradients
from casekit.models import backbone_of

Fn = Callable[[Any], Any]


def _chain(layers: Sequence[keras.layers.Layer]) -> Fn:
    def run(x: Any) -> Any:
        for layer in layers:
            x = layer(x, training=False)
        return x

    return run


def _logits_chain(layers: Sequence[keras.layers.Layer]) -> Fn:
    """Like :func:`_chain`, but a final Dense layer with sigmoid/softmax stops at its logits."""
    last = layers[-1] if layers else None
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if not isinstance(last, keras.layers.Dense) or activation not in ("sigmoid", "softmax"):
        return _chain(layers)
    body = _chain(layers[:-1])

    def run(x: Any) -> Any:
        x = ops.cast(body(x), last.kernel.dtype)
        z = ops.matmul(x, last.kernel)
        return z + last.bias if last.use_bias else z

    return run


def _sources(node: Any) -> list[str]:
    """Names of the layers whose outputs feed a serialised call (``keras_history`` entries)."""
    if isinstance(node, dict):
        if "keras_history" in node:
            return [node["keras_history"][0]]
        return [name for value in node.values() for name in _sources(value)]
    if isinstance(node, (list, tuple)):
        return [name for value in node for name in _sources(value)]
    return []


def _names(entries: list) -> list[str]:
    """Layer names of a config's ``input_layers``/``output_layers`` (one triple or a list)."""
    if entries and isinstance(entries[0], str):
        entries = [entries]
    return [entry[0] for entry in entries]


def _bypassed(model: keras.Model, layer_name: str) -> bool:
    """True when a path from the model's inputs to its outputs avoids layer ``layer_name``.

    Read from the model's config (the same format in every Keras 3 release), so the answer
    does not depend on how a Keras version fails when asked for such a sub-model (a
    ``ValueError`` in Keras 3.15, a bare ``KeyError`` in 3.10).
    """
    config = model.get_config()
    sources = {entry["name"]: _sources(entry.get("inbound_nodes", []))
               for entry in config["layers"]}
    inputs = set(_names(config["input_layers"]))
    stack, seen = _names(config["output_layers"]), set()
    while stack:
        name = stack.pop()
        if name == layer_name or name in seen:
            continue
        if name in inputs:
            return True
        seen.add(name)
        stack.extend(sources.get(name, []))
    return False


def layer_chain(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, after checking each one feeds only the next.

    Grad-CAM runs the layers one after the other, so it needs a chain: no branches, no
    skip connections at the top level (inside the backbone they are fine).
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers
    previous = None
    for entry in model.get_config()["layers"]:
        sources = _sources(entry.get("inbound_nodes", []))
        if previous is not None and sources != [previous]:
            raise ValueError(
                f"Layer {entry['name']!r} of {model.name!r} takes {sources} instead of only "
                f"{previous!r}: Grad-CAM here needs a plain chain of layers, as casekit builds."
            )
        previous = entry["name"]
    return layers


def default_layer(model: keras.Model) -> str:
    """Name of the layer Grad-CAM uses by default.

    With a backbone: its last layer (``top_activation`` for EfficientNet, ``out_relu`` for
    MobileNetV2). Without one: the last layer with a 4-D output that is not pooling.
    """
    backbone = backbone_of(model)
    if backbone is not None:
        return backbone.layers[-1].name
    for layer in reversed(layer_chain(model)):
        pooling = "Pooling" in type(layer).__name__
        if len(layer.output.shape) == 4 and not pooling:
            return layer.name
    raise ValueError(f"Model {model.name!r} has no convolutional feature map for Grad-CAM.")


def _split(model: keras.Model, layer_name: str) -> tuple[Fn, Fn]:
    """``features`` (image -> feature map at ``layer_name``) and ``head`` (map -> logits)."""
    chain = layer_chain(model)
    names = [layer.name for layer in chain]
    if layer_name in names:
        cut = names.index(layer_name) + 1
        return _chain(chain[:cut]), _logits_chain(chain[cut:])
    backbone = backbone_of(model)
    if backbone is None or layer_name not in [layer.name for layer in backbone.layers]:
        raise ValueError(f"Layer {layer_name!r} is neither in {model.name!r} nor its backbone.")
    position = chain.index(backbone)
    before, after = _chain(chain[:position]), _logits_chain(chain[position + 1 :])
    feature_map = backbone.get_layer(layer_name).output
    inner_features = keras.Model(backbone.inputs, feature_map)
    inner_rest = None  # the feature map is the backbone's output: nothing left inside
    if layer_name != backbone.layers[-1].name:
        if _bypassed(backbone, layer_name):
            raise ValueError(
                f"The backbone's output depends on more than layer {layer_name!r} (a skip "
                f"connection bypasses it), so Grad-CAM cannot start there. Use a layer at the "
                f"end of a block, e.g. the default {default_layer(model)!r}."
            )
        inner_rest = keras.Model(feature_map, backbone.outputs)

    def features(x: Any) -> Any:
        return inner_features(before(x), training=False)

    def head(a: Any) -> Any:
        return after(a if inner_rest is None else inner_rest(a, training=False))

    return features, head


def _class_gradients(head: Fn, a: np.ndarray, wanted: np.ndarray | None) -> np.ndarray:
    """Gradient of each image's class logit with respect to its feature map ``a``.

    The scores of a batch are summed before differentiating: image ``i``'s score depends
    only on ``a[i]`` (the model runs in inference mode), so the gradient of the sum with
    respect to ``a[i]`` is the gradient of score ``i``.
    """

    def score(t: Any) -> tuple[Any, Any]:
        z = ops.cast(head(t), "float32")
        if z.shape[-1] == 1:  # binary: class 1 scores +logit, class 0 scores -logit
            z = z[:, 0]
            positive = ops.cast(z >= 0, "float32") if wanted is None else wanted
            sign = 2.0 * ops.cast(positive, "float32") - 1.0
            return ops.sum(sign * z), z
        chosen = ops.argmax(z, axis=-1) if wanted is None else wanted
        return ops.sum(z * ops.one_hot(chosen, z.shape[-1], dtype="float32")), z

    grads, _ = input_gradients(score, a)
    return grads.astype(np.float32)


def gradcam(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | Sequence[int] | None = None,
    layer_name: str | None = None,
    upsample: bool = True,
    batch_size: int = 16,
) -> np.ndarray:
    """Grad-CAM heat maps in ``[0, 1]``, one per image.

    Args:
        model: a casekit model (sigmoid or softmax output).
        images: ``(N, size, size, 3)`` images in ``[0, 255]`` as fed to the model.
        class_index: class to explain: one for all images, one per image, or ``None`` for the
            predicted class of each image. For a binary model class 1 is the positive class
            (its score is the logit; class 0 uses minus the logit).
        layer_name: feature-map layer (in the model or its backbone); default
            :func:`default_layer`.
        upsample: resize the maps to the image size (bilinear); ``False`` keeps the
            feature-map grid, e.g. 7×7.
        batch_size: images per gradient computation.

    Returns:
        ``(N, size, size)`` (or ``(N, h, w)``) float32 maps; all zeros where no location
        supports the class.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, size, size, 3), got {images.shape}.")
    features, head = _split(model, layer_name or default_layer(model))
    features = compiled(features)
    classes = None if class_index is None else np.broadcast_to(class_index, (len(images),))
    maps = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        a = ops.convert_to_numpy(features(ops.convert_to_tensor(batch, "float32")))
        wanted = None if classes is None else classes[start : start + batch_size]
        grads = _class_gradients(head, a, wanted)
        weights = grads.mean(axis=(1, 2), keepdims=True)  # one weight per channel
        maps.append(np.maximum((weights * a.astype(np.float32)).sum(axis=-1), 0.0))
    cam = np.concatenate(maps).astype(np.float32)
    peak = cam.max(axis=(1, 2), keepdims=True)
    cam = np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)
    if upsample:
        resized = ops.image.resize(cam[..., None], images.shape[1:3], interpolation="bilinear")
        cam = np.clip(ops.convert_to_numpy(resized)[..., 0], 0.0, 1.0)
    return cam
