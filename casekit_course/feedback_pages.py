"""``casekit-course feedback``: (re)write the students' feedback pages from the gradebook.

Autograding writes each student's page once (:func:`casekit_course.record.record_result`),
with the autograder's scores. After manual grading the gradebook holds more: manual scores,
extra credit. :func:`write_feedback` builds every recorded student's pages again, the same
safe way (:mod:`casekit_course.feedback`: the student's own submitted outputs, the released
sources, the scores and each failing test's instructor-written first line), with the scores
the gradebook holds now. Nothing is executed; pages are written atomically.

Example (from the course root, after autograding and some manual grading):
    >>> from casekit_course.feedback_pages import write_feedback
    >>> write_feedback("01_eda")                               # doctest: +SKIP
    [PosixPath('.../feedback/alice/01_eda/01_eda.html'), ...]
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory

from casekit.io import write_text_atomic
from casekit_course.config import CourseError, course_root, load_config
from casekit_course.feedback import build_rows, feedback_page
from casekit_course.record import SUMMARY, job_for, recorded
from casekit_course.repair import read_notebook, repair_ids
from casekit_course.submissions import base_name
from casekit_course.worker import generated_course


def write_feedback(
    assignment: str,
    *,
    students: list[str] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for each recorded student.

    ``students`` defaults to every student whose result is recorded; one not recorded
    raises :class:`CourseError` naming the fix (autograde first).
    """
    root = course_root(root)
    done = recorded(assignment, root=root)
    students = sorted(done) if students is None else sorted(students)
    missing = [s for s in students if s not in done]
    if missing:
        raise CourseError(f"not autograded yet: {missing}; run casekit-course autograde "
                          f"{assignment} first")
    if not students:
        return []
    coursedir = CourseDirectory(config=load_config(root))
    course = generated_course(job_for(assignment, students[0], root=root))
    names = sorted(p.name for p in (course / "solutions" / assignment).glob("*.ipynb"))
    released = {n: nbformat.read(course / "notebooks" / assignment / n, as_version=4)
                for n in names}
    instructor = {n: nbformat.read(course / "solutions" / assignment / n, as_version=4)
                  for n in names}
    pages = []
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for student in students:
            graded = root / "autograded" / student / assignment
            status = {n["name"]: n["status"] for n in
                      json.loads((graded / SUMMARY).read_text(encoding="utf-8"))["notebooks"]}
            for name in names:
                stem = Path(name).stem
                rows = build_rows(
                    graded=_read(graded / name),
                    submitted=_submitted(root / "submitted" / student / assignment, name,
                                         released[name]),
                    released=released[name], instructor=instructor[name],
                    grades=(grades := gradebook_scores(gb, assignment, student, stem)))
                page = feedback_page(student=student, assignment=assignment, notebook=stem,
                                     rows=rows, grades=grades,
                                     status=status.get(stem, "graded"))
                pages.append(write_text_atomic(
                    root / "feedback" / student / assignment / f"{stem}.html", page))
    return pages


def gradebook_scores(
    gb: Gradebook, assignment: str, student: str, notebook: str
) -> dict[str, tuple[float | None, float]]:
    """grade id -> (score, points) as the gradebook holds them now.

    The score is nbgrader's (the manual score when given, else the autograder's, plus
    extra credit); ``None`` for an answer still waiting for manual grading.
    """
    try:
        found = gb.find_submission_notebook(notebook, assignment, student)
    except MissingEntry:
        return {}
    return {grade.name: (None if grade.auto_score is None and grade.manual_score is None
                         else float(grade.score), float(grade.max_score))
            for grade in found.grades}


def _read(path: Path) -> NotebookNode | None:
    return nbformat.read(path, as_version=4) if path.is_file() else None


def _submitted(folder: Path, name: str, released: NotebookNode) -> NotebookNode | None:
    """The student's notebook handed in as ``name`` (or one renamed copy), repaired as graded."""
    path = folder / name
    if not path.is_file():
        copies = [p for p in folder.glob("*.ipynb") if base_name(p.name) == base_name(name)]
        if len(copies) != 1:
            return None
        path = copies[0]
    where = f"{folder.parent.name}, {folder.name}/{name}"
    nb, _ = read_notebook(path.read_bytes(), where=where, template=released)
    if nb is not None:
        repair_ids(nb, released, where=where)
    return nb
