"""How long autograding takes: seconds per submitted notebook, and a 200-student class.

``python -m casekit_course.bench.grading`` builds a throw-away course per assignment (the real
``nbgrader_config.py``), submits ``--copies`` copies of the full solution notebook and
autogrades them twice: one after another in this process (nbgrader's own way, timed per
notebook), then with :func:`casekit_course.autograde_parallel` on ``--jobs`` processes (the
recipe of docs/INSTRUCTOR_GUIDE.md). It prints seconds per notebook, the parallel speed-up
and what a class of ``--class-size`` students would take each way; the last line is JSON.

Solutions score full marks, so every test runs to its end: a class's notebooks take about
as long. The goal on 2 CPU cores is at most 30 s per notebook.

Example:
    python -m casekit_course.bench.grading --copies 4 --jobs 2
    python -m casekit_course.bench.grading --assignment 01_eda --copies 8 --jobs 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from casekit.progress import tqdm
from casekit_course import assignment_notebooks, autograde_parallel, find_assignments
from casekit_course.grading import read_grades
from casekit_course.steps import autograde, generate_assignment, make_course


def bench_assignment(
    assignment: str, copies: int, jobs: int, workdir: Path, class_size: int = 200
) -> dict:
    """Autograde ``copies`` solutions serially and in parallel; return the timings."""
    course = make_course(workdir / assignment, [assignment])
    started = time.perf_counter()
    generate_assignment(course, assignment)
    generate = time.perf_counter() - started
    students = [f"student{i:03d}" for i in range(copies)]
    for student in students:
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for notebook in assignment_notebooks(assignment):
            (folder / notebook.name).write_bytes(notebook.read_bytes())
    serial = []
    for student in tqdm(students, desc=f"{assignment} serial", leave=False):
        started = time.perf_counter()
        autograde(course, assignment, student)
        serial.append(time.perf_counter() - started)
    full = all(g.auto_score == g.max_score for s in students
               for g in read_grades(course, assignment, s).values() if g.kind == "auto")
    started = time.perf_counter()
    autograde_parallel(assignment, jobs=jobs, students=students, root=course)
    parallel = time.perf_counter() - started
    per_notebook = statistics.median(serial) / len(assignment_notebooks(assignment))
    speedup = sum(serial) / parallel
    return {
        "assignment": assignment, "copies": copies, "jobs": jobs, "cpus": os.cpu_count(),
        "generate_s": round(generate, 1), "serial_median_s": round(statistics.median(serial), 1),
        "serial_max_s": round(max(serial), 1), "per_notebook_s": round(per_notebook, 1),
        "parallel_wall_s": round(parallel, 1), "speedup": round(speedup, 2),
        "class_size": class_size,
        "class_serial_min": round(class_size * statistics.median(serial) / 60, 1),
        "class_parallel_min": round(class_size * statistics.median(serial) / speedup / 60, 1),
        "full_marks": full,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casekit_course.bench.grading",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=4, help="submissions per assignment")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes for the parallel run (default: all cores)")
    parser.add_argument("--assignment", action="append",
                        help="only this assignment (repeatable; default: all)")
    parser.add_argument("--class-size", type=int, default=200, help="students to extrapolate to")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="casekit-bench-grading-") as tmp:
        for assignment in args.assignment or find_assignments():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader
                result = bench_assignment(assignment, args.copies, args.jobs, Path(tmp),
                                          args.class_size)
            results.append(result)
            print(f"{assignment:<14} {result['per_notebook_s']:5.1f} s per notebook "
                  f"(max {result['serial_max_s']:.1f}; generate {result['generate_s']:.1f} s) · "
                  f"{args.copies} copies on {args.jobs} jobs: {result['parallel_wall_s']:.1f} s, "
                  f"speed-up {result['speedup']:.2f}× · {args.class_size} students: "
                  f"{result['class_serial_min']:.0f} min serial, "
                  f"{result['class_parallel_min']:.0f} min parallel"
                  + ("" if result["full_marks"] else " · NOT full marks!"), flush=True)
    total = {key: round(sum(r[key] for r in results), 1)
             for key in ("class_serial_min", "class_parallel_min")}
    print(f"all assignments, {args.class_size} students: {total['class_serial_min']:.0f} min "
          f"serial, {total['class_parallel_min']:.0f} min with {args.jobs} jobs")
    print(json.dumps({"results": results, "total": total}))
    return 0 if all(r["full_marks"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
