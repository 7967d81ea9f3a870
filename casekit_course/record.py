"""The trusted side of grading: jobs out of the course folder, results back into it.

Only the instructor's own process runs these; student code never does. :func:`job_for`
packs one submission, the assignment's instructor source and the course config into a
:class:`~casekit_course.jobs.GradingJob`. :func:`record_result` is the only writer of
grades: it stores a :class:`~casekit_course.jobs.SubmissionResult` through nbgrader's
Gradebook API (scores a grader already gave by hand stay), and writes the graded notebooks
to ``autograded/<student>/<assignment>/`` and the feedback pages to
``feedback/<student>/<assignment>/``, each file atomically. Its last write is a small
summary, ``autograded/<student>/<assignment>/.casekit-result.json``: :func:`recorded`
lists the students who have one, so a rerun after a crash or Ctrl-C grades only the rest,
and recording the same result twice changes nothing.

Example:
    >>> from casekit_course.sandbox import find_sandbox
    >>> from casekit_course.worker import grade_submission
    >>> done = recorded("01_eda")
    >>> for student in ["alice", "bob"]:                                # doctest: +SKIP
    ...     if student not in done:
    ...         record_result(grade_submission(job_for("01_eda", student),
    ...                                        sandbox=find_sandbox()))
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import parse_utc
from traitlets.config import Config

from casekit.io import atomic_path, write_text_atomic
from casekit_course.config import CONFIG_FILE, CourseError, course_root, load_config
from casekit_course.jobs import GradingJob, SubmissionResult
from casekit_course.repair import MAX_NOTEBOOK_BYTES
from casekit_course.steps import generate_assignment, make_course

#: Written last by :func:`record_result`; its presence means "recorded".
SUMMARY = ".casekit-result.json"
_SKIP = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


def job_for(
    assignment: str,
    student: str,
    *,
    root: str | os.PathLike[str] | None = None,
    timestamp: str | None = None,
) -> GradingJob:
    """The job for ``submitted/<student>/<assignment>/`` of the course at ``root``.

    ``timestamp`` defaults to the submission's ``timestamp.txt`` (written by collection).
    A file larger than the worker accepts is cut just past the limit (it scores 0 there,
    with a line that says why), so a huge file never travels whole.
    """
    root = course_root(root)
    coursedir = _coursedir(root)
    folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    if not folder.is_dir():
        raise CourseError(f"{student}: no submission folder {folder} (fix: collect the "
                          "submissions first)")
    if not source.is_dir():
        raise CourseError(f"no assignment folder {source} (fix: check the assignment name)")
    stamp = folder / "timestamp.txt"
    if timestamp is None and stamp.is_file():
        timestamp = stamp.read_text(encoding="utf-8").strip() or None
    files = {p: d for p, d in _files(folder).items() if p != "timestamp.txt"}
    return GradingJob(assignment, student, files=files, source=_files(source),
                      config=(root / CONFIG_FILE).read_text(encoding="utf-8"),
                      timestamp=timestamp)


def _files(folder: Path) -> dict[str, bytes]:
    """Relative POSIX path -> content of every file under ``folder`` (checkpoints skipped)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or path.is_symlink() or _SKIP & set(relative.parts):
            continue
        with path.open("rb") as file:
            found[relative.as_posix()] = file.read(MAX_NOTEBOOK_BYTES + 1)
    return found


def record_result(result: SubmissionResult, *, root: str | os.PathLike[str] | None = None) -> None:
    """Store ``result`` in the course at ``root``: gradebook, autograded/, feedback/.

    Idempotent; manual scores already given are kept (a cell with one is flagged for
    review, as nbgrader does). The assignment is added to the gradebook if it is missing.
    """
    root = course_root(root)
    coursedir = _coursedir(root)
    a, s = result.assignment, result.student
    graded = Path(coursedir.format_path(coursedir.autograded_directory, s, a))
    feedback = Path(coursedir.format_path(coursedir.feedback_directory, s, a))
    for notebook in result.notebooks:
        if notebook.graded_notebook:
            with atomic_path(graded / f"{notebook.name}.ipynb") as tmp:
                tmp.write_bytes(notebook.graded_notebook)
        write_text_atomic(feedback / f"{notebook.name}.html", notebook.feedback_html)
    if result.timestamp:
        write_text_atomic(graded / "timestamp.txt", result.timestamp)
    _store_grades(result, root, coursedir)
    summary = asdict(result)
    for notebook in summary["notebooks"]:
        del notebook["graded_notebook"], notebook["feedback_html"]
    write_text_atomic(graded / SUMMARY, json.dumps(summary, indent=1) + "\n")


def _store_grades(result: SubmissionResult, root: Path, coursedir: CourseDirectory) -> None:
    a, s = result.assignment, result.student
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            known = {nb.name for nb in gb.find_assignment(a).notebooks}
        except MissingEntry:
            known = set()
        if not {nb.name for nb in result.notebooks} <= known:
            _add_assignment(a, root, coursedir.db_url)
        gb.update_or_create_student(s)
        try:
            submission = gb.find_submission(a, s)
        except MissingEntry:
            submission = gb.add_submission(a, s)
        if result.timestamp:
            submission.timestamp = parse_utc(result.timestamp)
        for notebook in result.notebooks:
            for grade_id, (score, _) in notebook.grades.items():
                try:
                    grade = gb.find_grade(grade_id, notebook.name, a, s)
                except MissingEntry:
                    continue  # a cell the gradebook's version of the assignment lacks
                grade.auto_score = score
                grade.needs_manual_grade = grade.manual_score is not None or score is None
        gb.db.commit()


def _add_assignment(assignment: str, root: Path, db_url: str) -> None:
    """Put the assignment's cells into the gradebook at ``db_url`` (nbgrader's own way:
    generate_assignment, run in a throw-away copy so the course's folders stay as they are)."""
    with tempfile.TemporaryDirectory(prefix="casekit-gradebook-") as tmp:
        course = make_course(tmp, [assignment], root)
        config = Config()
        config.CourseDirectory.db_url = db_url
        generate_assignment(course, assignment, config=config)


def recorded(assignment: str, *, root: str | os.PathLike[str] | None = None) -> set[str]:
    """Students whose result for ``assignment`` :func:`record_result` has stored."""
    coursedir = _coursedir(course_root(root))
    autograded = Path(coursedir.root) / coursedir.autograded_directory
    return {p.parent.parent.name for p in autograded.glob(f"*/{assignment}/{SUMMARY}")}


def _coursedir(root: Path) -> CourseDirectory:
    coursedir = CourseDirectory(config=load_config(root))
    coursedir.root = str(root)
    return coursedir
