"""The ``casekit`` command line: doctor never shows secrets, synthetic/cache/demo really run."""

from __future__ import annotations

import json

import pandas as pd

from casekit.cli import main
from casekit.splits import check_no_group_leakage
from casekit_course.__main__ import main as course_main


def test_doctor_reports_where_credentials_are_but_never_their_value(monkeypatch, capsys):
    monkeypatch.setenv("KAGGLE_USERNAME", "student42")
    monkeypatch.setenv("KAGGLE_KEY", "s3cr3t-kaggle-key-value")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Kaggle credentials: found" in out
    assert "s3cr3t-kaggle-key-value" not in out
    assert "Keras backend:" in out and "casekit 0.1.0" in out


def test_doctor_without_credentials_says_how_to_get_them(monkeypatch, tmp_path, capsys):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["doctor"]) == 0
    assert "Kaggle credentials: not found" in capsys.readouterr().out


def test_synthetic_then_cache_commands(tmp_path, capsys):
    root = tmp_path / "pad"
    assert main(["synthetic", "pad_ufes_20", "--root", str(root), "--n-images", "60"]) == 0
    assert (root / "SYNTHETIC.json").exists()
    assert main(["cache", "pad_ufes_20", "--root", str(root), "--size", "32",
                 "--workers", "1"]) == 0
    assert "60 images at 32px cached" in capsys.readouterr().out


def test_bad_input_is_one_clear_line_not_a_traceback(tmp_path, capsys):
    assert main(["download", "ham10000", "--existing", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("casekit download: error:") and "Traceback" not in err


def test_demo_writes_leak_free_summaries(tmp_path, capsys):
    assert course_main(["demo", "--data-only", "--out", str(tmp_path), "--size", "32",
                 "--n-images", "120"]) == 0
    for name in ("ham10000", "pad_ufes_20"):
        summary = json.loads((tmp_path / f"{name}_summary.json").read_text())
        assert summary["synthetic"] is True and summary["images"] == 120
        assert summary["cache"]["shape"] == [120, 32, 32, 3]
        splits = pd.read_csv(tmp_path / f"{name}_splits.csv")
        assert set(splits["split"]) == {"train", "val", "test"}
        check_no_group_leakage(splits)
    assert "[demo] pad_ufes_20" in capsys.readouterr().out
