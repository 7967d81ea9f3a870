"""Where each file of a synthetic copy goes, mirroring the real downloads' folder layouts.

- HAM10000 ``"kaggle"``: ``HAM10000_metadata.csv`` (7 columns) and
  ``HAM10000_images_part_{1,2}/<image_id>.jpg``.
- HAM10000 ``"dataverse"``: the same folders (the Dataverse zips' names) and an 8-column CSV
  with the ``dataset`` (source) column.
- PAD-UFES-20 ``"official"`` (Mendeley): ``metadata.csv`` and ``images/imgs_part_{1,2,3}/<img_id>``.
- PAD-UFES-20 ``"kaggle"``: ``metadata.csv`` and ``imgs_part_N/imgs_part_N/<img_id>``.

Example:
    >>> image_folder("pad_ufes_20", "kaggle", 2)
    'imgs_part_2/imgs_part_2'
    >>> resolve_layout("ham10000", None)
    'kaggle'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casekit.synthetic import marginals as m

#: Layouts per dataset; the first is the default.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "ham10000": ("kaggle", "dataverse"),
    "pad_ufes_20": ("official", "kaggle"),
}


def resolve_layout(name: str, layout: str | None) -> str:
    """``layout`` checked against the dataset's layouts (``None`` → the default)."""
    choices = LAYOUTS[name]
    if layout is None:
        return choices[0]
    if layout not in choices:
        raise ValueError(f"unknown layout {layout!r} for {name}; choose one of {choices}")
    return layout


def image_folder(name: str, layout: str, part: int) -> str:
    """Folder (relative to the root, ``/``-separated) that holds image part ``part``."""
    if name == "ham10000":
        return f"HAM10000_images_part_{part}"
    if layout == "kaggle":
        return f"imgs_part_{part}/imgs_part_{part}"
    return f"images/imgs_part_{part}"


def image_parts(name: str, table: pd.DataFrame) -> np.ndarray:
    """Part number (1, 2, ...) of each row's image, split the way the real archives are.

    HAM10000: part 1 holds the lowest ISIC numbers (5,000 of 10,015). PAD-UFES-20: three
    parts of about equal size in order of patient number.
    """
    if name == "ham10000":
        number = table["image_id"].str.rsplit("_", n=1).str[1].astype(int).to_numpy()
        rank = np.argsort(np.argsort(number, kind="stable"), kind="stable")
        return np.where(rank < round(m.HAM_PART_1_SHARE * len(table)), 1, 2)
    number = table["patient_id"].str.rsplit("_", n=1).str[1].astype(int).to_numpy()
    rank = np.argsort(np.argsort(number, kind="stable"), kind="stable")
    return 1 + (3 * rank) // max(len(table), 1)
