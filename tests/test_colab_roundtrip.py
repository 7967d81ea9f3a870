"""A submission saved by Google Colab autogrades exactly like the original, even tampered.

The class built in tests/_grading_class.py autogrades, per assignment, mutant1's notebook
(wrong answers in several exercises) and then that notebook as nbgrader returned it
(executed, outputs kept) converted by :func:`_colab_notebook.to_colab` into what
Colab saves, with a test cell deleted, a locked test cell rewritten to ``pass`` (both in
exercises with a wrong answer: only the restored instructor tests can take the points away)
and a locked test cell of a correct exercise rewritten to fail. Both must get the same
grades, cell for cell. (tests/test_course.py already grades a lightly Colab-like copy of the
full solution; the format itself is checked on a small notebook below.)
"""

from __future__ import annotations

import json

import nbformat
import pytest
from _colab_notebook import colab_id, save_as_colab, to_colab
from _grading_class import COLAB_SOURCE, ROOT, graded_class, per_assignment

from casekit_course.mutants import mark_visible_tests


def _executed_copy(tmp_path):
    """A small finished notebook: two code cells with outputs, nbgrader metadata, ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    answer = nbformat.v4.new_code_cell("def f():\n    return 1\nprint('a\\nb')")
    answer.metadata.update({"deletable": False, "editable": True, "tags": ["x"],
                            "nbgrader": {"grade_id": "f", "solution": True, "grade": False,
                                         "locked": False, "schema_version": 3}})
    answer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\nb\n")]
    answer.execution_count = 1
    figure = nbformat.v4.new_code_cell("f()")
    figure.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1\n2",
                                                                     "application/json": {"k": 1}},
                                             execution_count=2)]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), answer, figure]
    path = tmp_path / "finished.ipynb"
    nbformat.write(nb, path)
    return path


def test_to_colab_writes_what_colab_saves(tmp_path):
    source = _executed_copy(tmp_path)
    target = save_as_colab(source, tmp_path / "colab.ipynb", gpu=True, link_cell=True)
    raw = json.loads(target.read_text(encoding="utf-8"))
    assert list(raw) == ["nbformat", "nbformat_minor", "metadata", "cells"]
    assert (raw["nbformat"], raw["nbformat_minor"]) == (4, 0)
    assert raw["metadata"] == {
        "colab": {"name": "finished.ipynb", "provenance": [], "gpuType": "T4",
                  "include_colab_link": True},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"}, "accelerator": "GPU"}
    link, title, answer, figure = raw["cells"]
    assert link["metadata"] == {"id": "view-in-github", "colab_type": "text"}
    assert all("id" not in cell for cell in raw["cells"]), "nbformat 4.0 has no cell ids"
    ids = [cell["metadata"]["id"] for cell in (title, answer, figure)]
    assert all(len(i) == 12 for i in ids) and len(set(ids)) == 3
    assert "deletable" not in answer["metadata"] and "editable" not in answer["metadata"]
    assert answer["metadata"]["nbgrader"]["grade_id"] == "f" and answer["metadata"]["tags"] == ["x"]
    assert answer["metadata"]["colab"] == {"base_uri": "https://localhost:8080/"}
    assert len(answer["metadata"]["outputId"]) == 36
    assert answer["source"] == ["def f():\n", "    return 1\n", "print('a\\nb')"]
    assert answer["outputs"][0]["text"] == ["a\n", "b\n"], "outputs kept, split in lines"
    assert figure["outputs"][0]["data"] == {"text/plain": ["1\n", "2"],
                                            "application/json": {"k": 1}}
    assert "colab" not in title["metadata"], "only code cells with outputs get Colab's keys"
    nbformat.validate(nbformat.reads(target.read_text(encoding="utf-8"), as_version=4))
    again = to_colab(json.loads(source.read_text(encoding="utf-8")), "finished.ipynb",
                     gpu=True, link_cell=True)
    assert again == raw, "reproducible: ids come from the seed"


def test_colab_ids_look_like_colab_ids():
    import random

    ids = {colab_id(random.Random(seed)) for seed in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 12 and i.replace("-", "").replace("_", "").isalnum() for i in ids)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_colab_copy_grades_exactly_like_the_original(assignment, tmp_path_factory):
    graded = graded_class(assignment, tmp_path_factory)
    original = graded.mutation.autograde.students[COLAB_SOURCE].grades
    assert graded.colab == original
    submitted = sorted((graded.course / "submitted" / "colab" / assignment).glob("*.ipynb"))
    raw = json.loads(submitted[0].read_text(encoding="utf-8"))
    assert raw["nbformat_minor"] == 0 and "metadata" in raw and "colab" in raw["metadata"]
    assert any(cell.get("outputs") for cell in raw["cells"]), "a finished notebook, outputs kept"
    assert any(s.auto_score == 0 for s in original.values() if s.kind == "auto"), \
        "the copy carries wrong answers: equal grades are not just full marks"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", per_assignment())
def test_autograde_restores_deleted_and_edited_test_cells_of_a_colab_copy(
        assignment, tmp_path_factory):
    graded = graded_class(assignment, tmp_path_factory)
    original = graded.mutation.autograde.students[COLAB_SOURCE].grades
    tampered = graded.colab
    t = graded.tampering
    assert original[t.deleted].auto_score == 0 and original[t.passed].auto_score == 0, \
        "the tampered cells hide wrong answers: only restored tests can fail them"
    assert original[t.broken].auto_score == original[t.broken].max_score
    assert tampered == original
    autograded = graded.course / "autograded" / "colab" / assignment
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
               for path in sorted(autograded.glob("*.ipynb"))
               for c in nbformat.read(path, as_version=4).cells}
    instructor = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source  # as graded there
                  for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb"))
                  for c in mark_visible_tests(nbformat.read(path, as_version=4)).cells}
    for grade_id in (t.passed, t.broken):
        assert sources[grade_id] == instructor[grade_id], f"{grade_id} restored from the gradebook"
    note = f"# This cell (id:{t.deleted}) was missing from the submission. It was added back"
    assert sources[t.deleted].startswith(note), "nbgrader re-inserts the deleted cell and says so"
    assert sources[t.deleted].endswith(instructor[t.deleted])
