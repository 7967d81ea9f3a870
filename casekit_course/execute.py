"""Run a course notebook top to bottom with papermill, with this environment's Python.

Parameters go into the cell tagged ``parameters`` (papermill injects a cell after it),
so the same notebook runs on synthetic data in CI and on the real data in class.

Example:
    >>> import tempfile
    >>> from casekit_course.execute import execute
    >>> out = execute("solutions/01_eda/01_eda.ipynb", tempfile.mkdtemp() + "/eda.ipynb",
    ...               {"DATA": "synthetic"})
    >>> out.name
    'eda.ipynb'
"""

from __future__ import annotations

import ast
import os
from collections.abc import Container, Mapping
from pathlib import Path

import nbformat
import papermill

from casekit_course.kernel import KERNEL_NAME, notebook_environment

#: Parameters for a quick run on synthetic data (tests): every notebook accepts these names.
QUICK_PARAMETERS = {"DATA": "synthetic", "N_IMAGES": 200, "IMAGE_SIZE": 32,
                    "EPOCHS_HEAD": 1, "EPOCHS_FINETUNE": 1, "BATCH_SIZE": 32, "N_BOOT": 100}

#: Parameters of ``casekit-course demo``: still synthetic, a bit larger; the whole demo ≤ 6 minutes
#: on 2 cores (05 cross-validates on 3 folds instead of 5 there).
DEMO_PARAMETERS = {**QUICK_PARAMETERS, "N_IMAGES": 600, "IMAGE_SIZE": 64,
                   "EPOCHS_HEAD": 3, "EPOCHS_FINETUNE": 2, "N_BOOT": 500, "N_FOLDS": 3}


def execute(
    notebook: str | os.PathLike[str],
    out: str | os.PathLike[str],
    parameters: dict | None = None,
    timeout: float | None = 600,
    cwd: str | os.PathLike[str] | None = None,
) -> Path:
    """Execute ``notebook`` into ``out`` (outputs included); return ``out``.

    Only the entries of ``parameters`` that the notebook's parameters cell declares are
    passed, so one dictionary serves every notebook without papermill's "Passed unknown
    parameter" warnings. A parameter it passes must be one papermill can set: an
    assignment papermill cannot parse (``A = B = 5``, ``SIZE: int | None = 224``) raises
    :class:`ParameterError` naming it and its line, rather than running with the default.
    Raises papermill's ``PapermillExecutionError`` naming the failing
    cell; ``out`` then holds the outputs up to the failure. ``timeout`` is per cell, in
    seconds. The kernel runs in ``cwd`` (default: the notebook's folder).
    """
    notebook, out = Path(notebook), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    declared = papermill.inspect_notebook(str(notebook))
    check_parameters(notebook, parameters or {}, declared)
    with notebook_environment():
        papermill.execute_notebook(
            str(notebook),
            str(out),
            parameters={k: v for k, v in (parameters or {}).items() if k in declared},
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            cwd=str(cwd or notebook.parent),
            execution_timeout=timeout,
        )
    return out


class ParameterError(ValueError):
    """A parameter was passed that papermill cannot set in the notebook's parameters cell."""


def check_parameters(notebook: Path, parameters: Mapping[str, object],
                     declared: Container[str]) -> None:
    """Refuse a passed parameter that the parameters cell assigns in a form papermill skips.

    papermill reads one ``NAME = value`` per line and silently ignores other lines
    (papermill #864), so an override of such a name would be dropped without a word.

    Raises:
        ParameterError: naming the notebook, the parameter, its line and the fix.
    """
    cells = [cell for cell in nbformat.read(notebook, as_version=4).cells
             if "parameters" in cell.get("metadata", {}).get("tags", [])]
    source = cells[0].source if cells else ""
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        for name in names:
            if name in parameters and name not in declared:
                raise ParameterError(
                    f"{notebook.name}: parameter {name} cannot be set by papermill: line "
                    f"{node.lineno} of the parameters cell, {lines[node.lineno - 1].strip()!r}, "
                    f"is not a plain `NAME = value` line. Write `{name} = ...` on a line of "
                    "its own, without a type annotation.")
