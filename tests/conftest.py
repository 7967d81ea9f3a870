"""Test-wide settings: never touch the user's data folders, never open a window.

Every test process gets its own temporary data and cache roots, so tests neither read nor
write ``~/casekit_data`` and parallel workers never share half-written files.
"""

from __future__ import annotations

import os
import tempfile

_ROOT = tempfile.mkdtemp(prefix="casekit-tests-")
os.environ["CASEKIT_DATA"] = os.path.join(_ROOT, "data")
os.environ["CASEKIT_CACHE"] = os.path.join(_ROOT, "cache")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
