"""The labels a synthetic copy carries: ``SYNTHETIC.json`` (manifest) and ``README_SYNTHETIC.md``.

The manifest says what was made and how (dataset, size, seed, layout, casekit version) and
holds the label fingerprint of the written CSV, so a later ``make`` with the same arguments
can tell a complete copy (nothing to do) from a partial or edited one (make it again).

Example:
    >>> from casekit.synthetic.metadata import metadata_table
    >>> table = metadata_table("pad_ufes_20", 20, seed=1)
    >>> info = build_manifest("pad_ufes_20", table, seed=1, layout="official", image_size=None)
    >>> info["synthetic"], info["n_images"], len(info["fingerprint"])
    (True, 20, 64)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from casekit import __version__
from casekit.datasets.fingerprint import metadata_fingerprint
from casekit.datasets.registry import get_spec

MANIFEST_FILE = "SYNTHETIC.json"
README_FILE = "README_SYNTHETIC.md"
#: Bump when the tables or drawings change, so that copies made before are drawn again.
GENERATOR_REVISION = 3


def build_manifest(
    name: str, table: pd.DataFrame, seed: int, layout: str, image_size: tuple[int, int] | None
) -> dict:
    """The manifest of a synthetic copy of ``name`` whose metadata is ``table``."""
    spec = get_spec(name)
    return {
        "synthetic": True,
        "dataset": spec.name,
        "n_images": len(table),
        "fingerprint": metadata_fingerprint(table, spec),
        "seed": seed,
        "layout": layout,
        "image_size": list(image_size) if image_size else None,
        "casekit_version": __version__,
        "generator": "casekit.synthetic.make",
        "generator_revision": GENERATOR_REVISION,
    }


def read_manifest(root: Path) -> dict | None:
    """The manifest in ``root``, or None when there is none (or it is unreadable)."""
    try:
        return json.loads((root / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_complete(root: Path, expected: dict) -> bool:
    """True when ``root`` already holds exactly the copy ``expected`` describes.

    Checks the manifest, the CSV's label fingerprint and the number of image files; cheap
    enough to run on every ``make`` (tens of milliseconds at the real sizes).
    """
    if read_manifest(root) != expected:
        return False
    spec = get_spec(expected["dataset"])
    try:
        raw = pd.read_csv(root / spec.metadata_file, dtype=str, keep_default_na=False)
    except (OSError, ValueError):
        return False
    if spec.image_column not in raw or spec.label_column not in raw:
        return False
    if metadata_fingerprint(raw, spec) != expected["fingerprint"]:
        return False
    extension = spec.image_extension
    n_files = sum(
        file.endswith(extension) for _, _, files in os.walk(root) for file in files
    )
    return n_files == expected["n_images"]


def readme_text(info: dict) -> str:
    """The ``README_SYNTHETIC.md`` placed at the root of every synthetic copy."""
    spec = get_spec(info["dataset"])
    size = info["image_size"]
    size_text = f"{size[0]} x {size[1]} px" if size else "the default sizes"
    call = (f'casekit.synthetic.make("{spec.name}", n_images={info["n_images"]}, '
            f'seed={info["seed"]}, layout="{info["layout"]}", image_size={size})')
    leak = ", ".join(spec.leaky_columns)
    return f"""# SYNTHETIC DATA: not {spec.title}

**This folder is synthetic. It is NOT real patient data, contains no real images and is
not for any clinical, diagnostic or research use.** It exists so the casekit course, demos
and tests run offline; results on it say nothing about skin cancer.

- Imitates: {spec.title}, in its `{info["layout"]}` file layout
- Images: {info["n_images"]} ({size_text}); every id starts with `SYN_`
- Seed: {info["seed"]} (same seed and casekit version: identical files)
- casekit version: {info["casekit_version"]}
- Label fingerprint: `{info["fingerprint"]}`
- Made by: `{call}`

## How it was made
The metadata table is sampled to follow the published marginals of the real dataset:
class mix, age by class, sex, body sites, several images per lesion (and lesions per
patient), and the same column names, order and value formats. The leak of the real data
is kept on purpose ({leak}): finding it is part of the course.

Each image is drawn with numpy and Pillow: a blob on skin whose colour, size, border
irregularity and texture depend on the class, with overlapping spreads so a small model
learns them well above chance but not perfectly. Images of one lesion share its drawing,
with a new pose and lighting each time.

The real data: {spec.attribution()}
"""
