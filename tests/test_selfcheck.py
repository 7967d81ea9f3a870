"""casekit.selfcheck: students see PASS / FAIL / NOT DONE per exercise without nbgrader.

The student notebook here is 01_eda's solution (made slim: no plots) with one visible
mistake, one answer that fits the visible examples only (the self-check must still say PASS:
it runs the visible tests only), one exercise left as the release stub, and one answer
that prints a warning (nbgrader counts output on stderr as a failure). The self-check runs
the SAVED file in a separate kernel: the student's live kernel, where the function was
fixed but not saved, keeps its own (fixed) function.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import types

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell

from casekit.selfcheck import FAIL, NOT_DONE, NOT_RUN, PASS, _running_notebook_path, main, run
from casekit_course import course_root
from casekit_course.kernel import use_this_python
from casekit_course.mutants import inject, slim

pytestmark = pytest.mark.xdist_group("grading-selfcheck")
SOLUTION = course_root() / "solutions" / "01_eda" / "01_eda.ipynb"
EXPECTED = {
    "test_class_shares": FAIL,  # counts, not shares: a visible assert fails
    "test_class_shares_column": FAIL,  # the same mistake, seen again with `column`
    "test_share_missing_questionnaire": PASS,  # fits the visible examples only: only the
    "test_share_missing_questionnaire_columns": PASS,  # hidden tests know
    "test_leak_crosstab": NOT_DONE,  # the stub of the student version
    "test_leak_crosstab_column": NOT_DONE,
    "test_images_per_group": FAIL,  # right, but writes a warning to stderr
}


@pytest.fixture(scope="module")
def student_notebook(tmp_path_factory):
    nb = inject(slim(nbformat.read(SOLUTION, as_version=4)), {
        "test_class_shares": "return df[column].value_counts()",
        "test_share_missing_questionnaire": "return 0.5 if columns is QUESTIONNAIRE else 0.25",
        "test_leak_crosstab": "# YOUR CODE HERE\nraise NotImplementedError()",
        "test_images_per_group": """
            import warnings
            warnings.warn("check the order")
            return df.groupby("group_id").size().sort_values(ascending=False)
        """,
    })
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer_leak":
            cell.source = "YOUR ANSWER HERE"
    path = tmp_path_factory.mktemp("selfcheck") / "01_eda.ipynb"
    nbformat.write(nb, path)
    return path


def _statuses(report):
    return {c.grade_id: c.status for c in report.checks}


def _expected_everywhere():
    statuses = {t: PASS for t in ["test_class_shares", "test_class_shares_column",
                                  "test_median_age_by_label", "test_leak_crosstab",
                                  "test_leak_crosstab_column", "test_images_per_group",
                                  "test_share_in_repeated_groups", "test_skin_type_counts",
                                  "test_skin_type_counts_missing",
                                  "test_share_missing_questionnaire",
                                  "test_share_missing_questionnaire_columns",
                                  "test_dataset_summary", "test_dataset_summary_ages"]}
    return {**statuses, **EXPECTED}


@pytest.fixture(scope="module")
def live_kernel_check(student_notebook):
    """The self-check run from a live IPython kernel whose class_shares is fixed, unsaved."""
    use_this_python()
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("import pandas as pd\n"
                       "def class_shares(df, column='label'):\n"
                       "    return df[column].value_counts(normalize=True)\n"
                       "marker = object()")
        before = dict(shell.user_ns)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            report = run(student_notebook)
        after = dict(shell.user_ns)
    finally:
        InteractiveShell.clear_instance()
    return report, out.getvalue(), before, after


@pytest.mark.slow
def test_self_check_grades_the_saved_file_and_leaves_the_kernel_alone(live_kernel_check):
    report, printed, before, after = live_kernel_check
    assert _statuses(report) == _expected_everywhere()
    checks = {c.grade_id: c for c in report.checks}
    assert checks["test_class_shares"].message.startswith("AssertionError: a share is a fraction")
    assert "stderr" in checks["test_images_per_group"].message
    assert report.points == 18 - 2 - 2 - 2 and report.max_points == 18
    assert report.unanswered == ["answer_leak"] and report.written_points == 14
    assert "NOT DONE 0/1  test_leak_crosstab" in printed
    assert "Written answers still empty: answer_leak" in printed
    assert "separate kernel" in printed and "SAVED file" in printed and "save first" in printed
    assert "last saved" in report.source
    for name in ("class_shares", "marker", "pd"):
        assert after[name] is before[name], f"the live kernel's {name} was changed"
    new_names = {k for k in after if not k.startswith("_")} - set(before)
    assert new_names == set(), f"the self-check defined {sorted(new_names)} in the live kernel"


@pytest.mark.slow
def test_command_line_exit_status(student_notebook):
    use_this_python()
    assert main([str(student_notebook)]) == 1


@pytest.mark.slow
def test_colab_reads_the_notebook_from_the_editor(student_notebook, monkeypatch):
    """In Colab the notebook comes from google.colab._message (stand-in: Colab is absent)."""
    use_this_python()
    requests = []

    def blocking_request(name, request="", timeout_sec=None):
        requests.append(name)
        return {"ipynb": json.loads(student_notebook.read_text(encoding="utf-8"))}

    colab = types.ModuleType("google.colab")
    colab._message = types.SimpleNamespace(blocking_request=blocking_request)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    report = run(show=False)
    assert requests == ["get_ipynb"]
    assert report.notebook == "this notebook (Colab)"
    assert _statuses(report) == _expected_everywhere()


def test_jupyter_session_path_is_found(student_notebook, monkeypatch, capsys):
    monkeypatch.chdir(student_notebook.parent)
    monkeypatch.setenv("JPY_SESSION_NAME", f"course/notebooks/{student_notebook.name}")
    assert _running_notebook_path(None) == str(student_notebook.parent / student_notebook.name)
    monkeypatch.delenv("JPY_SESSION_NAME")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert run() is None, "e.g. under papermill: a message, not an error"
    assert "call run(notebook_path=...)" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="cannot read the notebook"):
        run(student_notebook.parent / "missing.ipynb")


def test_nothing_happens_while_grading(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert run("does-not-matter.ipynb") is None
    assert "skipped while nbgrader grades" in capsys.readouterr().out


def _three_exercises(folder, second_answer: str):
    """A notebook of three one-point exercises; the second answer is ``second_answer``."""
    cells = [nbformat.v4.new_code_cell("import os")]
    for name, answer in [("one", "return 1"), ("two", second_answer), ("three", "return 3")]:
        solution = nbformat.v4.new_code_cell(f"def {name}():\n    {answer}")
        solution.metadata["nbgrader"] = {"solution": True, "grade": False,
                                         "grade_id": f"answer_{name}", "schema_version": 3}
        test = nbformat.v4.new_code_cell(f"assert {name}() is not None")
        test.metadata["nbgrader"] = {"solution": False, "grade": True, "points": 1,
                                     "grade_id": f"test_{name}", "schema_version": 3}
        cells += [solution, test]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "three.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(("answer", "what"), [
    ("while True:\n        pass", "did not finish within 3 s"),
    ("os._exit(1)", "stopped the Python kernel"),
])
def test_a_loop_or_a_dead_kernel_is_reported_with_every_exercise(tmp_path, monkeypatch, capsys,
                                                                   answer, what):
    use_this_python()
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    report = run(_three_exercises(tmp_path, answer), timeout=3)
    assert _statuses(report) == {"test_one": PASS, "test_two": FAIL, "test_three": NOT_RUN}
    assert report.points == 1 and report.max_points == 3
    assert report.stopped.startswith(f"Cell 5 (`assert two() is not None`) {what}")
    assert "run the self-check again" in report.stopped
    printed = capsys.readouterr().out
    assert "FAIL     0/1  test_two  cell 5: see below" in printed
    assert "NOT RUN  0/1  test_three  not checked: the check stopped at cell 5" in printed
    assert report.stopped in printed
