"""``casekit-course demo``: the whole case study end to end on the embedded synthetic data.

Executes every solution notebook in order with papermill (EDA → binary → six-class →
evaluation → …) and prints exactly one line per notebook, then a three-line summary: what
ran, where the results document is, and the headline numbers. Synthetic data and image
caches go to ``<out>/data`` (unless ``CASEKIT_DATA`` is set). The executed notebooks are
the *instructor's* (solutions and hidden tests included): they are written to
``<out>/instructor_notebooks/``, each opening with a cell that says so, beside a README
that says not to share them. Training runs and the results document go to ``<out>/runs/``;
what the kernels print to their own stderr goes to ``<out>/kernels.log``.
``data_only=True`` runs just the data pipeline (generate → load → split → cache → summary).

Quiet by default: each notebook receives only the parameters it declares
(:func:`casekit_course.execute.execute`), the kernels start with TensorFlow's start-up
banners off, without ipykernel's transport warning and with the self-check cell silent (no
student here). Warnings from casekit itself are never hidden.

Example:
    >>> from casekit_course.demo import run_demo   # doctest: +SKIP
    >>> run_demo("outputs/demo")   # doctest: +SKIP
    [demo] 1/5 01_eda.ipynb … done in 41 s
    ...
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from casekit.datasets.registry import REGISTRY, get_spec
from casekit.io import write_text_atomic
from casekit.logs import quiet_third_party
from casekit.pipeline import Prepared, prepare
from casekit.splits import split_summary
from casekit_course.logs import stderr_to_log
from casekit_course.split_files import save_splits

NOTEBOOKS = "instructor_notebooks"
#: What the kernels write to their own stderr (TensorFlow's C++ log, ipykernel's shutdown
#: messages) is appended here, inside ``out``, instead of cluttering the console.
KERNEL_LOG = "kernels.log"
INSTRUCTOR_NOTE = (
    "**Instructor material: do not share with students or publish.** This is a copy of "
    "`{source}` executed by `casekit-course demo`: it contains the solutions, hidden tests and "
    "mark schemes. Students get the release in `notebooks/` (`casekit-course publish`)."
)


def data_summary(prepared: Prepared) -> dict:
    """Counts that a person checks before training: images, groups, classes per split."""
    spec = get_spec(prepared.name)
    return {
        "dataset": prepared.name,
        "synthetic": prepared.synthetic,
        "root": str(prepared.root),
        "images": int(len(prepared.df)),
        "groups": int(prepared.df["group_id"].nunique()),
        "group_column": spec.group_column,
        "cancer_share": round(float(prepared.df["target_binary"].mean()), 4),
        "cache": {"path": str(prepared.cache.path), "size": prepared.cache.size,
                  "shape": list(prepared.cache.images.shape)},
        "splits": json.loads(split_summary(prepared.df).to_json(orient="index")),
    }


def run_data_pipeline(out: Path, size: int = 64, n_images: int | None = None) -> list[Path]:
    """Prepare every dataset's synthetic copy at ``size`` px; write ``<name>_summary.json``
    (:func:`data_summary`) and ``<name>_splits.csv`` (reads back with
    ``casekit_course.split_files.load_splits``) to ``out``; return the summary paths."""
    written = []
    for name in sorted(REGISTRY):
        start = time.perf_counter()
        prepared = prepare(name, size=size, n_images=n_images)
        summary = data_summary(prepared)
        save_splits(prepared.df, out / f"{name}_splits.csv")
        path = write_text_atomic(out / f"{name}_summary.json", json.dumps(summary, indent=2))
        splits = ", ".join(f"{split} {row['images']}" for split, row in summary["splits"].items())
        print(f"[demo] {name} (synthetic): {summary['images']} images, {summary['groups']} "
              f"groups ({splits}), cached at {size}px in {time.perf_counter() - start:.1f}s "
              f"→ {path}", flush=True)
        written.append(path)
    return written


def run_notebooks(out: Path, parameters: dict, root: str | os.PathLike[str] | None = None
                  ) -> list[Path]:
    """Execute every solution notebook of the course at ``root`` in order; return the copies.

    Each notebook gets the entries of ``parameters`` its parameters cell declares. Runs go
    to ``out/runs``; the executed copies to ``out/instructor_notebooks``, labelled as
    instructor material. Raises RuntimeError naming the notebook and its error if one fails.
    """
    try:
        import nbformat
        from papermill.exceptions import PapermillExecutionError

        from casekit_course import assignment_notebooks, find_assignments
        from casekit_course.execute import execute
    except ImportError as error:  # papermill / nbgrader are the "course" extra
        raise RuntimeError(
            f"the demo executes notebooks and needs the course tools ({error.name} is "
            "missing): pip install -e '.[tf,course]' (or run `make demo`)"
        ) from error
    os.environ["CASEKIT_RUNS"] = str((out / "runs").resolve())
    os.environ["CASEKIT_SELFCHECK"] = "off"  # the notebooks' self-check cell: no student here
    folder = out / NOTEBOOKS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(
        "# Instructor material: do not share\n\nExecuted copies of the solution notebooks "
        "(solutions, hidden tests, mark schemes), written by `casekit-course demo`.\n",
        encoding="utf-8")
    notebooks = [nb for a in find_assignments(root) for nb in assignment_notebooks(a, root)]
    executed = []
    for i, notebook in enumerate(notebooks, start=1):
        start = time.perf_counter()
        print(f"[demo] {i}/{len(notebooks)} {notebook.name} … ", end="", flush=True)
        target = folder / notebook.name
        try:
            with stderr_to_log(out / KERNEL_LOG):
                execute(notebook, target, parameters)
        except PapermillExecutionError as error:
            print("FAILED", flush=True)
            raise RuntimeError(f"{notebook.name} failed in cell {error.exec_count}: "
                               f"{error.ename}: {error.evalue} (executed copy: {target}; "
                               f"kernel log: {out / KERNEL_LOG})") from None
        nb = nbformat.read(target, as_version=4)
        source = notebook.relative_to(notebook.parents[2]).as_posix()
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(INSTRUCTOR_NOTE.format(source=source)))
        nbformat.write(nb, target)
        print(f"done in {time.perf_counter() - start:.0f} s", flush=True)
        executed.append(target)
    return executed


def headline(runs: Path) -> list[str]:
    """Headline numbers of the runs in ``runs`` on their test split, e.g.
    ``["binary test AUROC 0.71"]``: AUROC for binary runs, balanced accuracy for multiclass."""
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    from casekit.runs import RUN_FILE, load_run

    numbers = []
    for info_path in sorted(runs.glob(f"*/{RUN_FILE}")):
        try:
            run = load_run(info_path.parent)
        except (OSError, ValueError):
            continue
        test = run.predictions[run.predictions["split"] == "test"]
        if test.empty or test["y_true"].nunique() < 2:
            continue
        name = run.path.name
        scores = test[run.score_columns()].to_numpy()
        if run.info["task"] == "binary":
            numbers.append(f"{name} test AUROC {roc_auc_score(test['y_true'], scores[:, 0]):.2f}")
        else:
            numbers.append(f"{name} test balanced accuracy "
                           f"{balanced_accuracy_score(test['y_true'], scores.argmax(axis=1)):.2f}")
    return numbers


def run_demo(out: str | Path, size: int | None = None, n_images: int | None = None,
             data_only: bool = False, root: str | os.PathLike[str] | None = None) -> dict:
    """Run the demo into ``out``; return what it wrote.

    ``size`` and ``n_images`` override the demo's image size (64 px) and images per dataset;
    ``root`` is the course (default: this repository).
    """
    quiet_third_party()
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # "Task was destroyed" at exit
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # the demo's synthetic data and image caches stay in `out` (make clean removes them)
    os.environ.setdefault("CASEKIT_DATA", str((out / "data").resolve()))
    started = time.perf_counter()
    if data_only:
        summaries = run_data_pipeline(out, size or 64, n_images)
        print(f"[demo] data pipeline done in {time.perf_counter() - started:.0f} s on synthetic "
              f"data: summaries in {out}", flush=True)
        return {"summaries": [str(p) for p in summaries]}
    from casekit_course.execute import DEMO_PARAMETERS

    overrides = {"IMAGE_SIZE": size, "N_IMAGES": n_images}
    parameters = {**DEMO_PARAMETERS, **{k: v for k, v in overrides.items() if v}}
    notebooks = run_notebooks(out, parameters, root)
    reports = sorted((out / "runs").rglob("results.html"))
    minutes = (time.perf_counter() - started) / 60
    print(f"[demo] ran {len(notebooks)} notebooks in {minutes:.1f} min on synthetic data "
          f"({parameters['N_IMAGES']} images, {parameters['IMAGE_SIZE']} px); executed copies "
          f"(instructor material: solutions inside) in {out / NOTEBOOKS}", flush=True)
    print(f"[demo] results document: {reports[0] if reports else 'none was written'}",
          flush=True)
    numbers = headline(out / "runs")
    print("[demo] headline (synthetic data: they show the pipeline works, nothing about skin): "
          + ("; ".join(numbers) if numbers else "no run with a test split"), flush=True)
    return {"notebooks": [str(p) for p in notebooks],
            "results_documents": [str(p) for p in reports], "headline": numbers}
