"""Build an image cache once (in parallel, atomically); later calls open it without decoding.

Where: ``<cache_dir>/<dataset>/<size>px-<first 16 hex digits of the content key>/``
(``cache_dir`` defaults to ``casekit.paths.cache_root()``). See ``key.py`` for the key,
``store.py`` for the files and their validation.

How: the array file is created at full size first; worker *processes* (one per core by
default, this process counting as one) each decode a chunk of images at a time and write
the rows straight into the file through their own memory map, so no pixels travel back
through pipes. Workers are started
with the "spawn" method on every platform — what macOS and Windows use anyway, and safe in
a notebook whose kernel already runs threads (TensorFlow's, for one). The worker function
lives in this module, so it works from Jupyter too. A plain script on macOS/Windows needs
the usual ``if __name__ == "__main__":`` guard around its call.

Atomic: everything is written into a hidden ``.<name>.*.part`` folder beside the final
one, the manifest last, and the folder is renamed into place only when every image
decoded. An exception (a corrupt image, Ctrl-C, a dead worker) removes the temporary
folder; a killed process can leave one behind, which never loads (no manifest, wrong name)
and is deleted by the next build once it is an hour old.

Example:
    >>> from casekit.images import build_cache                                  # doctest: +SKIP
    >>> cache = build_cache(paths, ids, 224, dataset="pad_ufes_20")              # doctest: +SKIP
    >>> cache = build_cache(paths, ids, 224, dataset="pad_ufes_20")  # instant   # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
import warnings
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from casekit import __version__
from casekit.images.decode import METHOD, load_image
from casekit.images.key import content_key, file_records
from casekit.images.store import (
    FORMAT,
    IMAGES_FILE,
    MANIFEST_FILE,
    CacheError,
    ImageCache,
    open_cache,
)
from casekit.io import atomic_path
from casekit.paths import cache_root
from casekit.progress import tqdm

if TYPE_CHECKING:  # pandas is not imported at run time: spawned workers start faster
    import pandas as pd

_DATASET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_STALE_SECONDS = 3600

# One job: (array file, data offset in bytes, first row, image paths, size).
Job = tuple[str, int, int, list[str], int]
# Its result: (first row, CRC-32 per row, [(row, path, reason), ...] for failed images).
JobResult = tuple[int, list[int], list[tuple[int, str, str]]]


class ImageDecodeError(ValueError):
    """Some images could not be decoded; ``.failures`` lists (path, reason) pairs."""

    def __init__(self, failures: list[tuple[str, str]]):
        self.failures = failures
        lines = "\n  ".join(f"{path}: {reason}" for path, reason in failures[:10])
        more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
        super().__init__(
            f"{len(failures)} image(s) could not be decoded (nothing was cached); "
            f"replace or remove them:\n  {lines}{more}"
        )


def build_cache(
    image_paths: Iterable[str | os.PathLike[str]],
    image_ids: Iterable[str],
    size: int,
    dataset: str,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
    rehash: bool = False,
) -> ImageCache:
    """Decode every image once to ``size × size`` RGB uint8 and return the memory-mapped cache.

    A cache with the same content key that validates is opened instead (no decoding); one
    that fails validation is rebuilt, with a warning saying why. ``workers`` (processes
    decoding, this one included) defaults to the number of usable cores; ``workers=1``
    decodes in this process only. ``rehash=True`` re-reads every file for the key instead
    of trusting an unchanged size and mtime. Raises ``FileNotFoundError`` or
    ``ImageDecodeError`` naming the bad files.
    """
    paths = [Path(p).expanduser().absolute() for p in image_paths]
    ids = [str(i) for i in image_ids]
    _check_inputs(paths, ids, size, dataset)
    size = int(size)
    root = Path(cache_dir if cache_dir is not None else cache_root()).expanduser() / dataset
    records = file_records(ids, paths, memo=None if rehash else _remembered_records(root))
    key = content_key(dataset, size, records)
    target = root / f"{size}px-{key[:16]}"
    if target.exists():
        try:
            return open_cache(target, expected_key=key)
        except CacheError as err:
            warnings.warn(f"{err}; rebuilding it", stacklevel=2)
    _remove_stale_builds(root)
    started = time.perf_counter()
    with atomic_path(target) as tmp:
        tmp.mkdir()
        array_path = tmp / IMAGES_FILE
        checksums = _decode_all(array_path, paths, size, workers, progress, f"{dataset} {size}px")
        manifest = {
            "format": FORMAT,
            "key": key,
            "dataset": dataset,
            "size": size,
            "method": METHOD,
            "dtype": "uint8",
            "shape": [len(ids), size, size, 3],
            "npy_bytes": array_path.stat().st_size,
            "image_ids": ids,
            "files": records,
            "row_crc32": checksums,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 3),
            "casekit_version": __version__,
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    return open_cache(target, expected_key=key)


def cache_for(
    df: pd.DataFrame,
    size: int,
    dataset: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
    rehash: bool = False,
) -> ImageCache:
    """``build_cache`` for a normalised table (columns ``image_id`` and ``image_path``).

    Rows of the cache follow the rows of ``df``. ``dataset`` defaults to
    ``df.attrs["dataset"]`` when set, else ``"custom"`` (it only names the folder).

    Example:
        >>> df = casekit.datasets.load("pad_ufes_20", root)      # doctest: +SKIP
        >>> cache = cache_for(df, 224, dataset="pad_ufes_20")    # doctest: +SKIP
    """
    missing = [c for c in ("image_id", "image_path") if c not in df.columns]
    if missing:
        raise ValueError(f"cache_for needs columns {missing}; pass the table from "
                         "casekit.datasets.load (which finds every image file)")
    no_path = df["image_path"].isna()
    if no_path.any():
        examples = df.loc[no_path, "image_id"].astype(str).head(5).tolist()
        raise ValueError(
            f"{int(no_path.sum())} row(s) have no image_path (e.g. {examples}); the table "
            "comes from load_metadata or lost its files: use casekit.datasets.load"
        )
    name = dataset or df.attrs.get("dataset") or "custom"
    return build_cache(df["image_path"].astype(str).tolist(), df["image_id"].astype(str).tolist(),
                       size, name, cache_dir=cache_dir, workers=workers, progress=progress,
                       rehash=rehash)


def _check_inputs(paths: list[Path], ids: list[str], size: int, dataset: str) -> None:
    if len(paths) != len(ids):
        raise ValueError(f"got {len(paths)} image paths but {len(ids)} image ids")
    if not ids:
        raise ValueError("no images to cache")
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        duplicated = sorted({i for i in ids if i in seen or seen.add(i)})
        raise ValueError(f"image ids must be unique; duplicated: {duplicated[:5]}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer number of pixels, got {size!r}")
    if not isinstance(dataset, str) or not _DATASET_NAME.fullmatch(dataset):
        raise ValueError(f"dataset must be a plain folder name like 'ham10000', got {dataset!r}")


def _remembered_records(root: Path) -> dict[str, dict[str, Any]]:
    """path → file record from every finished cache of this dataset (see key.py)."""
    memo: dict[str, dict[str, Any]] = {}
    for manifest_path in sorted(root.glob(f"[!.]*/{MANIFEST_FILE}")):
        try:
            records = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable manifest only means less to remember
        for record in records:
            if isinstance(record, dict) and record.get("mtime_ns") is not None:
                memo[record["path"]] = record
    return memo


def _remove_stale_builds(root: Path) -> None:
    """Delete temporary build folders left by killed processes more than an hour ago."""
    for leftover in root.glob(".*.part"):
        try:
            newest = max([leftover.stat().st_mtime] + [p.stat().st_mtime
                                                        for p in leftover.iterdir()])
        except OSError:
            continue
        if time.time() - newest > _STALE_SECONDS:
            shutil.rmtree(leftover, ignore_errors=True)


def _decode_all(
    array_path: Path, paths: list[Path], size: int, workers: int | None, progress: bool, desc: str
) -> list[int]:
    """Fill ``array_path`` with every image; return per-row CRC-32s or raise ImageDecodeError."""
    n = len(paths)
    array = np.lib.format.open_memmap(array_path, mode="w+", dtype=np.uint8,
                                      shape=(n, size, size, 3))
    offset = int(array.offset)
    del array  # each worker maps its own rows
    workers = max(1, workers if workers is not None else _usable_cores())
    chunk = max(1, min(32, math.ceil(n / (4 * workers))))
    jobs: list[Job] = [(str(array_path), offset, start,
                        [str(p) for p in paths[start:start + chunk]], size)
                       for start in range(0, n, chunk)]
    checksums = [0] * n
    failures: list[tuple[int, str, str]] = []
    with tqdm(total=n, desc=desc, unit="img", disable=not progress) as bar:
        for start, crcs, failed in _run(jobs, workers, bar):
            checksums[start:start + len(crcs)] = crcs
            failures.extend(failed)
    if failures:
        raise ImageDecodeError([(path, reason) for _, path, reason in sorted(failures)])
    return checksums


def _run(jobs: Sequence[Job], workers: int, bar: tqdm) -> list[JobResult]:
    """Run the jobs with ``workers`` processes — this one included — ticking the bar.

    Only ``workers - 1`` helper processes are spawned, and this process decodes too,
    from the back of the queue. A helper first spends about half a second starting Python
    and importing numpy and Pillow, so it gets jobs only once it has answered a no-op
    ("ready"); a small build may thus finish here before any helper has started. If the
    helpers cannot start at all (a script without a ``__main__`` guard on macOS/Windows),
    everything is decoded here, with a warning.
    """
    results: list[JobResult] = []
    queue = deque(jobs)

    def here(job: Job) -> None:
        results.append(decode_rows(*job))
        bar.update(len(job[3]))

    if workers == 1 or len(jobs) == 1:
        while queue:
            here(queue.popleft())
        return results
    helpers = min(workers - 1, len(jobs) - 1)
    pool = ProcessPoolExecutor(max_workers=helpers, mp_context=get_context("spawn"))
    ready = pool.submit(_ready)
    running: dict[Future[JobResult], Job] = {}
    finished = False
    try:
        while queue or running:
            helpers_up = ready.done() and ready.exception() is None
            while helpers_up and queue and len(running) < 2 * helpers:  # keep helpers fed
                job = queue.popleft()
                running[pool.submit(decode_rows, *job)] = job
            if queue:
                here(queue.pop())
            done, _ = wait(running, timeout=0 if queue else None, return_when=FIRST_COMPLETED)
            for future in done:
                results.append(future.result())
                bar.update(len(running.pop(future)[3]))
        finished = True
        if ready.done() and ready.exception() is not None:
            warnings.warn(f"worker processes could not start ({ready.exception()!r}); "
                          "decoded in this process only", stacklevel=4)
        return results
    finally:
        # On success nothing is left but perhaps the "ready" probe: don't wait for it.
        # On an error, wait until no helper can still be writing into the array file.
        pool.shutdown(wait=not finished, cancel_futures=True)


def _ready() -> bool:
    """No-op job: its completion tells the main process that a helper is up."""
    return True


def decode_rows(array_file: str, offset: int, start: int, paths: list[str], size: int) -> JobResult:
    """Worker: decode ``paths`` into rows ``start…`` of the array file; report CRCs and failures.

    A file that cannot be decoded is recorded with its reason (whatever the decoder
    raised) and the others go on, so one error message can name every bad file.
    """
    row_bytes = size * size * 3
    rows = np.memmap(array_file, dtype=np.uint8, mode="r+", offset=offset + start * row_bytes,
                     shape=(len(paths), size, size, 3))
    checksums: list[int] = []
    failures: list[tuple[int, str, str]] = []
    for i, path in enumerate(paths):
        try:
            image = load_image(path, size)
        except Exception as err:  # any decoder error makes this file unusable: report it
            failures.append((start + i, path, f"{type(err).__name__}: {err}"))
            checksums.append(0)
            continue
        rows[i] = image
        checksums.append(zlib.crc32(image.data))
    rows.flush()
    del rows
    return start, checksums, failures


def _usable_cores() -> int:
    """Cores this process may use (respects CPU affinity where the OS reports it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
