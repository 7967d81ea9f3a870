"""Spot submitted code that reaches for what a graded notebook has no business touching.

A static scan of the student's own cells (not run, so it cannot be dodged at run time by
hiding from a monitor; it can be dodged by obfuscation, which is why the sandbox, not this
scan, is what protects grades). Whatever it finds is reported as one line in the grading
notes for the instructor to look at; it never changes a grade.

Example:
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "import sqlite3\\nsqlite3.connect('gradebook.db')")])
    >>> attempts(nb, where="mallory, 01_eda.ipynb")[0].split(";")[0]
    'mallory, 01_eda.ipynb: code in cell 1 reaches for the gradebook'
"""

from __future__ import annotations

import re

from nbformat import NotebookNode

from casekit_course.repair import grade_id

#: What a pattern in student code reaches for.
PATTERNS = {
    "the gradebook": re.compile(r"gradebook|\.db\b|sqlite3"),
    "/proc": re.compile(r"/proc\b|\bpsutil\b"),
    "IPython event hooks": re.compile(r"events\s*\.\s*register|pre_run_cell|post_run_cell|"
                                      r"pre_execute|post_execute"),
    "the network": re.compile(r"\bsocket\b|urllib|requests\.|http\.client"),
    "the course folders": re.compile(r"\b(solutions|source|autograded|submitted)/|\.\./\.\./"),
    "other processes": re.compile(r"\bsubprocess\b|os\.system|os\.fork|os\.setsid|ctypes"),
}


def attempts(nb: NotebookNode, *, where: str) -> list[str]:
    """One line naming what the student's code cells reach for, and in which cells."""
    found: dict[str, list[int]] = {}
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or (grade_id(cell) and not _is_answer(cell)):
            continue  # locked and test cells are the instructor's
        for what, pattern in PATTERNS.items():
            if pattern.search(cell.source):
                found.setdefault(what, []).append(number)
    if not found:
        return []
    cells = sorted({n for numbers in found.values() for n in numbers})
    label = "cell" if len(cells) == 1 else "cells"
    return [f"{where}: code in {label} {', '.join(map(str, cells))} reaches for "
            f"{', '.join(found)}; grades unaffected (for review)"]


def _is_answer(cell: NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))
