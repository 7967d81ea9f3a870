"""Where the kit is hosted: one setting (``course.toml``) stamped into every link to it.

Students open the notebooks from Colab badges and install casekit from a GitHub repository.
That repository is the instructor's own (a fork, or the student repository that
``casekit-course publish`` writes), so its URL is a course setting, kept in one
place, ``course.toml`` at the course root::

    [hosting]
    repository = "https://github.com/YOUR-ORG/casekit"
    branch = "main"

:func:`stamp` writes it into every place that links to the kit: the Colab badges and the
install line of the instructor notebooks (and so of the release), README.md,
docs/INSTRUCTOR_GUIDE.md and ``[project.urls]`` of pyproject.toml. The release step calls
it. :func:`foreign_links` lists any link that names another place (the course check and a
test use it). While the placeholder (``YOUR-ORG``) is set, the notebooks' set-up cell refuses
to install in Colab with one sentence saying what to do.

Example:
    >>> hosting = Hosting("https://github.com/my-school/casekit", branch="spring")
    >>> hosting.pip_url
    'git+https://github.com/my-school/casekit@spring'
    >>> hosting.colab_url("notebooks/01_eda/01_eda.ipynb")
    'https://colab.research.google.com/github/my-school/casekit/blob/spring/notebooks/01_eda/01_eda.ipynb'
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from casekit_course.config import CourseError, course_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SETTINGS_FILE = "course.toml"
#: The repository set until an instructor sets their own (refused by the install cell).
PLACEHOLDER = "https://github.com/YOUR-ORG/casekit"
PLACEHOLDER_MARK = "YOUR-ORG"
#: Documents that link to the kit, relative to the course root (notebooks come on top).
DOCUMENTS = ("README.md", "docs/INSTRUCTOR_GUIDE.md", "pyproject.toml")

_REPO = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
_BRANCH = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
_OWNER_REPO = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"
#: Every form a link to the kit takes in the notebooks and documents.
_COLAB = re.compile(rf"https://colab\.research\.google\.com/github/{_OWNER_REPO}/blob/"
                    r"[A-Za-z0-9_./-]+?/notebooks/")
_PIP = re.compile(rf"git\+https://github\.com/{_OWNER_REPO}(?:\.git)?(?:@[A-Za-z0-9_./-]+)?")
_CLONE = re.compile(rf"(git clone )https://github\.com/{_OWNER_REPO}(?:\.git)?")
_PROJECT_URL = re.compile(rf'^((?:Homepage|Repository|Source) = ")https://github\.com/'
                          rf'{_OWNER_REPO}(")', re.M)
#: Any GitHub link to a repository named like the kit (caught by the check even if new).
_ANY_KIT = re.compile(r"github(?:\.com)?/([A-Za-z0-9_.-]+/casekit)(?![A-Za-z0-9_-])")


@dataclass(frozen=True)
class Hosting:
    """The GitHub repository (``https://github.com/<owner>/<name>``) and branch of the kit."""

    repository: str
    branch: str = "main"

    def __post_init__(self) -> None:
        match = _REPO.match(self.repository)
        if not match:
            raise CourseError(f"{SETTINGS_FILE}: repository must look like "
                              f"https://github.com/<owner>/<name>, not {self.repository!r} "
                              "(Colab opens notebooks from GitHub)")
        if not _BRANCH.match(self.branch):
            raise CourseError(f"{SETTINGS_FILE}: {self.branch!r} is not a branch name")
        object.__setattr__(self, "repository", f"https://github.com/{'/'.join(match.groups())}")

    @property
    def owner_repo(self) -> str:
        """``"<owner>/<name>"``, e.g. ``"my-school/casekit"``."""
        return self.repository.removeprefix("https://github.com/")

    @property
    def is_placeholder(self) -> bool:
        """True until an instructor has set their own repository."""
        return PLACEHOLDER_MARK in self.repository

    @property
    def pip_url(self) -> str:
        """What ``pip install "casekit @ <pip_url>"`` installs from."""
        return f"git+{self.repository}@{self.branch}"

    def colab_url(self, path: str) -> str:
        """The *Open in Colab* link of the file at ``path`` in the repository."""
        return f"https://colab.research.google.com/github/{self.owner_repo}/blob/{self.branch}/{path}"


def load_hosting(root: str | os.PathLike[str] | None = None) -> Hosting:
    """Read ``course.toml``'s ``[hosting]`` table; the placeholder when the file is absent.

    Raises :class:`CourseError` naming the file when it is malformed.
    """
    path = course_root(root) / SETTINGS_FILE
    if not path.is_file():
        return Hosting(PLACEHOLDER)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("hosting", {})
        return Hosting(str(table["repository"]), branch=str(table.get("branch", "main")))
    except (tomllib.TOMLDecodeError, KeyError) as error:
        raise CourseError(f"{path}: needs a [hosting] table with repository = "
                          f'"https://github.com/<owner>/<name>" ({error})') from error


def stamp_text(text: str, hosting: Hosting) -> str:
    """``text`` with every link to the kit pointing at ``hosting``."""
    text = _COLAB.sub(f"https://colab.research.google.com/github/{hosting.owner_repo}/blob/"
                      f"{hosting.branch}/notebooks/", text)
    text = _PIP.sub(hosting.pip_url, text)
    text = _CLONE.sub(lambda m: m.group(1) + hosting.repository, text)
    return _PROJECT_URL.sub(lambda m: m.group(1) + hosting.repository + m.group(2), text)


def stamp(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write the hosting setting into the instructor notebooks and documents; return the
    files changed (only files whose links differ are rewritten)."""
    root = course_root(root)
    hosting = load_hosting(root)
    changed = []
    for path in _notebooks(root):
        nb = nbformat.read(path, as_version=4)
        edited = False
        for cell in nb.cells:
            new = stamp_text(cell.source, hosting)
            edited |= new != cell.source
            cell.source = new
        if edited:
            nbformat.write(nb, path)
            changed.append(path)
    for path in _documents(root):
        text = path.read_text(encoding="utf-8")
        new = stamp_text(text, hosting)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def foreign_links(
    root: str | os.PathLike[str] | None = None,
    *,
    folders: tuple[str, ...] = ("solutions", "notebooks"),
) -> list[str]:
    """Links to the kit that name another repository or branch than ``course.toml``.

    Looks at every notebook in ``folders`` and at :data:`DOCUMENTS`; returns lines like
    ``"README.md: git+https://github.com/casekit/casekit"`` (empty: all links agree).
    """
    root = course_root(root)
    hosting = load_hosting(root)
    problems = []
    for path in [*_notebooks(root, folders), *_documents(root)]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
        name = path.relative_to(root).as_posix()
        seen: list[range] = []
        for pattern in (_COLAB, _PIP, _CLONE, _PROJECT_URL):
            for match in pattern.finditer(text):
                seen.append(range(*match.span()))
                if stamp_text(match.group(0), hosting) != match.group(0):
                    problems.append(f"{name}: {match.group(0)}")
        for match in _ANY_KIT.finditer(text):
            covered = any(match.start() in span for span in seen)
            if match.group(1) != hosting.owner_repo and not covered:
                problems.append(f"{name}: {match.group(0)}")
    return sorted(set(problems))


def _notebooks(root: Path, folders: tuple[str, ...] = ("solutions",)) -> list[Path]:
    return [p for folder in folders for p in sorted((root / folder).rglob("*.ipynb"))
            if ".ipynb_checkpoints" not in p.parts]


def _documents(root: Path) -> list[Path]:
    return [root / name for name in DOCUMENTS if (root / name).is_file()]
