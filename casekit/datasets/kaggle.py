"""Kaggle downloads through ``kagglehub``, and where the Kaggle credentials come from.

Why kagglehub rather than the ``kaggle`` package: ``import kaggle`` authenticates the
moment it is imported and raises when no token or ``kaggle.json`` exists (seen here with
kaggle 2.2.4), so merely importing it breaks a notebook. kagglehub (1.0 here; preinstalled
in Colab) imports without credentials and looks for them itself only when it downloads:
``KAGGLE_API_TOKEN``, ``~/.kaggle/access_token``, ``KAGGLE_USERNAME``/``KAGGLE_KEY``,
``kaggle.json`` in ``KAGGLE_CONFIG_DIR`` or ``~/.kaggle``, then Colab secrets. In Colab
it can also mount the dataset from Colab's own Kaggle cache instead of downloading it.
casekit requires kagglehub >= 0.4.0: 0.3.x ignores ``KAGGLE_API_TOKEN`` (seen in the 0.3.13
and 0.4.0 wheels' ``config.py``), and 0.4.0 reads only the legacy Colab secrets itself, so a
``KAGGLE_API_TOKEN`` secret is copied into the environment before the download.

casekit checks for credentials before contacting Kaggle (except in Colab, whose cache may
serve the data without them), so a missing token gives one clear message instead of an
HTTP error from deep inside the client. Where credentials are found is decided in one place,
:func:`casekit.environment.kaggle_credentials_source` (kagglehub's order; WHERE, never the
value), re-exported here.

Example:
    >>> kaggle_credentials_source() is None or isinstance(kaggle_credentials_source(), str)
    True
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path

from casekit.datasets.errors import DatasetError, KaggleCredentialsError
from casekit.datasets.files import find_metadata, scan
from casekit.datasets.registry import DatasetSpec
from casekit.environment import (
    colab_kaggle_cache_available,
    copy_colab_secrets,
    kaggle_credentials_source,
    kaggle_json_path,
    kaggle_json_problem,
)

__all__ = [
    "copy_dataset_files",
    "download_from_kaggle",
    "how_to_set_credentials",
    "kaggle_credentials_source",
    "missing_credentials_message",
]

TOKEN_PAGE = "https://www.kaggle.com/settings/api"


def missing_credentials_message(spec: DatasetSpec) -> str:
    """The error message for a user without Kaggle credentials: what to do, step by step."""
    problem = kaggle_json_problem()
    return (
        f"No Kaggle API credentials found, so {spec.kaggle_handle} cannot be downloaded "
        f"from Kaggle.{' ' + problem + '.' if problem else ''} {how_to_set_credentials(spec)}"
    )


def how_to_set_credentials(spec: DatasetSpec) -> str:
    """Where to put Kaggle credentials (Colab secrets, environment, kaggle.json)."""
    return (
        f"Create an API token at {TOKEN_PAGE}, then do ONE of: "
        "(1) in Colab, open the key icon (Secrets) in the left panel, add a secret "
        "KAGGLE_API_TOKEN holding the token (or KAGGLE_USERNAME and KAGGLE_KEY) and switch "
        "on its notebook access; "
        "(2) set environment variables KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY); "
        f"(3) save kaggle.json ({{\"username\": ..., \"key\": ...}}) as {kaggle_json_path()} "
        "(or in the folder named by KAGGLE_CONFIG_DIR) and make it private (chmod 600). "
        f"Or do without Kaggle: casekit.datasets.download({spec.name!r}, url=...) or "
        f"casekit.datasets.use_existing({spec.name!r}, path) for a copy you already have."
    )


def download_from_kaggle(spec: DatasetSpec, dest: Path) -> Path:
    """Download ``spec``'s Kaggle dataset into the new folder ``dest``; return where it is.

    The returned folder is ``dest``, except in Colab (a read-only mount of Colab's cache)
    and with kagglehub older than ``output_dir`` support (kagglehub's own cache).
    """
    if kaggle_credentials_source() is None and not colab_kaggle_cache_available():
        raise KaggleCredentialsError(missing_credentials_message(spec))
    copy_colab_secrets()  # kagglehub reads a KAGGLE_API_TOKEN secret only from the environment
    import kagglehub
    import requests

    options = {}
    if "output_dir" in inspect.signature(kagglehub.dataset_download).parameters:
        options["output_dir"] = str(dest)
    try:
        return Path(kagglehub.dataset_download(spec.kaggle_handle, **options))
    except requests.HTTPError as error:
        status = getattr(error.response, "status_code", None)
        if status in (401, 403):
            raise KaggleCredentialsError(
                f"Kaggle refused the download of {spec.kaggle_handle} (HTTP {status}); "
                f"credentials used: {kaggle_credentials_source() or 'none'}. They may be "
                f"wrong or expired. {how_to_set_credentials(spec)}"
            ) from error
        raise DatasetError(f"Kaggle download of {spec.kaggle_handle} failed: {error}") from error
    except Exception as error:  # kagglehub raises many types; report them as one kind
        raise DatasetError(f"Kaggle download of {spec.kaggle_handle} failed: {error}") from error


def copy_dataset_files(source: Path, dest: Path, spec: DatasetSpec, *, move: bool = False,
                       progress: bool = True) -> tuple[int, int]:
    """Copy the metadata file and ONE copy of each image from ``source`` into ``dest``.

    Kaggle's HAM10000 holds every image twice (``HAM10000_images_part_N`` and
    ``ham10000_images_part_N``) plus files casekit never reads (``hmnist_*.csv``): 20,035
    files, of which the dataset needs 10,016 (10,015 images and the metadata). Files keep
    their path relative to ``source``; when an image appears twice, the first in sorted
    walk order (upper-case folders first) is taken, as :func:`casekit.datasets.files.scan`
    does. ``move=True`` moves instead (``source`` is casekit's own staging folder);
    otherwise ``source`` (e.g. Colab's read-only mount of its Kaggle cache) is only read.

    Returns:
        ``(written, left_out)``: files written into ``dest`` and files of the searched
        folders of ``source`` not copied (duplicates and unused files).
    """
    from casekit.progress import tqdm

    found = scan(source, spec)
    chosen = [find_metadata(found, spec), *found.images.values()]
    for path in tqdm(chosen, desc=f"copy {spec.name}", unit="file", disable=not progress):
        target = dest / path.relative_to(found.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            os.replace(path, target)
        else:
            shutil.copyfile(path, target)  # contents only: a read-only mount's modes stay there
    return len(chosen), found.files - len(chosen)
