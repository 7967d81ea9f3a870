"""Bootstrap confidence intervals that respect patients and lesions.

A resample is stored as a vector of counts: how many times each image was drawn. A
metric computed with these counts as sample weights equals the metric on the resampled
(duplicated) images, so no data are copied. With ``groups`` (patient or lesion ids) whole
groups are drawn with replacement and every image gets its group's count: images of one
patient are not independent, and resampling them one by one makes intervals too narrow.

Example:
    >>> import numpy as np
    >>> weights = next(bootstrap_weights(4, groups=["a", "a", "b", "c"], n_boot=2, seed=0))
    >>> weights.shape
    (2, 4)
    >>> bool((weights[:, 0] == weights[:, 1]).all())  # images of one group move together
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np

from casekit.metrics.inputs import group_codes
from casekit.progress import tqdm

#: A statistic maps a (resamples, images) weight matrix to one value per resample
#: (shape (resamples,)) or one row of values per resample (shape (resamples, k)).
Statistic = Callable[[np.ndarray], np.ndarray]


def bootstrap_weights(
    n_items: int,
    groups=None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    chunk_size: int = 100,
) -> Iterator[np.ndarray]:
    """Yield float arrays of shape (≤ chunk_size, n_items): resampling counts per image.

    Without ``groups`` (shape (n_items,), a patient/lesion id per image) images are drawn
    with replacement; with ``groups`` the groups are, and each image carries its group's
    count. The sequence depends only on ``seed``.

    Raises:
        ValueError: when ``n_boot`` < 1 or ``groups`` has the wrong length or missing ids.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    codes = group_codes(groups, n_items)
    if codes is None:
        codes = np.arange(n_items)
    n_groups = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    uniform = np.full(n_groups, 1.0 / n_groups)
    for start in range(0, n_boot, chunk_size):
        size = min(chunk_size, n_boot - start)
        counts = rng.multinomial(n_groups, uniform, size=size)
        yield counts[:, codes].astype(float)


def bootstrap_stats(
    stats: Mapping[str, Statistic],
    n_items: int,
    groups=None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Evaluate every statistic on the same ``n_boot`` resamples (paired resamples).

    Returns one array per statistic with the resamples along the first axis. A resample
    where a statistic is undefined (e.g. AUROC when the resample holds one class) is NaN.
    """
    results: dict[str, list[np.ndarray]] = {name: [] for name in stats}
    unit = "group" if groups is not None else "image"
    with tqdm(
        total=n_boot, desc=f"bootstrap ({unit}s)", leave=False, disable=not progress
    ) as bar:
        for weights in bootstrap_weights(n_items, groups, n_boot=n_boot, seed=seed):
            for name, stat in stats.items():
                results[name].append(np.asarray(stat(weights), dtype=float))
            bar.update(len(weights))
    return {name: np.concatenate(parts) for name, parts in results.items()}


#: Decimal places kept in reported estimates and interval bounds (float noise removed).
DECIMALS = 12


def percentile_ci(
    samples: np.ndarray, *, ci: float = 0.95, min_valid: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap ``samples`` along axis 0, ignoring NaN resamples.

    Returns ``(low, high, n_valid)``. Where fewer than ``min_valid`` of the resamples are
    valid the interval is NaN: the valid ones would be a biased subset.

    Example:
        >>> low, high, n = percentile_ci(np.arange(101.0), ci=0.9)
        >>> round(float(low), 6), round(float(high), 6), int(n)
        (5.0, 95.0, 101)
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci}")
    samples = np.asarray(samples, dtype=float)
    n_valid = np.isfinite(samples).sum(axis=0)
    enough = n_valid >= max(1.0, min_valid * len(samples))
    tail = 100 * (1 - ci) / 2
    low = np.full(samples.shape[1:], np.nan)
    high = np.full(samples.shape[1:], np.nan)
    if np.any(enough):
        columns = samples[:, enough] if samples.ndim > 1 else samples
        # Interpolating between equal resamples leaves float noise (0.9999999999999999).
        bounds = np.round(np.nanpercentile(columns, [tail, 100 - tail], axis=0), DECIMALS)
        if samples.ndim > 1:
            low[enough], high[enough] = bounds
        else:
            low, high = bounds
    return low, high, n_valid


def estimate(value: float, samples: np.ndarray, ci: float = 0.95) -> dict[str, float]:
    """One metric as ``{"value", "ci_low", "ci_high", "n_valid"}`` (plain Python numbers).

    Value and bounds are rounded to ``DECIMALS`` places: far below any difference that
    matters, enough to print 1.0 rather than 0.9999999999999999.
    """
    low, high, n_valid = percentile_ci(samples, ci=ci)
    return {
        "value": round(float(value), DECIMALS),
        "ci_low": float(low),
        "ci_high": float(high),
        "n_valid": int(n_valid),
    }


def bootstrap_info(n_boot: int, ci: float, seed: int, group_ids) -> dict:
    """The settings a report records next to its intervals."""
    unit = "image" if group_ids is None else "group"
    return {"n_boot": int(n_boot), "ci": float(ci), "seed": int(seed), "unit": unit}
