"""Frozen-backbone features: run a pretrained network once over cached images, keep the result.

A *linear probe* trains only a logistic regression on the pooled features of a frozen
pretrained backbone. It is the cheap half of the fine-tuning recipe (stage 1 of notebook
02 without augmentation) and fast enough to repeat for every fold of a cross-validation on
a CPU: the network runs once per image, the regressions take seconds. The features are
cached on disk, keyed by the pixels, the backbone, its weights and the image size, so a
second run (another fold, another notebook) reads them back.

Example:
    >>> import numpy as np
    >>> images = np.zeros((4, 32, 32, 3), dtype="uint8")
    >>> x = frozen_features(images, backbone="EfficientNetB0", weights=None,
    ...                     cache_dir=None, progress=False)  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (4, 1280)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from casekit.io import atomic_path
from casekit.paths import cache_root
from casekit.progress import tqdm

#: Bump when the way features are computed changes (invalidates old cache files).
FORMAT = 1


def feature_key(images: np.ndarray, backbone: str,
                weights: str | os.PathLike[str] | None) -> str:
    """A hex digest naming these pixels seen through this backbone and these weights.

    A weights *file* counts by its name, size and modification time, so replacing the file
    gives new features.
    """
    digest = hashlib.sha256(f"{FORMAT}|{backbone}|{images.shape}|{images.dtype}".encode())
    if weights is not None and weights != "imagenet" and Path(weights).is_file():
        stat = Path(weights).stat()
        digest.update(f"{Path(weights).name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    else:
        digest.update(str(weights).encode())
    for start in range(0, len(images), 256):  # a memory-mapped cache is read in chunks
        digest.update(np.ascontiguousarray(images[start:start + 256]).tobytes())
    return digest.hexdigest()


def feature_extractor(backbone: str, input_size: int,
                      weights: str | os.PathLike[str] | None):
    """``casekit.models.build_model``'s network cut after its global average pooling.

    Input: images (n, input_size, input_size, 3) with raw values in [0, 255]; output:
    (n, d) float32 features (d = 1,280 for EfficientNet-B0 and -Lite0). No augmentation,
    no dropout: the same image always gives the same features.
    """
    import keras

    from casekit.models import build_model

    model = build_model(backbone, num_classes=2, input_size=input_size, weights=weights,
                        dropout=0.0, augment=False)
    return keras.Model(model.input, model.get_layer("avg_pool").output,
                       name=f"{model.name}_features")


def frozen_features(
    images: np.ndarray,
    *,
    backbone: str = "EfficientNetLite0",
    weights: str | os.PathLike[str] | None = "imagenet",
    batch_size: int = 64,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Pooled features (n, d) float32 of a frozen ``backbone`` for ``images``, cached.

    Args:
        images: uint8 (n, s, s, 3), values 0-255, e.g. ``cache_for(df, s).images``; the
            network is built for s-pixel inputs.
        backbone, weights: as for :func:`casekit.models.build_model`.
        batch_size: images per forward pass.
        cache_dir: where the ``.npy`` files go; default (None) ``casekit.paths.cache_root()
            / "features"``.
        progress: show a progress bar while computing.

    Returns the features in the row order of ``images``. A cached file whose shape does not
    fit is recomputed. Raises ``ValueError`` for images that are not (n, s, s, 3).
    """
    images = np.asarray(images)  # a memory-mapped cache stays on disk (no copy)
    if images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be (n, size, size, 3), got shape {images.shape}")
    if len(images) == 0:
        raise ValueError("images is empty: there is nothing to compute features for")
    folder = Path(cache_dir) if cache_dir else cache_root() / "features"
    key = feature_key(images, backbone, weights)
    path = folder / f"{backbone}_{images.shape[1]}px_{key[:20]}.npy"
    if path.is_file():
        cached = np.load(path)
        if cached.ndim == 2 and len(cached) == len(images):
            return cached
    extractor = feature_extractor(backbone, images.shape[1], weights)
    chunks = []
    for start in tqdm(range(0, len(images), batch_size), desc=f"{backbone} features",
                      unit="batch", disable=not progress):
        batch = np.asarray(images[start:start + batch_size], dtype="float32")
        chunks.append(np.asarray(extractor(batch, training=False), dtype="float32"))
    features = np.concatenate(chunks)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, features)
    return features
