"""nbgrader's steps (generate_assignment, autograde, generate_feedback) as Python calls.

nbgrader's converters are driven directly with the course config, the way
``nbgrader.apps.NbGraderAPI`` does it, but without its exchange set-up (not needed to
grade) and raising :class:`CourseError` with nbgrader's log when a step fails, where the
``nbgrader`` command line would often just log and exit 0.

Example (a throw-away course for one assignment):
    >>> import tempfile
    >>> from casekit_course.steps import make_course, generate_assignment
    >>> course = make_course(tempfile.mkdtemp(), ["01_eda"])
    >>> released = generate_assignment(course, "01_eda")
    >>> sorted(p.name for p in released.glob("*.ipynb"))
    ['01_eda.ipynb']
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log
from traitlets.config import Config

from casekit_course.config import (
    CONFIG_FILE,
    CourseError,
    course_root,
    ensure_tools_on_path,
    load_config,
)
from casekit_course.guard import REPAIRED
from casekit_course.kernel import notebook_environment
from casekit_course.submissions import tidy_submission

#: Text that must never reach students.
SECRET_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "MARK SCHEME")

_COPY_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")


def make_course(
    course: str | os.PathLike[str],
    assignments: list[str],
    root: str | os.PathLike[str] | None = None,
) -> Path:
    """Create a course folder at ``course``: the real config and copies of the solutions.

    The copied ``nbgrader_config.py`` sets the course root to its own folder, so nbgrader
    run there (from Python or the command line) uses ``course/gradebook.db``.
    Returns the course path.
    """
    root = course_root(root)
    source = root / "solutions"
    course = Path(course).resolve()
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / CONFIG_FILE, course / CONFIG_FILE)
    for assignment in assignments:
        if not (source / assignment).is_dir():
            raise CourseError(f"no assignment folder {source / assignment}")
        shutil.copytree(source / assignment, course / "solutions" / assignment, ignore=_COPY_IGNORE)
    return course


def generate_assignment(
    course: str | os.PathLike[str], assignment: str, *, config: Config | None = None
) -> Path:
    """Run nbgrader generate_assignment in ``course``; return ``notebooks/<assignment>``.

    ``config`` is merged over the course's own.
    """
    course = Path(course).resolve()
    _run(GenerateAssignment, course, assignment, config=config, force=True,
         create_assignment=True)
    return course / "notebooks" / assignment


def autograde(
    course: str | os.PathLike[str], assignment: str, student: str, *, config: Config | None = None
) -> Path:
    """Run nbgrader autograde for one student's ``submitted/<student>/<assignment>``.

    A notebook handed in under another name (``Copy of 01_eda.ipynb``) is graded under its
    own (:func:`casekit_course.submissions.tidy_submission`); that, and grade cells a
    student copied or split (repaired by ``casekit_course.guard.RepairDuplicateCells``),
    are logged as one warning line each on the ``casekit_course`` logger. ``config`` is
    merged over the course's (e.g. :func:`casekit_course.sandbox.sandbox_config`).
    """
    for note in autograde_notes(course, assignment, student, config=config):
        logging.getLogger("casekit_course").warning("%s: %s", assignment, note)
    return Path(course).resolve() / "autograded" / student / assignment


def autograde_notes(
    course: str | os.PathLike[str], assignment: str, student: str, *, config: Config | None = None
) -> list[str]:
    """:func:`autograde`, returning its one-line notes (renamed copies, repaired cells)."""
    course = Path(course).resolve()
    coursedir = CourseDirectory(config=load_config(course))
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    notes = tidy_submission(
        Path(coursedir.format_path(coursedir.submitted_directory, student, assignment)),
        [p.name for p in sorted(source.glob("*.ipynb"))], student=student)
    log = _run(Autograde, course, assignment, student=student, config=config, force=True,
               create_student=True)
    return notes + [line.split("] ", 1)[-1] for line in log.splitlines() if REPAIRED in line]


def generate_feedback(course: str | os.PathLike[str], assignment: str, student: str) -> Path:
    """Run nbgrader generate_feedback for one autograded student; return the HTML folder."""
    course = Path(course).resolve()
    _run(GenerateFeedback, course, assignment, student=student, force=True)
    return course / "feedback" / student / assignment


def leaked_markers(folder: str | os.PathLike[str]) -> list[str]:
    """``"file: marker"`` for every solution/hidden-test/mark-scheme marker under ``folder``."""
    found = []
    for path in sorted(Path(folder).rglob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path}: {marker}" for marker in SECRET_MARKERS if marker in text]
    return found


def _run(converter, course: Path, assignment: str, student: str = ".",
         config: Config | None = None, **traits) -> str:
    """Run an nbgrader converter; return its log (raise :class:`CourseError` on failure).

    ``config`` is merged over the course's own.
    """
    ensure_tools_on_path()
    extra, config = config, load_config(course)
    if extra is not None:
        config.merge(extra)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    coursedir.student_id = student
    app = converter(coursedir=coursedir, config=config)
    for name, value in traits.items():
        setattr(app, name, value)
    cwd = os.getcwd()
    try:
        with notebook_environment():
            result = capture_log(app)
    finally:
        os.chdir(cwd)  # nbgrader changes folder while converting
    if not result["success"]:
        log = result.get("log", "")
        raise CourseError(
            f"nbgrader {converter.__name__} failed for {assignment!r} "
            f"(student {student!r}) in {course}:\n{log}\n{result.get('error', '')}"
        )
    return result.get("log", "")
