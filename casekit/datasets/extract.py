"""Unpack zip and tar archives safely: nothing is ever written outside the destination.

A malicious or broken archive can hold entries such as ``../../.bashrc``, ``/etc/passwd``
or a link to a folder outside the destination ("zip slip"). ``safe_extract`` checks every
entry BEFORE writing anything and refuses the whole archive if one entry is absolute,
contains ``..``, or is a link pointing outside. Links that stay inside are written as
ordinary copies of their target, so no link is ever created on disk.

Example:
    >>> import tempfile, zipfile
    >>> from pathlib import Path
    >>> work = Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(work / "a.zip", "w") as archive:
    ...     archive.writestr("images/x.png", b"png")
    >>> [p.relative_to(work / "out").as_posix() for p in safe_extract(work / "a.zip", work / "out")]
    ['images/x.png']
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from casekit.datasets.errors import DatasetError
from casekit.progress import tqdm

_DRIVE = re.compile(r"^[A-Za-z]:")


def is_archive(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a zip or tar archive (judged by content, not by name)."""
    return zipfile.is_zipfile(path) or _is_tar(Path(path))


def safe_extract(
    archive: str | os.PathLike[str], dest: str | os.PathLike[str], progress: bool = False
) -> list[Path]:
    """Extract the zip or tar ``archive`` into ``dest``; return the files written.

    Raises ``DatasetError`` (and writes nothing) when the archive is not a zip/tar, is
    truncated, or holds an unsafe entry.
    """
    archive, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(archive):
        opener = _zip_entries
    elif _is_tar(archive):
        opener = _tar_entries
    else:
        raise DatasetError(f"{archive.name} is not a zip or tar archive (or it is truncated)")
    try:
        with opener(archive) as entries:
            for entry in entries:  # first pass: check everything, write nothing
                _check(entry, archive.name)
            dest.mkdir(parents=True, exist_ok=True)
            files = {posixpath.normpath(e.name): e for e in entries if e.kind == "file"}
            written = []
            for entry in tqdm(entries, desc=f"extract {archive.name}", unit="file",
                              disable=not progress):
                if entry.kind == "link":
                    entry = _dereference(entry, files, archive.name)
                written.extend(_write(entry, dest))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise DatasetError(f"{archive.name} is damaged or truncated: {error}") from error
    return written


@dataclass
class _Entry:
    """One archive member, whatever the archive type.

    ``link``: for links, the target's path from the archive root (absolute if the link is).
    ``open``: returns a binary file object with the member's bytes.
    """

    name: str
    kind: str  # "file", "dir", "link" or "other" (device, pipe, socket)
    link: str | None = None
    open: Callable[[], IO[bytes] | None] | None = None


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


@contextmanager
def _zip_entries(archive: Path) -> Iterator[list[_Entry]]:
    with zipfile.ZipFile(archive) as zf:
        entries = []
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            if stat.S_ISLNK(info.external_attr >> 16):
                target = zf.read(info).decode("utf-8", "replace").replace("\\", "/")
                entries.append(_Entry(name, "link", _from_root(name, target)))
            else:
                entries.append(_Entry(name, "dir" if info.is_dir() else "file", None,
                                      lambda info=info: zf.open(info)))
        yield entries


@contextmanager
def _tar_entries(archive: Path) -> Iterator[list[_Entry]]:
    with tarfile.open(archive) as tf:
        entries = []
        for member in tf.getmembers():
            if member.isdir():
                entries.append(_Entry(member.name, "dir"))
            elif member.isfile():
                entries.append(_Entry(member.name, "file", None,
                                      lambda member=member: tf.extractfile(member)))
            elif member.issym():
                entries.append(_Entry(member.name, "link",
                                      _from_root(member.name, member.linkname)))
            elif member.islnk():  # hard links name their target from the archive root
                entries.append(_Entry(member.name, "link", member.linkname))
            else:
                entries.append(_Entry(member.name, "other"))
        yield entries


def _from_root(name: str, target: str) -> str:
    """A symbolic link's target as a path from the archive root."""
    return posixpath.join(posixpath.dirname(name), target)


def _outside(path: str) -> bool:
    """True when ``path`` (from the archive root) leaves the destination folder."""
    norm = posixpath.normpath(path)
    return (norm.startswith("/") or norm == ".." or norm.startswith("../")
            or bool(_DRIVE.match(norm)))


def _check(entry: _Entry, archive: str) -> None:
    parts = entry.name.split("/")
    if entry.name.startswith("/") or _DRIVE.match(entry.name) or ".." in parts:
        raise DatasetError(f"{archive}: refusing unsafe entry {entry.name!r} "
                           "(absolute path or '..'); nothing was extracted")
    if entry.kind == "other":
        raise DatasetError(f"{archive}: refusing special entry {entry.name!r} "
                           "(device, pipe or socket); nothing was extracted")
    if entry.kind == "link" and _outside(entry.link or ""):
        raise DatasetError(f"{archive}: refusing link {entry.name!r} pointing outside "
                           f"the destination ({entry.link!r}); nothing was extracted")


def _dereference(link: _Entry, files: dict[str, _Entry], archive: str) -> _Entry:
    """A link inside the archive, turned into a copy of the file it points to."""
    target = files.get(posixpath.normpath(link.link or ""))
    if target is None:
        raise DatasetError(f"{archive}: link {link.name!r} points to {link.link!r}, "
                           "which is not a file in the archive")
    return _Entry(link.name, "file", None, target.open)


def _write(entry: _Entry, dest: Path) -> list[Path]:
    target = dest.joinpath(*[p for p in entry.name.split("/") if p not in ("", ".")])
    if not _inside(target, dest):  # defence in depth: _check already refused such names
        raise DatasetError(f"refusing to write {entry.name!r} outside {dest}")
    if entry.kind == "dir":
        target.mkdir(parents=True, exist_ok=True)
        return []
    target.parent.mkdir(parents=True, exist_ok=True)
    source = entry.open() if entry.open is not None else None
    if source is None:
        raise DatasetError(f"cannot read archive entry {entry.name!r}")
    with source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    return [target]


def _inside(path: Path, folder: Path) -> bool:
    real_folder = os.path.realpath(folder)
    return os.path.commonpath([os.path.realpath(path), real_folder]) == real_folder
