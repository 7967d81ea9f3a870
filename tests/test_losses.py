"""Focal losses: exact cross-entropy at gamma 0, the focal and alpha factors, serialisation."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from casekit.losses import BinaryFocalLoss, CategoricalFocalLoss, focal_loss

# TensorFlow 2.21 tensors lack NumPy 2's `copy` keyword: Keras warns at every conversion.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

RNG = np.random.default_rng(0)


def _binary_batch(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    y_true = RNG.integers(0, 2, n).astype("float32")
    y_pred = RNG.uniform(0.02, 0.98, (n, 1)).astype("float32")
    return y_true, y_pred


def _categorical_batch(n: int = 64, k: int = 6) -> tuple[np.ndarray, np.ndarray]:
    labels = RNG.integers(0, k, n)
    logits = RNG.normal(size=(n, k))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probs.astype("float32")


def test_binary_focal_at_gamma_zero_is_binary_cross_entropy() -> None:
    y_true, y_pred = _binary_batch()
    ours = float(BinaryFocalLoss(gamma=0.0)(y_true, y_pred))
    reference = float(keras.losses.BinaryCrossentropy()(y_true[:, None], y_pred))
    assert ours == pytest.approx(reference, rel=1e-5)
    per_image = BinaryFocalLoss(gamma=0.0, reduction=None)(y_true, y_pred)
    expected = keras.losses.binary_crossentropy(y_true[:, None], y_pred)
    np.testing.assert_allclose(np.asarray(per_image), np.asarray(expected), rtol=1e-5)


def test_categorical_focal_at_gamma_zero_is_cross_entropy_sparse_and_one_hot() -> None:
    labels, probs = _categorical_batch()
    loss = CategoricalFocalLoss(gamma=0.0)
    sparse_reference = float(keras.losses.SparseCategoricalCrossentropy()(labels, probs))
    assert float(loss(labels, probs)) == pytest.approx(sparse_reference, rel=1e-5)
    one_hot = np.eye(6, dtype="float32")[labels]
    dense_reference = float(keras.losses.CategoricalCrossentropy()(one_hot, probs))
    assert float(loss(one_hot, probs)) == pytest.approx(dense_reference, rel=1e-5)
    assert float(loss(labels[:, None], probs)) == pytest.approx(sparse_reference, rel=1e-5)


def test_focal_factor_and_alpha_match_the_formula() -> None:
    y_true = np.array([1.0, 1.0, 0.0])
    p = np.array([0.9, 0.3, 0.2])
    gamma, alpha = 2.0, 0.25
    p_true = np.where(y_true == 1, p, 1 - p)
    weight = np.where(y_true == 1, alpha, 1 - alpha)
    expected = weight * (1 - p_true) ** gamma * -np.log(p_true)
    got = BinaryFocalLoss(gamma=gamma, alpha=alpha, reduction=None)(y_true, p[:, None])
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)

    labels, probs = _categorical_batch(8, 3)
    class_alpha = [0.5, 1.0, 2.0]
    p_true = probs[np.arange(8), labels]
    expected = np.take(class_alpha, labels) * (1 - p_true) ** gamma * -np.log(p_true)
    got = CategoricalFocalLoss(gamma=gamma, alpha=class_alpha, reduction=None)(labels, probs)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)


def test_easy_examples_count_far_less_than_hard_ones() -> None:
    loss = BinaryFocalLoss(gamma=2.0, reduction=None)
    easy, hard = np.asarray(loss(np.ones(2), np.array([[0.95], [0.3]])))
    cross_entropy_ratio = np.log(0.3) / np.log(0.95)
    assert hard / easy == pytest.approx(cross_entropy_ratio * (0.7 / 0.05) ** 2, rel=1e-4)


def test_losses_serialise_and_deserialise() -> None:
    for loss in (BinaryFocalLoss(1.5, alpha=0.3), CategoricalFocalLoss(2.0, alpha=[1.0, 2.0])):
        restored = keras.losses.deserialize(keras.losses.serialize(loss))
        assert type(restored) is type(loss)
        assert restored.get_config() == loss.get_config()


def test_focal_loss_picks_the_variant_and_checks_alpha() -> None:
    assert isinstance(focal_loss(2, alpha=0.25), BinaryFocalLoss)
    assert isinstance(focal_loss(7), CategoricalFocalLoss)
    with pytest.raises(ValueError, match="one number"):
        focal_loss(2, alpha=[1.0, 2.0])
    with pytest.raises(ValueError, match="gamma"):
        BinaryFocalLoss(gamma=-1)
    labels, probs = _categorical_batch(4, 3)
    with pytest.raises(ValueError, match="one weight per class"):
        CategoricalFocalLoss(alpha=[1.0, 2.0])(labels, probs)
