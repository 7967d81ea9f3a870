"""casekit.environment: one detection module behind the set-up cell, doctor and Kaggle."""

from __future__ import annotations

import os
import sys
import types

import matplotlib
import pytest
from kagglehub.config import get_kaggle_credentials

import casekit.notebook as nbk
from casekit import doctor, environment
from casekit.datasets import kaggle_credentials_source
from tests._colab_stub import stand_in_colab

SECRET = "s3cr3t-token-never-shown"


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A clean machine: empty HOME, no Kaggle variables, not Colab, not grading, no GPU."""
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "COLAB_RELEASE_TAG",
                 "NBGRADER_EXECUTION", "TBE_RUNTIME_ADDR"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setitem(sys.modules, "google.colab", None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return types.SimpleNamespace(home=home, bin=bin_dir)


def fake_nvidia_smi(folder, name: str) -> None:
    """An ``nvidia-smi`` that answers the name query as a Colab T4 machine does."""
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\necho '{name}'\n")
    script.chmod(0o755)


def test_plain_machine(machine):
    env = environment.detect()
    assert (env.colab, env.grading, env.gpus, env.kaggle_credentials) == (False, False, (), None)
    assert "GPU no" in env.summary() and "Kaggle credentials none" in env.summary()
    assert not environment.in_colab()  # a None entry in sys.modules is not Colab


def test_setup_cell_and_doctor_report_the_same_environment(machine, monkeypatch, capsys):
    fake_nvidia_smi(machine.bin, "Tesla T4")
    stand_in_colab(monkeypatch, {"KAGGLE_API_TOKEN": SECRET})
    with matplotlib.rc_context():
        env = nbk.setup(seed=2, persist=None).environment
    printed = capsys.readouterr().out
    report = doctor.report()
    line = environment.detect().summary()
    assert line in printed and line in report  # one module, one line, both places
    assert "GPU Tesla T4" in line and "Colab yes" in line
    assert "Kaggle credentials environment variable KAGGLE_API_TOKEN" in line
    assert env.gpu == "Tesla T4" and env.colab is True
    assert env.kaggle_credentials == kaggle_credentials_source()
    assert os.environ["KAGGLE_API_TOKEN"] == SECRET  # copied for kagglehub
    assert SECRET not in printed + report
    assert get_kaggle_credentials().api_key == SECRET  # kagglehub reads what was copied


def test_colab_secret_before_copying(machine, monkeypatch):
    stand_in_colab(monkeypatch, {"KAGGLE_USERNAME": "ada", "KAGGLE_KEY": SECRET})
    assert environment.kaggle_credentials_source() == (
        "Colab secrets KAGGLE_USERNAME and KAGGLE_KEY")
    assert environment.copy_colab_secrets() == ["KAGGLE_USERNAME", "KAGGLE_KEY"]
    assert environment.kaggle_credentials_source() == (
        "environment variables KAGGLE_USERNAME and KAGGLE_KEY")


@pytest.mark.parametrize("name", ["access_token", "access_token.txt"])
def test_access_token_files(machine, name):
    token = machine.home / ".kaggle" / name
    token.parent.mkdir()
    token.write_text("\n")
    assert environment.kaggle_credentials_source() is None  # empty: not credentials
    token.write_text(SECRET + "\n")
    assert environment.kaggle_credentials_source() == f"file {token}"
    assert get_kaggle_credentials().api_key == SECRET  # kagglehub agrees
