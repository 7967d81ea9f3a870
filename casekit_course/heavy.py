"""Skip the heavy cells (training, long evaluations) while nbgrader validates or autogrades.

A notebook marks a cell as heavy with the cell tag ``skip-when-grading`` (JupyterLab: the
property inspector; Colab keeps tags it did not write). Students' code then needs no
``if GRADING:`` branch: while grading, :class:`SkipHeavyCells` (just before the executing
preprocessor) swaps the cell's source for one line that prints why it was skipped, and
:class:`RestoreHeavyCells` (just after it) puts the student's source back, so the graded
notebook and the feedback show what the student wrote, with the note as its output.

The tag and the test for it live in :mod:`casekit.graded` (the self-check skips the same
cells). Plain cells and students' answer cells are skipped; a test cell or a locked cell
always runs, whatever its tags, so a tag can never switch a test or its set-up off. Cells
after a skipped one must not need what it computed (they use a reference run instead).

Example (``nbgrader_config.py``):
    >>> from casekit_course.heavy import with_heavy_cells_skipped
    >>> from nbgrader.preprocessors import ClearOutput, Execute
    >>> [p.__name__ for p in with_heavy_cells_skipped([ClearOutput, Execute])]
    ['ClearOutput', 'SkipHeavyCells', 'Execute', 'RestoreHeavyCells']
"""

from __future__ import annotations

from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from casekit.graded import SKIP_TAG, is_heavy

#: What a skipped cell prints while grading.
SKIPPED_NOTE = f"Skipped while grading (this cell is tagged {SKIP_TAG})."
_KEY = "casekit_skipped_source"  # where the student's source waits during execution


class SkipHeavyCells(NbGraderPreprocessor):
    """Before execution: a heavy cell's source becomes ``print(SKIPPED_NOTE)``."""

    def preprocess_cell(self, cell, resources, index):
        if is_heavy(cell):
            cell.metadata[_KEY] = cell.source
            cell.source = f"print({SKIPPED_NOTE!r})"
        return cell, resources


class RestoreHeavyCells(NbGraderPreprocessor):
    """After execution: a skipped cell gets its own source back (its output is the note)."""

    def preprocess_cell(self, cell, resources, index):
        if _KEY in cell.metadata:
            cell.source = cell.metadata.pop(_KEY)
        return cell, resources


def with_heavy_cells_skipped(chain: list[type]) -> list[type]:
    """``chain`` with :class:`SkipHeavyCells` before its executing preprocessor (nbgrader's
    ``Execute`` or a subclass) and :class:`RestoreHeavyCells` right after it.

    Raises:
        ValueError: ``chain`` executes nothing.
    """
    at = next((i for i, p in enumerate(chain) if issubclass(p, Execute)), None)
    if at is None:
        raise ValueError(f"no Execute preprocessor in {[p.__name__ for p in chain]}")
    return [*chain[:at], SkipHeavyCells, chain[at], RestoreHeavyCells, *chain[at + 1:]]
