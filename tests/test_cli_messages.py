"""The command line says which data it acts on, and fails in two lines that say what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from casekit import synthetic
from casekit.cli import main


def _casekit(*args: str, env_drop: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in env_drop} | env
    return subprocess.run([sys.executable, "-m", "casekit.cli", *args], capture_output=True,
                          text=True, timeout=120, env=environ)


@pytest.mark.parametrize("url, host, reason", [
    ("http://casekit-offline.invalid/pad.zip", "casekit-offline.invalid", "does not resolve"),
    ("http://127.0.0.1:9/pad.zip", "127.0.0.1", "connection refused"),
])
def test_offline_download_fails_in_two_lines_that_say_what_to_do(tmp_path, url, host, reason):
    out = _casekit("download", "pad_ufes_20", "--source", "url", "--url", url,
                   "--root", str(tmp_path / "pad"))
    assert out.returncode == 2
    target = tmp_path / "pad"
    assert out.stdout.splitlines() == [f"pad_ufes_20 (real data): from {url} into {target}"]
    lines = out.stderr.splitlines()
    assert len(lines) == 2, out.stderr
    assert lines[0].startswith(f"casekit download: error: could not reach {host}: ")
    assert reason in lines[0]
    assert "--existing PATH" in lines[1] and "--source kaggle" in lines[1]
    assert not (tmp_path / "pad").exists()


def test_without_kaggle_credentials_the_source_is_not_switched_silently(tmp_path):
    out = _casekit("download", "pad_ufes_20", "--root", str(tmp_path / "pad"),
                   env_drop=("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"),
                   HOME=str(tmp_path), KAGGLE_CONFIG_DIR=str(tmp_path / "kaggle"))
    assert out.returncode == 2
    assert "from Kaggle (mahdavi1202/skin-cancer)" in out.stdout
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and "no Kaggle API credentials found" in lines[0]
    assert "--source official" in lines[1] and "--existing PATH" in lines[1]
    assert "mendeley" not in (out.stdout + out.stderr).lower()


def test_refused_kaggle_credentials_are_not_reported_as_missing(tmp_path, monkeypatch, capsys):
    import kagglehub
    import requests

    def refused(handle, *args, **kwargs):
        response = requests.Response()
        response.status_code = 401
        raise requests.HTTPError("401 Unauthorized", response=response)

    monkeypatch.setenv("KAGGLE_API_TOKEN", "expired-token")
    monkeypatch.setattr(kagglehub, "dataset_download", refused)
    assert main(["download", "pad_ufes_20", "--root", str(tmp_path / "pad")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert lines[0] == ("casekit download: error: Kaggle refused the credentials from "
                        "environment variable KAGGLE_API_TOKEN for mahdavi1202/skin-cancer "
                        "(wrong or expired?).")
    assert "expired-token" not in lines[0] + lines[1]
    assert "--source official" in lines[1] and "--existing PATH" in lines[1]


def test_cache_says_it_cached_synthetic_data_and_where(tmp_path, capsys):
    root = synthetic.make("pad_ufes_20", root=tmp_path / "pad", n_images=60, progress=False)
    assert main(["cache", "pad_ufes_20", "--root", str(root), "--size", "32",
                 "--workers", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"pad_ufes_20 (synthetic data in {root}): 60 images at 32px cached")
    assert "--real" in out[1]


def test_clean_says_what_it_removes_and_keeps_runs_and_other_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CASEKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CASEKIT_CACHE", str(tmp_path / "data" / "cache"))
    monkeypatch.delenv("CASEKIT_RUNS", raising=False)
    root = synthetic.make("pad_ufes_20", n_images=60, progress=False)
    assert main(["cache", "pad_ufes_20", "--root", str(root), "--size", "32",
                 "--workers", "1"]) == 0
    run = tmp_path / "data" / "runs" / "binary"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"task": "binary"}))
    mine = tmp_path / "data" / "notes.txt"
    mine.write_text("mine")
    capsys.readouterr()

    assert main(["clean", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove 2 folder(s)" in out and root.exists()
    assert main(["clean"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("casekit clean: removed 2 folder(s)")
    assert out[1].startswith("  image cache: ") and out[2].startswith(f"  synthetic data: {root}")
    assert out[3] == f"  kept: training runs in {tmp_path / 'data' / 'runs'} (add --runs)"
    assert not root.exists() and not (tmp_path / "data" / "cache" / "pad_ufes_20").exists()
    assert run.exists() and mine.read_text() == "mine"
    assert main(["clean", "--runs"]) == 0
    assert "training run: " in capsys.readouterr().out and not run.exists() and mine.exists()


def test_network_failures_are_recognised_by_type_not_message_text():
    from casekit.cli import _unreachable
    from casekit.datasets import DatasetError

    request = requests.Request("GET", "https://data.example.org/pad.zip").prepare()
    try:
        try:
            raise requests.ConnectTimeout("no words about time here", request=request)
        except requests.ConnectTimeout as error:
            raise DatasetError("download failed") from error
    except DatasetError as wrapped:
        line = _unreachable(wrapped)
    assert line == "could not reach data.example.org: the connection timed out."
    assert _unreachable(DatasetError("Connection refused, timed out")) is None  # words alone
