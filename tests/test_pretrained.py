"""EfficientNet-Lite0's offline ImageNet weights, the weights policy and the learning alarms."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import warnings

import keras
import numpy as np
import pytest
from PIL import Image

from casekit import alarms, finetune, models, training
from casekit.gradcam import gradcam
from casekit.pretrained import efficientnet_lite as lite
from casekit.pretrained.torch_legacy import UnsafeWeightsError, read_state_dict
from casekit.weights import resolve_weights
from tests._http_server import FileServer

MILITARY_UNIFORM = 652  # ImageNet class index


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache (no Keras weights) and an unreachable weight store."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("CASEKIT_KERAS_WEIGHT_STORE", "http://127.0.0.1:9/")  # discard port
    return tmp_path / "keras" / "models"


def test_state_dict_has_the_published_layout():
    state = read_state_dict(lite.pth_path())
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280) and state["_fc.weight"].dtype == np.float32
    assert "_blocks.0._expand_conv.weight" not in state  # block 1a has no expansion


@pytest.mark.slow
def test_port_recognises_a_uniform(keras_home):
    """With its ImageNet top, the port sees Grace Hopper's navy uniform (a wrong port does not)."""
    import matplotlib

    path = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    image = Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)
    model = lite.efficientnet_lite0(weights="imagenet", include_top=True)
    assert 4.6e6 < model.count_params() < 4.8e6  # about 4.7 M parameters with the top
    assert model.get_layer("stem_conv").padding == "same"  # TensorFlow-style "same" fits them
    proba = np.asarray(model.predict(np.asarray(image, "float32")[None], verbose=0))[0]
    top5 = np.argsort(proba)[::-1][:5]
    assert MILITARY_UNIFORM in top5, top5
    assert proba[MILITARY_UNIFORM] > 0.2
    assert (keras_home / "casekit_efficientnetlite0_imagenet.weights.h5").is_file()


def _legacy_file(path, payload):
    with open(path, "wb") as file:
        for part in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, payload, []):
            pickle.dump(part, file, protocol=2)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_reader_refuses_any_other_global(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _legacy_file(tmp_path / "evil.pth", {"weight": _RunsCode()})
    with pytest.raises(UnsafeWeightsError, match="system"):
        read_state_dict(tmp_path / "evil.pth")
    assert not (tmp_path / "pwned").exists()
    _legacy_file(tmp_path / "numpy.pth", {"weight": np.zeros(3)})  # even a harmless global
    with pytest.raises(UnsafeWeightsError, match="numpy"):
        read_state_dict(tmp_path / "numpy.pth")


def test_altered_weights_file_is_refused(tmp_path, keras_home):
    altered = tmp_path / lite.PTH_NAME
    shutil.copy(lite.pth_path(), altered)
    with open(altered, "r+b") as file:
        file.seek(10_000_000)
        byte = file.read(1)
        file.seek(10_000_000)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(lite.WeightsFileError, match="sha256"):
        lite.convert(source=altered)
    assert not keras_home.exists() or not any(keras_home.iterdir())


def test_auto_offline_falls_back_to_lite0_with_a_note(keras_home, capsys, monkeypatch):
    import types

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab")  # offline Colab: still no download
    choice = resolve_weights("auto", backbone="EfficientNetB0")
    assert choice == ("EfficientNetLite0", "imagenet", choice.reason)
    assert "EfficientNetB0" in choice.reason and "neither cached nor reachable" in choice.reason
    assert "EfficientNetLite0" in capsys.readouterr().out
    assert resolve_weights(None, backbone="EfficientNetB0").weights is None  # random only if asked


def test_auto_ignores_another_backbones_file_and_a_truncated_one(keras_home):
    keras_home.mkdir(parents=True)
    (keras_home / "efficientnetb3_notop.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    assert resolve_weights("auto", backbone="EfficientNetB0", quiet=True).backbone == (
        "EfficientNetLite0")
    (keras_home / "efficientnetb0_notop.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    assert resolve_weights("auto", backbone="EfficientNetB0", quiet=True).backbone == (
        "EfficientNetLite0")  # truncated: unreadable


def test_auto_uses_a_readable_cached_file_or_a_store_that_answers(keras_home, monkeypatch):
    import h5py

    keras_home.mkdir(parents=True)
    with h5py.File(keras_home / "efficientnetb0_notop.h5", "w") as file:
        file.create_group("stem_conv")
    assert resolve_weights("auto", backbone="EfficientNetB0") == (
        "EfficientNetB0", "imagenet", "ImageNet weights of EfficientNetB0 (cached Keras file)")
    with FileServer({"efficientnetb1_notop.h5": b"weights"}) as server:
        monkeypatch.setenv("CASEKIT_KERAS_WEIGHT_STORE", server.url(""))
        choice = resolve_weights("auto", backbone="EfficientNetB1")
    assert choice.backbone == "EfficientNetB1" and "weight store" in choice.reason


def test_degenerate_alarm_on_a_constant_model_silent_on_a_working_one():
    rng = np.random.default_rng(0)
    flat = 0.501168 + rng.uniform(0, 3e-6, 600)  # the random-backbone demo's scores
    message = alarms.degenerate_model_warning(flat, class_names=["not cancer", "cancer"])
    assert "has not learnt" in message and "random weights" in message
    sixclass = np.tile([0.1, 0.5, 0.1, 0.1, 0.1, 0.1], (200, 1)) + rng.uniform(0, 0.01, (200, 6))
    names = ["ACK", "BCC", "MEL", "NEV", "SCC", "SEK"]
    assert "BCC" in alarms.degenerate_model_warning(sixclass, class_names=names)
    working = rng.uniform(0, 1, 300)
    assert alarms.degenerate_model_warning(working) is None
    assert alarms.degenerate_model_warning(rng.dirichlet(np.ones(6), 300)) is None


def test_images_scaled_to_unit_range_warn_once(monkeypatch):
    monkeypatch.setattr(alarms, "_warned_scaled", False)
    images = np.random.default_rng(0).uniform(0, 255, (8, 8, 8, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        training.make_batches(images.astype("uint8"), None)
        training.make_batches(images, None)  # floats in [0, 255]: fine
        assert not caught
        training.make_batches(images / 255.0, None)
        training.make_batches(images / 255.0, None)
    assert [w.category for w in caught] == [alarms.ScaledInputWarning]
    assert "[0, 255]" in str(caught[0].message)


@pytest.mark.slow
def test_lite0_freezes_unfreezes_saves_loads_and_explains(tmp_path, keras_home):
    model = models.build_model("EfficientNetLite0", 2, input_size=32, weights="imagenet",
                               augment=False)
    finetune.freeze_backbone(model)
    backbone = models.backbone_of(model)
    assert backbone.name == "efficientnetlite0" and not backbone.trainable
    finetune.unfreeze_top(model, from_block="block6")
    learning = {w.path.split("/")[-2] for w in model.trainable_weights}
    assert "block6a_expand_conv" in learning and "top_conv" in learning
    assert "block5c_project_conv" not in learning
    assert not any(isinstance(backbone.get_layer(n), keras.layers.BatchNormalization)
                   for n in learning if n != "predictions")
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("uint8")
    before = training.predict_proba(model, images)
    model.save(tmp_path / "lite.keras")
    again = keras.models.load_model(tmp_path / "lite.keras")
    np.testing.assert_allclose(training.predict_proba(again, images), before, atol=1e-6)
    assert gradcam(again, images[:2]).shape == (2, 32, 32)


def test_weights_policy_imports_no_keras():
    """The weights policy and the reference-run lookup are plumbing: importing them must
    not start Keras and TensorFlow (seconds, and TensorFlow's start-up log)."""
    import subprocess
    from pathlib import Path

    code = ("import sys; from casekit import reference, weights; "
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_atomic_path_suffix_and_no_stray_file_on_failure(tmp_path):
    from casekit.io import atomic_path

    target = tmp_path / "w.weights.h5"
    with pytest.raises(RuntimeError), atomic_path(target, suffix=".weights.h5") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".part.weights.h5")
        tmp.write_bytes(b"half")
        raise RuntimeError("save failed")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target, suffix=".weights.h5") as tmp:
        tmp.write_bytes(b"done")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_damaged_cached_conversion_is_rewritten(keras_home):
    keras_home.mkdir(parents=True)
    cached = lite.cached_weights_path()
    cached.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)  # a truncated write
    backbone = lite.efficientnet_lite0(input_shape=(32, 32, 3), weights="imagenet")
    assert backbone.get_layer("stem_conv").get_weights()[0].std() > 0.01
    assert lite.readable_h5(cached)
    assert sorted(p.name for p in keras_home.iterdir()) == [cached.name]  # no stray temp file
