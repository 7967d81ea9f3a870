"""Autograde a large class on several cores, with nbgrader's ordinary SQLite gradebook.

nbgrader grades one submission after another, and several ``nbgrader autograde`` processes
sharing one SQLite gradebook abort with "database is locked". So the class is cut into
batches; each batch is graded by its own process in a *worker course* (a copy of the
config, the assignment's source, the batch's submissions and the gradebook), and the
results are merged back: ``autograded/<student>/`` folders are moved into the real course
and each grade's automatic score and comment is copied into the real gradebook. Manual
scores already given there are kept, as nbgrader itself does.

Example (from the course root, after ``nbgrader generate_assignment 01_eda``):
    >>> from casekit_course.parallel import autograde_parallel
    >>> graded = autograde_parallel("01_eda", jobs=4)        # doctest: +SKIP
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory

from casekit.progress import tqdm
from casekit_course.config import CONFIG_FILE, CourseError, course_root, load_config
from casekit_course.steps import autograde


def autograde_parallel(
    assignment: str,
    jobs: int = 2,
    students: list[str] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Autograde ``submitted/*/<assignment>`` with ``jobs`` processes; return the students.

    The assignment must already be in the gradebook (``nbgrader generate_assignment``).
    ``students`` defaults to every folder in ``submitted/`` holding the assignment. A
    student whose grading fails is reported in the raised :class:`CourseError` after the
    others have been merged.
    """
    root = course_root(root)
    coursedir = CourseDirectory(config=load_config(root))
    if students is None:
        submitted = root / coursedir.submitted_directory
        students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
    if not students:
        raise CourseError(f"no submissions of {assignment!r} in {root / 'submitted'}")
    batches = [students[i::jobs] for i in range(min(jobs, len(students)))]
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="casekit-workers-") as tmp:
        workers = [
            _worker_course(Path(tmp) / f"worker{i}", root, coursedir, assignment, batch)
            for i, batch in enumerate(batches)
        ]
        context = multiprocessing.get_context("spawn")  # no forked kernels or DB handles
        with ProcessPoolExecutor(len(workers), mp_context=context) as pool:
            futures = [
                pool.submit(_grade_batch, str(worker), assignment, batch)
                for worker, batch in zip(workers, batches, strict=True)
            ]
            done = tqdm(zip(workers, futures, strict=True), total=len(futures), desc="batches")
            for worker, future in done:
                graded, failed = future.result()
                failures += failed
                _merge(worker, root, coursedir, assignment, graded)
    if failures:
        raise CourseError(f"autograding failed for {failures}; see the log above")
    return students


def _worker_course(
    worker: Path, root: Path, coursedir: CourseDirectory, assignment: str, batch: list[str]
) -> Path:
    worker.mkdir(parents=True)
    shutil.copy2(root / CONFIG_FILE, worker / CONFIG_FILE)
    source = Path(coursedir.source_directory) / assignment
    shutil.copytree(root / source, worker / source)
    for student in batch:
        shutil.copytree(
            root / coursedir.submitted_directory / student / assignment,
            worker / "submitted" / student / assignment,
        )
    gradebook = Path(coursedir.db_url.removeprefix("sqlite:///"))
    if not coursedir.db_url.startswith("sqlite:///") or not gradebook.is_file():
        raise CourseError(f"needs an existing SQLite gradebook, not {coursedir.db_url}")
    shutil.copy2(gradebook, worker / "gradebook.db")
    return worker


def _grade_batch(worker: str, assignment: str, batch: list[str]) -> tuple[list[str], list[str]]:
    """Runs in a worker process: grade each student, collect who failed."""
    graded, failed = [], []
    for student in batch:
        try:
            autograde(worker, assignment, student)
        except CourseError as error:
            print(error)
            failed.append(student)
        else:
            graded.append(student)
    return graded, failed


def _merge(
    worker: Path, root: Path, coursedir: CourseDirectory, assignment: str, students: list[str]
) -> None:
    for student in students:
        target = root / coursedir.autograded_directory / student / assignment
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(worker / "autograded" / student / assignment, target)
    course_id = coursedir.course_id
    source = Gradebook(f"sqlite:///{worker / 'gradebook.db'}", course_id)
    with source, Gradebook(coursedir.db_url, course_id) as target:
        for student in students:
            _copy_submission(source, target, assignment, student)
        target.db.commit()


def _copy_submission(source: Gradebook, target: Gradebook, assignment: str, student: str) -> None:
    who = source.find_student(student)
    target.update_or_create_student(
        student, first_name=who.first_name, last_name=who.last_name, email=who.email
    )
    submission = source.find_submission(assignment, student)
    target.update_or_create_submission(assignment, student, timestamp=submission.timestamp)
    for notebook in submission.notebooks:
        copy = target.find_submission_notebook(notebook.name, assignment, student)
        copy.late_submission_penalty = notebook.late_submission_penalty
        for grade in notebook.grades:
            merged = target.find_grade(grade.name, notebook.name, assignment, student)
            merged.auto_score = grade.auto_score
            merged.needs_manual_grade = grade.needs_manual_grade or merged.manual_score is not None
        for comment in notebook.comments:
            merged = target.find_comment(comment.name, notebook.name, assignment, student)
            merged.auto_comment = comment.auto_comment
