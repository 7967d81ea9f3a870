"""Split files: a table's train/val/test split and folds saved as CSV, and read back checked.

``casekit-course demo`` writes ``<dataset>_splits.csv`` beside its data summary, so anyone can
see (and reuse) exactly which patients went where. Reading it back refuses a file saved for
other images, groups or labels, and a hand edit that puts one group into two splits.

Example:
    >>> import tempfile
    >>> import pandas as pd
    >>> from casekit.splits import grouped_split
    >>> df = pd.DataFrame({"image_id": [f"i{i}" for i in range(40)],
    ...                    "group_id": [f"g{i // 2}" for i in range(40)],
    ...                    "label": ["a", "b"] * 20})
    >>> path = save_splits(grouped_split(df, seed=0), tempfile.mkdtemp() + "/splits.csv")
    >>> load_splits(path, df)["split"].value_counts().sort_index().tolist()
    [6, 28, 6]
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from casekit.io import write_text_atomic
from casekit.splits import check_no_group_leakage


def save_splits(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``image_id,group_id,label`` plus ``split`` and/or ``fold`` as CSV, atomically."""
    assigned = [c for c in ("split", "fold") if c in df.columns]
    if not assigned:
        raise ValueError("df has no 'split' or 'fold' column: run grouped_split or grouped_kfold")
    columns = ["image_id", "group_id", "label", *assigned]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"save_splits needs columns {missing}")
    return write_text_atomic(path, df[columns].to_csv(index=False))


def load_splits(path: str | os.PathLike[str], df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with the ``split``/``fold`` saved at ``path``, matched by ``image_id``.

    Raises ``ValueError`` when the file's images, groups or labels differ from ``df``'s
    (a split saved for another dataset or version), ``GroupLeakageError`` on a leak.
    """
    saved = pd.read_csv(path, dtype=str, keep_default_na=False)
    assigned = [c for c in ("split", "fold") if c in saved.columns]
    if "image_id" not in saved.columns or not assigned:
        raise ValueError(f"{path} is not a splits file (needs image_id and split or fold)")
    twice = saved.loc[saved["image_id"].duplicated(), "image_id"].tolist()
    if twice:
        raise ValueError(f"{path} lists {len(twice)} image id(s) twice, e.g. {twice[:3]}")
    saved = saved.set_index("image_id")
    ids = df["image_id"].astype(str)
    not_saved = ids[~ids.isin(saved.index)].tolist()
    not_in_df = sorted(set(saved.index) - set(ids))
    if not_saved or not_in_df:
        raise ValueError(
            f"{path} does not match this table: {len(not_saved)} of its images are not in "
            f"the file (e.g. {not_saved[:3]}) and {len(not_in_df)} images of the file are "
            f"not in the table (e.g. {not_in_df[:3]}). Was it saved for another dataset, "
            "version or subset?"
        )
    out = df.copy()
    for column in ("group_id", "label"):
        if column in saved.columns and column in df.columns:
            differs = ids[ids.map(saved[column]) != df[column].astype(str)].tolist()
            if differs:
                raise ValueError(f"{path}: {column} differs for {len(differs)} image(s), "
                                 f"e.g. {differs[:3]}; the data changed since it was saved")
    for column in assigned:
        values = ids.map(saved[column]).to_numpy()
        out[column] = values.astype(np.int64) if column == "fold" else values.astype(object)
        if "group_id" in out.columns:
            check_no_group_leakage(out, split_col=column)
    return out
