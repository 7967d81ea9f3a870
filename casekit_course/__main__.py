"""``casekit-course``: the instructor's commands, from releasing notebooks to exporting grades.

Example:
    casekit-course release            # regenerate notebooks/ from solutions/
    casekit-course check              # release up to date, no leaks, rubrics match
    casekit-course validate solutions/01_eda/01_eda.ipynb
    casekit-course rubrics
    casekit-course collect 01_eda downloaded/01_eda --due "2025-11-01 17:00 UTC"
    casekit-course autograde 01_eda                 # on this machine's cores, sandboxed
    casekit-course autograde 01_eda --scheduler tcp://grader1:8786   # on a Dask cluster
    casekit-course feedback 01_eda                  # students' pages, manual scores included
    casekit-course export --out grades.csv          # per-exercise grades as CSV
    casekit-course hosting            # where students install casekit from
    casekit-course publish ../casekit-students # the public student repository
    casekit-course demo --out outputs/demo     # the solution notebooks on synthetic data
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from casekit_course.collect import DEFAULT_PATTERN, collect
from casekit_course.config import CourseError, course_root
from casekit_course.fanout import autograde
from casekit_course.feedback_pages import write_feedback
from casekit_course.grading import validate
from casekit_course.hosting import SETTINGS_FILE, foreign_links, load_hosting
from casekit_course.release import check_release_up_to_date, release
from casekit_course.rubrics import check_rubrics
from casekit_course.steps import leaked_markers


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit status (0 success, 1 problems found)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["export"]:  # its own options: see casekit_course.export
        from casekit_course.export import main as export_main

        return export_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="casekit-course", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("release", help="regenerate notebooks/ from solutions/")
    cmd.add_argument("assignments", nargs="*", help="default: every folder in solutions/")
    cmd.add_argument("--out", help="output folder (default: notebooks/)")
    commands.add_parser("check", help="notebooks/ up to date, nothing hidden leaked, rubrics match")
    cmd = commands.add_parser("validate", help="execute like nbgrader validate; fail on failures")
    cmd.add_argument("notebooks", nargs="+")
    cmd.add_argument("--ignore-checksums", action="store_true", help="allow edited locked cells")
    commands.add_parser("rubrics", help="compare rubrics/ with the notebooks' grade cells")
    cmd = commands.add_parser("collect", help="uploaded notebooks (zip exports, folders) into "
                              "submitted/: latest upload wins, lateness recorded")
    cmd.add_argument("assignment")
    cmd.add_argument("sources", nargs="*",
                     help="zip files or folders (default: downloaded/<assignment>/)")
    cmd.add_argument("--pattern", default=DEFAULT_PATTERN,
                     help="regular expression with groups student_id, file_id and optionally "
                     "timestamp (default: <student>--[<time>--]<notebook>.ipynb)")
    cmd.add_argument("--due", help="due date, e.g. '2025-11-01 17:00 UTC' (stored in the "
                     "gradebook; default: the gradebook's)")
    cmd = commands.add_parser("autograde", help="grade submitted/ on Dask: this machine's cores "
                              "or a cluster; each kernel in a sandbox")
    cmd.add_argument("assignment")
    cmd.add_argument("--workers", type=int, default=None,
                     help=f"local Dask workers (default: the cores, {os.cpu_count()})")
    cmd.add_argument("--scheduler", help="grade on a running Dask cluster, e.g. tcp://HOST:8786")
    cmd.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "podman", "docker"],
                     help="what each kernel runs in (default: bubblewrap on Linux)")
    cmd.add_argument("--no-sandbox", action="store_true",
                     help="run student code unsandboxed (recorded in the export)")
    cmd.add_argument("--student", action="append", help="only these students (repeatable)")
    cmd.add_argument("--force", action="store_true",
                     help="grade again students already recorded (default: only what is missing)")
    cmd = commands.add_parser("feedback", help="(re)write the students' feedback pages, "
                              "manual scores included")
    cmd.add_argument("assignment")
    cmd.add_argument("--student", action="append", help="only these students (repeatable)")
    commands.add_parser("export", help="per-exercise grades to CSV (export -h for options)")
    commands.add_parser("hosting", help=f"the repository and branch set in {SETTINGS_FILE}, "
                        "and any link that names another")
    cmd = commands.add_parser("publish", help="write the public student repository into DEST "
                              "(no solutions, hidden tests, rubrics or grading files)")
    cmd.add_argument("dest")
    cmd = commands.add_parser("demo", help="run the solution notebooks end to end on synthetic "
                              "data (the course's smoke test; `make demo`)")
    cmd.add_argument("--out", default="outputs/demo")
    cmd.add_argument("--size", type=int, default=None, help="image size (default 64)")
    cmd.add_argument("--n-images", type=int, default=None, help="images per dataset")
    cmd.add_argument("--data-only", action="store_true",
                     help="only the data pipeline: generate → load → split → cache → summary")
    cmd.add_argument("--course", default=None, help="course folder (default: this repository)")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from casekit_course.demo import run_demo

        run_demo(Path(args.out), size=args.size, n_images=args.n_images,
                 data_only=args.data_only, root=args.course)
        return 0

    if args.command == "release":
        for path in release(args.assignments or None, out=args.out):
            print(f"wrote {path}")
        return 0
    if args.command == "publish":
        from casekit_course.publish import publish

        files = publish(args.dest)
        hosting = load_hosting()
        print(f"published {len(files)} files for students into {args.dest} "
              f"(to be pushed to {hosting.repository}, branch {hosting.branch})")
        if hosting.is_placeholder:
            print(f"note: {SETTINGS_FILE} still names the placeholder repository: set yours, "
                  "then publish again")
        return 0
    if args.command == "hosting":
        hosting = load_hosting()
        print(f"students install casekit from {hosting.pip_url} "
              f"(set in {course_root() / SETTINGS_FILE})")
        if hosting.is_placeholder:
            print(f"placeholder: set your own repository in {SETTINGS_FILE}, then run "
                  "`casekit-course release`")
        problems = foreign_links()
        for problem in problems:
            print(f"names another repository: {problem}")
        return 1 if problems else 0
    if args.command in ("collect", "autograde", "feedback"):
        try:
            return _grading_command(args)
        except CourseError as error:
            print(f"casekit-course {args.command}: {error}")
            return 1
        except KeyboardInterrupt:
            return 130
    if args.command == "validate":
        status = 0
        for notebook in args.notebooks:
            result = validate(notebook, ignore_checksums=args.ignore_checksums)
            for source in result.changed:
                print(f"{notebook}: locked cell edited:\n{source}\n")
            for grade_id, error in result.failed.items():
                print(f"{notebook}: FAILED {grade_id}\n{error}\n")
            print(f"{notebook}: {len(result.passed)} passed, {len(result.failed)} failed")
            status |= not result.ok
        return status
    problems = check_rubrics()
    if args.command == "check":
        leaks = leaked_markers(course_root() / "notebooks")
        links = [f"names another repository than {SETTINGS_FILE}: {link}"
                 for link in foreign_links()]
        problems = check_release_up_to_date() + leaks + links + problems
    for problem in problems:
        print(problem)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def _grading_command(args: argparse.Namespace) -> int:
    if args.command == "collect":
        root = course_root()
        sources = args.sources or [root / "downloaded" / args.assignment]
        problems: list[str] = []
        done = collect(args.assignment, sources, pattern=args.pattern, due=args.due,
                       problems=problems)
        for line in [c.line(args.assignment) for c in done] + problems:
            print(line)
        late = sum(1 for c in done if c.late_s)
        print(f"collected {sum(c.written for c in done)} of {len(done)} student(s) into "
              f"submitted/ ({late} late, {len(problems)} file(s) skipped)")
        return 1 if problems else 0
    if args.command == "autograde":
        results = autograde(args.assignment, workers=args.workers, scheduler=args.scheduler,
                            sandbox="none" if args.no_sandbox else args.sandbox,
                            students=args.student, force=args.force)
        print(f"recorded {len(results)} submission(s) of {args.assignment}")
        return 0
    pages = write_feedback(args.assignment, students=args.student)
    print(f"wrote {len(pages)} feedback page(s) into feedback/*/{args.assignment}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
