"""Training throughput: the model alone vs the model fed from the image cache.

``python -m casekit_course.bench`` trains one model, at one batch size and precision, twice:

(a) **in memory** — one batch already held as a framework tensor, fed again and again
    (:func:`repeated_batch`): nothing but the model's own work, the ceiling;
(b) **from the cache** — :func:`casekit.training.make_batches` over a memory-mapped uint8
    ``.npy`` (what ``ImageCache.images`` is), shuffled, gathered batch by batch.

Both pipelines are warmed up first (tracing and compiling are not timed); then they run in
turn ``--repeats`` times. A step's time runs from the end of one training step to the end of
the next, so it includes fetching the batch; throughput is ``batch size / median step
time`` over all timed steps (the median shrugs off steps slowed by other work on the
machine). The last line printed is a JSON object whose last entry is
``ratio = cache / in-memory`` throughput: 1.0 means feeding from the cache costs nothing.

Without ``--cache`` the images are random pixels written to a temporary ``.npy`` (pixel
values do not change the speed); ``--cache DIR`` benchmarks a real cache folder.

Example:
    python -m casekit_course.bench --size 64 --steps 30 --weights none      # quick, on a CPU
    python -m casekit_course.bench --backbone EfficientNetB0 --batch-size 64  # B0 @ 224 on a GPU
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from casekit import backend
from casekit.models import BACKBONES, build_model
from casekit.training import enable_mixed_precision_if_useful, make_batches, set_seeds
from casekit.weights import resolve_weights


def repeated_batch(x: np.ndarray, y: np.ndarray, steps: int) -> Any:
    """One ``(x, y)`` batch converted once to a framework tensor and yielded ``steps`` times.

    What ``model.fit`` receives costs nothing to produce: the training speed measured with it
    is the model-only ceiling that a real input pipeline is compared with. (Backend-specific
    code, like :mod:`casekit.backend`; only this benchmark needs it.)
    """
    if backend.backend_name() == "tensorflow":
        import tensorflow as tf

        # Batched from slices, so the batch dimension is unknown (None), as with any other
        # input pipeline: model.fit then reuses the same traced training step.
        batch = tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x)).cache()
        return batch.repeat(steps)
    import jax

    batch = (jax.device_put(x), jax.device_put(y))

    def generate() -> Iterator[tuple[Any, Any]]:
        for _ in range(steps):
            yield batch

    return generate()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m casekit_course.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="EfficientNetB0", choices=sorted(BACKBONES))
    parser.add_argument("--size", type=int, default=None, help="image side (default: native)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50, help="timed training steps per run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per pipeline")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per pipeline")
    parser.add_argument("--weights", default="auto",
                        help="'auto' (casekit.weights policy), 'imagenet', 'none' or a file path")
    parser.add_argument("--precision", default="auto",
                        choices=["auto", "float32", "mixed_float16"],
                        help="auto: mixed_float16 on a GPU with compute capability >= 7.0")
    parser.add_argument("--cache", type=Path, default=None,
                        help="an image cache folder (casekit.images) instead of random pixels")
    return parser.parse_args(argv)


def _random_memmap(folder: Path, n: int, size: int, seed: int = 0) -> np.ndarray:
    """Write ``n`` random uint8 images to ``folder/images.npy``; return it memory-mapped."""
    path = folder / "images.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
    rng = np.random.default_rng(seed)
    for start in range(0, n, 256):
        stop = min(start + 256, n)
        out[start:stop] = rng.integers(0, 256, (stop - start, size, size, 3), dtype=np.uint8)
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


class _StepTimer(keras.callbacks.Callback):
    """Records the time at the end of every training step."""

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.ends: list[float] = []

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.ends.append(time.perf_counter())


def _step_times(model: keras.Model, data: Any, steps: int) -> np.ndarray:
    """Seconds per training step: time between consecutive step ends (fetching included)."""
    timer = _StepTimer()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[timer])
    return np.diff(timer.ends)


def run(args: argparse.Namespace, images: np.ndarray) -> dict[str, Any]:
    """Benchmark both pipelines on ``images`` (N × S × S × 3 uint8); return the numbers."""
    if args.precision == "auto":
        policy = enable_mixed_precision_if_useful()
    else:
        keras.mixed_precision.set_global_policy(args.precision)
        policy = args.precision
    set_seeds(0)
    size = images.shape[1]
    choice = resolve_weights(None if args.weights.lower() == "none" else args.weights,
                             backbone=args.backbone)
    model = build_model(choice.backbone, num_classes=2, input_size=size, weights=choice.weights)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="binary_crossentropy")

    batch = args.batch_size
    labels = np.random.default_rng(0).integers(0, 2, len(images)).astype(np.float32)
    from_cache = make_batches(images, labels, batch_size=batch, shuffle=True, seed=0)
    if len(from_cache) < args.steps:
        raise ValueError(f"{len(images)} images give {len(from_cache)} batches of {batch}, "
                         f"fewer than --steps {args.steps}; use fewer steps or more images.")
    x_one, y_one = np.array(images[:batch]), labels[:batch]

    def in_memory(steps: int) -> Any:
        return repeated_batch(x_one, y_one, steps)

    _step_times(model, in_memory(args.warmup), args.warmup)
    _step_times(model, from_cache, args.warmup)
    times: dict[str, list[np.ndarray]] = {"in_memory": [], "cache": []}
    for _ in range(args.repeats):
        times["in_memory"].append(_step_times(model, in_memory(args.steps), args.steps))
        times["cache"].append(_step_times(model, from_cache, args.steps))
    rate = {name: batch / float(np.median(np.concatenate(runs))) for name, runs in times.items()}
    return {
        "backend": backend.backend_name(),
        "backbone": choice.backbone,
        "weights": choice.reason,
        "size": size,
        "batch_size": batch,
        "steps": args.steps,
        "precision": policy,
        "images": len(images),
        "in_memory_img_per_s": round(rate["in_memory"], 2),
        "cache_img_per_s": round(rate["cache"], 2),
        "ratio": round(rate["cache"] / rate["in_memory"], 3),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.cache is not None:
        from casekit.images import open_cache

        result = run(args, open_cache(args.cache).images)
    else:
        size = args.size or BACKBONES[args.backbone].native_size
        n = (args.steps + 1) * args.batch_size
        with tempfile.TemporaryDirectory(prefix="casekit-bench-") as folder:
            result = run(args, _random_memmap(Path(folder), n, size))
    print(f"in memory : {result['in_memory_img_per_s']:8.1f} img/s")
    print(f"from cache: {result['cache_img_per_s']:8.1f} img/s")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
