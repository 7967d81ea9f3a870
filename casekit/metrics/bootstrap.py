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
from casekit.metrics.summary import format_estimate
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


#: Fewer patients (or images, without groups) than this give no interval: a resample of
#: four patients can only repeat them, and its percentiles describe nothing.
MIN_UNITS = 5


class Record(dict):
    """A dict whose keys read as attributes too: ``report.metrics.auroc.ci_low``.

    Reports stay plain data (JSON, tables, ``report["metrics"]``) and read like objects.
    """

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Estimate(Record):
    """One metric: ``value``, ``ci_low``, ``ci_high`` (NaN when there is no interval),
    ``n_valid`` (resamples where it was defined), ``n_units`` and ``unit`` (how many
    patients, or images, were resampled) and ``note`` (why there is no interval, or "").

    A :class:`Record` (a dict whose keys read as attributes); ``str()`` is what a notebook
    shows.

    Example:
        >>> str(estimate(0.75, np.full(100, 0.7), n_units=4))
        '0.750 (too few patients for an interval (n = 4))'
    """

    def __str__(self) -> str:
        return format_estimate(self)


def estimate(value: float, samples: np.ndarray, ci: float = 0.95, *,
             n_units: int | None = None, unit: str = "patients") -> Estimate:
    """One metric as an :class:`Estimate` (plain Python numbers).

    Value and bounds are rounded to ``DECIMALS`` places: far below any difference that
    matters, enough to print 1.0 rather than 0.9999999999999999. With ``n_units`` (the
    patients, or images, the bootstrap resampled) fewer than :data:`MIN_UNITS`, or a
    resample set where the metric was mostly undefined, there is no interval and ``note``
    says ``"too few patients for an interval (n = 4)"``.
    """
    low, high, n_valid = percentile_ci(samples, ci=ci)
    too_few = n_units is not None and n_units < MIN_UNITS
    if too_few:
        low = high = np.nan
    note = ""
    if n_units is not None and (too_few or not (np.isfinite(low) and np.isfinite(high))):
        note = f"too few {unit} for an interval (n = {n_units})"
    return Estimate(value=round(float(value), DECIMALS), ci_low=float(low),
                    ci_high=float(high), n_valid=int(n_valid), n_units=n_units, unit=unit,
                    note=note)


def bootstrap_by_patient(metric: Callable[[np.ndarray, np.ndarray], float], y_true, y_score,
                         groups=None, *, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """The patient bootstrap as the plain loop notebook 04 teaches: one value per resample.

    Each resample draws as many patients as there are, with replacement; every image of a
    drawn patient comes along as often as the patient was drawn; ``metric(y, score)`` is
    computed on the images drawn (NaN when they hold one class only). The reports compute
    exactly these numbers faster (:func:`bootstrap_stats`: the same draws, as weights);
    a test checks that both agree.

    Example:
        >>> from sklearn.metrics import roc_auc_score
        >>> y, s = np.array([0, 1, 0, 1, 1, 0]), np.array([.1, .9, .4, .6, .3, .2])
        >>> bootstrap_by_patient(roc_auc_score, y, s, [1, 1, 2, 2, 3, 3], n_boot=3).shape
        (3,)
    """
    y, s = np.asarray(y_true), np.asarray(y_score)
    patient = group_codes(groups, len(y))
    patient = np.arange(len(y)) if patient is None else patient
    n_patients = int(patient.max()) + 1
    rng = np.random.default_rng(seed)
    values = np.full(n_boot, np.nan)
    for b in range(n_boot):
        times_drawn = rng.multinomial(n_patients, np.full(n_patients, 1.0 / n_patients))
        rows = np.repeat(np.arange(len(y)), times_drawn[patient])
        if len(np.unique(y[rows])) == 2:
            values[b] = metric(y[rows], s[rows])
    return values


def bootstrap_units(group_ids, n_items: int) -> tuple[int, str]:
    """How many units a bootstrap resamples, and their name: ``(80, "patients")``."""
    if group_ids is None:
        return n_items, "images"
    return int(np.max(group_ids)) + 1, "patients"


def bootstrap_info(n_boot: int, ci: float, seed: int, group_ids) -> dict:
    """The settings a report records next to its intervals."""
    unit = "image" if group_ids is None else "group"
    return {"n_boot": int(n_boot), "ci": float(ci), "seed": int(seed), "unit": unit}
