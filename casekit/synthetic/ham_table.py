"""A HAM10000-shaped metadata table: lesions with 1-6 images each, published marginals.

Every lesion gets one diagnosis, age, sex, site, ``dx_type`` and source; its images share
them. Rows are listed class by class like the real CSV.

Example:
    >>> table = ham_table(300, seed=0)
    >>> list(table.columns)
    ['lesion_id', 'image_id', 'dx', 'dx_type', 'age', 'sex', 'localization', 'dataset']
    >>> table["image_id"].iloc[0].startswith("SYN_ISIC_")
    True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casekit.synthetic import marginals as m
from casekit.synthetic.sampling import allocate, bernoulli, draw, normal_by_group, partition

#: Seed-stream tag of this table (keeps its random numbers apart from the images').
STREAM = 10


def _ages(rng: np.random.Generator, dx: np.ndarray) -> np.ndarray:
    """Ages in steps of 5 around each class's median; a few missing (NaN)."""
    age = normal_by_group(rng, dx, m.HAM_AGE_MEDIAN, m.HAM_AGE_WITHIN_SD)
    age = np.round(age / 5.0) * 5.0
    age = np.clip(age, *m.HAM_AGE_RANGE)
    age[bernoulli(rng, m.HAM_AGE_MISSING, len(dx))] = np.nan
    return age


def _dx_types(rng: np.random.Generator, dx: np.ndarray) -> np.ndarray:
    out = np.empty(len(dx), dtype=object)
    for label, weights in m.HAM_DX_TYPE.items():
        rows = np.flatnonzero(dx == label)
        out[rows] = draw(rng, weights, len(rows))
    return out


def _sources(rng: np.random.Generator, dx_type: np.ndarray) -> np.ndarray:
    """Follow-up series from MoleMax; other lesions share what is left of each source."""
    follow_up = sum(types.get("follow_up", 0) for types in m.HAM_DX_TYPE.values())
    rest = dict(m.HAM_SOURCE)
    rest[m.HAM_FOLLOW_UP_SOURCE] -= follow_up
    out = draw(rng, rest, len(dx_type)).astype(object)
    out[dx_type == "follow_up"] = m.HAM_FOLLOW_UP_SOURCE
    return out


def ham_table(n_images: int, seed: int) -> pd.DataFrame:
    """The raw HAM10000 table (Dataverse's 8 columns) for ``n_images`` synthetic images."""
    rng = np.random.default_rng([seed, STREAM])
    per_class = allocate(m.HAM_DX, n_images)
    sizes_by_class = [partition(rng, per_class[label], m.HAM_IMAGES_PER_LESION)
                      for label in m.HAM_CSV_ORDER]
    sizes = np.concatenate(sizes_by_class)
    dx = np.repeat(np.array(m.HAM_CSV_ORDER), [len(s) for s in sizes_by_class])
    n_lesions = len(sizes)

    dx_type = _dx_types(rng, dx)
    lesions = pd.DataFrame({
        "lesion_id": [f"SYN_HAM_{k:07d}" for k in rng.permutation(n_lesions)],
        "dx": dx,
        "dx_type": dx_type,
        "age": _ages(rng, dx),
        "sex": draw(rng, m.HAM_SEX, n_lesions),
        "localization": draw(rng, m.HAM_SITE, n_lesions),
        "dataset": _sources(rng, dx_type),
    })
    rows = lesions.loc[np.repeat(np.arange(n_lesions), sizes)].reset_index(drop=True)
    isic = m.HAM_FIRST_ISIC + rng.permutation(n_images)
    rows.insert(1, "image_id", [f"SYN_ISIC_{k:07d}" for k in isic])
    return rows.astype({"age": "float64"})
