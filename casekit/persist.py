"""Keep casekit's image cache and training runs across Colab sessions, in Google Drive.

Every notebook opened from a Colab badge runs on a fresh machine, and what it wrote to that
machine's disk vanishes when the session ends: notebook 04 would never find the runs that
02 and 03 saved. With ``PERSIST = "drive"`` (the notebooks' default) the set-up cell calls
:func:`setup`, which mounts Google Drive and points the image cache (``CASEKIT_CACHE``) and
the runs (``CASEKIT_RUNS``, see :mod:`casekit.paths`) at ``MyDrive/casekit_data/cache`` and
``…/runs``: every later notebook, in any session, finds them. The datasets themselves stay
on the machine's disk (``CASEKIT_DATA``, default ``~/casekit_data``): Drive is slow for
thousands of small image files and they count against its quota, while a new session
downloads (or draws) them again in minutes; the image cache, one file per dataset and size,
is keyed by the images' content and stays valid. ``PERSIST = None`` keeps everything on the
Colab machine and says plainly that it vanishes with the session.

Outside Colab, and while nbgrader grades, nothing changes: the machine's own disk keeps the
files (``~/casekit_data`` or ``$CASEKIT_DATA``). Variables set beforehand
(``CASEKIT_CACHE``, ``CASEKIT_RUNS``) are never overridden.

Example (a notebook's set-up cell)::

    >>> from casekit import persist
    >>> storage = persist.setup("drive")    # doctest: +SKIP
    casekit image cache and runs: /content/drive/MyDrive/casekit_data (Google Drive, ...)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from casekit.environment import in_colab, is_grading
from casekit.paths import cache_root, data_root, runs_root

#: Values of the notebooks' ``PERSIST`` parameter.
MODES = ("drive", None)
#: Where Colab mounts Google Drive, and casekit's folder inside it.
DRIVE_MOUNT = "/content/drive"
DRIVE_FOLDER = "MyDrive/casekit_data"
VANISH = ("they are on this Colab machine and vanish when the session ends "
          '(set PERSIST = "drive" to keep them in Google Drive)')


@dataclass(frozen=True)
class Storage:
    """Where casekit keeps its files for this session.

    Attributes:
        data_root: datasets and synthetic data; ``cache_root``: decoded images;
            ``runs_root``: training runs.
        persistent: whether the cache and the runs outlive the session (False only on a
            Colab machine without Drive).
        where: in words, e.g. ``"Google Drive, kept between sessions"``.
    """

    data_root: Path
    cache_root: Path
    runs_root: Path
    persistent: bool
    where: str

    def __str__(self) -> str:
        common = self.runs_root.parent if self.cache_root.parent == self.runs_root.parent \
            else self.runs_root
        return f"casekit image cache and runs: {common} ({self.where})"


def setup(
    persist: str | None = "drive",
    *,
    mount_point: str | os.PathLike[str] = DRIVE_MOUNT,
    folder: str = DRIVE_FOLDER,
    show: bool = True,
) -> Storage:
    """Put casekit's image cache and runs where they survive (Google Drive in Colab).

    Args:
        persist: ``"drive"`` mounts Google Drive in Colab and keeps the image cache and
            the runs in ``<mount_point>/<folder>``; ``None`` keeps the machine's folders.
        mount_point: where ``google.colab.drive.mount`` mounts Drive (tests pass a
            temporary folder).
        folder: casekit's folder inside the mount.
        show: print one line saying where the files are (Colab only; silent elsewhere).

    Returns:
        The :class:`Storage` in use. A Drive that cannot be mounted (access refused) is not
        an error: the files stay on the machine and the printed line says they vanish.

    Raises:
        ValueError: ``persist`` is not one of :data:`MODES`.
    """
    if persist not in MODES:
        raise ValueError(f'PERSIST must be "drive" or None, not {persist!r}')
    if not in_colab() or is_grading():
        return _storage(persistent=True, where="this machine's disk")
    if persist is None:
        return _report(_storage(persistent=False, where=VANISH), show)
    if os.environ.get("CASEKIT_CACHE") and os.environ.get("CASEKIT_RUNS"):
        return _report(_storage(persistent=True, where="CASEKIT_CACHE and CASEKIT_RUNS, set "
                                "before"), show)
    try:
        from google.colab import drive

        drive.mount(str(mount_point))
    except Exception as error:  # the user refused access, or Drive is unavailable
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        where = f"Google Drive could not be mounted ({reason}): {VANISH}"
        return _report(_storage(persistent=False, where=where), show)
    root = Path(mount_point) / folder
    for name, sub in (("CASEKIT_CACHE", "cache"), ("CASEKIT_RUNS", "runs")):
        if not os.environ.get(name):
            (root / sub).mkdir(parents=True, exist_ok=True)
            os.environ[name] = str(root / sub)
    return _report(_storage(persistent=True, where="Google Drive, kept between sessions"), show)


def _storage(*, persistent: bool, where: str) -> Storage:
    return Storage(data_root(), cache_root(), runs_root(), persistent, where)


def _report(storage: Storage, show: bool) -> Storage:
    if show:
        print(storage)
    return storage
