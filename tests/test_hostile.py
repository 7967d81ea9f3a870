"""Broken and hostile student code costs only its own exercise (casekit_course.guard).

One throw-away 01_eda course, graded with the course's own nbgrader_config.py plus a 5 s
cell timeout and a 1.5 GiB memory cap (the real config: 120 s and 6 GiB). Three students:
``good`` (the solution) is graded first; ``crasher`` raises, calls ``sys.exit``, kills its
kernel with ``os._exit`` and SIGKILL, calls ``exit()`` and a kernel shutdown; ``hog`` loops
forever, loops while swallowing the interrupt, and allocates 4 GiB (more than the cap; with
``np.empty``, so that a missing cap costs no real memory: the exercise would then pass).
Every hostile exercise must score 0, every other one full marks, each crash or hang must
cost one kernel restart or one timeout, and ``good``'s grades must not change.
"""

from __future__ import annotations

import os
import signal
import warnings

import nbformat
import pytest
from nbgrader.preprocessors import ClearHiddenTests, DeduplicateIds, OverwriteCells

from casekit_course import course_root, load_config, read_grades
from casekit_course.guard import (
    GuardedExecute,
    RepairDuplicateCells,
    RestoreMissingCells,
    ScrubHiddenOutputs,
    guarded_autograde_preprocessors,
    guarded_sanitize_preprocessors,
)
from casekit_course.heavy import with_heavy_cells_skipped
from casekit_course.kernel import notebook_environment
from casekit_course.mutants import exercises, inject, slim
from casekit_course.steps import autograde, generate_assignment, make_course

pytestmark = pytest.mark.xdist_group("grading-hostile")
ROOT = course_root()
SOLUTION = ROOT / "solutions" / "01_eda" / "01_eda.ipynb"
TIMEOUT = 5  # seconds per cell, in this test's course
MEMORY_MB = 1536

#: student -> test grade id -> (what it does, error seen in the test cell, code)
#: code replaces the solution region; code starting with "CELL:" replaces the whole cell.
HOSTILE = {
    "crasher": {
        "test_class_shares": ("raises", "RuntimeError", 'raise RuntimeError("my code crashes")'),
        "test_median_age_by_label": ("sys.exit()", "SystemExit", 'import sys\nsys.exit("bye")'),
        "test_leak_crosstab": ("os._exit() in its own cell: the function never exists",
                               "NameError", "CELL:import os\nos._exit(1)"),
        "test_images_per_group": ("SIGKILL to its own kernel", "DeadKernelError",
                                  "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
        "test_skin_type_counts": ("exit() and a kernel shutdown, then no answer",
                                  "AttributeError",
                                  "get_ipython().kernel.do_shutdown(False)\nexit()\nquit()"),
    },
    "hog": {
        "test_share_in_repeated_groups": ("allocates 4 GiB", "MemoryError", """
            import numpy as np
            blocks = [np.empty(2**25) for _ in range(16)]  # 16 x 256 MiB = 4 GiB
            del blocks
            sizes = df.groupby("group_id")["group_id"].transform("size")
            return float((sizes >= 2).mean())
        """),
        "test_share_missing_questionnaire": ("loops forever", "CellTimeoutError",
                                             "while True:\n    pass"),
        "test_dataset_summary": ("loops forever, swallowing the interrupt", "CellTimeoutError", """
            import time
            while True:
                try:
                    time.sleep(0.1)
                except KeyboardInterrupt:
                    pass
        """),
    },
}


def _submission(student: str, folder):
    nb = slim(nbformat.read(SOLUTION, as_version=4))
    regions = {t: code for t, (_, _, code) in HOSTILE.get(student, {}).items()
               if not code.startswith("CELL:")}
    nb = inject(nb, regions)
    found = exercises(SOLUTION)
    for test_id, (_, _, code) in HOSTILE.get(student, {}).items():
        if code.startswith("CELL:"):
            for cell in nb.cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id") == found[test_id].solution_id:
                    cell.source = code.removeprefix("CELL:")
    target = folder / "submitted" / student / "01_eda" / SOLUTION.name
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """The course after grading good, then crasher and hog; good's grades read twice."""
    course = make_course(tmp_path_factory.mktemp("hostile"), ["01_eda"])
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Execute.timeout = {TIMEOUT}\n"
                     f"c.GuardedExecute.memory_limit_mb = {MEMORY_MB}\n")
    grades = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader
        generate_assignment(course, "01_eda")
        for student in ("good", "crasher", "hog"):
            _submission(student, course)
            autograde(course, "01_eda", student)
            grades[student] = read_grades(course, "01_eda", student)
        grades["good, re-read"] = read_grades(course, "01_eda", "good")
    return course, grades


def _test_cell_errors(course, student):
    path = course / "autograded" / student / "01_eda" / SOLUTION.name
    errors = {}
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        names = [o.ename for o in cell.get("outputs", []) if o.output_type == "error"]
        if grade_id and names:
            errors[grade_id] = names
    return errors


def test_the_course_config_guards_autograding():
    config = load_config()
    chain = config.Autograde.autograde_preprocessors
    assert chain == with_heavy_cells_skipped(guarded_autograde_preprocessors())
    assert GuardedExecute in chain
    sanitize = config.Autograde.sanitize_preprocessors
    assert sanitize == guarded_sanitize_preprocessors()
    assert sanitize.index(RepairDuplicateCells) < sanitize.index(DeduplicateIds)
    assert RestoreMissingCells in sanitize and OverwriteCells not in sanitize
    feedback = config.GenerateFeedback.preprocessors
    assert feedback.index(ScrubHiddenOutputs) < feedback.index(ClearHiddenTests)
    assert 1024 <= config.GuardedExecute.memory_limit_mb <= 16384
    assert config.Execute.timeout >= 60 and config.Execute.interrupt_on_timeout


@pytest.mark.slow
@pytest.mark.parametrize("student", ["crasher", "hog"])
def test_hostile_exercises_score_zero_and_the_rest_full_marks(hostile_class, student):
    course, grades = hostile_class
    hostile = HOSTILE[student]
    auto = {g: s for g, s in grades[student].items() if s.kind == "auto"}
    first = {g: e.test_id for g, e in exercises(SOLUTION).items()}  # an exercise's first cell
    assert {first[g] for g, s in auto.items() if s.auto_score == 0} == set(hostile)
    assert all(s.auto_score == s.max_score for g, s in auto.items() if first[g] not in hostile)
    errors = _test_cell_errors(course, student)
    for test_id, (what, error, _) in hostile.items():
        assert error in errors.get(test_id, []), f"{what}: {errors.get(test_id)}"


@pytest.mark.slow
def test_a_kernel_killed_in_a_solution_cell_is_reported_there(hostile_class):
    course = hostile_class[0]
    path = course / "autograded" / "crasher" / "01_eda" / SOLUTION.name
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c
             for c in nbformat.read(path, as_version=4).cells}
    outputs = [o for o in cells["leak_crosstab"].outputs if o.output_type == "error"]
    assert [o.ename for o in outputs] == ["DeadKernelError"]
    assert "restarted" in outputs[0].evalue


def _lost(course, student) -> dict[str, int]:
    """How often grade cells lost the kernel, hit the time limit or were left unrun."""
    names = [name for errors in _test_cell_errors(course, student).values() for name in errors]
    return {name: names.count(name) for name in ("DeadKernelError", "CellTimeoutError",
                                                 "CellNotRun")}


@pytest.mark.slow
def test_each_crash_or_hang_costs_one_restart_or_one_timeout(hostile_class):
    course = hostile_class[0]
    # crasher: os._exit and SIGKILL, one restart each; hog: two loops, each called by two
    # test cells, one timeout per cell; neither runs into the notebook's limit
    # (no grade cell left unrun)
    assert _lost(course, "crasher") == {"DeadKernelError": 2, "CellTimeoutError": 0,
                                        "CellNotRun": 0}
    assert _lost(course, "hog") == {"DeadKernelError": 0, "CellTimeoutError": 4,
                                    "CellNotRun": 0}


@pytest.mark.slow
def test_other_students_grades_are_untouched(hostile_class):
    course, grades = hostile_class
    assert grades["good, re-read"] == grades["good"]
    good = [s for s in grades["good"].values() if s.kind == "auto"]
    assert good and all(s.auto_score == s.max_score for s in good)
    assert sorted(p.name for p in (course / "autograded").iterdir()) == ["crasher", "good", "hog"]


# --- GuardedExecute on tiny notebooks --------------------------------------------------------


def _run(sources, executor=GuardedExecute, **traits):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    with notebook_environment():
        nb, _ = executor(timeout=TIMEOUT, **traits).preprocess(nb, {})
    return [[(o.output_type, o.get("ename"), o.get("text", "")) for o in c.outputs]
            for c in nb.cells]


def test_after_too_many_kernel_deaths_the_rest_is_not_run():
    outputs = _run(["x = 1", "import os; os._exit(1)", "import os; os._exit(2)", "print(x)"],
                   max_restarts=1)
    assert outputs == [[], [("error", "DeadKernelError", "")], [("error", "DeadKernelError", "")],
                       [("error", "CellNotRun", "")]]


def test_exit_quit_and_shutdown_do_not_stop_a_graded_kernel():
    outputs = _run(["x = 1", "exit()", "quit()", "get_ipython().kernel.do_shutdown(False)",
                    "import time; time.sleep(1); print(x)"])
    assert outputs[-1] == [("stream", None, "1\n")]
    assert not any(o for cell in outputs[1:3] for o in cell)


def test_a_kernel_dead_before_a_cell_starts_is_blamed_on_the_cell_before():
    class KillAfterSecondCell(GuardedExecute):
        def on_cell_executed(self, **kwargs):
            super().on_cell_executed(**kwargs)
            if kwargs["cell_index"] == 1 and not getattr(self, "_killed", False):
                self._killed = True
                os.kill(self.km.provisioner.pid, signal.SIGKILL)
                self.km.provisioner.process.wait()  # dead before the next cell is sent

    outputs = _run(["x = 1", "y = 2", "print(x + 1)"], executor=KillAfterSecondCell)
    assert outputs[1] == [("error", "DeadKernelError", "")], "the cell before is blamed"
    assert outputs[2] == [("stream", None, "2\n")], "x = 1 replayed, then this cell ran"
