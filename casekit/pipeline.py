"""The data pipeline end to end: generate (or find) → load → split → cache → summary.

This is what every training notebook does before its first epoch, in one call, and what
``casekit-course demo`` runs on the embedded synthetic data.

Example:
    >>> from casekit.pipeline import prepare   # doctest: +SKIP
    >>> prepared = prepare("pad_ufes_20", size=64)   # doctest: +SKIP
    >>> prepared.df.split.value_counts()   # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from casekit import datasets, synthetic
from casekit.datasets.registry import get_spec
from casekit.images import ImageCache, cache_for
from casekit.io import write_text_atomic
from casekit.splits import check_no_group_leakage, grouped_split, save_splits, split_summary


@dataclass
class Prepared:
    """A dataset ready for training: normalised table with a ``split`` column and its cache."""

    name: str
    root: Path
    synthetic: bool
    df: pd.DataFrame
    cache: ImageCache

    def summary(self) -> dict:
        """Counts that a person checks before training: images, groups, classes per split."""
        spec = get_spec(self.name)
        table = split_summary(self.df)
        return {
            "dataset": self.name,
            "synthetic": self.synthetic,
            "root": str(self.root),
            "images": int(len(self.df)),
            "groups": int(self.df["group_id"].nunique()),
            "group_column": spec.group_column,
            "cancer_share": round(float(self.df["target_binary"].mean()), 4),
            "cache": {"path": str(self.cache.path), "size": self.cache.size,
                      "shape": list(self.cache.images.shape)},
            "splits": json.loads(table.to_json(orient="index")),
        }


def prepare(
    name: str,
    root: str | Path | None = None,
    *,
    real: bool = False,
    size: int = 224,
    n_images: int | None = None,
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
    progress: bool = True,
) -> Prepared:
    """Find or make the data, load it, split it by group, and decode it once into the cache.

    ``real=False`` (the default) generates the synthetic stand-in offline; ``real=True``
    expects the verified real dataset under ``root`` (see ``casekit download``).
    """
    if real:
        root = datasets.use_existing(name, root) if root else datasets.download(name)
    else:
        root = synthetic.make(name, root, n_images=n_images, seed=seed, progress=progress)
    df = datasets.load(name, root)
    df = grouped_split(df, val=val, test=test, seed=seed)
    check_no_group_leakage(df)
    cache = cache_for(df, size, dataset=name, progress=progress)
    return Prepared(name=name, root=Path(root), synthetic=not real, df=df, cache=cache)


def write_summary(prepared: Prepared, out_dir: str | Path) -> Path:
    """Write ``<name>_summary.json`` and ``<name>_splits.csv`` to ``out_dir``.

    Returns the JSON path. The splits CSV reads back with ``casekit.splits.load_splits``.
    """
    out_dir = Path(out_dir)
    save_splits(prepared.df, out_dir / f"{prepared.name}_splits.csv")
    return write_text_atomic(out_dir / f"{prepared.name}_summary.json",
                             json.dumps(prepared.summary(), indent=2))
