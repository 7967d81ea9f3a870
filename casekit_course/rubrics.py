"""Keep the grading rubrics, the notebooks' points tables and nbgrader's metadata in step.

Each assignment has ``rubrics/<assignment>.md`` with one section per manually graded
cell, in this form (the parser is strict so that a typo shows up as a problem)::

    Autograded points: 18
    Manually graded points: 14

    ## `answer_leak` (3 points)
    **Question.** ...
    **Criteria**
    | Score | Criteria |
    | --- | --- |
    | 3 | ... |
    | 0 | ... |
    **Exemplary answer.** ...
    **Common mistakes**
    - ...

and each notebook opens with a points table whose rows read ``| ... | `grade_id` | 3 | ...``.

Example:
    >>> from casekit_course.rubrics import check_rubrics
    >>> check_rubrics()
    []
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from casekit_course.config import assignment_notebooks, course_root, find_assignments

_SECTION = re.compile(r"^##\s+`(?P<id>[^`]+)`\s+\((?P<points>\d+(?:\.\d+)?)\s+points?\)\s*$")
_TOTAL = re.compile(
    r"^(?P<kind>Autograded|Manually graded) points:\s*(?P<points>\d+(?:\.\d+)?)\s*$"
)
_SCORE_ROW = re.compile(r"^\|\s*(?P<score>\d+(?:\.\d+)?)\s*\|(?P<text>.*)\|\s*$")
_TABLE_ROW = re.compile(r"^\|.*?`(?P<id>[\w\-]+)`\s*\|\s*(?P<points>\d+(?:\.\d+)?)\s*\|")
_REQUIRED = ("**Question.**", "**Criteria**", "**Exemplary answer.**", "**Common mistakes**")


@dataclass
class RubricItem:
    """One manually graded cell's rubric."""

    grade_id: str
    points: float
    scores: dict[float, str]  # score -> criteria for that level
    text: str


@dataclass
class Rubric:
    """A parsed ``rubrics/<assignment>.md``."""

    items: dict[str, RubricItem] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)  # "auto"/"manual" -> points
    problems: list[str] = field(default_factory=list)


def parse_rubric(path: str | os.PathLike[str]) -> Rubric:
    """Parse one rubric file; format problems are collected in ``Rubric.problems``."""
    path = Path(path)
    rubric = Rubric()
    current: list[str] | None = None
    sections: list[tuple[str, float, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        total = _TOTAL.match(line)
        heading = _SECTION.match(line)
        if total:
            kind = "auto" if total["kind"] == "Autograded" else "manual"
            rubric.totals[kind] = float(total["points"])
        elif heading:
            current = []
            sections.append((heading["id"], float(heading["points"]), current))
        elif line.startswith("## "):
            rubric.problems.append(f"{path.name}: {line!r} is not '## `grade_id` (N points)'")
            current = None
        elif current is not None:
            current.append(line)
    for grade_id, points, lines in sections:
        text = "\n".join(lines)
        scores = {float(m["score"]): m["text"].strip() for m in map(_SCORE_ROW.match, lines) if m}
        item = RubricItem(grade_id, points, scores, text)
        if grade_id in rubric.items:
            rubric.problems.append(f"{path.name}: `{grade_id}` appears twice")
        rubric.items[grade_id] = item
        rubric.problems += [
            f"{path.name}: `{grade_id}` lacks {part}" for part in _REQUIRED if part not in text
        ]
        if points not in scores or 0.0 not in scores or max(scores, default=0) > points:
            rubric.problems.append(
                f"{path.name}: `{grade_id}` needs score levels from 0 to {points:g} "
                f"(found {sorted(scores)})"
            )
    return rubric


def graded_cells(notebook: str | os.PathLike[str]) -> dict[str, tuple[str, float]]:
    """Graded cells of a notebook: grade id -> ("auto" | "manual", points)."""
    cells = {}
    for cell in nbformat.read(Path(notebook), as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("grade") or meta.get("task")):
            continue
        auto = cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")
        cells[meta["grade_id"]] = ("auto" if auto else "manual", float(meta.get("points", 0)))
    return cells


def points_table(notebook: str | os.PathLike[str]) -> dict[str, float]:
    """The points table of a notebook's (ungraded) Markdown: grade id -> points."""
    table = {}
    for cell in nbformat.read(Path(notebook), as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "markdown" or meta.get("grade") or meta.get("task"):
            continue
        for line in cell.source.splitlines():
            row = _TABLE_ROW.match(line.strip())
            if row:
                table[row["id"]] = float(row["points"])
    return table


def check_rubrics(
    assignments: list[str] | None = None, root: str | os.PathLike[str] | None = None
) -> list[str]:
    """Compare rubrics, points tables and nbgrader metadata; return the mismatches."""
    root = course_root(root)
    problems: list[str] = []
    for assignment in assignments or find_assignments(root):
        graded: dict[str, tuple[str, float]] = {}
        for notebook in assignment_notebooks(assignment, root):
            cells = graded_cells(notebook)
            repeated = sorted(set(cells) & set(graded))
            problems += [f"{notebook.name}: grade id `{g}` repeats" for g in repeated]
            graded.update(cells)
            problems += _compare(f"{notebook.name} points table", points_table(notebook), cells)
        manual = {g: v for g, v in graded.items() if v[0] == "manual"}
        path = root / "rubrics" / f"{assignment}.md"
        if not path.is_file():
            problems.append(f"missing rubric {path} for {sorted(manual)}")
            continue
        rubric = parse_rubric(path)
        problems += rubric.problems
        problems += _compare(path.name, {g: i.points for g, i in rubric.items.items()}, manual)
        for kind in ("auto", "manual"):
            expected = sum(points for k, points in graded.values() if k == kind)
            if rubric.totals.get(kind) != expected:
                label = "Autograded" if kind == "auto" else "Manually graded"
                problems.append(
                    f"{path.name}: '{label} points: {rubric.totals.get(kind)}' but the "
                    f"notebooks have {expected:g}"
                )
    return problems


def _compare(
    where: str, listed: dict[str, float], cells: dict[str, tuple[str, float]]
) -> list[str]:
    problems = [f"{where}: `{g}` is not a graded cell" for g in sorted(set(listed) - set(cells))]
    problems += [f"{where}: graded cell `{g}` is missing" for g in sorted(set(cells) - set(listed))]
    problems += [
        f"{where}: `{g}` has {listed[g]:g} points, the cell {cells[g][1]:g}"
        for g in sorted(set(listed) & set(cells))
        if listed[g] != cells[g][1]
    ]
    return problems
