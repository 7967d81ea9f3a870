"""The data pipeline end to end: generate (or find) → load → split → cache.

This is what every training notebook does before its first epoch, in one call: the reference
run (:mod:`casekit.reference`) and ``casekit-course demo`` use it.

Example:
    >>> from casekit.pipeline import prepare   # doctest: +SKIP
    >>> prepared = prepare("pad_ufes_20", size=64)   # doctest: +SKIP
    >>> prepared.df.split.value_counts()   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from casekit import datasets, synthetic
from casekit.images import ImageCache, cache_for
from casekit.splits import check_no_group_leakage, grouped_split


@dataclass
class Prepared:
    """A dataset ready for training: normalised table with a ``split`` column and its cache."""

    name: str
    root: Path
    synthetic: bool
    df: pd.DataFrame
    cache: ImageCache


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
