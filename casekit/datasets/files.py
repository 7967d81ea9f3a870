"""Find a dataset's files anywhere under its root folder, whatever the mirror's layout.

Mirrors nest the same files differently (``imgs_part_1/imgs_part_1/``, lower-case folder
names, extra sub-folders), so casekit never builds paths from a fixed layout: it walks the
root once and finds the metadata file and every image by file name.

The walk follows symbolic links (and so crosses into other drives and mounts): shared lab
servers and many users keep big image folders elsewhere and link them in
(``ln -s /data/HAM10000/images``). Each folder is searched once, however many links lead
to it, so a link cycle cannot loop. What the walk did not search — tool and hidden
folders, links back to a searched folder, broken links, unreadable folders — is recorded
in ``Scan.skipped``, and ``Scan.describe()`` puts where it looked and what it skipped into
error messages.

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
from collections import Counter
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
    ``folders``: how many folders were searched; ``files``: how many files they hold;
    ``links``: (link, target) of every folder
    link followed; ``skipped``: (path, reason) of everything not searched; ``other_files``:
    file count per other extension (``.jpeg`` files where ``.jpg`` was expected, say).
    """

    root: Path
    metadata: list[Path] = field(default_factory=list)
    images: dict[str, Path] = field(default_factory=dict)
    folders: int = 0
    files: int = 0
    links: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    other_files: Counter[str] = field(default_factory=Counter)

    def describe(self, examples: int = 3) -> str:
        """Where the walk looked and what it skipped, as one sentence for error messages.

        Example:
            >>> Scan(Path("/data"), folders=3).describe()
            'searched 3 folder(s) under /data'
        """
        parts = [f"searched {self.folders} folder(s) under {self.root}"]
        if self.links:
            shown = ", ".join(f"{link} -> {target}" for link, target in self.links[:examples])
            parts.append(f"following {len(self.links)} link(s) ({shown})")
        if self.skipped:
            shown = "; ".join(f"{path} ({why})" for path, why in self.skipped[:examples])
            parts.append(f"skipped {len(self.skipped)}: {shown}")
        if self.other_files:
            shown = ", ".join(f"{count} {suffix or 'no-extension'}"
                              for suffix, count in self.other_files.most_common(examples))
            parts.append(f"other files seen: {shown}")
        return "; ".join(parts)


def scan(root: str | os.PathLike[str], spec: DatasetSpec) -> Scan:
    """Walk ``root`` once; collect metadata candidates and images (extension case-insensitive).

    Links are followed, each folder searched once (see the module docstring). Raises
    ``DatasetError`` when ``root`` is not a folder.
    """
    root = Path(root).expanduser().absolute()
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist (or is not a folder)")
    found = Scan(root=root)
    metadata_name = spec.metadata_file.lower()
    extension = spec.image_extension.lower()
    seen = {_identity(root)}

    def unreadable(error: OSError) -> None:
        found.skipped.append((Path(error.filename or root), f"unreadable: {error.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        found.folders += 1
        found.files += len(files)
        dirs[:] = _folders_to_search(Path(folder), sorted(dirs), seen, found)
        for file in sorted(files):
            lower = file.lower()
            path = Path(folder, file)
            if lower == metadata_name:
                found.metadata.append(path)
            elif lower.endswith(extension) and not file.startswith("."):
                if path.is_symlink() and not path.exists():
                    found.skipped.append((path, "broken link"))
                else:
                    found.images.setdefault(file[: -len(extension)], path)
            elif not file.startswith("."):
                found.other_files[Path(lower).suffix] += 1
    found.metadata.sort(key=lambda path: (len(path.relative_to(root).parts), str(path)))
    return found


def _folders_to_search(folder: Path, names: list[str], seen: set[tuple[int, int]],
                       found: Scan) -> list[str]:
    """The sub-folders of ``folder`` still to walk; the others are recorded as skipped."""
    kept = []
    for name in names:
        path = folder / name
        if name in SKIPPED_FOLDERS or name.startswith("."):
            found.skipped.append((path, "tool or hidden folder"))
            continue
        try:
            identity = _identity(path)
        except OSError as error:
            found.skipped.append((path, f"unreadable: {error.strerror}"))
            continue
        if identity in seen:
            found.skipped.append((path, "leads to a folder already searched (link)"))
            continue
        seen.add(identity)
        if path.is_symlink():
            found.links.append((path, path.resolve()))
        kept.append(name)
    return kept


def _identity(path: Path) -> tuple[int, int]:
    """(device, inode) of the folder a path leads to, links followed."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def find_metadata(found: Scan, spec: DatasetSpec) -> Path:
    """The metadata file of a scan (the shallowest one); a clear error when there is none."""
    if found.metadata:
        return found.metadata[0]
    raise DatasetError(
        f"no {spec.metadata_file} found anywhere under {found.root}. Download the data with "
        f"casekit.datasets.download({spec.name!r}) (or `casekit download {spec.name}`), or "
        f"point root at the folder that holds {spec.metadata_file}; a copy saved under "
        f"another name (e.g. .tab or no extension) must be renamed to {spec.metadata_file}. "
        f"(The search {found.describe()}.)"
    )
