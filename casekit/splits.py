"""Leak-free splits: stratified by label, grouped by lesion (HAM10000) or patient (PAD-UFES-20).

Images of one lesion or one patient look alike. If some sit in train and others in test,
the test score measures memory, not skill (a published HAM10000 reproduction lost about
7 accuracy points once split by lesion). So every group goes wholly into one split, and
within that constraint each split's class mix follows the whole table's.

``grouped_split`` assigns whole groups to train/val/test with this algorithm:

1. Shuffle the groups with the seed (this is all the seed changes).
2. Coverage: from the rarest class up, a class with at least as many groups as there are
   splits puts one of its smallest groups into every split that still lacks it — so rare
   classes appear everywhere when that is possible at all.
3. Greedy fill: the remaining groups, in shuffled order, each go to the split where they
   least widen the gaps between the split's per-class counts and its target share of
   every class (gaps measured relative to the class size, so rare classes count as much
   as common ones), plus the gap between the split's size and its target size. Groups
   are taken in random order, not largest first: largest-first would send the lesions
   with many images to train and leave val/test with mostly single-image lesions.

``grouped_kfold`` uses scikit-learn's ``StratifiedGroupKFold``: grouped, stratified k-fold
cross-validation, the stricter protocol for PAD-UFES-20. casekit shuffles the groups itself
(it renames each group to its rank in a seeded permutation) and calls the splitter with
``shuffle=False``: before scikit-learn 1.8, ``shuffle=True`` shuffled the group table without
its group index (scikit-learn issue #32478, fixed by pull request #32540), which left the
folds effectively unstratified. So the folds are equally stratified on every allowed version.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"image_id": [f"i{i}" for i in range(40)],
    ...                    "group_id": [f"g{i // 2}" for i in range(40)],
    ...                    "label": ["a", "b"] * 20})
    >>> out = grouped_split(df, val=0.25, test=0.25, seed=0)
    >>> out["split"].value_counts().sort_index().tolist()   # test, train, val
    [10, 20, 10]
    >>> check_no_group_leakage(out)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

SPLITS = ("train", "val", "test")


class GroupLeakageError(ValueError):
    """A group (lesion, patient) has images in more than one split or fold."""


def grouped_split(
    df: pd.DataFrame,
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
    label_col: str = "label",
    group_col: str = "group_id",
) -> pd.DataFrame:
    """A copy of ``df`` with a ``split`` column: ``train``/``val``/``test``, grouped and stratified.

    ``val`` and ``test`` are shares of the images (0 leaves that split out). The same
    seed gives the same split; see the module docstring for the algorithm.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val and test must be shares in [0, 1) with val + test < 1, "
                         f"got val={val}, test={test}")
    labels, groups = _columns(df, label_col, group_col)
    shares = {"train": 1.0 - val - test, "val": val, "test": test}
    names = [name for name in SPLITS if shares[name] > 0]
    bins = assign_groups(labels, groups, [shares[name] for name in names], seed)
    out = df.copy()
    out["split"] = np.asarray(names, dtype=object)[bins]
    return out


def grouped_kfold(
    df: pd.DataFrame,
    k: int = 5,
    seed: int = 0,
    label_col: str = "label",
    group_col: str = "group_id",
) -> pd.DataFrame:
    """A copy of ``df`` with a ``fold`` column 0…k-1 (StratifiedGroupKFold, shuffled by ``seed``).

    Fold ``f`` is the test fold of round ``f``; train on the other folds. Every group lies
    in one fold and each fold's class mix follows the whole table's, on every allowed
    scikit-learn version (the module docstring says how).

    Example:
        >>> out = grouped_kfold(df, k=5, seed=0)   # doctest: +SKIP
        >>> pd.crosstab(out["fold"], out["label"])   # doctest: +SKIP
    """
    labels, groups = _columns(df, label_col, group_col)
    codes, names = pd.factorize(pd.Series(groups), sort=True)
    n_groups = len(names)
    if not 2 <= k <= n_groups:
        raise ValueError(f"k must be between 2 and the number of groups ({n_groups}), got {k}")
    # Group g becomes the integer rank[g]: the splitter visits groups in that (seeded) order.
    rank = np.empty(n_groups, dtype=np.int64)
    rank[np.random.default_rng(seed).permutation(n_groups)] = np.arange(n_groups)
    folds = np.empty(len(df), dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=False)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(df)), labels, rank[codes])):
        folds[held_out] = fold
    out = df.copy()
    out["fold"] = folds
    return out


def assign_groups(
    labels: np.ndarray, groups: np.ndarray, shares: list[float], seed: int = 0
) -> np.ndarray:
    """Bin number (index into ``shares``) of every row; whole groups per bin (module doc)."""
    group_codes, _ = pd.factorize(pd.Series(groups), sort=True)
    class_codes, classes = pd.factorize(pd.Series(labels), sort=True)
    n_bins, n_groups, n_classes = len(shares), int(group_codes.max()) + 1, len(classes)
    counts = np.zeros((n_groups, n_classes), dtype=np.int64)
    np.add.at(counts, (group_codes, class_codes), 1)
    sizes = counts.sum(axis=1)
    share = np.asarray(shares, dtype=float) / sum(shares)
    class_totals = counts.sum(axis=0)
    target = share[:, None] * class_totals[None, :]  # images of each class wanted per bin
    size_target = share * len(labels)
    have = np.zeros((n_bins, n_classes), dtype=np.int64)
    bin_of = np.full(n_groups, -1, dtype=np.int64)
    shuffled = np.random.default_rng(seed).permutation(n_groups)

    def put(group: int, b: int) -> None:
        bin_of[group] = b
        have[b] += counts[group]

    bins_by_share = np.argsort(-share, kind="stable")
    for c in np.argsort(class_totals, kind="stable"):  # 2. coverage, rarest class first
        holders = shuffled[counts[shuffled, c] > 0]
        if len(holders) < n_bins:
            continue
        for b in bins_by_share:
            free = holders[bin_of[holders] < 0]
            if have[b, c] == 0 and len(free):
                put(int(free[np.argmin(sizes[free])]), int(b))

    weight = 1.0 / np.maximum(class_totals, 1) ** 2
    for group in shuffled:  # 3. greedy fill
        if bin_of[group] >= 0:
            continue
        g = counts[group]
        # How much each bin's squared gaps grow if the group goes there: (x+d-t)² - (x-t)².
        class_cost = ((2 * (have - target) + g) * g * weight).sum(axis=1)
        size_cost = (2 * (have.sum(axis=1) - size_target) + g.sum()) * g.sum() / len(labels) ** 2
        put(int(group), int(np.argmin(class_cost + size_cost)))
    return bin_of[group_codes]


def check_no_group_leakage(
    df: pd.DataFrame, split_col: str = "split", group_col: str = "group_id"
) -> None:
    """Raise ``GroupLeakageError`` naming the groups found in more than one split or fold."""
    for column in (split_col, group_col):
        if column not in df.columns:
            raise ValueError(f"column {column!r} is missing; columns are {list(df.columns)}")
    assigned = df.dropna(subset=[split_col])  # rows in no split cannot leak
    splits_per_group = assigned.groupby(group_col, sort=True)[split_col].unique()
    leaking = splits_per_group[splits_per_group.map(len) > 1]
    if len(leaking):
        examples = "; ".join(f"{group} in {sorted(map(str, parts))}"
                             for group, parts in leaking.head(5).items())
        raise GroupLeakageError(
            f"{len(leaking)} group(s) of {group_col!r} have images in more than one "
            f"{split_col!r}, e.g. {examples}. Split with casekit.splits.grouped_split "
            "(or grouped_kfold) so that each group stays whole."
        )


def split_summary(
    df: pd.DataFrame, split_col: str = "split", label_col: str = "label",
    group_col: str = "group_id",
) -> pd.DataFrame:
    """Per split (and ``all``): images, groups, then each class's percentage of the images.

    Example:
        >>> split_summary(grouped_split(df))   # doctest: +SKIP
                images  groups   akiec  bcc  ...
        train     7011    5229   3.3   5.1  ...
    """
    for column in (split_col, label_col, group_col):
        if column not in df.columns:
            raise ValueError(f"column {column!r} is missing; columns are {list(df.columns)}")
    present = df[split_col].dropna().unique().tolist()
    order = [s for s in SPLITS if s in present] + sorted(s for s in present if s not in SPLITS)
    parts = [(str(name), df[df[split_col] == name]) for name in order] + [("all", df)]
    classes = sorted(df[label_col].astype(str).unique())
    rows = {}
    for name, part in parts:
        shares = part[label_col].astype(str).value_counts(normalize=True)
        rows[name] = {"images": len(part), "groups": part[group_col].nunique(),
                      **{c: round(100 * float(shares.get(c, 0.0)), 1) for c in classes}}
    return pd.DataFrame.from_dict(rows, orient="index")


def _columns(df: pd.DataFrame, label_col: str, group_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels and groups as string arrays; clear errors for missing columns or values."""
    for column in (label_col, group_col):
        if column not in df.columns:
            raise ValueError(f"column {column!r} is missing; columns are {list(df.columns)}")
        n_missing = int(df[column].isna().sum())
        if n_missing:
            raise ValueError(f"column {column!r} has {n_missing} missing value(s); "
                             "drop or fill those rows before splitting")
    if df.empty:
        raise ValueError("cannot split an empty table")
    return df[label_col].astype(str).to_numpy(), df[group_col].astype(str).to_numpy()
