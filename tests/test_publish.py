"""The public student repository holds no solution, hidden test, mark scheme or rubric."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from casekit_course.config import CourseError, assignment_notebooks, course_root, find_assignments
from casekit_course.hosting import load_hosting, tomllib
from casekit_course.publish import MANIFEST, publish
from casekit_course.steps import SECRET_MARKERS

ROOT = course_root()
_REGIONS = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION|### BEGIN HIDDEN TESTS(.*?)"
                      r"### END HIDDEN TESTS|=== BEGIN MARK SCHEME ===(.*?)=== END MARK SCHEME ===",
                      re.S)


#: Solution code that casekit itself implements on purpose (reviewed): later notebooks use
#: casekit's reference implementation instead of a student's earlier answer.
KNOWN_IN_PACKAGE = {
    # 02's unfreeze exercise and casekit.finetune.unfreeze_top (used by notebook 03 and the
    # reference runs) share their loop; the exercise also asks for the block search.
    ("02_binary", "casekit/finetune.py"),
}


def _public_lines() -> set[str]:
    """Lines every student sees: notebook code and text outside the hidden regions."""
    return {line.strip() for assignment in find_assignments()
            for path in assignment_notebooks(assignment)
            for cell in nbformat.read(path, as_version=4).cells
            for line in _REGIONS.sub("", cell.source).splitlines()}


def _secret_lines(assignment: str, public: set[str]) -> tuple[set[str], list[tuple[str, ...]]]:
    """What students must not see: the lines of solution, hidden-test and mark-scheme regions
    and of the rubric (less lines shown outside those regions in any notebook: imports,
    shared code), and every run of three consecutive region lines (copied code blocks)."""
    secret, blocks = set(), []
    for path in assignment_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            for match in _REGIONS.finditer(cell.source):
                lines = [line.strip() for line in "".join(g or "" for g in match.groups())
                         .splitlines() if line.strip()]
                secret |= set(lines)
                blocks += [tuple(lines[i:i + 3]) for i in range(len(lines) - 2)]
    rubric = ROOT / "rubrics" / f"{assignment}.md"
    if rubric.is_file():
        secret |= {line.strip() for line in rubric.read_text(encoding="utf-8").splitlines()
                   if len(line.strip()) >= 40}
    secret = {line for line in secret - public if len(line) >= 12 and re.search(r"\w", line)}
    return secret, [block for block in blocks if not public.issuperset(block)]


def _notebook_text(raw: str) -> str:
    return "\n".join(cell.source for cell in nbformat.reads(raw, as_version=4).cells)


def _lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines())


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, list[str]]:
    dest = tmp_path_factory.mktemp("students")
    return dest, publish(dest)


def test_published_tree_holds_no_instructor_package(published):
    dest, files = published
    assert not [name for name in files if "casekit_course" in name or "/bench/" in name]
    code = "\n".join(p.read_text(encoding="utf-8") for p in (dest / "casekit").rglob("*.py"))
    assert not re.search(r"^\s*(from|import) casekit_course", code, re.M), (
        "the student package imports the instructor package")
    project = tomllib.loads((dest / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"] == {"casekit": "casekit.cli:main"}, (
        "pip install of the student repository would create a broken casekit-course command")
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["casekit",
                                                                          "casekit.*"]


def test_published_tree_is_what_students_need(published):
    dest, files = published
    tops = {name.split("/")[0] for name in files}
    assert tops == {"README.md", "DATASETS.md", "LICENSE", "pyproject.toml", "notebooks",
                    "casekit", ".gitignore"}
    assert sorted(p.name for p in (dest / "notebooks").iterdir()) == find_assignments()
    hosting = load_hosting()
    readme = (dest / "README.md").read_text(encoding="utf-8")
    for assignment in find_assignments():
        for path in assignment_notebooks(assignment):
            assert hosting.colab_url(f"notebooks/{assignment}/{path.name}") in readme
    assert hosting.pip_url in readme and "PERSIST" in readme
    citations = (dest / "DATASETS.md").read_text(encoding="utf-8")
    assert "Tschandl" in citations and "Pacheco" in citations and "CC BY-NC 4.0" in citations
    assert (dest / "casekit" / "__init__.py").is_file() and (dest / MANIFEST).is_file()
    assert not list(dest.rglob("__pycache__"))


def test_published_tree_holds_no_solution_hidden_test_or_rubric_text(published):
    dest, _ = published
    texts = {p.relative_to(dest).as_posix(): p.read_text(encoding="utf-8", errors="replace")
             for p in dest.rglob("*") if p.is_file()}
    documents = {name: text for name, text in texts.items() if not name.endswith(".py")}
    document_lines = {name: set(_lines(_notebook_text(text) if name.endswith(".ipynb") else text)
                                .splitlines()) for name, text in documents.items()}
    code = {name: _lines(text) for name, text in texts.items() if name.endswith(".py")}
    leaks = [f"{name}: {marker}" for name, text in documents.items() for marker in SECRET_MARKERS
             if marker in text]
    checked, public = 0, _public_lines()
    for assignment in find_assignments():  # whatever assignments exist, 05 included
        lines, blocks = _secret_lines(assignment, public)
        assert len(lines) >= 10, f"{assignment}: the scan found too few secret lines to mean much"
        checked += len(lines)
        leaks += [f"{name}: {assignment}: {line}" for line in sorted(lines)
                  for name, shown in document_lines.items() if line in shown]
        leaks += [f"{name}: {assignment}: copied block {block[0]!r}…" for block in blocks
                  for name, text in code.items()
                  if "\n".join(block) in text and (assignment, name) not in KNOWN_IN_PACKAGE]
    assert leaks == []
    assert checked > 100


def test_publishing_again_updates_only_what_publish_wrote(tmp_path):
    course = tmp_path / "course"  # one assignment keeps this test quick
    for name in ("nbgrader_config.py", "course.toml", "pyproject.toml", "LICENSE"):
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, course / name)
    shutil.copytree(ROOT / "solutions" / "01_eda", course / "solutions" / "01_eda")
    dest = tmp_path / "students"
    files = publish(dest, root=course)
    assert "notebooks/01_eda/01_eda.ipynb" in files
    stale = dest / "notebooks" / "00_old" / "00_old.ipynb"  # as if an earlier publish wrote it
    stale.parent.mkdir()
    stale.write_text("{}", encoding="utf-8")
    manifest = (dest / MANIFEST).read_text(encoding="utf-8")
    (dest / MANIFEST).write_text(manifest.replace('"files": [', '"files": [\n  '
                                                  '"notebooks/00_old/00_old.ipynb",'),
                                 encoding="utf-8")
    (dest / "CI.yml").write_text("mine", encoding="utf-8")
    assert publish(dest, root=course) == files
    assert not stale.parent.exists() and (dest / "CI.yml").read_text() == "mine"

    clone = tmp_path / "clone"  # e.g. a fresh clone whose README was made on GitHub
    clone.mkdir()
    (clone / "README.md").write_text("# students\n", encoding="utf-8")
    with pytest.raises(CourseError, match="README.md"):
        publish(clone, root=course)
    assert sorted(p.name for p in clone.iterdir()) == ["README.md"]
