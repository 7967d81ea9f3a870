"""How each synthetic class looks: colour, shape, border, texture; and how each dataset is shot.

The parameters are loosely inspired by textbook descriptions (a naevus is a small, round,
evenly brown spot; a melanoma is larger, darker, many-coloured, with an irregular border; a
dermatofibroma has a pale scar-like centre; a vascular lesion is red-purple with darker
lacunae...). Spreads overlap on purpose: a small CNN separates the classes well above chance
but not perfectly, and the confusions are the plausible ones (melanoma vs naevus, the three
pink/red PAD lesions). They are drawings, not medical images.

Example:
    >>> LOOKS["pad_ufes_20"]["NEV"].irregularity < LOOKS["pad_ufes_20"]["MEL"].irregularity
    True
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class ClassLook:
    """Appearance of one class. Colours are RGB in 0-255; shares and amplitudes in 0-1."""

    colour: RGB  # mean colour of the lesion body
    colour_sd: float  # lesion-to-lesion spread of that colour (brightness sd in %, roughly)
    accent: RGB  # colour of dots, globules, nests, scale or lacunae
    accent_share: float  # how much of the lesion the accents cover
    accent_grain: int  # accent blobs across the lesion (more = smaller blobs)
    radius: float  # lesion radius as a share of half the shorter image side
    aspect: float  # largest elongation (1 = round)
    irregularity: float  # amplitude of the border's wobble
    softness: float  # edge blur as a share of the radius
    texture: float  # amplitude of the mottled texture
    grain: int  # texture cells across the lesion (more = finer)
    opacity: float  # how strongly the lesion covers the skin
    centre: RGB = (0, 0, 0)  # colour of a distinct centre (scar, ulcer, crust, veil)
    centre_weight: float = 0.0  # 0 = no distinct centre ... 1 = strong
    centre_odds: float = 1.0  # share of lesions that show the centre at all
    vessels: float = 0.0  # mean number of thin red vessels drawn on top


@dataclass(frozen=True)
class Scene:
    """How a dataset's photos are taken: framing, lighting, artefacts."""

    scale_jitter: float  # image-to-image spread of the lesion's size (log scale)
    offset: float  # spread of the lesion centre, share of the shorter side
    light: float  # largest brightness gradient across the image
    brightness: float  # image-to-image spread of exposure (log scale)
    cast: float  # spread of the white balance (warm <-> cool)
    mottle: float  # low-frequency unevenness of the skin
    noise: float  # pixel noise (sd, 0-255 units)
    vignette: float  # share of images with a dark dermoscope ring
    hair: float  # share of images with hairs across them


HAM_LOOKS = {
    "nv": ClassLook(
        colour=(128, 84, 58), colour_sd=22, accent=(88, 56, 40), accent_share=0.12,
        accent_grain=7, centre=(95, 60, 42), centre_weight=0.35, centre_odds=0.6,
        radius=0.50, aspect=1.3, irregularity=0.05, softness=0.18, texture=0.08, grain=8,
        opacity=0.92),
    "mel": ClassLook(
        colour=(106, 70, 56), colour_sd=22, accent=(70, 50, 52), accent_share=0.20,
        accent_grain=9, centre=(118, 120, 134), centre_weight=0.12, centre_odds=0.4,
        radius=0.56, aspect=1.5, irregularity=0.11, softness=0.20, texture=0.16, grain=12,
        opacity=0.93),
    "bkl": ClassLook(
        colour=(158, 118, 84), colour_sd=22, accent=(112, 80, 56), accent_share=0.22,
        accent_grain=14, radius=0.55, aspect=1.4, irregularity=0.08, softness=0.10,
        texture=0.24, grain=18, opacity=0.85),
    "bcc": ClassLook(
        colour=(198, 142, 140), colour_sd=18, accent=(105, 108, 128), accent_share=0.14,
        accent_grain=6, centre=(185, 120, 120), centre_weight=0.2, centre_odds=0.5,
        radius=0.48, aspect=1.4, irregularity=0.10, softness=0.25, texture=0.08, grain=10,
        opacity=0.75, vessels=4.0),
    "akiec": ClassLook(
        colour=(200, 118, 106), colour_sd=18, accent=(228, 205, 185), accent_share=0.22,
        accent_grain=20, radius=0.50, aspect=1.5, irregularity=0.12, softness=0.35,
        texture=0.20, grain=22, opacity=0.70, vessels=0.5),
    "vasc": ClassLook(
        colour=(160, 48, 68), colour_sd=20, accent=(92, 22, 48), accent_share=0.35,
        accent_grain=6, radius=0.40, aspect=1.3, irregularity=0.06, softness=0.10,
        texture=0.06, grain=8, opacity=0.95),
    "df": ClassLook(
        colour=(150, 106, 82), colour_sd=16, accent=(120, 84, 64), accent_share=0.08,
        accent_grain=6, centre=(226, 206, 192), centre_weight=0.70, centre_odds=0.85,
        radius=0.36, aspect=1.3, irregularity=0.06, softness=0.25, texture=0.08, grain=8,
        opacity=0.85),
}

PAD_LOOKS = {
    "ACK": ClassLook(
        colour=(200, 110, 96), colour_sd=24, accent=(236, 218, 202), accent_share=0.22,
        accent_grain=12, radius=0.50, aspect=1.5, irregularity=0.15, softness=0.40,
        texture=0.22, grain=22, opacity=0.75, vessels=0.5),
    "BCC": ClassLook(
        colour=(228, 152, 162), colour_sd=18, accent=(170, 60, 72), accent_share=0.06,
        accent_grain=6, centre=(150, 52, 60), centre_weight=0.45, centre_odds=0.5,
        radius=0.52, aspect=1.4, irregularity=0.10, softness=0.22, texture=0.10, grain=10,
        opacity=0.85, vessels=3.0),
    "MEL": ClassLook(
        colour=(86, 56, 44), colour_sd=24, accent=(36, 28, 32), accent_share=0.26,
        accent_grain=9, centre=(108, 112, 130), centre_weight=0.25, centre_odds=0.4,
        radius=0.55, aspect=1.5, irregularity=0.16, softness=0.20, texture=0.20, grain=12,
        opacity=0.95),
    "NEV": ClassLook(
        colour=(118, 80, 56), colour_sd=22, accent=(88, 58, 40), accent_share=0.10,
        accent_grain=7, centre=(96, 62, 44), centre_weight=0.25, centre_odds=0.5,
        radius=0.38, aspect=1.3, irregularity=0.05, softness=0.12, texture=0.08, grain=8,
        opacity=0.95),
    "SCC": ClassLook(
        colour=(186, 86, 74), colour_sd=22, accent=(222, 198, 120), accent_share=0.10,
        accent_grain=12, centre=(224, 200, 118), centre_weight=0.60, centre_odds=0.6,
        radius=0.55, aspect=1.4, irregularity=0.12, softness=0.25, texture=0.20, grain=14,
        opacity=0.90, vessels=1.0),
    "SEK": ClassLook(
        colour=(128, 96, 66), colour_sd=22, accent=(72, 52, 36), accent_share=0.24,
        accent_grain=18, radius=0.50, aspect=1.4, irregularity=0.08, softness=0.08,
        texture=0.26, grain=18, opacity=0.92),
}

LOOKS: dict[str, dict[str, ClassLook]] = {"ham10000": HAM_LOOKS, "pad_ufes_20": PAD_LOOKS}

#: Look-alikes: this share of a class's lesions is drawn with the look of the class named,
#: as lesions a dermatologist would put in the same differential diagnosis (a BCC and an
#: SCC, an actinic and a seborrheic keratosis). The label and the questionnaire stay those
#: of the true diagnosis, so what the photo cannot tell, the answers (bleeding, pain,
#: change, itch, size) can: image + questionnaire fusion (assignment 05) then has something
#: to add. Pairs stay on one side of the cancer / not-cancer line, so the binary task of
#: notebooks 02 and 04 stays learnable from the image. HAM10000's dermoscopic images have
#: none.
LOOK_ALIKES: dict[str, dict[str, tuple[str, float]]] = {
    "ham10000": {},
    "pad_ufes_20": {"BCC": ("SCC", 0.25), "SCC": ("BCC", 0.25), "ACK": ("SEK", 0.15),
                    "SEK": ("ACK", 0.15)},
}

#: Dermoscopy: lesion fills the frame, even light, lens ring, hairs.
#: Smartphone: smaller lesion, uneven light and white balance, more noise.
#: The two looks differ enough that a model trained on one drops on the other, as the case
#: study expects of real dermoscopic vs smartphone images (assignment 05, part 3).
SCENES: dict[str, Scene] = {
    "ham10000": Scene(0.08, 0.05, 0.05, 0.06, 0.03, 0.04, 3.0, 0.65, 0.45),
    "pad_ufes_20": Scene(0.12, 0.08, 0.25, 0.10, 0.03, 0.06, 4.0, 0.0, 0.10),
}

#: Skin colour by Fitzpatrick type (PAD); dermoscopy skin is a warm orange-pink.
SKIN_BY_TYPE: dict[int, RGB] = {
    1: (238, 204, 186), 2: (226, 186, 160), 3: (204, 158, 124),
    4: (168, 122, 88), 5: (122, 84, 58), 6: (84, 58, 42),
}
DERMOSCOPY_SKIN: RGB = (226, 164, 140)  # polarised light: warmer, oranger skin
SKIN_SD = 10.0
