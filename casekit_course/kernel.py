"""Make the Jupyter kernel named ``python3`` run *this* Python.

Notebooks name their kernel ``python3``. Which program that starts depends on the
kernelspecs Jupyter finds: a stale user-level one can point at another Python without
casekit installed. :func:`use_this_python` writes a kernelspec for ``sys.executable`` into
a private folder and puts that folder first on ``JUPYTER_PATH`` for this process and the
processes it starts (papermill, nbgrader), so notebooks always run in this environment.

Example:
    >>> from casekit_course.kernel import use_this_python
    >>> spec_dir = use_this_python()
    >>> (spec_dir / "kernel.json").is_file()
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ipykernel.kernelspec import write_kernel_spec

from casekit.io import atomic_path

KERNEL_NAME = "python3"
#: Kernels log only errors: ipykernel warns "running over TCP without encryption" at every
#: start, although casekit's kernels listen on the loopback interface only.
KERNEL_OPTIONS = ("--IPKernelApp.log_level=ERROR",)


def use_this_python() -> Path:
    """Register a ``python3`` kernel that runs ``sys.executable``; return its folder.

    Idempotent, and safe when several processes call it at once: the folder is named
    after the interpreter's path and written atomically.
    """
    digest = hashlib.sha1(sys.executable.encode()).hexdigest()[:12]
    data_dir = Path(tempfile.gettempdir()) / f"casekit-jupyter-{digest}"
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    if not _points_here(spec_dir):
        try:
            with atomic_path(spec_dir) as tmp:
                write_kernel_spec(tmp, overrides={"display_name": "Python 3 (casekit)"},
                                  extra_arguments=list(KERNEL_OPTIONS))
        except OSError:
            if not _points_here(spec_dir):  # not just another process winning the race
                raise
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if not paths or paths[0] != str(data_dir):
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(data_dir), *paths])
    return spec_dir


@contextmanager
def notebook_environment() -> Iterator[None]:
    """Environment for kernels started inside: this Python's kernel, inline plots.

    A test run's ``MPLBACKEND=Agg`` would reach the kernel and turn every ``plt.show()``
    into a warning on stderr; kernels started here use Jupyter's inline backend instead.
    """
    use_this_python()
    backend = os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend


def _points_here(spec_dir: Path) -> bool:
    try:
        spec = json.loads((spec_dir / "kernel.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    argv = spec.get("argv", [None])
    return argv[0] == sys.executable and set(KERNEL_OPTIONS) <= set(argv)
