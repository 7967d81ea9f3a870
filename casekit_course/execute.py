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

import os
from pathlib import Path

import papermill

from casekit_course.kernel import KERNEL_NAME, notebook_environment

#: Parameters for a quick run on synthetic data (tests): every notebook accepts these names.
QUICK_PARAMETERS = {"DATA": "synthetic", "N_IMAGES": 200, "IMAGE_SIZE": 32,
                    "EPOCHS_HEAD": 1, "EPOCHS_FINETUNE": 1, "BATCH_SIZE": 32, "N_BOOT": 100}

#: Parameters of ``casekit-course demo``: still synthetic, a bit larger; the whole demo ≤ 6 minutes on
#: 2 cores (05 cross-validates on 3 folds instead of 5 there).
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
    parameter" warnings. Raises papermill's ``PapermillExecutionError`` naming the failing
    cell; ``out`` then holds the outputs up to the failure. ``timeout`` is per cell, in
    seconds. The kernel runs in ``cwd`` (default: the notebook's folder).
    """
    notebook, out = Path(notebook), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    declared = papermill.inspect_notebook(str(notebook))
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
