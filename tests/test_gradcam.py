"""Grad-CAM: it finds a planted pattern, handles the nested backbone, and checks its input."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from casekit.backend import input_gradients
from casekit.gradcam import _split, default_layer, gradcam
from casekit.models import build_model

# TensorFlow 2.21 tensors lack NumPy 2's `copy` keyword: Keras warns at every conversion.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SIZE = 32
QUADRANTS = [(0, 0), (0, 16), (16, 0), (16, 16)]  # top-left corners of the four quadrants


def planted_squares(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy grey images with a bright and a dark 6-px square in two different quadrants."""
    rng = np.random.default_rng(seed)
    images = rng.normal(110, 20, (n, SIZE, SIZE, 3)).clip(0, 255)
    bright, dark = np.array([rng.choice(4, 2, replace=False) for _ in range(n)]).T
    for i in range(n):
        for quadrant, value in ((bright[i], 250), (dark[i], 5)):
            top, left = QUADRANTS[quadrant]
            y, x = rng.integers(2, 8, 2)  # the square stays inside its quadrant
            images[i, top + y : top + y + 6, left + x : left + x + 6] = value
    return images.astype(np.uint8), bright, dark


def bright_square_detector() -> keras.Model:
    """A model whose decision, by construction, rests on bright spots, not on dark ones.

    Channel 0 of the convolution fires on bright 3×3 patches, channel 1 (three times more
    strongly) on dark ones; the output weighs channel 0 thirty times more than channel 1.
    Plain activation maps would point at the dark square; Grad-CAM must find the bright one.
    """
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(2, 3, padding="same", name="detect")(x)
    x = keras.layers.Activation("relu", name="detect_relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="predictions")(x)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((3, 3, 3, 2), np.float32)
    kernel[..., 0], kernel[..., 1] = 1 / 27, -3 / 27
    model.get_layer("detect").set_weights([kernel, np.array([-0.8, 0.6], np.float32)])
    model.get_layer("predictions").set_weights([np.array([[200.0], [6.0]], np.float32),
                                                np.array([-0.3], np.float32)])
    return model


def _quadrant_of_peak(heatmap: np.ndarray) -> int:
    y, x = np.unravel_index(np.argmax(heatmap), heatmap.shape)
    return 2 * int(y >= SIZE // 2) + int(x >= SIZE // 2)


def test_heatmap_peaks_on_the_evidence_not_on_the_strongest_activation() -> None:
    images, bright, dark = planted_squares(12, seed=0)
    model = bright_square_detector()
    assert default_layer(model) == "detect_relu"
    activations = keras.Model(model.input, model.get_layer("detect_relu").output)(
        images.astype("float32"))
    plain = keras.ops.convert_to_numpy(activations).sum(axis=-1)
    assert [_quadrant_of_peak(m) for m in plain] == dark.tolist()  # the distractor is louder
    assert (model.predict(images, verbose=0) > 0.5).all()
    no_bright = images.copy()
    no_bright[no_bright > 200] = 110
    assert (model.predict(no_bright, verbose=0) < 0.5).all()  # the bright square decides

    maps = gradcam(model, images)
    assert maps.shape == (12, SIZE, SIZE) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() == pytest.approx(1.0)
    assert [_quadrant_of_peak(m) for m in maps] == bright.tolist()
    grid = gradcam(model, images, upsample=False, class_index=[1] * 12)
    np.testing.assert_allclose(grid, maps, atol=1e-6)  # same grid: 'same' padding, no pooling
    # Every location is evidence FOR class 1, none for class 0: its maps are empty.
    np.testing.assert_array_equal(gradcam(model, images, class_index=0), 0.0)


def test_split_through_the_nested_efficientnet_reproduces_the_model() -> None:
    images = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    for classes, activation in ((2, keras.ops.sigmoid), (6, keras.ops.softmax)):
        model = build_model("EfficientNetB0", num_classes=classes, input_size=64, weights=None)
        assert default_layer(model) == "top_activation"
        features, head = _split(model, "top_activation")
        feature_map = features(keras.ops.convert_to_tensor(images, "float32"))
        assert tuple(feature_map.shape) == (3, 2, 2, 1280)
        probabilities = keras.ops.convert_to_numpy(activation(head(feature_map)))
        np.testing.assert_allclose(probabilities, model.predict(images, verbose=0),
                                   rtol=1e-4, atol=1e-6)
    maps = gradcam(model, images, upsample=False)
    assert maps.shape == (3, 2, 2) and 0.0 <= maps.min() and maps.max() <= 1.0
    inner = gradcam(model, images, layer_name="block7a_project_bn")
    assert inner.shape == (3, 64, 64)
    with pytest.raises(ValueError, match="skip connection"):
        gradcam(model, images, layer_name="block6b_project_bn")
    with pytest.raises(ValueError, match="neither in"):
        gradcam(model, images, layer_name="no_such_layer")
    with pytest.raises(ValueError, match="shape"):
        gradcam(model, images[0])


def test_models_with_branches_at_the_top_level_are_refused() -> None:
    inputs = keras.Input((16, 16, 3))
    a = keras.layers.Conv2D(4, 3, name="conv_a")(inputs)
    b = keras.layers.Conv2D(4, 1, name="conv_b")(a)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Add(name="skip")([a, b]))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    with pytest.raises(ValueError, match="'skip' .* takes \\['conv_a', 'conv_b'\\]"):
        gradcam(model, np.zeros((1, 16, 16, 3), np.uint8))


def test_backend_gradient_of_a_simple_function() -> None:
    grad, aux = input_gradients(
        lambda t: (keras.ops.sum(t**3), keras.ops.sum(t)), np.array([1.0, -2.0, 0.5])
    )
    np.testing.assert_allclose(grad, [3.0, 12.0, 0.75])
    assert float(aux) == pytest.approx(-0.5)


def test_layer_inside_a_skip_connection_gets_the_clear_message() -> None:
    """The check reads the graph itself: same message whatever Keras raises (3.10: KeyError)."""
    inputs = keras.Input((16, 16, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", name="conv_a")(inputs)
    b = keras.layers.Conv2D(4, 3, padding="same", name="conv_b")(a)
    out = keras.layers.Conv2D(4, 1, name="conv_c")(keras.layers.Add(name="add")([a, b]))
    backbone = keras.Model(inputs, out, name="tiny_backbone")
    outer = keras.Input((16, 16, 3))
    x = keras.layers.GlobalAveragePooling2D()(backbone(outer))
    model = keras.Model(outer, keras.layers.Dense(1, activation="sigmoid")(x))
    images = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="'conv_b' \\(a skip connection bypasses it\\)"):
        gradcam(model, images, layer_name="conv_b")
    assert gradcam(model, images, layer_name="conv_a").shape == (2, 16, 16)
    assert gradcam(model, images, layer_name="add").shape == (2, 16, 16)
