"""The modelling toolbox on the JAX backend (the backend is fixed per process: a subprocess).

One small CNN is trained for an epoch and one pretrained network (EfficientNet-Lite0, whose
backbone is nested like every casekit model's) is built: the checks need no more. The
subprocess has no time limit: a test must not fail because the machine is busy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import keras
    from sklearn.metrics import accuracy_score, roc_auc_score

    from casekit import backend
    from casekit.gradcam import gradcam
    from casekit.imbalance import class_weights
    from casekit.losses import BinaryFocalLoss
    from casekit.models import build_baseline_cnn, build_model
    from casekit.training import enable_mixed_precision_if_useful, fit, predict_proba

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 64)
    images = rng.normal(120, 10, (64, 32, 32, 3))
    images[labels == 1, 8:24, 8:24, 0] = 230  # a red patch marks class 1
    images = images.clip(0, 255).astype(np.uint8)

    model = build_baseline_cnn(input_size=32, filters=(8, 16))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=BinaryFocalLoss(gamma=2.0))
    before = [w.copy() for w in model.get_weights()]
    history = fit(model, (images, labels), epochs=1, batch_size=32,
                  class_weight=class_weights(labels), verbose=0)
    changed = any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    probabilities = predict_proba(model, images)

    small_maps = gradcam(model, images[:4], class_index=1)
    lite = build_model("EfficientNetLite0", num_classes=2, input_size=32, weights="imagenet",
                       augment=False)
    maps = gradcam(lite, images[:4])  # through the nested backbone
    grad, _ = backend.input_gradients(
        lambda t: (keras.ops.sum(t * t), t), np.array([1.0, 2.0], np.float32))

    print(json.dumps({
        "backend": backend.backend_name(),
        "policy": enable_mixed_precision_if_useful(),
        "losses": history.history["loss"],
        "weights_changed": changed,
        "proba_shape": list(probabilities.shape),
        "auc": roc_auc_score(labels, probabilities),
        "accuracy": accuracy_score(labels, probabilities >= 0.5),
        "maps_shape": list(maps.shape),
        "maps_range": [float(maps.min()), float(maps.max())],
        "small_maps_shape": list(small_maps.shape),
        "small_maps_max": float(small_maps.max()),
        "lite_proba": predict_proba(lite, images[:3]).tolist(),
        "grad": grad.tolist(),
    }))
    """
)


def test_build_train_predict_and_gradcam_on_jax() -> None:
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    assert result["policy"] == "float32"  # no GPU here
    assert len(result["losses"]) == 1 and 0 < result["losses"][0] < 10
    assert result["weights_changed"]
    assert result["proba_shape"] == [64]
    assert 0.0 <= result["auc"] <= 1.0 and 0.0 <= result["accuracy"] <= 1.0
    assert result["maps_shape"] == [4, 32, 32]  # EfficientNet-Lite0 with ImageNet weights
    assert 0.0 <= result["maps_range"][0] <= result["maps_range"][1] <= 1.0
    assert result["small_maps_shape"] == [4, 32, 32] and result["small_maps_max"] <= 1.0
    assert result["grad"] == [2.0, 4.0]
    assert len(result["lite_proba"]) == 3 and all(0 < p < 1 for p in result["lite_proba"])
