"""Helpers for the first cells of every course notebook: environment, secrets, seeds, data.

The same notebook runs in four places: Colab, a laptop or lab machine, a JupyterHub, and
nbgrader's autograder (CPU only, no dataset, ``NBGRADER_EXECUTION`` set). These helpers
hide the differences so the notebook's own cells stay about skin lesions.

Example (a notebook's set-up cell):
    >>> from casekit.notebook import setup, resolve_data
    >>> env = setup(seed=0)                                     # doctest: +SKIP
    Python 3.11.7 · Keras backend tensorflow · GPU no · grading no · Colab no · casekit ...
    >>> root = resolve_data("synthetic", "ham10000")            # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import casekit
from casekit.datasets.registry import get_spec
from casekit.paths import dataset_dir

#: Colab secrets copied into environment variables for kagglehub (values never printed).
KAGGLE_SECRETS = ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY")

#: Synthetic images per dataset while nbgrader grades: enough for every cell, fast to draw.
GRADING_N_IMAGES = {"ham10000": 160, "pad_ufes_20": 120}


def in_colab() -> bool:
    """True inside Google Colab (its kernels import ``google.colab`` and set COLAB_RELEASE_TAG)."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def is_grading() -> bool:
    """True while nbgrader validates or autogrades this notebook (skip heavy work then)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def setup(seed: int = 0, deep_learning: bool = False) -> dict:
    """Prepare a notebook: secrets, seeds, plot defaults; print one line about the machine.

    ``deep_learning=True`` imports Keras now, so its backend is reported exactly and its
    seed set too (an EDA notebook leaves it False and never pays TensorFlow's import).
    Returns the facts printed, e.g. ``{"gpu": None, "grading": False, ...}``.
    """
    kaggle = _load_colab_secrets() if in_colab() else _kaggle_configured()
    _seed_everything(seed, deep_learning)
    _plot_defaults()
    env = {
        "python": platform.python_version(),
        "keras_backend": _keras_backend(),
        "gpu": _gpu_name(),
        "colab": in_colab(),
        "grading": is_grading(),
        "casekit": casekit.__version__,
        "seed": seed,
        "kaggle_credentials": kaggle,
    }
    print(
        f"Python {env['python']} · Keras backend {env['keras_backend']} · "
        f"GPU {env['gpu'] or 'no'} · grading {'yes' if env['grading'] else 'no'} · "
        f"Colab {'yes' if env['colab'] else 'no'} · casekit {env['casekit']} · seed {seed}"
    )
    return env


def resolve_data(
    mode: str,
    name: str,
    root: str | os.PathLike[str] | None = None,
    n_images: int | None = None,
    seed: int = 0,
) -> Path:
    """The folder of dataset ``name`` ("ham10000" or "pad_ufes_20") to analyse.

    ``mode="synthetic"`` draws an offline stand-in once (``casekit.synthetic.make``;
    ``n_images`` and ``seed`` choose it) and reuses it afterwards; ``mode="real"``
    downloads or reuses the real data (``casekit.datasets.download``). While nbgrader
    grades, a small synthetic copy in casekit's data folder is used whatever ``mode`` and
    ``root`` say: the grader has no dataset and no test depends on it. Load the table
    with ``casekit.datasets.load(name, folder)``.
    """
    if mode not in ("synthetic", "real"):
        raise ValueError(f'mode must be "synthetic" or "real", not {mode!r}')
    from casekit import synthetic

    if is_grading():
        spec = get_spec(name)
        n = min(n_images or GRADING_N_IMAGES[spec.name], GRADING_N_IMAGES[spec.name])
        folder = dataset_dir(spec.name, synthetic=True).with_name(
            f"synthetic_{spec.name}_grading_{n}"
        )
        return Path(synthetic.make(name, root=folder, n_images=n, seed=seed, progress=False))
    if mode == "synthetic":
        return Path(synthetic.make(name, root=root, n_images=n_images, seed=seed))
    from casekit import datasets

    return Path(datasets.download(name, root=root))


def _load_colab_secrets() -> bool:
    """Copy Kaggle credentials from Colab's secrets (key icon) into the environment."""
    try:
        from google.colab import userdata
    except ImportError:
        return _kaggle_configured()
    for key in KAGGLE_SECRETS:
        if os.environ.get(key):
            continue
        try:
            value = userdata.get(key)
        except Exception:  # secret missing or notebook access not granted: data not needed
            value = None
        if value:
            os.environ[key] = value
    return _kaggle_configured()


def _kaggle_configured() -> bool:
    """Whether kagglehub will find credentials (environment or files); values never read out."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle"))
    token = Path.home() / ".kaggle" / "access_token"
    return (config / "kaggle.json").is_file() or token.is_file()


def _seed_everything(seed: int, deep_learning: bool) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if deep_learning or "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


def _plot_defaults() -> None:
    import matplotlib

    matplotlib.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.max_open_warning": 50,
        }
    )


def _keras_backend() -> str:
    """Keras's backend, without importing Keras (and TensorFlow) just to ask."""
    if "keras" in sys.modules:
        return sys.modules["keras"].config.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def _gpu_name() -> str | None:
    """Name of the first NVIDIA GPU (via nvidia-smi), or None."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.splitlines() if line.strip()]
    return names[0] if names else None
