"""What the graded cells of the course notebooks share: hidden-test markers, own-work guard.

Two things live here because the notebooks' kernels, the self-check and the grading tools
all need them and none of them should import nbgrader to get them:

* :data:`HIDDEN_TESTS`, the one pattern of a hidden-test region
  (``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``, nbgrader's markers), used by
  :mod:`casekit.selfcheck` (which strips them) and :mod:`casekit_course.mutants` and the
  feedback scrubbing of :mod:`casekit_course.guard` (which look for them);
* :data:`SKIP_TAG` and :func:`is_heavy`: the cell tag of heavy cells (training), which the
  self-check and :mod:`casekit_course.heavy` (nbgrader's validate and autograde) skip;
* :func:`without_casekit`, which the test cells use to call a student's function while
  casekit's own version of the same idea is unavailable: an exercise such as "write the
  balanced class weights" must not be passable by calling ``casekit.imbalance.class_weights``.

Example:
    >>> import casekit.imbalance
    >>> own = without_casekit("casekit.imbalance.class_weights")
    >>> weights = lambda: casekit.imbalance.class_weights([0, 1, 1])
    >>> own(weights)  # doctest: +ELLIPSIS, +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    OwnImplementationRequired: this exercise asks for your own implementation: ...
    >>> sorted(weights())  # restored afterwards
    [0, 1]
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, MutableMapping
from types import ModuleType
from typing import Any

#: A hidden-test region with its marker lines (multi-line; group 1: the lines between).
HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n(.*?)^[ \t]*### END HIDDEN TESTS[^\n]*(?:\n|$)",
    re.S | re.M,
)


#: The cell tag of a heavy cell (training, long evaluations): skipped while grading.
SKIP_TAG = "skip-when-grading"


def is_heavy(cell: MutableMapping[str, Any]) -> bool:
    """A code cell tagged :data:`SKIP_TAG` that is neither a test nor locked.

    A student's answer cell may be heavy (the training calls they write); a test cell or a
    locked cell (given code, test set-up) never is, whatever its tags: a tag cannot switch
    a test or its set-up off.

    Example:
        >>> is_heavy({"cell_type": "code", "metadata": {"tags": [SKIP_TAG]}, "source": ""})
        True
    """
    metadata = cell.get("metadata", {})
    nbgrader = metadata.get("nbgrader", {})
    return (cell.get("cell_type") == "code" and SKIP_TAG in metadata.get("tags", [])
            and not nbgrader.get("grade") and not nbgrader.get("locked"))


def strip_hidden_tests(source: str) -> str:
    """``source`` without its hidden-test regions (what students see of a test cell)."""
    return HIDDEN_TESTS.sub("", source)


def hidden_test_lines(source: str) -> list[str]:
    """The stripped, non-empty lines inside the hidden-test regions of ``source``."""
    return [line.strip() for region in HIDDEN_TESTS.findall(source)
            for line in region.splitlines() if line.strip()]


class OwnImplementationRequired(RuntimeError):
    """Raised by a casekit function that an exercise asks students to write themselves."""


class without_casekit:  # noqa: N801  (used like a function: `own = without_casekit(...)`)
    """Make casekit functions unavailable while a student's function is checked.

    ``names`` are dotted names (``"casekit.imbalance.class_weights"``). Inside the
    ``with`` block, or during ``own(function, *args)``, every loaded ``casekit`` module that
    holds one of these objects, and every name in ``namespace`` (the notebook's globals,
    where ``from casekit.x import f`` put it) bound to it, gives a stand-in that raises
    :class:`OwnImplementationRequired`. Everything is restored afterwards, also on error.
    Reusable; not thread-safe (a notebook cell runs one thing at a time).

    Raises:
        ImportError, AttributeError: a name that does not exist (a typo in a test cell).
    """

    def __init__(self, *names: str, namespace: MutableMapping[str, Any] | None = None) -> None:
        self.names = names
        self.namespace = namespace
        self._saved: list[tuple[Any, str, Any]] = []
        for name in names:  # fail early on a typo
            _lookup(name)

    def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` with the casekit functions unavailable."""
        with self:
            return function(*args, **kwargs)

    def __enter__(self) -> without_casekit:
        originals = {id(_lookup(name)): name for name in self.names}
        holders: list[Any] = [m for key, m in list(sys.modules.items())
                              if isinstance(m, ModuleType) and
                              (key == "casekit" or key.startswith("casekit."))]
        for module in holders:
            for attr, value in list(vars(module).items()):
                if id(value) in originals:
                    self._saved.append((module, attr, value))
                    setattr(module, attr, _refusal(originals[id(value)]))
        if self.namespace is not None:
            for key, value in list(self.namespace.items()):
                if id(value) in originals:
                    self._saved.append((self.namespace, key, value))
                    self.namespace[key] = _refusal(originals[id(value)])
        return self

    def __exit__(self, *exc: object) -> None:
        while self._saved:
            holder, key, value = self._saved.pop()
            if isinstance(holder, ModuleType):
                setattr(holder, key, value)
            else:
                holder[key] = value


def _lookup(name: str) -> Any:
    module_name, _, attr = name.rpartition(".")
    if not module_name.startswith("casekit"):
        raise ValueError(f"{name!r} is not a casekit name")
    return getattr(importlib.import_module(module_name), attr)


def _refusal(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OwnImplementationRequired(
            f"this exercise asks for your own implementation: {name} is not available "
            "while it is checked")

    refuse.__name__ = name.rpartition(".")[2]
    return refuse
