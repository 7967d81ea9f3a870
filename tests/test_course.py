"""The nbgrader course: every assignment in solutions/ executes, validates and autogrades.

Parametrised over ``find_assignments()``, so a new ``solutions/<assignment>/`` is covered
without editing this file. The expensive steps (a temporary course with generate_assignment
and three autograded students) run once per assignment and are shared by the tests.
Run with ``-p no:xdist`` or ``--dist loadgroup`` so they are not repeated per worker.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
import warnings

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest

from casekit import notebook as nbk
from casekit_course import (
    SECRET_MARKERS,
    CourseError,
    assignment_notebooks,
    autograde_in_temp_course,
    check_release_up_to_date,
    check_rubrics,
    course_root,
    execute,
    find_assignments,
    graded_cells,
    leaked_markers,
    read_grades,
    validate,
)
from casekit_course.__main__ import main as course_cli
from casekit_course.execute import QUICK_PARAMETERS
from casekit_course.fanout import autograde
from casekit_course.hosting import load_hosting
from tests._colab_stub import stand_in_colab

ROOT = course_root()
ASSIGNMENTS = find_assignments(ROOT)
TIMINGS: dict[str, float] = {}
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)

pytestmark = pytest.mark.xdist_group("course")
# Per-assignment xdist groups: one assignment's shared temporary course stays on one worker,
# while different assignments spread over the workers.
BY_ASSIGNMENT = [pytest.param(a, marks=pytest.mark.xdist_group(f"course-{a}"))
                 for a in ASSIGNMENTS]


def _autograded_ids(path) -> list[str]:
    return [g for g, (kind, _) in graded_cells(path).items() if kind == "auto"]


def _tampered_colab_copy(source_dir, target_dir) -> None:
    """A solution saved by Colab (nbformat 4.0, no cell ids, no lock flags) whose student
    deleted one test cell and rewrote another to ``pass``."""
    shutil.copytree(source_dir, target_dir)
    for path in sorted(target_dir.glob("*.ipynb")):
        tests = _autograded_ids(path)
        nb = json.loads(path.read_text(encoding="utf-8"))
        nb["nbformat_minor"] = 0
        for cell in nb["cells"]:
            cell["metadata"]["id"] = cell.pop("id")  # where Colab keeps its own ids
            cell["metadata"].pop("deletable", None)
            cell["metadata"].pop("editable", None)
        graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
                  in tests]
        nb["cells"].remove(graded[0])
        graded[-1]["source"] = "pass  # tests removed"
        path.write_text(json.dumps(nb, indent=2), encoding="utf-8")


@pytest.fixture(scope="session")
def course_autograde(tmp_path_factory):
    """Per assignment, once: a temporary course grading solution, blank and tampered copies."""
    reports = {}

    def run(assignment: str):
        if assignment not in reports:
            work = tmp_path_factory.mktemp(f"course-{assignment}")
            _tampered_colab_copy(ROOT / "solutions" / assignment, work / "tampered")
            submissions = {
                "solution": ROOT / "solutions" / assignment,
                "blank": ROOT / "notebooks" / assignment,
                "tampered": work / "tampered",
            }
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader
                report = autograde_in_temp_course(
                    assignment, submissions, workdir=work / "course", feedback=True
                )
            TIMINGS[f"{assignment}: generate_assignment"] = report.generate_seconds
            for student, score in report.students.items():
                TIMINGS[f"{assignment}: autograde {student}"] = score.autograde_seconds
            reports[assignment] = report
        return reports[assignment]

    return run


# --- The notebooks themselves ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_solution_executes_on_synthetic_data(assignment, tmp_path):
    for path in assignment_notebooks(assignment):
        started = time.perf_counter()
        out = execute(path, tmp_path / path.name, QUICK_PARAMETERS)
        TIMINGS[f"{assignment}: execute {path.name}"] = time.perf_counter() - started
        nb = nbformat.read(out, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.output_type == "error"]
        assert errors == []
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                          for o in c.get("outputs", []) if o.output_type == "stream")
        assert "grading no" in printed, "the set-up cell must call casekit.notebook.setup()"


@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_notebook_conventions(assignment):
    for path in assignment_notebooks(assignment):
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert (raw["nbformat"], raw["nbformat_minor"]) >= (4, 5), "cell ids need nbformat 4.5"
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3"
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "DATA = " in tagged[0].source
        badge = load_hosting().colab_url(f"notebooks/{assignment}/{path.name}")
        assert badge in nb.cells[0].source
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta:
                assert meta["schema_version"] == 3, cell.id
            if meta and meta.get("solution") and cell.cell_type == "code":
                assert "### BEGIN SOLUTION" in cell.source, f"{cell.id}: solution region"
            marked = any(m in cell.source for m in ("BEGIN SOLUTION", "HIDDEN TESTS"))
            assert meta or not marked, f"{cell.id}: markers in a cell without nbgrader metadata"


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_no_outputs_are_stored(folder):
    for path in sorted((ROOT / folder).rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path}: {cell.id}"


def test_release_holds_no_solutions_or_hidden_tests():
    assert leaked_markers(ROOT / "notebooks") == []
    for path in sorted((ROOT / "notebooks").rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [m for m in SECRET_MARKERS if m in text], path


def test_release_covers_every_assignment_and_is_up_to_date():
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir()) == ASSIGNMENTS
    assert check_release_up_to_date() == []


def test_release_check_spots_a_stale_notebook(tmp_path):
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path)
    for folder in ("solutions", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    stale = sorted((tmp_path / "notebooks").rglob("*.ipynb"))[0]
    stale.write_text(stale.read_text(encoding="utf-8") + " ", encoding="utf-8")
    (tmp_path / "notebooks" / "99_orphan").mkdir()
    (tmp_path / "notebooks" / "99_orphan" / "x.ipynb").write_text("{}", encoding="utf-8")
    problems = check_release_up_to_date(tmp_path)
    assert f"stale: notebooks/{stale.relative_to(tmp_path / 'notebooks').as_posix()}" in problems
    assert "extra: notebooks/99_orphan/x.ipynb" in problems


# --- Rubrics -------------------------------------------------------------------------------


def test_rubrics_match_notebook_metadata():
    assert check_rubrics() == []
    assert course_cli(["rubrics"]) == 0


def test_rubric_check_reports_mismatches(tmp_path):
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copytree(ROOT / "rubrics", tmp_path / "rubrics")
    rubric = tmp_path / "rubrics" / "01_eda.md"
    text = rubric.read_text(encoding="utf-8")
    text = text.replace("## `answer_leak` (3 points)", "## `answer_leak` (4 points)")
    text = text.replace("## `answer_modality` (3 points)", "## `answer_modality_typo` (3 points)")
    rubric.write_text(text, encoding="utf-8")
    problems = check_rubrics(["01_eda"], root=tmp_path)
    assert "01_eda.md: `answer_leak` has 4 points, the cell 3" in problems
    assert "01_eda.md: graded cell `answer_modality` is missing" in problems
    assert "01_eda.md: `answer_modality_typo` is not a graded cell" in problems
    assert any("needs score levels from 0 to 4" in p for p in problems)
    rubric.unlink()
    assert any(p.startswith("missing rubric") for p in check_rubrics(["01_eda"], root=tmp_path))


# --- nbgrader: validate and autograde ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_validator_passes_every_solution(assignment):
    for path in assignment_notebooks(assignment):
        started = time.perf_counter()
        result = validate(path)
        TIMINGS[f"{assignment}: validate solution"] = time.perf_counter() - started
        assert result.failed == {} and result.changed == []
        assert sorted(result.passed) == sorted(_autograded_ids(path))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_every_test_fails_on_the_release_copy(assignment):
    for source in assignment_notebooks(assignment):
        released = ROOT / "notebooks" / assignment / source.name
        started = time.perf_counter()
        result = validate(released)
        TIMINGS[f"{assignment}: validate release"] = time.perf_counter() - started
        assert result.passed == [] and result.changed == []
        assert sorted(result.failed) == sorted(_autograded_ids(source))


def test_validate_names_the_failing_cell(tmp_path):
    def cell(source, grade_id, points):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True,
                                  "points": points, "schema_version": 3, "solution": False,
                                  "task": False}
        return c

    nb = nbformat.v4.new_notebook(cells=[cell("assert 1 + 1 == 2", "good", 1),
                                         cell("assert 1 + 1 == 3, 'arithmetic'", "bad", 2)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    result = validate(path)
    assert result.passed == ["good"] and list(result.failed) == ["bad"]
    assert "AssertionError: arithmetic" in result.failed["bad"]
    assert not result.ok
    assert course_cli(["validate", str(path)]) == 1


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_autograde_gives_the_solution_full_points(assignment, course_autograde):
    score = course_autograde(assignment).students["solution"]
    assert score.auto_max > 0 and score.auto_score == score.auto_max
    manual = [g for g, s in score.grades.items() if s.kind == "manual"]
    assert all(score.grades[g].needs_manual_grade for g in manual), "answers await a grader"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_autograde_gives_the_blank_release_zero(assignment, course_autograde):
    score = course_autograde(assignment).students["blank"]
    assert score.auto_score == 0
    assert all(g.auto_score == 0 for g in score.grades.values()), "unanswered cells score 0"
    assert not any(g.needs_manual_grade for g in score.grades.values())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_autograde_takes_colab_files_and_restores_test_cells(assignment, course_autograde):
    report = course_autograde(assignment)
    tampered, solution = report.students["tampered"], report.students["solution"]
    assert set(tampered.grades) == set(solution.grades)
    assert tampered.auto_score == solution.auto_max


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_feedback_does_not_show_hidden_tests(assignment, course_autograde):
    hidden_lines = set()
    for path in assignment_notebooks(assignment):
        cells = nbformat.read(path, as_version=4).cells
        # Feedback shows the visible code of every cell: a hidden line that also occurs in
        # visible code anywhere in the notebook (e.g. "})") proves nothing.
        visible = "\n".join(HIDDEN.sub("", cell.source) for cell in cells)
        for cell in cells:
            for region in HIDDEN.findall(cell.source):
                hidden_lines |= {line.strip() for line in region.splitlines()[1:-1]
                                 if line.strip() and line.strip() not in visible}
    assert hidden_lines
    for student in ("solution", "blank"):
        for page in course_autograde(assignment).students[student].feedback_html.values():
            text = html.unescape(re.sub(r"<[^>]+>", "", page))
            assert "HIDDEN TESTS" not in text
            assert [line for line in hidden_lines if line in text] == []


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT[:1])
def test_dask_autograde_matches_serial(assignment, course_autograde):
    report = course_autograde(assignment)
    course = report.course
    students = ["solution", "blank"]
    started = time.perf_counter()
    results = autograde(assignment, workers=2, students=students, root=course, force=True,
                        say=lambda line: None)
    TIMINGS[f"{assignment}: autograde 2 students on 2 Dask workers"] = (
        time.perf_counter() - started)
    assert sorted(r.student for r in results) == sorted(students)
    for student in students:
        assert read_grades(course, assignment, student) == report.students[student].grades
        assert (course / "autograded" / student / assignment).is_dir()


def test_autograde_rejects_an_unknown_submission(tmp_path):
    (tmp_path / "notes.txt").write_text("not a notebook", encoding="utf-8")
    with pytest.raises(CourseError, match="neither a notebook nor a folder"):
        autograde_in_temp_course(ASSIGNMENTS[0], {"x": tmp_path / "notes.txt"},
                                 workdir=tmp_path / "course")


# --- 01_eda: the hidden tests catch the classic mistakes ---------------------------------

_EDA_MUTANTS = {
    "test_class_shares": {
        "counts, not shares": "def class_shares(df, column='label'):\n"
                              "    return df[column].value_counts()",
        "ignores column": "def class_shares(df, column='label'):\n"
                          "    return df['label'].value_counts(normalize=True)",
    },
    "test_median_age_by_label": {
        "missing age as 0": "def median_age_by_label(df):\n"
                            "    return df.assign(age=df['age'].fillna(0))"
                            ".groupby('label')['age'].median()",
        "mean": "def median_age_by_label(df):\n    return df.groupby('label')['age'].mean()",
        "drops all-missing labels": "def median_age_by_label(df):\n"
                                    "    return df.dropna(subset=['age'])"
                                    ".groupby('label')['age'].median()",
    },
    "test_leak_crosstab": {
        "column-normalised": "def leak_crosstab(df, column='dx_type'):\n"
                             "    return pd.crosstab(df[column], df['label'], normalize='columns')",
        "ignores column": "def leak_crosstab(df, column='dx_type'):\n"
                          "    return pd.crosstab(df['dx_type'], df['label'], normalize='index')",
    },
    "test_images_per_group": {
        "unsorted": "def images_per_group(df):\n    return df.groupby('group_id').size()",
        "labels, not images": "def images_per_group(df):\n    return df.groupby('group_id')"
                              "['label'].nunique().sort_values(ascending=False)",
    },
    "test_share_in_repeated_groups": {
        "share of groups": "def share_in_repeated_groups(df):\n"
                           "    return float((df.groupby('group_id').size() >= 2).mean())",
        "count": "def share_in_repeated_groups(df):\n"
                 "    size = df.groupby('group_id')['group_id'].transform('size')\n"
                 "    return int((size >= 2).sum())",
    },
    "test_skin_type_counts": {
        "drops missing": "def skin_type_counts(df):\n"
                         "    known = df['skin_type'].dropna().astype(int)\n"
                         "    named = known.map(dict(zip(range(1, 7), FITZPATRICK)))\n"
                         "    return named.value_counts().reindex(FITZPATRICK, fill_value=0)",
        "omits empty types": "def skin_type_counts(df):\n"
                             "    known = df['skin_type'].dropna().astype(int)\n"
                             "    named = known.map(dict(zip(range(1, 7), FITZPATRICK)))\n"
                             "    missing = int(df['skin_type'].isna().sum())\n"
                             "    unknown = pd.Series({'unknown': missing})\n"
                             "    return pd.concat([named.value_counts(), unknown])",
    },
    "test_share_missing_questionnaire": {
        "any missing": "def share_missing_questionnaire(df, columns=QUESTIONNAIRE):\n"
                       "    return float(df[list(columns)].isna().any(axis=1).mean())",
        "ignores columns": "def share_missing_questionnaire(df, columns=QUESTIONNAIRE):\n"
                           "    return float(df.isna().all(axis=1).mean())",
    },
    "test_dataset_summary": {
        "missing age as 0": "def dataset_summary(df):\n"
                            "    s = _solution_dataset_summary(df)\n"
                            "    s['median_age'] = df['age'].fillna(0).median()\n"
                            "    return s",
        "cancer share of groups": "def dataset_summary(df):\n"
                                  "    s = _solution_dataset_summary(df)\n"
                                  "    by_group = df.groupby('group_id')['target_binary'].max()\n"
                                  "    s['share_cancer'] = by_group.mean()\n"
                                  "    return s",
    },
}
# The visible tests catch every mistake an exercise's text names (issue 9) and every ignored
# argument (issue 18: a visible test passes each argument the hidden tests pass).
_CAUGHT_ONLY_BY_HIDDEN: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def course_eda_cells():
    """01_eda's solution functions (run in-process) and, per exercise (its first test cell's
    grade id), the sources of its set-up and test cells."""
    namespace = {"pd": pd, "np": np}
    tests, first = {}, None
    for cell in nbformat.read(ROOT / "solutions/01_eda/01_eda.ipynb", as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta:
            continue
        if meta.get("solution"):
            exec(cell.source, namespace)
            first, pending = None, ""
        elif not meta.get("grade"):  # a locked set-up cell of the tests below it
            pending += cell.source + "\n"
        elif first is None:
            first = meta["grade_id"]
            tests[first] = pending + cell.source
        else:
            tests[first] += "\n" + cell.source
    namespace["_solution_dataset_summary"] = namespace["dataset_summary"]
    return namespace, tests


def _passes(source: str, namespace: dict) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # stderr in a graded cell would cost the points
            exec(source, dict(namespace))
    except Exception:
        return False
    return True


def test_eda_solutions_pass_their_tests_without_warnings(course_eda_cells):
    namespace, tests = course_eda_cells
    assert set(tests) == set(_EDA_MUTANTS)
    assert [grade_id for grade_id, source in tests.items() if not _passes(source, namespace)] == []


@pytest.mark.parametrize(
    ("grade_id", "mistake"),
    [(g, m) for g, mutants in _EDA_MUTANTS.items() for m in mutants],
)
def test_eda_tests_catch_a_classic_mistake(course_eda_cells, grade_id, mistake):
    namespace, tests = course_eda_cells
    wrong = dict(namespace)
    exec(_EDA_MUTANTS[grade_id][mistake], wrong)
    assert not _passes(tests[grade_id], wrong), "the full (visible + hidden) tests must fail"
    only_hidden = _passes(HIDDEN.sub("", tests[grade_id]), wrong)
    assert only_hidden == ((grade_id, mistake) in _CAUGHT_ONLY_BY_HIDDEN)


# --- casekit.notebook ----------------------------------------------------------------------


def test_grading_and_colab_detection(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert not nbk.is_grading() and not nbk.in_colab()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert nbk.is_grading()


def test_setup_loads_colab_secrets_without_printing_them(monkeypatch, capsys):
    stand_in_colab(monkeypatch, {"KAGGLE_USERNAME": "ada", "KAGGLE_KEY": "s3cr3t-key-value"})
    for key in nbk.KAGGLE_SECRETS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with matplotlib.rc_context():
        session = nbk.setup(seed=3, persist=None)
    printed = capsys.readouterr().out
    assert session.environment.colab and session.environment.kaggle_credentials
    assert session.seed == 3 and not session.grading
    assert "s3cr3t" not in printed and "ada" not in printed
    assert "Colab yes" in printed and "grading no" in printed
    assert os.environ.get("KAGGLE_KEY") == "s3cr3t-key-value"
    assert np.random.rand() == np.random.RandomState(3).rand()


def test_resolve_data_uses_small_synthetic_data_while_grading(monkeypatch, tmp_path):
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    monkeypatch.setenv("CASEKIT_DATA", str(tmp_path))
    root = nbk.resolve_data("real", "pad_ufes_20", root=tmp_path / "real_pad", n_images=10_000)
    assert root.parent == tmp_path and not (tmp_path / "real_pad").exists()
    manifest = json.loads((root / "SYNTHETIC.json").read_text(encoding="utf-8"))
    assert manifest["n_images"] == nbk.GRADING_N_IMAGES["pad_ufes_20"]
    with pytest.raises(ValueError, match='"synthetic" or "real"'):
        nbk.resolve_data("fake", "ham10000")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_autograding_time_per_notebook(assignment, course_autograde, capsys):
    """Grading must stay far below the per-cell timeout; prints every step's seconds."""
    report = course_autograde(assignment)
    n_notebooks = len(assignment_notebooks(assignment))
    with capsys.disabled():
        for step, seconds in sorted(TIMINGS.items()):
            print(f"\n  {step:<50} {seconds:6.1f} s", end="")
        print()
    assert report.generate_seconds < 60 * n_notebooks
    for score in report.students.values():
        assert score.autograde_seconds < 120 * n_notebooks
