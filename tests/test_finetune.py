"""Freezing, unfreezing the top blocks with BatchNorm kept frozen, summaries, recompiling."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from casekit.finetune import freeze_backbone, recompile, trainable_summary, unfreeze_top
from casekit.losses import CategoricalFocalLoss
from casekit.models import backbone_of, build_baseline_cnn, build_model

# TensorFlow 2.21 tensors lack NumPy 2's `copy` keyword: Keras warns at every conversion.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def efficientnet() -> keras.Model:
    return build_model("EfficientNetB0", num_classes=6, input_size=32, weights=None)


def _trainable_names(backbone: keras.Model) -> set[str]:
    return {layer.name for layer in backbone.layers if layer.trainable}


def test_freeze_then_unfreeze_efficientnet_blocks(efficientnet: keras.Model) -> None:
    backbone = backbone_of(efficientnet)
    freeze_backbone(efficientnet)
    assert backbone.trainable_weights == []
    head = efficientnet.get_layer("predictions")
    assert efficientnet.trainable_weights == [head.kernel, head.bias]

    unfreeze_top(efficientnet, from_block="block6")
    batch_norms = [layer for layer in backbone.layers
                   if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(batch_norms) > 40 and not any(layer.trainable for layer in batch_norms)
    with_weights = {layer.name for layer in backbone.layers
                    if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)}
    expected = {name for name in with_weights if name.startswith(("block6", "block7", "top"))}
    assert _trainable_names(backbone) & with_weights == expected
    assert "block6a_expand_conv" in expected and "top_conv" in expected
    assert not any(name.startswith("block5") for name in _trainable_names(backbone))
    assert {w.path.split("/")[0] for w in backbone.trainable_weights} == expected

    unfreeze_top(efficientnet, from_block="block7")
    assert not any(name.startswith("block6") for name in _trainable_names(backbone))
    with pytest.raises(ValueError, match="No layer of backbone 'efficientnetb0' starts with"):
        unfreeze_top(efficientnet, from_block="conv5")


def test_unfreeze_last_layers_of_another_backbone() -> None:
    model = build_model("MobileNetV2", input_size=32, weights=None, augment=False)
    backbone = backbone_of(model)
    freeze_backbone(model)
    unfreeze_top(model, n_layers=20)
    last = backbone.layers[-20:]
    assert {layer.name for layer in backbone.layers if layer.trainable} == {
        layer.name for layer in last if not isinstance(layer, keras.layers.BatchNormalization)}
    assert not any(layer.trainable for layer in backbone.layers[:-20])


def test_trainable_summary_counts(efficientnet: keras.Model) -> None:
    freeze_backbone(efficientnet)
    line = trainable_summary(efficientnet)
    trainable = 1280 * 6 + 6
    frozen = efficientnet.count_params() - trainable
    assert line == (f"efficientnetb0_6cls: {trainable:,} trainable, {frozen:,} frozen "
                    f"parameters ({trainable / efficientnet.count_params():.1%} trainable)")
    assert "\n" not in line


def test_recompile_lowers_the_rate_and_keeps_loss_and_metrics() -> None:
    model = build_baseline_cnn(num_classes=3, input_size=16, filters=(4,))
    with pytest.raises(ValueError, match="never compiled"):
        recompile(model, 1e-5)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=CategoricalFocalLoss(gamma=1.0),
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    weights = [w.copy() for w in model.get_weights()]
    recompile(model, 1e-5)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-5)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert isinstance(model.loss, CategoricalFocalLoss) and model.loss.gamma == 1.0
    images = np.zeros((4, 16, 16, 3), np.uint8)
    one_hot = np.eye(3)[[0, 1, 2, 0]]
    logs = model.evaluate(images, one_hot, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy", "auc"}
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_baseline_has_no_backbone_to_freeze() -> None:
    with pytest.raises(ValueError, match="no pretrained backbone"):
        freeze_backbone(build_baseline_cnn(input_size=16, filters=(4,)))


def test_recompile_keeps_a_plain_function_loss():
    import keras
    import numpy as np

    from casekit.finetune import recompile

    def squared(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=squared, metrics=["accuracy"])
    recompile(model, 1e-5)
    assert model.loss is squared
    assert float(model.optimizer.learning_rate) == np.float32(1e-5)
    history = model.fit(np.zeros((4, 3)), np.eye(2)[[0, 1, 0, 1]], verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_recompile_keeps_plain_function_metrics_and_metric_objects():
    """keras-team/keras#3911: a plain-function metric cannot be rebuilt from its name."""

    def exact(y_true, y_pred):
        return keras.ops.mean(keras.ops.cast(keras.ops.equal(
            keras.ops.argmax(y_true, axis=-1), keras.ops.argmax(y_pred, axis=-1)), "float32"))

    auc = keras.metrics.AUC(name="auc")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=[exact, auc],
                  weighted_metrics=[exact])
    recompile(model, 1e-4)
    assert float(model.optimizer.learning_rate) == np.float32(1e-4)
    logs = model.evaluate(np.eye(3)[[0, 1, 2, 0]], np.eye(2)[[0, 1, 0, 1]], verbose=0,
                          return_dict=True)
    assert {"loss", "exact", "auc", "weighted_exact"} <= set(logs)
    assert 0.0 <= logs["exact"] <= 1.0
    recompile(model, 1e-5, metrics=[exact])
    assert set(model.evaluate(np.eye(3)[[0, 1]], np.eye(2)[[0, 1]], verbose=0,
                              return_dict=True)) >= {"loss", "exact"}
