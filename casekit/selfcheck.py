"""Where do I stand? Run the visible tests of every exercise, without nbgrader (e.g. in Colab).

nbgrader's *Validate* button does not exist in Colab. The last cell of a course notebook can
run this instead::

    from casekit.selfcheck import run
    run()

It reads the notebook, runs each autograded exercise's solution cell and then its test
cell, and prints one line per exercise: ``PASS`` (the visible tests pass), ``FAIL`` (with
the first line of the error) or ``NOT DONE`` (the ``raise NotImplementedError()`` stub is
still there), with the points at stake. The grader runs more (hidden) tests of the same
kind, so PASS means "probably right", not "full marks". Written answers still reading
*YOUR ANSWER HERE* are listed too.

Where the notebook comes from (``notebook_path=None``):

* **Colab**: the notebook as it is in the editor, from ``google.colab._message``
  (``get_ipynb``): no need to save first.
* **Jupyter / JupyterHub / VS Code**: the file of the running notebook (the kernel knows its
  path as ``__session__``, ``JPY_SESSION_NAME`` or ``__vsc_ipynb_file__``): save first.
* Anything else: pass ``notebook_path=``.

Inside a notebook the cells run in the notebook's own namespace (your variables, and the
solution cells as they are written now). From a terminal (``python -m casekit.selfcheck
notebook.ipynb``) or with ``fresh_kernel=True`` the whole notebook runs in a new kernel
(needs ``nbclient``), the way the grader runs it. While nbgrader grades, ``run()`` does nothing.

Example:
    >>> from casekit.selfcheck import run
    >>> report = run("notebooks/01_eda/01_eda.ipynb", fresh_kernel=True)  # doctest: +SKIP
    >>> report.points, report.max_points                                   # doctest: +SKIP
    (0.0, 18.0)
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import warnings
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

PASS, FAIL, NOT_DONE = "PASS", "FAIL", "NOT DONE"
STUB = "raise NotImplementedError()"
ANSWER_STUB = "YOUR ANSWER HERE"
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                     re.S | re.M)


@dataclass
class ExerciseCheck:
    """The outcome of one exercise's visible tests."""

    grade_id: str
    points: float
    status: str  # PASS, FAIL or NOT DONE
    message: str = ""  # first line of the error, for FAIL

    @property
    def earned(self) -> float:
        return self.points if self.status == PASS else 0.0


@dataclass
class SelfCheckReport:
    """All exercises of a notebook, plus the written answers not yet written."""

    notebook: str
    checks: list[ExerciseCheck] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # grade ids of empty written answers
    written_points: float = 0.0

    @property
    def points(self) -> float:
        return sum(c.earned for c in self.checks)

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)

    def __str__(self) -> str:
        lines = [f"Self-check of {self.notebook} (visible tests only: the grader runs more)"]
        for c in self.checks:
            detail = f"  {c.message}" if c.message else ""
            lines.append(f"  {c.status:<8} {c.earned:g}/{c.points:g}  {c.grade_id}{detail}")
        lines.append(f"Autograded exercises passing: {self.points:g} of {self.max_points:g} "
                     f"points. Written answers ({self.written_points:g} points) are graded "
                     "by hand.")
        if self.unanswered:
            lines.append(f"Written answers still empty: {', '.join(self.unanswered)}")
        return "\n".join(lines)


def run(
    notebook_path: str | os.PathLike[str] | None = None,
    fresh_kernel: bool | None = None,
    timeout: int = 300,
    show: bool = True,
) -> SelfCheckReport | None:
    """Check every autograded exercise of a notebook; print and return the report.

    ``fresh_kernel`` defaults to False inside a notebook (use its namespace) and True
    elsewhere. ``timeout`` is per cell, in a fresh kernel. Returns None while grading, or
    when the notebook's file cannot be found (a message says so).
    """
    if os.environ.get("NBGRADER_EXECUTION"):
        if show:
            print("(self-check skipped while nbgrader grades)")
        return None
    shell = _ipython()
    if fresh_kernel is None:
        fresh_kernel = shell is None
    try:
        nb, name = _read_notebook(notebook_path, shell)
    except _UnknownNotebook as error:  # e.g. run by papermill: say so, do not fail the cell
        print(error)
        return None
    if fresh_kernel:
        report = _check_in_fresh_kernel(nb, name, notebook_path, timeout)
    elif shell is None:
        raise RuntimeError("fresh_kernel=False needs a running notebook (IPython) namespace")
    else:
        report = _check_here(nb, name, shell)
    if show:
        print(report)
    return report


def exercises(nb: dict) -> list[tuple[dict, dict | None]]:
    """(test cell, solution cell above it or None) for each autograded test cell."""
    found, solution = [], None
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code":
            continue
        if meta.get("solution"):
            solution = cell
        elif meta.get("grade"):
            found.append((cell, solution))
    return found


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _visible(source: str) -> str:
    return _HIDDEN.sub("", source)


def _new_report(nb: dict, name: str) -> SelfCheckReport:
    report = SelfCheckReport(name)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        written = meta.get("grade") and meta.get("solution") and cell["cell_type"] == "markdown"
        if written or (meta.get("task") and not meta.get("grade")):
            report.written_points += float(meta.get("points", 0))
            if ANSWER_STUB in _source(cell):
                report.unanswered.append(meta.get("grade_id", "?"))
    return report


def _check_here(nb: dict, name: str, shell) -> SelfCheckReport:
    report = _new_report(nb, name)
    for test, solution in exercises(nb):
        meta = test["metadata"]["nbgrader"]
        check = ExerciseCheck(meta["grade_id"], float(meta.get("points", 0)), PASS)
        report.checks.append(check)
        if solution is not None and STUB in _source(solution):
            check.status = NOT_DONE
            continue
        for cell in (solution, test):
            if cell is None:
                continue
            error = _run_in_namespace(shell, _visible(_source(cell)))
            if error:
                check.status, check.message = FAIL, error
                break
    return report


def _run_in_namespace(shell, source: str) -> str:
    """Run ``source`` in the notebook's namespace; return '' or the error's first line."""
    code = shell.transform_cell(source)
    err = io.StringIO()
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught:
            # a new (never matching) filter makes Python show warnings it already showed once
            warnings.filterwarnings("default", message="casekit self-check: show again")
            exec(compile(code, "<self-check>", "exec"), shell.user_ns)
    except Exception as error:  # a student's error of any kind: report it, go on
        return _first_line(f"{type(error).__name__}: {error}")
    printed = err.getvalue().strip() or "; ".join(
        f"{w.category.__name__}: {w.message}" for w in caught)
    if printed:
        return _first_line(f"wrote to stderr (the grader counts that as a failure): {printed}")
    return ""


def _check_in_fresh_kernel(nb: dict, name: str, path, timeout: int) -> SelfCheckReport:
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as error:
        raise RuntimeError("a fresh kernel needs nbclient and nbformat: pip install nbclient "
                           "(or run the self-check inside the notebook)") from error
    report = _new_report(nb, name)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["source"] = _visible(_source(cell))
            cell["outputs"], cell["execution_count"] = [], None
    node = nbformat.from_dict(nb)
    folder = str(Path(path).resolve().parent) if path else os.getcwd()
    previous = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "validate"  # notebooks skip heavy work, like the grader
    try:
        NotebookClient(node, timeout=timeout, allow_errors=True,
                       kernel_name=node.metadata.get("kernelspec", {}).get("name", "python3"),
                       resources={"metadata": {"path": folder}}).execute()
    finally:
        if previous is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous
    for test, solution in exercises(node):
        meta = test.metadata["nbgrader"]
        check = ExerciseCheck(meta["grade_id"], float(meta.get("points", 0)), PASS)
        report.checks.append(check)
        if solution is not None and STUB in _source(solution):
            check.status = NOT_DONE
            continue
        for output in test.outputs:
            if output.output_type == "error":
                check.status = FAIL
                check.message = _first_line(f"{output.ename}: {output.evalue}")
                break
            if output.output_type == "stream" and output.name == "stderr":
                check.status = FAIL
                check.message = _first_line("wrote to stderr (the grader counts that as a "
                                            "failure): " + output.text.strip())
                break
    return report


class _UnknownNotebook(RuntimeError):
    """The running notebook's file cannot be found."""


def _read_notebook(path, shell) -> tuple[dict, str]:
    """The notebook as a JSON dict, and a name to show."""
    if path is None and "google.colab" in sys.modules:
        from google.colab import _message  # Colab's channel to the editor

        reply = _message.blocking_request("get_ipynb", request="", timeout_sec=60)
        if reply and "ipynb" in reply:
            return reply["ipynb"], "this notebook (Colab)"
    if path is None:
        path = _running_notebook_path(shell)
    if path is None:
        raise _UnknownNotebook("self-check: cannot tell which notebook this is; call "
                               "run(notebook_path=...) with the .ipynb file")
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8")), path.name
    except (OSError, ValueError) as error:
        raise RuntimeError(f"cannot read the notebook {path}: {error}") from error


def _running_notebook_path(shell) -> str | None:
    names = shell.user_ns if shell is not None else {}
    for candidate in (names.get("__session__"), names.get("__vsc_ipynb_file__"),
                      os.environ.get("JPY_SESSION_NAME")):
        if not candidate or not str(candidate).endswith(".ipynb"):
            continue
        # Jupyter gives the path from its root folder; the kernel runs in the notebook's folder
        for path in (Path(candidate), Path.cwd() / Path(candidate).name):
            if path.is_file():
                return str(path)
    return None


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 160 else line[:157] + "..."


def main(argv: list[str] | None = None) -> int:
    """``python -m casekit.selfcheck NOTEBOOK``: exit status 1 unless every exercise passes."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m casekit.selfcheck NOTEBOOK.ipynb")
        return 2
    report = run(args[0], fresh_kernel=True)
    return 0 if report is None or report.points == report.max_points else 1


if __name__ == "__main__":
    sys.exit(main())
