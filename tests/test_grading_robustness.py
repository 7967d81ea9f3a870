"""Odd submissions are still graded, and no leak route puts hidden tests into feedback.

One real nbgrader course for 01_eda (slim solution, ``class_shares`` answered with counts so
that scores are not all full) autogrades four students:

* ``clean``: the notebook as it should be handed in;
* ``copied``: saved by Colab as ``Copy of 01_eda.ipynb``, a test cell duplicated with its
  nbgrader metadata (and a solution cell copied further down);
* ``split``: downloaded twice (``01_eda (1).ipynb``), an answer cell split in two;
* ``deleted``: a locked test set-up cell and the test cell after it deleted (nbgrader 0.9
  alone fails with ``KeyError`` and never restores a set-up cell);
* ``leaky``: every known route to print hidden tests: ``%xmode Verbose`` in an answer whose
  hidden test fails, ``In`` as a cell's result, ``print(_ih)``, ``print(Out)``, ``%history``.

The first three must get the clean copy's scores, cell for cell; the leaky student's
feedback (built by casekit_course.feedback) must hold no hidden line and no marker,
although its autograded notebook shows that every route really printed them. The pieces
are also tested alone: nbgrader's own feedback (``nbgrader generate_feedback``) goes
through ScrubHiddenOutputs.
"""

from __future__ import annotations

import copy
import html
import logging
import re
import warnings

import nbformat
import pytest

from casekit.graded import hidden_test_lines, strip_hidden_tests
from casekit_course import course_root
from casekit_course.grading import autograde_in_temp_course
from casekit_course.guard import SCRUBBED, RepairDuplicateCells, ScrubHiddenOutputs
from casekit_course.mutants import inject, slim
from casekit_course.submissions import base_name, tidy_submission

pytestmark = pytest.mark.xdist_group("grading-robustness")
SOLUTION = course_root() / "solutions" / "01_eda" / "01_eda.ipynb"
ROUTES = {
    "In as a result": "In",
    "print(_ih)": "print(_ih)",
    "print(Out)": "print(Out)",
    "%history": "%history",
}


def _cell(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _base():
    return inject(slim(nbformat.read(SOLUTION, as_version=4)),
                  {"test_class_shares": "return df[column].value_counts()"})


def _copied():
    nb = _base()
    test = _cell(nb, "test_median_age_by_label")
    nb.cells.insert(test + 1, copy.deepcopy(nb.cells[test]))
    nb.cells.append(copy.deepcopy(nb.cells[_cell(nb, "images_per_group")]))
    return nb


def _split():
    nb = _base()
    at = _cell(nb, "median_age_by_label")
    first, _, rest = nb.cells[at].source.partition("    ### BEGIN SOLUTION")
    second = copy.deepcopy(nb.cells[at])
    nb.cells[at].source = first.rstrip("\n")
    second.source = "    ### BEGIN SOLUTION" + rest
    del second["id"]
    nb.cells.insert(at + 1, second)
    return nb


def _deleted():
    nb = _base()
    for grade_id in ("setup_dataset_summary", "test_dataset_summary"):
        del nb.cells[_cell(nb, grade_id)]
    return nb


def _leaky():
    nb = inject(slim(nbformat.read(SOLUTION, as_version=4)),
                {"test_class_shares":  # fits the visible example only: a hidden assert fails
                 "return pd.Series({'nv': 4 / 7, 'mel': 2 / 7, 'bcc': 1 / 7})"})
    at = _cell(nb, "class_shares")
    nb.cells[at].source = "%xmode Verbose\n" + nb.cells[at].source
    nb.cells += [nbformat.v4.new_code_cell(source) for source in ROUTES.values()]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("robust")
    submissions = {}
    for student, (name, nb) in {"clean": ("01_eda.ipynb", _base()),
                                "copied": ("Copy of 01_eda.ipynb", _copied()),
                                "split": ("01_eda (1).ipynb", _split()),
                                "deleted": ("01_eda.ipynb", _deleted()),
                                "leaky": ("01_eda.ipynb", _leaky())}.items():
        folder = work / "hand-in" / student
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / name)
        submissions[student] = folder
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("casekit_course").addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader
            report = autograde_in_temp_course("01_eda", submissions, work / "course",
                                              feedback=True)
    finally:
        logging.getLogger("casekit_course").removeHandler(handler)
    return report, [r.getMessage() for r in records]


@pytest.mark.slow
@pytest.mark.parametrize("student", ["copied", "split", "deleted"])
def test_copied_split_and_renamed_submissions_get_the_clean_scores(graded, student):
    report, lines = graded
    clean = report.students["clean"]
    assert clean.auto_score == clean.auto_max - 2, "class_shares is wrong in every copy"
    assert report.students[student].grades == clean.grades
    mine = [line for line in lines if f"{student}" in line]
    expected = {"copied": ["'Copy of 01_eda.ipynb' as 01_eda.ipynb",
                           "cell `test_median_age_by_label` appears 2 times",
                           "cell `images_per_group` appears 2 times"],
                "split": ["'01_eda (1).ipynb' as 01_eda.ipynb",
                          "answer cell `median_age_by_label` was split in two"],
                "deleted": []}[student]
    for fragment in expected:
        assert [line for line in mine if fragment in line], (fragment, mine)
    assert all("01_eda" in line and "student" in line or "renamed" in line for line in mine)
    if student == "deleted":
        autograded = nbformat.read(report.course / "autograded" / student / "01_eda" /
                                   "01_eda.ipynb", as_version=4)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in autograded.cells]
        at = ids.index("dataset_summary")
        assert ids[at + 1:at + 4] == ["setup_dataset_summary", "test_dataset_summary",
                                      "test_dataset_summary_ages"], "restored in place"


@pytest.mark.slow
def test_no_leak_route_reaches_the_feedback(graded):
    report, _ = graded
    assert report.students["leaky"].auto_score == report.students["leaky"].auto_max - 2
    source = nbformat.read(SOLUTION, as_version=4)
    visible = "\n".join(strip_hidden_tests(cell.source) for cell in source.cells)
    hidden = {line for cell in source.cells for line in hidden_test_lines(cell.source)
              if len(line) >= 12 and line not in visible}
    autograded = nbformat.read(report.course / "autograded" / "leaky" / "01_eda" /
                               "01_eda.ipynb", as_version=4)
    for route, code in [("%xmode Verbose", None), *ROUTES.items()]:
        cell = (autograded.cells[_cell(autograded, "test_class_shares")] if code is None else
                next(c for c in autograded.cells if c.source == code))
        shown = _text(cell.outputs)
        assert any(line in shown for line in hidden), f"{route} did not print hidden tests"
    page = report.students["leaky"].feedback_html["01_eda"]
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "HIDDEN TESTS" not in text
    assert sorted(line for line in hidden if line in text) == []
    assert "AssertionError" in text, "the failed test still names its error"


def _text(outputs) -> str:
    parts = []
    for o in outputs:
        parts += [o.get("text", ""), o.get("evalue", ""), *o.get("traceback", [])]
        parts += [str(v) for v in o.get("data", {}).values()]
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts)).replace("\\n", "\n")


# --- The pieces, without nbgrader ----------------------------------------------------------


def test_repair_joins_split_answers_and_ungrades_copies():
    def cell(source, grade_id, **meta):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, **meta}
        return c

    answer = {"solution": True, "grade": False}
    nb = nbformat.v4.new_notebook(cells=[
        cell("def f(x):", "f", **answer), cell("    return x", "f", **answer),
        cell("assert f(1) == 1", "test_f", grade=True, solution=False, points=1),
        cell("assert f(1) == 1", "test_f", grade=True, solution=False, points=1),
        nbformat.v4.new_code_cell("print(1)"), cell("def f(x):\n    return 2", "f", **answer),
    ])
    repaired, _ = RepairDuplicateCells().preprocess(nb, {"nbgrader": {"student": "s"}})
    assert [c.source for c in repaired.cells] == [
        "def f(x):\n    return x", "assert f(1) == 1", "assert f(1) == 1", "print(1)",
        "def f(x):\n    return 2"]
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in repaired.cells] == [
        "f", "test_f", None, None, None]


def test_scrub_removes_outputs_showing_hidden_lines():
    test = nbformat.v4.new_code_cell(
        "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(secret_input) == 42, 'teach'\n"
        "### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_f"}
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="f got secret\n"),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="teach",
                                           traceback=["assert f(secret_input) == 42, 'teach'"])]
    printer = nbformat.v4.new_code_cell("print(In)")
    printer.outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text=repr(["", test.source]))]
    fine = nbformat.v4.new_code_cell("print('ok')")
    fine.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
    nb = nbformat.v4.new_notebook(cells=[test, printer, fine])
    ScrubHiddenOutputs().preprocess(nb, {})
    assert [(o.ename, o.evalue, o.traceback) for o in test.outputs] == [
        ("AssertionError", "teach", ["AssertionError: teach"])]
    assert printer.outputs[0].text == SCRUBBED
    assert fine.outputs[0].text == "ok\n"


def test_renamed_notebooks_are_found(tmp_path):
    assert {base_name(n) for n in ["Copy of 01_eda.ipynb", "01_eda (1).ipynb", "01_eda.ipynb",
                                   "01_eda - Copy.ipynb", "01_eda.ipynb.ipynb"]} == {"01_eda"}
    (tmp_path / "01_eda (1).ipynb").write_text("{}")
    (tmp_path / "Copy of 01_eda.ipynb").write_text("{}")
    notes = tidy_submission(tmp_path, ["01_eda.ipynb"], student="bob")
    assert notes == ["bob: several copies of 01_eda.ipynb (01_eda (1).ipynb, Copy of "
                     "01_eda.ipynb); not graded: keep one and name it 01_eda.ipynb"]
    assert not (tmp_path / "01_eda.ipynb").exists()
    assert tidy_submission(tmp_path / "missing", ["01_eda.ipynb"]) == []
