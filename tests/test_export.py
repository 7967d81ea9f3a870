"""Grades export: one column per exercise, totals, manual scores, penalties, missing work.

The gradebook is a real nbgrader SQLite gradebook, filled through nbgrader's own API (the
scores an autograde run and a grader would store), in a course folder with the real config.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import warnings

import nbformat
import pytest
from nbgrader.api import Gradebook

from casekit_course import CourseError, course_root
from casekit_course.export import export_grades, grade_table, main
from casekit_course.record import SUMMARY

pytestmark = pytest.mark.xdist_group("grading-export")
COURSE_ID = "casekit-skin"
CELLS = {  # assignment -> (grade id, points, cell type) in notebook order
    "01_eda": [("test_b", 2, "code"), ("answer_a", 3, "markdown"), ("test_a", 1, "code")],
    "02_binary": [("test_c", 4, "code")],
}
DUE = dt.datetime(2025, 11, 1, 17, 0)
SUBMITTED = {"ada": DUE - dt.timedelta(hours=2), "bob": DUE + dt.timedelta(hours=1, minutes=30)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder whose gradebook holds two assignments and three students."""
    tmp_path = tmp_path_factory.mktemp("export")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader's API
        _fill_gradebook(tmp_path)
    return tmp_path


def _fill_gradebook(tmp_path):
    shutil.copy2(course_root() / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for assignment, cells in CELLS.items():
        nb = nbformat.v4.new_notebook()
        for grade_id, points, kind in cells:
            cell = (nbformat.v4.new_code_cell("pass") if kind == "code"
                    else nbformat.v4.new_markdown_cell("answer"))
            cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": True, "points": points,
                                         "solution": kind == "markdown", "schema_version": 3}
            nb.cells.append(cell)
        (tmp_path / "solutions" / assignment).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "solutions" / assignment / f"{assignment}.ipynb")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", COURSE_ID) as gb:
        for assignment, cells in CELLS.items():
            gb.update_or_create_assignment(assignment, duedate=DUE)
            gb.update_or_create_notebook(assignment, assignment)
            for grade_id, points, kind in sorted(cells):  # stored in another order
                gb.update_or_create_grade_cell(grade_id, assignment, assignment,
                                               max_score=points, cell_type=kind)
        gb.update_or_create_student("ada", first_name="Ada", last_name="Lovelace",
                                    email="ada@example.org")
        gb.update_or_create_student("bob", first_name="Bob", last_name="Bobson")
        gb.update_or_create_student("cy")
        scores = {  # (student, assignment) -> grade id -> (auto, manual, extra credit)
            ("ada", "01_eda"): {"test_b": (2, None, None), "answer_a": (None, 2.5, 0.5),
                                "test_a": (0, None, None)},
            ("ada", "02_binary"): {"test_c": (4, None, None)},
            ("bob", "01_eda"): {"test_b": (0, 1, None), "answer_a": (None, None, None),
                                "test_a": (1, None, None)},
        }
        for (student, assignment), grades in scores.items():
            gb.add_submission(assignment, student, timestamp=SUBMITTED[student])
            for grade_id, (auto, manual, extra) in grades.items():
                grade = gb.find_grade(grade_id, assignment, assignment, student)
                grade.auto_score, grade.manual_score, grade.extra_credit = auto, manual, extra
                grade.needs_manual_grade = auto is None and manual is None
        for student, kind in (("ada", "bwrap"), ("bob", "none")):  # as record_result notes it
            summary = tmp_path / "autograded" / student / "01_eda" / SUMMARY
            summary.parent.mkdir(parents=True)
            summary.write_text(json.dumps({"student": student, "sandbox": kind}), encoding="utf-8")
        notebook = gb.find_submission_notebook("01_eda", "01_eda", "bob")
        notebook.late_submission_penalty = 0.5
        gb.db.commit()


def _read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_wide_export_has_a_column_per_exercise_and_totals(course, tmp_path):
    out = export_grades(tmp_path / "out" / "grades.csv", root=course)
    rows = {row["student_id"]: row for row in _read(out)}
    header = list(_read(out)[0])
    assert header == [
        "student_id", "last_name", "first_name", "email",
        "01_eda:test_b", "01_eda:answer_a", "01_eda:test_a", "01_eda:penalty", "01_eda:late_h",
        "01_eda:score", "01_eda:max", "01_eda:status", "01_eda:sandbox",
        "02_binary:test_c", "02_binary:penalty", "02_binary:late_h", "02_binary:score",
        "02_binary:max", "02_binary:status", "02_binary:sandbox", "total", "max_total"]
    ada, bob, cy = rows["ada"], rows["bob"], rows["cy"]
    assert (ada["last_name"], ada["email"]) == ("Lovelace", "ada@example.org")
    assert float(ada["01_eda:answer_a"]) == 3.0, "manual score plus extra credit"
    assert float(ada["01_eda:score"]) == 5.0 and ada["01_eda:status"] == "graded"
    assert float(ada["total"]) == 9.0 and float(ada["max_total"]) == 10.0
    assert float(bob["01_eda:test_b"]) == 1.0, "a manual score overrides the autograder's"
    assert bob["01_eda:status"] == "needs manual grading", "answer_a not graded yet"
    assert float(bob["01_eda:penalty"]) == 0.5 and float(bob["01_eda:score"]) == 1.5
    assert float(bob["01_eda:late_h"]) == 1.5 and float(ada["01_eda:late_h"]) == 0.0
    assert (ada["01_eda:sandbox"], bob["01_eda:sandbox"], ada["02_binary:sandbox"]) == (
        "bwrap", "none", ""), "as casekit-course autograde recorded it; empty: graded otherwise"
    assert bob["02_binary:status"] == "missing" and bob["02_binary:test_c"] == ""
    assert float(bob["total"]) == 1.5
    assert cy["01_eda:status"] == cy["02_binary:status"] == "missing"
    assert float(cy["total"]) == 0.0 and float(cy["max_total"]) == 10.0


def test_long_export_and_one_assignment(course, tmp_path):
    out = export_grades(tmp_path / "long.csv", assignments=["01_eda"], long=True, root=course)
    rows = _read(out)
    assert [(r["student_id"], r["grade_id"]) for r in rows] == [
        ("ada", "test_b"), ("ada", "answer_a"), ("ada", "test_a"),
        ("bob", "test_b"), ("bob", "answer_a"), ("bob", "test_a")]
    answer = rows[1]
    assert (answer["score"], answer["auto_score"], answer["manual_score"]) == ("3.0", "", "2.5")
    assert rows[4]["needs_manual_grade"] == "True"


def test_command_line_and_unknown_assignment(course, tmp_path, capsys):
    assert main(["--out", str(tmp_path / "cli.csv"), "--root", str(course),
                 "--assignment", "02_binary"]) == 0
    assert "wrote" in capsys.readouterr().out
    columns, rows = grade_table(["02_binary"], root=course)
    assert [r["student_id"] for r in _read(tmp_path / "cli.csv")] == ["ada", "bob", "cy"]
    assert columns[-2:] == ["total", "max_total"] and len(rows) == 3
    with pytest.raises(CourseError, match="not in the gradebook: \\['03_sixclass'\\]"):
        grade_table(["03_sixclass"], root=course)
