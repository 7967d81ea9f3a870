"""Build an image cache once (in parallel, atomically); later calls open it without decoding.

Where: ``<cache_dir>/<dataset>/<size>px-<first 16 hex digits of the content key>/``
(``cache_dir`` defaults to ``casekit.paths.cache_root()``). See ``key.py`` for the key,
``store.py`` for the files and their validation.

How: the array file is created at full size first; a ``ThreadPoolExecutor`` (one thread
per core by default) decodes a chunk of images per job and writes the rows straight into
the file through the job's own memory map. Pillow releases the GIL
while it decodes and resizes, so threads use every core like processes would, without
starting Python again and without importing — or re-running — the caller's ``__main__``
(a *spawn* process pool re-executes a script that lacks an ``if __name__ ==
"__main__":`` guard). ``python -m casekit_course.bench.cache`` measures threads against
processes on the same jobs: on 600 HAM10000-sized JPEGs at 224 px on a shared 2-core
machine (median of 3), threads decoded 272 images/s with two workers and 256 with one, a
spawn process pool 111 and 156 (its start-up included).
When no job has finished for ``STALL_SECONDS`` (a file on a stalled network or Drive
mount), the jobs still running are given up on with a warning and their images reported
as failed; Python exits once the stalled read returns (the pool's threads are joined at
exit, as ``concurrent.futures`` does; a notebook kernel is stopped regardless).

Atomic: everything is written into a hidden ``.<name>.*.part`` folder beside the final
one, the manifest last, and the folder is renamed into place only when every image
decoded. An exception (a corrupt image, Ctrl-C, a failing worker) removes the temporary
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
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
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

if TYPE_CHECKING:
    import pandas as pd

_DATASET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_STALE_SECONDS = 3600
#: A decoding job (at most 32 images) still unanswered after this many seconds is given up.
STALL_SECONDS = 120.0

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
    that fails validation is rebuilt, with a warning saying why. ``workers`` (threads
    decoding, this one included) defaults to the number of usable cores; ``workers=1``
    decodes in this thread only. ``rehash=True`` re-reads every file for the key instead
    of trusting an unchanged size and mtime. Raises ``FileNotFoundError`` or
    ``ImageDecodeError`` naming the bad files (including files whose decoding gave no
    answer for ``STALL_SECONDS``, with a warning when that happens).
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
    workers = max(1, workers if workers is not None else usable_cores())
    jobs = plan_jobs(array_path, paths, size, workers)
    checksums = [0] * n
    failures: list[tuple[int, str, str]] = []
    with tqdm(total=n, desc=desc, unit="img", disable=not progress) as bar:
        for start, crcs, failed in run_jobs(jobs, workers, bar):
            checksums[start:start + len(crcs)] = crcs
            failures.extend(failed)
    if failures:
        raise ImageDecodeError([(path, reason) for _, path, reason in sorted(failures)])
    return checksums


def plan_jobs(array_path: Path, paths: Sequence[Path | str], size: int,
              workers: int) -> list[Job]:
    """Create the full-size array file and split ``paths`` into its decoding jobs.

    A chunk holds at most 32 images; a smaller build is cut into about four chunks per
    worker, so the workers finish together. Each job maps its own rows of the file.
    """
    n = len(paths)
    array = np.lib.format.open_memmap(array_path, mode="w+", dtype=np.uint8,
                                      shape=(n, size, size, 3))
    offset = int(array.offset)
    del array  # each worker maps its own rows
    chunk = max(1, min(32, math.ceil(n / (4 * workers))))
    return [(str(array_path), offset, start, [str(p) for p in paths[start:start + chunk]], size)
            for start in range(0, n, chunk)]


def run_jobs(jobs: Sequence[Job], workers: int, bar: tqdm) -> list[JobResult]:
    """Run the jobs on a pool of ``workers`` threads, ticking the bar; results in job order.

    ``workers=1`` decodes in this thread. When no job has finished for ``STALL_SECONDS``,
    the jobs still running are given up on (a file on a stalled network or Drive mount):
    a warning names their files and their images count as failed; jobs not started yet
    are decoded here. Any other exception (Ctrl-C, a bug) reaches the caller at once. If
    no thread can start (a process or memory limit), the jobs are decoded here, with a
    warning.
    """
    results: dict[int, JobResult] = {}

    def record(index: int, result: JobResult) -> None:
        results[index] = result
        bar.update(len(jobs[index][3]))

    threads = max(1, min(workers, len(jobs)))
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="casekit-decode")
    futures: dict[Future[JobResult], int] = {}
    try:
        for index, job in enumerate(jobs if workers > 1 else []):
            try:
                futures[pool.submit(decode_rows, *job)] = index
            except RuntimeError as err:  # "can't start new thread"
                warnings.warn(f"decoding threads could not start ({err}); decoding with "
                              f"{min(len(futures), threads) + 1} thread(s)", stacklevel=4)
                break
        here = [i for i in range(len(jobs)) if i not in futures.values()]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=STALL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                record(futures[future], future.result())  # re-raises a worker's exception
            if not done:  # nothing finished for STALL_SECONDS: the running jobs are stuck
                here += [futures[f] for f in pending if f.cancel()]
                _give_up_stalled(jobs, sorted(futures[f] for f in pending if not f.cancelled()),
                                 record)
                break
        for index in sorted(here):
            record(index, decode_rows(*jobs[index]))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a stuck thread is left to finish
    return [results[i] for i in range(len(jobs))]


def _give_up_stalled(jobs: Sequence[Job], stalled: list[int], record) -> None:
    """Record the ``stalled`` jobs as failed, with a warning naming their files."""
    files = [path for i in stalled for path in jobs[i][3]]
    warnings.warn(
        f"a decoding thread gave no answer for {STALL_SECONDS:.0f} s while reading "
        f"{len(files)} file(s), e.g. {files[0]}; stopped waiting for it (a file on a "
        "stalled network or Drive mount is the usual cause). These images count as failed.",
        stacklevel=5,
    )
    reason = f"TimeoutError: no answer after {STALL_SECONDS:.0f} s (stalled file system?)"
    for i in stalled:
        start, paths = jobs[i][2], jobs[i][3]
        record(i, (start, [0] * len(paths),
                   [(start + r, path, reason) for r, path in enumerate(paths)]))


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


def usable_cores() -> int:
    """Cores this process may use (respects CPU affinity where the OS reports it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
