"""Quiet third-party start-up noise in the command line and its kernels; never casekit's warnings.

What it silences, and how:

* TensorFlow's C++ banners (``oneDNN custom operations are on…``, ``This TensorFlow binary
  is optimized…``, ``All log messages before absl::InitializeLog()…``): the environment
  variables ``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=0``, set before TensorFlow
  (or a kernel that imports it) starts. Both only take effect when not set already.
* ipykernel's ``Kernel is running over TCP without encryption`` (the kernel's own log; the
  kernels casekit starts listen on the loopback interface only): the kernel spec written
  by :mod:`casekit_course.kernel` starts kernels with their log level at ERROR.
* pooch's ``Downloading data from … to file …`` (the command line says where from itself):
  pooch's logger at WARNING.
* papermill's ``Passed unknown parameter``: the demo passes each notebook only the
  parameters it declares (:mod:`casekit_course.demo`).
* Whatever kernels write straight to their stderr: the instructor side sends it to a log
  file (:func:`casekit_course.logs.stderr_to_log`).

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

#: Environment variables that turn TensorFlow's start-up banners off (kernels inherit them).
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_third_party() -> None:
    """Set :data:`QUIET_ENVIRONMENT` for this process and the kernels it starts (values
    already set are kept); pooch's download log at WARNING."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    import pooch

    pooch.get_logger().setLevel(logging.WARNING)
