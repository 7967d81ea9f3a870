"""What ``casekit clean`` may remove: only folders casekit made, each recognised by its marker.

* image caches: ``<cache root>/<dataset>/<key>/`` holding ``manifest.json`` (regenerated on
  demand by ``casekit.images.cache_for``);
* synthetic data: ``<data root>/synthetic_*`` holding ``SYNTHETIC.json`` (drawn again on demand);
* training runs (only when asked): ``<runs root>/<name>/`` holding ``run.json``;
* real datasets (only when asked): ``<data root>/<name>/`` of a registered dataset holding its
  metadata file (a new download takes time and, for Kaggle, credentials).

Anything else in those folders (your own files) is never touched.

Example:
    >>> from casekit.clean import plan
    >>> [item.kind for item in plan(runs=True)]   # doctest: +SKIP
    ['image cache', 'synthetic data', 'training run']
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from casekit.datasets.registry import REGISTRY
from casekit.datasets.verify import MANIFEST_NAME
from casekit.images.store import MANIFEST_FILE
from casekit.paths import cache_root, data_root, runs_root


@dataclass(frozen=True)
class Removable:
    """One folder ``casekit clean`` would remove, with what it is and its size in bytes."""

    path: Path
    kind: str
    size: int

    def __str__(self) -> str:
        return f"{self.kind}: {self.path} ({self.size / 1e6:.1f} MB)"


def plan(*, runs: bool = False, data: bool = False) -> list[Removable]:
    """The folders to remove: image caches and synthetic data, plus runs and real data when
    asked (``runs=True``, ``data=True``)."""
    found = [(p.parent, "image cache") for p in sorted(cache_root().glob(f"*/*/{MANIFEST_FILE}"))]
    found += [(p.parent, "synthetic data")
              for p in sorted(data_root().glob(f"synthetic_*/{MANIFEST_NAME}"))]
    if runs:
        found += [(p.parent, "training run") for p in sorted(runs_root().glob("*/run.json"))]
    if data:
        for name, spec in sorted(REGISTRY.items()):
            folder = data_root() / name
            if folder.is_dir() and next(folder.rglob(spec.metadata_file), None) is not None:
                found.append((folder, "real dataset"))
    return [Removable(path, kind, _size(path)) for path, kind in found]


def kept(*, runs: bool = False, data: bool = False) -> list[str]:
    """What a clean with these options leaves in place, e.g. ``["training runs in …"]``."""
    notes = []
    if not runs and any(runs_root().glob("*/run.json")):
        notes.append(f"training runs in {runs_root()} (add --runs)")
    if not data and any((data_root() / name).is_dir() for name in REGISTRY):
        notes.append(f"real datasets in {data_root()} (add --data)")
    return notes


def remove(items: list[Removable]) -> None:
    """Delete the planned folders, then cache-root sub-folders they leave empty."""
    for item in items:
        shutil.rmtree(item.path)
        parent = item.path.parent
        if parent != cache_root() and cache_root() in parent.parents and not any(parent.iterdir()):
            parent.rmdir()


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
