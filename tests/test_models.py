"""Model builders: heads, activations, dtypes, preprocessing inside the model, weights files."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from casekit.models import (
    BACKBONES,
    BackbonePreprocess,
    backbone_of,
    build_baseline_cnn,
    build_model,
)

# TensorFlow 2.21 tensors lack NumPy 2's `copy` keyword: Keras warns at every conversion.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

IMAGES = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)


def _outer_rescalings(model: keras.Model) -> list[float]:
    """Scales of the Rescaling layers in the model itself (not inside its backbone)."""
    return [layer.scale for layer in model.layers if isinstance(layer, layers.Rescaling)]


def test_native_sizes() -> None:
    assert {name: spec.native_size for name, spec in BACKBONES.items()} == {
        "EfficientNetB0": 224, "EfficientNetB1": 240, "EfficientNetB2": 260,
        "EfficientNetB3": 300, "EfficientNetLite0": 224, "MobileNetV2": 224, "ResNet50": 224,
    }
    assert build_model("EfficientNetB0", weights=None).input_shape == (None, 224, 224, 3)


def test_efficientnet_binary_and_six_class_heads() -> None:
    binary = build_model("EfficientNetB0", num_classes=2, input_size=32, weights=None)
    six = build_model("EfficientNetB0", num_classes=6, input_size=32, weights=None,
                      augment=False, dropout=0.0)
    assert binary.output_shape == (None, 1) and six.output_shape == (None, 6)
    for model, activation in ((binary, "sigmoid"), (six, "softmax")):
        head = model.layers[-1]
        assert head.activation.__name__ == activation
        assert head.dtype_policy.compute_dtype == "float32"
        assert backbone_of(model).name == "efficientnetb0"
        assert _outer_rescalings(model) == []  # never divide by 255 before EfficientNet
        assert not any(isinstance(layer, BackbonePreprocess) for layer in model.layers)
    assert [layer.name for layer in six.layers] == [
        "image", "efficientnetb0", "avg_pool", "predictions"]
    # The backbone's own first layers do the rescaling, once.
    inner = [layer.scale for layer in backbone_of(binary).layers
             if isinstance(layer, layers.Rescaling)]
    assert inner == [pytest.approx(1 / 255)]

    probs = six.predict(IMAGES, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # uint8 and float input give the same result: the model casts on entry
    np.testing.assert_allclose(six.predict(IMAGES.astype("float32"), verbose=0), probs,
                               rtol=1e-6)
    p = binary.predict(IMAGES, verbose=0)
    assert p.dtype == np.float32 and ((p > 0) & (p < 1)).all()


def test_augmentation_acts_only_in_training() -> None:
    model = build_baseline_cnn(input_size=32, filters=(4,))
    x = keras.ops.convert_to_tensor(IMAGES, "float32")
    augment = model.get_layer("augmentation")
    np.testing.assert_array_equal(np.asarray(augment(x)), IMAGES)  # off unless training
    assert not np.allclose(np.asarray(augment(x, training=True)), IMAGES)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(model(x)))
    np.testing.assert_allclose(np.asarray(model(x)), model.predict(IMAGES, verbose=0), rtol=1e-6)
    assert not np.allclose(np.asarray(model(x, training=True)), np.asarray(model(x)))


@pytest.mark.parametrize(
    ("backbone", "module"),
    [("MobileNetV2", keras.applications.mobilenet_v2), ("ResNet50", keras.applications.resnet50)],
)
def test_other_backbones_preprocess_inside_the_model(backbone, module) -> None:
    model = build_model(backbone, num_classes=3, input_size=32, weights=None, augment=False)
    assert model.output_shape == (None, 3)
    assert model.layers[-1].activation.__name__ == "softmax"
    preprocess = model.get_layer("preprocess")
    expected = module.preprocess_input(IMAGES.astype("float32"))
    np.testing.assert_allclose(np.asarray(preprocess(IMAGES.astype("float32"))), expected,
                               rtol=1e-5, atol=1e-4)


def test_preprocess_layer_survives_saving(tmp_path) -> None:
    model = build_model("MobileNetV2", num_classes=3, input_size=32, weights=None)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.get_layer("preprocess").module == "mobilenet_v2"
    np.testing.assert_allclose(loaded.predict(IMAGES, verbose=0), model.predict(IMAGES, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_baseline_cnn_rescales_itself_and_uses_mixed_precision_safely() -> None:
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_baseline_cnn(num_classes=6, input_size=32, filters=(8, 16))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert _outer_rescalings(model) == [pytest.approx(1 / 255)]
    assert model.get_layer("block1_conv1").compute_dtype == "float16"
    assert model.layers[-1].compute_dtype == "float32"
    assert backbone_of(model) is None
    out = model(keras.ops.convert_to_tensor(IMAGES))
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert model.output_shape == (None, 6)
    with pytest.raises(ValueError, match="too small"):
        build_baseline_cnn(input_size=4, filters=(8, 16, 32))


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # the mismatch case below
def test_weights_from_local_files(tmp_path) -> None:
    source = build_model("MobileNetV2", input_size=32, weights=None, augment=False)
    path = tmp_path / "mobilenet_backbone.weights.h5"
    backbone_of(source).save_weights(path)
    copy = build_model("MobileNetV2", input_size=32, weights=path, augment=False)
    for a, b in zip(backbone_of(source).get_weights(), backbone_of(copy).get_weights(),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(FileNotFoundError, match="Weights file not found"):
        build_model("MobileNetV2", input_size=32, weights=tmp_path / "missing.h5")
    (tmp_path / "model.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="load_model"):
        build_model("MobileNetV2", input_size=32, weights=tmp_path / "model.keras")
    with pytest.raises(ValueError, match="notop"):
        build_model("ResNet50", input_size=32, weights=path)
    with pytest.raises(ValueError, match="Unknown backbone"):
        build_model("VGG16", weights=None)


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # the mismatch case below
def test_lite0_weights_file_round_trips_or_is_refused_clearly(tmp_path) -> None:
    from casekit.models import build_backbone

    source = build_backbone("EfficientNetLite0", input_size=32, weights=None)
    path = tmp_path / "lite0_backbone.weights.h5"
    source.save_weights(path)
    copy = build_backbone("EfficientNetLite0", input_size=32, weights=path)
    for a, b in zip(source.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing folded into Lite0's normalisation
    other = tmp_path / "tiny.weights.h5"
    build_baseline_cnn(input_size=32, filters=(8,), augment=False).save_weights(other)
    with pytest.raises(ValueError, match="does not fit the efficientnetlite0 backbone"):
        build_model("EfficientNetLite0", input_size=32, weights=other, augment=False)
    with pytest.raises(FileNotFoundError, match="Weights file not found"):
        build_model("EfficientNetLite0", input_size=32, weights=tmp_path / "missing.h5")


def test_efficientnet_file_gets_the_exact_imagenet_normalisation(tmp_path, monkeypatch) -> None:
    """A local ImageNet file must behave like weights="imagenet" (Keras adds a Rescaling)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format  # writes the official file format
    from keras.src.utils import file_utils

    donor = keras.applications.EfficientNetB0(include_top=False, weights=None,
                                              input_shape=(32, 32, 3))
    norm = next(layer for layer in donor.layers if isinstance(layer, layers.Normalization))
    norm.adapt_mean.assign(np.array([0.485, 0.456, 0.406]))  # ImageNet statistics
    norm.adapt_variance.assign(np.array([0.229, 0.224, 0.225]) ** 2)
    norm.finalize_state()
    official = tmp_path / "efficientnetb0_notop.h5"
    with h5py.File(official, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, donor)
    # What weights="imagenet" builds, with the download replaced by the file made above.
    monkeypatch.setattr(file_utils, "get_file", lambda *args, **kwargs: str(official))
    reference = keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                                  input_shape=(32, 32, 3))

    def stem(backbone: keras.Model) -> np.ndarray:
        part = keras.Model(backbone.input, backbone.get_layer("stem_conv").output)
        return keras.ops.convert_to_numpy(part(IMAGES.astype("float32")))

    expected = stem(reference)
    ours = backbone_of(build_model("EfficientNetB0", input_size=32, weights=official))
    np.testing.assert_allclose(stem(ours), expected, rtol=1e-4, atol=1e-4)
    naive = keras.applications.EfficientNetB0(include_top=False, weights=str(official),
                                              input_shape=(32, 32, 3))
    assert np.abs(stem(naive) - expected).max() > 0.1  # what plain Keras gets wrong
