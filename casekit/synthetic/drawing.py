"""Draw synthetic lesion images with numpy and Pillow (no data, no network).

Two steps. ``draw_lesion`` paints one lesion once, in its own frame, as an RGBA "sticker":
an irregular blob whose colour, accents, centre and texture follow its class's look.
``render`` then photographs the sticker onto skin for each image of that lesion, with a
new pose (rotation, mirror, size, position), exposure, white balance and artefacts each
time, so images of one lesion look alike with small variations.

Speed: smooth things (skin mottling, light, lens ring) are computed on a coarse grid and
upscaled by Pillow; compositing is Pillow's; pixel noise is cut from a fixed noise bank;
large images are drawn at most MAX_WORK px high and upscaled. Drawing a 150 x 112 image
takes about 1.5 ms on one core, a 600 x 450 one about 10 ms (saving it comes on top).

Example:
    >>> import numpy as np
    >>> from casekit.synthetic.looks import LOOKS, SCENES
    >>> rng = np.random.default_rng(0)
    >>> lesion = draw_lesion(LOOKS["pad_ufes_20"]["NEV"], rng, short_side=96)
    >>> image = render(lesion, SCENES["pad_ufes_20"], (128, 96), (226, 186, 160), rng)
    >>> image.size, image.mode
    ((128, 96), 'RGB')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from casekit.synthetic.looks import RGB, ClassLook, Scene

#: Lesion radius in its own frame (the sticker spans -1..1), leaving room for the border.
FRAME_RADIUS = 0.7
#: Resolution of the table of border radius by angle.
ANGLES = 256
#: Colour variation of a lesion: a change of brightness plus a small shift along red <-> cyan.
RED_AXIS = np.array([1.0, -0.5, -0.5], dtype=np.float32)
#: Lesion-to-lesion spread of the size (log scale).
SIZE_SD = 0.22
#: Pixels per cell of the coarse grid used for smooth fields.
COARSE = 8
#: Largest sticker side; bigger lesions are upscaled when photographed (they are smooth).
MAX_STICKER = 192
#: Images whose shorter side exceeds this are drawn at this size, then upscaled.
MAX_WORK = 256

_BILINEAR = Image.Resampling.BILINEAR
_BICUBIC = Image.Resampling.BICUBIC


@dataclass(frozen=True)
class Lesion:
    """A painted lesion: RGBA sticker and its radius as a share of half the image side."""

    sticker: Image.Image
    radius: float


@lru_cache(maxsize=256)
def _grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    """x, y coordinates in -1..1 of the pixel centres of a ``side`` x ``side`` square."""
    c = ((np.arange(side, dtype=np.float32) + 0.5) / side) * 2 - 1
    return np.meshgrid(c, c)


@lru_cache(maxsize=4)
def _noise_bank(rows: int, cols: int) -> np.ndarray:
    """A fixed ``rows`` x ``cols`` x 3 block of standard-normal pixel noise (same every run)."""
    rng = np.random.default_rng([rows, cols])
    return rng.standard_normal((rows, cols, 3), dtype=np.float32)


def _bank_side(pixels: int) -> int:
    """Noise-bank side for images ``pixels`` long: a power of two with room to shift."""
    return max(256, 1 << int(np.ceil(np.log2(pixels + 32))))


def value_noise(rng: np.random.Generator, cells: int, size: tuple[int, int]) -> np.ndarray:
    """Smooth noise in about 0-1: a ``cells``-wide random grid upscaled bicubically to ``size``."""
    grid = rng.random((cells + 1, cells + 1), dtype=np.float32)
    return np.asarray(Image.fromarray(grid).resize(size, _BICUBIC))


def _border(rng: np.random.Generator, irregularity: float) -> np.ndarray:
    """Radius (relative) of the border at ANGLES angles: a few harmonics plus a wobble."""
    theta = np.linspace(0, 2 * np.pi, ANGLES, endpoint=False)
    k = np.arange(1, 7)[:, None]
    amplitude = irregularity * rng.normal(0, 1, (6, 1)) / k**0.7
    wave = (amplitude * np.cos(k * theta + rng.uniform(0, 2 * np.pi, (6, 1)))).sum(axis=0)
    wobble = np.convolve(np.tile(rng.normal(0, 1, ANGLES), 3), np.ones(15) / 15, "same")
    wave += 0.8 * irregularity * wobble[ANGLES:2 * ANGLES]
    return np.clip(1 + wave, 0.6, 1.35).astype(np.float32)


def _vessels(sticker: Image.Image, rng: np.random.Generator, mean: float) -> None:
    """Thin branching red lines across the lesion (telangiectasia), drawn in place."""
    side = sticker.size[0]
    pen = ImageDraw.Draw(sticker)
    for _ in range(rng.poisson(mean)):
        point = rng.uniform(-0.45, 0.45, 2)
        heading = rng.uniform(0, 2 * np.pi)
        points = []
        for _ in range(5):
            points.append(tuple(((point + 1) * side / 2).tolist()))
            heading += rng.normal(0, 0.6)
            point = point + 0.12 * np.array([np.cos(heading), np.sin(heading)])
        colour = tuple(int(c) for c in rng.normal((176, 44, 56), 12).clip(0, 255))
        pen.line(points, fill=(*colour, 255), width=max(1, side // 110))


def draw_lesion(look: ClassLook, rng: np.random.Generator, short_side: int) -> Lesion:
    """Paint one lesion of class ``look`` for images whose shorter side is ``short_side`` px.

    The sticker gets about one pixel per image pixel, so it is drawn no bigger than needed.
    """
    radius = float(look.radius * np.exp(rng.normal(0, SIZE_SD)))
    side = int(np.clip(np.ceil(1.25 * radius * short_side / FRAME_RADIUS), 24, MAX_STICKER))
    x, y = _grid(side)
    turn, stretch = rng.uniform(0, np.pi), np.sqrt(rng.uniform(1, look.aspect))
    u = (x * np.cos(turn) + y * np.sin(turn)) / stretch
    v = (y * np.cos(turn) - x * np.sin(turn)) * stretch
    angle = (np.arctan2(v, u) + np.pi) * (ANGLES / (2 * np.pi))
    border = _border(rng, look.irregularity)
    border = np.interp(angle.ravel(), np.arange(ANGLES + 1), np.append(border, border[0]))
    rho = np.hypot(u, v) / (FRAME_RADIUS * border.reshape(angle.shape).astype(np.float32))

    softness = look.softness * rng.uniform(0.7, 1.3)
    edge = np.clip((1 + softness / 2 - rho) / softness, 0, 1)
    alpha = (255 * look.opacity) * edge * edge * (3 - 2 * edge)

    brightness = np.exp(rng.normal(0, look.colour_sd / 100))
    redness = RED_AXIS * rng.normal(0, look.colour_sd / 4)
    base = np.asarray(look.colour, dtype=np.float32) * brightness + redness
    texture = 1 + look.texture * (2 * value_noise(rng, look.grain, (side, side)) - 1)

    weight = look.centre_weight * rng.uniform(0.5, 1.2) * (rng.random() < look.centre_odds)
    centre = np.minimum(weight * np.exp(-((rho / 0.45) ** 2)), 1)
    share = look.accent_share * rng.uniform(0.6, 1.4)
    blobs = value_noise(rng, look.accent_grain, (side, side))
    accent = np.clip((blobs - (0.75 - share)) / 0.08, 0, min(1, 5 * share)) * (rho < 0.95)

    # Textured body, overlaid by the centre, overlaid by the accents, plus the alpha channel:
    # one small matrix product instead of many passes over a colour image.
    weights = np.stack([texture * (1 - centre) * (1 - accent), centre * (1 - accent),
                        accent, alpha], axis=-1)
    palette = np.zeros((4, 4), dtype=np.float32)
    palette[0, :3], palette[1, :3], palette[2, :3] = base, look.centre, look.accent
    palette[3, 3] = 1
    rgba = weights.reshape(-1, 4).astype(np.float32) @ palette
    rgba = np.clip(rgba, 0, 255, out=rgba).astype(np.uint8).reshape(side, side, 4)
    sticker = Image.fromarray(rgba)
    if look.vessels:
        _vessels(sticker, rng, look.vessels)
    return Lesion(sticker, radius)


def _pose(
    lesion: Lesion, scene: Scene, size: tuple[int, int], rng: np.random.Generator
) -> tuple[float, float, float, float, float, float]:
    """Affine coefficients mapping image pixels to sticker pixels (Pillow's convention)."""
    w, h = size
    side = lesion.sticker.size[0]
    radius_px = lesion.radius * min(w, h) / 2 * np.exp(rng.normal(0, scene.scale_jitter))
    cx = w / 2 + rng.normal(0, scene.offset) * min(w, h)
    cy = h / 2 + rng.normal(0, scene.offset) * min(w, h)
    k = (side / 2) * FRAME_RADIUS / radius_px
    turn = rng.uniform(0, 2 * np.pi)
    mirror = 1 if rng.random() < 0.5 else -1
    a, b = k * np.cos(turn), k * np.sin(turn)
    d, e = -mirror * k * np.sin(turn), mirror * k * np.cos(turn)
    return (a, b, side / 2 - a * cx - b * cy, d, e, side / 2 - d * cx - e * cy)


def _skin(skin: RGB, scene: Scene, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Skin of colour ``skin`` with low-frequency mottling, as an RGBA image of ``size``."""
    cells = (size[0] // COARSE + 2, size[1] // COARSE + 2)
    mottle = 1 + scene.mottle * (2 * value_noise(rng, 4, cells) - 1)
    coarse = np.asarray(skin, dtype=np.float32) * mottle[..., None]
    coarse = np.concatenate([coarse, np.full((*coarse.shape[:2], 1), 255, np.float32)], axis=2)
    small = Image.fromarray(np.clip(coarse, 0, 255).astype(np.uint8))
    return small.resize(size, _BILINEAR)


def _light(scene: Scene, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Brightness (H, W, 1): a gradient across the image, sometimes a dark dermoscope ring."""
    w, h = size
    gx = np.linspace(-1, 1, 2 * w // COARSE + 2, dtype=np.float32)[None, :]
    gy = np.linspace(-1, 1, 2 * h // COARSE + 2, dtype=np.float32)[:, None]
    slope = rng.uniform(0, scene.light) * np.exp(1j * rng.uniform(0, 2 * np.pi))
    light = 1 + slope.real * gx + slope.imag * gy
    if rng.random() < scene.vignette:
        ring = rng.uniform(1.0, 1.35)
        light = light * np.clip((ring - np.sqrt(gx**2 + gy**2)) / 0.2, 0.04, 1)
    return np.asarray(Image.fromarray(light.astype(np.float32)).resize(size, _BILINEAR))[..., None]


def _hairs(image: Image.Image, rng: np.random.Generator) -> None:
    """A few dark curved hairs across the image, drawn in place."""
    w, h = image.size
    pen = ImageDraw.Draw(image)
    for _ in range(rng.integers(1, 7)):
        point = rng.uniform(0, 1, 2) * (w, h)
        heading = rng.uniform(0, 2 * np.pi)
        points = []
        for _ in range(6):
            points.append(tuple(point.tolist()))
            heading += rng.normal(0, 0.25)
            point = point + 0.12 * max(w, h) * np.array([np.cos(heading), np.sin(heading)])
        shade = int(rng.uniform(25, 70))
        pen.line(points, fill=(shade, int(shade * 0.8), int(shade * 0.7)),
                 width=max(1, round(min(w, h) / 150)))


def render(
    lesion: Lesion, scene: Scene, size: tuple[int, int], skin: RGB, rng: np.random.Generator
) -> Image.Image:
    """Photograph ``lesion`` on skin of colour ``skin`` into an RGB image of ``size`` (w, h)."""
    scale = min(1.0, MAX_WORK / min(size))
    work = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
    w, h = work
    sticker = lesion.sticker.transform(work, Image.Transform.AFFINE,
                                       _pose(lesion, scene, work, rng), resample=_BILINEAR)
    photo = Image.alpha_composite(_skin(skin, scene, work, rng), sticker).convert("RGB")

    temperature, tint = rng.normal(0, scene.cast), rng.normal(0, scene.cast / 2)
    gain = np.exp(rng.normal(0, scene.brightness)) * np.array(
        [1 + temperature, 1 + tint, 1 - temperature], dtype=np.float32)
    pixels = np.asarray(photo, dtype=np.float32)
    pixels *= _light(scene, work, rng)
    pixels *= gain

    bank = _noise_bank(_bank_side(h), _bank_side(w))
    top, left = rng.integers(0, bank.shape[0] - h + 1), rng.integers(0, bank.shape[1] - w + 1)
    pixels += scene.noise * bank[top:top + h, left:left + w]

    image = Image.fromarray(np.clip(pixels, 0, 255, out=pixels).astype(np.uint8))
    if work != size:
        image = image.resize(size, _BICUBIC)
    if rng.random() < scene.hair:
        _hairs(image, rng)
    return image
