"""casekit.report: run folders and the generated results document."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from casekit import report
from casekit.report import load_run, save_run, write_results_document

SECTIONS = [
    "## Data and split protocol", "## Metrics", "## ROC and precision–recall curves",
    "## Confusion matrices", "## Calibration", "## Subgroup results", "## Limitations",
    "## Not a diagnostic tool",
]
PAD_CLASSES = ["ACK", "BCC", "MEL", "NEV", "SCC", "SEK"]


def _predictions(task: str, n_patients: int = 150, seed: int = 0) -> pd.DataFrame:
    """Predictions of a made-up model: 1–3 images per patient, each patient in one split."""
    rng = np.random.default_rng(seed)
    k = 2 if task == "binary" else len(PAD_CLASSES)
    rows = []
    for patient in range(n_patients):
        split = ["train", "val", "test"][patient % 3]
        sex = ["male", "female", None][(patient // 3) % 3]
        for image in range(1 + patient % 3):
            rows.append({
                "image_id": f"PAT_{patient}_{image}", "group_id": f"PAT_{patient}",
                "split": split, "y_true": int(rng.integers(0, k)), "sex": sex,
                "age": float(rng.normal(60, 15)), "site": ["face", "back"][image % 2],
                "skin_type": [1, 2, 3, 5, None][patient % 5],
            })
    frame = pd.DataFrame(rows)
    frame["skin_type"] = frame["skin_type"].astype("Int64")
    y = frame["y_true"].to_numpy()
    if task == "binary":
        frame.insert(4, "score", np.clip(0.4 * y + 0.6 * rng.random(len(y)), 0, 1))
    else:
        proba = rng.dirichlet(np.ones(k), len(y))
        proba[np.arange(len(y)), y] += 0.5
        proba /= proba.sum(axis=1, keepdims=True)
        for j, name in enumerate(PAD_CLASSES):
            frame.insert(4 + j, f"score_{name}", proba[:, j])
    return frame


def _info(task: str, synthetic: bool = True) -> dict:
    names = ["not cancer", "cancer"] if task == "binary" else PAD_CLASSES
    return {"dataset": "pad_ufes_20", "synthetic": synthetic, "task": task,
            "class_names": names, "split": {"protocol": "StratifiedGroupKFold", "fold": 0},
            "seeds": {"split": 42}, "model": "EfficientNetB0", "image_size": 224,
            "epochs": {"head": 2, "fine_tune": 1}, "fine_tune_epoch": 2}


HISTORY = {"loss": [0.9, 0.7, 0.6], "val_loss": [1.0, 0.8, 0.75], "accuracy": [0.5, 0.6, 0.7],
           "val_accuracy": [0.5, 0.55, 0.6]}


@pytest.fixture(scope="module")
def binary_document(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("binary_run")
    save_run(run_dir, _predictions("binary"), _info("binary"), history=HISTORY)
    return run_dir, write_results_document(run_dir, n_boot=60, n_boot_subgroups=20)


def test_save_and_load_round_trip(tmp_path):
    frame = _predictions("multiclass")
    paths = save_run(tmp_path / "run", frame, _info("multiclass"), history=HISTORY)
    assert sorted(paths) == ["history", "predictions", "run"]
    run = load_run(tmp_path / "run")
    assert run.info["model"] == "EfficientNetB0" and "timestamp" in run.info
    assert run.history == HISTORY
    assert run.score_columns() == [f"score_{name}" for name in PAD_CLASSES]
    assert list(run.predictions.columns[:4]) == ["image_id", "group_id", "split", "y_true"]
    assert run.predictions["skin_type"].dtype == "Int64"
    assert run.predictions["image_id"].tolist() == frame["image_id"].tolist()
    np.testing.assert_allclose(run.predictions["score_MEL"], frame["score_MEL"])
    assert run.predictions["skin_type"].isna().sum() == frame["skin_type"].isna().sum()
    assert not list((tmp_path / "run").glob("*.part"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f, i: (f.drop(columns="group_id"), i), "group_id"),
        (lambda f, i: (f.assign(split="holdout"), i), "unknown split"),
        (lambda f, i: (f.assign(score=f["score"] * 3), i), r"\[0, 1\]"),
        (lambda f, i: (f.assign(y_true=2), i), "class indices"),
        (lambda f, i: (pd.concat([f, f.iloc[:1]]), i), "image_id repeats"),
        (lambda f, i: (f, {**i, "class_names": ["a", "b", "c"]}), "exactly two"),
        (lambda f, i: (f, {k: v for k, v in i.items() if k != "synthetic"}), "synthetic"),
        (lambda f, i: (f, {**i, "task": "regression"}), "task must be"),
    ],
)
def test_save_run_rejects_bad_runs(tmp_path, change, message):
    frame, info = change(_predictions("binary", n_patients=9), _info("binary"))
    with pytest.raises(ValueError, match=message):
        save_run(tmp_path / "run", frame, info)
    assert not (tmp_path / "run" / report.RUN_FILE).exists()


def test_multiclass_scores_must_sum_to_one(tmp_path):
    frame = _predictions("multiclass", n_patients=9)
    frame["score_ACK"] += 0.5
    with pytest.raises(ValueError, match="sum to 1"):
        save_run(tmp_path, frame, _info("multiclass"))


def test_load_run_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="run.json"):
        load_run(tmp_path)


def test_binary_document_sections_and_synthetic_line(binary_document):
    run_dir, paths = binary_document
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert markdown.splitlines()[0].startswith("SYNTHETIC DATA")
    positions = [markdown.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "## Training curves" in markdown
    assert "Skin types V–VI are nearly absent" in markdown
    assert "no patient appears in more than one split" in markdown
    assert "Threshold chosen on the validation split" in markdown
    for name in ("roc", "pr", "confusion", "calibration", "training"):
        assert f"](figures/{name}.png)" in markdown
        assert paths["figures"][name].read_bytes()[:4] == b"\x89PNG"
    assert paths["markdown"].parent == run_dir / "report"


def test_binary_document_html(binary_document):
    _, paths = binary_document
    page = paths["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<p class="synthetic">SYNTHETIC DATA' in page
    for section in SECTIONS:
        assert f"<h2>{section.removeprefix('## ')}</h2>" in page
    assert page.count('src="data:image/png;base64,') == 5  # figures embedded
    assert "<table>" in page


def test_binary_metrics_come_from_the_test_split(binary_document):
    run_dir, paths = binary_document
    saved = json.loads(paths["metrics"].read_text(encoding="utf-8"))
    assert saved["split"] == "test"
    test = load_run(run_dir).predictions.query("split == 'test'")
    auroc = saved["report"]["metrics"]["auroc"]
    assert auroc["value"] == pytest.approx(skm.roc_auc_score(test["y_true"], test["score"]))
    assert auroc["ci_low"] < auroc["value"] < auroc["ci_high"]
    assert saved["report"]["bootstrap"]["unit"] == "group"
    assert saved["report"]["n_groups"] == test["group_id"].nunique()
    table = pd.DataFrame(**saved["report"]["subgroups"])
    assert {"sex", "age", "site", "skin_type"} <= set(table["attribute"])
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert f"{auroc['value']:.3f} ({auroc['ci_low']:.3f}–{auroc['ci_high']:.3f})" in markdown


def test_multiclass_document_real_data_falls_back_to_val(tmp_path):
    frame = _predictions("multiclass", n_patients=120)
    frame = frame[frame["split"] != "test"]
    save_run(tmp_path, frame, _info("multiclass", synthetic=False))
    paths = write_results_document(tmp_path, tmp_path / "out", title="Fold 0",
                                   n_boot=30, n_boot_subgroups=10)
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert markdown.startswith("# Fold 0")
    assert "SYNTHETIC DATA" not in markdown
    assert "SYNTHETIC DATA" not in paths["html"].read_text(encoding="utf-8")
    assert "Evaluated on the **val** split" in markdown
    assert "these are validation results" in markdown
    for section in SECTIONS:
        assert section in markdown
    assert "| class | n | recall |" in markdown
    assert "## Training curves" not in markdown  # no history saved
    saved = json.loads(paths["metrics"].read_text(encoding="utf-8"))
    val = frame[frame["split"] == "val"]
    expected = skm.balanced_accuracy_score(
        val["y_true"], val[[f"score_{c}" for c in PAD_CLASSES]].to_numpy().argmax(axis=1)
    )
    assert saved["report"]["metrics"]["balanced_accuracy"]["value"] == pytest.approx(expected)


def test_document_warns_about_leaked_groups(tmp_path):
    frame = _predictions("binary", n_patients=60)
    frame.loc[frame.index[:2], "group_id"] = "PAT_1"  # train image and patient 1 (val) share
    save_run(tmp_path, frame, _info("binary"))
    paths = write_results_document(tmp_path, n_boot=20, n_boot_subgroups=5)
    assert "appear in more than one split" in paths["markdown"].read_text(encoding="utf-8")
