"""Grading on Dask (casekit_course.fanout): the same grades however the class is fanned out.

A test-made assignment (one answer cell, one test cell with a hidden test) and three students,
graded with the real worker, the real sandbox (bubblewrap) and real Dask: a ``LocalCluster``
of 1 and of 2 workers, and a ``dask scheduler`` with two ``dask worker`` processes started
here on 127.0.0.1 (random free ports, stopped at the end). A worker killed while it grades is
replaced and its submission graded once more; a second loss of the same task is reported in
one line and the others are still recorded.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import nbformat
import pytest
from distributed import Client

from casekit_course import course_root
from casekit_course.bench.grading import grades as _grades
from casekit_course.bench.grading import loopback_cluster
from casekit_course.fanout import autograde, summary_table
from casekit_course.record import recorded
from casekit_course.sandbox import find_sandbox

pytestmark = pytest.mark.xdist_group("grading-fanout")
ASSIGNMENT = "squares"
#: student -> body of square(x), and the points the hidden test gives it (of 2)
STUDENTS = {"ann": ("return x * x", 2.0), "ben": ("return x + x", 0.0),
            "cy": ("return x ** 2", 2.0)}
#: graded in the worker-loss tests: busy long enough to be killed mid-task
SLOW = {"slow": ("import time\n    time.sleep(4)\n    return x * x", 2.0)}


def _cell(source: str, grade_id: str, *, points: int = 0, solution: bool = False):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": bool(points), "points": points,
                                 "solution": solution, "locked": not solution,
                                 "schema_version": 3}
    return cell


def _notebook(body: str, test: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [_cell(f"def square(x):\n    {body}", "square", solution=True),
                _cell(test, "test_square", points=2)]
    return nb


def make_course(folder: Path, students: dict[str, tuple[str, float]]) -> Path:
    """A course with the squares assignment and ``students``' submissions."""
    folder.mkdir(parents=True)
    shutil.copy2(course_root() / "nbgrader_config.py", folder / "nbgrader_config.py")
    solution = _notebook("### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                         "assert square(2) == 4\n### BEGIN HIDDEN TESTS\n"
                         "assert square(3) == 9, 'square(3)'\n### END HIDDEN TESTS")
    (folder / "solutions" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(solution, folder / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for student, (body, _) in students.items():
        target = folder / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(_notebook(body, "assert square(2) == 4"),
                       target / f"{ASSIGNMENT}.ipynb")
    return folder


def _expected(students) -> dict[str, dict]:
    return {s: {ASSIGNMENT: {"test_square": (points, 2.0)}} for s, (_, points) in students.items()}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The class graded by one local worker: the reference."""
    course = make_course(tmp_path_factory.mktemp("serial") / "course", STUDENTS)
    lines: list[str] = []
    return course, autograde(ASSIGNMENT, workers=1, root=course, say=lines.append), lines


@pytest.fixture(scope="module")
def loopback(tmp_path_factory):
    """``tcp://127.0.0.1:PORT``: a dask scheduler and two one-thread dask workers."""
    with loopback_cluster(2, logs=tmp_path_factory.mktemp("dask")) as address:
        yield address


def test_one_local_worker_grades_every_student_and_says_so(serial):
    course, results, lines = serial
    assert _grades(results) == _expected(STUDENTS)
    assert {r.sandbox for r in results} == {find_sandbox().kind} == {"bwrap"}
    assert recorded(ASSIGNMENT, root=course) == set(STUDENTS)
    progress = [line for line in lines if line.startswith("[")]
    assert len(progress) == 3 and progress[-1].startswith("[3/3]")
    assert all("0 failed" in line and "running" in line and "ETA" in line for line in progress)
    assert lines[-1] == summary_table(results)
    assert lines[-1].splitlines()[0].split() == ["student", "notebook", "score", "repair", "or",
                                                 "reason", "seconds"]
    assert "\nben      squares   0/2    graded" in lines[-1]


def _ungraded_copy(course: Path, target: Path) -> Path:
    """``course`` without its graded results (its gradebook already knows the assignment)."""
    return shutil.copytree(course, target, ignore=shutil.ignore_patterns("autograded",
                                                                         "feedback"))


def test_two_local_workers_give_the_same_grades(serial, tmp_path):
    course = _ungraded_copy(serial[0], tmp_path / "course")
    assert _grades(autograde(ASSIGNMENT, workers=2, root=course, say=print)) == _grades(serial[1])


def test_a_loopback_scheduler_with_two_workers_gives_the_same_grades(serial, loopback, tmp_path):
    course = _ungraded_copy(serial[0], tmp_path / "course")
    results = autograde(ASSIGNMENT, scheduler=loopback, root=course, say=print)
    assert _grades(results) == _grades(serial[1])
    assert recorded(ASSIGNMENT, root=course) == set(STUDENTS)


def test_a_rerun_grades_only_what_is_missing(serial, loopback, tmp_path):
    course = shutil.copytree(serial[0], tmp_path / "course")
    lines: list[str] = []
    assert autograde(ASSIGNMENT, scheduler=loopback, root=course, say=lines.append) == []
    assert lines == [f"nothing to grade: every submission of {ASSIGNMENT} is recorded "
                     "(--force grades them again)"]
    shutil.copytree(course / "submitted" / "ann", course / "submitted" / "dee")
    again = autograde(ASSIGNMENT, scheduler=loopback, root=course, say=lines.append)
    assert [r.student for r in again] == ["dee"]
    assert recorded(ASSIGNMENT, root=course) == {*STUDENTS, "dee"}


def _kill_workers_running(key: str, scheduler: str, times: int, stop: threading.Event) -> int:
    """SIGKILL the worker process running task ``key``, ``times`` times; return the kills."""
    kills = 0
    with Client(scheduler, timeout="30s") as client:
        while kills < times and not stop.is_set():
            running = [w for w, keys in client.processing().items() if key in keys]
            if running:
                time.sleep(1)  # let it start grading
                pid = client.run(os.getpid, workers=running)[running[0]]
                os.kill(pid, signal.SIGKILL)
                kills += 1
                while not stop.is_set() and running[0] in client.scheduler_info()["workers"]:
                    time.sleep(0.2)
            time.sleep(0.2)
    return kills


@pytest.mark.parametrize("kills", [1, 2])
def test_a_worker_lost_mid_task_is_retried_once(serial, loopback, tmp_path, kills):
    course = _ungraded_copy(serial[0], tmp_path / "course")
    make_course(tmp_path / "slow", SLOW)
    shutil.copytree(tmp_path / "slow" / "submitted" / "slow", course / "submitted" / "slow")
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=lambda: killed.append(
        _kill_workers_running(f"grade-slow/{ASSIGNMENT}", loopback, kills, stop)))
    killer.start()
    lines: list[str] = []
    try:
        results = autograde(ASSIGNMENT, scheduler=loopback, root=course, say=lines.append,
                            students=["slow"] if kills == 1 else ["ann", "slow"])
    finally:
        stop.set()
        killer.join()
    assert killed == [kills]
    if kills == 1:  # retried on the other worker: graded as if nothing happened
        assert _grades(results) == _expected(SLOW)
    else:  # lost twice: one line, and ann is still graded and recorded
        assert _grades(results) == _expected({"ann": STUDENTS["ann"]})
        failed = [line for line in lines if "slow/squares NOT GRADED" in line]
        assert len(failed) == 1 and "KilledWorker" in failed[0] and "1 failed" in failed[0]
        assert recorded(ASSIGNMENT, root=course) == {"ann"}
