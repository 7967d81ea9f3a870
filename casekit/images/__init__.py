"""Decode-once image cache: every image decoded and resized once, then read from disk.

Decoding a JPEG or PNG costs milliseconds; a GPU trains on an image in about one. So
the images are decoded once into one uint8 array on disk (``images.npy``, opened
memory-mapped) and every epoch reads that. The pieces, one module each:

- ``decode``: ``load_image(path, size)`` — centre square, Lanczos, RGB, EXIF-upright.
- ``key``: the content key — which images, which bytes, which size, which recipe.
- ``store``: ``ImageCache`` and the validation of a cache folder.
- ``build``: ``build_cache`` / ``cache_for`` — parallel, atomic, rebuilt only when needed.

Example:
    >>> from casekit.images import cache_for                      # doctest: +SKIP
    >>> cache = cache_for(df, 224, dataset="ham10000")             # doctest: +SKIP
    >>> x = cache.take(df.image_id[:64])  # (64, 224, 224, 3) uint8   # doctest: +SKIP
"""

from casekit.images.build import ImageDecodeError, build_cache, cache_for
from casekit.images.decode import METHOD, load_image, to_rgb
from casekit.images.store import CacheError, ImageCache, open_cache

__all__ = [
    "METHOD",
    "CacheError",
    "ImageCache",
    "ImageDecodeError",
    "build_cache",
    "cache_for",
    "load_image",
    "open_cache",
    "to_rgb",
]
