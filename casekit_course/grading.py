"""Check notebooks the way nbgrader grades them: validate one, or autograde a class.

``nbgrader validate`` on the command line exits 0 even when tests fail, so scripts and CI
use :func:`validate`, which returns which grade cells passed and which failed.
:func:`autograde_in_temp_course` runs the full generate → submit → autograde cycle in a
throw-away course (one submission at a time, as ``casekit-course autograde`` grades) and
reads the scores back from its gradebook.

Example:
    >>> from casekit_course import validate
    >>> result = validate("solutions/01_eda/01_eda.ipynb")
    >>> result.ok, result.failed
    (True, {})
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.filters import strip_ansi
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.validator import Validator

from casekit_course.config import CourseError, ensure_tools_on_path, load_config
from casekit_course.guard import GuardedExecute
from casekit_course.heavy import with_heavy_cells_skipped
from casekit_course.kernel import notebook_environment
from casekit_course.record import job_for, record_result
from casekit_course.sandbox import Limits, Sandbox
from casekit_course.steps import generate_assignment, make_course
from casekit_course.worker import grade_submission


@dataclass
class ValidationResult:
    """Outcome of validating one notebook: autograded test cells by grade id."""

    notebook: Path
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # grade id -> error text
    changed: list[str] = field(default_factory=list)  # sources of locked cells edited

    @property
    def ok(self) -> bool:
        """True when every test passed and no locked cell was edited."""
        return not self.failed and not self.changed


@dataclass
class GradeScore:
    """One grade cell of one submission, as stored in the gradebook."""

    max_score: float
    auto_score: float | None
    needs_manual_grade: bool
    kind: str  # "auto" (test cell) or "manual" (written answer, task)


@dataclass
class SubmissionScore:
    """Scores of one student's submission."""

    grades: dict[str, GradeScore]
    autograde_seconds: float
    feedback_html: dict[str, str] = field(default_factory=dict)  # notebook -> HTML
    notes: list[str] = field(default_factory=list)  # one line per repair or refusal

    @property
    def auto_score(self) -> float:
        """Points the autograder gave (manual cells count 0 until graded)."""
        return sum(g.auto_score or 0.0 for g in self.grades.values() if g.kind == "auto")

    @property
    def auto_max(self) -> float:
        """Points available from autograded cells."""
        return sum(g.max_score for g in self.grades.values() if g.kind == "auto")


@dataclass
class AutogradeReport:
    """Result of :func:`autograde_in_temp_course`."""

    assignment: str
    course: Path
    generate_seconds: float
    students: dict[str, SubmissionScore]


def validate(
    notebook_path: str | os.PathLike[str], ignore_checksums: bool = False
) -> ValidationResult:
    """Execute a notebook as nbgrader validate does; report tests passed/failed by grade id.

    The kernel sees ``NBGRADER_EXECUTION=validate``; cells tagged ``skip-when-grading`` are
    skipped (:mod:`casekit_course.heavy`), as when autograding.
    """
    ensure_tools_on_path()
    path = Path(notebook_path).resolve()
    grade_ids = _test_cells(path)
    validator = Validator(config=load_config())
    validator.preprocessors = with_heavy_cells_skipped(validator.preprocessors)
    validator.ignore_checksums = ignore_checksums
    cwd = os.getcwd()
    try:
        with notebook_environment():
            results = validator.validate(str(path))
    finally:
        os.chdir(cwd)
    if "type_changed" in results:
        kinds = [f"{c['old_type']} -> {c['new_type']}" for c in results["type_changed"]]
        raise CourseError(f"{path}: graded cells changed type ({', '.join(kinds)}); restore them")
    result = ValidationResult(notebook=path)
    result.changed = [cell["source"] for cell in results.get("changed", [])]
    for cell in results.get("failed", []):
        for grade_id, source in grade_ids.items():
            if source == cell["source"]:
                result.failed[grade_id] = strip_ansi(cell["raw_error"]).strip()
    result.passed = [g for g in grade_ids if g not in result.failed and not result.changed]
    return result


def autograde_in_temp_course(
    assignment: str,
    submissions: Mapping[str, str | os.PathLike[str]],
    workdir: str | os.PathLike[str] | None = None,
    feedback: bool = False,
    root: str | os.PathLike[str] | None = None,
    source_edit: Callable[[nbformat.NotebookNode], nbformat.NotebookNode] | None = None,
    *,
    sandbox: Sandbox | None = None,
) -> AutogradeReport:
    """Autograde ``submissions`` (student id -> notebook or folder) of one assignment.

    Builds a course in ``workdir`` (default: a temporary folder, removed afterwards) with
    the assignment's solutions as source, runs generate_assignment, copies each submission
    to ``submitted/<student>/<assignment>/`` and grades it as ``casekit-course autograde``
    does (:func:`casekit_course.worker.grade_submission`, then
    :func:`casekit_course.record.record_result`), with the limits of the course config and
    the kernel in ``sandbox`` (default: none, for the instructor's own notebooks). Every
    grade cell's score is read back from the gradebook; a broken submission scores 0 and
    the batch goes on (each repair or refusal is one warning line on the
    ``casekit_course`` logger). ``feedback=True`` keeps each student's feedback pages.
    ``source_edit`` changes the course's copy of each solution notebook before the
    assignment is generated (e.g. :func:`casekit_course.mutants.mark_visible_tests`).

    Example:
        >>> report = autograde_in_temp_course(
        ...     "01_eda", {"key": "solutions/01_eda/01_eda.ipynb"})
        >>> score = report.students["key"]
        >>> score.auto_score == score.auto_max
        True
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="casekit-course-") as tmp:
            return autograde_in_temp_course(assignment, submissions, tmp, feedback, root,
                                            source_edit, sandbox=sandbox)
    for submission in submissions.values():
        path = Path(submission)
        if not (path.is_dir() or (path.is_file() and path.suffix == ".ipynb")):
            raise CourseError(f"submission {path} is neither a notebook nor a folder")
    course = make_course(workdir, [assignment], root)
    for path in sorted((course / "solutions" / assignment).glob("*.ipynb")) if source_edit else ():
        nbformat.write(source_edit(nbformat.read(path, as_version=4)), path)
    started = time.perf_counter()
    generate_assignment(course, assignment)
    report = AutogradeReport(assignment, course, time.perf_counter() - started, {})
    limits = course_limits(course)
    for student, submission in submissions.items():
        _submit(course, assignment, student, Path(submission))
        result = grade_submission(job_for(assignment, student, root=course),
                                  sandbox=sandbox or Sandbox("none"), limits=limits)
        record_result(result, root=course)
        for note in result.notes:
            logging.getLogger("casekit_course").warning("%s: %s", assignment, note)
        html = {nb.name: nb.feedback_html for nb in result.notebooks} if feedback else {}
        report.students[student] = SubmissionScore(
            read_grades(course, assignment, student), result.seconds, html, result.notes)
    return report


def course_limits(course: str | os.PathLike[str] | None = None) -> Limits:
    """The grading limits the course's ``nbgrader_config.py`` sets (``GuardedExecute``).

    Example:
        >>> course_limits().cell_timeout_s
        120
    """
    guard = GuardedExecute(config=load_config(course))
    memory_mb = guard.memory_limit_mb or Limits().memory_bytes // 2**20
    return Limits(cell_timeout_s=guard.timeout or Limits().cell_timeout_s,
                  notebook_timeout_s=guard.notebook_timeout, memory_bytes=memory_mb * 2**20,
                  processes=guard.process_limit, output_bytes=guard.output_bytes,
                  notebook_output_bytes=guard.notebook_output_bytes)


def _submit(course: Path, assignment: str, student: str, submission: Path) -> None:
    target = course / "submitted" / student / assignment
    if submission.is_dir():
        shutil.copytree(submission, target)
    else:
        target.mkdir(parents=True)
        shutil.copy2(submission, target / submission.name)


def read_grades(
    course: str | os.PathLike[str], assignment: str, student: str
) -> dict[str, GradeScore]:
    """Every grade of one submission in a course's gradebook: grade id -> score."""
    course = Path(course)
    coursedir = CourseDirectory(config=load_config(course))
    tests = set()
    for source in sorted((course / "solutions" / assignment).glob("*.ipynb")):
        tests |= set(_test_cells(source))
    grades: dict[str, GradeScore] = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for notebook in gb.find_submission(assignment, student).notebooks:
            for grade in notebook.grades:
                grades[grade.name] = GradeScore(
                    max_score=grade.max_score,
                    auto_score=grade.auto_score,
                    needs_manual_grade=grade.needs_manual_grade,
                    kind="auto" if grade.name in tests else "manual",
                )
    return grades


def _test_cells(path: Path) -> dict[str, str]:
    """Autograded test cells of a notebook: grade id -> stripped source."""
    nb = nbformat.read(path, as_version=4)
    cells = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            cells[meta["grade_id"]] = cell.source.strip()
    return cells
