"""The notebook runner refuses parameters papermill cannot set, naming them and their line."""

from __future__ import annotations

import json

import nbformat
import pytest

from casekit_course.execute import ParameterError, execute

PARAMETERS_CELL = """# Parameters
EPOCHS_HEAD = EPOCHS_FINETUNE = 5  # both stages
IMAGE_SIZE: int | None = 224
SEED = 0
"""


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "language": "python", "display_name": "Python 3"}})
    cell = nbformat.v4.new_code_cell(PARAMETERS_CELL)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(
        "import json; print(json.dumps([SEED, EPOCHS_HEAD, IMAGE_SIZE]))")]
    path = tmp_path / "params.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(("name", "line"), [
    ("EPOCHS_FINETUNE", "line 2 of the parameters cell, 'EPOCHS_HEAD = EPOCHS_FINETUNE = 5"),
    ("IMAGE_SIZE", "line 3 of the parameters cell, 'IMAGE_SIZE: int | None = 224'"),
])
def test_a_parameter_papermill_would_drop_is_an_error(notebook, tmp_path, name, line):
    with pytest.raises(ParameterError) as refused:
        execute(notebook, tmp_path / "out.ipynb", {"SEED": 1, name: 64})
    message = str(refused.value)
    assert message.startswith(f"params.ipynb: parameter {name} cannot be set by papermill")
    assert line in message and f"Write `{name} = ...` on a line of its own" in message
    assert not (tmp_path / "out.ipynb").exists()


def test_plain_parameters_are_injected_and_unknown_ones_ignored(notebook, tmp_path):
    out = execute(notebook, tmp_path / "out.ipynb", {"SEED": 7, "N_BOOT": 10})
    printed = nbformat.read(out, as_version=4).cells[-1].outputs[0]["text"]
    assert json.loads(printed) == [7, 5, 224]
