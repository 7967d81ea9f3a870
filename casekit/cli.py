"""The ``casekit`` command line: doctor, download, synthetic, cache, demo.

Example (shell)::

    casekit doctor
    casekit synthetic pad_ufes_20 --n-images 600
    casekit download ham10000 --root /content/drive/MyDrive/casekit_data/ham10000
    casekit cache pad_ufes_20 --size 224
    casekit demo --out outputs/demo
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from casekit.datasets.registry import REGISTRY

DATASETS = sorted(REGISTRY)


def _doctor(args: argparse.Namespace) -> int:
    from casekit.doctor import report

    print(report())
    return 0


def _download(args: argparse.Namespace) -> int:
    from casekit import datasets

    if args.existing:
        path = datasets.use_existing(args.name, args.existing)
    else:
        path = datasets.download(args.name, args.root, source=args.source, url=args.url,
                                 force=args.force)
    print(f"{args.name}: verified at {path}")
    print(REGISTRY[args.name].attribution())
    return 0


def _synthetic(args: argparse.Namespace) -> int:
    from casekit import synthetic

    names = DATASETS if args.name == "all" else [args.name]
    for name in names:
        path = synthetic.make(name, args.root if len(names) == 1 else None,
                              n_images=args.n_images, seed=args.seed)
        print(f"{name}: synthetic data at {path}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from casekit import datasets, synthetic
    from casekit.images import cache_for

    root = args.root or (None if args.real else synthetic.make(args.name))
    if root is None:
        root = datasets.download(args.name)
    df = datasets.load(args.name, root, missing=args.missing)
    cache = cache_for(df, args.size, dataset=args.name, workers=args.workers)
    print(f"{args.name}: {len(cache)} images at {args.size}px cached in {cache.path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from casekit.demo import run_demo

    run_demo(Path(args.out), size=args.size, n_images=args.n_images, data_only=args.data_only)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so tests and docs can list the commands)."""
    parser = argparse.ArgumentParser(prog="casekit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    doctor = sub.add_parser("doctor", help="versions, backend, GPU, credentials, datasets")
    doctor.set_defaults(func=_doctor)

    download = sub.add_parser("download", help="download and verify a real dataset")
    download.add_argument("name", choices=DATASETS)
    download.add_argument("--root", type=Path, default=None, help="where to put it")
    download.add_argument("--source", choices=["auto", "kaggle", "official", "url"],
                          default="auto")
    download.add_argument("--url", default=None, help="archive URL (with --source url)")
    download.add_argument("--existing", type=Path, default=None,
                          help="verify data already on disk or Drive instead of downloading")
    download.add_argument("--force", action="store_true", help="download again")
    download.set_defaults(func=_download)

    synth = sub.add_parser("synthetic", help="write the synthetic stand-in dataset(s)")
    synth.add_argument("name", choices=[*DATASETS, "all"], nargs="?", default="all")
    synth.add_argument("--root", type=Path, default=None)
    synth.add_argument("--n-images", type=int, default=None)
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(func=_synthetic)

    cache = sub.add_parser("cache", help="decode a dataset once into the image cache")
    cache.add_argument("name", choices=DATASETS)
    cache.add_argument("--root", type=Path, default=None, help="dataset folder")
    cache.add_argument("--real", action="store_true", help="use the real dataset")
    cache.add_argument("--size", type=int, default=224)
    cache.add_argument("--workers", type=int, default=None)
    cache.add_argument("--missing", choices=["error", "drop"], default="error")
    cache.set_defaults(func=_cache)

    demo = sub.add_parser("demo", help="run the case study end to end on synthetic data")
    demo.add_argument("--out", default="outputs/demo")
    demo.add_argument("--size", type=int, default=None, help="image size (default 64)")
    demo.add_argument("--n-images", type=int, default=None, help="images per dataset")
    demo.add_argument("--data-only", action="store_true",
                      help="only the data pipeline: generate → load → split → cache → summary")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``casekit`` command. Errors print one clear line, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as error:
        print(f"casekit {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
