"""Colab specifics: a restart check after installing casekit, and widgets that render.

A Colab kernel imports packages (ipywidgets, numpy, pandas...) before the first cell runs.
When the set-up cell's ``%pip install`` replaces one of them on disk, the kernel keeps the
old version in memory and mixes it with the new files: errors or blank widgets follow, far
from their cause. casekit's requirements are chosen so that Colab's preinstalled versions
satisfy them (pip then changes nothing that is loaded); :func:`check_install` verifies it
right after the install and says plainly when the session must be restarted.

Example (the Colab branch of a notebook's set-up cell)::

    %pip install --quiet "casekit @ <URL>"
    from casekit.colab import check_install
    check_install()      # raises RestartRequired: "Restart the session now ..."
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.version import InvalidVersion, Version

from casekit.environment import in_colab

RESTART_HOW = "Runtime → Restart session (or Ctrl+M .), then run this notebook from the top"


class RestartRequired(RuntimeError):
    """The install replaced packages this Python session had already imported."""


@dataclass(frozen=True)
class StalePackage:
    """A package whose version in memory differs from the one now installed on disk."""

    module: str
    distribution: str
    loaded: str
    installed: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.loaded} is loaded, {self.installed} is installed"


def session_start() -> float | None:
    """When this Python process started (Unix time; Linux ``/proc``), or None if unknown."""
    try:
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        boot = next(line for line in Path("/proc/stat").read_text(encoding="ascii").splitlines()
                    if line.startswith("btime "))
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22: start time in clock ticks
        return int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration, IndexError):
        return None


def stale_packages(modules: Iterable[str] | None = None, *,
                   since: float | None = None) -> list[StalePackage]:
    """Imported packages that were reinstalled at another version after ``since``.

    Args:
        modules: top-level module names to check; default every imported one.
        since: Unix time; only distributions installed (``.dist-info`` written) after it
            count, so a package whose ``__version__`` is merely spelt differently from its
            distribution's (``cv2`` 4.10.0 vs opencv-python 4.10.0.84) is never flagged
            and a restart always clears the list. Default: when this process started.

    Returns:
        One :class:`StalePackage` per imported module whose loaded ``__version__`` differs
        from the installed distribution's version (empty when all is well).
    """
    importlib.invalidate_caches()
    since = session_start() if since is None else since
    wanted = None if modules is None else set(modules)
    stale: dict[tuple[str, str], StalePackage] = {}
    for dist in metadata.distributions():
        if since is not None and _written_at(dist) <= since:
            continue  # cheap: only packages (re)installed during this session are read
        for name in _top_level_modules(dist):
            module = sys.modules.get(name)
            if module is None or (wanted is not None and name not in wanted):
                continue
            loaded = getattr(module, "__version__", None)
            if isinstance(loaded, str) and not _same_version(loaded, dist.version):
                found = StalePackage(name, dist.metadata["Name"], loaded, dist.version)
                stale[(name, found.distribution)] = found
    return list(stale.values())


def check_install(modules: Iterable[str] | None = None) -> None:
    """Call right after installing casekit in a running session; raise if it must restart.

    Prints one line when nothing loaded was replaced. Otherwise raises
    :class:`RestartRequired`, whose message starts with "Restart the session now" and names
    each package (loaded vs installed version), which also stops "Run all" before later
    cells run on a half-old, half-new package.
    """
    stale = stale_packages(modules)
    if stale:
        raise RestartRequired(
            "Restart the session now: installing casekit replaced packages this session had "
            f"already imported ({'; '.join(map(str, stale))}). {RESTART_HOW}; the install "
            "is then already done and this check passes."
        )
    print("casekit installed; no package this session had loaded was changed.")


def enable_widgets() -> bool:
    """In Colab, turn on its custom widget manager (ipywidgets 8 widgets need it to render).

    Returns True when it was enabled, False outside Colab (JupyterLab, VS Code, papermill
    need nothing).
    """
    if not in_colab():
        return False
    try:
        from google.colab import output  # type: ignore[import-not-found]
    except ImportError:  # a Colab-like kernel without Colab's output module
        return False
    output.enable_custom_widget_manager()
    return True


def _written_at(dist: metadata.Distribution) -> float:
    """When ``dist`` was installed: the mtime of its ``.dist-info`` folder.

    Installers (pip, uv) create that folder anew, even when they hard-link or copy older
    files into it. Unknown: minus infinity, i.e. "long ago", so a package casekit cannot
    date never asks for a restart that would not clear it.
    """
    folder = getattr(dist, "_path", None)  # PathDistribution's folder (all Pythons >= 3.8)
    if folder is None:
        metadata_file = next((f for f in dist.files or [] if f.name == "METADATA"), None)
        folder = Path(dist.locate_file(metadata_file)).parent if metadata_file else None
    try:
        return Path(folder).stat().st_mtime if folder is not None else float("-inf")
    except OSError:
        return float("-inf")


def _top_level_modules(dist: metadata.Distribution) -> set[str]:
    """Top-level import names a distribution installs (``top_level.txt``, else its RECORD)."""
    listed = dist.read_text("top_level.txt")
    if listed:
        return {line.strip() for line in listed.splitlines() if line.strip()}
    names = set()
    for file in dist.files or []:
        first = file.parts[0]
        if len(file.parts) > 1 and not first.endswith((".dist-info", ".data")) \
                and first not in ("..", "__pycache__"):
            names.add(first)
        elif len(file.parts) == 1 and first.endswith(".py"):
            names.add(first[:-3])
    return names


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b
