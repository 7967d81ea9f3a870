"""The reference run that later notebooks fall back on: trains, saves a valid run folder,
and is only used when the student's own run is missing or broken."""

from __future__ import annotations

import json

import pytest

from casekit import reference
from casekit.runs import load_run


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEKIT_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # tiny model, seconds
    return tmp_path / "runs"


def test_grading_reference_run_is_a_valid_binary_run(runs):
    run_dir = reference.train_reference("binary")
    assert run_dir == runs / "reference_binary_grading"
    run = load_run(run_dir)
    assert run.info["task"] == "binary" and run.info["synthetic"] is True
    assert set(run.predictions["split"]) == {"train", "val", "test"}
    assert run.predictions["score"].between(0, 1).all()
    # no patient crosses splits in the saved predictions
    assert run.predictions.groupby("group_id")["split"].nunique().max() == 1
    assert (run_dir / reference.MODEL_FILE).stat().st_size > 0


def test_find_or_train_run_prefers_the_students_run_and_skips_a_broken_one(runs, capsys):
    reference_dir = reference.train_reference("multiclass")
    scores = [c for c in load_run(reference_dir).predictions if c.startswith("score_")]
    assert len(scores) == 6

    student = runs / "sixclass"
    student.mkdir(parents=True)
    (student / "run.json").write_text(json.dumps({"task": "multiclass"}))  # broken
    assert reference.find_or_train_run("multiclass") == reference_dir
    assert "Ignoring the run" in capsys.readouterr().out

    for name in ("run.json", "predictions.csv"):
        (student / name).write_bytes((reference_dir / name).read_bytes())
    assert reference.find_or_train_run("multiclass") == student


def test_unknown_task_is_refused(runs):
    with pytest.raises(ValueError, match="binary"):
        reference.find_or_train_run("regression")
