"""casekit.runs: the run-folder format (save, load, validate) and the one history merge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _runs_fixtures import HISTORY, PAD_CLASSES, make_info, make_predictions

from casekit import runs
from casekit.history import merge_histories, stage_lengths
from casekit.runs import load_run, save_run


def test_save_and_load_round_trip(tmp_path):
    frame = make_predictions("multiclass")
    paths = save_run(tmp_path / "run", frame, make_info("multiclass"), history=HISTORY)
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
    assert run.figure("gradcam") is None


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
    frame, info = change(make_predictions("binary", n_patients=9), make_info("binary"))
    with pytest.raises(ValueError, match=message):
        save_run(tmp_path / "run", frame, info)
    assert not (tmp_path / "run" / runs.RUN_FILE).exists()


def test_multiclass_scores_must_sum_to_one(tmp_path):
    frame = make_predictions("multiclass", n_patients=9)
    frame["score_ACK"] += 0.5
    with pytest.raises(ValueError, match="sum to 1"):
        save_run(tmp_path, frame, make_info("multiclass"))


def test_load_run_names_the_missing_file_and_bad_json(tmp_path):
    with pytest.raises(FileNotFoundError, match="run.json"):
        load_run(tmp_path)
    save_run(tmp_path, make_predictions("binary", n_patients=6), make_info("binary"))
    (tmp_path / runs.RUN_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"run.json is not valid JSON"):
        load_run(tmp_path)


def test_merge_histories_joins_stages_in_order():
    class History:  # what keras.callbacks.History exposes
        history = {"loss": [0.5, 0.4], "val_loss": [0.7, 0.72]}

    head = {"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.8], "learning_rate": [1e-3] * 3}
    merged = merge_histories(head, None, History())
    assert merged == {"loss": [1.0, 0.8, 0.6, 0.5, 0.4], "val_loss": [1.1, 0.9, 0.8, 0.7, 0.72],
                      "learning_rate": [1e-3] * 3}
    assert merge_histories([head, History()]) == merged  # a list is the same as separate parts
    assert stage_lengths([head, None, History()]) == [3, 2]
    with pytest.raises(ValueError, match="no training history"):
        merge_histories(None, {})
    with pytest.raises(TypeError, match="History"):
        merge_histories([1.0, 2.0])


def test_save_run_merges_a_list_of_histories(tmp_path):
    save_run(tmp_path, make_predictions("binary", n_patients=6), make_info("binary"),
             history=[{"loss": [0.9, 0.8]}, {"loss": [0.5]}])
    assert load_run(tmp_path).history == {"loss": [0.9, 0.8, 0.5]}


def test_options_are_keyword_only(tmp_path):
    with pytest.raises(TypeError):
        save_run(tmp_path, make_predictions("binary", n_patients=6), make_info("binary"),
                 HISTORY)
