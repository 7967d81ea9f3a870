"""Decode one image file into a ``size × size × 3`` uint8 RGB array.

Geometry: the image is centre-cropped to its largest centred square, then resized with a
Lanczos filter. Lesions sit in the middle of both datasets' pictures, so the crop keeps
them whole; nothing is stretched (a distorted lesion changes its shape, a diagnostic cue)
and no padding bars are added (a model can learn that bars mean "portrait phone photo").
What is lost: the strips beyond the square on the long side — 75 px left and right of a
600 × 450 HAM10000 image (25 % of its area), more on very elongated phone photos. (The
filter reads about one source pixel past the square's edge, so the outermost output
pixels carry a trace of what lies beyond it.)

Colour: everything becomes 8-bit RGB. Every way a file can carry transparency is
composited onto white, the same for each, which is what an image viewer shows a person:
an alpha channel (RGBA, LA, PA, premultiplied RGBa/La, 16-bit RGBA/LA PNGs, which Pillow
opens as 8-bit RGBA) and a colour key (the PNG/GIF ``transparency`` entry of a palette,
1-bit, greyscale, 16-bit greyscale or RGB image: pixels of exactly that value are
transparent; lossless PNG optimisers write binary-alpha pictures this way). Dropping the
transparency instead would expose whatever colour happens to sit under transparent pixels
(often black). Where nothing is transparent, as in a photo merely saved as RGBA, both
choices give the same pixels and the composite is skipped. Greyscale, palette and CMYK
images are converted by Pillow; 16-bit greyscale is scaled (65535 → 255), not clipped.
One approximation: Pillow decodes 16-bit RGB PNGs to their high bytes, so a 16-bit colour
key is matched on its high bytes (colours within 1/256 of the key turn transparent too).

Orientation: the EXIF orientation tag is applied (``ImageOps.exif_transpose``), so a phone
photo taken sideways is stored upright.

Speed: a JPEG much larger than the target is decoded at 1/2, 1/4 or 1/8 scale by the JPEG
library itself (Pillow's ``Image.draft``), never below the target size; this about doubles
decoding speed for 600 × 450 → 224 and changes pixels by about half a grey level on
average (measured on 600 × 450 JPEGs). Large PNGs are first shrunk by whole-pixel
averaging (``reducing_gap``) before the Lanczos step. A phone photo stored as MPO (several
frames, the first a JPEG) decodes exactly like the same picture stored as a plain JPEG:
same speed, same pixels (v3 of the recipe; v2 decoded MPO files at full size, 2.9 times
slower and about one grey level off).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> path = Path(tempfile.mkdtemp()) / "lesion.png"
    >>> Image.new("RGBA", (60, 40), (200, 100, 50, 255)).save(path)
    >>> array = load_image(path, 32)
    >>> array.shape, array.dtype.name, array[16, 16].tolist()
    ((32, 32, 3), 'uint8', [200, 100, 50])
"""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image, ImageOps

#: Names the whole recipe above. It is part of every cache key: change it whenever the
#: recipe changes, so that caches built the old way are never mistaken for new ones.
METHOD = "centre-square/lanczos/jpeg-draft/exif/alpha-on-white/v3"

_WHITE = (255, 255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_WIDE_GREY = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})  # 16/32-bit greyscale


def load_image(path: str | os.PathLike[str], size: int) -> np.ndarray:
    """Return the image at ``path`` as a ``size × size × 3`` uint8 RGB array (see module doc).

    Raises whatever Pillow raises for an unreadable file (``FileNotFoundError``,
    ``PIL.UnidentifiedImageError``, ``OSError`` for a truncated file, ...).
    """
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive integer number of pixels, got {size!r}")
    with Image.open(path) as image:
        _request_draft(image, size)
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # rotate upright if the tag says so
        return np.asarray(_square(to_rgb(image), size))


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow image to 8-bit RGB, transparency composited onto white (module doc).

    Example:
        >>> grey = Image.new("L", (2, 1), 0)
        >>> grey.info["transparency"] = 0   # colour key: black is transparent
        >>> np.asarray(to_rgb(grey))[0, 0].tolist()
        [255, 255, 255]
    """
    key = image.info.get("transparency")
    if image.mode in _WIDE_GREY:
        grey = np.asarray(image).astype(np.int64)
        scaled = ((np.clip(grey, 0, 65535) * 255 + 32767) // 65535).astype(np.uint8)
        if not isinstance(key, int):
            return Image.fromarray(scaled).convert("RGB")
        alpha = np.where(grey == key, 0, 255).astype(np.uint8)
        rgba = Image.fromarray(np.dstack([scaled, scaled, scaled, alpha]), "RGBA")
    elif image.mode in _ALPHA_MODES or key is not None:
        if image.mode == "RGB" and isinstance(key, tuple) and max(key) > 255:
            image = image.copy()  # a 16-bit key on pixels Pillow reduced to their high bytes
            image.info["transparency"] = tuple(int(v) >> 8 for v in key)
        rgba = (image.convert("LA") if image.mode == "La" else image).convert("RGBA")
    else:
        return image if image.mode == "RGB" else image.convert("RGB")
    if rgba.getchannel("A").getextrema() == (255, 255):  # nothing transparent: nothing to blend
        return rgba.convert("RGB")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE), rgba).convert("RGB")


def _request_draft(image: Image.Image, size: int) -> None:
    """Ask a JPEG decoder for the smallest power-of-two reduction whose short side ≥ size.

    A phone photo stored as MPO (a JPEG followed by further frames, e.g. a depth map;
    Pillow #1138) is decoded the same way: its first frame is a plain JPEG.
    """
    if image.format not in ("JPEG", "MPO"):
        return
    width, height = image.size
    short = min(width, height)
    if short >= 2 * size:  # below that no reduction is possible anyway
        image.draft("RGB", (math.ceil(width * size / short), math.ceil(height * size / short)))


def _square(image: Image.Image, size: int) -> Image.Image:
    """Centre-crop to the largest square and resize it to ``size × size`` (one resampling)."""
    width, height = image.size
    short = min(width, height)
    left, top = (width - short) / 2, (height - short) / 2
    return image.resize(
        (size, size),
        Image.Resampling.LANCZOS,
        box=(left, top, left + short, top + short),
        reducing_gap=3.0,
    )
