"""Find a dataset's files anywhere under its root folder, whatever the mirror's layout.

Mirrors nest the same files differently (``imgs_part_1/imgs_part_1/``, lower-case folder
names, extra sub-folders), so casekit never builds paths from a fixed layout: it walks the
root once and finds the metadata file and every image by file name.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from casekit.datasets.registry import get_spec
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "deep" / "er").mkdir(parents=True)
    >>> _ = (root / "deep" / "er" / "PAT_1_2_3.PNG").write_bytes(b"")
    >>> sorted(scan(root, get_spec("pad_ufes_20")).images)
    ['PAT_1_2_3']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from casekit.datasets.errors import DatasetError
from casekit.datasets.registry import DatasetSpec

#: Folders never searched: tool droppings that can hold look-alike files.
SKIPPED_FOLDERS = frozenset({"__MACOSX", ".ipynb_checkpoints", ".git", "__pycache__"})


@dataclass
class Scan:
    """What one walk over a dataset root found.

    ``metadata``: every file named like the dataset's metadata file, shallowest first.
    ``images``: image id (file name without extension) → absolute path. When a mirror
    holds the same image twice (HAM10000 on Kaggle ships upper- and lower-case copies of
    its image folders), the first path in sorted walk order wins.
    """

    root: Path
    metadata: list[Path] = field(default_factory=list)
    images: dict[str, Path] = field(default_factory=dict)


def scan(root: str | os.PathLike[str], spec: DatasetSpec) -> Scan:
    """Walk ``root`` once; collect metadata candidates and images (extension case-insensitive)."""
    root = Path(root).expanduser().absolute()
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist (or is not a folder)")
    found = Scan(root=root)
    metadata_name = spec.metadata_file.lower()
    extension = spec.image_extension.lower()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS and not d.startswith("."))
        for file in sorted(files):
            lower = file.lower()
            if lower == metadata_name:
                found.metadata.append(Path(folder, file))
            elif lower.endswith(extension) and not file.startswith("."):
                found.images.setdefault(file[: -len(extension)], Path(folder, file))
    found.metadata.sort(key=lambda path: (len(path.relative_to(root).parts), str(path)))
    return found


def find_metadata(found: Scan, spec: DatasetSpec) -> Path:
    """The metadata file of a scan (the shallowest one); a clear error when there is none."""
    if found.metadata:
        return found.metadata[0]
    raise DatasetError(
        f"no {spec.metadata_file} found anywhere under {found.root}. Download the data with "
        f"casekit.datasets.download({spec.name!r}) (or `casekit download {spec.name}`), or "
        f"point root at the folder that holds {spec.metadata_file}; a copy saved under "
        f"another name (e.g. .tab or no extension) must be renamed to {spec.metadata_file}."
    )
