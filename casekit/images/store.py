"""An image cache on disk: ``images.npy`` (N × S × S × 3 uint8) plus ``manifest.json``.

A cache folder is valid only when its manifest is present and consistent and the array
matches it. ``open_cache`` checks, without decoding anything: the manifest parses and is
of this format and recipe; its key is the one expected and is recomputed from the file
records it lists; ids, records, checksums and the array agree in number; the array file
has the recorded byte size, dtype and shape; and the CRC-32 of a sample of rows (first,
last and evenly spaced ones, 16 in all) matches the checksums stored at build time.
``ImageCache.verify()`` checks every row. Any failure raises ``CacheError`` saying what is
wrong; ``build_cache`` answers it by rebuilding (the sources are at hand there).

Example:
    >>> cache = open_cache("~/casekit_data/cache/ham10000/224px-0123abcd")  # doctest: +SKIP
    >>> batch = cache.take(["ISIC_0027419", "ISIC_0025030"])               # doctest: +SKIP
    >>> batch.shape                                                         # doctest: +SKIP
    (2, 224, 224, 3)
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from casekit.images.decode import METHOD
from casekit.images.key import content_key

FORMAT = 1
IMAGES_FILE = "images.npy"
MANIFEST_FILE = "manifest.json"
_SAMPLE_ROWS = 16


class CacheError(RuntimeError):
    """A cache folder is missing, incomplete, stale or corrupt."""


@dataclass(eq=False)  # two caches are the same when their keys are: compare ``.key``
class ImageCache:
    """Decoded images of one dataset at one size, memory-mapped from disk.

    ``images[i]`` is the image whose id is ``image_ids[i]``; rows follow the order in
    which the images were given to ``build_cache``.

    Example:
        >>> from casekit.images import cache_for                     # doctest: +SKIP
        >>> cache = cache_for(df, 224, dataset="pad_ufes_20")         # doctest: +SKIP
        >>> x_train = cache.take(df.loc[df.split == "train", "image_id"])  # doctest: +SKIP
        >>> len(cache), cache.images.shape[1:]                        # doctest: +SKIP
        (2298, (224, 224, 3))
    """

    images: np.ndarray = field(repr=False)
    image_ids: list[str] = field(repr=False)
    size: int
    dataset: str
    key: str
    path: Path
    _rows: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rows = {image_id: i for i, image_id in enumerate(self.image_ids)}

    def __len__(self) -> int:
        return len(self.image_ids)

    def index_of(self, image_ids: Iterable[str]) -> np.ndarray:
        """Row numbers of ``image_ids`` (int64), in the order given; ``KeyError`` if unknown."""
        wanted = [str(i) for i in image_ids]
        unknown = [i for i in wanted if i not in self._rows]
        if unknown:
            raise KeyError(
                f"{len(unknown)} image id(s) are not in the cache {self.path}, e.g. "
                f"{unknown[:5]}; build the cache from the same table you index it with"
            )
        return np.fromiter((self._rows[i] for i in wanted), dtype=np.int64, count=len(wanted))

    def take(self, image_ids: Iterable[str]) -> np.ndarray:
        """The images of ``image_ids`` in that order, as an in-memory (n, S, S, 3) uint8 array.

        Rows are read from disk in ascending order (one forward sweep of the memory map,
        fast even on slow disks) and then put back in the requested order.
        """
        rows = self.index_of(image_ids)
        order = np.argsort(rows, kind="stable")
        out = np.empty((len(rows), *self.images.shape[1:]), dtype=self.images.dtype)
        out[order] = self.images[rows[order]]
        return out

    def verify(self) -> None:
        """Check every row against its build-time CRC-32; ``CacheError`` names bad rows."""
        manifest = read_manifest(self.path)
        checksums = manifest["row_crc32"]
        bad = [self.image_ids[i] for i in range(len(self)) if _crc(self.images[i]) != checksums[i]]
        if bad:
            raise CacheError(
                f"{len(bad)} cached image(s) in {self.path} do not match their checksums, "
                f"e.g. {bad[:5]}; delete the folder and build the cache again"
            )

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ImageCache:
        """Open an existing cache folder (same as ``open_cache(path)``)."""
        return open_cache(path)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``manifest.json`` of a cache folder, or ``CacheError``."""
    path = Path(folder) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CacheError(f"{path} is missing: the cache was never finished") from None
    except (OSError, ValueError) as err:
        raise CacheError(f"{path} cannot be read ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CacheError(f"{path} is not a casekit image-cache manifest of format {FORMAT}")
    return manifest


def open_cache(path: str | os.PathLike[str], expected_key: str | None = None) -> ImageCache:
    """Open and validate a cache folder (see module docstring); ``CacheError`` if invalid."""
    folder = Path(path).expanduser()
    manifest = read_manifest(folder)
    try:
        return _validated(folder, manifest, expected_key)
    except (KeyError, TypeError, ValueError) as err:  # malformed manifest fields
        raise CacheError(f"{folder / MANIFEST_FILE} is malformed ({err!r})") from None


def _validated(folder: Path, manifest: dict[str, Any], expected_key: str | None) -> ImageCache:
    def fail(reason: str) -> CacheError:
        return CacheError(f"image cache {folder} is invalid: {reason}")

    if manifest["method"] != METHOD:
        raise fail(f"built with recipe {manifest['method']!r}, this casekit uses {METHOD!r}")
    key, size, dataset = manifest["key"], int(manifest["size"]), manifest["dataset"]
    if expected_key is not None and key != expected_key:
        raise fail("its key does not match the images asked for")
    records, ids, checksums = manifest["files"], manifest["image_ids"], manifest["row_crc32"]
    if content_key(dataset, size, records) != key:
        raise fail("the manifest's file list does not produce its key (edited by hand?)")
    if not (len(ids) == len(records) == len(checksums)) or [r["image_id"] for r in records] != ids:
        raise fail("image ids, file records and checksums disagree")
    array_path = folder / IMAGES_FILE
    if not array_path.is_file():
        raise fail(f"{IMAGES_FILE} is missing")
    if array_path.stat().st_size != manifest["npy_bytes"]:
        raise fail(f"{IMAGES_FILE} has {array_path.stat().st_size} bytes, "
                   f"{manifest['npy_bytes']} were written (truncated or replaced?)")
    try:
        images = np.load(array_path, mmap_mode="r")
    except (OSError, ValueError) as err:
        raise fail(f"{IMAGES_FILE} cannot be read ({err})") from None
    if images.dtype != np.uint8 or images.shape != (len(ids), size, size, 3):
        raise fail(f"array is {images.dtype} {images.shape}, expected uint8 "
                   f"{(len(ids), size, size, 3)}")
    for row in _sample_rows(len(ids)):
        if _crc(images[row]) != checksums[row]:
            raise fail(f"row {row} ({ids[row]}) does not match its checksum")
    return ImageCache(images=images, image_ids=list(ids), size=size, dataset=dataset,
                      key=key, path=folder)


def _sample_rows(n: int) -> list[int]:
    """First, last and evenly spaced rows: at most ``_SAMPLE_ROWS`` of them."""
    return sorted(set(np.linspace(0, n - 1, num=min(n, _SAMPLE_ROWS)).round().astype(int).tolist()))


def _crc(row: np.ndarray) -> int:
    """CRC-32 of one image row's bytes (the build-time checksum)."""
    return zlib.crc32(np.ascontiguousarray(row).data)
