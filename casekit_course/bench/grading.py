"""How fast a class is graded: submissions per minute, the sandbox's cost, a large-class projection.

``python -m casekit_course.bench.grading`` builds a throw-away course (the real
``nbgrader_config.py`` and solutions), submits ``--copies`` copies of each assignment's
solution and grades them with :func:`casekit_course.fanout.autograde`, all in one run:

1. a ``LocalCluster`` of 1 worker, sandboxed: submissions per minute (wall time of
   :func:`~casekit_course.fanout.autograde`, the worker's first preparation included);
2. the same worker, ``--no-sandbox``: the sandbox's overhead per submission as the ratio of
   the median seconds per submission (1 against 2, same run, same machine);
3. a ``LocalCluster`` of 2 workers, sandboxed: submissions per minute, speed-up over 1;

then projects a class of ``--students`` × ``--notebooks`` notebooks on ``--machines``
machines of ``--cores`` cores (one worker per core, the 2-worker efficiency assumed). The last
line is JSON. Solutions score full marks, so every test runs to its end.

``--three-ways COURSE`` instead grades the submissions of an existing course (e.g. the planted
class of the tests) serially (1 worker), with a ``LocalCluster`` of 2 and through a loopback
``dask scheduler`` with 2 ``dask worker`` processes, each in its own copy of the course, and
prints whether the grades are identical.

Example:
    python -m casekit_course.bench.grading --copies 6
    python -m casekit_course.bench.grading --three-ways /tmp/planted --assignment 01_eda
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from distributed import Client, LocalCluster

from casekit_course.config import assignment_notebooks
from casekit_course.fanout import autograde
from casekit_course.jobs import SubmissionResult
from casekit_course.steps import generate_assignment, make_course


@contextmanager
def loopback_cluster(workers: int = 2, *, logs: Path) -> Iterator[str]:
    """Start ``dask scheduler`` and ``workers`` one-thread ``dask worker`` processes on
    127.0.0.1 (a free port; a lost worker's task retried once); yield the scheduler address.

    Example:
        >>> with loopback_cluster(2, logs=Path(tempfile.mkdtemp())) as address:  # doctest: +SKIP
        ...     autograde("01_eda", scheduler=address)
    """
    dask = Path(sys.executable).parent / "dask"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    commands = [[str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                 "--no-dashboard"]]
    commands += [[str(dask), "worker", address, "--nthreads", "1", "--no-dashboard",
                  "--host", "127.0.0.1", "--name", f"w{i}"] for i in range(1, workers + 1)]
    logs.mkdir(parents=True, exist_ok=True)
    processes = []
    try:
        for i, command in enumerate(commands):
            with open(logs / f"dask-{i}.log", "wb") as log:
                processes.append(subprocess.Popen(command, stdout=log, stderr=log, env=env,
                                                  start_new_session=True))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def grades(results: list[SubmissionResult]) -> dict[str, dict]:
    """student -> notebook -> grade id -> (score, points): what must not depend on the way."""
    return {r.student: {n.name: n.grades for n in r.notebooks} for r in results}


def bench(assignments: list[str], copies: int, workdir: Path, stack: ExitStack) -> dict:
    """Grade ``copies`` solutions of each assignment three ways; return the numbers.

    The clusters are entered on ``stack``; the unsandboxed run reuses the 1-worker one after
    the sandboxed run, so neither pays a cold start the other does not (the median of
    seconds per submission leaves out the worker's first, which prepares the assignment).
    """
    course = make_course(workdir / "course", assignments)
    for assignment in assignments:
        generate_assignment(course, assignment)  # the gradebook knows it before any run
        for i in range(copies):
            folder = course / "submitted" / f"student{i:03d}" / assignment
            folder.mkdir(parents=True)
            for notebook in assignment_notebooks(assignment):
                shutil.copy2(notebook, folder / notebook.name)
    runs = {}
    for name, workers, sandbox in (("1 worker", 1, "auto"), ("1 worker, no sandbox", 1, "none"),
                                   ("2 workers", 2, "auto")):
        if name != "1 worker, no sandbox":  # that one reuses the 1-worker cluster, warm
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1,
                                                       dashboard_address=None))
        started = time.perf_counter()
        results = [r for a in assignments for r in autograde(
            a, scheduler=cluster.scheduler_address, sandbox=sandbox, root=course, force=True,
            say=_quiet)]
        wall = time.perf_counter() - started
        full = all(s == p for r in results for n in r.notebooks for s, p in n.grades.values()
                   if s is not None)
        runs[name] = {"wall_s": round(wall, 1), "per_minute": round(len(results) / wall * 60, 2),
                      "median_s": round(statistics.median(r.seconds for r in results), 2),
                      "full_marks": full, "sandbox": results[0].sandbox}
        print(f"{name:<22} {len(results)} submissions in {wall:6.1f} s: "
              f"{runs[name]['per_minute']:5.2f} per minute, median "
              f"{runs[name]['median_s']:.1f} s each (sandbox {results[0].sandbox})"
              + ("" if full else " · NOT full marks!"), flush=True)
    return runs


def project(runs: dict, *, students: int, notebooks: int, machines: int, cores: int) -> dict:
    """Hours for ``students`` × ``notebooks`` on ``machines`` × ``cores`` one-core workers."""
    per_core = runs["1 worker"]["per_minute"]
    efficiency = runs["2 workers"]["per_minute"] / (2 * per_core)
    per_minute = per_core * machines * cores * efficiency
    total = students * notebooks
    return {"submissions": total, "workers": machines * cores,
            "efficiency": round(efficiency, 2), "per_minute": round(per_minute, 1),
            "minutes": round(total / per_minute, 1)}


def three_ways(course: Path, assignment: str, workdir: Path) -> bool:
    """Grade ``course``'s submissions of ``assignment`` three ways; print and compare."""
    found = {}
    ways = {"serial (1 worker)": {"workers": 1}, "LocalCluster of 2": {"workers": 2}}
    with loopback_cluster(2, logs=workdir / "dask") as address:
        ways["loopback scheduler + 2 workers"] = {"scheduler": address}
        for name, how in ways.items():
            copy = shutil.copytree(course, workdir / name.split()[0],
                                   ignore=shutil.ignore_patterns("autograded", "feedback"))
            started = time.perf_counter()
            found[name] = grades(autograde(assignment, root=copy, force=True, say=_quiet, **how))
            print(f"{name:<32} {len(found[name])} submissions in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
    reference = next(iter(found.values()))
    same = all(g == reference for g in found.values())
    print("grades identical all three ways" if same else "GRADES DIFFER between the ways")
    for student, notebooks in sorted(reference.items()):
        score = sum(s or 0 for g in notebooks.values() for s, _ in g.values())
        points = sum(p for g in notebooks.values() for _, p in g.values())
        print(f"  {student:<24} {score:g}/{points:g}")
    return same


def _quiet(line: str) -> None:
    """Progress lines are not shown while benchmarking."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casekit_course.bench.grading",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", action="append",
                        help="assignment to grade (repeatable; default: 01_eda)")
    parser.add_argument("--copies", type=int, default=6, help="submissions per assignment")
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--notebooks", type=int, default=5, help="notebooks per student")
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--cores", type=int, default=8, help="cores (workers) per machine")
    parser.add_argument("--three-ways", metavar="COURSE", type=Path,
                        help="grade COURSE's submissions serially, on 2 local workers and on a "
                        "loopback scheduler; compare the grades")
    args = parser.parse_args(argv)
    assignments = args.assignment or ["01_eda"]
    with tempfile.TemporaryDirectory(prefix="casekit-bench-grading-") as tmp:
        if args.three_ways:
            return 0 if three_ways(args.three_ways, assignments[0], Path(tmp)) else 1
        with ExitStack() as stack:
            runs = bench(assignments, args.copies, Path(tmp), stack)
    overhead = runs["1 worker"]["median_s"] / runs["1 worker, no sandbox"]["median_s"]
    plan = project(runs, students=args.students, notebooks=args.notebooks,
                   machines=args.machines, cores=args.cores)
    speedup = runs["2 workers"]["per_minute"] / runs["1 worker"]["per_minute"]
    print(f"speed-up with 2 workers: {speedup:.2f}× on {os.cpu_count()} cores · "
          f"sandbox overhead: {overhead:.2f}× per submission")
    print(f"{args.students} students × {args.notebooks} notebooks on {args.machines} machines × "
          f"{args.cores} cores: about {plan['minutes']:.0f} min ({plan['per_minute']:.0f} "
          f"submissions per minute at {plan['efficiency']:.0%} efficiency)")
    print(json.dumps({"cpus": os.cpu_count(), "runs": runs, "speedup": round(speedup, 2),
                      "sandbox_overhead": round(overhead, 2), "projection": plan}))
    return 0 if all(run["full_marks"] for run in runs.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
