"""Heavy cells (tag ``skip-when-grading``) are skipped by nbgrader's validate and autograde
and by the students' self-check.

Real nbgrader and a real kernel on tiny notebooks: a heavy cell that would leave a file
behind must not run while grading; a test cell carrying the tag still runs (a tag never
switches a test off); the graded notebook shows the student's own source again.
"""

from __future__ import annotations

import nbformat
import pytest
from nbgrader.preprocessors import ClearOutput, Execute

from casekit.selfcheck import FAIL, PASS
from casekit.selfcheck import run as self_check
from casekit_course.config import load_config
from casekit_course.grading import validate
from casekit_course.heavy import (
    SKIP_TAG,
    SKIPPED_NOTE,
    RestoreHeavyCells,
    SkipHeavyCells,
    with_heavy_cells_skipped,
)
from casekit_course.kernel import notebook_environment


def _notebook(folder, marker):
    """An answer; a heavy plain cell and a heavy answer cell (each would write ``marker``);
    a locked set-up cell and a test cell, both tagged heavy (they must run); a plain test."""
    def cell(source, tags=(), **nbgrader):
        c = nbformat.v4.new_code_cell(source)
        if tags:
            c.metadata["tags"] = list(tags)
        if nbgrader:
            c.metadata["nbgrader"] = {"schema_version": 3, "locked": False, **nbgrader}
        return c

    write = f"open({str(marker)!r}, 'a').write('trained')"
    nb = nbformat.v4.new_notebook(cells=[
        cell("def double(x):\n    return 2 * x", solution=True, grade=False,
             grade_id="double"),
        cell(write, tags=[SKIP_TAG]),
        cell(write, tags=[SKIP_TAG], solution=True, grade=False, grade_id="train"),
        cell("x = 2", tags=[SKIP_TAG], solution=False, grade=False, grade_id="setup_x",
             locked=True),
        cell("assert double(2) == 5, 'a tagged test still runs'", tags=[SKIP_TAG],
             solution=False, grade=True, grade_id="test_tagged", points=1, locked=True),
        cell("assert double(x) == 4, 'twice x'", solution=False, grade=True,
             grade_id="test_double", points=1, locked=True),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "heavy.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_chain_skips_just_around_the_executing_preprocessor():
    chain = with_heavy_cells_skipped([ClearOutput, Execute, ClearOutput])
    assert chain == [ClearOutput, SkipHeavyCells, Execute, RestoreHeavyCells, ClearOutput]
    with pytest.raises(ValueError, match="no Execute preprocessor"):
        with_heavy_cells_skipped([ClearOutput])
    chain = load_config().Autograde.autograde_preprocessors  # nbgrader_config.py's
    at = chain.index(SkipHeavyCells)
    assert issubclass(chain[at + 1], Execute) and chain[at + 2] is RestoreHeavyCells


def test_validate_skips_a_heavy_cell_but_never_a_tagged_test(tmp_path):
    marker = tmp_path / "trained.txt"
    result = validate(_notebook(tmp_path, marker), ignore_checksums=True)
    assert not marker.exists(), "the heavy cell ran while grading"
    assert result.passed == ["test_double"]
    assert list(result.failed) == ["test_tagged"]
    assert "a tagged test still runs" in result.failed["test_tagged"]


def test_the_graded_notebook_shows_the_students_source_and_the_note(tmp_path):
    marker = tmp_path / "trained.txt"
    nb = nbformat.read(_notebook(tmp_path, marker), as_version=4)
    sources = [c.source for c in nb.cells]
    resources = {"metadata": {"path": str(tmp_path)}}
    with notebook_environment():
        for preprocessor in (SkipHeavyCells, Execute, RestoreHeavyCells):
            nb, resources = preprocessor(config=load_config()).preprocess(nb, resources)
    assert not marker.exists()
    assert [c.source for c in nb.cells] == sources, "every source as the student wrote it"
    assert nb.cells[1].outputs[0].text == SKIPPED_NOTE + "\n"
    assert nb.cells[2].outputs[0].text == SKIPPED_NOTE + "\n", "an answer cell can be heavy"
    assert all("casekit_skipped_source" not in c.metadata for c in nb.cells)


def test_the_self_check_skips_heavy_cells_too(tmp_path):
    marker = tmp_path / "trained.txt"
    path = _notebook(tmp_path, marker)
    report = self_check(path)
    assert not marker.exists(), "the self-check trained the model"
    assert {c.grade_id: c.status for c in report.checks} == {"test_tagged": FAIL,
                                                             "test_double": PASS}
