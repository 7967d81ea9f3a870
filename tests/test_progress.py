"""casekit.progress: one text progress bar, readable without a widget front end."""

from __future__ import annotations

import io
import re
from pathlib import Path

from casekit.progress import tqdm

PACKAGE = Path(__file__).resolve().parents[1] / "casekit"


def test_text_bar_off_a_terminal():
    stream = io.StringIO()  # like papermill's captured stderr: not a terminal
    with tqdm(range(5), desc="cache", file=stream) as bar:
        assert bar.mininterval == 1.0 and not bar.dynamic_ncols
        for _ in bar:
            pass
    text = stream.getvalue()
    assert "cache: 100%|" in text and "5/5" in text
    assert "Output()" not in text and "HBox" not in text  # no widget repr


def test_casekit_uses_only_its_own_bar():
    direct = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
              if path.name != "progress.py" and re.search(r"^\s*(from|import) tqdm",
                                                           path.read_text(encoding="utf-8"), re.M)]
    assert direct == []
