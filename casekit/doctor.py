"""``casekit doctor``: what this machine has, in one screen, for a bug report or a first run.

Reports versions, the Keras backend, GPUs, whether Kaggle credentials are found (where,
never their value) and which datasets are present.

Example:
    >>> from casekit.doctor import package_versions
    >>> "numpy" in package_versions()
    True
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata

from casekit import __version__
from casekit.datasets import describe_datasets, kaggle_credentials_source
from casekit.paths import cache_root, data_root

PACKAGES = ("numpy", "pandas", "pillow", "scikit-learn", "keras", "tensorflow",
            "tensorflow-cpu", "jax", "torch", "kagglehub", "nbgrader", "papermill")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages casekit cares about, without importing them."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def nvidia_gpus() -> list[str]:
    """GPU names reported by ``nvidia-smi``; empty when there is none (or no driver)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def keras_backend() -> str:
    """The Keras backend that ``import keras`` will use (from the environment or config)."""
    return os.environ.get("KERAS_BACKEND") or _configured_backend()


def _configured_backend() -> str:
    config = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")),
                          "keras.json")
    try:
        import json

        with open(config, encoding="utf-8") as handle:
            return json.load(handle).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def report() -> str:
    """The full doctor report as text."""
    lines = [
        f"casekit {__version__} on Python {platform.python_version()} ({platform.system()})",
        f"Keras backend: {keras_backend()}",
    ]
    gpus = nvidia_gpus()
    lines.append(f"GPU: {', '.join(gpus)}" if gpus else
                 "GPU: none found (training runs on the CPU: use small image sizes)")
    lines.append("Packages: " + ", ".join(f"{k} {v}" for k, v in package_versions().items()))
    source = kaggle_credentials_source()
    lines.append(f"Kaggle credentials: found ({source})" if source else
                 "Kaggle credentials: not found (needed only for `casekit download`; "
                 "see README, 'Using the real data')")
    lines.append(f"Data root: {data_root()}   cache: {cache_root()}")
    found = describe_datasets(data_root())
    if not found:
        lines.append("Datasets: none yet (run `casekit synthetic` or `casekit download`)")
    for entry in found:
        lines.append("Dataset: " + ", ".join(f"{k}={v}" for k, v in entry.items()))
    return "\n".join(lines)
