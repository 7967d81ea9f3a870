"""`import casekit as ck`: every public name resolves, the import is light, setup is one call."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib
import pytest

import casekit as ck
from casekit import notebook, persist

DEEP_LEARNING = {"models", "training", "finetune", "losses", "gradcam", "resolve_weights",
                 "frozen_features"}


def run_python(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_light_names_import_neither_keras_nor_tensorflow():
    light = sorted(set(ck.__all__) - DEEP_LEARNING - {"__version__"})
    found = run_python(
        "import json, sys\nimport casekit as ck\n"
        "bare = sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)\n"
        f"for name in {light!r}:\n    getattr(ck, name)\n"
        "used = sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)\n"
        "print(json.dumps({'bare': bare, 'used': used}))"
    )
    assert found == {"bare": [], "used": []}


def test_every_public_name_resolves_and_deep_learning_names_bring_keras():
    found = run_python(
        "import json, sys\nimport casekit as ck\n"
        "ck.metrics\nbefore = 'keras' in sys.modules\n"
        "missing = [n for n in ck.__all__ if getattr(ck, n, None) is None]\n"
        "print(json.dumps({'before': before, 'after': 'keras' in sys.modules,"
        " 'missing': missing, 'head': callable(ck.models.classification_head)}))"
    )
    assert found == {"before": False, "after": True, "missing": [], "head": True}


def test_names_are_the_modules_own_objects():
    assert ck.load is ck.datasets.load and ck.merge_histories is ck.runs.merge_histories
    assert ck.setup is notebook.setup and ck.persist is persist
    assert set(dir(ck)) >= {"setup", "metrics", "plots", "cache_for", "is_grading"}
    with pytest.raises(AttributeError, match="no attribute 'plot_roc'"):
        ck.plot_roc  # noqa: B018  (a figure function lives in ck.plots)


def test_setup_is_one_call_for_storage_seeds_and_grading(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("CASEKIT_DATA", str(tmp_path))
    with matplotlib.rc_context():
        session = ck.setup(seed=5, persist="drive")
    assert session.grading and session.seed == 5
    assert session.storage.data_root == tmp_path and session.storage.persistent
    printed = capsys.readouterr().out
    assert "grading yes" in printed and printed.rstrip().endswith("· seed 5")
    with pytest.raises(ValueError, match='PERSIST must be "drive" or None'):
        ck.setup(persist="gdrive")
