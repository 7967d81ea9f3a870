"""Where casekit runs: Colab or not, grading or not, GPU, Keras backend, Kaggle credentials.

The one place that answers these questions. The notebooks' set-up
(:func:`casekit.notebook.setup`), ``casekit doctor`` and the Kaggle download
(:mod:`casekit.datasets.kaggle`) all ask :func:`detect` or the functions below, so they
always agree. Credentials are reported by WHERE they were found, never by their value.

Kaggle credentials are looked up in kagglehub's own order (kagglehub 1.0, its
``config.get_kaggle_credentials`` and ``kagglesdk.kaggle_env``): the ``KAGGLE_API_TOKEN``
environment variable, the files ``~/.kaggle/access_token`` and ``~/.kaggle/access_token.txt``,
``KAGGLE_USERNAME`` + ``KAGGLE_KEY``, ``kaggle.json`` in ``$KAGGLE_CONFIG_DIR`` or
``~/.kaggle``, then Colab secrets.

Example:
    >>> env = detect()
    >>> isinstance(env.colab, bool) and isinstance(env.gpus, tuple)
    True
    >>> env.summary().startswith("Python ")
    True
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import casekit

#: Colab secrets (key icon) that hold Kaggle credentials, in kagglehub's order.
KAGGLE_SECRETS = ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY")
#: Files holding a new-style Kaggle API token (kagglesdk reads both names).
ACCESS_TOKEN_FILES = ("access_token", "access_token.txt")


@dataclass(frozen=True)
class Environment:
    """What :func:`detect` found; ``kaggle_credentials`` is a source, never a secret.

    Attributes:
        python: Python version, e.g. ``"3.12.3"``.
        system: operating system, e.g. ``"Linux"``.
        colab: running inside Google Colab.
        grading: nbgrader is validating or autograding (``NBGRADER_EXECUTION`` set).
        gpus: names of the NVIDIA GPUs (``nvidia-smi``); empty on a CPU-only machine.
        keras_backend: the backend ``import keras`` uses (``"tensorflow"``, ``"jax"``...).
        kaggle_credentials: where Kaggle credentials were found, e.g. ``"environment
            variable KAGGLE_API_TOKEN"``; None when there are none.
        casekit: casekit's version.
    """

    python: str
    system: str
    colab: bool
    grading: bool
    gpus: tuple[str, ...]
    keras_backend: str
    kaggle_credentials: str | None
    casekit: str

    @property
    def gpu(self) -> str | None:
        """The first GPU's name, or None."""
        return self.gpus[0] if self.gpus else None

    def summary(self) -> str:
        """One line for a notebook's set-up output and the top of ``casekit doctor``."""
        return (
            f"Python {self.python} · Keras backend {self.keras_backend} · "
            f"GPU {', '.join(self.gpus) or 'no'} · grading {'yes' if self.grading else 'no'} · "
            f"Colab {'yes' if self.colab else 'no'} · casekit {self.casekit} · "
            f"Kaggle credentials {self.kaggle_credentials or 'none'}"
        )


def detect() -> Environment:
    """Look at this machine now (runs ``nvidia-smi`` once; imports neither Keras nor Colab)."""
    return Environment(
        python=platform.python_version(),
        system=platform.system(),
        colab=in_colab(),
        grading=is_grading(),
        gpus=tuple(gpu_names()),
        keras_backend=keras_backend(),
        kaggle_credentials=kaggle_credentials_source(),
        casekit=casekit.__version__,
    )


def in_colab() -> bool:
    """True inside Google Colab (its kernels import ``google.colab`` and set COLAB_RELEASE_TAG).

    A ``None`` entry in ``sys.modules`` (how tests hide an installed module) is not Colab.
    """
    return sys.modules.get("google.colab") is not None or "COLAB_RELEASE_TAG" in os.environ


def is_grading() -> bool:
    """True while nbgrader validates or autogrades a notebook (skip heavy work then)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def gpu_names() -> list[str]:
    """Names of the NVIDIA GPUs reported by ``nvidia-smi``; empty without one (or a driver)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        done = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def keras_home() -> Path:
    """Keras's own folder: ``$KERAS_HOME``, else ``~/.keras`` (holds ``keras.json``)."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()


def keras_models_dir() -> Path:
    """Where Keras caches downloaded weights: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    return keras_home() / "models"


def keras_backend() -> str:
    """Keras's backend: the loaded one, else ``KERAS_BACKEND``, else ``keras.json``'s.

    Never imports Keras (and TensorFlow) just to ask.
    """
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "config"):
        return keras.config.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = keras_home() / "keras.json"
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


# ------------------------------------------------------------------------ Kaggle credentials
def kaggle_credentials_source() -> str | None:
    """Where Kaggle credentials are found (e.g. ``"environment variable KAGGLE_API_TOKEN"``).

    None when there are none. Follows kagglehub's order (see the module docstring); reads
    files only to check they are not empty or broken, and never returns a value.
    """
    if os.environ.get("KAGGLE_API_TOKEN", "").strip():
        return "environment variable KAGGLE_API_TOKEN"
    for name in ACCESS_TOKEN_FILES:
        token_file = Path("~/.kaggle", name).expanduser()
        if token_file.is_file() and token_file.read_text(encoding="utf-8").strip():
            return f"file {token_file}"
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "environment variables KAGGLE_USERNAME and KAGGLE_KEY"
    if kaggle_json_problem() is None and kaggle_json_path().is_file():
        return f"file {kaggle_json_path()}"
    return colab_secrets_source()


def kaggle_json_path() -> Path:
    """Where kagglehub looks for ``kaggle.json``: ``$KAGGLE_CONFIG_DIR`` or ``~/.kaggle``."""
    folder = os.environ.get("KAGGLE_CONFIG_DIR") or Path("~/.kaggle").expanduser()
    return Path(folder) / "kaggle.json"


def kaggle_json_problem() -> str | None:
    """What is wrong with an existing ``kaggle.json`` (None when it is fine or absent)."""
    path = kaggle_json_path()
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{path} exists but is not valid JSON"
    if not isinstance(content, dict) or not content.get("username") or not content.get("key"):
        return f"{path} exists but lacks a 'username' or 'key' entry"
    return None


def _colab_secret(name: str) -> str:
    """A Colab secret's value ('' when absent, access not granted, or not in Colab)."""
    try:
        from google.colab import userdata  # type: ignore[import-not-found]
    except ImportError:
        return ""
    try:
        return (userdata.get(name) or "").strip()
    except Exception:  # Colab raises its own types for a missing secret or denied access
        return ""


def colab_secrets_source() -> str | None:
    """Which Colab secrets hold Kaggle credentials (None outside Colab or without them)."""
    if _colab_secret("KAGGLE_API_TOKEN"):
        return "Colab secret KAGGLE_API_TOKEN"
    if _colab_secret("KAGGLE_USERNAME") and _colab_secret("KAGGLE_KEY"):
        return "Colab secrets KAGGLE_USERNAME and KAGGLE_KEY"
    return None


def copy_colab_secrets() -> list[str]:
    """Copy Kaggle credentials from Colab secrets into environment variables (for kagglehub).

    Variables already set are left alone. Returns the names copied (never the values);
    empty outside Colab.
    """
    if not in_colab():
        return []
    copied = []
    for name in KAGGLE_SECRETS:
        if os.environ.get(name):
            continue
        value = _colab_secret(name)
        if value:
            os.environ[name] = value
            copied.append(name)
    return copied


def colab_kaggle_cache_available() -> bool:
    """True inside Colab, where kagglehub may mount datasets without credentials.

    kagglehub's Colab cache resolver needs ``TBE_RUNTIME_ADDR`` and is off when
    ``DISABLE_COLAB_CACHE`` is true.
    """
    return bool(os.environ.get("TBE_RUNTIME_ADDR")) and os.environ.get(
        "DISABLE_COLAB_CACHE", "").lower() not in ("true", "1", "t")


def on_google_drive(path: str | os.PathLike[str]) -> bool:
    """True for a path inside Google Drive as Colab mounts it (``/content/drive``)."""
    return Path(path).expanduser().absolute().is_relative_to("/content/drive")
