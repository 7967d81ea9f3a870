"""Helpers for the first cells of every course notebook: environment, secrets, seeds, data.

The same notebook runs in four places: Colab, a laptop or lab machine, a JupyterHub, and
nbgrader's autograder (CPU only, no dataset, ``NBGRADER_EXECUTION`` set). These helpers
hide the differences so the notebook's own cells stay about skin lesions.

Example (a notebook's set-up cell):
    >>> import casekit as ck
    >>> SESSION = ck.setup(seed=0, persist="drive")             # doctest: +SKIP
    Python 3.11.7 · Keras backend tensorflow · GPU no · grading no · Colab no · casekit ...
    >>> root = ck.resolve_data("synthetic", "ham10000")         # doctest: +SKIP
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from casekit.colab import enable_widgets
from casekit.datasets.registry import get_spec
from casekit.environment import (
    KAGGLE_SECRETS,
    Environment,
    copy_colab_secrets,
    detect,
    in_colab,
    is_grading,
)
from casekit.paths import dataset_dir
from casekit.persist import Storage
from casekit.persist import setup as persist_setup

# in_colab, is_grading and KAGGLE_SECRETS live in casekit.environment; notebooks use them here.
__all__ = ["KAGGLE_SECRETS", "Session", "in_colab", "is_grading", "resolve_data", "setup"]

#: Synthetic images per dataset while nbgrader grades: enough for every cell, fast to draw.
GRADING_N_IMAGES = {"ham10000": 160, "pad_ufes_20": 120}


@dataclass(frozen=True)
class Session:
    """What :func:`setup` found and did: the machine, where files are kept, the seed.

    Attributes:
        environment: :class:`casekit.environment.Environment` (Python, GPU, Colab, grading,
            Keras backend, where Kaggle credentials were found: never their value).
        storage: :class:`casekit.persist.Storage`, where the image cache and runs are kept.
        seed: the seed given to Python, NumPy (and Keras with ``deep_learning=True``).
    """

    environment: Environment
    storage: Storage
    seed: int

    @property
    def grading(self) -> bool:
        """True while nbgrader grades: notebooks use tiny images and skip training then."""
        return self.environment.grading


def setup(
    *, seed: int = 0, persist: str | None = "drive", deep_learning: bool = False
) -> Session:
    """Prepare a notebook in one call: storage, secrets, widgets, seeds, plot defaults.

    ``persist`` is the notebook's ``PERSIST`` parameter (:func:`casekit.persist.setup`:
    ``"drive"`` keeps the image cache and runs in Google Drive in Colab; elsewhere and
    while grading nothing changes). In Colab, Kaggle credentials are copied from Colab's
    secrets into the environment (names only are reported) and Colab's custom widget
    manager is enabled (:func:`casekit.colab.enable_widgets`). ``deep_learning=True``
    imports Keras now, so its backend is reported exactly and its seed set too (an EDA
    notebook leaves it False and never pays TensorFlow's import). Prints one line,
    :meth:`casekit.environment.Environment.summary` (what ``casekit doctor`` reports).

    Example:
        >>> import casekit as ck
        >>> SESSION = ck.setup(seed=0, persist=None)   # doctest: +ELLIPSIS
        Python ... · grading ... · seed 0
        >>> SESSION.grading in (True, False)
        True
    """
    storage = persist_setup(persist)
    copy_colab_secrets()
    enable_widgets()
    _seed_everything(seed, deep_learning)
    _plot_defaults()
    found = detect()
    print(f"{found.summary()} · seed {seed}")
    return Session(environment=found, storage=storage, seed=seed)


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
