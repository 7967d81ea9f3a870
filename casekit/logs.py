"""Quiet third-party start-up noise in the demo and the command line, never casekit's warnings.

What it silences, and how:

* TensorFlow's C++ banners (``oneDNN custom operations are on…``, ``This TensorFlow binary
  is optimized…``, ``All log messages before absl::InitializeLog()…``): the environment
  variables ``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=0``, set before TensorFlow
  (or a kernel that imports it) starts. Both only take effect when not set already.
* ipykernel's ``Kernel is running over TCP without encryption`` (the kernel's own log; the
  kernels casekit starts listen on the loopback interface only): the kernel spec written
  by :mod:`casekit.course.kernel` starts kernels with their log level at ERROR.
* pooch's ``Downloading data from … to file …`` (the command line says where from itself):
  pooch's logger at WARNING.
* papermill's ``Passed unknown parameter``: the demo passes each notebook only the
  parameters it declares (:mod:`casekit.demo`).
* Whatever kernels write straight to their stderr (TensorFlow's C++ log, ipykernel's
  ``KeyboardInterrupt caught in kernel`` when jupyter_client interrupts a kernel it is
  shutting down): :func:`stderr_to_log` appends it to a log file, so it is kept, not shown.

Python warnings (``warnings.warn``, casekit's alarms) are not touched.

Example:
    >>> from casekit.logs import quiet_third_party
    >>> quiet_third_party()
    >>> import os; os.environ["TF_CPP_MIN_LOG_LEVEL"] in {"2", os.environ["TF_CPP_MIN_LOG_LEVEL"]}
    True
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Environment variables that turn TensorFlow's start-up banners off (kernels inherit them).
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_third_party() -> None:
    """Set :data:`QUIET_ENVIRONMENT` for this process and the kernels it starts (values
    already set are kept); pooch's download log at WARNING."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    import pooch

    pooch.get_logger().setLevel(logging.WARNING)


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
