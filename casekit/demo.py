"""``casekit demo``: the whole case study end to end on the embedded synthetic data.

Executes the four solution notebooks in order with papermill (EDA → binary → six-class →
evaluation), one progress line per notebook, and writes the executed notebooks, the
training runs and the generated results document to the output folder. ``data_only=True``
runs just the data pipeline (generate → load → split → cache → summary) for both datasets.

Example:
    >>> from casekit.demo import run_demo   # doctest: +SKIP
    >>> run_demo("outputs/demo")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from casekit.datasets.registry import REGISTRY
from casekit.pipeline import prepare, write_summary


def run_data_pipeline(out: Path, size: int = 64, n_images: int | None = None) -> list[Path]:
    """Prepare every dataset's synthetic copy at ``size`` px; return the summary paths."""
    written = []
    for name in sorted(REGISTRY):
        start = time.perf_counter()
        print(f"[demo] {name}: generate → load → split → cache ({size}px)", flush=True)
        prepared = prepare(name, size=size, n_images=n_images)
        path = write_summary(prepared, out)
        summary = prepared.summary()
        splits = ", ".join(f"{split} {row['images']}" for split, row in summary["splits"].items())
        print(f"[demo] {name}: {summary['images']} images, {summary['groups']} groups "
              f"({splits}) in {time.perf_counter() - start:.1f}s → {path}", flush=True)
        written.append(path)
    return written


def run_notebooks(out: Path, parameters: dict) -> list[Path]:
    """Execute every solution notebook in order into ``out/notebooks``; return their paths.

    Training runs (and the results document inside them) go to ``out/runs``.
    """
    try:
        from casekit.course import assignment_notebooks, find_assignments
        from casekit.course.execute import execute
    except ImportError as error:  # papermill / nbgrader are the "course" extra
        raise RuntimeError(
            f"the demo executes notebooks and needs the course tools ({error.name} is "
            "missing): pip install -e '.[tf,course]' (or run `make demo`)"
        ) from error
    os.environ["CASEKIT_RUNS"] = str((out / "runs").resolve())
    executed = []
    notebooks = [nb for a in find_assignments() for nb in assignment_notebooks(a)]
    for i, notebook in enumerate(notebooks, start=1):
        start = time.perf_counter()
        print(f"[demo] {i}/{len(notebooks)} {notebook.name}: running …", flush=True)
        executed.append(execute(notebook, out / "notebooks" / notebook.name, parameters))
        print(f"[demo] {i}/{len(notebooks)} {notebook.name}: done in "
              f"{time.perf_counter() - start:.0f}s", flush=True)
    return executed


def run_demo(out: str | Path, size: int | None = None, n_images: int | None = None,
             data_only: bool = False) -> dict:
    """Run the demo into ``out``; return what it wrote (also printed as JSON).

    ``size`` and ``n_images`` override the demo's image size (64 px) and images per dataset.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if data_only:
        summaries = run_data_pipeline(out, size or 64, n_images)
        written = {"summaries": [str(p) for p in summaries]}
    else:
        from casekit.course.execute import DEMO_PARAMETERS

        overrides = {"IMAGE_SIZE": size, "N_IMAGES": n_images}
        parameters = {**DEMO_PARAMETERS, **{k: v for k, v in overrides.items() if v}}
        notebooks = run_notebooks(out, parameters)
        reports = sorted((out / "runs").glob("*/report/results.html"))
        written = {"notebooks": [str(p) for p in notebooks],
                   "results_documents": [str(p) for p in reports]}
    written["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(written, indent=2))
    return written
