"""Collect uploaded notebooks into ``submitted/``: resubmissions handled, lateness recorded.

Students hand in through an LMS or a shared folder; what the instructor downloads is a zip
export (nbgrader ``zip_collect`` style) or a folder of files, where one student may appear
several times (resubmissions, ``01_eda (1).ipynb``, ``Copy of 01_eda.ipynb``). For every
student and notebook the **latest** upload wins: its time is the ``timestamp`` part of the
file name when the pattern has one, else the file's modification time (a zip member's own
date). The winner is written to ``submitted/<student>/<assignment>/<notebook>.ipynb`` with
nbgrader's ``timestamp.txt``, from which the gradebook computes lateness against the
assignment's due date (``--due`` sets it) and ``casekit-course export`` shows it.

A submission already collected with a time at least as new is kept; nothing else in
``submitted/`` is deleted. Files the pattern does not match are listed in one line each.

Default file name: ``<student id>--<notebook>.ipynb`` or, with the time in the name,
``<student id>--<YYYYMMDDTHHMMSS>--<notebook>.ipynb`` (any date nbgrader's ``parse_utc``
reads; UTC unless it says otherwise).

Example:
    >>> import io, pathlib, tempfile, zipfile
    >>> uploads = pathlib.Path(tempfile.mkdtemp()) / "lms.zip"
    >>> with zipfile.ZipFile(uploads, "w") as archive:
    ...     archive.writestr("alice--20251101T100000--01_eda.ipynb", "{}")
    ...     archive.writestr("alice--20251102T090000--01_eda (1).ipynb", '{"v": 2}')
    >>> [(u.student, u.notebook, str(u.timestamp)) for u in latest(find_uploads([uploads]))]
    [('alice', '01_eda.ipynb', '2025-11-02 09:00:00')]
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import parse_utc

from casekit.io import atomic_path, write_text_atomic
from casekit_course.config import CourseError, course_root, load_config
from casekit_course.submissions import base_name

#: ``<student>--<notebook>.ipynb`` or ``<student>--<time>--<notebook>.ipynb``, in any folder.
DEFAULT_PATTERN = (r"(?:.*[/:])?(?P<student_id>[^/:]+?)--(?:(?P<timestamp>[^/:]+?)--)?"
                   r"(?P<file_id>[^/:]+\.ipynb)$")
TIMESTAMP_FILE = "timestamp.txt"


@dataclass(frozen=True)
class Upload:
    """One uploaded notebook file."""

    student: str
    #: The notebook it is, without the decorations of copies: ``01_eda.ipynb``.
    notebook: str
    #: When it was uploaded (UTC, naive, as nbgrader keeps times).
    timestamp: dt.datetime
    #: Where it came from: ``path`` or ``archive.zip:member``.
    origin: str
    content: bytes


@dataclass
class Collected:
    """What collection did for one student."""

    student: str
    notebooks: list[str]
    timestamp: dt.datetime
    #: Uploads of this student found (resubmissions included).
    uploads: int
    #: Seconds after the due date (0 when on time; ``None`` without a due date).
    late_s: float | None
    #: False when a submission at least as new was already in ``submitted/``.
    written: bool

    def line(self, assignment: str) -> str:
        """One line for the console, e.g. ``alice: 01_eda.ipynb of 2025-11-02 09:00 ...``."""
        when = self.timestamp.strftime("%Y-%m-%d %H:%M")
        parts = [f"{self.student}: {', '.join(self.notebooks)} of {when} UTC"]
        if self.uploads > len(self.notebooks):
            parts.append(f"{self.uploads} uploads, latest kept")
        if self.late_s:
            parts.append(f"LATE by {_duration(self.late_s)}")
        if not self.written:
            parts.append(f"kept the submission already in submitted/{self.student}/{assignment}"
                         " (as new or newer, or put there by hand)")
        return " · ".join(parts)


def find_uploads(
    sources: Iterable[str | os.PathLike[str]],
    *,
    pattern: str = DEFAULT_PATTERN,
    problems: list[str] | None = None,
) -> list[Upload]:
    """Every notebook in ``sources`` (zip files, folders, files) whose path matches ``pattern``.

    ``pattern`` is a regular expression with the groups ``student_id`` and ``file_id`` and
    optionally ``timestamp``, matched against the path (``/`` separators, zip members
    included). A file that does not match, or whose time cannot be read, is skipped with one
    line appended to ``problems``.
    """
    regexp = re.compile(pattern)
    problems = [] if problems is None else problems
    found = []
    for origin, mtime, read in _files(sources):
        if not origin.lower().endswith(".ipynb"):
            continue
        match = regexp.search(origin)
        if not match:
            problems.append(f"{origin}: name does not match the pattern (want "
                            "<student id>--<notebook>.ipynb or --pattern); skipped")
            continue
        stamp = match.groupdict().get("timestamp")
        try:
            when = parse_utc(stamp) if stamp else mtime
        except (ValueError, OverflowError):
            problems.append(f"{origin}: cannot read the time {stamp!r}; skipped")
            continue
        found.append(Upload(match["student_id"], f"{base_name(match['file_id'])}.ipynb", when,
                            origin, read()))
    return found


def latest(uploads: Iterable[Upload]) -> list[Upload]:
    """The newest upload of every student and notebook, by student then notebook."""
    best: dict[tuple[str, str], Upload] = {}
    for upload in uploads:
        key = (upload.student, upload.notebook)
        if key not in best or upload.timestamp >= best[key].timestamp:
            best[key] = upload
    return [best[key] for key in sorted(best)]


def collect(
    assignment: str,
    sources: Iterable[str | os.PathLike[str]],
    *,
    pattern: str = DEFAULT_PATTERN,
    due: str | None = None,
    root: str | os.PathLike[str] | None = None,
    problems: list[str] | None = None,
) -> list[Collected]:
    """Write each student's latest uploads of ``assignment`` into ``submitted/``.

    ``due`` (any date ``parse_utc`` reads, e.g. ``"2025-11-01 17:00 UTC"``) is stored as
    the assignment's due date in the gradebook; without it the gradebook's is used, if any.
    """
    root = course_root(root)
    uploads = find_uploads(sources, pattern=pattern, problems=problems)
    deadline = set_due_date(assignment, due, root=root)
    by_student: dict[str, list[Upload]] = {}
    for upload in uploads:
        by_student.setdefault(upload.student, []).append(upload)
    collected = []
    for student, theirs in sorted(by_student.items()):
        keep = latest(theirs)
        when = max(u.timestamp for u in keep)
        folder = root / "submitted" / student / assignment
        written = _is_newer(when, folder)
        if written:
            for upload in keep:
                with atomic_path(folder / upload.notebook) as tmp:
                    tmp.write_bytes(upload.content)
            write_text_atomic(folder / TIMESTAMP_FILE, when.isoformat(" "))
        late = None if deadline is None else max(0.0, (when - deadline).total_seconds())
        collected.append(Collected(student, [u.notebook for u in keep], when, len(theirs), late,
                                   written))
    return collected


def set_due_date(
    assignment: str, due: str | None, *, root: str | os.PathLike[str] | None = None
) -> dt.datetime | None:
    """Store ``due`` as the assignment's due date in the gradebook; return the due date in force."""
    coursedir = CourseDirectory(config=load_config(course_root(root)))
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        if due is not None:
            try:
                deadline = parse_utc(due)
            except (ValueError, OverflowError):
                raise CourseError(f"cannot read the due date {due!r}: write it like "
                                  "'2025-11-01 17:00 UTC'") from None
            gb.update_or_create_assignment(assignment, duedate=deadline)
            return deadline
        try:
            return gb.find_assignment(assignment).duedate
        except MissingEntry:
            return None


def _files(sources: Iterable[str | os.PathLike[str]]):
    """(path, modification time UTC, reader) of every file in the sources, zips opened."""
    for source in sources:
        source = Path(source)
        if not source.exists():
            raise CourseError(f"{source}: no such file or folder to collect from")
        paths = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in paths:
            if zipfile.is_zipfile(path):
                yield from _members(path)
            else:
                mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
                yield path.as_posix(), mtime.replace(tzinfo=None), path.read_bytes


def _members(archive: Path):
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            if not info.is_dir():
                yield (f"{archive.as_posix()}:{info.filename}", dt.datetime(*info.date_time),
                       lambda info=info: _read_member(archive, info))


def _read_member(archive: Path, info: zipfile.ZipInfo) -> bytes:
    with zipfile.ZipFile(archive) as opened:
        return opened.read(info)


def _is_newer(when: dt.datetime, folder: Path) -> bool:
    """True unless ``folder`` already holds a submission collected at ``when`` or later."""
    stamp = folder / TIMESTAMP_FILE
    if not stamp.is_file():
        return not any(folder.glob("*.ipynb"))  # put there by hand: not ours to replace
    try:
        return when > parse_utc(stamp.read_text(encoding="utf-8").strip())
    except (ValueError, OverflowError):
        return True


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60} s"
