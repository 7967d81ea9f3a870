"""The ``casekit`` command line: doctor, download, synthetic, cache, clean.

Every command says which data it acts on (synthetic or real, and which folder). Errors are
one or two lines (what went wrong, what to do), never a traceback.

Example (shell)::

    casekit doctor
    casekit synthetic pad_ufes_20 --n-images 600
    casekit download ham10000 --root /content/drive/MyDrive/casekit_data/ham10000
    casekit cache pad_ufes_20 --size 224          # the synthetic stand-in; --real for the data
    casekit clean                                 # image caches and synthetic data
"""

from __future__ import annotations

import argparse
import socket
import sys
import urllib.error
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

import requests
import urllib3

from casekit.datasets.registry import REGISTRY
from casekit.logs import quiet_third_party
from casekit.paths import cache_root, data_root, dataset_dir

DATASETS = sorted(REGISTRY)


def _doctor(args: argparse.Namespace) -> int:
    from casekit.doctor import report

    print(report())
    return 0


def _download(args: argparse.Namespace) -> int:
    from casekit import datasets
    from casekit.datasets.download import choose_source
    from casekit.datasets.errors import KaggleCredentialsError
    from casekit.datasets.kaggle import TOKEN_PAGE
    from casekit.environment import kaggle_credentials_source

    spec = REGISTRY[args.name]
    if args.existing:
        path = datasets.use_existing(args.name, args.existing)
        print(f"{args.name} (real data): the copy in {path} verifies")
    else:
        root = Path(args.root or dataset_dir(args.name)).expanduser().absolute()
        source = choose_source(spec, args.source, args.url)
        auto = args.source == "auto" and source != "kaggle"
        why = " (no Kaggle credentials found)" if auto else ""
        print(f"{args.name} (real data): from {_source_name(spec, source, args.url)}{why} "
              f"into {root}", flush=True)
        try:
            path = datasets.download(args.name, root, source=source, url=args.url,
                                     force=args.force)
        except KaggleCredentialsError:
            found = kaggle_credentials_source()
            problem = (f"Kaggle refused the credentials from {found} for {spec.kaggle_handle} "
                       "(wrong or expired?)" if found else "no Kaggle API credentials found, "
                       f"so {spec.kaggle_handle} cannot be fetched from Kaggle")
            raise RuntimeError(
                f"{problem}.\n  What to do: create a token at {TOKEN_PAGE} and set "
                "KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY, or ~/.kaggle/kaggle.json; "
                "`casekit doctor` shows what it finds); or another source (--source "
                f"{_other_sources(source)}); or --existing PATH") from None
        except Exception as error:
            problem = _unreachable(error)
            if problem is None:
                raise
            raise RuntimeError(f"{problem}\n  What to do: check the connection and try again; "
                               f"or another source (--source {_other_sources(source)}); or verify "
                               f"a copy you already have: casekit download {args.name} "
                               "--existing PATH") from None
        print(f"{args.name} (real data): verified in {path}")
    print(spec.attribution())
    return 0


def _source_name(spec, source: str, url: str | None) -> str:
    if source == "kaggle":
        return f"Kaggle ({spec.kaggle_handle})"
    if source == "official":
        return f"the official files ({spec.official_doi})"
    return url or "the given URL"


def _other_sources(source: str) -> str:
    return " or ".join(s for s in ("kaggle", "official", "url --url ARCHIVE") if s != source)


def _unreachable(error: BaseException) -> str | None:
    """One line naming the host that could not be reached and why, or None if the error is
    not a network failure (the exception chain is searched: casekit wraps library errors,
    requests wraps urllib3's, which wrap the socket's)."""
    chain = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "reason", None)
        seen = seen if isinstance(seen, BaseException) else None
    reason = next((words for kind, words in _NETWORK_FAILURES for seen in chain
                   if isinstance(seen, kind)), None)
    if reason is None:
        return None
    hosts = (_host(seen) for seen in chain)
    return f"could not reach {next((h for h in hosts if h), 'the download server')}: {reason}."


def _host(error: BaseException) -> str | None:
    """The host a requests or urllib3 error was about, from its attributes."""
    url = getattr(getattr(error, "request", None), "url", None) or getattr(error, "url", None)
    if isinstance(url, str) and "//" in url:
        return urllib.parse.urlsplit(url).hostname
    return getattr(getattr(error, "pool", None), "host", None)


#: Network failures by exception type (most specific first), in words.
_NETWORK_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (socket.gaierror, "its name does not resolve (offline?)"),
    (urllib3.exceptions.NameResolutionError, "its name does not resolve (offline?)"),
    (ConnectionRefusedError, "connection refused"),
    (TimeoutError, "the connection timed out"),
    (requests.Timeout, "the connection timed out"),
    (urllib3.exceptions.TimeoutError, "the connection timed out"),
    (ConnectionError, "no connection"),
    (requests.ConnectionError, "no connection"),
    (urllib3.exceptions.HTTPError, "no connection"),
    (urllib.error.URLError, "no connection"),
)


def _synthetic(args: argparse.Namespace) -> int:
    from casekit import synthetic

    names = DATASETS if args.name == "all" else [args.name]
    for name in names:
        path = synthetic.make(name, args.root if len(names) == 1 else None,
                              n_images=args.n_images, seed=args.seed)
        print(f"{name}: synthetic data (made-up patients and images) in {path}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from casekit import datasets, synthetic
    from casekit.datasets.verify import MANIFEST_NAME

    if args.root is not None:
        root = args.root.expanduser().absolute()
    elif args.real:
        print(f"{args.name} (real data): looking for it in {dataset_dir(args.name)}", flush=True)
        root = datasets.download(args.name)
    else:
        root = synthetic.make(args.name)
    kind = "synthetic data" if (Path(root) / MANIFEST_NAME).exists() else "real data"
    from casekit.images import cache_for

    df = datasets.load(args.name, root, missing=args.missing)
    cache = cache_for(df, args.size, dataset=args.name, workers=args.workers)
    print(f"{args.name} ({kind} in {root}): {len(cache)} images at {args.size}px cached in "
          f"{cache.path}")
    if kind == "synthetic data" and not args.real:
        print("  (synthetic stand-in; for the real dataset add --real, or --root FOLDER)")
    return 0


def _clean(args: argparse.Namespace) -> int:
    from casekit.clean import kept, plan, remove

    items = plan(runs=args.runs or args.all, data=args.data or args.all)
    verb = "would remove" if args.dry_run else "removed"
    if not items:
        print(f"casekit clean: nothing to remove under {data_root()} and {cache_root()} "
              "(image caches, synthetic data)")
    else:
        if not args.dry_run:
            remove(items)
        total = sum(item.size for item in items) / 1e6
        print(f"casekit clean: {verb} {len(items)} folder(s), {total:.1f} MB:")
        for item in items:
            print(f"  {item}")
    for note in kept(runs=args.runs or args.all, data=args.data or args.all):
        print(f"  kept: {note}")
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
    download.add_argument("--source", choices=["kaggle", "official", "url", "auto"],
                          default="kaggle", help="where from (default kaggle, as the notebooks "
                          "say; official: the publisher's files; auto: Kaggle when credentials "
                          "exist, else official; url: an archive given with --url)")
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

    clean = sub.add_parser("clean", help="remove image caches and synthetic data (and, when "
                           "asked, runs and real datasets); says what it removes")
    clean.add_argument("--runs", action="store_true", help="also the training runs")
    clean.add_argument("--data", action="store_true", help="also the real datasets")
    clean.add_argument("--all", action="store_true", help="all of the above")
    clean.add_argument("--dry-run", action="store_true", help="only say what would go")
    clean.set_defaults(func=_clean)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``casekit`` command. Errors print one clear line, not a traceback."""
    quiet_third_party()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as error:
        print(f"casekit {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
