"""Plant plausible wrong answers in the solutions and check that the autograder catches them.

A hidden test is only as good as the mistakes it catches. A *mutant* is a wrong
implementation a real student might write (dividing by 255 before EfficientNet, an
ungrouped split, AUROC on hard 0/1 predictions, ...), given as the source that replaces
the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of an exercise's solution
cell. Mutants live outside the notebooks, one Python file per assignment
(``tests/mutants/<assignment>.py``) defining::

    MUTANTS = {
        "class_shares": {                                # grade id of the solution cell
            "ignores the `column` argument": 'return df["label"].value_counts(normalize=True)',
            "counts, not shares": {"kind": "named-mistake",
                                   "code": "return df[column].value_counts()"},
        },
    }

A key is the grade id of the exercise's solution cell (or of one of its test cells). A
mutant is its code, or ``{"kind": ..., "code": ...}`` with a kind from :data:`KINDS`:
``"casekit-call"`` (casekit's own version of the exercise called instead of writing it:
the hidden tests must refuse it), ``"named-mistake"`` (the mistake the exercise's own text
warns about: the *visible* tests must catch it, so the self-check agrees with the grade),
``"argument-ignored"`` (an argument of the function, e.g. ``column=`` or ``seed=``, is
ignored or replaced by its default: every argument the hidden tests pass is also passed by
a visible test, so the self-check catches it too) or ``"other"`` (the default). An
exercise may have several test cells (partial credit): a mutant is caught when its exercise
loses points in any of them.

:func:`grade_mutants` builds a small class of students carrying the mutants, autogrades it
with real nbgrader in a throw-away course and reports, per mutant, whether its exercise
lost points, whether the visible test lines already failed (what the self-check shows the
student), and whether any *other* exercise lost points (interference). Exercises are
independent (their tests build their own data), so one student carries a mutant in several
exercises at once: with ``k`` mutants at most per exercise, ``k + 1`` students suffice and
every exercise is also left correct in at least one student (see :func:`plan_students`).

Example:
    >>> from casekit_course.mutants import grade_mutants, load_mutants
    >>> report = grade_mutants("01_eda", load_mutants("tests/mutants/01_eda.py"))  # doctest: +SKIP
    >>> print(report.table())                                                      # doctest: +SKIP
"""

from __future__ import annotations

import ast
import copy
import os
import re
import runpy
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from casekit.graded import HIDDEN_TESTS
from casekit_course.config import CourseError, assignment_notebooks, course_root
from casekit_course.grading import AutogradeReport, autograde_in_temp_course

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION[^\n]*$",
                     re.S | re.M)
#: Printed by a test cell of the mutation course when its visible lines passed.
_VISIBLE_PASSED = "casekit-mutants: visible tests passed in "

#: The kinds of mutants (see the module docstring).
KINDS = ("casekit-call", "named-mistake", "argument-ignored", "other")
#: Kinds whose self-check verdict (visible tests) must equal the grade's (hidden tests).
SELF_CHECKED = ("named-mistake", "argument-ignored")


@dataclass(frozen=True)
class Mutant:
    """A wrong answer: the code of the solution region, and its kind (see :data:`KINDS`)."""

    code: str
    kind: str = "other"


#: exercise (solution or test grade id) -> mutant name -> Mutant (or its code)
Mutants = Mapping[str, Mapping[str, "Mutant | str"]]


@dataclass(frozen=True)
class Exercise:
    """An autograded exercise: a solution cell and the test cells after it."""

    notebook: str  # notebook file name, e.g. "01_eda.ipynb"
    solution_id: str  # grade id of the solution cell
    tests: tuple[str, ...]  # grade ids of its test cells, in notebook order
    points: float  # all its test cells together
    defines: frozenset[str] = frozenset()  # names the solution cell defines at top level
    uses: frozenset[str] = frozenset()  # names the solution and test cells read

    @property
    def test_id(self) -> str:
        """The first test cell's grade id."""
        return self.tests[0]


@dataclass
class MutantResult:
    """How one mutant fared: caught when its exercise lost points."""

    exercise: str  # grade id of the solution cell
    name: str
    student: str
    score: float
    max_score: float
    error: str = ""  # the first failed test cell's error, e.g. "AssertionError: largest first"
    caught_by: str = ""  # "visible" or "hidden" test lines (of the first failed test cell)
    kind: str = "other"
    visible_passed: bool = True  # what the self-check says: every visible test line passed
    failed_tests: tuple[str, ...] = ()  # test cells that lost points

    @property
    def caught(self) -> bool:
        return self.score < self.max_score

    @property
    def test_id(self) -> str:
        """The first test cell that lost points ('' when none did)."""
        return self.failed_tests[0] if self.failed_tests else ""

    @property
    def disagrees(self) -> bool:
        """The self-check says PASS (visible lines pass) but the grade lost points."""
        return self.caught and self.visible_passed


@dataclass
class MutationReport:
    """Result of :func:`grade_mutants` for one assignment."""

    assignment: str
    results: list[MutantResult]
    interference: list[str] = field(default_factory=list)  # "student: test_id lost points"
    students: dict[str, dict[str, str]] = field(default_factory=dict)  # student -> test -> name
    untouched: dict[str, list[str]] = field(default_factory=dict)  # student -> tests to keep full
    autograde: AutogradeReport | None = None

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if not r.caught]

    @property
    def disagreements(self) -> list[MutantResult]:
        """Mutants the self-check passes (visible lines) while the grade fails them."""
        return [r for r in self.results if r.disagrees]

    def counts(self) -> dict[str, tuple[int, int]]:
        """Kind -> (mutants caught, mutants) (see :data:`KINDS`)."""
        return {kind: (sum(r.caught for r in self.results if r.kind == kind),
                       sum(r.kind == kind for r in self.results)) for kind in KINDS}

    def table(self) -> str:
        """Plain-text table: exercise, mutant, kind, caught or not; then the totals."""
        rows = []
        for r in self.results:
            how = r.caught_by or "exception"
            verdict = f"caught by {how}" if r.caught else "SURVIVED"
            check = "self-check PASS" if r.visible_passed else "self-check FAIL"
            rows.append(f"{self.assignment} · {r.exercise:<28} {r.name[:42]:<42} {r.kind:<13} "
                        f"{verdict:<17} {r.score:g}/{r.max_score:g} {check}  {r.error[:60]}")
        caught = len(self.results) - len(self.survivors)
        kinds = ", ".join(f"{kind} {c}/{n}" for kind, (c, n) in self.counts().items())
        rows.append(f"{self.assignment}: {caught}/{len(self.results)} mutants caught ({kinds}), "
                    f"self-check PASS but grade FAIL: {len(self.disagreements)}, "
                    f"{len(self.students)} students, interference: "
                    f"{'; '.join(self.interference) or 'none'}")
        return "\n".join(rows)


def load_mutants(path: str | os.PathLike[str]) -> dict[str, dict[str, Mutant]]:
    """Read ``MUTANTS`` from a mutant file: ``{exercise: {name: code or {kind, code}}}``.

    Raises:
        CourseError: the file does not define ``MUTANTS`` of that shape, or a kind is unknown.
    """
    path = Path(path)
    mutants = runpy.run_path(str(path)).get("MUTANTS")
    shape = f"{path} must define MUTANTS = {{exercise grade id: {{name: code or " \
            "{'kind': ..., 'code': ...}}}}"
    if not isinstance(mutants, dict) or not all(isinstance(n, dict) for n in mutants.values()):
        raise CourseError(shape)
    loaded: dict[str, dict[str, Mutant]] = {}
    for key, named in mutants.items():
        loaded[key] = {}
        for name, spec in named.items():
            if isinstance(spec, str):
                spec = {"code": spec}
            if not isinstance(spec, dict) or not isinstance(spec.get("code"), str):
                raise CourseError(f"{shape}; not so for {key!r} / {name!r}")
            kind = spec.get("kind", "other")
            if kind not in KINDS:
                raise CourseError(f"{path}: {key!r} / {name!r} has kind {kind!r}, not one of "
                                  f"{KINDS}")
            loaded[key][name] = Mutant(spec["code"], kind)
    return loaded


def exercises(notebook: str | os.PathLike[str]) -> dict[str, Exercise]:
    """Autograded exercises of a notebook: test grade id -> :class:`Exercise`.

    A test cell belongs to the nearest solution code cell above it; the test cells of one
    solution share one :class:`Exercise` (see :func:`by_solution`).
    """
    path = Path(notebook)
    return _exercises(nbformat.read(path, as_version=4), path.name)


def replace_solution(source: str, new_code: str) -> str:
    """Put ``new_code`` in place of the first solution region of a cell (markers removed).

    ``new_code`` is written without indentation; it gets the indentation of the markers.

    Example:
        >>> cell = "def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION\\n"
        >>> print(replace_solution(cell, "return -x"))
        def f(x):
            return -x
        <BLANKLINE>
    """
    match = _REGION.search(source)
    if match is None:
        raise CourseError(f"no {BEGIN} ... {END} region in:\n{source}")
    indent = match.group(1)
    body = textwrap.indent(textwrap.dedent(new_code).strip("\n"), indent,
                           lambda line: bool(line.strip()))
    return source[: match.start()] + body + source[match.end():]


def by_solution(found: Mapping[str, Exercise]) -> dict[str, Exercise]:
    """The exercises of :func:`exercises` keyed by their solution cell's grade id."""
    return {e.solution_id: e for e in found.values()}


def exercise_key(key: str, found: Mapping[str, Exercise]) -> str:
    """The solution grade id of the exercise named by ``key`` (a solution or test grade id).

    Raises:
        CourseError: no such exercise.
    """
    if key in found:
        return found[key].solution_id
    if key in by_solution(found):
        return key
    raise CourseError(f"no autograded exercise {key!r}; there are {sorted(by_solution(found))}")


def inject(
    nb: nbformat.NotebookNode, replacements: Mapping[str, str]
) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose exercises (solution or test grade id -> wrong code) carry it."""
    nb = copy.deepcopy(nb)
    found = _exercises(nb, "")
    unknown = sorted(k for k in replacements
                     if k not in found and k not in by_solution(found))
    if unknown:
        raise CourseError(f"no test cells {unknown} in this notebook")
    by_solution_id = {exercise_key(t, found): code for t, code in replacements.items()}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in by_solution_id:
            cell.source = replace_solution(cell.source, by_solution_id.pop(grade_id))
    return nb


def dependencies(found: Mapping[str, Exercise]) -> dict[str, set[str]]:
    """Exercise -> the exercises whose functions it uses, directly or not.

    Keys as in ``found`` (test or solution grade ids, see :func:`by_solution`). When an
    exercise calls another one's function, a mutant in the latter costs both exercises,
    which is expected, not interference.
    """
    found = {t: e for t, e in found.items() if t == e.solution_id or t == e.test_id}
    direct = {t: {o for o, other in found.items() if o != t and e.uses & other.defines}
              for t, e in found.items()}
    closed = {t: set(d) for t, d in direct.items()}
    changed = True
    while changed:
        changed = False
        for deps in closed.values():
            more = set().union(*(closed[d] for d in deps)) - deps if deps else set()
            if more:
                deps |= more
                changed = True
    return closed


def slim(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without the ungraded work after the set-up: faster to autograde.

    Kept: every cell up to the first nbgrader cell (parameters, set-up, data), every
    nbgrader cell and Markdown cell, and later ungraded code cells that only define things
    (imports, functions, classes, assignments without calls). Dropped: plots, training,
    reports... which the tests do not use. nbgrader does not restore ungraded cells, so the
    autograder runs the slim notebook as it is; an exercise that needed a dropped cell would
    lose points in every student, which :func:`grade_mutants` reports as interference.
    """
    nb = copy.deepcopy(nb)
    kept, preamble = [], True
    for cell in nb.cells:
        graded = bool(cell.metadata.get("nbgrader"))
        preamble = preamble and not graded
        if preamble or graded or cell.cell_type != "code" or _only_definitions(cell.source):
            kept.append(cell)
    nb.cells = kept
    return nb


def plan_students(
    mutants: Mutants, order: list[str], depends: Mapping[str, set[str]] | None = None
) -> dict[str, dict[str, str]]:
    """Assign mutants to as few students as possible: student -> test grade id -> mutant name.

    Rules: every mutant is carried exactly once; a student carries at most one mutant per
    exercise and never mutants in two exercises of which one uses the other (``depends``,
    see :func:`dependencies`), so a lost point can be blamed on one mutant; and every
    exercise is left intact (not mutated, nothing it uses mutated) in some student who
    carries other mutants, which shows that mutants do not leak into other scores. With
    ``k`` mutants at most per exercise that takes ``k + 1`` students, more when
    dependencies force it. A small backtracking search finds the plan.
    """
    depends = {t: set(depends.get(t, ())) if depends else set() for t in order}
    unknown = sorted(set(mutants) - set(order))
    if unknown:
        raise CourseError(f"mutants for unknown autograded exercises: {unknown}")
    conflicts = {t: depends[t] | {u for u in order if t in depends[u]} for t in order}
    # the most constrained exercises first: fewer dead ends
    ranked = sorted(order, key=lambda t: (-len(conflicts[t]), -len(mutants.get(t, {}))))
    items = [(t, name) for t in ranked for name in mutants.get(t, {})]
    k = max((len(named) for named in mutants.values()), default=0)
    for n in range(k + 1, k + 2 + len(order)):
        plan = _search(items, [{} for _ in range(n)], conflicts, depends, order)
        if plan is not None:
            return {f"mutant{i}": dict(sorted(c.items(), key=lambda kv: order.index(kv[0])))
                    for i, c in enumerate(plan)}
    raise CourseError("no plan found for these mutants")  # cannot happen: n grows enough


def _search(items, students, conflicts, depends, order, budget=None):
    """Depth-first placement of ``items`` into ``students``; None when impossible."""
    budget = budget if budget is not None else [20_000]
    if not items:
        intact = all(any(s and t not in s and not depends[t] & set(s) for s in students)
                     for t in order)
        return [dict(s) for s in students] if intact else None
    budget[0] -= 1
    if budget[0] < 0:
        return None
    (test_id, name), rest = items[0], items[1:]

    def preference(student):  # exercises in conflict with the same ones share students;
        siblings = sum(bool(conflicts[test_id] & conflicts[t]) for t in student)
        return -siblings, len(student)  # otherwise spread: least loaded first

    tried_empty = False
    for student in sorted(students, key=preference):
        if test_id in student or conflicts[test_id] & set(student):
            continue
        if not student:
            if tried_empty:  # empty students are interchangeable
                continue
            tried_empty = True
        student[test_id] = name
        plan = _search(rest, students, conflicts, depends, order, budget)
        del student[test_id]
        if plan is not None:
            return plan
    return None


def affected(carried: Mapping[str, str], depends: Mapping[str, set[str]]) -> set[str]:
    """Exercises a student's mutants may legitimately cost besides their own: the users."""
    return {t for t, deps in depends.items() if deps & set(carried)} - set(carried)


def grade_mutants(
    assignment: str,
    mutants: Mutants,
    workdir: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    extra: Mapping[str, str | os.PathLike[str]] | None = None,
    fast: bool = True,
) -> MutationReport:
    """Autograde the solution notebooks carrying ``mutants``; report what was caught.

    ``fast`` submits :func:`slim` notebooks (same exercises, no plots or training).
    ``extra`` adds other submissions (student id -> notebook or folder) to the same
    autograde run; their scores are in ``report.autograde``. The course stays in
    ``workdir / "course"`` when ``workdir`` is given. Its test cells print a line after
    their visible lines, which tells what the self-check would show the student.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="casekit-mutants-") as tmp:
            return grade_mutants(assignment, mutants, tmp, root, extra, fast)
    root = course_root(root)
    workdir = Path(workdir)
    paths = assignment_notebooks(assignment, root)
    notebooks = {p.name: nbformat.read(p, as_version=4) for p in paths}
    tests = {t: e for p in paths for t, e in exercises(p).items()}
    found = by_solution(tests)
    planted = {}
    for key, named in mutants.items():
        planted.setdefault(exercise_key(key, tests), {}).update(
            {n: m if isinstance(m, Mutant) else Mutant(m) for n, m in named.items()})
    depends = dependencies(found)
    students = plan_students(planted, list(found), depends)
    submissions: dict[str, str | os.PathLike[str]] = {}
    for student, carried in students.items():
        folder = workdir / "submissions" / student
        folder.mkdir(parents=True)
        for name, nb in notebooks.items():
            here = {t: planted[t][m].code for t, m in carried.items()
                    if found[t].notebook == name}
            nbformat.write(inject(slim(nb) if fast else nb, here), folder / name)
        submissions[student] = folder
    submissions.update(extra or {})
    graded = autograde_in_temp_course(assignment, submissions, workdir / "course", root=root,
                                      source_edit=mark_visible_tests)
    report = MutationReport(assignment, [], students=students, autograde=graded)
    for student, carried in students.items():
        grades = graded.students[student].grades
        users = affected(carried, depends)
        for key, exercise in found.items():
            score = sum(grades[t].auto_score or 0.0 for t in exercise.tests)
            if key in carried:
                mutant = planted[key][carried[key]]
                outcome = _test_outcome(graded.course, assignment, student, exercise)
                failed = tuple(t for t in exercise.tests
                               if (grades[t].auto_score or 0.0) < grades[t].max_score)
                error, where = next((outcome[t][:2] for t in failed), ("", ""))
                report.results.append(MutantResult(
                    key, carried[key], student, score, exercise.points, error, where,
                    mutant.kind, all(outcome[t][2] for t in exercise.tests), failed))
            elif key not in users and score < exercise.points:
                report.interference.append(f"{student}: {key} lost points")
        report.untouched[student] = [t for t in found if t not in carried and t not in users]
    order = {t: i for i, t in enumerate(found)}
    report.results.sort(key=lambda r: (order[r.exercise], list(planted[r.exercise]).index(r.name)))
    return report


def mark_visible_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose test cells print a marker line once their visible lines passed.

    The line goes just before ``### BEGIN HIDDEN TESTS`` (with its indentation), or at the
    end of a test cell without hidden tests. Printing to stdout does not change a grade.
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        line = f"print({_VISIBLE_PASSED + meta['grade_id']!r})"
        match = HIDDEN_TESTS.search(cell.source)
        if match:
            indent = re.match(r"[ \t]*", cell.source[match.start():]).group()
            cell.source = (cell.source[:match.start()] + indent + line + "\n"
                           + cell.source[match.start():])
        else:
            cell.source = cell.source.rstrip("\n") + "\n" + line + "\n"
    return nb


def _exercises(nb: nbformat.NotebookNode, name: str) -> dict[str, Exercise]:
    groups: list[tuple[nbformat.NotebookNode, list[nbformat.NotebookNode]]] = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            groups.append((cell, []))
        elif meta.get("grade"):
            if not groups:
                raise CourseError(f"{name}: test `{meta['grade_id']}` has no solution cell above")
            groups[-1][1].append(cell)
    found: dict[str, Exercise] = {}
    for solution, tests in groups:
        if not tests:
            continue
        defines, used = _names(solution.source)
        for test in tests:
            used |= _names(test.source)[1]
        exercise = Exercise(
            name, solution.metadata["nbgrader"]["grade_id"],
            tuple(t.metadata["nbgrader"]["grade_id"] for t in tests),
            sum(float(t.metadata["nbgrader"].get("points", 0)) for t in tests),
            frozenset(defines), frozenset(used))
        found.update({t: exercise for t in exercise.tests})
    return found


def _test_outcome(
    course: Path, assignment: str, student: str, exercise: Exercise
) -> dict[str, tuple[str, str, bool]]:
    """Test grade id -> (its error, "visible"/"hidden" lines raised it, visible lines passed).

    Read from the autograded notebook; the course's test cells print a marker after their
    visible lines (:func:`mark_visible_tests`). Output on stderr fails a test cell in
    nbgrader and in the self-check alike.
    """
    path = course / "autograded" / student / assignment / exercise.notebook
    outcome = {t: ("", "", False) for t in exercise.tests}
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in outcome:
            continue
        outputs = cell.get("outputs", [])
        stdout = "".join(o.get("text", "") for o in outputs
                         if o.output_type == "stream" and o.name == "stdout")
        stderr = any(o.output_type == "stream" and o.name == "stderr" for o in outputs)
        visible_passed = _VISIBLE_PASSED + grade_id in stdout and not stderr
        errors = [o for o in outputs if o.output_type == "error"]
        text = ""
        if errors:
            message = str(errors[-1].get("evalue", "")).strip()
            text = f"{errors[-1].ename}: {message}".splitlines()[0]
        elif stderr:
            text = "output on stderr"
        where = "" if not text else "hidden" if _VISIBLE_PASSED + grade_id in stdout else "visible"
        outcome[grade_id] = (text, where, visible_passed)
    return outcome


def _only_definitions(source: str) -> bool:
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            if node.value is None or any(isinstance(n, ast.Call) for n in ast.walk(node.value)):
                return False
        elif not isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                   ast.AsyncFunctionDef, ast.ClassDef)):
            return False
    return True


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names defined at the top level, names read anywhere) of a cell's Python source."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set(), set()
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return defined, read
