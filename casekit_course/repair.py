"""Turn a submitted notebook's bytes into a notebook nbgrader can grade, or say why not.

Everything here runs on the trusted side, before any student code executes. Each function
returns the notebook (possibly repaired) and one line per repair or refusal; the line names
the student and notebook (``where``) and the fix, so a batch goes on and the instructor
reads one line:

* :func:`read_notebook`: empty, oversized, non-UTF-8 or invalid JSON files; a file cut off
  in the middle (half its JSON) keeps its complete cells.
* :func:`repair_ids`: nbgrader metadata with a grade id the assignment does not know
  (renamed, or pasted from another assignment) becomes an ordinary cell (nbgrader would
  fail for the whole submission with ``KeyError: 'grade_id'``); cells whose metadata an
  editor stripped get it back by matching their contents to the released notebook, so the
  answers are graded and restored tests land after them, not at the top.

Example:
    >>> nb, notes = read_notebook(b"", where="alice, 01_eda.ipynb")
    >>> nb is None, notes
    (True, ['alice, 01_eda.ipynb: the file is empty; scored 0 (fix: hand in the saved notebook)'])
"""

from __future__ import annotations

import copy
import json

import nbformat
from nbformat import NotebookNode

#: A notebook file larger than this is not graded (outputs that large are a bug or an attack).
MAX_NOTEBOOK_BYTES = 50 * 2**20
#: Lines the released version puts where the student's answer goes (course config stubs).
STUBS = ("# YOUR CODE HERE", "YOUR ANSWER HERE")


def read_notebook(
    data: bytes, *, where: str, template: NotebookNode | None = None
) -> tuple[NotebookNode | None, list[str]]:
    """Parse a submitted file: (notebook, notes), or (None, [why it scores 0]).

    ``template`` (the released notebook) supplies the notebook metadata when a cut-off file
    is salvaged.

    Example:
        >>> nb, notes = read_notebook(b'{"cells": [{"cell_type": "code", "source": "x = 1", '
        ...                           b'"metadata": {}, "outputs": [], "execution_count": 1}, {"ce',
        ...                           where="bob, 01_eda.ipynb")
        >>> [c.source for c in nb.cells], notes[0].split(";")[0]
        (['x = 1'], 'bob, 01_eda.ipynb: the file is cut off (invalid JSON at byte 107)')
    """
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None, [f"{where}: the file is {len(data) / 2**20:.0f} MB, over the "
                      f"{MAX_NOTEBOOK_BYTES // 2**20} MB limit; scored 0 (fix: Edit > Clear all "
                      "outputs, save, hand in again)"]
    if not data.strip():
        return None, [f"{where}: the file is empty; scored 0 (fix: hand in the saved notebook)"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [f"{where}: the file is not a notebook (not UTF-8 text); scored 0 "
                      "(fix: hand in the .ipynb file itself)"]
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        cells = _complete_cells(text)
        if not cells:
            return None, [f"{where}: the file is not valid notebook JSON ({error.msg} at byte "
                          f"{error.pos}) and no complete cell could be read; scored 0 "
                          "(fix: re-download the notebook and hand it in again)"]
        nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(template.metadata) if template else {})
        nb.cells = [_cell(c) for c in cells]
        return nb, [f"{where}: the file is cut off (invalid JSON at byte {error.pos}); graded "
                    f"its {len(cells)} complete cells (fix: re-download and hand in again)"]
    try:
        return nbformat.reads(text, as_version=4), []
    except Exception as error:  # nbformat raises many kinds for a malformed notebook
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        return None, [f"{where}: the file is not a notebook ({first}); scored 0 "
                      "(fix: hand in the .ipynb file that Jupyter or Colab saved)"]


def _complete_cells(text: str) -> list[dict]:
    """The cells of a notebook's JSON that were written out whole before the text breaks."""
    start = text.find('"cells"')
    start = text.find("[", start) + 1 if start >= 0 else 0
    decoder = json.JSONDecoder()
    cells, at = [], start
    while start:
        at = len(text) - len(text[at:].lstrip(" \t\r\n,"))
        try:
            cell, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            break
        if not isinstance(cell, dict) or "cell_type" not in cell:
            break
        cells.append(cell)
    return cells


def _cell(raw: dict) -> NotebookNode:
    """A valid v4 cell from a salvaged cell's JSON."""
    source = raw.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    if raw.get("cell_type") == "code":
        cell = nbformat.v4.new_code_cell(source, metadata=metadata)
        cell.outputs = [nbformat.from_dict(o) for o in raw.get("outputs", [])
                        if isinstance(o, dict) and "output_type" in o]
        return cell
    if raw.get("cell_type") == "markdown":
        return nbformat.v4.new_markdown_cell(source, metadata=metadata)
    return nbformat.v4.new_raw_cell(source, metadata=metadata)


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader grade id, or None."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def repair_ids(nb: NotebookNode, released: NotebookNode, *, where: str) -> list[str]:
    """Make ``nb``'s nbgrader metadata match the ``released`` notebook (in place); notes.

    Example:
        >>> released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert f(1)")])
        >>> released.cells[0].metadata["nbgrader"] = {"grade_id": "test_f", "grade": True,
        ...     "solution": False, "locked": True, "points": 1}
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert f(1)")])
        >>> repair_ids(nb, released, where="carol, 01.ipynb")[0].split(";")[0]
        'carol, 01.ipynb: nbgrader metadata of 1 cell(s) were missing (an editor strips them)'
        >>> grade_id(nb.cells[0])
        'test_f'
    """
    known = {grade_id(c): c for c in released.cells if grade_id(c)}
    notes = []
    for cell in nb.cells:
        if "nbgrader" in cell.metadata and grade_id(cell) not in known:
            name = grade_id(cell)
            del cell.metadata["nbgrader"]
            notes.append(f"{where}: cell `{name}` is not part of this assignment (renamed, or "
                         "pasted from another one); graded as an ordinary cell (fix: copy "
                         "your answer into the assignment's own cell)")
    present = {grade_id(c) for c in nb.cells}
    missing = [c for c in released.cells if grade_id(c) and grade_id(c) not in present]
    restored = _match_by_content(nb, released, {grade_id(c) for c in missing})
    if restored:
        notes.append(f"{where}: nbgrader metadata of {restored} cell(s) were missing (an editor "
                     "strips them); restored by matching the cells' contents (fix: work in "
                     "Jupyter or Colab, which keep them)")
    return notes


def _match_by_content(nb: NotebookNode, released: NotebookNode, wanted: set[str]) -> int:
    """Give cells of ``nb`` without metadata the metadata of the ``wanted`` released cells.

    Locked cells match on identical source, answer cells on the text the released version
    puts before its stub (a function's signature, a question); an answer cell that is only
    a stub takes the last plain cell of the same type between its matched neighbours.
    Order is kept. Returns how many cells got metadata back.
    """
    plain = [i for i, c in enumerate(nb.cells) if "nbgrader" not in c.metadata]
    ids = {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c)}
    where: dict[int, int] = {}  # released index -> nb index, matched here
    placed: dict[int, int] = {}  # the same, and cells that kept their metadata
    at = 0
    for r, cell in enumerate(released.cells):
        if grade_id(cell) in wanted:
            found = next((i for i in plain if i >= at and _same(cell, nb.cells[i])), None)
            if found is not None:
                where[r] = placed[r] = found
                at = found + 1
        elif grade_id(cell) in ids:
            placed[r] = ids[grade_id(cell)]
            at = max(at, placed[r] + 1)
    for r, cell in enumerate(released.cells):
        if grade_id(cell) not in wanted or r in where or not _is_answer(cell):
            continue
        # a stub-only answer: between its placed neighbours (at an end: next to its neighbour)
        low = max((placed[k] for k in placed if k < r), default=None)
        high = min((placed[k] for k in placed if k > r), default=None)
        if low is None and high is not None and r + 1 in placed:
            low = -1
        if high is None and low is not None and r - 1 in placed:
            high = len(nb.cells)
        if low is None or high is None:
            continue
        free = [i for i in plain if low < i < high and i not in where.values() and
                nb.cells[i].cell_type == cell.cell_type]
        if free:
            where[r] = placed[r] = free[-1]
    for r, i in where.items():
        nb.cells[i].metadata["nbgrader"] = copy.deepcopy(released.cells[r].metadata["nbgrader"])
    return len(where)


def _is_answer(cell: NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def _same(released: NotebookNode, cell: NotebookNode) -> bool:
    if released.cell_type != cell.cell_type:
        return False
    if not _is_answer(released):
        return _normal(released.source) == _normal(cell.source)
    before = released.source
    for stub in STUBS:
        before = before.split(stub)[0]
    before = _normal(before)
    return bool(before) and _normal(cell.source).startswith(before)


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())
