"""Small sampling helpers shared by the synthetic tables: exact shares, weighted draws, groups.

Example:
    >>> allocate({"a": 2, "b": 1}, 7)
    {'a': 5, 'b': 2}
    >>> import numpy as np
    >>> sizes = partition(np.random.default_rng(0), 10, {1: 3, 2: 1})
    >>> int(sizes.sum())
    10
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import NormalDist

import numpy as np


def allocate(weights: Mapping[str, float], total: int) -> dict[str, int]:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    keys = list(weights)
    shares = np.array([weights[k] for k in keys], dtype=float)
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(int)
    leftover = total - int(counts.sum())
    # Ties broken by position, so the result is deterministic.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:leftover]] += 1
    return {k: int(c) for k, c in zip(keys, counts, strict=True)}


def draw(rng: np.random.Generator, weights: Mapping, size: int) -> np.ndarray:
    """``size`` independent draws of the keys of ``weights``, with those relative weights."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    index = rng.choice(len(keys), size=size, p=p / p.sum())
    return np.asarray(keys)[index]


def partition(rng: np.random.Generator, total: int, sizes: Mapping[int, float]) -> np.ndarray:
    """Group sizes drawn from ``sizes`` (size → weight) that add up to exactly ``total``.

    Draws sizes until the total is reached and trims the last group to fit.
    """
    if total <= 0:
        return np.zeros(0, dtype=int)
    keys = np.array(list(sizes), dtype=int)
    mean = float(np.average(keys, weights=list(sizes.values())))
    drawn = draw(rng, sizes, int(total / mean * 1.5) + 8).astype(int)
    while drawn.sum() < total:  # rare: an unlucky draw of many small groups
        drawn = np.concatenate([drawn, draw(rng, sizes, len(drawn)).astype(int)])
    cumulative = np.cumsum(drawn)
    n_groups = int(np.searchsorted(cumulative, total)) + 1
    groups = drawn[:n_groups].copy()
    groups[-1] -= int(cumulative[n_groups - 1]) - total
    return groups


def bernoulli(rng: np.random.Generator, p: float | np.ndarray, size: int) -> np.ndarray:
    """``size`` booleans, each True with probability ``p`` (a scalar or one per draw)."""
    return rng.random(size) < p


def stratified_normal(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` standard-normal values, one from each of ``size`` equal-probability strata.

    Unlike plain draws, small samples hit the target median and spread closely.
    """
    u = (rng.permutation(size) + rng.random(size)) / max(size, 1)
    inverse = NormalDist().inv_cdf
    return np.array([inverse(p) for p in np.clip(u, 1e-9, 1 - 1e-9)], dtype=float)


def normal_by_group(
    rng: np.random.Generator, groups: np.ndarray, mean: Mapping, sd: float | Mapping
) -> np.ndarray:
    """Stratified normal values with each group's own mean (and sd), one per entry of ``groups``."""
    out = np.empty(len(groups), dtype=float)
    for group in mean:
        rows = np.flatnonzero(groups == group)
        spread = sd[group] if isinstance(sd, Mapping) else sd
        out[rows] = mean[group] + spread * stratified_normal(rng, len(rows))
    return out
