"""Class weights (against scikit-learn) and balanced oversampling."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from casekit.imbalance import class_weights, oversample_indices


@pytest.mark.parametrize(
    "labels",
    [
        np.repeat([0, 1, 2, 3, 4, 5], [845, 730, 244, 235, 192, 52]),  # PAD-UFES-20 counts
        np.array(["nv"] * 67 + ["mel"] * 11 + ["df"] * 2),
        np.array([1, 1, 0]),
    ],
)
def test_class_weights_match_sklearn_balanced(labels: np.ndarray) -> None:
    classes = np.unique(labels)
    expected = compute_class_weight("balanced", classes=classes, y=labels)
    weights = class_weights(labels)
    assert list(weights) == classes.tolist()
    np.testing.assert_allclose([weights[c] for c in classes.tolist()], expected)
    assert all(type(key) is type(classes.tolist()[0]) for key in weights)  # plain Python keys


def test_weighted_classes_contribute_equally() -> None:
    labels = np.repeat([0, 1], [90, 10])
    weights = class_weights(labels.tolist())
    totals = [weights[c] * (labels == c).sum() for c in (0, 1)]
    assert totals[0] == pytest.approx(totals[1])


def test_oversampling_balances_and_keeps_every_image() -> None:
    labels = np.repeat([0, 1, 2], [50, 7, 20])
    rng = np.random.default_rng(1)
    rng.shuffle(labels)
    idx = oversample_indices(labels, seed=3)
    counts = np.bincount(labels[idx])
    assert counts.tolist() == [50, 50, 50]
    assert set(idx.tolist()) == set(range(len(labels)))
    for cls in (1, 2):  # repeats are spread evenly: copies per image differ by at most one
        copies = np.bincount(idx, minlength=len(labels))[labels == cls]
        assert copies.max() - copies.min() <= 1
    assert np.array_equal(idx, np.sort(idx))
    np.testing.assert_array_equal(idx, oversample_indices(labels, seed=3))
    assert not np.array_equal(idx, oversample_indices(labels, seed=4))


def test_bad_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty 1-D"):
        class_weights([])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        oversample_indices(np.zeros((3, 2)))
