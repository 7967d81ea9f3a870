"""One autograded class per assignment, shared by the grading-integrity tests.

Autograding costs a kernel start per submission (plus TensorFlow's import in 02 and 03),
so tests/test_mutants.py and tests/test_colab_roundtrip.py share one throw-away course per
assignment, built on first use in this process:

1. ``mutant0 … mutantK``: the assignment's slim solution carrying the mutants of
   ``tests/mutants/<assignment>.py`` (:func:`casekit.course.mutants.grade_mutants`);
2. ``colab``: mutant1's autograded notebook (executed, with outputs) saved the way Colab
   saves it; ``colab-tampered``: the same with one test cell deleted and two locked test
   cells rewritten; both are autograded in the same course;
3. feedback HTML for every student.

Mark the tests using it ``xdist_group("grading-integrity")`` so that one worker builds it.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from casekit.course import course_root, find_assignments, read_grades
from casekit.course.colab import save_as_colab
from casekit.course.grading import GradeScore
from casekit.course.mutants import MutationReport, exercises, grade_mutants, load_mutants
from casekit.course.steps import autograde, generate_feedback

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
    colab: dict[str, dict[str, GradeScore]] = field(default_factory=dict)  # student -> grades
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
    graded.tampering = _submit_colab_copies(graded)
    for student in ("colab", "colab-tampered"):
        autograde(graded.course, assignment, student)
        graded.colab[student] = read_grades(graded.course, assignment, student)
    TIMINGS[f"{assignment}: autograde 2 Colab copies"] = time.perf_counter() - started
    started = time.perf_counter()
    generate_feedback(graded.course, assignment, "*")
    for folder in sorted((graded.course / "feedback").iterdir()):
        pages = sorted((folder / assignment).glob("*.html"))
        graded.feedback[folder.name] = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    TIMINGS[f"{assignment}: feedback for every student"] = time.perf_counter() - started
    return graded


def _submit_colab_copies(graded: GradedClass) -> Tampering:
    """Put ``colab`` and ``colab-tampered`` into ``submitted/`` (from mutant1's notebook)."""
    a, course, report = graded.assignment, graded.course, graded.mutation
    carried = list(report.students[COLAB_SOURCE])
    untouched = report.untouched[COLAB_SOURCE]
    assert len(carried) >= 2 and untouched, f"{COLAB_SOURCE} must carry 2+ mutants, keep 1+ intact"
    tampering = Tampering(deleted=carried[0], passed=carried[1], broken=untouched[0])
    edits = {tampering.passed: "pass  # these tests were in my way\n",
             tampering.broken: "assert False, 'tampered'\n"}
    autograded = course / "autograded" / COLAB_SOURCE / a
    for source in sorted(autograded.glob("*.ipynb")):
        plain = save_as_colab(source, course / "submitted" / "colab" / a / source.name,
                              gpu=True, link_cell=True, seed=1)
        nb = json.loads(plain.read_text(encoding="utf-8"))
        cells = []
        for cell in nb["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id == tampering.deleted:
                continue
            if grade_id in edits:
                cell["source"] = [edits[grade_id]]
            cells.append(cell)
        nb["cells"] = cells
        target = course / "submitted" / "colab-tampered" / a / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb, indent=2), encoding="utf-8")
    return tampering


def solution_exercises(assignment: str) -> dict:
    """Autograded exercises of the assignment's solution notebooks, by test grade id."""
    found = {}
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        found.update(exercises(path))
    return found
