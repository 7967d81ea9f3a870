"""Autograde a class on Dask: one task per student × assignment, on a laptop or a cluster.

The trusted process (the instructor's, where the course folder and ``gradebook.db`` live)
turns each submission into a self-contained :class:`~casekit_course.jobs.GradingJob`
(:func:`casekit_course.record.job_for`), hands the jobs to Dask, and records each
:class:`~casekit_course.jobs.SubmissionResult` the moment it comes back
(:func:`casekit_course.record.record_result`). Workers need neither the course folder nor the
gradebook: a job travels as bytes, so any machine with casekit installed can grade.

- Dynamic scheduling: a slow student holds one worker; the others take the next jobs.
- ``workers=N`` (default: the cores) starts a ``LocalCluster`` of N one-thread workers;
  ``scheduler="tcp://host:8786"`` grades on a running Dask cluster instead.
- A worker lost mid-task (killed, out of memory, machine gone) is retried once on another
  worker; a student's own timeout or crash is a grade, never retried.
- Nothing is lost: a crash or Ctrl-C keeps every result already recorded, and a rerun grades
  only the students not yet recorded (``force=True`` grades them all again).
- Quiet console: one line per finished submission, a summary table at the end; Dask's,
  nbgrader's and the kernels' own chatter goes to ``autograde.log`` in the course folder.

Example (from the course root, after ``nbgrader generate_assignment 01_eda``):
    >>> from casekit_course.fanout import autograde
    >>> results = autograde("01_eda", workers=2)              # doctest: +SKIP
    [1/20] alice/01_eda  32/32  graded  5.1 s · 0 failed · 2 running · ETA 0:01:36
    ...
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dask
from distributed import Client, LocalCluster, as_completed

from casekit_course.config import CourseError, course_root
from casekit_course.grading import course_limits
from casekit_course.jobs import GradingJob, SubmissionResult
from casekit_course.logs import stderr_to_log
from casekit_course.record import job_for, record_result, recorded
from casekit_course.sandbox import Limits, Sandbox, SandboxUnavailable, find_sandbox
from casekit_course.worker import grade_submission

#: Where Dask's, nbgrader's and the kernels' log lines go (in the course folder).
LOG_FILE = "autograde.log"
#: Times a task may be on a worker that dies before Dask gives up on it: one retry.
ALLOWED_WORKER_DEATHS = 1


@dataclass
class Progress:
    """Counts for the progress line: done, failed (no grade could be made), running, ETA."""

    total: int
    done: int = 0
    failed: int = 0
    started: float = field(default_factory=time.perf_counter)

    def eta_s(self) -> float | None:
        """Seconds left at the average pace so far (``None`` before the first result)."""
        finished = self.done + self.failed
        if not finished:
            return None
        left = self.total - finished
        return (time.perf_counter() - self.started) / finished * left if left else 0.0

    def line(self, what: str, running: int) -> str:
        """``[done/total] <what> · N failed · M running · ETA h:mm:ss``."""
        eta = self.eta_s()
        clock = "?" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta))
        return (f"[{self.done + self.failed}/{self.total}] {what} · {self.failed} failed · "
                f"{running} running · ETA {clock}")


def autograde(
    assignment: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    sandbox: str = "auto",
    students: list[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    force: bool = False,
    limits: Limits | None = None,
    say: Callable[[str], None] = print,
) -> list[SubmissionResult]:
    """Grade ``submitted/*/<assignment>`` on Dask; record and return each student's result.

    ``students`` defaults to every folder in ``submitted/`` holding the assignment; those
    already recorded are skipped unless ``force``. ``sandbox`` is ``"auto"`` (bubblewrap on
    Linux), ``"bwrap"``, ``"podman"``, ``"docker"`` or ``"none"`` (``--no-sandbox``); a
    sandbox that cannot start raises :class:`CourseError` before anything is graded.
    ``limits`` default to those the course's ``nbgrader_config.py`` sets. ``say`` receives
    the progress lines and the summary table.
    """
    root = course_root(root)
    box = choose_sandbox(sandbox)
    todo = students_to_grade(assignment, students=students, root=root, force=force)
    if not todo:
        say(f"nothing to grade: every submission of {assignment} is recorded "
            "(--force grades them again)")
        return []
    jobs = []
    for student in todo:
        try:
            jobs.append(job_for(assignment, student, root=root))
        except CourseError as error:
            say(f"{student}/{assignment}: not graded: {error}")
    log = root / LOG_FILE
    say(f"grading {len(jobs)} submission(s) of {assignment} (sandbox: {box.kind}; "
        f"log: {log})")
    results: list[SubmissionResult] = []
    try:
        with stderr_to_log(log), _client(workers, scheduler) as client:
            for result in grade_jobs(client, jobs, sandbox=box,
                                     limits=limits or course_limits(root), say=say):
                record_result(result, root=root)
                results.append(result)
    except KeyboardInterrupt:
        say(f"interrupted: {len(results)} submission(s) recorded; the same command grades "
            "the rest")
        raise
    say(summary_table(results))
    return results


def choose_sandbox(kind: str) -> Sandbox:
    """The sandbox for ``kind``; a one-line :class:`CourseError` where none can start.

    Example:
        >>> choose_sandbox("none").kind
        'none'
    """
    try:
        return find_sandbox(kind)
    except SandboxUnavailable as error:
        raise CourseError(f"{error} (or grade without a sandbox: --no-sandbox, recorded in "
                          "the export)") from None


def students_to_grade(
    assignment: str,
    *,
    students: list[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> list[str]:
    """Students whose submission of ``assignment`` is to be graded, in name order."""
    root = course_root(root)
    submitted = root / "submitted"
    if students is None:
        students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
        if not students:
            raise CourseError(f"no submissions of {assignment!r} in {submitted}: collect them "
                              "first (casekit-course collect)")
    missing = [s for s in students if not (submitted / s / assignment).is_dir()]
    if missing:
        raise CourseError(f"no submission of {assignment!r} in {submitted} for {missing}")
    done = set() if force else recorded(assignment, root=root)
    return [s for s in sorted(students) if s not in done]


def grade_jobs(
    client: Client,
    jobs: list[GradingJob],
    *,
    sandbox: Sandbox,
    limits: Limits,
    say: Callable[[str], None] = print,
) -> Iterator[SubmissionResult]:
    """Submit every job to ``client``; yield each result as it finishes, saying one line.

    A task that fails (its worker died twice, or grading itself broke) is reported in one
    line and yields nothing; the other jobs go on. On Ctrl-C the remaining tasks are
    cancelled; what was yielded so far is all the caller has to keep.
    """
    progress = Progress(total=len(jobs))
    futures = {
        client.submit(grade_submission, job, sandbox=sandbox, limits=limits, key=f"grade-{job.key}",
                      retries=1, pure=False): job
        for job in jobs
    }
    try:
        for future in as_completed(futures):
            job = futures.pop(future)
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - one line, then the next student
                progress.failed += 1
                reason = f"{type(error).__name__}: {(str(error) or '?').splitlines()[0]}"
                say(progress.line(f"{job.key} NOT GRADED ({reason}); rerun to retry",
                                  _running(client)))
                continue
            progress.done += 1
            say(progress.line(f"{result.key} {_score(result)} {_status(result)} "
                              f"{result.seconds:.1f} s", _running(client)))
            yield result
    finally:
        if futures:
            client.cancel(list(futures))


def summary_table(results: list[SubmissionResult]) -> str:
    """One row per graded notebook: student, notebook, score, repair or reason, seconds.

    Example:
        >>> from casekit_course.jobs import NotebookResult
        >>> nb = NotebookResult("01_eda", {"t1": (2.0, 2.0), "t2": (0.0, 3.0)}, b"", "")
        >>> print(summary_table([SubmissionResult("01_eda", "alice", [nb], 5.04, "bwrap")]))
        student  notebook  score  repair or reason  seconds
        alice    01_eda    2/5    graded                5.0
    """
    rows = [("student", "notebook", "score", "repair or reason", "seconds")]
    for result in sorted(results, key=lambda r: r.key):
        for notebook in result.notebooks:
            rows.append((result.student, notebook.name, _points(notebook.grades),
                         notebook.status, f"{result.seconds:.1f}"))
        if not result.notebooks:
            rows.append((result.student, "-", "0", "; ".join(result.notes) or "nothing graded",
                         f"{result.seconds:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + "  " + row[4].rjust(len("seconds"))
        for row in rows)


@contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator[Client]:
    """A Dask client: on the cluster at ``scheduler``, or on a new one-machine cluster."""
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as error:
            raise CourseError(f"no Dask scheduler answers at {scheduler} ({error}): start one "
                              "with `dask scheduler`, or leave out --scheduler") from None
        with client:
            yield client
        return
    workers = workers or os.cpu_count() or 1
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_WORKER_DEATHS}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) \
            as cluster, Client(cluster) as client:
        yield client


def _running(client: Client) -> int:
    return sum(len(keys) for keys in client.processing().values())


def _points(grades: dict[str, tuple[float | None, float]]) -> str:
    score = sum(s or 0.0 for s, _ in grades.values())
    maximum = sum(m for _, m in grades.values())
    return f"{score:g}/{maximum:g}"


def _score(result: SubmissionResult) -> str:
    return _points({f"{n.name}:{g}": v for n in result.notebooks for g, v in n.grades.items()})


def _status(result: SubmissionResult) -> str:
    statuses = sorted({n.status for n in result.notebooks}) or ["nothing graded"]
    return "; ".join(statuses)


