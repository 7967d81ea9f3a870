"""Content fingerprint of a dataset: which images carry which labels, whatever the mirror.

Mirrors repackage files (extra columns, other line endings), so archive hashes cannot
identify the data. The fingerprint is the sha256 of the UTF-8 text made of one line
``image,label\\n`` per image, lines sorted, with the image identifier exactly as the
metadata writes it (HAM ``image_id``, PAD ``img_id``).

Example:
    >>> one = label_fingerprint([("b", "nv"), ("a", "mel")])
    >>> one == label_fingerprint([("a", "mel"), ("b", "nv")])
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pandas as pd

from casekit.datasets.registry import DatasetSpec


def label_fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """sha256 hex digest of the sorted ``image,label`` lines of ``pairs``."""
    lines = sorted(f"{image},{label}\n" for image, label in pairs)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def metadata_fingerprint(raw: pd.DataFrame, spec: DatasetSpec) -> str:
    """Fingerprint of a raw metadata table (columns as in the dataset's own CSV)."""
    images = raw[spec.image_column].astype(str).str.strip()
    labels = raw[spec.label_column].astype(str).str.strip()
    return label_fingerprint(zip(images, labels, strict=True))
