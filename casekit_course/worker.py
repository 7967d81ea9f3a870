"""Grade one student's submission of one assignment, anywhere, from the job's bytes alone.

:func:`grade_submission` is what a Dask worker (or the serial loop) runs for one
:class:`~casekit_course.jobs.GradingJob`. On the machine it runs on it:

1. builds a throw-away course from the job's config and instructor source and runs
   nbgrader's generate_assignment (once per assignment and process: later jobs copy the
   generated course, which costs milliseconds instead of seconds);
2. picks each expected notebook among the submitted files (renamed copies, identical
   duplicates), parses it (:func:`casekit_course.repair.read_notebook`: empty, oversized,
   invalid or cut-off JSON) and repairs its nbgrader metadata
   (:func:`casekit_course.repair.repair_ids`: unknown grade ids, stripped metadata);
3. autogrades with the kernel inside ``sandbox`` (:func:`casekit_course.sandbox.sandbox_config`);
4. reads the grades from the graded notebooks (not from the throw-away gradebook, which
   student code could reach without a sandbox) and builds each feedback page
   (:mod:`casekit_course.feedback`).

It never raises for a bad submission: a notebook that cannot be graded scores 0 and its
:attr:`~casekit_course.jobs.NotebookResult.status` says why; every repair, refusal and
suspicious piece of code (:func:`casekit_course.scan.attempts`) is one line in
:attr:`~casekit_course.jobs.SubmissionResult.notes`.

Example:
    >>> from casekit_course.record import job_for
    >>> from casekit_course.sandbox import find_sandbox
    >>> job = job_for("01_eda", "alice")                               # doctest: +SKIP
    >>> result = grade_submission(job, sandbox=find_sandbox())           # doctest: +SKIP
    >>> [(nb.name, nb.auto_score, nb.status) for nb in result.notebooks]  # doctest: +SKIP
    [('01_eda', 18.0, 'graded')]
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath

import nbformat
from nbformat import NotebookNode
from nbgrader.utils import determine_grade, is_grade
from traitlets.config import Config

from casekit_course.config import CONFIG_FILE, CourseError
from casekit_course.feedback import Row, build_rows, feedback_page
from casekit_course.jobs import GradingJob, NotebookResult, SubmissionResult
from casekit_course.repair import read_notebook, repair_ids
from casekit_course.sandbox import Limits, Sandbox, sandbox_config
from casekit_course.scan import attempts
from casekit_course.steps import autograde_notes, generate_assignment
from casekit_course.submissions import base_name

#: The limits when the caller gives none (the defaults of :class:`Limits`).
DEFAULT_LIMITS = Limits()
_GENERATED: dict[str, Path] = {}  # digest of (assignment, config, source) -> generated course
_LOCK = threading.Lock()


def grade_submission(
    job: GradingJob, *, sandbox: Sandbox, limits: Limits = DEFAULT_LIMITS
) -> SubmissionResult:
    """Grade ``job``; see the module doc. Picklable in and out, never raises for bad input."""
    started = time.perf_counter()
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="casekit-grade-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(generated_course(job), course)
        config = _course_config(course, sandbox, limits)
        names = sorted(p.name for p in (course / "solutions" / job.assignment).glob("*.ipynb"))
        released = {n: _read(course / "notebooks" / job.assignment / n) for n in names}
        instructor = {n: _read(course / "solutions" / job.assignment / n) for n in names}
        folder = course / "submitted" / job.student / job.assignment
        folder.mkdir(parents=True)
        submitted, status = _write_submission(job, folder, released, notes)
        if submitted:
            try:
                notes += autograde_notes(course, job.assignment, job.student, config=config)
            except CourseError as error:
                why = _last_line(str(error))
                notes.append(f"{job.student}, {job.assignment}: nbgrader could not grade the "
                             f"submission ({why}); scored 0 (fix: see the line above, or "
                             "grade it by hand)")
                status.update({n: f"zero: nbgrader failed ({why})" for n in submitted})
        graded_folder = course / "autograded" / job.student / job.assignment
        notebooks = [_result(name, graded_folder / name, submitted.get(name), released[name],
                             instructor[name], job, status.get(name, "graded"))
                     for name in names]
    return SubmissionResult(job.assignment, job.student, notebooks,
                            seconds=time.perf_counter() - started, sandbox=sandbox.kind,
                            timestamp=job.timestamp, notes=notes)


def generated_course(job: GradingJob) -> Path:
    """A course with ``job``'s config and source, generate_assignment done (cached per process).

    The cached course is only ever copied, never graded in, so jobs cannot affect each other.
    """
    digest = hashlib.sha256(job.assignment.encode() + b"\0" + job.config.encode())
    for path, data in sorted(job.source.items()):
        digest.update(b"\0" + path.encode() + b"\0" + hashlib.sha256(data).digest())
    key = digest.hexdigest()
    with _LOCK:
        if key not in _GENERATED:
            course = Path(tempfile.mkdtemp(prefix="casekit-assignment-"))
            atexit.register(shutil.rmtree, course, True)
            (course / CONFIG_FILE).write_text(job.config, encoding="utf-8")
            for path, data in job.source.items():
                target = course / "solutions" / job.assignment / _safe(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            generate_assignment(course, job.assignment, config=_own_gradebook(course))
            _GENERATED[key] = course
        return _GENERATED[key]


def _own_gradebook(course: Path) -> Config:
    """The throw-away course keeps its own SQLite gradebook whatever the course config says."""
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    return config


def _course_config(course: Path, sandbox: Sandbox, limits: Limits) -> Config:
    config = sandbox_config(sandbox, limits)
    config.merge(_own_gradebook(course))
    return config


def _safe(path: str) -> PurePosixPath:
    """A relative path inside the folder (raises on ``..`` or an absolute path)."""
    posix = PurePosixPath(path)
    if posix.is_absolute() or ".." in posix.parts or not posix.parts:
        raise CourseError(f"file name {path!r} leaves its folder")
    return posix


def _read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def _write_submission(
    job: GradingJob, folder: Path, released: dict[str, NotebookNode], notes: list[str]
) -> tuple[dict[str, NotebookNode], dict[str, str]]:
    """Write the gradeable notebooks (and other files) into ``folder``.

    Returns the notebooks written (expected name -> notebook as handed in, repaired) and the
    status of each notebook that is repaired or scores 0.
    """
    submitted: dict[str, NotebookNode] = {}
    status: dict[str, str] = {}
    picked = set()
    for name, template in released.items():
        where = f"{job.student}, {job.assignment}/{name}"
        path, why = _pick(job.files, name, where)
        if path is None:
            notes.append(why)
            status[name] = f"zero: {why.split(': ', 1)[1]}"
            continue
        picked.add(path)
        own = [why] if why else []
        nb, read_notes = read_notebook(job.files[path], where=where, template=template)
        own += read_notes
        if nb is None:
            notes += own
            status[name] = f"zero: {own[-1].split(': ', 1)[1]}"
            continue
        own += repair_ids(nb, template, where=where)
        notes += own + attempts(nb, where=where)
        if own:
            reasons = [line.split(": ", 1)[1] for line in own]
            status[name] = "repaired: " + reasons[0] + (
                f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else "")
        nbformat.write(nb, folder / name)
        submitted[name] = nb
    for path, data in job.files.items():
        if path in picked or path.endswith(".ipynb"):
            continue
        try:
            target = folder / _safe(path)
        except CourseError as error:
            notes.append(f"{job.student}, {job.assignment}: {error}; not copied")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return submitted, status


def _pick(files: dict[str, bytes], name: str, where: str) -> tuple[str | None, str]:
    """The submitted file to grade as ``name``: (path, note) or (None, why not)."""
    exact = [p for p in files if PurePosixPath(p).name == name]
    if exact:
        return min(exact, key=lambda p: len(PurePosixPath(p).parts)), ""
    copies = sorted(p for p in files if p.lower().endswith(".ipynb") and
                    base_name(PurePosixPath(p).name) == base_name(name))
    if not copies:
        return None, f"{where}: not handed in; scored 0 (fix: hand in {name})"
    if len({files[p] for p in copies}) == 1:
        extra = f" (one of {len(copies)} identical copies)" if len(copies) > 1 else ""
        return copies[0], f"{where}: graded {copies[0]!r} as {name}{extra} (renamed copy)"
    return None, (f"{where}: several different copies ({', '.join(copies)}); scored 0 "
                  f"(fix: keep one and name it {name})")


def _result(
    name: str,
    graded_path: Path,
    submitted: NotebookNode | None,
    released: NotebookNode,
    instructor: NotebookNode,
    job: GradingJob,
    status: str,
) -> NotebookResult:
    """Grades, graded notebook and feedback page of one notebook."""
    graded = _read(graded_path) if submitted is not None and graded_path.is_file() else None
    if graded is None and not status.startswith("zero"):
        status = "zero: not graded"
    grades = notebook_grades(graded, instructor)
    try:
        rows = build_rows(graded=graded, submitted=submitted, released=released,
                          instructor=instructor, grades=grades)
    except (AttributeError, KeyError, TypeError, ValueError) as error:  # odd outputs, say
        rows = [Row("raw", f"[the cells cannot be shown ({type(error).__name__}); the "
                           "scores are the grader's]")]
    page = feedback_page(student=job.student, assignment=job.assignment, notebook=name,
                         rows=rows, grades=grades, status=status)
    return NotebookResult(name=Path(name).stem, grades=grades,
                          graded_notebook=graded_path.read_bytes() if graded else b"",
                          feedback_html=page, status=status)


def notebook_grades(
    graded: NotebookNode | None, instructor: NotebookNode
) -> dict[str, tuple[float | None, float]]:
    """grade id -> (score, points) as nbgrader scores it; points from the instructor's source.

    A grade cell missing from ``graded`` (or no graded notebook at all) scores 0.

    Example:
        >>> cell = nbformat.v4.new_code_cell("assert True")
        >>> cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 2,
        ...                              "grade_id": "test_t"}
        >>> nb = nbformat.v4.new_notebook(cells=[cell])
        >>> notebook_grades(nb, nb), notebook_grades(None, nb)
        ({'test_t': (2.0, 2.0)}, {'test_t': (0.0, 2.0)})
    """
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in (graded.cells if graded else [])
             if is_grade(c) and "grade_id" in c.metadata.get("nbgrader", {})}
    grades: dict[str, tuple[float | None, float]] = {}
    for cell in instructor.cells:
        if not is_grade(cell):
            continue
        meta = cell.metadata["nbgrader"]
        points = float(meta.get("points", 0))
        mine = cells.get(meta["grade_id"])
        score = determine_grade(mine)[0] if mine is not None else 0.0
        grades[meta["grade_id"]] = (None if score is None else min(float(score), points), points)
    return grades


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "unknown error")[:200]
