"""Unpack zip and tar archives safely: all or nothing, inside the destination, bounded in size.

Three things go wrong with downloaded archives, and each is refused with a
:class:`DatasetError` that names the archive, leaving the destination as it was:

* an entry that would land outside the destination ("zip slip": ``../../.bashrc``,
  ``/etc/passwd``, a link pointing outside) or a device, pipe or socket. Tar archives use
  the standard library's own check (``tarfile``'s ``filter="data"``, PEP 706); zip has no
  such filter, so entry names are checked here, before anything is written;
* a damaged member (a bad CRC, a truncated file): everything is first written into a
  staging folder beside the destination, each zip member read to its end (which is when
  ``zipfile`` checks its CRC), and only complete, verified files are moved into place;
* a "zip bomb", a small archive that unpacks to far more than it holds: the sizes the
  archive declares are added up before anything is written, and more than ``max_bytes``
  in all, or more than ``max_ratio`` times the archive's own size, is refused (the error
  says how to raise the limit for an archive you trust). Reading stops at the declared
  sizes, so an archive cannot write more than it declared.

Links that stay inside the archive are written as ordinary copies of their target, so no
link is ever created on disk.

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
import tempfile
import zipfile
from pathlib import Path

from casekit.datasets.errors import DatasetError
from casekit.progress import tqdm

#: Largest total an archive may unpack to (20 GiB: the real datasets are about 3 GB each).
MAX_BYTES = 20 * 2**30
#: Largest ratio of unpacked to archive size. Images barely compress (about 1:1) and
#: tables about 1:10; zip bombs reach 1:1000 and more.
MAX_RATIO = 100
#: Archives that unpack to less than this are never refused for their ratio.
RATIO_FLOOR = 2**20
_DRIVE = re.compile(r"^[A-Za-z]:")
_TAR_REFUSALS = {
    tarfile.AbsolutePathError: "refusing unsafe entry {name!r} (absolute path or '..')",
    tarfile.OutsideDestinationError: "refusing unsafe entry {name!r} (absolute path or '..')",
    tarfile.AbsoluteLinkError: "refusing link {name!r} pointing outside the destination",
    tarfile.LinkOutsideDestinationError: "refusing link {name!r} pointing outside the "
                                         "destination",
    tarfile.SpecialFileError: "refusing special entry {name!r} (device, pipe or socket)",
}


def is_archive(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a zip or tar archive (judged by content, not by name)."""
    return zipfile.is_zipfile(path) or _is_tar(Path(path))


def safe_extract(
    archive: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    progress: bool = False,
    *,
    max_bytes: int = MAX_BYTES,
    max_ratio: float = MAX_RATIO,
) -> list[Path]:
    """Extract the zip or tar ``archive`` into ``dest``; return the files written.

    Args:
        archive: a zip or tar file (tar may be gzip-, bzip2- or xz-compressed).
        dest: the folder to fill (created when missing; files of the same names replaced).
        progress: show a progress bar.
        max_bytes, max_ratio: the zip-bomb limits (:data:`MAX_BYTES`, :data:`MAX_RATIO`).

    Raises:
        DatasetError: the archive is not a zip/tar, is damaged or truncated, holds an
            unsafe entry, or exceeds a limit. ``dest`` is then as it was before.
    """
    archive, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(archive):
        extract = _extract_zip
    elif _is_tar(archive):
        extract = _extract_tar
    else:
        raise DatasetError(f"{archive.name} is not a zip or tar archive (or it is truncated)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.extracting-", dir=dest.parent))
    try:
        try:
            extract(archive, staging, _Limits(archive, max_bytes, max_ratio), progress)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
            raise DatasetError(f"{archive.name} is damaged or truncated: {error}; "
                               "nothing was extracted") from error
        _links_to_copies(staging, archive.name)
        return _move_into(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


class _Limits:
    """The zip-bomb check: declared sizes against ``max_bytes`` and ``max_ratio``."""

    def __init__(self, archive: Path, max_bytes: int, max_ratio: float) -> None:
        self.archive, self.max_bytes, self.max_ratio = archive, max_bytes, max_ratio

    def check(self, declared: int) -> None:
        packed = max(self.archive.stat().st_size, 1)
        sizes = f"it would unpack to {_size(declared)} from {_size(packed)}"
        if declared > self.max_bytes:
            raise DatasetError(
                f"{self.archive.name}: {sizes}, more than the limit of {_size(self.max_bytes)}; "
                "nothing was extracted. If you trust this archive, raise the limit: "
                "safe_extract(..., max_bytes=...)")
        ratio = declared / packed
        if declared > RATIO_FLOOR and ratio > self.max_ratio:
            raise DatasetError(
                f"{self.archive.name}: {sizes}, {ratio:.0f} times its size (limit "
                f"{self.max_ratio:g}): a possible zip bomb; nothing was extracted. If you "
                "trust this archive, raise the limit: safe_extract(..., max_ratio=...)")


def _extract_zip(archive: Path, staging: Path, limits: _Limits, progress: bool) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:  # check everything before writing anything
            _check_name(info.filename, archive.name)
        limits.check(sum(info.file_size for info in members))
        for info in tqdm(members, desc=f"extract {archive.name}", unit="file",
                         disable=not progress):
            target = staging.joinpath(*_parts(info.filename))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)  # reading to the end checks the CRC
            if stat.S_ISLNK(info.external_attr >> 16):  # zip stores a link as its target
                link = target.read_text(encoding="utf-8", errors="replace").replace("\\", "/")
                target.unlink()
                target.symlink_to(link)


def _extract_tar(archive: Path, staging: Path, limits: _Limits, progress: bool) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:  # the standard "data" filter refuses unsafe entries
            _check_name(member.name, archive.name)  # it would strip a leading "/" instead
            try:
                tarfile.data_filter(member, str(staging))
            except tarfile.FilterError as error:
                template = next(text for kind, text in _TAR_REFUSALS.items()
                                if isinstance(error, kind))
                raise DatasetError(f"{archive.name}: {template.format(name=member.name)}; "
                                   "nothing was extracted") from error
        limits.check(sum(member.size for member in members if member.isfile()))
        tf.extractall(staging, members=tqdm(members, desc=f"extract {archive.name}",
                                            unit="file", disable=not progress),
                      filter="data")


def _check_name(name: str, archive: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts:
        raise DatasetError(f"{archive}: refusing unsafe entry {name!r} "
                           "(absolute path or '..'); nothing was extracted")


def _parts(name: str) -> list[str]:
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def _links_to_copies(staging: Path, archive: str) -> None:
    """Replace each link in ``staging`` by a copy of the file it points to (inside)."""
    root = os.path.realpath(staging)
    for folder, _, names in os.walk(staging):
        for name in names:
            link = Path(folder) / name
            if not link.is_symlink():
                continue
            target = os.path.realpath(link)
            relative = link.relative_to(staging).as_posix()
            if os.path.commonpath([target, root]) != root:
                raise DatasetError(f"{archive}: refusing link {relative!r} pointing outside "
                                   "the destination; nothing was extracted")
            if not os.path.isfile(target):
                raise DatasetError(f"{archive}: link {relative!r} points to "
                                   f"{posixpath.relpath(target, root)!r}, which is not a file "
                                   "in the archive; nothing was extracted")
            link.unlink()
            shutil.copyfile(target, link)


def _move_into(staging: Path, dest: Path) -> list[Path]:
    """Move every file from ``staging`` to the same place under ``dest``."""
    written = []
    for folder, _, names in sorted(os.walk(staging)):
        for name in sorted(names):
            source = Path(folder) / name
            target = dest / source.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            written.append(target)
    for folder, _, _ in os.walk(staging):  # empty folders the archive holds
        (dest / Path(folder).relative_to(staging)).mkdir(parents=True, exist_ok=True)
    return written


def _size(n_bytes: float) -> str:
    """``n_bytes`` for people: ``"306.0 KiB"``, ``"300.0 MiB"``."""
    power = min(3, max(0, (int(n_bytes).bit_length() - 1) // 10))
    return f"{n_bytes / 1024**power:.1f} {('bytes', 'KiB', 'MiB', 'GiB')[power]}"
