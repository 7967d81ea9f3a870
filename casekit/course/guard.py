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
  the whole notebook, restarts and replays included.

A normal notebook runs exactly as with nbgrader's ``Execute``: same outputs, same grades.

Example (``nbgrader_config.py``):
    >>> from casekit.course.guard import guarded_autograde_preprocessors
    >>> c.Autograde.autograde_preprocessors = guarded_autograde_preprocessors()  # doctest: +SKIP
    >>> c.GuardedExecute.memory_limit_mb = 4096                                    # doctest: +SKIP
"""

from __future__ import annotations

import copy
import sys
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets import Integer

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

    def preprocess(self, nb, resources=None, km=None):
        """Execute the notebook (see ``ExecutePreprocessor.preprocess``)."""
        self._restarts = 0
        self._lost: set[int] = set()  # cells that killed or blocked the kernel: never replayed
        self._skip_reason = ""
        self._deadline = time.monotonic() + self.notebook_timeout
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        """Run one cell; if it kills or blocks the kernel, record that and recover."""
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        if not self._skip_reason and not run_sync(self.km.is_alive)():
            # The kernel died after the previous code cell replied (a thread or timer it
            # started, say): that cell is to blame, not this one.
            self._blame(self._previous_code_cell(index), DeadKernelError("Kernel died"), index)
        if not self._skip_reason and time.monotonic() > self._deadline:
            self._skip_reason = f"the notebook ran over {self.notebook_timeout} s"
        if self._skip_reason:
            cell.outputs = [_error("CellNotRun", f"not run: {self._skip_reason}")]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except KERNEL_LOST as error:
            self._blame(index, error, index)
            return cell, self.resources

    def _blame(self, culprit: int | None, error: Exception, index: int) -> None:
        """Give cell ``culprit`` an error output, then restart and replay up to ``index``."""
        self.log.warning("Cell %s lost the kernel (%s); restarting it", culprit, error)
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
                    self._skip_reason = f"the notebook ran over {self.notebook_timeout} s"
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
        if not self.memory_limit_mb:
            return
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


def _lost_kernel_error(error: Exception) -> NotebookNode:
    if isinstance(error, DeadKernelError):
        text = ("the kernel died while running this cell (os._exit, a crash, or it was killed "
                "for using too much memory)")
        return _error("DeadKernelError", f"{text}; the grader restarted it and went on")
    return _error("CellTimeoutError", "this cell did not stop when interrupted at the time "
                  "limit; the grader restarted the kernel and went on")


def _error(name: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"{name}: {message}"])
