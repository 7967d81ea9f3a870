"""Where do I stand? Run the visible tests of every exercise, without nbgrader (e.g. in Colab).

nbgrader's *Validate* button does not exist in Colab. The last cell of a course notebook can
run this instead::

    from casekit.selfcheck import run
    run()

It runs the notebook in a **separate kernel**, the way the grader does (with the hidden
tests left out and ``NBGRADER_EXECUTION`` set, so training cells skip themselves), and
prints one line per autograded test cell: ``PASS`` (the visible tests pass), ``FAIL`` (with
the first line of the error) or ``NOT DONE`` (the ``raise NotImplementedError()`` stub is
still there), with the points at stake. A cell that never finishes (an endless loop) or
stops the kernel (``os._exit``, a crash, too much memory) fails its exercise, the report says
which cell it was and what to do, and the exercises below it are listed as ``NOT RUN``.
The grader runs more (hidden) tests of the same kind, so PASS means "probably right", not
"full marks". Written answers still reading *YOUR ANSWER HERE* are listed too. The
student's own kernel is never touched: no cell is run in it and no variable changes.

Which notebook is checked (``notebook_path=None``):

* **Colab**: the notebook as it is in the editor, from ``google.colab._message``
  (``get_ipynb``): what you see is what is checked.
* **Jupyter / JupyterHub / VS Code**: the *saved* file of the running notebook (the kernel
  knows its path as ``__session__``, ``JPY_SESSION_NAME`` or ``__vsc_ipynb_file__``). The
  report says when it was last saved: **save first** (Ctrl+S) to check your latest edits.
* Anything else: pass ``notebook_path=``; from a terminal,
  ``python -m casekit.selfcheck notebook.ipynb``.

Running needs ``nbclient`` (installed with Jupyter). While nbgrader grades, ``run()`` does
nothing; with ``CASEKIT_SELFCHECK=off`` (set by ``casekit-course demo``) it does nothing silently.

Example:
    >>> from casekit.selfcheck import run
    >>> report = run("notebooks/01_eda/01_eda.ipynb")  # doctest: +SKIP
    >>> report.points, report.max_points               # doctest: +SKIP
    (0.0, 18.0)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from casekit.graded import is_heavy, strip_hidden_tests

PASS, FAIL, NOT_DONE, NOT_RUN = "PASS", "FAIL", "NOT DONE", "NOT RUN"
STUB = "raise NotImplementedError()"
ANSWER_STUB = "YOUR ANSWER HERE"


@dataclass
class ExerciseCheck:
    """The outcome of one exercise's visible tests."""

    grade_id: str
    points: float
    status: str  # PASS, FAIL, NOT DONE or NOT RUN
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
    source: str = ""  # where the checked notebook came from, with its save time
    stopped: str = ""  # the cell that hung or stopped the kernel, and what to do

    @property
    def points(self) -> float:
        return sum(c.earned for c in self.checks)

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)

    def __str__(self) -> str:
        lines = [f"Self-check of {self.notebook} (visible tests only: the grader runs more)"]
        if self.source:
            lines.append(f"  {self.source}")
        for c in self.checks:
            detail = f"  {c.message}" if c.message else ""
            lines.append(f"  {c.status:<8} {c.earned:g}/{c.points:g}  {c.grade_id}{detail}")
        if self.stopped:
            lines.append(self.stopped)
        lines.append(f"Autograded exercises passing: {self.points:g} of {self.max_points:g} "
                     f"points. Written answers ({self.written_points:g} points) are graded "
                     "by hand.")
        if self.unanswered:
            lines.append(f"Written answers still empty: {', '.join(self.unanswered)}")
        return "\n".join(lines)


def run(
    notebook_path: str | os.PathLike[str] | None = None,
    timeout: int = 300,
    show: bool = True,
) -> SelfCheckReport | None:
    """Check every autograded exercise of a notebook in a separate kernel; print the report.

    ``timeout`` is per cell. Returns None while grading, or when the notebook's file cannot
    be found (a message says so). The calling kernel is left as it was.

    Raises:
        RuntimeError: the notebook file cannot be read, or ``nbclient`` is missing.
    """
    if os.environ.get("CASEKIT_SELFCHECK") == "off":  # e.g. `casekit-course demo`: no student here
        return None
    if os.environ.get("NBGRADER_EXECUTION"):
        if show:
            print("(self-check skipped while nbgrader grades)")
        return None
    try:
        nb, name, source, folder = _read_notebook(notebook_path, _ipython())
    except _UnknownNotebook as error:  # e.g. run by papermill: say so, do not fail the cell
        print(error)
        return None
    if show:
        print(f"Checking {name} in a separate kernel (your notebook's variables stay as they "
              f"are).\n  {source}", flush=True)
    report = _check_in_fresh_kernel(nb, name, folder, timeout)
    report.source = source
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


def _check_in_fresh_kernel(nb: dict, name: str, folder: str, timeout: int) -> SelfCheckReport:
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
    except ImportError as error:
        raise RuntimeError("the self-check runs your notebook in a separate kernel and needs "
                           "nbclient: pip install nbclient") from error
    report = _new_report(nb, name)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            heavy = is_heavy(cell)  # training: skipped, as the grader skips it
            cell["source"] = "pass" if heavy else strip_hidden_tests(_source(cell))
            cell["outputs"], cell["execution_count"] = [], None
    node = nbformat.from_dict(nb)
    previous = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "validate"  # notebooks skip heavy work, like the grader
    client = NotebookClient(node, timeout=timeout, allow_errors=True,
                            kernel_name=node.metadata.get("kernelspec", {}).get("name",
                                                                                "python3"))
    stopped = len(node.cells)  # index of the cell that hung or stopped the kernel, if any
    try:
        client.reset_execution_trackers()
        with client.setup_kernel(cwd=folder):
            for index, cell in enumerate(node.cells):
                try:
                    client.execute_cell(cell, index)
                except (CellTimeoutError, DeadKernelError) as error:
                    stopped = index
                    report.stopped = _stopped_line(index, cell, error, timeout)
                    client.shutdown_kernel = "immediate"  # a looping kernel would not answer
                    break
    finally:
        if previous is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous
    position = {id(cell): index for index, cell in enumerate(node.cells)}
    for test, solution in exercises(node):
        meta = test.metadata["nbgrader"]
        check = ExerciseCheck(meta["grade_id"], float(meta.get("points", 0)), PASS)
        report.checks.append(check)
        if solution is not None and STUB in _source(solution):
            check.status = NOT_DONE
            continue
        if stopped in (position[id(test)], position.get(id(solution))):
            check.status, check.message = FAIL, f"cell {stopped + 1}: see below"
            continue
        if position[id(test)] > stopped:
            check.status = NOT_RUN
            check.message = f"not checked: the check stopped at cell {stopped + 1}"
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


def _stopped_line(index: int, cell, error: Exception, timeout: int) -> str:
    """What happened at cell ``index`` (1-based for the student) and what to do."""
    first = _first_line(_source(cell))
    where = f"Cell {index + 1} (`{first}`)"
    if type(error).__name__ == "CellTimeoutError":
        return (f"{where} did not finish within {timeout} s: look for a loop that never ends "
                "(a `while` whose condition stays true) or work too big for a check, fix it "
                "and run the self-check again; the exercises below it were not checked.")
    return (f"{where} stopped the Python kernel (os._exit, exit() outside a function, a crash, "
            "or too much memory): remove that call or use less data, then run the self-check "
            "again; the exercises below it were not checked.")


class _UnknownNotebook(RuntimeError):
    """The running notebook's file cannot be found."""


def _read_notebook(path, shell) -> tuple[dict, str, str, str]:
    """The notebook as a JSON dict, a name to show, where it came from, its folder."""
    if path is None and "google.colab" in sys.modules:
        from google.colab import _message  # Colab's channel to the editor

        reply = _message.blocking_request("get_ipynb", request="", timeout_sec=60)
        if reply and "ipynb" in reply:
            return (reply["ipynb"], "this notebook (Colab)",
                    "the notebook as it is in the editor now (no need to save)", os.getcwd())
    if path is None:
        path = _running_notebook_path(shell)
    if path is None:
        raise _UnknownNotebook("self-check: cannot tell which notebook this is; call "
                               "run(notebook_path=...) with the .ipynb file")
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        saved = path.stat().st_mtime
    except (OSError, ValueError) as error:
        raise RuntimeError(f"cannot read the notebook {path}: {error}") from error
    return nb, path.name, _saved_line(path, saved), str(path.resolve().parent)


def _saved_line(path: Path, saved: float) -> str:
    minutes = max(0, round((time.time() - saved) / 60))
    ago = "just now" if minutes == 0 else f"{minutes} min ago"
    when = datetime.fromtimestamp(saved).strftime("%H:%M:%S")
    return (f"the SAVED file {path} (last saved {when}, {ago}); save first (Ctrl+S) "
            "so that your latest edits are checked")


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
    parser = argparse.ArgumentParser(
        prog="python -m casekit.selfcheck",
        description="Run the visible tests of a SAVED course notebook in a separate kernel "
                    "and print the points they give (your open kernel is not touched).")
    parser.add_argument("notebook", help="the saved .ipynb file, e.g. 02_binary.ipynb")
    report = run(parser.parse_args(argv).notebook)
    return 0 if report is None or report.points == report.max_points else 1


if __name__ == "__main__":
    sys.exit(main())
