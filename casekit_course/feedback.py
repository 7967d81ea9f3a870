"""The student's feedback page, built by the trusted grader so hidden tests cannot leak into it.

nbgrader's feedback is the *executed* notebook: whatever student code printed after a hidden
test ran (the test's source seen through ``In``, a ``pre_run_cell`` hook, a stack frame)
reaches the student, and no filter can recognise it once it is base64- or zlib-encoded.
Here nothing from the graded run is shown except numbers and fixed or instructor-written
text:

* every cell's source comes from the student's own submission or from the *released*
  notebook (test cells: the visible tests only);
* every output is the student's own, as submitted (they ran it on their machine, with no
  hidden test in sight), cut to a byte budget so the page stays under :data:`MAX_PAGE_BYTES`;
* each grade cell shows its score, and a failing test one line: the exception's name when it
  is a Python built-in, and its message only when that message is a string the instructor
  wrote in the test (f-string values shown as ``…``); the grader's own errors (time limit,
  dead kernel) get a fixed sentence.

Example:
    >>> from nbformat.v4 import new_code_cell, new_notebook, new_output
    >>> test = new_code_cell("assert f(2) == 4, 'f should square'")
    >>> test.outputs = [new_output("error", ename="AssertionError", evalue="f should square",
    ...                            traceback=[])]
    >>> failure_line(test, "assert f(2) == 4, 'f should square'")
    'AssertionError: f should square'
    >>> test.outputs[0].evalue = "ZjIgPT0gNA=="   # something the student's code made up
    >>> failure_line(test, "assert f(2) == 4, 'f should square'")
    'AssertionError'
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

import jinja2
from nbconvert.filters import strip_ansi
from nbformat import NotebookNode

from casekit_course.repair import grade_id

#: The whole page stays under this (the student's own outputs are cut to fit).
MAX_PAGE_BYTES = 1_000_000
#: Bytes of the page given to the student's outputs; the rest is sources and scores.
OUTPUT_BUDGET = 600_000
#: One output's text is cut to this many characters.
MAX_OUTPUT_CHARS = 5_000
#: An image larger than this (base64 characters) is not shown.
MAX_IMAGE_CHARS = 150_000
#: Longest message line shown for a failing test.
MAX_MESSAGE_CHARS = 200

_BUILTIN_ERRORS = frozenset(n for n, v in vars(builtins).items()
                            if isinstance(v, type) and issubclass(v, BaseException))
#: What the grader's own errors (casekit_course.guard) mean, in fixed words.
_GRADER_ERRORS = {
    "CellTimeoutError": "CellTimeoutError: the cell ran past the time limit",
    "DeadKernelError": "DeadKernelError: the kernel died (os._exit, a crash, or too much memory)",
    "CellNotRun": "CellNotRun: not run (the notebook's time or kernel restarts ran out earlier)",
}


@dataclass
class Row:
    """One cell of the page."""

    kind: str  # "code", "markdown" or "raw"
    source: str
    outputs: list[dict] = field(default_factory=list)  # {"text": str} or {"png": base64}
    grade: str = ""  # "2 / 2 points" for grade cells
    failure: str = ""  # one line for a failing test


_TEMPLATE = jinja2.Environment(autoescape=True).from_string("""\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Feedback: {{ notebook }} ({{ student }})</title>
<style>
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; }
pre { background: #f6f6f6; padding: .5em; white-space: pre-wrap; word-break: break-word; }
.out { background: #fff; border-left: 3px solid #ccc; }
.grade { font-weight: bold; } .fail { color: #a00; } .ok { color: #070; }
.note { color: #555; font-style: italic; }
</style></head><body>
<h1>{{ notebook }}</h1>
<p>Student: {{ student }} · Assignment: {{ assignment }} ·
<b>Score: {{ "%g"|format(score) }} / {{ "%g"|format(max_score) }}</b></p>
{% if status != "graded" %}<p class="note">{{ status }}</p>{% endif %}
<p class="note">Outputs are those of your notebook as you handed it in; scores and test
messages come from the grader's run.</p>
{% for row in rows %}<div class="cell">
<pre class="{{ row.kind }}">{{ row.source }}</pre>
{% for out in row.outputs %}{% if out.png %}<img src="data:image/png;base64,{{ out.png }}">
{% else %}<pre class="out">{{ out.text }}</pre>{% endif %}{% endfor %}
{% if row.grade %}<p class="grade {{ 'fail' if row.failure else 'ok' }}">{{ row.grade -}}
{% if row.failure %}: {{ row.failure }}{% endif %}</p>{% endif %}
</div>
{% endfor %}</body></html>
""")


def feedback_page(
    *,
    student: str,
    assignment: str,
    notebook: str,
    rows: list[Row],
    grades: dict[str, tuple[float | None, float]],
    status: str,
) -> str:
    """The HTML page; rows' outputs beyond the byte budget are replaced by a note."""
    budget = OUTPUT_BUDGET
    for row in rows:
        kept = []
        for out in row.outputs:
            size = len(out.get("text", "")) + len(out.get("png", ""))
            if size > budget:
                kept.append({"text": "[output not shown: this page reached its size limit]"})
                budget = 0
                break
            budget -= size
            kept.append(out)
        row.outputs = kept
    score = sum(s or 0.0 for s, _ in grades.values())
    page = _TEMPLATE.render(student=student, assignment=assignment, notebook=notebook,
                            rows=rows, score=score, max_score=sum(m for _, m in grades.values()),
                            status=status)
    if len(page.encode("utf-8")) > MAX_PAGE_BYTES:  # huge sources: keep the scores only
        rows = [Row("raw", row.source[:2000], grade=row.grade, failure=row.failure)
                for row in rows]
        page = _TEMPLATE.render(student=student, assignment=assignment, notebook=notebook,
                                rows=rows, score=score,
                                max_score=sum(m for _, m in grades.values()), status=status)
    return page


def build_rows(
    *,
    graded: NotebookNode | None,
    submitted: NotebookNode | None,
    released: NotebookNode,
    instructor: NotebookNode,
    grades: dict[str, tuple[float | None, float]],
) -> list[Row]:
    """The page's cells, in the graded notebook's order (restored cells included).

    Sources: the released cell for locked and test cells, the student's own cell otherwise;
    outputs: the student's own (from ``submitted``); failing tests: :func:`failure_line`
    with the ``instructor``'s test source.
    """
    order = graded if graded is not None else submitted if submitted is not None else released
    mine = list(submitted.cells) if submitted is not None else []
    by_id = {grade_id(c): c for c in mine if grade_id(c)}
    released_ids = {grade_id(c): c for c in released.cells if grade_id(c)}
    tests = {grade_id(c): c.source for c in instructor.cells if grade_id(c)}
    rows = []
    for cell in order.cells:
        name = grade_id(cell)
        own = by_id.get(name) if name else _take_same_source(mine, cell.source)
        meta = cell.metadata.get("nbgrader", {})
        if name in released_ids and not meta.get("solution"):
            source = released_ids[name].source
        elif own is not None:
            source = own.source
        else:
            continue  # neither the student's nor the released text: not shown
        row = Row(cell.cell_type, source, _outputs(own) if own is not None else [])
        if name in grades:
            score, points = grades[name]
            row.grade = (f"{score:g} / {points:g} points" if score is not None
                         else f"manually graded, {points:g} points")
            if score is not None and score < points and graded is not None:
                row.failure = failure_line(cell, tests.get(name, "")) or "no points"
        rows.append(row)
    return rows


def _take_same_source(cells: list[NotebookNode], source: str) -> NotebookNode | None:
    for i, cell in enumerate(cells):
        if not grade_id(cell) and cell.source == source:
            return cells.pop(i)
    return None


def _outputs(cell: NotebookNode) -> list[dict]:
    """The submitted cell's outputs as text or PNG, each cut to its own limit."""
    shown = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            text = _text(out.get("text", ""))
        elif kind == "error":
            text = "\n".join(map(str, out.get("traceback", []))) or (
                f"{out.get('ename', '')}: {out.get('evalue', '')}")
        elif kind in ("execute_result", "display_data"):
            png = out.get("data", {}).get("image/png", "")
            png = _text(png).replace("\n", "")
            if png and len(png) <= MAX_IMAGE_CHARS and re.fullmatch(r"[A-Za-z0-9+/=]+", png):
                shown.append({"png": png})
                continue
            text = _text(out.get("data", {}).get("text/plain", ""))
            if png and not text:
                text = "[image not shown: larger than the feedback's limit]"
        else:
            continue
        text = strip_ansi(text)
        if len(text) > MAX_OUTPUT_CHARS:
            text = text[:MAX_OUTPUT_CHARS] + f"\n[… {len(text) - MAX_OUTPUT_CHARS:,} more " \
                "characters not shown]"
        if text:
            shown.append({"text": text})
    return shown


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def failure_line(cell: NotebookNode, test_source: str) -> str:
    """One line on why a graded test cell failed, holding nothing student code chose.

    The exception's name is kept when it is a Python built-in (else "Error"); its message
    only when it is one of the string literals of ``test_source`` (the instructor's test).
    """
    outputs = cell.get("outputs", [])
    for out in outputs:  # the grader's own verdict (a timeout, a dead kernel) comes first
        if out.get("output_type") == "error" and out.get("ename") in _GRADER_ERRORS:
            return _GRADER_ERRORS[out["ename"]]
    for out in outputs:
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return "the test wrote to stderr (a warning or error message)"
        if out.get("output_type") != "error":
            continue
        name = str(out.get("ename", ""))
        name = name if name in _BUILTIN_ERRORS else "Error"
        message = (str(out.get("evalue", "")).strip().splitlines() or [""])[0]
        shown = _instructor_text(message, test_source)
        return f"{name}: {shown}"[:MAX_MESSAGE_CHARS] if shown else name
    return ""


def _instructor_text(message: str, source: str) -> str:
    """``message`` if the test's source wrote it (f-string values as ``…``), else ""."""
    if not message:
        return ""
    for literal in _literals(source):
        if isinstance(literal, str):
            if literal.strip() == message:
                return message
        elif re.fullmatch("".join(".{0,80}?" if p is None else re.escape(p) for p in literal),
                          message):
            return "".join("…" if p is None else p for p in literal)
    return ""


def _literals(source: str) -> list[str | list[str | None]]:
    """String constants of ``source``; an f-string as its parts (None for a value)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[str | list[str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append([v.value if isinstance(v, ast.Constant) else None for v in node.values])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
    return found
