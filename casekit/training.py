"""Training from the decode-once image cache: batches, callbacks, precision, seeds, prediction.

Decoding a JPEG costs more than training on it (see CASE_STUDY §3), so casekit decodes every
image once into a ``uint8`` array of shape ``(N, size, size, 3)`` (``ImageCache.images``, a
memory-mapped ``.npy``) and trains from that. :func:`make_batches` gathers one batch of rows at
a time from the array (in sorted order, which reads a memory map sequentially) and hands
``uint8`` batches to Keras; the model casts them to float itself. Nothing is decoded again,
and the whole array is never copied into memory. It works the same on the TensorFlow and
JAX backends.

Why a ``keras.utils.PyDataset`` and not ``tf.data``: measured on 2 busy CPU cores with
224-px images in batches of 32, the PyDataset delivers about 9,000 images/s from a
memory-mapped file (through Keras' own TensorFlow adapter, which prefetches in a background
thread), ``tf.data`` slicing an in-memory tensor about 50,000. Both are far above the
400–650 images/s at which a T4 trains EfficientNetB0, so the data never waits; only the
PyDataset also runs on JAX and leaves HAM10000's 1.5 GB array on disk until needed.
``python -m casekit_course.bench`` measures the whole training step both ways.

Example:
    >>> import numpy as np
    >>> images = np.zeros((10, 32, 32, 3), dtype=np.uint8)
    >>> batches = make_batches(images, np.arange(10) % 2, batch_size=4)
    >>> len(batches), batches[0][0].shape, batches[0][0].dtype.name
    (3, (4, 32, 32, 3), 'uint8')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from casekit import backend
from casekit.alarms import warn_if_scaled
from casekit.backup import backup_and_restore


def set_seeds(seed: int = 0) -> None:
    """Seed Python, NumPy and the Keras backend at once, for repeatable runs.

    (GPU kernels can still differ in the last bits from run to run.)
    """
    keras.utils.set_random_seed(seed)


def _rows(images: Any) -> Any:
    """The array inside an image cache object, or the array itself."""
    images = getattr(images, "images", images)
    if getattr(images, "ndim", None) != 4 or images.shape[-1] != 3:
        raise ValueError(
            "images must be an array of shape (N, size, size, 3), e.g. ImageCache.images; "
            f"got shape {getattr(images, 'shape', None)}."
        )
    return images


class ImageBatches(keras.utils.PyDataset):
    """Batches of rows gathered from an in-memory or memory-mapped image array.

    Returned by :func:`make_batches` (read its arguments there). Every epoch gets a new
    permutation drawn from ``(seed, epoch)``, so runs repeat exactly.
    """

    def __init__(
        self,
        images: Any,
        labels: Sequence[Any] | np.ndarray | None,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        indices: Sequence[int] | np.ndarray | None = None,
        sample_weights: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.images = _rows(images)
        n = len(self.images)
        self.labels = None if labels is None else np.asarray(labels)
        self.sample_weights = (
            None if sample_weights is None else np.asarray(sample_weights, dtype="float32")
        )
        for name, values in (("labels", self.labels), ("sample_weights", self.sample_weights)):
            if values is not None and len(values) != n:
                raise ValueError(f"{name} has {len(values)} entries for {n} images.")
        if self.sample_weights is not None and self.labels is None:
            raise ValueError("sample_weights need labels.")
        self.indices = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
        if self.indices.size == 0:
            raise ValueError("No images to batch: indices is empty.")
        if self.indices.min() < 0 or self.indices.max() >= n:
            raise ValueError(f"indices must lie in [0, {n}) for {n} images.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        if not self.shuffle:
            return self.indices
        return np.random.default_rng([self.seed, self.epoch]).permutation(self.indices)

    def __len__(self) -> int:
        return -(-len(self._order) // self.batch_size)  # ceiling division

    def __getitem__(self, i: int) -> tuple[np.ndarray, ...]:
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range (0–{len(self) - 1}).")
        rows = self._order[i * self.batch_size : (i + 1) * self.batch_size]
        if self.shuffle:
            rows = np.sort(rows)  # order inside a training batch does not matter
        x = np.asarray(self.images[rows])
        if self.labels is None:
            return (x,)
        if self.sample_weights is None:
            return x, self.labels[rows]
        return x, self.labels[rows], self.sample_weights[rows]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._epoch_order()


def make_batches(
    images: Any,
    labels: Sequence[Any] | np.ndarray | None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    indices: Sequence[int] | np.ndarray | None = None,
    sample_weights: Sequence[float] | np.ndarray | None = None,
) -> ImageBatches:
    """A ``keras.utils.PyDataset`` of ``(uint8 images, labels[, sample weights])`` batches.

    Args:
        images: ``(N, size, size, 3)`` uint8 array (``np.memmap`` welcome) or an object with
            an ``.images`` array such as ``casekit.images.ImageCache``.
        labels: ``N`` labels (0/1 for binary, class indices otherwise), or ``None`` for
            prediction.
        batch_size: images per batch; the last batch may be smaller.
        shuffle: new deterministic order each epoch (train); ``False`` keeps ``indices``
            order (validation, prediction).
        seed: seed of the shuffling.
        indices: rows to use, e.g. a split's train rows or :func:`casekit.imbalance.
            oversample_indices` (repeats allowed); default all rows.
        sample_weights: ``N`` per-image loss weights (indexed like ``images``).

    Pass the result straight to ``model.fit`` / ``predict`` (no ``batch_size`` there).
    A float batch whose maximum is at most 1.0 (images already divided by 255) triggers a
    one-time :class:`casekit.alarms.ScaledInputWarning`.
    """
    array = getattr(images, "images", images)
    warn_if_scaled(np.asarray(array[:64]))
    return ImageBatches(images, labels, batch_size, shuffle, seed, indices, sample_weights)


def fit(
    model: keras.Model,
    train: tuple[Any, Any],
    val: tuple[Any, Any] | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    class_weight: dict[Any, float] | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    seed: int = 0,
    train_indices: Sequence[int] | np.ndarray | None = None,
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Seed everything, batch ``train = (images, labels)`` and run ``model.fit``.

    ``val`` is evaluated after every epoch in fixed order; ``class_weight`` comes from
    :func:`casekit.imbalance.class_weights`; ``train_indices`` selects (or oversamples) rows of
    the training images. The model must be compiled. Returns the Keras ``History``.
    """
    set_seeds(seed)
    train_batches = make_batches(*train, batch_size=batch_size, seed=seed, indices=train_indices)
    val_batches = None if val is None else make_batches(*val, batch_size=batch_size, shuffle=False)
    return model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=epochs,
        class_weight=class_weight,
        callbacks=callbacks,
        shuffle=False,  # ImageBatches shuffles itself, reproducibly
        verbose=verbose,
    )


def recommended_callbacks(
    checkpoint_dir: str | os.PathLike[str] | None = None,
    backup_dir: str | os.PathLike[str] | None = None,
    monitor: str = "val_loss",
    patience: int = 5,
) -> list[keras.callbacks.Callback]:
    """Early stopping, learning-rate decay, best-model checkpoint and crash-safe backups.

    * ``EarlyStopping``: stop after ``patience`` epochs without improvement of ``monitor``
      and restore the best weights.
    * ``ReduceLROnPlateau``: divide the learning rate by 5 after ``patience // 2`` flat epochs.
    * ``ModelCheckpoint`` (if ``checkpoint_dir``): the best model as ``best.keras``.
    * ``BackupAndRestore`` (if ``backup_dir``): the training state is saved at the end of
      every epoch; after a Colab disconnect, run the same cell again and training resumes
      after the last finished epoch. Point it at Google Drive so it survives the runtime,
      e.g. ``backup_dir="/content/drive/MyDrive/casekit/b0_run1"`` (one per training run).
      The backup goes into a subfolder casekit creates, ``<backup_dir>/casekit_backup``,
      which is deleted when training ends normally; nothing else in ``backup_dir`` is
      touched. A backup cut short by a disconnect never blocks the restart
      (:func:`casekit.backup.backup_and_restore`).

    ``monitor`` may be any logged quantity (``"val_auc"``…); its direction is inferred.
    """
    mode = "min" if monitor.endswith("loss") else "max"
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(
            monitor=monitor, mode=mode, patience=patience, restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, mode=mode, factor=0.2, patience=max(1, patience // 2), min_lr=1e-7
        ),
    ]
    if checkpoint_dir is not None:
        path = Path(checkpoint_dir).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                path / "best.keras", monitor=monitor, mode=mode, save_best_only=True
            )
        )
    if backup_dir is not None:
        callbacks.append(backup_and_restore(backup_dir))
    return callbacks


def mixed_precision_useful(compute_capability: tuple[int, int] | None) -> bool:
    """Float16 tensor cores exist from compute capability 7.0 (V100, T4 7.5, A100 8.0) on."""
    return compute_capability is not None and compute_capability >= (7, 0)


def enable_mixed_precision_if_useful() -> str:
    """Switch Keras to ``mixed_float16`` when a GPU with tensor cores is present.

    Returns the global policy now in force: ``"mixed_float16"`` or ``"float32"``. Call it
    BEFORE building the model (layers take the policy when they are created). On a CPU or
    an older GPU (K80, P100) float16 brings no speed, so float32 stays.
    """
    useful = mixed_precision_useful(backend.gpu_compute_capability())
    policy = "mixed_float16" if useful else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def predict_proba(model: keras.Model, images: Any, batch_size: int = 64) -> np.ndarray:
    """Class probabilities: shape ``(N,)`` P(class 1) for a binary model, else ``(N, C)``.

    ``images`` is an image array or cache as in :func:`make_batches`, in its own order.
    """
    batches = make_batches(images, None, batch_size=batch_size, shuffle=False)
    probabilities = np.asarray(model.predict(batches, verbose=0), dtype=np.float32)
    if probabilities.ndim == 2 and probabilities.shape[1] == 1:
        return probabilities[:, 0]
    return probabilities
