"""Write the public student repository: what students need, nothing that grades them.

The instructor repository (this one, kept private) holds the answer key: ``solutions/``
(solutions, hidden tests, mark schemes), ``rubrics/``, the mutation tests, the gradebook and
executed solution notebooks. Students get a separate repository written by
:func:`publish` (``casekit-course publish DEST``)::

    DEST/
      README.md           for students: the notebooks with their Colab badges, set-up, data
      notebooks/<a>/      the student release, freshly generated (hosting URL stamped)
      casekit/            the package, so ``pip install "casekit @ git+<repository>"`` works
      pyproject.toml      its packaging
      LICENSE             casekit's licence
      DATASETS.md         the datasets' licences and the citations they require
      .gitignore
      .casekit-publish.json   what this command wrote (so the next publish can update it)

Nothing else is copied. Publishing again replaces what the previous publish wrote and
removes what it wrote that is gone; any other file in ``DEST`` (``.git``, a CI file you
added) is left alone, and a file that casekit did not write is never overwritten.

Example:
    >>> import tempfile
    >>> from casekit_course.publish import publish
    >>> written = publish(tempfile.mkdtemp() + "/students")   # doctest: +SKIP
    >>> "notebooks/01_eda/01_eda.ipynb" in written   # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from string import Template

import nbformat

import casekit
from casekit.datasets.registry import REGISTRY
from casekit.io import write_text_atomic
from casekit_course.config import CourseError, course_root
from casekit_course.hosting import Hosting, load_hosting
from casekit_course.release import release

MANIFEST = ".casekit-publish.json"
#: Files copied as they are from the instructor repository.
COPIED = ("LICENSE",)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")
_TEMPLATES = Path(__file__).with_name("templates")
GITIGNORE = "__pycache__/\n*.py[cod]\n*.egg-info/\n.venv\n.ipynb_checkpoints/\ncasekit_data/\n"


def publish(dest: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> list[str]:
    """Write the student repository into ``dest``; return the files written (relative).

    Raises :class:`CourseError` when ``dest`` holds a file this command would write but
    did not write before (nothing is changed then), or when a release would leak.
    """
    root = course_root(root)
    dest = Path(dest).resolve()
    if dest == root or root in dest.parents:
        raise CourseError(f"publish into a folder outside the instructor repository, not {dest}")
    hosting = load_hosting(root)
    previous = _previous_files(dest)
    with tempfile.TemporaryDirectory(prefix="casekit-publish-") as tmp:
        tree = Path(tmp)
        shutil.copytree(Path(casekit.__file__).parent, tree / "casekit", ignore=_IGNORE)
        for name in COPIED:
            shutil.copy2(root / name, tree / name)
        (tree / "pyproject.toml").write_text(
            student_pyproject((root / "pyproject.toml").read_text(encoding="utf-8")),
            encoding="utf-8")
        (tree / "DATASETS.md").write_text(datasets_document(), encoding="utf-8")
        (tree / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        _refuse_clashes(dest, _files(tree) + ["README.md"], previous)  # before the slow part
        release(out=tree / "notebooks", root=root)
        (tree / "README.md").write_text(student_readme(tree / "notebooks", hosting),
                                        encoding="utf-8")
        files = _files(tree)
        _refuse_clashes(dest, files, previous)
        for name in files:
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(tree / name, target.with_name(f".{target.name}.part"))
            os.replace(target.with_name(f".{target.name}.part"), target)
    for name in sorted(previous - set(files)):
        (dest / name).unlink(missing_ok=True)
    _remove_empty_folders(dest, previous - set(files))
    write_text_atomic(dest / MANIFEST, json.dumps({"repository": hosting.repository,
                                                   "branch": hosting.branch,
                                                   "files": files}, indent=1) + "\n")
    return files


def student_pyproject(text: str) -> str:
    """The instructor repository's ``pyproject.toml`` without the instructor package.

    Students install ``casekit`` only: the ``casekit-course`` command, its package and its
    package data are left out, so ``pip install`` of the student repository installs no
    broken entry point.

    Example:
        >>> text = 'include = ["casekit", "casekit.*", "casekit_course", "casekit_course.*"]\n'
        >>> student_pyproject(text + 'casekit-course = "casekit_course.__main__:main"\n')
        'include = ["casekit", "casekit.*"]\n'
    """
    kept = [line for line in text.splitlines(keepends=True)
            if not line.startswith(("casekit-course =", "casekit_course ="))]
    return "".join(kept).replace(', "casekit_course", "casekit_course.*"', "")


def student_readme(notebooks: Path, hosting: Hosting) -> str:
    """The student repository's README: one row per released notebook with its badge."""
    rows = []
    for path in sorted(notebooks.rglob("*.ipynb")):
        relative = path.relative_to(notebooks.parent).as_posix()
        nb = nbformat.read(path, as_version=4)
        heading = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
        match = re.search(r"^#\s+(.+)$", heading, re.M)
        title = match.group(1).strip() if match else path.stem
        rows.append(f"| [{title}]({relative}) | [![Open In Colab]"
                    f"(https://colab.research.google.com/assets/colab-badge.svg)]"
                    f"({hosting.colab_url(relative)}) |")
    template = Template((_TEMPLATES / "student_README.md").read_text(encoding="utf-8"))
    return template.substitute(table="\n".join(rows), pip_url=hosting.pip_url,
                               repository=hosting.repository)


def datasets_document() -> str:
    """DATASETS.md: each dataset's licence and the citation its licence requires."""
    parts = ["# Datasets: licences and citations\n",
             "The course uses two public datasets. They are not part of this repository: "
             "casekit downloads them, or draws synthetic stand-ins that contain no patient "
             "data. Whoever uses the real data must respect their licences and cite them.\n"]
    for spec in (REGISTRY[name] for name in sorted(REGISTRY)):
        parts.append(f"## {spec.title}\n\n{spec.attribution()}\n\n"
                     f"Sources: Kaggle `{spec.kaggle_handle}`; official {spec.official_doi}.\n")
    return "\n".join(parts)


def _files(tree: Path) -> list[str]:
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())


def _refuse_clashes(dest: Path, files: list[str], previous: set[str]) -> None:
    clashes = [f for f in files if (dest / f).exists() and f not in previous]
    if clashes:
        raise CourseError(f"{dest} already holds files casekit did not publish: "
                          f"{', '.join(clashes[:5])}{' …' if len(clashes) > 5 else ''}; "
                          "publish into an empty folder or a fresh clone of the student "
                          "repository")


def _previous_files(dest: Path) -> set[str]:
    manifest = dest / MANIFEST
    if not manifest.is_file():
        return set()
    try:
        return set(json.loads(manifest.read_text(encoding="utf-8"))["files"])
    except (ValueError, KeyError, TypeError) as error:
        raise CourseError(f"{manifest} is damaged ({error}); publish into a fresh folder") \
            from error


def _remove_empty_folders(dest: Path, removed: set[str]) -> None:
    folders = {p for name in removed for p in (dest / name).parents if dest in p.parents}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

