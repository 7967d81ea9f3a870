"""Download a dataset once, verify it by content, and only then put it in place.

Every download goes to a temporary staging folder on the local disk (``tempfile``'s, e.g.
``/tmp``; never next to ``root``, which may be on Google Drive); archives are unpacked there
by ``casekit.datasets.extract.safe_extract``; a Kaggle download keeps only the metadata and
one copy of each image (``casekit.datasets.kaggle.copy_dataset_files``); the result is
verified (label fingerprint and image count, ``casekit.datasets.verify``) and moved onto
``root`` only when it verifies. A failed, partial or altered download therefore leaves
``root`` exactly as it was. Once ``root`` verifies, calling ``download`` again returns at
once without touching the network.

Where raw images should live: on the local disk (the default ``~/casekit_data``; in Colab
``/root/casekit_data``, downloaded again in each new session in a few minutes). Google Drive
is slow for thousands of small files and counts against the quota: keep runs and the image
cache there (``casekit.paths``), not the raw images.

Sources: ``"kaggle"`` (kagglehub, see ``casekit.datasets.kaggle``), ``"official"`` (the
files listed in the registry, fetched with pooch), ``"url"`` (one zip/tar archive of the
whole dataset, e.g. a course mirror, fetched with pooch). ``"auto"`` takes ``url`` when
given, else Kaggle when credentials exist, else the official files.

Example:
    >>> from casekit.datasets import download   # doctest: +SKIP
    >>> root = download("pad_ufes_20")   # doctest: +SKIP
    >>> download("pad_ufes_20") == root   # second call: verified, no download   # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from casekit.datasets.errors import DatasetError, KaggleCredentialsError
from casekit.datasets.extract import is_archive, safe_extract
from casekit.datasets.files import scan
from casekit.datasets.kaggle import (
    copy_dataset_files,
    download_from_kaggle,
    missing_credentials_message,
)
from casekit.datasets.registry import DatasetSpec, RemoteFile, get_spec
from casekit.datasets.verify import MANIFEST_NAME, verify
from casekit.environment import (
    colab_kaggle_cache_available,
    kaggle_credentials_source,
    on_google_drive,
)
from casekit.paths import dataset_dir

SOURCES = ("auto", "kaggle", "official", "url")


def download(
    name: str,
    root: str | os.PathLike[str] | None = None,
    source: str = "auto",
    url: str | None = None,
    expected: Mapping[str, Any] | None = None,
    force: bool = False,
    progress: bool = True,
    known_hash: str | None = None,
) -> Path:
    """Download dataset ``name`` into ``root`` (default ``casekit.paths.dataset_dir(name)``).

    ``url``: a zip/tar archive of the whole dataset (``source="url"``), checked against
    ``known_hash`` (``"sha256:<hex>"``) when given. ``expected``: ``fingerprint`` and/or
    ``n_images`` to verify against instead of the registry's (mirrors, tests).
    ``force=True`` downloads again even when ``root`` verifies, and replaces a ``root``
    that does not verify (only if it holds the dataset's metadata file: casekit never
    replaces a folder that is not a dataset).
    Returns ``root``; raises ``DatasetError`` (``KaggleCredentialsError`` for Kaggle
    credentials) with what to do when anything fails.
    """
    spec = get_spec(name)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if url is not None and source not in ("auto", "url"):
        raise ValueError(f"url= goes with source='url' (or 'auto'), not source={source!r}")
    root = Path(root if root is not None else dataset_dir(spec.name)).expanduser().absolute()
    target = {"fingerprint": spec.fingerprint, "n_images": spec.n_images, **(expected or {})}

    if root.is_dir() and any(root.iterdir()):
        if _is_verified_copy(spec, root, target, force):
            return root
    chosen = choose_source(spec, source, url)
    if on_google_drive(root):
        warnings.warn(f"{root} is on Google Drive, which is slow for thousands of small image "
                      "files and counts against your quota. Keep raw images on the local disk "
                      "(the default root) and put runs and the image cache on Drive.",
                      stacklevel=2)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"casekit-{root.name}-download-"))  # local disk
    try:
        data = staging / "data"
        if chosen == "kaggle":
            fetched = download_from_kaggle(spec, staging / "kaggle")
            # Colab: a read-only mount of its Kaggle cache (copy); else our staging (move)
            copy_dataset_files(fetched, data, spec, move=fetched.is_relative_to(staging),
                               progress=progress)
        elif chosen == "official":
            fetch_remote_files(spec.official_files, staging / "archives", data, progress)
        else:
            name = PurePosixPath(urlparse(str(url)).path).name or "download"
            fetch_remote_files([RemoteFile(url=str(url), filename=name, sha256=known_hash)],
                               staging / "archives", data, progress, archives_only=True)
        outcome = verify(spec.name, data, expected=target)
        if not outcome.ok:
            raise DatasetError(f"the {chosen} download did not verify, so {root} was left "
                               f"unchanged: {outcome.message}")
        _move_into_place(data, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def _is_verified_copy(spec: DatasetSpec, root: Path, target: dict, force: bool) -> bool:
    """True when ``root`` already verifies; raises when it may not be replaced."""
    if (root / MANIFEST_NAME).exists():
        raise DatasetError(f"{root} holds a synthetic copy ({MANIFEST_NAME}); real data go in "
                           f"another folder (default {dataset_dir(spec.name)})")
    outcome = verify(spec.name, root, expected=target)
    if outcome.ok and not force:
        return True
    if not force:
        raise DatasetError(f"{root} already holds files that do not verify ({outcome.message}). "
                           "Pass force=True to replace them with a fresh download, or choose "
                           "another root.")
    if not scan(root, spec).metadata:
        raise DatasetError(f"refusing to replace {root}: it is not empty and holds no "
                           f"{spec.metadata_file}; choose a new or empty folder")
    return False


def choose_source(spec: DatasetSpec, source: str = "auto", url: str | None = None) -> str:
    """The source ``download`` will use: ``"url"``, ``"kaggle"`` or ``"official"``."""
    if source == "url" or (source == "auto" and url):
        if not url:
            raise ValueError("source='url' needs url= (a zip or tar archive of the dataset)")
        return "url"
    if source == "official":
        if not spec.official_files:
            raise DatasetError(no_official_files_message(spec))
        return "official"
    if source == "kaggle" or kaggle_credentials_source() or colab_kaggle_cache_available():
        return "kaggle"
    if spec.official_files:
        return "official"
    raise KaggleCredentialsError(f"{missing_credentials_message(spec)} "
                                 f"{no_official_files_message(spec)}")


def no_official_files_message(spec: DatasetSpec) -> str:
    """How to get a dataset whose official files casekit cannot fetch by itself."""
    landing = "https://doi.org/" + spec.official_doi.removeprefix("doi:")
    return (
        f"casekit knows no direct-download URLs for the official source of {spec.title} "
        f"({landing}). Download its files by hand from that page, unpack them into one "
        f"folder and call casekit.datasets.use_existing({spec.name!r}, folder); or pass "
        f"url= an archive of the whole dataset; or use source='kaggle' "
        f"({spec.kaggle_handle})."
    )


def fetch_remote_files(
    files: Sequence[RemoteFile],
    downloads: Path,
    dest: Path,
    progress: bool = True,
    archives_only: bool = False,
) -> None:
    """Fetch ``files`` with pooch into ``downloads``; unpack archives (others: copy) to ``dest``.

    A file's ``filename`` may name a sub-folder (``images/imgs_part_1.zip``): its content
    lands in that sub-folder of ``dest``. A ``sha256`` is checked by pooch.
    """
    import pooch
    import requests

    for remote in files:
        name = PurePosixPath(remote.filename)
        folder = dest.joinpath(*name.parent.parts)
        known_hash = remote.sha256
        if known_hash and ":" not in known_hash:
            known_hash = f"sha256:{known_hash}"
        try:
            path = Path(pooch.retrieve(remote.url, known_hash=known_hash, fname=name.name,
                                       path=downloads, progressbar=progress))
        except requests.RequestException as error:
            raise DatasetError(f"download of {remote.url} failed: {error}") from error
        except ValueError as error:  # e.g. pooch: the file's hash differs from the known one
            raise DatasetError(f"download of {remote.url} refused: {error}") from error
        if is_archive(path):
            safe_extract(path, folder, progress=progress)
            path.unlink()
        elif archives_only:
            raise DatasetError(f"{remote.url} is not a zip or tar archive (or it is "
                               "truncated); url= must point at an archive of the whole dataset")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.move(path, folder / name.name)


def _move_into_place(data: Path, root: Path) -> None:
    """Put the verified ``data`` folder at ``root``; an old ``root`` is removed afterwards.

    When ``root`` is on another file system than the staging folder (a Drive folder), the
    data are first copied beside ``root`` and then renamed, so ``root`` appears whole.
    """
    if data.stat().st_dev != root.parent.stat().st_dev:
        incoming = root.with_name(f".{root.name}.incoming-{uuid.uuid4().hex[:8]}")
        try:
            shutil.copytree(data, incoming)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        data = incoming
    old = None
    if root.exists():
        old = root.with_name(f".{root.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(root, old)
    os.replace(data, root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
