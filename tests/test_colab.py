"""Colab: the install leaves preloaded packages alone or says "restart now"; widgets enabled."""

from __future__ import annotations

import importlib
import os
import sys
import time
import types
from pathlib import Path

import matplotlib
import pytest
from packaging.requirements import Requirement

import casekit.notebook as nbk
from casekit import colab

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


def write_package(site: Path, version: str) -> None:
    """A tiny installed distribution ``fake-widgets`` (module ``fake_widgets``) at ``version``."""
    for old in site.glob("fake_widgets-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    package = site / "fake_widgets"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(f'__version__ = "{version}"\n')
    info = site / f"fake_widgets-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: fake-widgets\nVersion: {version}\n")
    (info / "top_level.txt").write_text("fake_widgets\n")
    (info / "RECORD").write_text(f"fake_widgets/__init__.py,,\n{info.name}/METADATA,,\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_widgets", raising=False)
    yield tmp_path
    sys.modules.pop("fake_widgets", None)


def test_install_that_replaces_a_loaded_package_says_restart_now(site, capsys):
    write_package(site, "7.7.1")
    importlib.import_module("fake_widgets")  # the kernel loaded 7.7.1 at start
    colab.check_install(["fake_widgets"])  # nothing replaced yet
    assert "no package this session had loaded was changed" in capsys.readouterr().out

    write_package(site, "8.1.5")  # what `%pip install casekit` did on disk
    with pytest.raises(colab.RestartRequired) as error:
        colab.check_install(["fake_widgets"])
    message = str(error.value)
    assert message.startswith("Restart the session now")
    assert "fake-widgets 7.7.1 is loaded, 8.1.5 is installed" in message
    assert "Runtime → Restart session" in message

    # after a restart the install is older than the session: nothing to report, no loop
    assert colab.stale_packages(["fake_widgets"], since=os.path.getmtime(site) + 60) == []


def test_version_spelt_differently_but_not_reinstalled_is_not_stale(site):
    write_package(site, "4.10.0.84")  # like opencv-python, whose cv2.__version__ is 4.10.0
    (site / "fake_widgets" / "__init__.py").write_text('__version__ = "4.10.0"\n')
    importlib.import_module("fake_widgets")
    info = next(site.glob("fake_widgets-*.dist-info"))
    os.utime(info, (0, 0))  # installed long before this session started
    assert colab.stale_packages(["fake_widgets"]) == []
    os.utime(info)  # installed during this session: now it counts
    assert [p.installed for p in colab.stale_packages(["fake_widgets"])] == ["4.10.0.84"]


def test_this_environment_has_no_stale_packages():
    assert 0 < colab.session_start() <= time.time()
    assert colab.stale_packages() == []


def test_setup_in_colab_enables_the_widget_manager(monkeypatch, capsys):
    calls = []
    fake = types.ModuleType("google.colab")
    fake.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append(1))
    fake.drive = types.SimpleNamespace(mount=lambda *a, **k: None)
    fake.userdata = types.SimpleNamespace(get=lambda name: "")
    monkeypatch.setitem(sys.modules, "google.colab", fake)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with matplotlib.rc_context():
        session = nbk.setup(seed=0, persist=None)
    assert session.environment.colab and calls == [1]
    monkeypatch.setitem(sys.modules, "google.colab", None)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert colab.enable_widgets() is False and calls == [1]  # JupyterLab, papermill: nothing


def test_colab_pins_satisfy_casekit_requirements():
    """pip changes no package whose installed version satisfies casekit's requirement."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = {Requirement(line).name: Requirement(line) for line in project["dependencies"]}
    pins = {}
    for line in (REPO / ".ci" / "constraints-colab.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name] = version
    assert {"ipywidgets", "numpy", "pandas", "keras", "kagglehub"} <= set(pins)
    for name, version in pins.items():
        if name in requirements:
            assert requirements[name].specifier.contains(version), (name, version)
