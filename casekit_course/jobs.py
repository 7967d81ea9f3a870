"""What travels between the trusted grader and the machine that grades one submission.

One **job** is one student × one assignment. It carries everything a worker needs, as
bytes, so a Dask worker on another machine grades it with no shared file system or
database: the student's submitted files, the assignment's instructor source (with hidden
tests; workers are the instructor's machines, and only the sandboxed kernel is not) and
the course config. The **result** carries back the scores, the graded notebooks and the
feedback pages; only the trusted process writes them into the gradebook and the course
folders (:func:`casekit_course.record.record_result`).

Example:
    >>> job = GradingJob("01_eda", "alice", files={"01_eda.ipynb": b"{}"},
    ...                  source={"01_eda.ipynb": b"{}"}, config="c = get_config()\\n")
    >>> job.key
    'alice/01_eda'
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GradingJob:
    """One student's submission of one assignment, self-contained."""

    assignment: str
    student: str
    #: The student's submitted folder: relative POSIX path -> content.
    files: dict[str, bytes]
    #: The assignment's instructor source folder (``solutions/<assignment>/``): path -> content.
    source: dict[str, bytes]
    #: Text of the course's ``nbgrader_config.py``.
    config: str
    #: When the student submitted (ISO 8601, from collection), if known.
    timestamp: str | None = None

    @property
    def key(self) -> str:
        """``student/assignment``: the job's name in progress lines and Dask."""
        return f"{self.student}/{self.assignment}"


@dataclass
class NotebookResult:
    """One graded notebook of a submission."""

    name: str
    #: grade id -> (automatic score or None for manual cells, max score).
    grades: dict[str, tuple[float | None, float]]
    #: The executed notebook with hidden tests (instructor-only), as JSON bytes.
    graded_notebook: bytes
    #: The feedback page for the student (built so no hidden test can leak into it).
    feedback_html: str
    #: "graded", "repaired: <what>" or "zero: <why>" (one line, names the fix).
    status: str = "graded"

    @property
    def auto_score(self) -> float:
        """Points the autograder gave."""
        return sum(score or 0.0 for score, _ in self.grades.values())


@dataclass
class SubmissionResult:
    """What grading one job produced."""

    assignment: str
    student: str
    notebooks: list[NotebookResult]
    seconds: float
    #: "bwrap", "podman", "docker" or "none" (``--no-sandbox``, recorded in the export).
    sandbox: str
    timestamp: str | None = None
    #: One line each: what was repaired, what scored zero and why, what student code tried.
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.student}/{self.assignment}"
