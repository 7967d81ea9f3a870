"""Autograde hostile or broken student code without losing the rest of the notebook.

nbgrader's own ``Execute`` gives up on a whole submission when the kernel dies (``os._exit``,
a crash, the kernel killed for memory) or when a loop ignores the interrupt sent at the
per-cell timeout: every exercise then scores nothing and ``nbgrader autograde`` reports an
error. :class:`GuardedExecute` replaces it in the autograde chain (see
``nbgrader_config.py``) and adds three protections:

* **Kernel death or an unstoppable cell**: the cell gets an error output (so a test cell in
  it scores 0), the kernel is restarted, the code cells above are run again silently to
  rebuild the student's variables, and grading goes on with the next cell. At most
  ``max_restarts`` restarts per notebook; after that the remaining cells are marked as not
  run.
* **Memory**: the kernel's data segment (heap and private memory, ``RLIMIT_DATA``) is capped
  at ``memory_limit_mb`` right after it starts, so ``np.ones(10**11)`` raises ``MemoryError``
  in that cell instead of pushing the grading machine into swap or the OOM killer.
* **Time**: the per-cell ``Execute.timeout`` interrupts a loop; ``notebook_timeout`` bounds
  the whole notebook, restarts and replays included: no cell waits past the notebook's
  deadline, so a hang costs at most one notebook timeout however many cells call the stuck
  function; the cells left get one line naming the cell that hung.
* **Output**: ``output_bytes`` per output (a cell's text stream, an image, a result) and
  ``notebook_output_bytes`` for the notebook, counted in bytes (nbgrader's ``LimitOutput``
  counts lines, so one huge line passes it); what is cut ends with one line saying so.
* **Sandbox** (``sandbox``, set by :func:`casekit_course.sandbox.sandbox_config`): each
  kernel starts inside bubblewrap or a container, which also enforces the memory and
  process limits (:class:`casekit_course.kernel.SandboxedKernelManager`).

A normal notebook runs exactly as with nbgrader's ``Execute``: same outputs, same grades.

Two more preprocessors keep odd submissions gradeable and feedback clean:

* :class:`RepairDuplicateCells` (first in the sanitizing chain): a grade cell copied or
  split by the student (two cells with one ``grade_id``, which makes nbgrader's id
  de-duplication and ``add_missing_cells`` crash) is repaired: adjacent pieces of a split
  answer are joined again, and of other copies the first keeps the nbgrader metadata while
  the rest become ordinary cells that still run where they are. One warning line per cell
  names the student, the cell and the fix.
* :class:`ScrubHiddenOutputs` (feedback): no hidden-test line or marker reaches the feedback
  whatever the student's code printed (``%xmode Verbose`` tracebacks, ``print(In)``,
  ``_ih``, ``Out``, ``%history``), and a test cell shows only its error's first line (not a
  traceback with the hidden inputs' values, nor what the student's function printed).

Example (``nbgrader_config.py``):
    >>> from casekit_course.guard import guarded_autograde_preprocessors
    >>> c.Autograde.autograde_preprocessors = guarded_autograde_preprocessors()  # doctest: +SKIP
    >>> c.Autograde.sanitize_preprocessors = guarded_sanitize_preprocessors()      # doctest: +SKIP
    >>> c.GuardedExecute.memory_limit_mb = 4096                                    # doctest: +SKIP
"""

from __future__ import annotations

import copy
import html
import json
import math
import re
import sys
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbconvert.filters import strip_ansi
from nbformat import NotebookNode
from nbgrader.converters import Autograde
from nbgrader.preprocessors import DeduplicateIds, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Integer, Unicode

from casekit.graded import hidden_test_lines, strip_hidden_tests
from casekit_course.kernel import SandboxedKernelManager
from casekit_course.sandbox import KINDS, Limits, Sandbox

#: Run silently in each new kernel (no names are added to the student's namespace).
_HARDEN = """\
get_ipython().ask_exit = lambda: None
get_ipython().kernel.do_shutdown = lambda restart: {"status": "ok", "restart": restart}
"""

#: Exceptions after which the kernel cannot be trusted: restart it.
KERNEL_LOST = (DeadKernelError, CellTimeoutError)


class GuardedExecute(Execute):
    """nbgrader's ``Execute`` that survives kernel deaths, unstoppable loops and memory hogs.

    Configured like ``Execute`` (``c.Execute.timeout`` applies here too) plus the traits
    below, e.g. ``c.GuardedExecute.memory_limit_mb = 4096``.
    """

    memory_limit_mb = Integer(
        6144,
        help="Cap on the kernel's data segment (RLIMIT_DATA) in MiB; 0: no cap. Linux only.",
    ).tag(config=True)

    max_restarts = Integer(
        3, help="Kernel restarts allowed per notebook before the remaining cells are skipped."
    ).tag(config=True)

    notebook_timeout = Integer(
        1800,
        help="Seconds for the whole notebook (restarts included); later cells are skipped.",
    ).tag(config=True)

    output_bytes = Integer(
        200_000, help="Bytes kept of one output (a cell's stream, an image); 0: no limit."
    ).tag(config=True)

    notebook_output_bytes = Integer(
        800_000, help="Bytes kept of all the notebook's outputs; 0: no limit."
    ).tag(config=True)

    sandbox = Unicode("none", help=f"Where kernels run: one of {', '.join(KINDS)}.").tag(
        config=True)
    sandbox_executable = Unicode("", help="The sandbox's program (bwrap, podman, docker).").tag(
        config=True)
    sandbox_image = Unicode("debian:stable-slim", help="Container image (podman, docker).").tag(
        config=True)
    process_limit = Integer(256, help="Processes and threads of a sandboxed kernel.").tag(
        config=True)

    def preprocess(self, nb, resources=None, km=None):
        """Execute the notebook (see ``ExecutePreprocessor.preprocess``)."""
        self._restarts = 0
        self._lost: set[int] = set()  # cells that killed or blocked the kernel: never replayed
        self._skip_reason = ""
        self._hung: int | None = None  # the last cell that ran out of time
        self._output_left = self.notebook_output_bytes or math.inf
        self._deadline = time.monotonic() + self.notebook_timeout
        return super().preprocess(nb, resources, km)

    def create_kernel_manager(self):
        """nbclient's kernel manager, or a sandboxed one when :attr:`sandbox` is set."""
        if self.sandbox != "none":
            self.kernel_manager_class = SandboxedKernelManager
        km = super().create_kernel_manager()
        if isinstance(km, SandboxedKernelManager):
            km.sandbox = Sandbox(self.sandbox, self.sandbox_executable, self.sandbox_image)
            km.limits = Limits(cell_timeout_s=self.timeout or 0,
                               notebook_timeout_s=self.notebook_timeout,
                               memory_bytes=(self.memory_limit_mb or 2**20) * 2**20,
                               processes=self.process_limit, output_bytes=self.output_bytes,
                               notebook_output_bytes=self.notebook_output_bytes)
        return km

    def _get_timeout(self, cell):
        """The cell's timeout, never past the notebook's deadline."""
        timeout = super()._get_timeout(cell)
        deadline = getattr(self, "_deadline", None)
        if deadline is None:
            return timeout
        left = max(1, math.ceil(deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    def output(self, outs, msg, display_id, cell_index):
        """Keep an output (nbclient), cut to :attr:`output_bytes` and the notebook's budget."""
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and outs and outs[-1] is out:
            self._limit_last_output(outs)
        return out

    def _limit_last_output(self, outs) -> None:
        """Cut ``outs[-1]`` to what is left of its output's and the notebook's byte limits.

        A cell's stream (stdout or stderr) counts as one output, as it shows. Errors are
        shortened, never dropped (nbgrader grades by them). The first cut in a cell adds one
        stdout line saying so.
        """
        out = outs[-1]
        stream = out.output_type == "stream"
        used = sum(_size(o) for o in outs[:-1]
                   if stream and o.output_type == "stream" and o.name == out.name)
        room = min((self.output_bytes or math.inf) - used, self._output_left)
        size = _size(out)
        if size <= room:
            self._output_left -= size
            return
        whole = "the notebook" if self._output_left <= room else "one output"
        outs.pop()
        kept = None
        if out.output_type == "error":
            kept = _error(out.ename, _first_line(out.get("evalue", "")))
        elif stream and room > _STREAM_OVERHEAD:
            out.text = _cut(out.text, int(room) - _STREAM_OVERHEAD)
            kept = out
        if kept is not None:
            outs.append(kept)
            self._output_left = max(0, self._output_left - _size(kept))
        if not any(o.output_type == "stream" and CUT in o.get("text", "") for o in outs):
            limit = self.notebook_output_bytes if whole == "the notebook" else self.output_bytes
            outs.append(NotebookNode(output_type="stream", name="stdout",
                                     text=f"\n[{CUT}: over {limit} bytes for {whole}]\n"))

    def preprocess_cell(self, cell, resources, index):
        """Run one cell; if it kills or blocks the kernel, record that and recover."""
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        if not self._skip_reason and not run_sync(self.km.is_alive)():
            # The kernel died after the previous code cell replied (a thread or timer it
            # started, say): that cell is to blame, not this one.
            self._blame(self._previous_code_cell(index), DeadKernelError("Kernel died"), index)
        if not self._skip_reason and time.monotonic() > self._deadline:
            self._skip_reason = self._over_time()
        if self._skip_reason:
            cell.outputs = [_error("CellNotRun", f"not run: {self._skip_reason}")]
            return cell, self.resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except KERNEL_LOST as error:
            self._blame(index, error, index)
            return cell, self.resources
        if any(o.output_type == "error" and o.get("ename") == "CellTimeoutError"
               for o in cell.outputs):
            self._hung = index
        return cell, resources

    def _over_time(self) -> str:
        """Why the cells left are not run, naming the cell that hung if one did."""
        reason = f"the notebook ran over its {self.notebook_timeout} s"
        if self._hung is None:
            return reason
        cell = self.nb.cells[self._hung]
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        name = f"cell {self._hung + 1}" + (f" ({grade_id})" if grade_id else "")  # 1-based
        return f"{reason}: {name} did not finish"

    def _blame(self, culprit: int | None, error: Exception, index: int) -> None:
        """Give cell ``culprit`` an error output, then restart and replay up to ``index``."""
        self.log.warning("Cell %s lost the kernel (%s); restarting it", culprit, error)
        if isinstance(error, CellTimeoutError):
            self._hung = culprit
        if culprit is not None:
            self.nb.cells[culprit].outputs.append(_lost_kernel_error(error))
            self._lost.add(culprit)
        self._recover(index)

    def _previous_code_cell(self, index: int) -> int | None:
        for i in range(index - 1, -1, -1):
            if self.nb.cells[i].cell_type == "code" and self.nb.cells[i].source.strip():
                return i
        return None

    def _recover(self, index: int) -> None:
        """Restart the kernel and replay the code cells above ``index``."""
        while True:
            if self._restarts >= self.max_restarts:
                self._skip_reason = f"the kernel was lost {self._restarts + 1} times"
                return
            self._restarts += 1
            self._restart_kernel()
            try:
                self._replay(index)
                return
            except KERNEL_LOST as error:
                self.log.warning("Replaying the cells above cell %d failed: %s", index, error)

    def _restart_kernel(self) -> None:
        mode, self.shutdown_kernel = self.shutdown_kernel, "immediate"  # kill, do not ask
        try:
            self._cleanup_kernel()  # also forgets the manager and client of the lost kernel
        finally:
            self.shutdown_kernel = mode
        self.km = self.create_kernel_manager()
        self.start_new_kernel(**self._kernel_kwargs())
        self.start_new_kernel_client()

    def _kernel_kwargs(self) -> dict:
        path = self.resources.get("metadata", {}).get("path")
        return {"cwd": path} if path else {}

    def _replay(self, index: int) -> None:
        """Re-run earlier code cells on copies: the recorded outputs stay those of the first run."""
        executed = self.code_cells_executed
        try:
            for i in range(index):
                original = self.nb.cells[i]
                if original.cell_type != "code" or i in self._lost:
                    continue
                if time.monotonic() > self._deadline:
                    self._skip_reason = self._over_time()
                    return
                try:
                    self.execute_cell(copy.deepcopy(original), i, store_history=False)
                except KERNEL_LOST:
                    self._lost.add(i)
                    raise
                finally:
                    self.nb.cells[i] = original
        finally:
            self.code_cells_executed = executed

    async def async_start_new_kernel(self, **kwargs) -> None:
        """Start the kernel (nbclient), then cap its memory."""
        await super().async_start_new_kernel(**kwargs)
        self._limit_memory()

    start_new_kernel = run_sync(async_start_new_kernel)

    async def async_start_new_kernel_client(self):
        """Connect to the kernel (nbclient), then make ``exit()`` and shutdowns harmless.

        In a notebook, ``exit()``, ``quit()`` or ``kernel.do_shutdown()`` stop the kernel a
        moment *after* their cell, so the next cell would be blamed. Here they do nothing;
        the grader still shuts the kernel down with a real shutdown request at the end.
        """
        client = await super().async_start_new_kernel_client()
        msg_id = client.execute(_HARDEN, silent=True, store_history=False)
        await self.async_wait_for_reply(msg_id)
        return client

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _limit_memory(self) -> None:
        if not self.memory_limit_mb or isinstance(self.km, SandboxedKernelManager):
            return  # a sandboxed kernel's limits are set inside its sandbox
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        if pid is None or not sys.platform.startswith("linux"):
            self.log.warning("Kernel memory not capped: needs Linux and a local kernel")
            return
        import resource  # Unix only

        limit = self.memory_limit_mb * 1024 * 1024
        _, hard = resource.prlimit(pid, resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        # soft = hard: student code cannot raise the cap again
        resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))


def guarded_autograde_preprocessors() -> list[type]:
    """nbgrader's default autograde chain with :class:`GuardedExecute` in place of ``Execute``."""
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [GuardedExecute if p is Execute else p for p in default]


def guarded_sanitize_preprocessors() -> list[type]:
    """nbgrader's default sanitizing chain with :class:`RepairDuplicateCells` before its
    id de-duplication and :class:`RestoreMissingCells` in place of ``OverwriteCells``."""
    default = Autograde.class_traits()["sanitize_preprocessors"].default()
    default = [RestoreMissingCells if p is OverwriteCells else p for p in default]
    at = default.index(DeduplicateIds) if DeduplicateIds in default else 0
    return default[:at] + [RepairDuplicateCells] + default[at:]


class RestoreMissingCells(OverwriteCells):
    """nbgrader's ``OverwriteCells`` that also re-inserts deleted locked set-up cells.

    With ``add_missing_cells`` nbgrader 0.9 puts a deleted grade cell back after the cell
    that precedes it in the source, looked up among the submission's *graded* cells only:
    when that is a locked, ungraded cell (a test set-up cell) it fails for the whole
    submission with ``KeyError``. And it never restores a deleted set-up cell, which the
    test cells after it need. Here every missing grade cell and locked set-up cell goes back
    after the nearest earlier source cell present in the submission.
    """

    def add_missing_grade_cells(self, nb, resources):
        """Re-insert missing grade and locked set-up cells (task cells: nbgrader's method)."""
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        grade_cells = {c.name: c for c in source_nb.grade_cells}
        solutions = {c.name for c in source_nb.solution_cells}
        tasks = {c.name for c in source_nb.task_cells}
        order = list(source_nb.source_cells)
        present = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb.cells}
        for i, source in enumerate(order):
            name = source.name
            setup = source.locked and name not in grade_cells and name not in solutions
            if name in present or name in tasks or not (name in grade_cells or setup):
                continue
            self.log.warning("Missing cell %s encountered, adding it back", name)
            if setup:
                cell = self.missing_cell_transform(source, 0)
                cell["metadata"]["nbgrader"]["grade"] = False
                cell["metadata"]["nbgrader"].pop("points", None)
            else:
                cell = self.missing_cell_transform(source, grade_cells[name].max_score,
                                                   is_solution=name in solutions)
            ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb.cells]
            at = next((ids.index(p.name) + 1 for p in reversed(order[:i]) if p.name in ids), 0)
            nb.cells.insert(at, cell)
            present.add(name)
        return nb, resources


#: Starts every warning of :class:`RepairDuplicateCells` (found again in nbgrader's log).
REPAIRED = "repaired grade cell:"


class RepairDuplicateCells(NbGraderPreprocessor):
    """Make a submission with copied or split grade cells gradeable (see the module doc)."""

    def preprocess(self, nb, resources):
        """Repair ``nb`` in place; log one line per repaired grade id."""
        who = resources.get("nbgrader", {})
        where = f"student {who.get('student', '?')}, notebook {who.get('notebook', '?')}"
        seen: dict[str, int] = {}
        kept = []
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if not grade_id or grade_id not in seen:
                if grade_id:
                    seen[grade_id] = 1
                kept.append(cell)
                continue
            seen[grade_id] += 1
            previous = kept[-1]
            if (cell.metadata["nbgrader"].get("solution") and
                    previous.metadata.get("nbgrader", {}).get("grade_id") == grade_id and
                    previous.cell_type == cell.cell_type):
                previous.source = previous.source.rstrip("\n") + "\n" + cell.source
                self.log.warning("%s %s: answer cell `%s` was split in two; graded as one "
                                 "cell (fix: merge the pieces back, Shift+M)",
                                 REPAIRED, where, grade_id)
                continue
            del cell.metadata["nbgrader"]
            cell.source = strip_hidden_tests(cell.source)  # an ordinary cell has none
            kept.append(cell)
            self.log.warning("%s %s: cell `%s` appears %d times (a copy); graded the first, "
                             "the copy runs as an ordinary cell (fix: delete the copy)",
                             REPAIRED, where, grade_id, seen[grade_id])
        nb.cells = kept
        return nb, resources


#: Shown in feedback in place of an output that contained hidden tests.
SCRUBBED = "[output removed from the feedback: it showed the grader's hidden tests]"
_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\'": "'", '\\"': '"', "\\\\": "\\"}


class ScrubHiddenOutputs(NbGraderPreprocessor):
    """Keep hidden tests out of feedback (see the module doc). Run before ClearHiddenTests,
    which removes the hidden lines from the cells' sources."""

    min_length = Integer(8, help="Hidden lines shorter than this (e.g. ')') are not searched "
                         "for in outputs.").tag(config=True)

    def preprocess(self, nb, resources):
        """Scrub every output of ``nb`` in place."""
        secrets = {"BEGIN HIDDEN TESTS", "END HIDDEN TESTS"}  # the markers, any indent
        code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
        visible = "\n".join(strip_hidden_tests(source) for source in code)
        for source in code:  # a line students see anyway is no secret
            secrets |= {line for line in hidden_test_lines(source)
                        if len(line) >= self.min_length and line not in visible}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                cell.outputs = [_one_line(o) for o in cell.outputs if o.output_type == "error"]
            cell.outputs = [_scrubbed(o) if _shows(o, secrets) else o for o in cell.outputs]
        return nb, resources


def _scrubbed(output: NotebookNode) -> NotebookNode:
    """The note that replaces an output showing hidden tests (an error stays an error)."""
    if output.output_type == "error":
        return _error(output.get("ename", "Error"), SCRUBBED)
    return NotebookNode(output_type="stream", name="stdout", text=SCRUBBED)


def _one_line(output: NotebookNode) -> NotebookNode:
    """An error output reduced to ``ename: first line of evalue`` (no traceback)."""
    message = (str(output.get("evalue", "")).strip().splitlines() or [""])[0][:300]
    return _error(output.get("ename", "Error"), message)


def _shows(output: NotebookNode, secrets: set[str]) -> bool:
    """Whether any text of ``output`` contains one of ``secrets`` (also inside a repr)."""
    parts = [output.get("text", ""), output.get("ename", ""), output.get("evalue", "")]
    parts += list(output.get("traceback", []))
    parts += [v if isinstance(v, str) else "".join(v) if isinstance(v, list) else str(v)
              for v in output.get("data", {}).values()]
    text = html.unescape(strip_ansi("\n".join(str(p) for p in parts)))
    for escaped, plain in _ESCAPES.items():
        text = text.replace(escaped, plain)
    text = re.sub(r"[ \t]+", " ", text)
    return any(re.sub(r"[ \t]+", " ", secret) in text for secret in secrets)


def _lost_kernel_error(error: Exception) -> NotebookNode:
    if isinstance(error, DeadKernelError):
        text = ("the kernel died while running this cell (os._exit, a crash, or it was killed "
                "for using too much memory)")
        return _error("DeadKernelError", f"{text}; the grader restarted it and went on")
    return _error("CellTimeoutError", "this cell did not stop when interrupted at the time "
                  "limit; the grader restarted the kernel and went on")


#: Starts the line that ends an output cut to its byte limit.
CUT = "output cut by the grader"


#: JSON bytes of a stream output besides its text (keys, quotes, escapes: a margin).
_STREAM_OVERHEAD = 200


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 300 else line[:297] + "..."


def _cut(text: str, size: int) -> str:
    """The start of ``text`` that takes at most ``size`` bytes in JSON (UTF-8, escaped)."""
    text = text.encode()[:size].decode(errors="ignore")
    escaped = len(json.dumps(text, ensure_ascii=False).encode())
    return text if escaped <= size else text[:len(text) * size // escaped]


def _size(output: NotebookNode) -> int:
    """Bytes an output takes in the saved notebook (text, images, tracebacks)."""
    return len(json.dumps(output, ensure_ascii=False).encode())


def _error(name: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"{name}: {message}"])
