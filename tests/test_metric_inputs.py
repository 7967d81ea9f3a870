"""Probability checks that tolerate 16-bit rounding and say what is wrong; casekit's own words
for absent classes; no float noise in reported intervals (issue 11, items 3 and 6)."""

from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest
from sklearn.metrics import top_k_accuracy_score

from casekit import metrics
from casekit.metrics.inputs import multiclass_inputs
from casekit.metrics.summary import format_estimate

NAMES = ["akiec", "bcc", "bkl", "df", "mel", "nv"]


def _softmax_rows(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(NAMES), n)
    logits = rng.normal(0, 1.5, (n, len(NAMES))).astype(np.float32)
    logits[np.arange(n), y] += 2.0
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return y, shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dtype", [ml_dtypes.bfloat16, np.float16, np.float32])
def test_reduced_precision_softmax_is_accepted_and_renormalised(dtype) -> None:
    y, proba = _softmax_rows()
    rounded = proba.astype(dtype)
    sums = rounded.astype(np.float64).sum(axis=1)
    if dtype is ml_dtypes.bfloat16:  # the case: rows off by more than the old 0.001
        assert np.abs(sums - 1).max() > 1e-3
    for given in (rounded, rounded.astype(np.float32)):  # Keras may hand back float32
        labels, checked = multiclass_inputs(y, given, NAMES)
        np.testing.assert_allclose(checked.sum(axis=1), 1.0, atol=1e-12)
        np.testing.assert_allclose(checked, rounded.astype(np.float64) / sums[:, None])
    report = metrics.multiclass_report(y, rounded, class_names=NAMES, n_boot=20,
                                       progress=False)
    expected = top_k_accuracy_score(y, rounded.astype(np.float64), k=1, labels=range(6))
    assert report["metrics"]["top1_accuracy"]["value"] == pytest.approx(expected)


def test_rows_that_miss_one_by_more_than_rounding_are_refused() -> None:
    y, proba = _softmax_rows(50)
    with pytest.raises(ValueError, match=r"50 of 50 do not .*sums to 0\.99"):
        multiclass_inputs(y, proba.astype(np.float64) * 0.99, NAMES)


def test_logits_are_named_as_logits() -> None:
    y, proba = _softmax_rows(50)
    logits = np.log(proba) + 3.0
    with pytest.raises(ValueError, match="outside \\[0, 1\\]: these look like logits"):
        multiclass_inputs(y, logits, NAMES)
    negative = proba.astype(np.float64)
    negative[0, :2] = [-0.2, negative[0, 0] + negative[0, 1] + 0.2]
    with pytest.raises(ValueError, match="values from -0.2 to"):
        multiclass_inputs(y, negative, NAMES)


def test_sigmoid_rows_and_zero_rows_are_explained() -> None:
    y, proba = _softmax_rows(50)
    sigmoid = 1 / (1 + np.exp(-np.log(proba) - 3))  # in [0, 1], rows summing to about 5
    with pytest.raises(ValueError, match="independent per-class sigmoid outputs"):
        multiclass_inputs(y, sigmoid, NAMES)
    zeros = proba.copy()
    zeros[7] = 0.0
    with pytest.raises(ValueError, match="1 of 50 do not .*row 7 sums to 0; some rows are all"):
        multiclass_inputs(y, zeros, NAMES)


def test_wrong_shapes_say_how_to_fix_them() -> None:
    y, proba = _softmax_rows(50)
    with pytest.raises(ValueError, match=r"got \(6, 50\) \(classes in rows: pass proba.T\)"):
        multiclass_inputs(y, proba.T, NAMES)
    with pytest.raises(ValueError, match="got \\(50,\\) \\(one score per image"):
        multiclass_inputs(y[:50] % 2, proba[:, 0], ["benign", "malignant"])


def test_absent_class_is_reported_in_casekits_words_only() -> None:
    y, proba = _softmax_rows(120, seed=3)
    y = np.where(y == 3, 0, y)  # no "df" image; the model still predicts df for some
    predicted = proba.argmax(axis=1)
    assert (predicted == 3).sum() > 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = metrics.multiclass_report(y, proba, class_names=NAMES, n_boot=20,
                                           progress=False)
    texts = [str(w.message) for w in caught]
    assert not any("y_pred contains classes not in y_true" in t for t in texts)
    assert [w.filename for w in caught] == [__file__]  # pointed at the caller's line
    assert texts == report["notes"] and len(texts) == 1
    assert texts[0].startswith(
        f"class 'df' has no image among the 120 evaluated; the model still predicted it for "
        f"{(predicted == 3).sum()} of the 120 images (all wrong).")
    present = [k for k in range(6) if k != 3]
    recalls = [np.mean(predicted[y == k] == k) for k in present]
    assert report["metrics"]["balanced_accuracy"]["value"] == pytest.approx(np.mean(recalls))
    assert np.isnan(report["per_class"].loc["df", "recall"])


def test_interval_bounds_carry_no_float_noise() -> None:
    # Perfectly separated scores: before, AUROC's lower bound was 0.9999999999999999 and
    # AUPRC's upper bound 1.0000000000000002.
    rng = np.random.default_rng(0)
    y = np.array([0] * 30 + [1] * 30)
    score = np.r_[rng.random(30) * 0.4, 0.6 + rng.random(30) * 0.4]
    report = metrics.binary_report(y, score, n_boot=200, progress=False)
    for name in ("auroc", "auprc"):
        entry = report["metrics"][name]
        assert (entry["value"], entry["ci_low"], entry["ci_high"]) == (1.0, 1.0, 1.0)
        assert format_estimate(entry) == "1.000 (1.000–1.000)"
    assert "9999" not in repr(report["metrics"])
