"""Kaggle downloads through ``kagglehub``, and where the Kaggle credentials come from.

Why kagglehub rather than the ``kaggle`` package: ``import kaggle`` authenticates the
moment it is imported and raises when no token or ``kaggle.json`` exists (seen here with
kaggle 2.2.4), so merely importing it breaks a notebook. kagglehub (1.0 here; preinstalled
in Colab) imports without credentials and looks for them itself only when it downloads:
``KAGGLE_API_TOKEN``, ``~/.kaggle/access_token``, ``KAGGLE_USERNAME``/``KAGGLE_KEY``,
``kaggle.json`` in ``KAGGLE_CONFIG_DIR`` or ``~/.kaggle``, then Colab secrets. In Colab
it can also mount the dataset from Colab's own Kaggle cache instead of downloading it.

casekit checks for credentials before contacting Kaggle (except in Colab, whose cache may
serve the data without them), so a missing token gives one clear message instead of an
HTTP error from deep inside the client. ``kaggle_credentials_source`` follows kagglehub's
order and says WHERE credentials were found, never their value.

Example:
    >>> kaggle_credentials_source() is None or isinstance(kaggle_credentials_source(), str)
    True
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

from casekit.datasets.errors import DatasetError, KaggleCredentialsError
from casekit.datasets.registry import DatasetSpec

TOKEN_PAGE = "https://www.kaggle.com/settings/api"


def kaggle_credentials_source() -> str | None:
    """Where Kaggle credentials are found (e.g. ``"environment variable KAGGLE_API_TOKEN"``).

    None when there are none. Checks, in kagglehub's order: ``KAGGLE_API_TOKEN``,
    ``~/.kaggle/access_token``, ``KAGGLE_USERNAME`` + ``KAGGLE_KEY``, a valid
    ``kaggle.json`` (``KAGGLE_CONFIG_DIR`` or ``~/.kaggle``), Colab secrets.
    """
    if os.environ.get("KAGGLE_API_TOKEN"):
        return "environment variable KAGGLE_API_TOKEN"
    for name in ("access_token", "access_token.txt"):
        token_file = Path("~/.kaggle", name).expanduser()
        if token_file.is_file() and token_file.read_text(encoding="utf-8").strip():
            return f"file {token_file}"
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "environment variables KAGGLE_USERNAME and KAGGLE_KEY"
    if kaggle_json_problem() is None and kaggle_json_path().is_file():
        return f"file {kaggle_json_path()}"
    return _colab_secrets_source()


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


def _colab_secrets_source() -> str | None:
    try:
        from google.colab import userdata  # type: ignore[import-not-found]
    except ImportError:
        return None

    def secret(name: str) -> str:
        try:
            return (userdata.get(name) or "").strip()
        except Exception:  # missing secret, or notebook access not granted
            return ""

    if secret("KAGGLE_API_TOKEN"):
        return "Colab secret KAGGLE_API_TOKEN"
    if secret("KAGGLE_USERNAME") and secret("KAGGLE_KEY"):
        return "Colab secrets KAGGLE_USERNAME and KAGGLE_KEY"
    return None


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


def colab_cache_available() -> bool:
    """True inside Colab, where kagglehub may mount datasets without credentials."""
    return bool(os.environ.get("TBE_RUNTIME_ADDR")) and os.environ.get(
        "DISABLE_COLAB_CACHE", "").lower() not in ("true", "1", "t")


def download_from_kaggle(spec: DatasetSpec, dest: Path) -> Path:
    """Download ``spec``'s Kaggle dataset into the new folder ``dest``; return where it is.

    The returned folder is ``dest``, except in Colab (a read-only mount of Colab's cache)
    and with kagglehub older than ``output_dir`` support (kagglehub's own cache).
    """
    if kaggle_credentials_source() is None and not colab_cache_available():
        raise KaggleCredentialsError(missing_credentials_message(spec))
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
