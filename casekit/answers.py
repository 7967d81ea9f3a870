"""The student's written answers, read from saved notebooks, for the results document.

Every written answer of the course is a Markdown cell marked as an nbgrader answer
(``"solution": true``) below the cell that asks its **Question**. :func:`written_answers`
reads them from saved ``.ipynb`` files (plain JSON: no kernel, no nbgrader), so that
:func:`casekit.report.write_results_document` can put the student's own words into the
document they hand in; an answer not written yet is kept, empty, so the document shows it.
:func:`course_answers` finds the saved notebooks 01-04 around the current one and reads them.

Example:
    >>> import json, pathlib, tempfile
    >>> cells = [{"cell_type": "markdown", "metadata": {},
    ...           "source": "**Question (2 points).** Why group by patient?"},
    ...          {"cell_type": "markdown", "source": "YOUR ANSWER HERE",
    ...           "metadata": {"nbgrader": {"solution": True, "grade_id": "answer_split"}}}]
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "02_binary.ipynb").write_text(json.dumps({"cells": cells}))
    >>> found = written_answers([folder / "02_binary.ipynb"])
    >>> [(a.notebook, a.question, a.answered) for a in found]
    [('02_binary', 'Why group by patient?', False)]
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: What an unanswered cell holds in the students' notebooks (nbgrader's placeholder).
PLACEHOLDER = "YOUR ANSWER HERE"
#: Notebook names whose answers belong to the document: 01 (exploration) to 04.
COURSE_NOTEBOOKS = re.compile(r"(0[1-4]_[a-z]+)(?: \(\d+\))?\.ipynb$")
_QUESTION = re.compile(r"\*\*Question[^*]*\*\*\s*(.*)", re.S)


@dataclass(frozen=True)
class Answer:
    """One written answer: its notebook (``"03_sixclass"``), grade id, question and text."""

    notebook: str
    grade_id: str
    question: str
    text: str  # "" when the student has not written it yet

    @property
    def answered(self) -> bool:
        return bool(self.text)


def written_answers(notebooks: Iterable[str | os.PathLike[str]]) -> list[Answer]:
    """The written answers of ``notebooks`` (saved ``.ipynb`` files), in notebook order.

    Raises:
        ValueError: a file is not a notebook (names the file).
    """
    answers = []
    for path in sorted(map(Path, notebooks), key=_notebook_name):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}: not a readable notebook ({error}); pass saved .ipynb "
                             "files") from None
        name = _notebook_name(path)
        question = ""
        for cell in cells:
            source = _text(cell.get("source", ""))
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "markdown":
                continue
            if meta.get("solution"):
                text = "" if source.strip() in ("", PLACEHOLDER) else source.strip()
                answers.append(Answer(name, meta.get("grade_id", ""), question, text))
            elif _QUESTION.search(source):
                question = _first_paragraph(_QUESTION.search(source)[1])
    return answers


def course_notebooks(*folders: str | os.PathLike[str]) -> list[Path]:
    """Saved notebooks 01-04 in ``folders`` and in the course layout around the current one.

    Looks in each folder, in the working folder and in its parent's assignment folders
    (``notebooks/04_evaluation`` sees ``notebooks/01_eda/01_eda.ipynb``); one file per
    notebook, the most recently saved.
    """
    here = Path.cwd()
    places = [*map(Path, folders), here, *sorted(p for p in here.parent.glob("0[1-4]_*"))]
    found: dict[str, Path] = {}
    for place in places:
        for path in sorted(place.glob("*.ipynb")) if place.is_dir() else []:
            name = _notebook_name(path)
            if COURSE_NOTEBOOKS.search(path.name) and (
                    name not in found or path.stat().st_mtime > found[name].stat().st_mtime):
                found[name] = path
    return [found[name] for name in sorted(found)]


def _notebook_name(path: Path) -> str:
    match = COURSE_NOTEBOOKS.search(path.name)
    return match[1] if match else path.stem


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def course_answers(*folders: str | os.PathLike[str]) -> list[Answer]:
    """The written answers of the saved notebooks 01-04 found by :func:`course_notebooks`."""
    return written_answers(course_notebooks(*folders))
