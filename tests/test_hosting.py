"""Where the kit is hosted: one setting (course.toml), stamped into every notebook and document."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from casekit_course.config import CourseError, course_root
from casekit_course.hosting import (
    DOCUMENTS,
    PLACEHOLDER,
    SETTINGS_FILE,
    Hosting,
    foreign_links,
    load_hosting,
    stamp,
)

ROOT = course_root()


def _copy_course(tmp_path: Path) -> Path:
    for name in ("nbgrader_config.py", SETTINGS_FILE, *DOCUMENTS):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    for folder in ("solutions", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_every_notebook_and_document_names_the_configured_repository():
    assert foreign_links() == []
    hosting = load_hosting()
    texts = [(ROOT / name).read_text(encoding="utf-8") for name in DOCUMENTS]
    assert all(hosting.repository in text for text in texts)
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        source = "".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert hosting.colab_url(path.relative_to(ROOT).as_posix()) in source, path
        assert f'CASEKIT = "{hosting.pip_url}"' in source, path
    assert "github.com/casekit/casekit" not in "".join(texts)


def test_the_check_names_a_foreign_link_and_stamping_fixes_it(tmp_path):
    course = _copy_course(tmp_path)
    readme = course / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8")
                      + '\npip install "casekit @ git+https://github.com/casekit/casekit"\n'
                      "see https://github.com/someone/casekit\n", encoding="utf-8")
    (course / SETTINGS_FILE).write_text('[hosting]\nrepository = "https://github.com/my-school/'
                                        'dl-course"\nbranch = "spring-2027"\n', encoding="utf-8")
    problems = foreign_links(course)
    assert "README.md: git+https://github.com/casekit/casekit" in problems
    assert "README.md: github.com/someone/casekit" in problems
    assert any(p.startswith("solutions/01_eda/01_eda.ipynb: https://colab") for p in problems)
    assert any(p.startswith("pyproject.toml: Homepage") for p in problems)

    changed = stamp(course)
    assert course / "pyproject.toml" in changed
    assert course / "solutions/01_eda/01_eda.ipynb" in changed
    # the free-text mention is not a link form stamp knows: still reported, nothing else is
    assert foreign_links(course, folders=("solutions",)) == [
        "README.md: github.com/someone/casekit"]
    nb = nbformat.read(course / "solutions/02_binary/02_binary.ipynb", as_version=4)
    source = "".join(c.source for c in nb.cells)
    assert ('CASEKIT = "git+https://github.com/my-school/dl-course@spring-2027"' in source)
    assert ("https://colab.research.google.com/github/my-school/dl-course/blob/spring-2027/"
            "notebooks/02_binary/02_binary.ipynb" in source)
    assert 'Homepage = "https://github.com/my-school/dl-course"' in (
        course / "pyproject.toml").read_text(encoding="utf-8")
    assert stamp(course) == []  # idempotent


def test_settings_are_checked():
    assert Hosting(PLACEHOLDER).is_placeholder
    assert Hosting("https://github.com/a/b.git/").repository == "https://github.com/a/b"
    with pytest.raises(CourseError, match="https://github.com/<owner>/<name>"):
        Hosting("https://gitlab.com/a/b")
    with pytest.raises(CourseError, match="branch"):
        Hosting("https://github.com/a/b", branch="main; rm -rf /")


_SETUP_RUNNER = """
import json, sys, types
from IPython.core.interactiveshell import InteractiveShell
sys.modules["google.colab"] = types.ModuleType("google.colab")  # as in a Colab kernel
shell = InteractiveShell.instance()
calls = []
shell.register_magic_function(lambda line: calls.append(line), "line", "pip")
result = shell.run_cell(json.loads(sys.argv[1]))
error = result.error_in_exec
print(json.dumps({"error": type(error).__name__, "message": str(error), "pip": calls}))
"""


def _run_setup_cell(source: str) -> dict:
    """Run a notebook's set-up cell in an IPython shell that looks like Colab (pip recorded)."""
    out = subprocess.run([sys.executable, "-c", _SETUP_RUNNER, json.dumps(source)],
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _setup_cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code" and "%pip" in c.source)


def test_setup_cell_refuses_the_placeholder_with_one_sentence():
    setup = _setup_cell(ROOT / "notebooks" / "01_eda" / "01_eda.ipynb")
    assert f'CASEKIT = "{Hosting(PLACEHOLDER).pip_url}"' in setup  # the repository's default
    outcome = _run_setup_cell(setup)
    assert outcome["error"] == "SystemExit" and outcome["pip"] == []
    assert "does not say where casekit is hosted" in outcome["message"]
    assert "course.toml" in outcome["message"] and "\n" not in outcome["message"]

    stamped = setup.replace(Hosting(PLACEHOLDER).pip_url, "git+https://github.com/my-school/x@main")
    stamped = stamped.split("\nfrom pathlib import Path")[0]  # the install part only
    stamped = stamped.replace("from casekit.colab import check_install\n", "")
    stamped = stamped.replace("check_install()", "pass")
    outcome = _run_setup_cell(stamped)
    assert outcome["error"] == "NoneType"
    assert outcome["pip"] == ['install --quiet "casekit @ git+https://github.com/my-school/x@main"']
