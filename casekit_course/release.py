"""Generate the student notebooks (``notebooks/``) from the instructor ones (``solutions/``).

nbgrader's generate_assignment runs in a throw-away course, so releasing never touches
the real gradebook, and the result depends only on ``solutions/`` and the config: the
same sources always give byte-identical student notebooks. That is what lets a test
regenerate them and compare (:func:`check_release_up_to_date`).

Example:
    >>> import tempfile
    >>> from casekit_course.release import release
    >>> paths = release(["01_eda"], out=tempfile.mkdtemp())
    >>> [p.name for p in paths]
    ['01_eda.ipynb']
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path

from casekit.io import atomic_path
from casekit.progress import tqdm
from casekit_course.config import CourseError, course_root, find_assignments
from casekit_course.hosting import stamp
from casekit_course.steps import generate_assignment, leaked_markers, make_course


def release(
    assignments: list[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    *,
    stamp_links: bool = True,
) -> list[Path]:
    """Write ``<out>/<assignment>/`` for each assignment (default: all in ``solutions/``).

    ``out`` defaults to the course's ``notebooks/``. First (unless ``stamp_links=False``)
    the hosting setting (``course.toml``) is stamped into the instructor notebooks and
    documents (:func:`casekit_course.hosting.stamp`), so badges and install cells name the
    course's own repository. Each assignment folder is replaced atomically. Raises
    :class:`CourseError` if a solution or hidden-test marker would reach students. Returns
    the written notebooks.
    """
    root = course_root(root)
    if stamp_links:
        stamp(root)
    assignments = find_assignments(root) if assignments is None else list(assignments)
    out = Path(out) if out is not None else root / "notebooks"
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="casekit-release-") as tmp:
        course = make_course(tmp, assignments, root)
        for assignment in tqdm(assignments, desc="release", disable=len(assignments) < 2):
            generated = generate_assignment(course, assignment)
            leaks = leaked_markers(generated)
            if leaks:
                raise CourseError("student notebooks would show hidden text:\n" + "\n".join(leaks))
            with atomic_path(out / assignment) as target:
                shutil.copytree(generated, target)
            written += sorted((out / assignment).glob("*.ipynb"))
    return written


def check_release_up_to_date(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Compare ``notebooks/`` with a fresh release; return the differences (empty: up to date).

    Example:
        >>> check_release_up_to_date()
        []
    """
    root = course_root(root)
    released = root / "notebooks"
    with tempfile.TemporaryDirectory(prefix="casekit-fresh-") as fresh:
        release(out=fresh, root=root, stamp_links=False)
        problems = _compare(Path(fresh), released)
    if problems:
        problems.append("regenerate with: casekit-course release")
    return problems


def _compare(fresh: Path, released: Path) -> list[str]:
    fresh_files = _files(fresh)
    released_files = _files(released) if released.is_dir() else set()
    problems = [f"missing: notebooks/{name}" for name in sorted(fresh_files - released_files)]
    problems += [f"extra: notebooks/{name}" for name in sorted(released_files - fresh_files)]
    problems += [
        f"stale: notebooks/{name}"
        for name in sorted(fresh_files & released_files)
        if not filecmp.cmp(fresh / name, released / name, shallow=False)
    ]
    return problems


def _files(folder: Path) -> set[str]:
    ignored = {".ipynb_checkpoints", "__pycache__"}
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not ignored & set(p.relative_to(folder).parts)
    }
