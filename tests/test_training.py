"""Batches from the uint8 cache, fit/predict helpers, callbacks, precision, save/load."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from casekit.finetune import freeze_backbone, unfreeze_top
from casekit.imbalance import class_weights
from casekit.losses import BinaryFocalLoss
from casekit.models import backbone_of, build_baseline_cnn, build_model
from casekit.training import (
    enable_mixed_precision_if_useful,
    fit,
    make_batches,
    mixed_precision_useful,
    predict_proba,
    recommended_callbacks,
    set_seeds,
)

# TensorFlow 2.21 tensors lack NumPy 2's `copy` keyword: Keras warns at every conversion.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def numbered_images(n: int, size: int = 8) -> np.ndarray:
    """Image i is filled with the value i % 256, so every row says where it came from."""
    return np.broadcast_to((np.arange(n) % 256).astype(np.uint8)[:, None, None, None],
                           (n, size, size, 3)).copy()


def colour_shapes(n: int, size: int = 32, positive_share: float = 0.5, seed: int = 0):
    """Learnable toy lesions: class 1 a reddish square, class 0 a bluish disc, on noisy skin."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < positive_share).astype(np.int64)
    yy, xx = np.mgrid[:size, :size]
    images = rng.normal(180, 12, (n, size, size, 3))
    for i, label in enumerate(labels):
        r = rng.integers(size // 8, size // 4)
        cy, cx = rng.integers(r, size - r, 2)
        if label:
            mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
            colour = (150, 40, 40)
        else:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            colour = (60, 60, 140)
        images[i][mask] = np.array(colour) + rng.normal(0, 15, 3)
    return np.clip(images, 0, 255).astype(np.uint8), labels


def test_batches_cover_every_row_once_per_epoch_in_a_new_order(tmp_path) -> None:
    path = tmp_path / "images.npy"
    np.save(path, numbered_images(103))
    images = np.load(path, mmap_mode="r")  # what ImageCache.images is
    labels = np.arange(103)
    batches = make_batches(images, labels, batch_size=16, seed=7)
    assert len(batches) == 7
    orders = []
    for _ in range(2):
        seen = []
        for i in range(len(batches)):
            x, y = batches[i]
            assert x.dtype == np.uint8 and x.shape[1:] == (8, 8, 3)
            np.testing.assert_array_equal(x[:, 0, 0, 0], y % 256)  # images match labels
            seen.extend(y.tolist())
        assert sorted(seen) == list(range(103))
        orders.append(seen)
        batches.on_epoch_end()
    assert orders[0] != orders[1]
    again = make_batches(images, labels, batch_size=16, seed=7)
    assert np.concatenate([again[i][1] for i in range(len(again))]).tolist() == orders[0]
    with pytest.raises(IndexError):
        batches[7]


def test_batches_keep_order_without_shuffle_and_accept_indices_and_weights() -> None:
    images, labels = numbered_images(20), np.arange(20)

    class Cache:  # anything with an .images array, like casekit.images.ImageCache
        pass

    cache = Cache()
    cache.images = images
    ordered = make_batches(cache, None, batch_size=6, shuffle=False, indices=[5, 3, 3, 19])
    (x,) = ordered[0]
    assert x[:, 0, 0, 0].tolist() == [5, 3, 3, 19]
    weighted = make_batches(images, labels, batch_size=4, sample_weights=np.linspace(0, 1, 20))
    x, y, w = weighted[0]
    np.testing.assert_allclose(w, np.linspace(0, 1, 20)[y])
    with pytest.raises(ValueError, match="labels has 3 entries for 20 images"):
        make_batches(images, [0, 1, 2])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 20\)"):
        make_batches(images, labels, indices=[0, 20])
    with pytest.raises(ValueError, match="shape \\(N, size, size, 3\\)"):
        make_batches(images[..., 0], labels)


def test_small_cnn_learns_held_out_data_with_class_weights_and_callbacks(tmp_path) -> None:
    images, labels = colour_shapes(320, positive_share=0.3)
    train, test = slice(0, 240), slice(240, 320)
    set_seeds(0)
    model = build_baseline_cnn(num_classes=2, input_size=32, filters=(8, 16), augment=False)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = fit(
        model,
        train=(images[train], labels[train]),
        val=(images[test], labels[test]),
        epochs=6,
        batch_size=16,
        class_weight=class_weights(labels[train]),
        callbacks=recommended_callbacks(checkpoint_dir=tmp_path / "ckpt", patience=4),
        verbose=0,
    )
    assert len(history.history["val_loss"]) >= 4
    probabilities = predict_proba(model, images[test])
    assert probabilities.shape == (80,)
    # 30 % positives: always answering "benign" scores 0.70 accuracy but 0.50 balanced.
    balanced = balanced_accuracy_score(labels[test], probabilities >= 0.5)
    assert balanced >= 0.85, f"held-out balanced accuracy {balanced:.2f}"
    assert roc_auc_score(labels[test], probabilities) >= 0.9
    best = keras.models.load_model(tmp_path / "ckpt" / "best.keras")
    assert best.count_params() == model.count_params()


def test_backup_and_restore_resumes_after_the_last_finished_epoch(tmp_path) -> None:
    images, labels = colour_shapes(32, size=16)

    class Disconnect(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("runtime disconnected")

    def new_model() -> keras.Model:
        model = build_baseline_cnn(input_size=16, filters=(4,), augment=False)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    callbacks = recommended_callbacks(backup_dir=tmp_path / "backup", monitor="loss")
    assert [type(c).__name__ for c in callbacks] == [
        "EarlyStopping", "ReduceLROnPlateau", "BackupAndRestore"]
    with pytest.raises(RuntimeError, match="disconnected"):
        fit(new_model(), (images, labels), epochs=4, batch_size=16,
            callbacks=callbacks + [Disconnect()], verbose=0)
    resumed = fit(new_model(), (images, labels), epochs=4, batch_size=16,
                  callbacks=recommended_callbacks(backup_dir=tmp_path / "backup",
                                                  monitor="loss"), verbose=0)
    assert resumed.epoch == [2, 3]  # epochs 0 and 1 were finished before the disconnect


def test_predict_proba_shapes_and_seeds() -> None:
    images = colour_shapes(10)[0]
    set_seeds(3)
    first = build_baseline_cnn(num_classes=3, input_size=32, filters=(4,))
    set_seeds(3)
    second = build_baseline_cnn(num_classes=3, input_size=32, filters=(4,))
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    probabilities = predict_proba(first, images, batch_size=4)
    assert probabilities.shape == (10, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_mixed_precision_only_with_tensor_cores() -> None:
    assert mixed_precision_useful((7, 5)) and mixed_precision_useful((8, 0))
    assert not mixed_precision_useful((6, 0)) and not mixed_precision_useful(None)
    try:
        assert enable_mixed_precision_if_useful() == "float32"  # this machine has no GPU
        assert keras.mixed_precision.global_policy().name == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_fine_tuned_efficientnet_round_trips_through_keras_file(tmp_path) -> None:
    """One small EfficientNet fine-tuning step; frozen parts stay put; .keras reloads exactly."""
    images, labels = colour_shapes(8, size=32)
    model = build_model("EfficientNetB0", num_classes=2, input_size=32, weights=None)
    unfreeze_top(freeze_backbone(model), from_block="block7")
    backbone = backbone_of(model)
    before = {w.path: keras.ops.convert_to_numpy(w) for w in backbone.weights}
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=BinaryFocalLoss(gamma=2.0))
    fit(model, (images, labels), epochs=1, batch_size=4, verbose=0)

    for layer in backbone.layers:
        for w in layer.weights:
            changed = not np.array_equal(before[w.path], keras.ops.convert_to_numpy(w))
            learns = layer.name.startswith(("block7", "top_conv")) and w.trainable
            assert changed == learns, f"{w.path}: changed={changed}"

    path = tmp_path / "finetuned.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.loss, BinaryFocalLoss)
    assert loaded.get_layer("augmentation") is not None
    np.testing.assert_allclose(predict_proba(loaded, images), predict_proba(model, images),
                               rtol=1e-6, atol=1e-7)
