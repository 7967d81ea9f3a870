"""What the grading sandbox costs when a kernel starts: ``python -m casekit_course.bench.sandbox``.

Starts a kernel, runs one cell (``import casekit``) and shuts it down, ``--repeats`` times
with each sandbox kind in turn (so both see the same load on the machine), through
:class:`casekit_course.guard.GuardedExecute` as the grader does. Prints the median seconds
per kernel for each kind, then a JSON line with ``overhead_s`` (bwrap minus none) and the
``ratio`` (bwrap / none).

Example:
    python -m casekit_course.bench.sandbox --repeats 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import nbformat

from casekit_course.guard import GuardedExecute
from casekit_course.kernel import notebook_environment
from casekit_course.sandbox import Limits, find_sandbox, sandbox_config


def kernel_seconds(kind: str, folder: str) -> float:
    """Seconds to start a kernel in sandbox ``kind``, run one small cell, and stop it."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import casekit")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    executor = GuardedExecute(config=sandbox_config(find_sandbox(kind), Limits()))
    started = time.perf_counter()
    nb, _ = executor.preprocess(nb, {"metadata": {"path": folder}})
    seconds = time.perf_counter() - started
    if nb.cells[0].outputs:
        raise RuntimeError(f"the cell failed in sandbox {kind}: {nb.cells[0].outputs}")
    return seconds


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark; print and return the medians, overhead and ratio."""
    parser = argparse.ArgumentParser(prog="python -m casekit_course.bench.sandbox",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="kernels per sandbox kind")
    args = parser.parse_args(argv)
    kinds = ("none", "bwrap")
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    with notebook_environment(), tempfile.TemporaryDirectory() as folder:
        for kind in kinds:  # warm-up: first imports fill the page cache
            kernel_seconds(kind, folder)
        for _ in range(args.repeats):
            for kind in kinds:
                times[kind].append(kernel_seconds(kind, folder))
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind in kinds:
        print(f"{kind:>6}: median {medians[kind]:.2f} s per kernel "
              f"({', '.join(f'{t:.2f}' for t in times[kind])})")
    result = {f"{kind}_s": round(medians[kind], 3) for kind in kinds}
    result["overhead_s"] = round(medians["bwrap"] - medians["none"], 3)
    result["ratio"] = round(medians["bwrap"] / medians["none"], 3)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
