"""Where student code runs while it is graded: a sandbox around each kernel, and its limits.

The grader runs every submission's kernel inside a sandbox that sees only:

* a throw-away copy of that one submission (writable; the kernel's working folder
  ``/home/student/submission``), a throw-away home ``/home/student`` with
  ``CASEKIT_DATA=/home/student/casekit_data``, and a private ``/tmp``;
* read-only: the system (``/usr``, ``/etc``, ...), this Python, its site-packages and the
  installed ``casekit`` package folder (not the repository around it: no ``solutions/``,
  ``source/``, ``release/``, gradebook, other students or the instructor's home);
* its own ``/proc`` (a pid namespace: no other process is visible), no network, and
  nothing that outlives the kernel (``--die-with-parent``, ``--new-session``).

Kinds: ``bwrap`` (bubblewrap, the default on Linux), ``podman`` or ``docker`` (chosen by the
instructor; the host's Python is mounted read-only into :attr:`Sandbox.image`), and ``none``
(``--no-sandbox``: recorded in the export). :func:`sandbox_config` turns a sandbox and its
:class:`Limits` into the nbgrader configuration that makes
:class:`casekit_course.guard.GuardedExecute` start every kernel inside it.

Example:
    >>> limits = Limits(cell_timeout_s=60, notebook_timeout_s=300)
    >>> config = sandbox_config(find_sandbox("bwrap"), limits)
    >>> config.GuardedExecute.sandbox, config.GuardedExecute.notebook_timeout
    ('bwrap', 300)
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

import casekit
from casekit_course.config import CourseError

KINDS = ("bwrap", "podman", "docker", "none")
#: Paths inside the sandbox.
HOME = "/home/student"
WORKDIR = f"{HOME}/submission"
#: Environment variables passed into the sandbox (everything else is dropped).
PASSED_ENV = ("LANG", "LC_ALL", "NBGRADER_EXECUTION", "MPLBACKEND", "PYTHONHASHSEED",
              "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "OMP_NUM_THREADS", "CASEKIT_SELFCHECK")
#: System folders bound read-only (those that exist).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
#: Where a kernel run by root in a bwrap sandbox gets its unprivileged uid from.
FIRST_UID, UID_COUNT = 200_000, 800_000
#: Runs the kernel ("$@") and kills everything in the sandbox once the grader's end of the
#: watch pipe closes; ends with the kernel.
WATCH = '"$@" & kernel=$!; (read -r _ <&{fd}; kill -KILL -1) & wait "$kernel"'
#: The C library, for prctl in a sandbox's first process (Linux only).
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


class SandboxUnavailable(CourseError):
    """The chosen sandbox cannot start on this machine (the message says the fix)."""


@dataclass(frozen=True)
class Limits:
    """What one graded notebook may use. Enforced per kernel (see the module doc)."""

    #: Seconds for one cell.
    cell_timeout_s: int = 120
    #: Seconds for the whole notebook, restarts and replays included.
    notebook_timeout_s: int = 300
    #: Memory of each kernel process (its data segment; for containers: the whole container).
    memory_bytes: int = 2 * 1024**3
    #: Processes and threads the kernel may have at once.
    processes: int = 256
    #: Bytes kept of one output (a cell's text stream, one image, one result).
    output_bytes: int = 200_000
    #: Bytes kept of all outputs of a notebook.
    notebook_output_bytes: int = 800_000


@dataclass(frozen=True)
class Sandbox:
    """A way to run a kernel command isolated; build one with :func:`find_sandbox`."""

    kind: str = "none"
    #: The ``bwrap`` / ``podman`` / ``docker`` program.
    executable: str = ""
    #: Container image (podman, docker) that provides the system; the host's Python is mounted.
    image: str = "debian:stable-slim"

    def command(self, kernel_cmd: Sequence[str], *, folder: Path, limits: Limits,
                env: Mapping[str, str], name: str = "", watch_fd: int = -1) -> list[str]:
        """The command line that runs ``kernel_cmd`` in this sandbox.

        ``folder`` is the kernel's private host folder (see :func:`prepare_folder`): its
        ``work/`` becomes the working folder, ``home/`` the home and ``runtime/`` (the
        connection file and sockets) keeps its host path. ``name`` names a container.
        ``watch_fd`` (bwrap): the read end of a pipe whose write end the grader holds; when
        it closes (the grader is done with the kernel, or died), everything inside is killed.
        """
        environment = _environment(env)
        if self.kind == "bwrap":
            return self._bwrap(kernel_cmd, folder, limits, environment, watch_fd)
        if self.kind in ("podman", "docker"):
            return self._container(kernel_cmd, folder, limits, environment, name)
        return list(kernel_cmd)

    def stop_command(self, name: str) -> list[str]:
        """What removes a container that outlived its client (empty for other kinds)."""
        return [self.executable, "rm", "-f", name] if self.kind in ("podman", "docker") else []

    def _bwrap(self, kernel_cmd, folder, limits, environment, watch_fd) -> list[str]:
        runtime = str(folder / "runtime")
        argv = [self.executable, "--unshare-ipc", "--unshare-pid", "--unshare-net",
                "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                "--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(limits.memory_bytes), "--tmpfs", "/tmp",
                # shared memory for multiprocessing and joblib (else a warning on stderr)
                "--perms", "1777", "--size", str(limits.memory_bytes), "--tmpfs", "/dev/shm"]
        if os.geteuid() != 0:  # root's kernels drop to their own uid below instead
            argv.insert(1, "--unshare-user")
        for path in [p for p in SYSTEM_DIRS if os.path.isdir(p)]:
            argv += ["--ro-bind", path, path]
        made = {"/tmp", "/proc", "/dev", "/dev/shm", *SYSTEM_DIRS}
        system = [p for p in readable_paths() if not p.startswith(SYSTEM_DIRS)]
        for source, target, mode in [*[(p, p, "--ro-bind") for p in system],
                                     (str(folder / "home"), HOME, "--bind"),
                                     (str(folder / "work"), WORKDIR, "--bind"),
                                     (runtime, runtime, "--bind")]:
            argv += _parents(target, made) + [mode, source, target]
        argv += ["--chdir", WORKDIR, "--clearenv"]
        for key, value in environment.items():
            argv += ["--setenv", key, value]
        watch = ["/bin/sh", "-c", WATCH.format(fd=watch_fd), "sh"] if watch_fd >= 0 else []
        return argv + [*_drop_root(folder), *_rlimits(limits), *watch, *kernel_cmd]

    def _container(self, kernel_cmd, folder, limits, environment, name) -> list[str]:
        runtime = str(folder / "runtime")
        argv = [self.executable, "run", "--rm", "-i", "--name", name, "--network", "none",
                "--memory", str(limits.memory_bytes), "--memory-swap", str(limits.memory_bytes),
                "--pids-limit", str(limits.processes), "--read-only", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges", "--user", f"{_uid(folder)}",
                "--tmpfs", "/tmp", "-w", WORKDIR,
                "-v", f"{folder / 'home'}:{HOME}", "-v", f"{folder / 'work'}:{WORKDIR}",
                "-v", f"{runtime}:{runtime}"]
        for path in readable_paths():
            argv += ["-v", f"{path}:{path}:ro"]
        for key, value in environment.items():
            argv += ["-e", f"{key}={value}"]
        return argv + [self.image, *kernel_cmd]


def find_sandbox(kind: str = "auto", *, image: str = "debian:stable-slim") -> Sandbox:
    """The sandbox to grade with: ``auto`` is bubblewrap on Linux.

    Raises:
        SandboxUnavailable: one line saying what failed and the fix.

    Example:
        >>> find_sandbox("none").kind
        'none'
    """
    if kind == "auto":
        kind = "bwrap"
    if kind not in KINDS:
        raise SandboxUnavailable(f"unknown sandbox {kind!r}: choose one of {', '.join(KINDS)}")
    if kind == "none":
        return Sandbox("none")
    executable = shutil.which(kind)
    if executable is None:
        fix = ("install it: apt-get install bubblewrap" if kind == "bwrap"
               else f"install {kind}, or choose --sandbox bwrap")
        raise SandboxUnavailable(f"sandbox {kind} not available: `{kind}` is not installed "
                                 f"({fix}), or grade with --no-sandbox (recorded in the export)")
    probe = ([executable, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"]
             if kind == "bwrap" else [executable, "info"])
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
        problem = "" if done.returncode == 0 else _first_line(done.stderr or done.stdout)
    except (OSError, subprocess.TimeoutExpired) as error:
        problem = str(error)
    if problem:
        fix = ("user namespaces must be allowed (sysctl kernel.unprivileged_userns_clone=1)"
               if kind == "bwrap" else f"start the {kind} service")
        raise SandboxUnavailable(f"sandbox {kind} not available: {problem} ({fix}), or grade "
                                 "with --no-sandbox (recorded in the export)")
    return Sandbox(kind, executable, image)


def sandbox_config(sandbox: Sandbox, limits: Limits = Limits()) -> Config:
    """nbgrader configuration that runs every graded kernel in ``sandbox`` with ``limits``.

    Merge it into an autograde run's config (``config.merge(sandbox_config(...))``).
    """
    config = Config()
    guard = config.GuardedExecute
    guard.sandbox = sandbox.kind
    guard.sandbox_executable = sandbox.executable
    guard.sandbox_image = sandbox.image
    guard.timeout = limits.cell_timeout_s
    guard.notebook_timeout = limits.notebook_timeout_s
    guard.memory_limit_mb = max(1, limits.memory_bytes // 2**20)
    guard.process_limit = limits.processes
    guard.output_bytes = limits.output_bytes
    guard.notebook_output_bytes = limits.notebook_output_bytes
    return config


def readable_paths() -> list[str]:
    """Host folders a kernel reads: this Python (venv and base install) and ``casekit``."""
    package = str(Path(casekit.__file__).resolve().parent)
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths.add(package)
    # a folder inside another one is already there (e.g. a venv inside the install)
    return sorted(p for p in paths
                  if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in paths))


def prepare_folder(folder: Path, *, submission: Path | None) -> None:
    """Fill a kernel's private host ``folder``: ``work/`` (a copy of ``submission``),
    ``home/``, ``runtime/``; owned by a fresh uid of the kernel's own when run as root.

    Example:
        >>> prepare_folder(Path(tempfile.mkdtemp()), submission=None)  # doctest: +SKIP
    """
    work = folder / "work"
    if submission is not None and submission.is_dir():
        shutil.copytree(submission, work, symlinks=True)
    work.mkdir(parents=True, exist_ok=True)
    (folder / "home" / "casekit_data").mkdir(parents=True)
    (folder / "runtime").mkdir()
    if os.geteuid() == 0:  # a fresh unprivileged uid for this kernel (see _drop_root)
        uid = FIRST_UID + secrets.randbelow(UID_COUNT)
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, uid, uid)


def make_cgroups(name: str, limits: Limits) -> list[Path]:
    """Control groups named ``name`` that bound a whole sandbox's memory and processes.

    Made where this process may (root with cgroup v1 controllers, or a cgroup v2 tree with
    ``memory`` and ``pids`` delegated); elsewhere ``[]``, and the per-process limits set
    inside the sandbox remain. Join them with :func:`join_cgroups` before exec; remove them
    with :func:`remove_cgroups`.

    Example:
        >>> groups = make_cgroups("casekit-kernel-1", Limits())  # doctest: +SKIP
    """
    made: list[Path] = []
    try:
        for base, settings in cgroup_places(limits):
            group = base / name
            group.mkdir()
            made.append(group)
            for setting, value in settings.items():
                (group / setting).write_text(str(value), encoding="ascii")
    except OSError:  # not allowed here (not root, controllers not delegated)
        remove_cgroups(made)
        return []
    return made


def cgroup_places(limits: Limits) -> list[tuple[Path, dict[str, int]]]:
    """(folder to make a sandbox's control group in, its limit settings) for each hierarchy
    that has the ``memory`` and ``pids`` controllers; ``[]`` without cgroups."""
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    own = dict(line.split(":", 2)[1:] for line in lines if line.count(":") >= 2)
    wanted = {"memory": ("memory.limit_in_bytes", limits.memory_bytes),
              "pids": ("pids.max", limits.processes)}
    if set(wanted) <= set(own):  # cgroup v1: one tree per controller
        return [(Path("/sys/fs/cgroup", c, own[c].lstrip("/")), {f: v})
                for c, (f, v) in wanted.items()]
    if "" in own and Path("/sys/fs/cgroup/cgroup.controllers").exists():  # cgroup v2
        return [(Path("/sys/fs/cgroup", own[""].lstrip("/")),
                 {"memory.max": limits.memory_bytes, "memory.swap.max": 0,
                  "pids.max": limits.processes})]
    return []


def start_sandbox_process(groups: Sequence[Path], parent: int) -> None:
    """Run in the sandbox's first process before exec: die with the grader, join ``groups``.

    bubblewrap's ``--die-with-parent`` takes effect only once bwrap runs: a grader killed
    in between would leave the sandbox running. The kill signal is set here already, and a
    grader that is already gone (``parent``, its pid, no longer our parent) ends it at once.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    join_cgroups(groups)


def join_cgroups(groups: Sequence[Path]) -> None:
    """Move this process into ``groups`` (its children follow); run in the child before exec."""
    for group in groups:
        try:
            (group / "cgroup.procs").write_text(str(os.getpid()), encoding="ascii")
        except OSError:
            pass  # the rlimits inside the sandbox still bound each process


def remove_cgroups(groups: Sequence[Path]) -> None:
    """Remove control groups made by :func:`make_cgroups` once their processes are gone."""
    for group in groups:
        for _ in range(50):  # the dying sandbox's processes leave within moments
            try:
                group.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


def _uid(folder: Path) -> int:
    """The kernel's uid: the owner of its private folder (see :func:`prepare_folder`)."""
    return folder.stat().st_uid


def _drop_root(folder: Path) -> list[str]:
    """Run as root, the kernel becomes an unprivileged uid of its own: the kernel does not
    enforce ``RLIMIT_NPROC`` for root, and root could read every file it sees."""
    if os.geteuid() != 0:
        return []
    uid = _uid(folder)
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]


def _rlimits(limits: Limits) -> list[str]:
    """Hard limits set inside the sandbox (student code cannot raise them again)."""
    return ["prlimit", f"--nproc={limits.processes}:{limits.processes}",
            f"--data={limits.memory_bytes}:{limits.memory_bytes}", "--core=0:0", "--"]


def _parents(target: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing parent of ``target``, world-readable (bwrap's own are 0700)."""
    argv = []
    parts = Path(target).parts
    for i in range(2, len(parts)):
        parent = str(Path(*parts[:i]))
        if parent not in made:
            made.add(parent)
            argv += ["--perms", "0755", "--dir", parent]
    made.add(target)
    return argv


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    kept = {key: env[key] for key in PASSED_ENV if key in env}
    # JPY_PARENT_PID=1: the kernel's parent is the sandbox's init (pid 1), so ipykernel
    # neither watches it nor prints its "`ipython kernel` entry point" banner
    return {**kept, "HOME": HOME, "CASEKIT_DATA": f"{HOME}/casekit_data", "TMPDIR": "/tmp",
            "JPY_PARENT_PID": "1",
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"}


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "it exited with an error"
