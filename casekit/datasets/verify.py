"""Check a dataset copy by content: the right images with the right labels, all present.

Archive hashes cannot identify the data (mirrors repackage the files), so a copy is
verified by the fingerprint of its (image, label) pairs and by counting its images (see
``casekit.datasets.fingerprint``). Synthetic copies carry a ``SYNTHETIC.json`` manifest
at their root with their own fingerprint and count; a copy with a manifest is verified
against it and reported as synthetic.

Example:
    >>> import tempfile
    >>> from casekit import synthetic
    >>> root = synthetic.make("pad_ufes_20", tempfile.mkdtemp() + "/pad", n_images=12,
    ...                       image_size=(16, 16), progress=False)
    >>> result = verify("pad_ufes_20", root)
    >>> result.ok, result.synthetic, result.n_found
    (True, True, 12)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casekit.datasets.errors import DatasetError
from casekit.datasets.files import find_metadata, scan
from casekit.datasets.fingerprint import metadata_fingerprint
from casekit.datasets.loaders import image_ids, read_raw_metadata
from casekit.datasets.registry import REGISTRY, DatasetSpec, get_spec
from casekit.paths import data_root, dataset_dir

#: File at the root of a synthetic copy that says what it holds.
MANIFEST_NAME = "SYNTHETIC.json"


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of ``verify``. ``message`` says what differs when ``ok`` is False.

    ``n_images``: rows of the metadata file (None when it could not be read);
    ``n_found``: how many of those images exist under the root;
    ``fingerprint``: of the metadata's (image, label) pairs (None when unreadable);
    ``expected_*``: what the copy was compared with (registry, manifest or caller).
    """

    name: str
    root: Path
    ok: bool
    synthetic: bool
    fingerprint: str | None
    n_images: int | None
    n_found: int
    expected_fingerprint: str
    expected_n_images: int
    message: str

    def __bool__(self) -> bool:
        return self.ok


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``SYNTHETIC.json`` manifest at ``root`` as a dict, or None when there is none."""
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path} is not valid JSON ({error}); make the copy again") from error
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path} must hold a JSON object; make the copy again")
    return manifest


def verify(
    name: str,
    root: str | os.PathLike[str] | None = None,
    expected: Mapping[str, Any] | None = None,
) -> VerifyResult:
    """Verify the copy of dataset ``name`` under ``root`` by content; never raises for bad data.

    The copy is compared with, in order of precedence: ``expected`` (a mapping with
    ``fingerprint`` and/or ``n_images``, for tests and mirrors), the ``SYNTHETIC.json``
    manifest at ``root``, or the registry's figures for the real dataset.
    """
    spec = get_spec(name)
    unknown = set(expected or {}) - {"fingerprint", "n_images"}
    if unknown:
        raise ValueError(f"expected takes 'fingerprint' and 'n_images', not {sorted(unknown)}")
    root = Path(root if root is not None else dataset_dir(spec.name)).expanduser().absolute()
    target = {"fingerprint": spec.fingerprint, "n_images": spec.n_images}
    synthetic = False
    try:
        manifest = read_manifest(root) if root.is_dir() else None
        if manifest is not None:
            synthetic = bool(manifest.get("synthetic", False))
            if manifest.get("dataset") != spec.name:
                raise DatasetError(f"{root / MANIFEST_NAME} describes dataset "
                                   f"{manifest.get('dataset')!r}, not {spec.name!r}")
            target.update({k: manifest[k] for k in ("fingerprint", "n_images") if k in manifest})
        target.update(expected or {})
        found = scan(root, spec)
        raw = read_raw_metadata(find_metadata(found, spec), spec)
    except DatasetError as error:
        return _result(spec, root, target, synthetic, problems=[str(error)])

    fingerprint = metadata_fingerprint(raw, spec)
    n_found = int(image_ids(raw, spec).isin(found.images.keys()).sum())
    n_expected = int(target["n_images"])
    problems = []
    if len(raw) != n_expected:
        problems.append(f"the metadata lists {len(raw)} images, expected {n_expected}")
    if n_found != n_expected:
        problems.append(f"found {n_found} of {n_expected} expected image files")
    if fingerprint != target["fingerprint"]:
        problems.append(
            f"label fingerprint mismatch (expected {target['fingerprint']}, got {fingerprint}): "
            "the images or their labels differ from the expected copy"
        )
    return _result(spec, root, target, synthetic, problems, fingerprint, len(raw), n_found)


def _result(spec: DatasetSpec, root: Path, target: Mapping[str, Any], synthetic: bool,
            problems: list[str], fingerprint: str | None = None, n_images: int | None = None,
            n_found: int = 0) -> VerifyResult:
    """Assemble a ``VerifyResult``: ok when there are no ``problems``."""
    kind = "synthetic copy" if synthetic else "copy"
    if problems:
        message = f"{spec.name} {kind} at {root} does not verify: " + "; ".join(problems)
    else:
        message = (f"{spec.name} {kind} at {root} verified: {n_found} images, "
                   f"fingerprint {str(fingerprint)[:12]}…")
    return VerifyResult(
        name=spec.name, root=root, ok=not problems, synthetic=synthetic,
        fingerprint=fingerprint, n_images=n_images, n_found=n_found,
        expected_fingerprint=str(target["fingerprint"]),
        expected_n_images=int(target["n_images"]), message=message,
    )


def use_existing(
    name: str, path: str | os.PathLike[str], expected: Mapping[str, Any] | None = None
) -> Path:
    """Verify data already on disk (or Google Drive) and return its absolute path.

    Raises ``DatasetError`` with the verification message when the copy does not verify.
    """
    outcome = verify(name, path, expected=expected)
    if not outcome.ok:
        raise DatasetError(outcome.message)
    return outcome.root


def describe_datasets(root_base: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Which datasets (real or synthetic) are present under ``root_base``, and do they verify.

    Looks at ``<root_base>/<name>`` and ``<root_base>/synthetic_<name>`` for every dataset
    in the registry (``root_base`` defaults to ``casekit.paths.data_root()``); one dict per
    folder that exists, for ``casekit doctor``.
    """
    base = Path(root_base if root_base is not None else data_root()).expanduser()
    entries = []
    for name in sorted(REGISTRY):
        for folder in (base / name, base / f"synthetic_{name}"):
            if not folder.is_dir():
                continue
            outcome = verify(name, folder)
            entries.append({
                "name": name,
                "path": str(folder),
                "kind": "synthetic" if outcome.synthetic else "real",
                "ok": outcome.ok,
                "n_images": outcome.n_images,
                "n_found": outcome.n_found,
                "message": outcome.message,
            })
    return entries
