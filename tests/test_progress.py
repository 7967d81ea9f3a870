"""casekit.progress: one text progress bar, readable without a widget front end."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from casekit.progress import tqdm

PACKAGE = Path(__file__).resolve().parents[1] / "casekit"


def test_text_bar_off_a_terminal():
    stream = io.StringIO()  # like papermill's captured stderr: not a terminal
    with tqdm(range(5), desc="cache", file=stream) as bar:
        assert bar.mininterval == 1.0 and not bar.dynamic_ncols
        for _ in bar:
            pass
    text = stream.getvalue()
    assert "cache: 100%|" in text and "5/5" in text
    assert "Output()" not in text and "HBox" not in text  # no widget repr


def test_casekit_uses_only_its_own_bar():
    direct = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
              if path.name != "progress.py" and re.search(r"^\s*(from|import) tqdm",
                                                           path.read_text(encoding="utf-8"), re.M)]
    assert direct == []


@pytest.mark.slow
def test_bar_in_an_executed_notebook_is_text_not_a_frozen_widget():
    """As papermill/nbgrader run notebooks: a real kernel, no widget front end."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from casekit.progress import tqdm\nfor _ in tqdm(range(50), desc='decode'):\n    pass")])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert all(output.output_type == "stream" for output in outputs)  # no widget view
    text = "".join(output.text for output in outputs)
    assert "decode: 100%|" in text and "50/50" in text
