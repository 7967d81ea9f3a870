"""Benchmark the decode-once image cache: naive loop, threads and processes, then reads.

On the same images, in one run:

(a) naive: one thread, ``Image.open`` → ``convert("RGB")`` → centre-square Lanczos resize;
(b) the cache's decoding jobs (``casekit.images.build.plan_jobs``: ``decode_rows`` on
    chunks of images written straight into a memory-mapped ``.npy``) run by one worker and
    by all workers, once with *threads* on ``build_cache``'s own scheduler and once with a
    *spawn* process pool (what it used before: it re-runs an unguarded ``__main__`` and
    starts Python once per worker) — process times include starting the workers;
(c) ``build_cache`` end to end (hashing, decoding with all threads, manifest);
(d) reading the cache: shuffled batches of 64 gathered with ``ImageCache.take``.

Each variant of (a) and (b) is timed ``--repeats`` times, the variants interleaved, and
the median reported: on a machine busy with other work a burst of load then hits every
variant alike. The JSON records the load average before the run. Files are read once
beforehand, so every variant reads from the OS file cache and times decoding, not the
disk. Without ``--root`` it generates HAM10000-like 600 × 450 JPEGs in a temporary folder
with ``casekit.synthetic.make``. The last line printed is a JSON object with every number.

Example:
    python -m casekit_course.bench.cache --n 400 --size 224
    python -m casekit_course.bench.cache --root ~/casekit_data/ham10000 --dataset ham10000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from casekit.datasets.registry import get_spec
from casekit.images import build_cache, load_image
from casekit.images.build import decode_rows, plan_jobs, run_jobs, usable_cores
from casekit.progress import tqdm
from casekit.synthetic import make


def naive_decode(path: Path, size: int) -> np.ndarray:
    """The baseline: full-resolution decode, same centre square, same Lanczos filter."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    width, height = rgb.size
    short = min(width, height)
    left, top = (width - short) / 2, (height - short) / 2
    box = (left, top, left + short, top + short)
    return np.asarray(rgb.resize((size, size), Image.Resampling.LANCZOS, box=box))


def bench_images(root: Path | None, dataset: str, n: int, workdir: Path) -> tuple[list[Path], str]:
    """The images to time: ``n`` of the dataset under ``root``, or freshly generated ones."""
    if root is not None:
        extension = get_spec(dataset).image_extension
        found = sorted(p for p in Path(root).expanduser().rglob("*")
                       if p.suffix.lower() == extension and p.is_file())
        if not found:
            raise SystemExit(f"no {extension} images under {root}")
        pick = np.random.default_rng(0).choice(len(found), size=min(n, len(found)), replace=False)
        return [found[i] for i in sorted(pick)], f"{len(pick)} images of {dataset} under {root}"
    made = Path(make("ham10000", root=workdir / "synthetic", n_images=n, seed=0,
                     image_size=(600, 450), progress=False))
    paths = sorted(made.rglob("*.jpg"))[:n]
    return paths, f"{len(paths)} synthetic HAM10000 600x450 JPEGs (casekit.synthetic.make)"


def timed_jobs(kind: str, paths: list[Path], size: int, workers: int, folder: Path) -> float:
    """Seconds to decode ``paths`` with ``workers`` threads or spawned processes.

    The jobs are the cache's own (``plan_jobs``: ``decode_rows`` on chunks of up to 32
    images). Threads run them as ``build_cache`` does (``run_jobs``: a ThreadPoolExecutor
    of ``workers`` threads); processes on a spawn pool of ``workers``.
    """
    out = folder / f"{kind}-{workers}.npy"
    jobs = plan_jobs(out, paths, size, workers)
    start = time.perf_counter()
    if kind == "threads":
        with tqdm(total=len(paths), disable=True) as bar:
            run_jobs(jobs, workers, bar)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            list(pool.map(decode_rows, *zip(*jobs, strict=True)))
    seconds = time.perf_counter() - start
    out.unlink()
    return seconds


def _timed_naive(paths: list[Path], size: int) -> float:
    start = time.perf_counter()
    for path in paths:
        naive_decode(path, size)
    return time.perf_counter() - start


def run(root: Path | None, dataset: str, n: int, size: int, workers: int | None,
        batch: int, repeats: int = 3) -> dict:
    """Time (a) naive, (b) threads and processes, (c) build_cache, (d) reads; every number."""
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # others' work
    workers = workers or usable_cores()
    with tempfile.TemporaryDirectory(prefix="casekit-bench-") as tmp:
        workdir = Path(tmp)
        paths, source = bench_images(root, dataset, n, workdir)
        ids = [p.stem for p in paths]
        megabytes = sum(len(p.read_bytes()) for p in paths) / 1e6  # also warms the file cache

        naive = [naive_decode(p, size) for p in paths]
        variants = {"naive": lambda: _timed_naive(paths, size)}
        for kind in ("threads", "processes"):
            for count in sorted({1, workers}):
                variants[f"{kind}_{'1' if count == 1 else 'all'}"] = (
                    lambda kind=kind, count=count: timed_jobs(kind, paths, size, count, workdir))
        seconds: dict[str, list[float]] = {label: [] for label in variants}
        for _ in range(repeats):  # interleaved, so a burst of others' work hits every variant
            for label, timed in variants.items():
                seconds[label].append(timed())
        speeds = {label: len(paths) / float(np.median(s)) for label, s in seconds.items()}

        start = time.perf_counter()
        cache = build_cache(paths, ids, size, "bench", cache_dir=workdir / "cache",
                            workers=workers, progress=False)
        build_s = time.perf_counter() - start
        difference = float(np.mean([np.abs(a.astype(np.int16) - b).mean()
                                    for a, b in zip(naive, cache.images, strict=True)]))
        exact = bool(np.array_equal(cache.images[len(paths) // 2],
                                    load_image(paths[len(paths) // 2], size)))
        del naive, cache

        start = time.perf_counter()
        cache = build_cache(paths, ids, size, "bench", cache_dir=workdir / "cache",
                            workers=workers, progress=False)
        reopen_s = time.perf_counter() - start
        order = np.random.default_rng(0).permutation(ids)
        rounds = max(1, 2000 // len(ids))
        start = time.perf_counter()
        for _ in range(rounds):
            for first in range(0, len(order), batch):
                cache.take(order[first:first + batch])
        read_s = time.perf_counter() - start
        del cache

    n = len(paths)
    return {
        "images": source,
        "n": n,
        "megabytes": round(megabytes, 1),
        "size": size,
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "workers": workers,
        "repeats": repeats,
        **{f"{label}_img_per_s": round(value, 1) for label, value in speeds.items()},
        "build_cache_img_per_s": round(n / build_s, 1),
        "build_seconds_total": round(build_s, 3),
        "mean_abs_difference_vs_naive": round(difference, 3),
        "cache_equals_load_image": exact,
        "reopen_seconds": round(reopen_s, 4),
        "read_batch": batch,
        "read_img_per_s": round(rounds * n / read_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casekit_course.bench.cache",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="a real dataset folder")
    parser.add_argument("--dataset", default="ham10000", help="its name (for the file type)")
    parser.add_argument("--n", type=int, default=400, help="number of images")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--workers", type=int, default=None, help="default: every usable core")
    parser.add_argument("--batch", type=int, default=64, help="read batch size")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timings per variant, interleaved; the median is reported")
    args = parser.parse_args(argv)
    result = run(args.root, args.dataset, args.n, args.size, args.workers, args.batch,
                 args.repeats)
    print(f"images: {result['images']} ({result['megabytes']} MB), {result['size']}px, "
          f"{result['workers']} workers, load average before {result['load_average_before']}")
    print(f"(a) naive PIL loop           : {result['naive_img_per_s']:8.1f} img/s")
    for kind in ("threads", "processes"):
        for count in ("1", "all"):
            if f"{kind}_{count}_img_per_s" in result:
                print(f"(b) {kind:<9} {'one worker' if count == '1' else 'all workers':<12}   : "
                      f"{result[f'{kind}_{count}_img_per_s']:8.1f} img/s")
    print(f"(c) build_cache (threads)    : {result['build_cache_img_per_s']:8.1f} img/s "
          f"({result['build_seconds_total']}s incl. hashing)")
    print(f"(d) cache reads, batches of {result['read_batch']:<3}: "
          f"{result['read_img_per_s']:8.1f} img/s (reopen {result['reopen_seconds']}s)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
