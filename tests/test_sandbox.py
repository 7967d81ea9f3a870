"""The grading sandbox (casekit_course.sandbox) with the real bubblewrap.

A small notebook, run by GuardedExecute with ``sandbox_config(find_sandbox("bwrap"), ...)``,
attacks from inside: it reads and writes files planted beside its course (gradebook,
solutions), lists /proc, connects to a TCP server this test runs on 127.0.0.1, allocates
more than its memory, forks until refused, and prints 3 million numbers. A second notebook
loops forever in a function that three cells call: one notebook timeout, not three.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from casekit_course import course_root
from casekit_course.guard import CUT, GuardedExecute
from casekit_course.kernel import SandboxedKernelManager, notebook_environment
from casekit_course.sandbox import (
    Limits,
    Sandbox,
    SandboxUnavailable,
    cgroup_places,
    find_sandbox,
    make_cgroups,
    prepare_folder,
    remove_cgroups,
    sandbox_config,
)

pytestmark = pytest.mark.xdist_group("grading-sandbox")
LIMITS = Limits(cell_timeout_s=20, notebook_timeout_s=120, memory_bytes=1024**3, processes=64,
                output_bytes=20_000, notebook_output_bytes=60_000)
#: A child process that outlived its kernel would show this argument on the host.
SLEEPER = "6123.25"


def _execute(cells: list[str], folder: Path, limits: Limits = LIMITS, kind: str = "bwrap"):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    config = Config()
    config.merge(sandbox_config(find_sandbox(kind), limits))
    with notebook_environment():
        nb, _ = GuardedExecute(config=config).preprocess(
            nb, {"metadata": {"path": str(folder)}})
    return nb


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _errors(cell) -> list[str]:
    return [o.ename for o in cell.outputs if o.output_type == "error"]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """A course with a gradebook and solutions; alice's notebook attacks from her folder."""
    course = tmp_path_factory.mktemp("course")
    (course / "gradebook.db").write_text("grades", encoding="utf-8")
    (course / "solutions" / "01").mkdir(parents=True)
    (course / "solutions" / "01" / "01.ipynb").write_text("hidden tests", encoding="utf-8")
    folder = course / "autograded" / "alice" / "01"
    folder.mkdir(parents=True)
    (folder / "data.csv").write_text("a,b\n", encoding="utf-8")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(60)
    accepted = []
    threading.Thread(target=lambda: _accept(server, accepted), daemon=True).start()
    port = server.getsockname()[1]
    cells = [
        # 0: its own folder is a copy of the submission, and writable
        "import os\nprint(sorted(os.listdir('.')), os.getcwd())\n"
        "open('mine.txt', 'w').write('x')\nprint(os.environ['CASEKIT_DATA'])",
        # 1: files beside the course, by relative and absolute path
        f"for path in ['../../../gradebook.db', {str(course / 'gradebook.db')!r},\n"
        f"             {str(course / 'solutions/01/01.ipynb')!r},\n"
        f"             {str(course_root() / 'solutions')!r}, {str(course_root())!r} + '/.git']:\n"
        "    print(path, os.path.exists(path))",
        # 2: writing the gradebook
        f"open({str(course / 'gradebook.db')!r}, 'w').write('all marks')",
        # 3: other processes
        "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))",
        # 4: the network
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)",
        # 5: memory (1.5 GiB against a 1 GiB limit)
        "block = bytearray(3 * 2**29)",
        # 6: processes
        "import signal\nchildren = []\n"
        "try:\n"
        "    for _ in range(1000):\n"
        "        child = os.fork()\n"
        "        if child == 0:\n"
        f"            os.execv('/bin/sleep', ['sleep', '{SLEEPER}'])\n"
        "        children.append(child)\n"
        "except OSError as error:\n"
        "    print(len(children), type(error).__name__)\n"
        "for child in children[1:]:  # the first is left running: it must die with the kernel\n"
        "    os.kill(child, signal.SIGKILL)\n"
        "    os.waitpid(child, 0)",
        # 7: output
        "print(list(range(3_000_000)))",
        # 8: the kernel still works, with shared memory (joblib needs it, else it warns)
        "import multiprocessing\nmultiprocessing.Semaphore()\nprint('still running')",
    ]
    nb = _execute(cells, folder)
    server.close()
    return course, folder, nb, accepted


def _accept(server, accepted):
    try:
        accepted.append(server.accept())
    except OSError:
        pass


def test_the_kernel_works_on_a_throw_away_copy_of_its_submission(attacked):
    _, folder, nb, _ = attacked
    assert _text(nb.cells[0]) == ("['data.csv'] /home/student/submission\n"
                                  "/home/student/casekit_data\n")
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv"], "the original is untouched"


def test_files_beside_the_course_cannot_be_read_or_written(attacked):
    course, _, nb, _ = attacked
    assert _text(nb.cells[1]).count(" False\n") == 5 and "True" not in _text(nb.cells[1])
    assert _errors(nb.cells[2]) == ["FileNotFoundError"]
    assert (course / "gradebook.db").read_text(encoding="utf-8") == "grades"


def test_other_processes_and_the_network_are_out_of_sight(attacked):
    _, _, nb, accepted = attacked
    pids = json.loads(_text(nb.cells[3]))
    assert len(pids) <= 5 and max(pids) < 10, f"only the sandbox's processes: {pids}"
    assert _errors(nb.cells[4]) in (["ConnectionRefusedError"], ["OSError"])
    assert accepted == [], "the server on the host's loopback was reached"


def test_memory_and_processes_are_bounded(attacked):
    _, _, nb, _ = attacked
    assert _errors(nb.cells[5]) == ["MemoryError"]
    children, error = _text(nb.cells[6]).split()
    assert error == "BlockingIOError" and 0 < int(children) < LIMITS.processes
    assert _text(nb.cells[8]) == "still running\n"
    host = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    outlived = [p for p in host if SLEEPER.encode() in _read(p / "cmdline")]
    assert outlived == [], "a process outlived its kernel"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def test_a_huge_print_is_cut_to_the_byte_limit(attacked):
    _, _, nb, _ = attacked
    text = _text(nb.cells[7])
    assert text.startswith("[0, 1, 2, 3")
    assert f"[{CUT}: over {LIMITS.output_bytes} bytes for one output]" in text
    assert len(text.encode()) < LIMITS.output_bytes
    assert len(nbformat.writes(nb).encode()) < LIMITS.notebook_output_bytes + 20_000


def test_outputs_are_cut_per_output_and_per_notebook_and_errors_are_kept(tmp_path):
    limits = Limits(output_bytes=20_000, notebook_output_bytes=50_000)
    nb = _execute(["print('x' * 30_000)", "print('y' * 30_000)", "print('z' * 30_000)",
                   "print('w' * 1_000)", "raise ValueError('v' * 100_000)"], tmp_path, limits,
                  kind="none")
    texts = [_text(cell) for cell in nb.cells]
    for text, letter, kept, why in [(texts[0], "x", 20_000, "20000 bytes for one output"),
                                    (texts[1], "y", 20_000, "20000 bytes for one output"),
                                    (texts[2], "z", 10_000, "50000 bytes for the notebook")]:
        assert 0.9 * kept < text.count(letter) < 1.05 * kept and text.endswith(f"{why}]\n")
    assert texts[3] == f"\n[{CUT}: over 50000 bytes for the notebook]\n"
    assert _errors(nb.cells[4]) == ["ValueError"], "an error is shortened, never dropped"
    assert len(nbformat.writes(nb).encode()) < 50_000 + 5_000


def test_a_loop_is_interrupted_and_the_next_cells_run(tmp_path):
    nb = _execute(["while True:\n    pass", "print('next')"], tmp_path,
                  Limits(cell_timeout_s=3, notebook_timeout_s=60))
    assert "KeyboardInterrupt" in _errors(nb.cells[0])
    assert _text(nb.cells[1]) == "next\n"


def test_an_endless_loop_costs_one_notebook_timeout(tmp_path):
    limits = Limits(cell_timeout_s=4, notebook_timeout_s=6)
    nb = _execute(["def answer():\n    while True:\n        pass", "print(1)",
                   *["answer()"] * 6, "print(2)"], tmp_path, limits)
    assert _text(nb.cells[1]) == "1\n"
    assert "CellTimeoutError" in _errors(nb.cells[2])
    skipped = [c.outputs[0].evalue for c in nb.cells[3:] if _errors(c) == ["CellNotRun"]]
    assert len(skipped) >= 4, "at most 6 s of loops: the cells left are not run"
    assert all(re.fullmatch(r"not run: the notebook ran over its 6 s: cell [345] did not "
                            r"finish", line) for line in skipped), skipped


def test_a_test_that_fails_fails_even_when_student_code_hides_tracebacks(tmp_path):
    hide = "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None"
    nb = _execute([hide, "assert 1 == 2, 'the hidden test fails'", "print('after')"],
                  tmp_path, Limits(cell_timeout_s=20, notebook_timeout_s=60))
    # nbgrader's Execute restores the error from the kernel's execute reply
    assert _errors(nb.cells[1]) == ["AssertionError"], "a hidden traceback passed a failing test"
    assert _text(nb.cells[2]) == "after\n"


def test_a_killed_sandboxed_kernel_is_restarted_and_the_cells_above_replayed(tmp_path):
    nb = _execute(["x = 41", "import os\nos._exit(1)", "print(x + 1)"], tmp_path)
    assert _errors(nb.cells[1]) == ["DeadKernelError"]
    assert _text(nb.cells[2]) == "42\n"


GRADER = """
import asyncio, sys
from casekit_course.kernel import SandboxedKernelManager, notebook_environment
from casekit_course.sandbox import find_sandbox

async def start():
    km = SandboxedKernelManager(kernel_name="python3", sandbox=find_sandbox("bwrap"))
    await km.start_kernel(cwd=sys.argv[1])
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    print(km.connection_file, flush=True)
    await asyncio.sleep(600)

with notebook_environment():
    asyncio.run(start())
"""


def test_nothing_outlives_a_grader_killed_mid_notebook(tmp_path):
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        connection_file = grader.stdout.readline().strip()
        assert connection_file.endswith("kernel.json"), "the kernel started"
        assert _processes_with(connection_file), "the sandboxed kernel runs"
    finally:
        grader.kill()  # SIGKILL: no cleanup code runs
        grader.wait()
    for _ in range(50):
        if not _processes_with(connection_file):
            break
        time.sleep(0.1)
    assert _processes_with(connection_file) == []
    folder = Path(connection_file).parents[1]  # what the killed grader could not remove
    remove_cgroups([base / folder.name for base, _ in cgroup_places(Limits())])
    shutil.rmtree(folder)


def _processes_with(argument: str) -> list[str]:
    """Host processes with ``argument`` on their command line."""
    found = []
    for process in Path("/proc").iterdir():
        if process.name.isdigit() and argument.encode() in _read(process / "cmdline"):
            found.append(process.name)
    return found


def test_find_sandbox(tmp_path, monkeypatch):
    bwrap = find_sandbox("bwrap")
    assert (bwrap.kind, Path(bwrap.executable).name) == ("bwrap", "bwrap")
    assert find_sandbox().kind == "bwrap"
    assert find_sandbox("none") == Sandbox("none")
    monkeypatch.setenv("PATH", str(tmp_path))  # no program found: as on a bare machine
    for kind, expected in [("bwrap", "sandbox bwrap not available: `bwrap` is not installed "
                                     "(install it: apt-get install bubblewrap)"),
                           ("podman", "sandbox podman not available: `podman` is not installed"),
                           ("docker", "sandbox docker not available: `docker` is not installed"),
                           ("jail", "unknown sandbox 'jail'")]:
        with pytest.raises(SandboxUnavailable) as error:
            find_sandbox(kind)
        message = str(error.value)
        assert message.startswith(expected) and "\n" not in message
        assert kind == "jail" or message.endswith("--no-sandbox (recorded in the export)")


def test_a_container_gets_the_same_isolation_and_limits(tmp_path):
    prepare_folder(tmp_path / "kernel", submission=None)
    command = Sandbox("docker", "/usr/bin/docker", "debian:stable-slim").command(
        ["python", "-m", "ipykernel_launcher"], folder=tmp_path / "kernel", limits=LIMITS,
        env={}, name="casekit-kernel-1")
    for option in (["--network", "none"], ["--memory", str(1024**3)], ["--pids-limit", "64"],
                   ["--cap-drop", "ALL"], ["--name", "casekit-kernel-1"]):
        at = command.index(option[0])
        assert command[at:at + 2] == option
    assert f"{course_root() / 'casekit'}:{course_root() / 'casekit'}:ro" in command
    assert command[-4:] == ["debian:stable-slim", "python", "-m", "ipykernel_launcher"]
    assert Sandbox("docker", "/usr/bin/docker").stop_command("casekit-kernel-1") == [
        "/usr/bin/docker", "rm", "-f", "casekit-kernel-1"]


def test_the_config_carries_the_limits(tmp_path):
    config = sandbox_config(find_sandbox("bwrap"), LIMITS).GuardedExecute
    assert (config.sandbox, config.timeout, config.notebook_timeout, config.memory_limit_mb,
            config.process_limit, config.output_bytes, config.notebook_output_bytes) == (
        "bwrap", 20, 120, 1024, 64, 20_000, 60_000)
    prepare_folder(tmp_path / "kernel", submission=None)
    command = find_sandbox("bwrap").command(
        ["python", "-m", "ipykernel_launcher"], folder=tmp_path / "kernel", limits=LIMITS,
        env={"NBGRADER_EXECUTION": "autograde", "SECRET_TOKEN": "x"})
    assert "--unshare-net" in command and "--die-with-parent" in command
    assert "--nproc=64:64" in command and f"--data={1024**3}:{1024**3}" in command
    assert "NBGRADER_EXECUTION" in command and "SECRET_TOKEN" not in command
    mounts = [command[i + 1] for i, a in enumerate(command) if a in ("--bind", "--ro-bind")]
    assert str(course_root()) not in mounts, "the repository root is never mounted"
    assert str(course_root() / "casekit") in mounts, "only its installed casekit package"


def test_control_groups_hold_the_whole_sandbox_where_the_machine_allows(tmp_path):
    """As root with cgroups (this machine, CI): memory and processes of the whole sandbox."""
    limits = Limits(memory_bytes=2**30, processes=100)
    probe = make_cgroups("casekit-probe", limits)
    remove_cgroups(probe)
    with notebook_environment():
        groups, settings, processes, pid = asyncio.run(_kernel_cgroups(limits, tmp_path))
    assert len(groups) == len(probe), "made whenever the machine allows"
    if probe:
        assert settings.get("pids.max") == "100"
        assert (settings.get("memory.limit_in_bytes") or settings["memory.max"]) == str(2**30)
        assert all(str(pid) in members for members in processes), "the sandbox is in them"
    assert not any(g.exists() for g in groups), "removed with the kernel"


async def _kernel_cgroups(limits: Limits, folder: Path):
    km = SandboxedKernelManager(kernel_name="python3", sandbox=find_sandbox("bwrap"),
                                limits=limits)
    await km.start_kernel(cwd=str(folder))
    try:
        groups = list(km._cgroups)
        settings = {f.name: f.read_text(encoding="ascii").strip()
                    for g in groups for f in g.iterdir()
                    if f.name in ("memory.limit_in_bytes", "memory.max", "pids.max")}
        processes = [(g / "cgroup.procs").read_text(encoding="ascii").split() for g in groups]
        return groups, settings, processes, km.provisioner.pid
    finally:
        await km.shutdown_kernel(now=True)
