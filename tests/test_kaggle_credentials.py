"""Where Kaggle credentials come from, and the message when there are none (no network)."""

from __future__ import annotations

import json
import socket
import sys
import types

import pytest
from kagglehub.config import get_kaggle_credentials

from casekit import datasets
from casekit.datasets import KaggleCredentialsError, kaggle_credentials_source
from casekit.datasets.download import choose_source

SECRET = "s3cr3t-value-never-shown"


@pytest.fixture
def clean(monkeypatch, tmp_path):
    """No credentials anywhere: empty HOME and KAGGLE_CONFIG_DIR, no env vars, no Colab."""
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "TBE_RUNTIME_ADDR",
                 "KAGGLE_KERNEL_RUN_TYPE"):
        monkeypatch.delenv(name, raising=False)
    home, config = tmp_path / "home", tmp_path / "kaggle-config"
    home.mkdir()
    config.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config))
    monkeypatch.setitem(sys.modules, "google.colab", None)  # not in Colab, even if installed
    return types.SimpleNamespace(home=home, config=config)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_no_credentials_found(clean):
    assert kaggle_credentials_source() is None
    assert get_kaggle_credentials() is None  # kagglehub agrees


def test_missing_credentials_message_says_how_to_set_them(clean, no_network, tmp_path):
    with pytest.raises(KaggleCredentialsError) as error:
        datasets.download("ham10000", tmp_path / "ham", source="kaggle")
    message = str(error.value)
    assert "No Kaggle API credentials found" in message
    assert "kmader/skin-cancer-mnist-ham10000" in message
    assert "Secrets" in message and "KAGGLE_API_TOKEN" in message
    assert "KAGGLE_USERNAME and KAGGLE_KEY" in message
    assert str(clean.config / "kaggle.json") in message and "KAGGLE_CONFIG_DIR" in message
    assert "use_existing('ham10000', path)" in message
    assert not (tmp_path / "ham").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ham")] == []


def test_auto_without_credentials(clean, no_network, tmp_path):
    with pytest.raises(KaggleCredentialsError, match="doi.org/10.7910/DVN/DBW86T"):
        datasets.download("ham10000", tmp_path / "ham")  # no official files for HAM10000
    assert choose_source(datasets.get_spec("pad_ufes_20")) == "official"


def test_environment_variables(clean, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "student")
    monkeypatch.setenv("KAGGLE_KEY", SECRET)
    source = kaggle_credentials_source()
    assert source == "environment variables KAGGLE_USERNAME and KAGGLE_KEY"
    assert get_kaggle_credentials() is not None
    assert choose_source(datasets.get_spec("ham10000")) == "kaggle"
    monkeypatch.delenv("KAGGLE_KEY")
    assert kaggle_credentials_source() is None  # a username alone is not enough


def test_api_token_variable_comes_first(clean, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    monkeypatch.setenv("KAGGLE_USERNAME", "student")
    monkeypatch.setenv("KAGGLE_KEY", SECRET)
    assert kaggle_credentials_source() == "environment variable KAGGLE_API_TOKEN"
    assert get_kaggle_credentials().api_key == SECRET


def test_kaggle_json_in_config_dir_and_in_home(clean, monkeypatch):
    path = clean.config / "kaggle.json"
    path.write_text(json.dumps({"username": "student", "key": SECRET}))
    assert kaggle_credentials_source() == f"file {path}"
    assert get_kaggle_credentials().username == "student"

    monkeypatch.delenv("KAGGLE_CONFIG_DIR")
    assert kaggle_credentials_source() is None
    home_file = clean.home / ".kaggle" / "kaggle.json"
    home_file.parent.mkdir()
    home_file.write_text(path.read_text())
    assert kaggle_credentials_source() == f"file {home_file}"


def test_broken_kaggle_json_is_not_credentials_and_is_explained(clean, no_network, tmp_path):
    (clean.config / "kaggle.json").write_text('{"username": "student"')
    assert kaggle_credentials_source() is None
    with pytest.raises(KaggleCredentialsError, match="kaggle.json exists but is not valid JSON"):
        datasets.download("ham10000", tmp_path / "ham", source="kaggle")
    (clean.config / "kaggle.json").write_text('{"username": "student"}')
    with pytest.raises(KaggleCredentialsError, match="lacks a 'username' or 'key'"):
        datasets.download("ham10000", tmp_path / "ham", source="kaggle")


def test_access_token_file(clean):
    token = clean.home / ".kaggle" / "access_token"
    token.parent.mkdir()
    token.write_text(SECRET + "\n")
    assert kaggle_credentials_source() == f"file {token}"
    assert get_kaggle_credentials().api_key == SECRET


def test_colab_secrets(clean, monkeypatch):
    secrets = {"KAGGLE_API_TOKEN": ""}

    def get(name):
        if name not in secrets:
            raise KeyError(name)  # what Colab does for a secret that does not exist
        return secrets[name]

    colab = types.ModuleType("google.colab")
    colab.userdata = types.SimpleNamespace(get=get)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert kaggle_credentials_source() is None
    secrets.update(KAGGLE_USERNAME="student", KAGGLE_KEY=SECRET)
    assert kaggle_credentials_source() == "Colab secrets KAGGLE_USERNAME and KAGGLE_KEY"
    secrets["KAGGLE_API_TOKEN"] = SECRET
    assert kaggle_credentials_source() == "Colab secret KAGGLE_API_TOKEN"


def test_sources_never_contain_the_secret(clean, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    assert SECRET not in kaggle_credentials_source()
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    (clean.config / "kaggle.json").write_text(json.dumps({"username": "u", "key": SECRET}))
    assert SECRET not in kaggle_credentials_source()
