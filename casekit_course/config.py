"""Where the course lives and how nbgrader is configured for it.

Every helper in :mod:`casekit_course` loads the repository's ``nbgrader_config.py``, so
a setting changed there (timeouts, stubs, ``add_missing_cells``) applies to releases,
validation and test autograding alike. Temporary courses reuse it with another root.

Example:
    >>> from casekit_course.config import course_root, find_assignments
    >>> "01_eda" in find_assignments(course_root())
    True
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"


class CourseError(RuntimeError):
    """An nbgrader step failed, or the course files are inconsistent."""


def course_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The course folder: the one holding ``nbgrader_config.py`` and ``solutions/``.

    Given ``root`` it is checked; otherwise the current folder and its parents are searched,
    then the folder above the installed ``casekit`` package (an editable checkout).
    """
    if root is not None:
        path = Path(root).resolve()
        if not (path / CONFIG_FILE).is_file():
            raise CourseError(f"{path} has no {CONFIG_FILE}: pass the repository root")
        return path
    here = Path.cwd().resolve()
    package_parent = Path(__file__).resolve().parents[2]
    for candidate in (here, *here.parents, package_parent):
        if (candidate / CONFIG_FILE).is_file() and (candidate / "solutions").is_dir():
            return candidate
    raise CourseError(
        f"no course found: run from the casekit repository (the folder with {CONFIG_FILE} "
        "and solutions/) or pass root="
    )


def load_config(root: str | os.PathLike[str] | None = None) -> Config:
    """Read the course's ``nbgrader_config.py`` (its course root is the file's folder)."""
    return PyFileConfigLoader(CONFIG_FILE, path=str(course_root(root))).load_config()


def find_assignments(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the assignments: folders of ``solutions/`` holding at least one notebook."""
    source = course_root(root) / "solutions"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def assignment_notebooks(assignment: str, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The instructor notebooks of one assignment, e.g. ``solutions/01_eda/01_eda.ipynb``."""
    folder = course_root(root) / "solutions" / assignment
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        known = ", ".join(find_assignments(root)) or "none"
        raise CourseError(f"no notebooks in {folder}; known assignments: {known}")
    return notebooks


def ensure_tools_on_path() -> None:
    """Put this Python's ``bin/`` first on PATH: nbgrader runs ``alembic`` as a program.

    Needed when the environment is not activated, e.g. ``.venv/bin/python -m pytest``.
    """
    bin_dir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *[p for p in parts if p != bin_dir]])
    if shutil.which("alembic") is None:
        raise CourseError(
            f"nbgrader needs the `alembic` program, not found in {bin_dir} or on PATH: "
            "install the course extras (pip install -e '.[course]')"
        )
