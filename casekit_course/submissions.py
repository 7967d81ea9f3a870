"""Find a student's notebook under the name the gradebook knows, whatever Colab called it.

nbgrader grades ``submitted/<student>/<assignment>/<notebook>.ipynb`` only under the exact
name of the released notebook; anything else is skipped with the misleading "did you forget
to run generate_assignment". Students hand in ``Copy of 01_eda.ipynb`` (Colab's *Save a
copy*), ``01_eda (1).ipynb`` (a second download), ``01_eda.ipynb.ipynb`` and the like.
:func:`tidy_submission` copies such a file to the expected name (the original stays) when
exactly one candidate exists, and otherwise returns a one-line message naming the student,
the file and the fix, so that a batch goes on and the instructor reads one line.

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "Copy of 01_eda (2).ipynb").write_text("{}")
    >>> tidy_submission(folder, ["01_eda.ipynb"], student="alice")
    ["alice: graded 'Copy of 01_eda (2).ipynb' as 01_eda.ipynb (renamed copy)"]
    >>> (folder / "01_eda.ipynb").is_file()
    True
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

_DECORATIONS = (
    re.compile(r"^copy of ", re.I),  # Colab, Google Drive
    re.compile(r"[ _-]*\(\d+\)$"),  # a browser's second download: "01_eda (1)"
    re.compile(r"[ _-]+copy( \d+)?$", re.I),  # "01_eda - Copy", "01_eda copy 2"
    re.compile(r"\.ipynb$", re.I),  # "01_eda.ipynb.ipynb"
)


def base_name(file_name: str) -> str:
    """The notebook name without the decorations copies and downloads add.

    Example:
        >>> base_name("Copy of 01_eda (1).ipynb")
        '01_eda'
    """
    stem = file_name[:-6] if file_name.lower().endswith(".ipynb") else file_name
    changed = True
    while changed:
        before = stem
        for pattern in _DECORATIONS:
            stem = pattern.sub("", stem).strip()
        changed = stem != before
    return stem


def tidy_submission(
    folder: str | os.PathLike[str], expected: Iterable[str], *, student: str = "?"
) -> list[str]:
    """Give each expected notebook of ``folder`` its expected name; return one line per issue.

    ``expected`` are file names such as ``"01_eda.ipynb"``. A missing one is copied from the
    single ``.ipynb`` whose :func:`base_name` matches; with several candidates nothing is
    copied and the line says which files to keep. Nothing is deleted or overwritten.
    """
    folder = Path(folder)
    notes = []
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    for name in expected:
        if name in present:
            continue
        candidates = [p for p in present if p != name and base_name(p) == base_name(name)]
        if len(candidates) == 1:
            shutil.copy2(folder / candidates[0], folder / name)
            notes.append(f"{student}: graded {candidates[0]!r} as {name} (renamed copy)")
        elif candidates:
            notes.append(f"{student}: several copies of {name} ({', '.join(candidates)}); not "
                         f"graded: keep one and name it {name}")
    return notes
