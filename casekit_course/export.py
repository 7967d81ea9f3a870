"""Export the gradebook to CSV with one column per exercise (``nbgrader export`` gives totals).

Wide format (default), one row per student::

    student_id,last_name,first_name,email,01_eda:test_class_shares,...,01_eda:penalty,
    01_eda:late_h,01_eda:score,01_eda:max,01_eda:status,01_eda:sandbox,total,max_total

An exercise's score is the manual score when a grader gave one, else the autograder's, plus
extra credit (nbgrader's own rule). ``<assignment>:score`` is the sum minus the late penalty.
``<assignment>:status`` is ``graded``, ``needs manual grading`` (some answers not graded yet:
the score is not final) or ``missing`` (no submission: empty cells, counted as 0 in the total).
``<assignment>:late_h`` is how many hours after the due date the submission came (0 when on
time or without a due date; collection records the time, ``casekit-course collect --due``
the due date); nbgrader's late penalty, if configured, is in ``<assignment>:penalty``.
``<assignment>:sandbox`` is what the student's code ran in when ``casekit-course autograde``
graded it (``bwrap``, ``podman``, ``docker``; ``none`` after ``--no-sandbox``; empty when
graded some other way).
Long format (``--long``): one row per student, assignment and graded cell.

Command line (from the course root):
    casekit-course export --out grades.csv
    casekit-course export --out eda.csv --assignment 01_eda --long

Example:
    >>> from casekit_course.export import export_grades
    >>> export_grades("grades.csv")                          # doctest: +SKIP
    PosixPath('grades.csv')
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory

from casekit.io import write_text_atomic
from casekit_course.config import CourseError, course_root, load_config
from casekit_course.record import SUMMARY

STUDENT_COLUMNS = ["student_id", "last_name", "first_name", "email"]
LONG_COLUMNS = [*STUDENT_COLUMNS, "assignment", "notebook", "grade_id", "score", "max_score",
                "auto_score", "manual_score", "needs_manual_grade"]


@dataclass
class CellGrade:
    """One graded cell of one submission."""

    assignment: str
    notebook: str
    grade_id: str
    score: float
    max_score: float
    auto_score: float | None
    manual_score: float | None
    needs_manual_grade: bool


def export_grades(
    out: str | os.PathLike[str],
    assignments: list[str] | None = None,
    long: bool = False,
    root: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the course's grades to the CSV file ``out`` (atomically); return its path.

    ``assignments`` defaults to every assignment in the gradebook, in name order.
    """
    columns, rows = grade_table(assignments, long, root)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out = Path(out)
    write_text_atomic(out, buffer.getvalue())
    return out


def grade_table(
    assignments: list[str] | None = None,
    long: bool = False,
    root: str | os.PathLike[str] | None = None,
) -> tuple[list[str], list[dict]]:
    """The rows :func:`export_grades` writes: (column names, one dict per row)."""
    root = course_root(root)
    coursedir = CourseDirectory(config=load_config(root))
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        known = sorted(a.name for a in gb.assignments)
        assignments = known if assignments is None else list(assignments)
        unknown = sorted(set(assignments) - set(known))
        if unknown:
            raise CourseError(f"not in the gradebook: {unknown} (known: {known}); "
                              "run nbgrader generate_assignment first")
        cells = {a: _grade_cells(gb, a, root) for a in assignments}
        students = sorted(gb.students, key=lambda s: s.id)
        if long:
            rows = [
                {**_student(s), "assignment": g.assignment, "notebook": g.notebook,
                 "grade_id": g.grade_id, "score": g.score, "max_score": g.max_score,
                 "auto_score": g.auto_score, "manual_score": g.manual_score,
                 "needs_manual_grade": g.needs_manual_grade}
                for s in students for a in assignments
                for g in _submission(gb, a, s.id, cells[a])[0].values()
            ]
            return LONG_COLUMNS, rows
        columns = [*STUDENT_COLUMNS]
        for a in assignments:
            columns += [f"{a}:{grade_id}" for _, grade_id, _ in cells[a]]
            columns += [f"{a}:penalty", f"{a}:late_h", f"{a}:score", f"{a}:max",
                        f"{a}:status", f"{a}:sandbox"]
        columns += ["total", "max_total"]
        rows = []
        for student in students:
            row = _student(student)
            row["total"], row["max_total"] = 0.0, 0.0
            for a in assignments:
                grades, penalty, late_s = _submission(gb, a, student.id, cells[a])
                maximum = sum(points for _, _, points in cells[a])
                row[f"{a}:max"] = maximum
                row["max_total"] += maximum
                if not grades:
                    row[f"{a}:status"] = "missing"
                    continue
                for grade in grades.values():
                    row[f"{a}:{grade.grade_id}"] = grade.score
                score = sum(g.score for g in grades.values()) - penalty
                pending = any(g.needs_manual_grade for g in grades.values())
                row.update({f"{a}:penalty": penalty, f"{a}:late_h": round(late_s / 3600, 2),
                            f"{a}:sandbox": _sandbox(root, a, student.id), f"{a}:score": score,
                            f"{a}:status": "needs manual grading" if pending else "graded"})
                row["total"] += score
            rows.append(row)
        return columns, rows


def _grade_cells(gb: Gradebook, assignment: str, root: Path) -> list[tuple[str, str, float]]:
    """(notebook, grade id, points) of an assignment, in the notebooks' cell order."""
    found = []
    for notebook in sorted(gb.find_assignment(assignment).notebooks, key=lambda n: n.name):
        points = {cell.name: cell.max_score for cell in notebook.grade_cells}
        order = _cell_order(root / "solutions" / assignment / f"{notebook.name}.ipynb")
        for grade_id in sorted(points, key=lambda g: (order.get(g, len(order)), g)):
            found.append((notebook.name, grade_id, points[grade_id]))
    return found


def _cell_order(source: Path) -> dict[str, int]:
    if not source.is_file():
        return {}
    ids = [c.metadata.get("nbgrader", {}).get("grade_id")
           for c in nbformat.read(source, as_version=4).cells]
    return {grade_id: i for i, grade_id in enumerate(ids) if grade_id}


def _submission(
    gb: Gradebook, assignment: str, student: str, cells: list[tuple[str, str, float]]
) -> tuple[dict[str, CellGrade], float, float]:
    """A student's grades (grade id -> grade; empty if not submitted), penalty, seconds late."""
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return {}, 0.0, 0.0
    by_id: dict[str, CellGrade] = {}
    penalty = 0.0
    for notebook in submission.notebooks:
        penalty += notebook.late_submission_penalty or 0.0
        for grade in notebook.grades:
            by_id[grade.name] = CellGrade(
                assignment, notebook.name, grade.name, float(grade.score), grade.max_score,
                grade.auto_score, grade.manual_score, bool(grade.needs_manual_grade))
    order = {grade_id: i for i, (_, grade_id, _) in enumerate(cells)}
    ordered = dict(sorted(by_id.items(), key=lambda kv: order.get(kv[0], len(order))))
    return ordered, penalty, float(submission.total_seconds_late or 0.0)


def _sandbox(root: Path, assignment: str, student: str) -> str:
    """The sandbox kind :func:`casekit_course.record.record_result` noted ("" if none)."""
    summary = root / "autograded" / student / assignment / SUMMARY
    if not summary.is_file():
        return ""
    return json.loads(summary.read_text(encoding="utf-8")).get("sandbox", "")


def _student(student) -> dict:
    return {"student_id": student.id, "last_name": student.last_name or "",
            "first_name": student.first_name or "", "email": student.email or ""}


def main(argv: list[str] | None = None) -> int:
    """``casekit-course export --out grades.csv [--assignment A] [--long]``."""
    parser = argparse.ArgumentParser(prog="casekit-course export",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="CSV file to write")
    parser.add_argument("--assignment", action="append",
                        help="only this assignment (repeatable); default: all in the gradebook")
    parser.add_argument("--long", action="store_true",
                        help="one row per student, assignment and graded cell")
    parser.add_argument("--root", help="course root (default: found from the current folder)")
    args = parser.parse_args(argv)
    path = export_grades(args.out, args.assignment, args.long, args.root)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
