"""casekit's modules import each other without a cycle, counting imports inside functions too.

An import moved into a function hides a cycle from Python but not from this test: every
``import`` statement anywhere in a module is an edge. ``from package import name`` is an
edge to ``package.name`` when that is a module, else to ``package``.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "casekit"


def module_files(package: Path) -> dict[str, Path]:
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """``{module: modules it imports}`` for every module of ``package``."""
    modules = module_files(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}"
                           in modules else node.module for alias in node.names]
            else:
                continue
            graph[name] |= {target for target in targets if target in modules} - {name}
    return graph


def test_casekit_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 50 and "casekit.metrics.ranking" in graph["casekit.metrics.subgroups"]
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle among casekit modules: {' -> '.join(error.args[1])}")


def test_the_check_finds_a_cycle_hidden_inside_a_function(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import helper\n")
    (package / "b.py").write_text("def helper():\n    from pkg import a\n    return a\n")
    with pytest.raises(CycleError):
        tuple(TopologicalSorter(import_graph(package)).static_order())
