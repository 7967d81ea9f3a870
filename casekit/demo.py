"""``casekit demo``: the case study end to end on the embedded synthetic data.

Runs the data pipeline for both datasets (generate → load → split → cache) and writes a
summary per dataset to the output folder, printing one progress line per step.

Example:
    >>> from casekit.demo import run_demo   # doctest: +SKIP
    >>> run_demo("outputs/demo")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from casekit.datasets.registry import REGISTRY
from casekit.pipeline import prepare, write_summary


def run_demo(out: str | Path, size: int = 64, n_images: int | None = None) -> list[Path]:
    """Prepare every dataset's synthetic copy at ``size`` px; return the summary paths."""
    out = Path(out)
    written = []
    for name in sorted(REGISTRY):
        start = time.perf_counter()
        print(f"[demo] {name}: generate → load → split → cache ({size}px)", flush=True)
        prepared = prepare(name, size=size, n_images=n_images)
        path = write_summary(prepared, out)
        summary = prepared.summary()
        splits = ", ".join(f"{split} {row['images']}" for split, row in summary["splits"].items())
        print(f"[demo] {name}: {summary['images']} images, {summary['groups']} groups "
              f"({splits}) in {time.perf_counter() - start:.1f}s → {path}", flush=True)
        written.append(path)
    print(json.dumps({"outputs": [str(p) for p in written]}, indent=2))
    return written
