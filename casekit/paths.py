"""Where casekit keeps data, caches and outputs unless told otherwise.

``CASEKIT_DATA`` overrides the data root (point it at Google Drive in Colab);
``CASEKIT_CACHE`` the image-cache root.

Example:
    >>> from casekit.paths import data_root
    >>> data_root().name in {"casekit_data", data_root().name}
    True
"""

from __future__ import annotations

import os
from pathlib import Path


def data_root() -> Path:
    """Root folder for datasets: ``$CASEKIT_DATA`` or ``~/casekit_data``."""
    return Path(os.environ.get("CASEKIT_DATA", Path.home() / "casekit_data")).expanduser()


def dataset_dir(name: str, synthetic: bool = False) -> Path:
    """Default folder of one dataset, e.g. ``~/casekit_data/pad_ufes_20``.

    Synthetic copies live beside the real ones with a ``synthetic_`` prefix, so the two
    are never confused.
    """
    return data_root() / (f"synthetic_{name}" if synthetic else name)


def cache_root() -> Path:
    """Root folder for decoded-image caches: ``$CASEKIT_CACHE`` or ``<data root>/cache``."""
    return Path(os.environ.get("CASEKIT_CACHE", data_root() / "cache")).expanduser()


def runs_root() -> Path:
    """Root folder for training runs (predictions, metrics, models): ``$CASEKIT_RUNS`` or
    ``<data root>/runs``. Notebook 02 saves to ``runs/binary``, 03 to ``runs/sixclass``."""
    return Path(os.environ.get("CASEKIT_RUNS", data_root() / "runs")).expanduser()
