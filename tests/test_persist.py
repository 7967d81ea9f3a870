"""Runs survive Colab sessions: PERSIST = "drive" puts them (and the image cache) in Drive.

Google Drive is a stand-in: a fake ``google.colab`` module whose ``drive.mount`` links the
mount point to one temporary folder (the user's Drive, the same in every session), while
each session gets a fresh mount point (a fresh Colab machine).
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from casekit import paths, persist, reference
from casekit.runs import load_run, save_run
from casekit_course.config import course_root

ROOT = course_root()


def _fake_colab(drive_folder: Path, mounted: list) -> types.ModuleType:
    def mount(mountpoint, force_remount=False):
        mounted.append(mountpoint)
        Path(mountpoint).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(drive_folder, mountpoint)  # a folder that outlives the session, like Drive

    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=mount)
    return colab


def _new_session(monkeypatch, drive_folder: Path, mounted: list) -> None:
    """A fresh Colab machine: google.colab importable, no casekit variables set."""
    monkeypatch.setitem(sys.modules, "google.colab", _fake_colab(drive_folder, mounted))
    for name in ("CASEKIT_DATA", "CASEKIT_CACHE", "CASEKIT_RUNS", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)


def _binary_run(run_dir: Path) -> None:
    predictions = [{"image_id": f"PAT_{i}_0", "group_id": f"PAT_{i}",
                    "split": ("train", "val", "test")[i % 3], "y_true": i % 2,
                    "score": 0.2 + 0.6 * (i % 2)} for i in range(30)]
    save_run(run_dir, pd.DataFrame(predictions),
             {"dataset": "pad_ufes_20", "synthetic": True, "task": "binary",
              "class_names": ["not cancer", "cancer"]})


def test_a_new_session_finds_the_runs_of_earlier_ones_in_drive(tmp_path, monkeypatch, capsys):
    drive, mounted = tmp_path / "drive", []
    drive.mkdir()
    # Session 1 (notebook 02): mount Drive, save the binary run.
    _new_session(monkeypatch, drive, mounted)
    session1 = tmp_path / "machine1" / "content" / "drive"
    storage = persist.setup("drive", mount_point=session1)
    expected = session1 / persist.DRIVE_FOLDER
    assert storage.persistent and storage.runs_root == expected / "runs"
    assert paths.runs_root() == expected / "runs" and paths.cache_root() == expected / "cache"
    # raw images stay on the machine's disk (Drive is slow for thousands of small files)
    assert paths.data_root() == Path.home() / "casekit_data" == storage.data_root
    _binary_run(paths.runs_root() / "binary")
    assert "Google Drive, kept between sessions" in capsys.readouterr().out

    # Session 2 (notebook 04) on a fresh machine: the run is found, no training.
    _new_session(monkeypatch, drive, mounted)
    session2 = tmp_path / "machine2" / "content" / "drive"
    persist.setup("drive", mount_point=session2)
    found = reference.find_or_train_run("binary")
    assert found == session2 / persist.DRIVE_FOLDER / "runs" / "binary"
    assert "Using the run in" in capsys.readouterr().out
    assert len(load_run(found).predictions) == 30
    assert mounted == [str(session1), str(session2)]


def test_without_drive_the_notebook_says_runs_vanish(tmp_path, monkeypatch, capsys):
    _new_session(monkeypatch, tmp_path / "drive", [])
    storage = persist.setup(None, mount_point=tmp_path / "content" / "drive")
    assert not storage.persistent
    assert "vanish when the session ends" in capsys.readouterr().out
    assert "CASEKIT_DATA" not in os.environ

    def refuse(mountpoint, force_remount=False):
        raise ValueError("mount failed: credential propagation was unsuccessful")

    sys.modules["google.colab"].drive.mount = refuse
    storage = persist.setup("drive", mount_point=tmp_path / "content" / "drive")
    out = capsys.readouterr().out
    assert not storage.persistent
    assert "Google Drive could not be mounted (mount failed: credential propagation" in out
    assert "vanish when the session ends" in out


def test_outside_colab_and_while_grading_nothing_changes(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "google.colab", None)  # not importable: not Colab
    before = paths.data_root()
    assert persist.setup("drive").data_root == before
    _new_session(monkeypatch, tmp_path / "drive", mounted := [])
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert persist.setup("drive").persistent and mounted == []
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match='PERSIST must be "drive" or None'):
        persist.setup("gdrive")


def _trains(nb) -> bool:
    source = "".join(c.source for c in nb.cells if c.cell_type == "code")
    words = (".fit(", "find_or_train_run(", "train_reference(", "EPOCHS")
    return any(word in source for word in words)


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*/*.ipynb")),
                         ids=lambda p: p.parent.name)
def test_notebooks_offer_drive_and_ask_for_a_gpu_when_they_train(path):
    nb = nbformat.read(path, as_version=4)
    parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert 'PERSIST = "drive"' in parameters.source
    setup = next(c.source for c in nb.cells if c.cell_type == "code" and "%pip" in c.source)
    # one call (ck.setup(..., persist=PERSIST)), or the older pair in this order
    assert "persist=PERSIST" in setup or \
        setup.index("persist.setup(PERSIST)") < setup.index("nbk.setup(")
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "vanishes when the session ends" in text
    if _trains(nb):
        assert nb.metadata.get("accelerator") == "GPU", "Colab must offer a GPU runtime"
        assert nb.metadata.colab.get("gpuType") == "T4"
