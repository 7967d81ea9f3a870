"""Keep what kernels write to their own stderr out of the instructor's console.

TensorFlow's C++ log and ipykernel's ``KeyboardInterrupt caught in kernel`` (printed when
jupyter_client interrupts a kernel it is shutting down) go straight to file descriptor 2,
not through Jupyter's messages: :func:`stderr_to_log` appends them to a log file, so they
are kept, not shown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def stderr_to_log(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Append this process's standard error (file descriptor 2) to ``path`` while inside.

    Kernels and other child processes started inside inherit it, so their start-up and
    shutdown chatter lands in the log instead of the console; outputs of notebook cells
    travel over Jupyter's messages and are not affected. The console's stderr is restored
    on leaving, also when an exception leaves the block. Yields ``path`` as a ``Path``.

    Example:
        >>> import os, tempfile
        >>> log = Path(tempfile.mkdtemp()) / "kernels.log"
        >>> with stderr_to_log(log):
        ...     _ = os.write(2, b"kernel chatter\\n")
        >>> log.read_text()
        'kernel chatter\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    console = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
            try:
                yield path
            finally:
                sys.stderr.flush()
                os.dup2(console, 2)
    finally:
        os.close(console)
