"""Benchmark the decode-once image cache against a plain Pillow loop, then its read speed.

On the same images, in one run:

(a) naive: one process, ``Image.open`` → ``convert("RGB")`` → centre-square Lanczos resize;
(b) ``build_cache`` into a fresh folder, once with ``workers=1`` (what JPEG draft decoding
    alone gains) and once with every core (rows written straight into the memory-mapped
    file by each process) — times include hashing the files and starting the workers;
(c) reading the cache: shuffled batches of 64 gathered with ``ImageCache.take``.

On a machine busy with other work the parallel numbers shrink: the JSON records the load
average before the run, and CPU milliseconds per image for the single-process runs.
Files are read once beforehand, so (a) and (b) both read from the OS file cache and time
decoding, not the disk. Without ``--root`` it generates HAM10000-like 600 × 450 JPEGs in a
temporary folder with ``casekit.synthetic.make``. The last line printed is
a JSON object with every number.

Example:
    python -m casekit.bench.cache --n 400 --size 224
    python -m casekit.bench.cache --root ~/casekit_data/ham10000 --dataset ham10000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from casekit.datasets.registry import get_spec
from casekit.images import build_cache, load_image
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


def run(root: Path | None, dataset: str, n: int, size: int, workers: int | None,
        batch: int) -> dict:
    """Time (a) naive, (b) build_cache, (c) cache reads; return every number."""
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # others' work
    with tempfile.TemporaryDirectory(prefix="casekit-bench-") as tmp:
        workdir = Path(tmp)
        paths, source = bench_images(root, dataset, n, workdir)
        ids = [p.stem for p in paths]
        megabytes = sum(len(p.read_bytes()) for p in paths) / 1e6  # also warms the file cache

        start, cpu = time.perf_counter(), time.process_time()
        naive = [naive_decode(p, size) for p in paths]
        naive_s, naive_cpu = time.perf_counter() - start, time.process_time() - cpu

        start, cpu = time.perf_counter(), time.process_time()
        build_cache(paths, ids, size, "bench", cache_dir=workdir / "one", workers=1,
                    progress=False)
        one_s, one_cpu = time.perf_counter() - start, time.process_time() - cpu

        start = time.perf_counter()
        cache = build_cache(paths, ids, size, "bench", cache_dir=workdir / "cache",
                            workers=workers, progress=False)
        build_s = time.perf_counter() - start
        manifest = json.loads((cache.path / "manifest.json").read_text(encoding="utf-8"))
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
        "workers": workers or os.cpu_count(),
        "naive_img_per_s": round(n / naive_s, 1),
        "build_cache_1_process_img_per_s": round(n / one_s, 1),
        "build_cache_img_per_s": round(n / build_s, 1),
        "naive_cpu_ms_per_img": round(1000 * naive_cpu / n, 3),
        "build_cache_1_process_cpu_ms_per_img": round(1000 * one_cpu / n, 3),
        "speedup": round(naive_s / build_s, 2),
        "build_seconds_total": round(build_s, 3),
        "build_seconds_decoding": manifest["build_seconds"],
        "mean_abs_difference_vs_naive": round(difference, 3),
        "cache_equals_load_image": exact,
        "reopen_seconds": round(reopen_s, 4),
        "read_batch": batch,
        "read_img_per_s": round(rounds * n / read_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casekit.bench.cache", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="a real dataset folder")
    parser.add_argument("--dataset", default="ham10000", help="its name (for the file type)")
    parser.add_argument("--n", type=int, default=400, help="number of images")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--workers", type=int, default=None, help="default: every core")
    parser.add_argument("--batch", type=int, default=64, help="read batch size")
    args = parser.parse_args(argv)
    result = run(args.root, args.dataset, args.n, args.size, args.workers, args.batch)
    print(f"images: {result['images']} ({result['megabytes']} MB), {result['size']}px")
    print(f"(a) naive PIL loop, 1 process : {result['naive_img_per_s']:8.1f} img/s")
    print(f"(b) build_cache, 1 process    : "
          f"{result['build_cache_1_process_img_per_s']:8.1f} img/s "
          f"(CPU {result['build_cache_1_process_cpu_ms_per_img']} ms/img vs naive "
          f"{result['naive_cpu_ms_per_img']})")
    print(f"(b) build_cache, all workers  : {result['build_cache_img_per_s']:8.1f} img/s "
          f"({result['speedup']}x; {result['build_seconds_total']}s incl. hashing and "
          f"worker start-up)")
    print(f"(c) cache reads, batches of {result['read_batch']:<3}: "
          f"{result['read_img_per_s']:8.1f} img/s (reopen {result['reopen_seconds']}s)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
