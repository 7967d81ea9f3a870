"""One autograded class per assignment, shared by the grading-integrity tests.

Autograding costs a kernel start per submission (plus TensorFlow's import in 02 and 03),
so tests/test_mutants.py and tests/test_colab_roundtrip.py share one throw-away course per
assignment, built on first use in this process:

1. ``mutant0 … mutantK``: the assignment's slim solution carrying the mutants of
   ``tests/mutants/<assignment>.py`` (:func:`casekit_course.mutants.grade_mutants`);
2. ``colab``: mutant1's autograded notebook (executed, with outputs) saved the way Colab
   saves it, then tampered with: one test cell deleted and two locked test cells rewritten;
   autograded in the same course;
3. feedback HTML for every student.

Parametrize tests with :func:`per_assignment`: each assignment's tests share an xdist
group, so with ``pytest -n 2 --dist loadgroup`` two workers build two classes at once and
no class is built twice.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _colab_notebook import save_as_colab

from casekit_course import course_root, find_assignments, read_grades
from casekit_course.grading import GradeScore
from casekit_course.mutants import MutationReport, exercises, grade_mutants, load_mutants
from casekit_course.steps import autograde, generate_feedback

ROOT = course_root()
ASSIGNMENTS = find_assignments(ROOT)
MUTANT_FILES = ROOT / "tests" / "mutants"
TIMINGS: dict[str, float] = {}
#: the student whose autograded notebook becomes the Colab submissions
COLAB_SOURCE = "mutant1"


@dataclass
class Tampering:
    """What was done to the Colab copy, by test grade id."""

    deleted: str  # a test cell removed (its exercise carries a mutant)
    passed: str  # a locked test cell rewritten to `pass` (its exercise carries a mutant)
    broken: str  # a locked test cell rewritten to fail (its exercise is correct)


@dataclass
class GradedClass:
    assignment: str
    course: Path
    mutation: MutationReport
    colab: dict[str, GradeScore] = field(default_factory=dict)  # the Colab copy's grades
    tampering: Tampering | None = None
    feedback: dict[str, str] = field(default_factory=dict)  # student -> feedback text (HTML)


_CLASSES: dict[str, GradedClass] = {}


def graded_class(assignment: str, tmp_path_factory) -> GradedClass:
    """The class of ``assignment``, autograded once per test process."""
    if assignment not in _CLASSES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader
            _CLASSES[assignment] = _build(assignment, tmp_path_factory.mktemp(assignment))
    return _CLASSES[assignment]


def _build(assignment: str, work: Path) -> GradedClass:
    mutants = load_mutants(MUTANT_FILES / f"{assignment}.py")
    started = time.perf_counter()
    mutation = grade_mutants(assignment, mutants, workdir=work)
    TIMINGS[f"{assignment}: generate + autograde {len(mutation.students)} mutant students"] = (
        time.perf_counter() - started)
    graded = GradedClass(assignment, mutation.autograde.course, mutation)
    started = time.perf_counter()
    graded.tampering = _submit_colab_copy(graded)
    autograde(graded.course, assignment, "colab")
    graded.colab = read_grades(graded.course, assignment, "colab")
    TIMINGS[f"{assignment}: autograde the tampered Colab copy"] = time.perf_counter() - started
    started = time.perf_counter()
    generate_feedback(graded.course, assignment, "*")
    for folder in sorted((graded.course / "feedback").iterdir()):
        pages = sorted((folder / assignment).glob("*.html"))
        graded.feedback[folder.name] = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    TIMINGS[f"{assignment}: feedback for every student"] = time.perf_counter() - started
    return graded


def _submit_colab_copy(graded: GradedClass) -> Tampering:
    """Put the tampered Colab copy of mutant1's autograded notebook into ``submitted/colab``."""
    a, course, report = graded.assignment, graded.course, graded.mutation
    carried = list(report.students[COLAB_SOURCE])
    untouched = report.untouched[COLAB_SOURCE]
    assert len(carried) >= 2 and untouched, f"{COLAB_SOURCE} must carry 2+ mutants, keep 1+ intact"
    tests_of = {e.solution_id: e.tests for e in solution_exercises(a).values()}
    lost = {r.exercise: r.failed_tests for r in report.results if r.student == COLAB_SOURCE}
    tampering = Tampering(deleted=lost[carried[0]][0], passed=lost[carried[1]][0],
                          broken=tests_of[untouched[0]][0])
    edits = {tampering.passed: "pass  # these tests were in my way\n",
             tampering.broken: "assert False, 'tampered'\n"}
    for source in sorted((course / "autograded" / COLAB_SOURCE / a).glob("*.ipynb")):
        target = save_as_colab(source, course / "submitted" / "colab" / a / source.name,
                               gpu=True, link_cell=True, seed=1)
        nb = json.loads(target.read_text(encoding="utf-8"))
        cells = []
        for cell in nb["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id == tampering.deleted:
                continue
            if grade_id in edits:
                cell["source"] = [edits[grade_id]]
            cells.append(cell)
        nb["cells"] = cells
        target.write_text(json.dumps(nb, indent=2), encoding="utf-8")
    return tampering


def per_assignment() -> list:
    """``ASSIGNMENTS`` as pytest parameters, each in its own xdist group."""
    return [pytest.param(a, marks=pytest.mark.xdist_group(f"grading-{a}")) for a in ASSIGNMENTS]


def solution_exercises(assignment: str) -> dict:
    """Autograded exercises of the assignment's solution notebooks, by test grade id."""
    found = {}
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        found.update(exercises(path))
    return found
