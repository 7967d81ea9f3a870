"""Tiny copies of HAM10000 and PAD-UFES-20 in their real schemas and mirror layouts.

A handful of rows each, written as the real files are (HAM 7- or 8-column CSV, PAD's
26 columns with True/False/UNK, BRASIL, rows without questionnaire), with 4×4 images.
Used by the loader and download tests; independent of ``casekit.synthetic``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

HAM_COLUMNS = ["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"]
HAM_ROWS = [
    ["HAM_0000118", "ISIC_0027419", "bkl", "histo", "80.0", "male", "scalp", "vidir_modern"],
    ["HAM_0000118", "ISIC_0025030", "bkl", "histo", "80.0", "male", "scalp", "vidir_modern"],
    ["HAM_0002730", "ISIC_0026769", "mel", "histo", "", "unknown", "unknown", "rosendahl"],
    ["HAM_0001466", "ISIC_0031633", "nv", "follow_up", "45.0", "female", "lower extremity",
     "vidir_molemax"],
    ["HAM_0002761", "ISIC_0029176", "akiec", "histo", "70.0", "female", "face", "vienna_dias"],
    ["HAM_0005132", "ISIC_0025837", "vasc", "consensus", "55.0", "male", "trunk",
     "vidir_modern"],
]

PAD_COLUMNS = [
    "patient_id", "lesion_id", "smoke", "drink", "background_father", "background_mother",
    "age", "pesticide", "gender", "skin_cancer_history", "cancer_history", "has_piped_water",
    "has_sewage_system", "fitspatrick", "region", "diameter_1", "diameter_2", "diagnostic",
    "itch", "grew", "hurt", "changed", "bleed", "elevation", "img_id", "biopsed",
]
_PAD_FULL = {"smoke": "False", "drink": "True", "pesticide": "False", "gender": "FEMALE",
             "skin_cancer_history": "True", "cancer_history": "True", "has_piped_water": "True",
             "has_sewage_system": "True"}
PAD_ROWS = [
    dict(_PAD_FULL, patient_id="PAT_46", lesion_id="881", background_father="POMERANIA",
         background_mother="POMERANIA", age="55", fitspatrick="3.0", region="NECK",
         diameter_1="6.0", diameter_2="5.0", diagnostic="BCC", itch="True", grew="True",
         hurt="False", changed="True", bleed="True", elevation="True",
         img_id="PAT_46_881_939.png", biopsed="True"),
    dict(_PAD_FULL, patient_id="PAT_46", lesion_id="882", background_father="POMERANIA",
         background_mother="POMERANIA", age="55", fitspatrick="3.0", region="FACE",
         diameter_1="4.0", diameter_2="4.0", diagnostic="ACK", itch="UNK", grew="False",
         hurt="False", changed="UNK", bleed="False", elevation="False",
         img_id="PAT_46_882_940.png", biopsed="False"),
    dict(_PAD_FULL, patient_id="PAT_9", lesion_id="17", background_father="BRASIL",
         background_mother="BRAZIL", age="63", gender="MALE", fitspatrick="2", region="ARM",
         diameter_1="10.0", diameter_2="8.0", diagnostic="SCC", itch="FALSE", grew="UNK",
         hurt="False", changed="False", bleed="False", elevation="True",
         img_id="PAT_9_17_80.png", biopsed="True"),
    # No questionnaire: smoke … fitspatrick and the diameters are empty.
    dict(patient_id="PAT_1516", lesion_id="1765", age="8", region="ARM", diagnostic="NEV",
         itch="False", grew="False", hurt="False", changed="False", bleed="False",
         elevation="False", img_id="PAT_1516_1765_530.png", biopsed="False"),
    dict(patient_id="PAT_1700", lesion_id="2001", age="77", region="BACK", diagnostic="SEK",
         itch="False", grew="UNK", hurt="False", changed="False", bleed="False",
         elevation="True", img_id="PAT_1700_2001_12.png", biopsed="False"),
    dict(_PAD_FULL, patient_id="PAT_800", lesion_id="1500", background_father="GERMANY",
         background_mother="BRASIL", age="40", fitspatrick="6", region="CHEST",
         diameter_1="7.5", diameter_2="6.5", diagnostic="MEL", itch="True", grew="True",
         hurt="True", changed="True", bleed="True", elevation="True",
         img_id="PAT_800_1500_2.png", biopsed="True"),
]


def fingerprint(pairs: list[tuple[str, str]]) -> str:
    """The case-study fingerprint, computed here independently of casekit."""
    text = "".join(sorted(f"{image},{label}\n" for image, label in pairs))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


HAM_FINGERPRINT = fingerprint([(row[1], row[2]) for row in HAM_ROWS])
PAD_FINGERPRINT = fingerprint([(row["img_id"], row["diagnostic"]) for row in PAD_ROWS])


def write_image(path: Path, seed: int) -> None:
    """A 4×4 image whose colour depends on ``seed`` (format from the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = (seed * 40 % 256, seed * 90 % 256, seed * 20 % 256)
    image = Image.new("RGB", (4, 4), colour)
    image.save(path, format="PNG" if path.suffix.lower() == ".png" else "JPEG")


def write_ham(root: Path, folders: tuple[str, ...] = ("HAM10000_images_part_1",
                                                      "HAM10000_images_part_2"),
              dataverse: bool = False, metadata_folder: str = "", extension: str = ".jpg",
              skip: int = 0) -> Path:
    """HAM10000 with images spread over ``folders`` (round robin); the last ``skip`` left out."""
    columns = HAM_COLUMNS + (["dataset"] if dataverse else [])
    lines = [",".join(columns)] + [",".join(_quote(v) for v in row[: len(columns)])
                                   for row in HAM_ROWS]
    meta = root / metadata_folder / "HAM10000_metadata.csv"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for i, row in enumerate(HAM_ROWS[: len(HAM_ROWS) - skip]):
        write_image(root / folders[i % len(folders)] / f"{row[1]}{extension}", i)
    return root


def write_pad(root: Path, layout: str = "official", line_end: str = "\n", skip: int = 0) -> Path:
    """PAD-UFES-20 as on Mendeley (``official``: images/imgs_part_N) or Kaggle (nested)."""
    lines = [",".join(PAD_COLUMNS)] + [",".join(row.get(c, "") for c in PAD_COLUMNS)
                                       for row in PAD_ROWS]
    (root / "metadata.csv").parent.mkdir(parents=True, exist_ok=True)
    (root / "metadata.csv").write_bytes((line_end.join(lines) + line_end).encode("utf-8"))
    for i, row in enumerate(PAD_ROWS[: len(PAD_ROWS) - skip]):
        part = f"imgs_part_{i % 3 + 1}"
        folder = root / "images" / part if layout == "official" else root / part / part
        write_image(folder / row["img_id"], i)
    return root


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value or " " in value else value
