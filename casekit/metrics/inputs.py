"""Check and convert metric inputs: labels, scores, probabilities and group ids.

Every public metric function passes its arguments through here first, so a wrong shape
or a missing value fails with one clear message instead of deep inside scikit-learn.

Example:
    >>> y, s = binary_inputs([0, 1, 1], [0.2, 0.7, 0.9])
    >>> y.dtype.kind, s.dtype.kind
    ('i', 'f')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def binary_inputs(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y_true, y_score)`` as 1-D int and float arrays of equal length.

    ``y_true`` must hold only 0 and 1 (bools are fine). ``y_score`` is the score or
    probability of class 1; a two-column probability array is reduced to its second column.
    """
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=float)
    if s.ndim == 2 and s.shape[1] in (1, 2):
        s = s[:, -1]
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(
            f"y_true and y_score must be 1-D (got shapes {y.shape} and {s.shape}); "
            "for several classes use multiclass_report"
        )
    _same_length(y, s, "y_score")
    if len(y) == 0:
        raise ValueError("y_true is empty: nothing to evaluate")
    if pd.isna(y).any():
        raise ValueError("y_true has missing values; drop those rows first")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:  # bools and 0.0/1.0 compare equal to 0/1
        raise ValueError(
            f"y_true must hold 0/1 labels for a binary metric, found {sorted(values)[:6]}; "
            "map the positive class to 1 (e.g. df['target_binary'])"
        )
    if not np.isfinite(s).all():
        raise ValueError("y_score has NaN or infinite values; check the model outputs")
    return y.astype(int), s


def multiclass_inputs(y_true, proba, class_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y_true, proba)`` as an int vector of class indices and an (n, K) float array.

    ``proba`` rows are the predicted probabilities of the K classes in ``class_names`` order.
    """
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=float)
    k = len(class_names)
    if k < 2:
        raise ValueError("class_names needs at least two classes")
    if y.ndim != 1:
        raise ValueError(f"y_true must be a 1-D vector of class indices, got shape {y.shape}")
    if p.ndim != 2 or p.shape[1] != k:
        hint = ""
        if p.ndim == 2 and p.shape == (k, len(y)):
            hint = " (classes in rows: pass proba.T)"
        elif p.ndim == 1:
            hint = (" (one score per image: give one column per class, or use binary_report "
                    "with the probability of class 1)")
        raise ValueError(
            f"proba must have shape (n_images, {k}) to match class_names, got {p.shape}{hint}"
        )
    _same_length(y, p, "proba")
    if len(y) == 0:
        raise ValueError("y_true is empty: nothing to evaluate")
    if y.dtype.kind not in "iub":
        raise ValueError(
            "y_true must hold integer class indices (0..K-1), e.g. df['label_idx'], "
            f"not {y.dtype} values"
        )
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"y_true has class indices outside 0..{k - 1}")
    if not np.isfinite(p).all():
        raise ValueError("proba has NaN or infinite values; check the model outputs")
    return y.astype(int), probability_rows(p)


def probability_rows(p: np.ndarray) -> np.ndarray:
    """Rows of class probabilities renormalised to sum to exactly 1, or a ``ValueError``.

    A softmax computed in float16 or bfloat16 (mixed precision) is rounded: its rows sum
    to 1 only within that precision (bfloat16 rows 0.997-1.003 are normal). The tolerance
    follows the narrowest precision that holds every value exactly (bfloat16, float16,
    float32, float64; the values tell, whatever the array's dtype now is): each of the K
    values and their sum may be off by one unit roundoff ``u`` (2**-8, 2**-11, 2**-24,
    2**-53), so a row may miss 1 by ``(K + 1) * u``, never by less than 0.001. The error
    says what is wrong instead: values outside [0, 1] (logits), rows of independent
    sigmoid outputs, or rows of zeros.

    Example:
        >>> rows = probability_rows(np.array([[0.5, 0.498046875], [0.25, 0.75]]))  # bfloat16
        >>> rows.sum(axis=1).tolist()
        [1.0, 1.0]
    """
    k = p.shape[1]
    u = _unit_roundoff(p)
    tolerance = max(1e-3, (k + 1) * u)
    low, high = float(p.min()), float(p.max())
    if low < -u or high > 1 + tolerance:
        raise ValueError(
            f"proba holds values from {low:.3g} to {high:.3g}, outside [0, 1]: these look "
            "like logits (raw scores of the last Dense layer), not probabilities. Apply a "
            "softmax over the classes first, e.g. keras.ops.softmax(logits, axis=-1), or "
            "give the model a softmax output."
        )
    p = np.clip(p, 0.0, None)  # rounding may leave -0.0 or -u
    sums = p.sum(axis=1)
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        first = int(np.argmax(off))
        hint = ("some rows are all zeros" if (sums[off] == 0).any() else
                "they look like independent per-class sigmoid outputs"
                if (sums[off] > 1).any() else
                "they may be per-class sigmoid outputs, or some classes' columns are missing")
        raise ValueError(
            f"proba rows must each sum to 1 over the {k} classes (within {tolerance:.2g} "
            f"at this precision), but {int(off.sum())} of {len(p)} do not (row {first} "
            f"sums to {sums[first]:.4g}; {hint}). Pass one softmax row per image."
        )
    return p / sums[:, None]


def _unit_roundoff(values: np.ndarray) -> float:
    """Unit roundoff of the narrowest float format that holds every value exactly."""
    with np.errstate(over="ignore"):
        single = values.astype(np.float32)
    if not np.array_equal(single, values):
        return 2.0**-53
    if not (single.view(np.uint32) & 0xFFFF).any():  # bfloat16 is float32's upper half
        return 2.0**-8
    if np.array_equal(single.astype(np.float16).astype(np.float32), single):
        return 2.0**-11
    return 2.0**-24


def group_codes(groups, n: int) -> np.ndarray | None:
    """Integer code per item for ``groups`` (patient or lesion ids), or None when absent."""
    if groups is None:
        return None
    g = pd.Series(np.asarray(groups, dtype=object))
    if len(g) != n:
        raise ValueError(f"groups has {len(g)} entries but there are {n} images")
    if g.isna().any():
        raise ValueError(
            f"groups has {int(g.isna().sum())} missing values; every image needs a "
            "patient/lesion id (column group_id)"
        )
    codes, _ = pd.factorize(g)
    return codes.astype(np.int64)


def _same_length(y: np.ndarray, other: np.ndarray, name: str) -> None:
    if len(y) != len(other):
        raise ValueError(f"y_true has {len(y)} entries but {name} has {len(other)}")
