"""Assignment 05's plumbing and data: fold bookkeeping, cached features, synthetic signal.

casekit.crossval and casekit.features are tested here with real scikit-learn and Keras;
the synthetic generator is checked for what 05 needs: a questionnaire that carries signal
about the diagnosis, and HAM10000-style images that look unlike PAD-UFES-20 ones. The
notebook's run in grading mode (no data, no Keras, every heavy cell skipped) is timed.
"""

from __future__ import annotations

import time

import nbformat
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit, cross_val_score
from threadpoolctl import threadpool_limits

from casekit import crossval, synthetic
from casekit.datasets import load
from casekit.images import cache_for
from casekit.splits import grouped_kfold
from casekit.synthetic import marginals as m
from casekit_course import course_root, execute
from casekit_course.heavy import SKIPPED_NOTE, SkipHeavyCells

BEYOND = course_root() / "solutions" / "05_beyond" / "05_beyond.ipynb"


# --- casekit.crossval -----------------------------------------------------------------------


def test_score_folds_scores_each_fold_on_its_own_rows():
    y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    binary = np.array([0.2, 0.9, 0.4, 0.6, 0.1, 0.7, 0.3, 0.5])
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    table = crossval.score_folds(y, binary, folds)
    assert table.to_dict("list") == {"fold": [0, 1], "n": [4, 4], "auroc": [1.0, 0.75]}
    y6 = np.array([0, 1, 2, 0, 1, 2])
    proba = np.eye(3)[[0, 1, 1, 0, 1, 2]]
    six = crossval.score_folds(y6, proba, np.array([0, 0, 0, 1, 1, 1]))
    assert six["balanced_accuracy"].tolist() == pytest.approx([2 / 3, 1.0])
    assert six["macro_f1"].tolist() == pytest.approx([(1 + 2 / 3 + 0) / 3, 1.0])
    unscored = proba.copy()
    unscored[0] = np.nan  # e.g. no questionnaire: left out, not counted as wrong
    assert crossval.score_folds(y6, unscored, np.array([0, 0, 0, 1, 1, 1]))["n"].tolist() == [2, 3]
    with pytest.raises(ValueError, match="differ in length"):
        crossval.score_folds(y, binary[:-1], folds)


def test_compare_models_is_paired_by_fold():
    a = pd.DataFrame({"fold": [0, 1, 2], "auroc": [0.7, 0.8, 0.6]})
    b = pd.DataFrame({"fold": [0, 1, 2], "auroc": [0.75, 0.82, 0.66]})
    table = crossval.compare_models({"a": a, "b": b}, "auroc")
    assert list(table.columns) == ["a", "b"] and table.index.tolist() == [0, 1, 2]
    assert (table["b"] - table["a"]).round(2).tolist() == [0.05, 0.02, 0.06]
    figure = crossval.plot_paired(table, metric="auroc")
    assert len(figure.axes[0].lines) == 4  # three folds and the mean
    with pytest.raises(ValueError, match="different folds"):
        crossval.compare_models({"a": a, "b": b.iloc[:2]}, "auroc")
    with pytest.raises(ValueError, match="no column 'macro_f1'"):
        crossval.compare_models({"a": a}, "macro_f1")


def test_logistic_model_imputes_and_keeps_every_class_column():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    x = rng.normal(size=(90, 3)) + np.eye(3)[y] * 3
    x[::7, 0] = np.nan  # missing answers are filled with the training median
    fit_predict = crossval.logistic_model(4)  # class 3 never appears in training
    proba = fit_predict(x[::2], y[::2], x[1::2])
    assert proba.shape == (45, 4) and np.allclose(proba.sum(axis=1), 1)
    assert (proba[:, 3] == 0).all() and (proba.argmax(axis=1) == y[1::2]).mean() > 0.9
    binary = crossval.logistic_model(2)(x, (y > 0).astype(int), x[:5])
    assert binary.shape == (5,) and ((binary >= 0) & (binary <= 1)).all()
    with pytest.raises(ValueError, match="at least 2"):
        crossval.logistic_model(1)


@pytest.mark.slow
def test_keras_model_starts_every_fold_from_the_same_untrained_state():
    from casekit.models import build_baseline_cnn

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 16, 16, 3), dtype=np.uint8)
    y = np.repeat([0, 1], 20)
    fit_predict = crossval.keras_model(
        lambda: build_baseline_cnn(2, input_size=16, filters=(4,), augment=False),
        epochs=2, batch_size=8)
    first = fit_predict(images[:30], y[:30], images[30:])
    assert first.shape == (10,) and ((first > 0) & (first < 1)).all()
    fit_predict(images[10:], y[10:], images[:10])
    model = fit_predict.model
    assert int(model.optimizer.iterations) == 2 * 4, "optimizer state reset: 2 epochs of 4 steps"
    assert np.isclose(float(model.optimizer.learning_rate), 1e-3), "the learning rate is kept"


# --- casekit.features ------------------------------------------------------------------------


@pytest.mark.slow
def test_frozen_features_are_cached_and_follow_the_pixels(tmp_path):
    from casekit.features import frozen_features

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    first = frozen_features(images, backbone="EfficientNetLite0", weights="imagenet",
                            cache_dir=tmp_path, progress=False)
    assert first.shape == (6, 1280) and first.dtype == np.float32
    files = list(tmp_path.glob("EfficientNetLite0_32px_*.npy"))
    assert len(files) == 1
    started = time.perf_counter()
    again = frozen_features(images, backbone="EfficientNetLite0", weights="imagenet",
                            cache_dir=tmp_path, progress=False)
    assert time.perf_counter() - started < 1 and np.array_equal(first, again)
    flipped = frozen_features(images[:, :, ::-1], backbone="EfficientNetLite0",
                              weights="imagenet", cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.npy"))) == 2 and not np.allclose(flipped, first)
    random_start = frozen_features(images, backbone="EfficientNetLite0", weights=None,
                                   cache_dir=tmp_path, progress=False)
    assert not np.allclose(random_start, first), "the weights are part of the key"
    with pytest.raises(ValueError, match=r"\(n, size, size, 3\)"):
        frozen_features(images[..., 0], cache_dir=tmp_path, progress=False)


# --- The synthetic data make every part of 05 meaningful -------------------------------------


def test_synthetic_questionnaire_depends_on_the_diagnosis():
    table = synthetic.metadata_table("pad_ufes_20", 2298, seed=0)
    answered = table["smoke"].notna()
    assert abs(answered.mean() - (1 - 804 / 2298)) < 0.01
    share = {s: table.groupby("diagnostic")[s].apply(lambda v: (v == "True").mean())
             for s in m.PAD_SYMPTOMS}
    assert share["bleed"]["BCC"] - share["bleed"]["NEV"] > 0.35
    assert share["changed"]["MEL"] - share["changed"]["SEK"] > 0.4
    assert share["itch"]["BCC"] > 0.6 and share["itch"]["NEV"] < 0.2
    age = table.groupby("diagnostic")["age"].mean()
    assert age["NEV"] < 45 < age[["ACK", "BCC", "SCC"]].min()
    features = pd.concat([table[["age"]]] + [(table[s] == "True").astype(float).rename(s)
                                             for s in m.PAD_SYMPTOMS], axis=1)
    folds = grouped_kfold(table.assign(label=table["diagnostic"], group_id=table["patient_id"]),
                          k=5)["fold"]
    model = LogisticRegression(max_iter=2000, class_weight="balanced")
    with threadpool_limits(1):  # many BLAS threads on a busy machine are far slower
        bacc = cross_val_score(model, features, table["diagnostic"], cv=PredefinedSplit(folds),
                               scoring="balanced_accuracy")
    assert bacc.mean() > 0.40, f"six-class balanced accuracy from the questionnaire: {bacc}"


def test_synthetic_dermoscopy_and_phone_images_look_different(tmp_path):
    ham = load("ham10000", synthetic.make("ham10000", tmp_path / "ham", n_images=60,
                                          progress=False))
    pad = load("pad_ufes_20", synthetic.make("pad_ufes_20", tmp_path / "pad", n_images=60,
                                             progress=False), missing="drop")
    images = np.concatenate([cache_for(ham, 32, cache_dir=tmp_path / "c", progress=False).images,
                             cache_for(pad, 32, cache_dir=tmp_path / "c", progress=False).images])
    domain = np.repeat([0, 1], [len(ham), len(pad)])
    edges = images.reshape(len(images), -1, 3).astype(int) * 8 // 256
    hist = np.stack([np.concatenate([np.bincount(e[:, c], minlength=8) for c in range(3)])
                     for e in edges]) / edges.shape[1]
    with threadpool_limits(1):
        accuracy = cross_val_score(LogisticRegression(max_iter=2000), hist, domain, cv=5).mean()
    assert accuracy > 0.75, f"colour alone tells dermoscope from phone images: {accuracy:.2f}"


# --- The notebook in grading mode ------------------------------------------------------------


@pytest.mark.slow
def test_beyond_in_grading_mode_skips_the_heavy_work(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    started = time.perf_counter()
    graded, _ = SkipHeavyCells().preprocess(nbformat.read(BEYOND, as_version=4), {})
    nbformat.write(graded, tmp_path / BEYOND.name)  # the cells autograde skips (by their tag)
    out = execute(tmp_path / BEYOND.name, tmp_path / "graded.ipynb", {"DATA": "synthetic"})
    seconds = time.perf_counter() - started
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors == []
    printed = {c.id: "".join(o.get("text", "") for o in c.get("outputs", []))
               for c in nb.cells if c.cell_type == "code"}
    heavy = ["data", "cv-run", "baselines-run", "paired-run", "shift-run", "fusion-run"]
    assert all(SKIPPED_NOTE in printed[cell] for cell in heavy)
    assert "grading yes" in printed["setup"]
    assert seconds < 60, f"grading-mode run took {seconds:.0f} s"
