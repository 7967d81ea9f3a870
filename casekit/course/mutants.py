"""Plant plausible wrong answers in the solutions and check that the autograder catches them.

A hidden test is only as good as the mistakes it catches. A *mutant* is a wrong
implementation a real student might write (dividing by 255 before EfficientNet, an
ungrouped split, AUROC on hard 0/1 predictions, ...), given as the source that replaces
the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of an exercise's solution
cell. Mutants live outside the notebooks, one Python file per assignment
(``tests/mutants/<assignment>.py``) defining::

    MUTANTS = {"test_class_shares": {"counts, not shares": "return df[column].value_counts()"}}

:func:`grade_mutants` builds a small class of students carrying the mutants, autogrades it
with real nbgrader in a throw-away course and reports, per mutant, whether its exercise
lost points, and whether any *other* exercise lost points (interference). Exercises are
independent (their tests build their own data), so one student carries a mutant in several
exercises at once: with ``k`` mutants at most per exercise, ``k + 1`` students suffice and
every exercise is also left correct in at least one student (see :func:`plan_students`).

Example:
    >>> from casekit.course.mutants import grade_mutants, load_mutants
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

from casekit.course.config import CourseError, assignment_notebooks, course_root
from casekit.course.grading import AutogradeReport, autograde_in_temp_course

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION[^\n]*$",
                     re.S | re.M)

_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)

#: grade id of a test cell -> mutant name -> source of the wrong solution region
Mutants = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Exercise:
    """An autograded exercise: a test cell and the solution cell it tests."""

    notebook: str  # notebook file name, e.g. "01_eda.ipynb"
    test_id: str  # grade id of the test cell
    solution_id: str  # grade id of the solution cell just above it
    points: float
    defines: frozenset[str] = frozenset()  # names the solution cell defines at top level
    uses: frozenset[str] = frozenset()  # names the solution and test cells read


@dataclass
class MutantResult:
    """How one mutant fared: caught when its exercise lost points."""

    test_id: str
    name: str
    student: str
    score: float
    max_score: float
    error: str = ""  # the test cell's error, e.g. "AssertionError: largest share first"
    caught_by: str = ""  # "visible" or "hidden" test lines; "" when unknown (an exception)

    @property
    def caught(self) -> bool:
        return self.score < self.max_score


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

    def table(self) -> str:
        """Plain-text table: exercise, mutant, caught or not; then caught/total."""
        rows = []
        for r in self.results:
            how = r.caught_by or ("bare assert" if r.error.strip(": ") == "AssertionError"
                                  else "exception")
            verdict = f"caught by {how}" if r.caught else "SURVIVED"
            rows.append(f"{self.assignment} · {r.test_id:<34} {r.name[:44]:<44} {verdict:<17} "
                        f"{r.score:g}/{r.max_score:g}  {r.error[:70]}")
        caught = len(self.results) - len(self.survivors)
        rows.append(f"{self.assignment}: {caught}/{len(self.results)} mutants caught, "
                    f"{len(self.students)} students, interference: "
                    f"{'; '.join(self.interference) or 'none'}")
        return "\n".join(rows)


def load_mutants(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Read ``MUTANTS`` from a mutant file; check it is ``{grade id: {name: source}}``."""
    path = Path(path)
    mutants = runpy.run_path(str(path)).get("MUTANTS")
    if not isinstance(mutants, dict) or not all(
        isinstance(named, dict) and all(isinstance(s, str) for s in named.values())
        for named in mutants.values()
    ):
        raise CourseError(f"{path} must define MUTANTS = {{test grade id: {{name: source}}}}")
    return {test: dict(named) for test, named in mutants.items()}


def exercises(notebook: str | os.PathLike[str]) -> dict[str, Exercise]:
    """Autograded exercises of a notebook: test grade id -> :class:`Exercise`.

    A test cell belongs to the nearest solution code cell above it.
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


def inject(
    nb: nbformat.NotebookNode, replacements: Mapping[str, str]
) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose exercises (test grade id -> wrong code) carry the given code."""
    nb = copy.deepcopy(nb)
    found = _exercises(nb, "")
    unknown = sorted(set(replacements) - set(found))
    if unknown:
        raise CourseError(f"no test cells {unknown} in this notebook")
    by_solution = {found[t].solution_id: code for t, code in replacements.items()}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in by_solution:
            cell.source = replace_solution(cell.source, by_solution.pop(grade_id))
    return nb


def dependencies(found: Mapping[str, Exercise]) -> dict[str, set[str]]:
    """Exercise -> the exercises whose functions it uses, directly or not.

    In 04_evaluation ``honest_operating_point`` calls ``highest_threshold``: a mutant in the
    latter costs both exercises, which is expected, not interference.
    """
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
    ``workdir / "course"`` when ``workdir`` is given.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="casekit-mutants-") as tmp:
            return grade_mutants(assignment, mutants, tmp, root, extra, fast)
    root = course_root(root)
    workdir = Path(workdir)
    notebooks = {p.name: nbformat.read(p, as_version=4)
                 for p in assignment_notebooks(assignment, root)}
    found = {t: e for p in assignment_notebooks(assignment, root) for t, e in exercises(p).items()}
    depends = dependencies(found)
    students = plan_students(mutants, list(found), depends)
    submissions: dict[str, str | os.PathLike[str]] = {}
    for student, carried in students.items():
        folder = workdir / "submissions" / student
        folder.mkdir(parents=True)
        for name, nb in notebooks.items():
            here = {t: mutants[t][m] for t, m in carried.items() if found[t].notebook == name}
            nbformat.write(inject(slim(nb) if fast else nb, here), folder / name)
        submissions[student] = folder
    submissions.update(extra or {})
    graded = autograde_in_temp_course(assignment, submissions, workdir / "course", root=root)
    report = MutationReport(assignment, [], students=students, autograde=graded)
    for student, carried in students.items():
        grades = graded.students[student].grades
        users = affected(carried, depends)
        for test_id, exercise in found.items():
            score = grades[test_id].auto_score or 0.0
            if test_id in carried:
                error, where = _test_error(graded.course, assignment, student, exercise)
                report.results.append(MutantResult(test_id, carried[test_id], student, score,
                                                   exercise.points, error, where))
            elif test_id not in users and score < exercise.points:
                report.interference.append(f"{student}: {test_id} lost points")
        report.untouched[student] = [t for t in found if t not in carried and t not in users]
    order = {t: i for i, t in enumerate(found)}
    report.results.sort(key=lambda r: (order[r.test_id], list(mutants[r.test_id]).index(r.name)))
    return report


def _exercises(nb: nbformat.NotebookNode, name: str) -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    solution = None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            solution = cell
        elif meta.get("grade"):
            if solution is None:
                raise CourseError(f"{name}: test `{meta['grade_id']}` has no solution cell above")
            defines, used = _names(solution.source)
            used |= _names(cell.source)[1]
            found[meta["grade_id"]] = Exercise(
                name, meta["grade_id"], solution.metadata["nbgrader"]["grade_id"],
                float(meta.get("points", 0)), frozenset(defines), frozenset(used))
    return found


def _test_error(course: Path, assignment: str, student: str, exercise: Exercise) -> tuple[str, str]:
    """The error a test cell showed when autograded, and whether a visible or hidden line
    raised it (known when the error message is an assert message of that cell)."""
    path = course / "autograded" / student / assignment / exercise.notebook
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") != exercise.test_id:
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if not errors:
            return "", ""
        message = str(errors[-1].get("evalue", "")).strip()
        text = f"{errors[-1].ename}: {message}".splitlines()[0]
        hidden = "".join(_HIDDEN.findall(cell.source))
        visible = _HIDDEN.sub("", cell.source)
        # an f-string message shows only its start in the source
        for probe in (message, message[:16]) if len(message) >= 8 else ():
            if probe in visible:
                return text, "visible"
            if probe in hidden:
                return text, "hidden"
        return text, ""
    return "", ""


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
