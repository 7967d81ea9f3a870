"""Make the Jupyter kernel named ``python3`` run *this* Python, sandboxed when grading.

Notebooks name their kernel ``python3``. Which program that starts depends on the
kernelspecs Jupyter finds: a stale user-level one can point at another Python without
casekit installed. :func:`use_this_python` writes a kernelspec for ``sys.executable`` into
a private folder and puts that folder first on ``JUPYTER_PATH`` for this process and the
processes it starts (papermill, nbgrader), so notebooks always run in this environment.

:class:`SandboxedKernelManager` starts such a kernel inside a
:class:`casekit_course.sandbox.Sandbox`: it gives the kernel a private folder (a throw-away
copy of the notebook's folder, a home, and the connection file), talks to it over Unix
sockets in that folder (TCP cannot cross the sandbox's empty network), puts the sandbox in
control groups bounding its memory and processes where the machine allows, and deletes the
folder when the kernel is gone.

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
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from ipykernel.kernelspec import write_kernel_spec
from jupyter_client import AsyncKernelManager
from traitlets import Instance

from casekit.io import atomic_path
from casekit_course.sandbox import (
    Limits,
    Sandbox,
    make_cgroups,
    prepare_folder,
    remove_cgroups,
    start_sandbox_process,
)

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


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run inside :attr:`sandbox` with :attr:`limits`.

    The kernel's working folder is a copy of the ``cwd`` it is started with.

    Example:
        >>> from casekit_course.sandbox import find_sandbox
        >>> km = SandboxedKernelManager(kernel_name="python3", sandbox=find_sandbox("bwrap"))
        >>> km.start_kernel(cwd="submitted/alice/01_eda")  # doctest: +SKIP
    """

    sandbox = Instance(Sandbox, args=())
    limits = Instance(Limits, args=())
    _folder: Path | None = None
    _cgroups: list[Path] = []
    _watch: int = -1  # the grader's end of the sandbox's watch pipe

    async def _async_pre_start_kernel(self, **kw):
        """Make the kernel's private folder, with its connection file and sockets in it."""
        self._remove_folder()
        self._folder = Path(tempfile.mkdtemp(prefix="casekit-kernel-"))
        cwd = kw.get("cwd")
        prepare_folder(self._folder, submission=Path(cwd) if cwd else None)
        runtime = self._folder / "runtime"
        # SIGINT to the launched process would stop at bwrap (the kernel runs in its own
        # session): interrupt with a message, which the kernel turns into SIGINT itself
        self.kernel_spec.interrupt_mode = "message"
        self.transport = "ipc"
        self.connection_file = str(runtime / "kernel.json")
        self.ip = str(runtime / "kernel-ipc")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        """Launch ``kernel_cmd`` wrapped in the sandbox's command line."""
        folder = self._folder
        assert folder is not None, "_async_pre_start_kernel makes the folder"
        if os.geteuid() == 0:  # the kernel runs as the folder's owner: let it read the file
            stat = folder.stat()
            os.chown(self.connection_file, stat.st_uid, stat.st_gid)
        env = kw.get("env") or os.environ
        watch = -1
        if self.sandbox.kind == "bwrap":  # containers bound memory and processes themselves
            self._cgroups = make_cgroups(self._container_name(), self.limits)
            kw["preexec_fn"] = partial(start_sandbox_process, self._cgroups, os.getpid())
            watch, self._watch = os.pipe()
            kw["pass_fds"] = (watch,)
        command = self.sandbox.command(kernel_cmd, folder=folder, limits=self.limits, env=env,
                                       name=self._container_name(), watch_fd=watch)
        self.log.debug("Sandboxed kernel: %s", command)
        try:
            await super()._async_launch_kernel(command, **{**kw, "cwd": str(folder)})
        finally:
            if watch >= 0:
                os.close(watch)  # the sandbox holds it now

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Remove the kernel's sockets, container and private folder."""
        await super()._async_cleanup_resources(restart=restart)
        self._remove_folder()

    cleanup_resources = _async_cleanup_resources

    def _container_name(self) -> str:
        return self._folder.name if self._folder else ""  # casekit-kernel-...

    def _remove_folder(self) -> None:
        if self._folder is None:
            return
        if self._watch >= 0:  # everything left in the sandbox is killed
            os.close(self._watch)
            self._watch = -1
        stop = self.sandbox.stop_command(self._container_name())
        if stop:
            subprocess.run(stop, capture_output=True, timeout=60, check=False)
        remove_cgroups(self._cgroups)
        self._cgroups = []
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None
