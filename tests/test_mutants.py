"""The hidden tests catch plausible wrong answers: mutation testing with real nbgrader.

For every autograded exercise of every assignment, ``tests/mutants/<assignment>.py`` holds
at least two wrong implementations a student might write. They are planted in copies of
the solution notebook, a few students carry them (several exercises each), the class is
autograded with nbgrader, and every mutated exercise must lose points while every other
exercise keeps full marks. Run with ``-s`` to see the table (it is printed by the last test).
"""

from __future__ import annotations

import html
import re

import nbformat
import pytest
from _grading_class import (
    ASSIGNMENTS,
    MUTANT_FILES,
    ROOT,
    TIMINGS,
    graded_class,
    per_assignment,
)
from _grading_class import solution_exercises as found_exercises

from casekit_course import CourseError
from casekit_course.mutants import (
    SELF_CHECKED,
    affected,
    by_solution,
    dependencies,
    exercise_key,
    exercises,
    inject,
    load_mutants,
    mark_visible_tests,
    plan_students,
    replace_solution,
    slim,
)

REGION = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)### END SOLUTION", re.S)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
ASSERT_MESSAGE = re.compile(r""",\s*(f?["']).*$""")


# --- The machinery (fast, no nbgrader run) ------------------------------------------------


def test_replace_solution_indents_the_new_code_and_drops_the_markers():
    cell = ("def f(df):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return df.sum()\n"
            "    ### END SOLUTION\n\nX = 1\n")
    new = replace_solution(cell, "\n    total = df.sum()\n    return total / 2\n")
    body = "    total = df.sum()\n    return total / 2\n"
    assert new == "def f(df):\n    '''Doc.'''\n" + body + "\nX = 1\n"
    with pytest.raises(CourseError, match="no ### BEGIN SOLUTION"):
        replace_solution("x = 1", "x = 2")


def test_inject_changes_only_the_solution_of_the_named_exercise():
    path = ROOT / "solutions" / "01_eda" / "01_eda.ipynb"
    nb = nbformat.read(path, as_version=4)
    mutated = inject(nb, {"test_class_shares": "return df[column].value_counts()"})
    changed = [(a.metadata.get("nbgrader", {}).get("grade_id"), b.source)
               for a, b in zip(nb.cells, mutated.cells, strict=True) if a.source != b.source]
    assert changed == [("class_shares", changed[0][1])]
    assert changed[0][1].endswith("\n    return df[column].value_counts()")
    assert "BEGIN SOLUTION" not in changed[0][1]
    assert nbformat.read(path, as_version=4) == nb, "the original is not modified"
    with pytest.raises(CourseError, match="no test cells"):
        inject(nb, {"test_nothing": "pass"})


@pytest.mark.parametrize(("depends", "n_students"), [
    ({}, 4),  # k + 1 for at most k = 3 mutants per exercise
    ({"d": {"c"}}, 6),  # d calls c: 3 + 2 students apart, and one with both intact
])
def test_plan_carries_every_mutant_once_and_leaves_every_exercise_intact(depends, n_students):
    order = ["a", "b", "c", "d"]
    mutants = {"a": {"a1": "", "a2": "", "a3": ""}, "b": {"b1": "", "b2": ""},
               "c": {"c1": "", "c2": "", "c3": ""}, "d": {"d1": "", "d2": ""}}
    students = plan_students(mutants, order, depends)
    carried = sorted((t, m) for s in students.values() for t, m in s.items())
    assert carried == sorted((t, m) for t, named in mutants.items() for m in named)
    assert len(students) == n_students
    for s in students.values():
        assert not (depends and "c" in s and "d" in s), "never an exercise and one it uses"
    for t in order:
        assert any(s and t not in s and t not in affected(s, depends)
                   for s in students.values()), f"{t} is never left intact"
    assert affected({"c": "c1"}, {"d": {"c"}}) == {"d"}


def test_dependencies_follow_function_calls_between_exercises(tmp_path):
    def code(source, grade_id, **meta):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, **meta}
        return cell

    sol = {"solution": True, "grade": False}
    test = {"solution": False, "grade": True, "points": 1}
    nb = nbformat.v4.new_notebook(cells=[
        code("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION", "f", **sol),
        code("assert f(1) == 1", "test_f", **test),
        code("def g(x):\n    ### BEGIN SOLUTION\n    return f(x) + 1\n    ### END SOLUTION", "g",
             **sol),
        code("assert g(1) == 2", "test_g", **test),
        code("def h(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "h",
             **sol),
        code("assert h(1) == 2 and g(0) == 1", "test_h", **test),
    ])
    nbformat.write(nb, tmp_path / "nb.ipynb")
    found = exercises(tmp_path / "nb.ipynb")
    assert [(e.test_id, e.solution_id) for e in found.values()] == [
        ("test_f", "f"), ("test_g", "g"), ("test_h", "h")]
    assert dependencies(found) == {"test_f": set(), "test_g": {"test_f"},
                                   "test_h": {"test_g", "test_f"}}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_slim_notebook_keeps_every_graded_cell(assignment):
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        lean = slim(nb)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader")]
        assert [c for c in lean.cells if c.metadata.get("nbgrader")] == graded
        assert len(lean.cells) < len(nb.cells)


# --- The mutants of each assignment ---------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_two_real_mutants(assignment):
    path = MUTANT_FILES / f"{assignment}.py"
    assert path.is_file(), f"write {path}: two or more wrong answers per autograded exercise"
    mutants = load_mutants(path)
    found = found_exercises(assignment)
    keys = [exercise_key(k, found) for k in mutants]
    assert sorted(keys) == sorted(by_solution(found)), "one entry per autograded exercise"
    solutions = {}
    for nb_path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.cell_type == "code" and REGION.search(cell.source):
                solutions[grade_id] = " ".join(REGION.search(cell.source)[1].split())
    for test_id, named in mutants.items():
        assert len(named) >= 2, f"{test_id}: at least two mutants"
        original = solutions[exercise_key(test_id, found)]
        for name, mutant in named.items():
            assert " ".join(mutant.code.split()) != original, f"{test_id}/{name} is the solution"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_autograder_catches_every_mutant(assignment, tmp_path_factory):
    report = graded_class(assignment, tmp_path_factory).mutation
    survivors = [f"{r.exercise}: {r.name} (student {r.student})" for r in report.survivors]
    assert survivors == [], "wrong answers that keep full marks: strengthen the hidden tests"
    assert len(report.results) == sum(len(m) for m in
                                      load_mutants(MUTANT_FILES / f"{assignment}.py").values())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_mutants_cost_only_their_own_exercise(assignment, tmp_path_factory):
    report = graded_class(assignment, tmp_path_factory).mutation
    assert report.interference == []
    found = by_solution(found_exercises(assignment))
    intact = {t for tests in report.untouched.values() for t in tests}
    assert intact == set(found), "every exercise shown intact somewhere"
    for student, keys in report.untouched.items():
        grades = report.autograde.students[student].grades
        tests = [t for key in keys for t in found[key].tests]
        assert all(grades[t].auto_score == grades[t].max_score for t in tests), student


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_named_mistakes_fail_the_visible_tests(assignment, tmp_path_factory):
    """The self-check (visible lines) agrees with the grade on every named mistake and every
    ignored argument: the self-check verdict equals the hidden verdict."""
    report = graded_class(assignment, tmp_path_factory).mutation
    named = [r for r in report.results if r.kind in SELF_CHECKED]
    assert named, "every assignment names mistakes in its text: plant them"
    passed = [f"{r.exercise}: {r.name}" for r in named if r.visible_passed]
    assert passed == [], "visible tests must catch the mistakes the exercise's text names " \
        "and every argument the hidden tests pass"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_guarded_exercise_has_a_casekit_call_mutant(assignment):
    """Exercises whose tests switch casekit's version off (without_casekit) are exactly the
    exercises with a "casekit-call" mutant: each guard is shown to work."""
    guarded, solution = set(), None
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                solution = meta["grade_id"]
            elif cell.cell_type == "code" and meta and "without_casekit(" in cell.source:
                guarded.add(solution)
    found = found_exercises(assignment)
    calls = {exercise_key(key, found) for key, named in
             load_mutants(MUTANT_FILES / f"{assignment}.py").items()
             if any(m.kind == "casekit-call" for m in named.values())}
    assert calls == guarded


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_casekit_calls_are_refused(assignment, tmp_path_factory):
    """An exercise answered by calling casekit's own implementation loses its points, and
    the visible tests already say why (the self-check agrees)."""
    report = graded_class(assignment, tmp_path_factory).mutation
    for r in (r for r in report.results if r.kind == "casekit-call"):
        assert r.caught and "OwnImplementationRequired" in r.error, (r.exercise, r.name, r.error)
        assert not r.visible_passed, (r.exercise, r.name)


def test_mark_visible_tests_prints_before_the_hidden_lines():
    test = nbformat.v4.new_code_cell(
        "try:\n    assert f(1) == 1\n    ### BEGIN HIDDEN TESTS\n    assert f(2) == 2\n"
        "    ### END HIDDEN TESTS\nfinally:\n    pass")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_f"}
    marked = mark_visible_tests(nbformat.v4.new_notebook(cells=[test])).cells[0].source
    assert marked.splitlines()[2] == \
        "    print('casekit-mutants: visible tests passed in test_f')"
    assert "BEGIN HIDDEN" in marked.splitlines()[3]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_feedback_names_the_failed_checks_but_not_the_hidden_tests(assignment, tmp_path_factory):
    graded = graded_class(assignment, tmp_path_factory)
    hidden_lines = set()
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        visible = "\n".join(HIDDEN.sub("", cell.source) for cell in cells)  # students see it
        for cell in cells:
            for region in HIDDEN.findall(cell.source):
                for line in map(str.strip, region.splitlines()[1:-1]):
                    code = ASSERT_MESSAGE.sub("", line) if line.startswith("assert ") else line
                    hidden_lines |= {part for part in (line, code.strip())
                                     if len(part) > 12 and part not in visible}
    assert hidden_lines
    for student in graded.mutation.students:
        page = graded.feedback[student]
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        assert "HIDDEN TESTS" not in text
        assert sorted(line for line in hidden_lines if line in text) == [], student
        for result in (r for r in graded.mutation.results if r.student == student):
            assert f'href="#{result.test_id}">Test cell</a> (Score: 0.0 / ' in page
            assert result.error.split(":")[0] in text, "the failure is named"
            message = result.error.partition(": ")[2]
            assert message[:40] in text, "assert messages teach: they are shown"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_print_mutation_table(assignment, tmp_path_factory, capsys):
    """The assignment's table (run pytest with -s, or see it here when the test fails)."""
    report = graded_class(assignment, tmp_path_factory).mutation
    with capsys.disabled():
        print(f"\n\nMutation testing of {assignment}'s hidden tests (real nbgrader autograde)")
        print(report.table())
        seconds = {s: round(g.autograde_seconds, 1) for s, g in report.autograde.students.items()}
        print(f"  autograde seconds per student: {seconds}")
        for step, seconds in TIMINGS.items():
            if step.startswith(assignment):
                print(f"  {step:<62} {seconds:6.1f} s")
    assert not report.survivors
