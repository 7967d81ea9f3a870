"""casekit.metrics against hand-computed cases and scikit-learn; bootstrap behaviour."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from casekit import metrics
from casekit.metrics.bootstrap import bootstrap_by_patient, bootstrap_weights, percentile_ci
from casekit.metrics.inputs import group_codes
from casekit.metrics.ranking import resampled_auroc, resampled_average_precision


def _binary_data(n: int, seed: int = 0, signal: float = 0.3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(signal * y + (1 - signal) * rng.random(n), 0, 1)
    return y, score


def _multiclass_data(n: int, k: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n)
    proba[np.arange(n), y] += 0.4
    return y, proba / proba.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- hand-computed cases
def test_threshold_stats_hand_computed():
    y = [1, 1, 1, 0, 0, 0, 0, 0]
    score = [0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.4, 0.05]
    stats = metrics.threshold_stats(y, score, 0.5)
    assert (stats["tp"], stats["fn"], stats["fp"], stats["tn"]) == (2, 1, 1, 4)
    assert stats["sensitivity"] == pytest.approx(2 / 3)
    assert stats["specificity"] == pytest.approx(4 / 5)
    assert stats["ppv"] == pytest.approx(2 / 3)
    assert stats["npv"] == pytest.approx(4 / 5)
    assert stats["balanced_accuracy"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    # A score equal to the threshold is called positive.
    assert metrics.threshold_stats(y, score, 0.3)["tp"] == 3


def test_threshold_stats_undefined_rates_are_nan():
    stats = metrics.threshold_stats([0, 1], [0.1, 0.2], threshold=0.9)
    assert stats["tp"] == stats["fp"] == 0
    assert np.isnan(stats["ppv"])
    assert stats["npv"] == 0.5


def test_binary_report_hand_computed_auroc_and_confusion():
    report = metrics.binary_report(
        [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.5, n_boot=20, progress=False
    )
    assert report["metrics"]["auroc"]["value"] == pytest.approx(0.75)
    counts = report["confusion_matrix"]["counts"]
    assert counts.to_numpy().tolist() == [[2, 0], [1, 1]]
    assert report["confusion_matrix"]["normalised"].to_numpy().tolist() == [[1.0, 0.0],
                                                                              [0.5, 0.5]]
    assert report["metrics"]["sensitivity"]["value"] == 0.5
    assert report["metrics"]["specificity"]["value"] == 1.0


def test_ece_hand_computed():
    # Bins: 0.05 (y=0) gap .05; {0.15, 0.15} (y=0, 1) gap .35; 0.95 (y=1) gap .05.
    ece = metrics.expected_calibration_error([0, 0, 1, 1], [0.05, 0.15, 0.15, 0.95])
    assert ece == pytest.approx(0.25 * 0.05 + 0.5 * 0.35 + 0.25 * 0.05)


def test_confidence_ece_hand_computed():
    proba = np.array([[0.8, 0.2, 0.0], [0.4, 0.6, 0.0]])
    result = metrics.confidence_calibration(np.array([0, 0]), proba)
    # Confidence 0.8 and right (gap 0.2); confidence 0.6 and wrong (gap 0.6).
    assert result["ece"] == pytest.approx((0.2 + 0.6) / 2)


def test_multiclass_hand_computed():
    proba = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    y = np.array([0, 1, 2, 2])
    report = metrics.multiclass_report(y, proba, ["a", "b", "c"], n_boot=20, progress=False)
    m = report["metrics"]
    assert m["top1_accuracy"]["value"] == 0.5
    assert m["top2_accuracy"]["value"] == 1.0
    assert "top3_accuracy" not in m  # k = K is always 1: not reported
    assert m["balanced_accuracy"]["value"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert report["confusion_matrix"]["counts"].to_numpy().tolist() == [
        [1, 0, 0], [1, 0, 0], [0, 1, 1]
    ]
    assert report["per_class"]["n"].tolist() == [1, 1, 2]


# ---------------------------------------------------------------- against scikit-learn
def test_binary_report_matches_sklearn():
    y, score = _binary_data(300, seed=1)
    report = metrics.binary_report(y, score, threshold=0.4, n_boot=50, progress=False)
    m = {name: entry["value"] for name, entry in report["metrics"].items()}
    predicted = (score >= 0.4).astype(int)
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, score))
    assert m["auprc"] == pytest.approx(skm.average_precision_score(y, score))
    assert m["sensitivity"] == pytest.approx(skm.recall_score(y, predicted))
    assert m["specificity"] == pytest.approx(skm.recall_score(y, predicted, pos_label=0))
    assert m["ppv"] == pytest.approx(skm.precision_score(y, predicted))
    assert m["npv"] == pytest.approx(skm.precision_score(y, predicted, pos_label=0))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, predicted))
    assert m["f1"] == pytest.approx(skm.f1_score(y, predicted))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    np.testing.assert_array_equal(
        report["confusion_matrix"]["counts"].to_numpy(), skm.confusion_matrix(y, predicted)
    )


def test_multiclass_report_matches_sklearn():
    y, proba = _multiclass_data(400, k=5, seed=2)
    proba[:3] = 0.2  # ties: top-k must break them as scikit-learn does
    report = metrics.multiclass_report(y, proba, list("abcde"), n_boot=30, progress=False)
    m = {name: entry["value"] for name, entry in report["metrics"].items()}
    predicted = proba.argmax(axis=1)
    for k in (1, 2, 3):
        expected = skm.top_k_accuracy_score(y, proba, k=k, labels=range(5))
        assert m[f"top{k}_accuracy"] == pytest.approx(expected)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, predicted))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, predicted, average="macro"))
    assert m["macro_auroc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    )
    onehot = np.eye(5)[y]
    assert m["macro_auprc"] == pytest.approx(
        skm.average_precision_score(onehot, proba, average="macro")
    )
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, predicted)
    table = report["per_class"]
    np.testing.assert_allclose(table["precision"], precision)
    np.testing.assert_allclose(table["recall"], recall)
    np.testing.assert_allclose(table["f1"], f1)
    np.testing.assert_array_equal(table["n"], support)
    np.testing.assert_array_equal(
        report["confusion_matrix"]["counts"].to_numpy(), skm.confusion_matrix(y, predicted)
    )


def test_reliability_curve_matches_sklearn():
    rng = np.random.default_rng(3)
    prob = rng.random(500)
    y = (rng.random(500) < prob).astype(int)
    bins = metrics.reliability_curve(y, prob, n_bins=8)
    observed, predicted = calibration_curve(y, prob, n_bins=8)
    np.testing.assert_allclose(bins["observed"].dropna(), observed)
    np.testing.assert_allclose(bins["mean_predicted"].dropna(), predicted)
    assert bins["n"].sum() == 500


@pytest.mark.parametrize("n_bins", [5, 10, 20])
def test_probabilities_on_bin_edges_go_to_the_lower_bin_as_in_sklearn(n_bins):
    """One convention everywhere: an edge k/n_bins belongs to the bin below (sklearn's)."""
    edges = np.linspace(0, 1, n_bins + 1)
    prob = np.concatenate([edges, edges[1:-1] - 1e-9, edges[1:-1] + 1e-9])
    y = (np.arange(len(prob)) % 3 == 0).astype(int)
    bins = metrics.reliability_curve(y, prob, n_bins=n_bins)
    observed, predicted = calibration_curve(y, prob, n_bins=n_bins)
    np.testing.assert_allclose(bins["observed"].dropna(), observed)
    np.testing.assert_allclose(bins["mean_predicted"].dropna(), predicted)
    # an edge sits with the values just below it: bin 0 holds 0, its upper edge and the
    # value just below that; a middle bin its upper edge and the values just inside; the
    # last bin 1.0 and the value just above its lower edge
    assert bins["n"].tolist() == [3] + [3] * (n_bins - 2) + [2]


def test_ece_edge_cases_hand_computed():
    # p = 0.1 in bin [0, 0.1] with 0.05 (sklearn); int(p * 10) would put it with 0.15.
    assert metrics.expected_calibration_error([0, 0, 1, 1], [0.05, 0.1, 0.15, 0.95]) \
        == pytest.approx(0.2625)
    assert metrics.expected_calibration_error([1, 0, 1, 0], [0.4, 0.3, 0.9, 0.2], n_bins=5) \
        == pytest.approx(0.15)
    assert metrics.expected_calibration_error([0, 1, 1, 0], [1.0, 0.95, 0.45, 0.42]) \
        == pytest.approx(0.27)  # p = 1.0 in the last bin
    assert metrics.expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0


def test_public_options_are_keyword_only():
    y, score = _binary_data(60)
    calls = [
        lambda: metrics.binary_report(y, score, None, 0.4),
        lambda: metrics.operating_point(y, score, 0.5, None, 10),
        lambda: metrics.threshold_for_sensitivity(y, score, 0.9),
        lambda: metrics.expected_calibration_error(y, score, 5),
        lambda: metrics.reliability_curve(y, score, 5),
        lambda: metrics.roc_curve_ci(y, score, None, 10),
        lambda: metrics.subgroup_table(y, score, {"sex": ["a"] * 60}, None, 0.5),
        lambda: metrics.format_estimate({"value": 0.5}, 2),
        lambda: metrics.percentile_ci(np.arange(10.0), 0.9),
        lambda: list(metrics.bootstrap_weights(5, None, 10)),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="positional"):
            call()


def test_resampling_weights_equal_duplicated_images():
    """A resample stored as counts gives the metric of the duplicated images."""
    y, score = _binary_data(120, seed=4)
    weights = next(bootstrap_weights(len(y), n_boot=3, seed=1))
    for w in weights:
        index = np.repeat(np.arange(len(y)), w.astype(int))
        auroc = resampled_auroc(y, score, w[None])[0]
        ap = resampled_average_precision(y, score, w[None])[0]
        assert auroc == pytest.approx(skm.roc_auc_score(y[index], score[index]))
        assert ap == pytest.approx(skm.average_precision_score(y[index], score[index]))


# ---------------------------------------------------------------------------- bootstrap
def test_group_weights_move_whole_groups():
    groups = np.repeat(np.arange(10), 5)
    for weights in bootstrap_weights(50, groups, n_boot=40, seed=0):
        per_group = weights.reshape(-1, 10, 5)
        assert (per_group == per_group[:, :, :1]).all()
        assert (weights.sum(axis=1) == 50).all()


def test_bootstrap_is_reproducible_and_seed_dependent():
    y, score = _binary_data(200, seed=5)
    first = metrics.binary_report(y, score, n_boot=100, seed=7, progress=False)
    again = metrics.binary_report(y, score, n_boot=100, seed=7, progress=False)
    other = metrics.binary_report(y, score, n_boot=100, seed=8, progress=False)
    assert first["metrics"]["auroc"] == again["metrics"]["auroc"]
    assert first["metrics"]["auroc"]["ci_low"] != other["metrics"]["auroc"]["ci_low"]


def test_ci_contains_point_and_narrows_with_more_data():
    widths = {}
    for n in (200, 2000):
        y, score = _binary_data(n, seed=6)
        report = metrics.binary_report(y, score, n_boot=300, progress=False)
        for name in ("auroc", "balanced_accuracy", "sensitivity"):
            entry = report["metrics"][name]
            assert entry["ci_low"] <= entry["value"] <= entry["ci_high"], name
            assert entry["n_valid"] == 300
        entry = report["metrics"]["auroc"]
        widths[n] = entry["ci_high"] - entry["ci_low"]
    # Width shrinks roughly like 1/sqrt(n): a tenfold n should at least halve it.
    assert widths[2000] < 0.5 * widths[200]


def test_grouped_bootstrap_wider_on_clustered_data():
    """Many images per lesion with correlated scores: resampling images is overconfident."""
    rng = np.random.default_rng(7)
    n_groups, per_group = 60, 20
    labels = rng.integers(0, 2, n_groups)
    lesion_effect = 0.25 * labels + rng.normal(0, 0.2, n_groups)
    groups = np.repeat(np.arange(n_groups), per_group)
    y = labels[groups]
    score = 1 / (1 + np.exp(-(lesion_effect[groups] + rng.normal(0, 0.02, len(groups)))))
    by_image = metrics.binary_report(y, score, n_boot=300, progress=False)
    by_group = metrics.binary_report(y, score, groups=groups, n_boot=300, progress=False)
    assert by_group["bootstrap"]["unit"] == "group" and by_group["n_groups"] == n_groups
    for name in ("auroc", "balanced_accuracy"):
        image = by_image["metrics"][name]
        group = by_group["metrics"][name]
        assert group["value"] == image["value"]
        assert group["ci_high"] - group["ci_low"] > 2 * (image["ci_high"] - image["ci_low"])


def test_single_class_resamples_are_skipped():
    y = np.zeros(20, dtype=int)
    y[0] = 1  # one positive: about a third of the resamples miss it
    score = np.linspace(0, 1, 20)
    report = metrics.binary_report(y, score, n_boot=200, progress=False)
    auroc = report["metrics"]["auroc"]
    assert 100 < auroc["n_valid"] < 200
    assert np.isfinite(auroc["ci_low"])
    # Specificity is defined in every resample (negatives are always drawn).
    assert report["metrics"]["specificity"]["n_valid"] == 200


def test_percentile_ci_needs_enough_valid_resamples():
    samples = np.r_[np.full(70, np.nan), np.linspace(0, 1, 30)]
    low, high, n_valid = percentile_ci(samples)
    assert n_valid == 30 and np.isnan(low) and np.isnan(high)
    low, high, _ = percentile_ci(np.linspace(0, 1, 1001), ci=0.9)
    assert (low, high) == pytest.approx((0.05, 0.95))


def test_group_ci_for_multiclass_report():
    y, proba = _multiclass_data(300, k=3, seed=8)
    groups = np.arange(300) // 3
    report = metrics.multiclass_report(y, proba, ["a", "b", "c"], groups=groups, n_boot=100,
                                       progress=False)
    assert report["bootstrap"]["unit"] == "group"
    for entry in report["metrics"].values():
        assert entry["ci_low"] <= entry["value"] + 1e-12
        assert entry["value"] <= entry["ci_high"] + 1e-12
    table = report["per_class"]
    assert (table["auroc_ci_low"] <= table["auroc"]).all()
    assert (table["auroc"] <= table["auroc_ci_high"]).all()


# ----------------------------------------------------------------------- thresholds
def test_threshold_for_sensitivity_reaches_target():
    y, score = _binary_data(500, seed=9)
    for target in (0.8, 0.9, 0.95, 1.0):
        op = metrics.threshold_for_sensitivity(y, score, target=target)
        stats = metrics.threshold_stats(y, score, op["threshold"])
        assert stats["sensitivity"] >= target
        assert stats["sensitivity"] == pytest.approx(op["sensitivity"])
        assert stats["specificity"] == pytest.approx(op["specificity"])
        # The next higher score as threshold falls short: this is the best threshold.
        higher = score[score > op["threshold"]].min()
        assert metrics.threshold_stats(y, score, higher)["sensitivity"] < target


def test_operating_point_matches_threshold_stats():
    y, score = _binary_data(300, seed=10)
    groups = np.arange(300) // 2
    op = metrics.operating_point(y, score, 0.45, groups=groups, n_boot=100)
    stats = metrics.threshold_stats(y, score, 0.45)
    assert op["counts"]["tp"] == stats["tp"]
    for name in ("sensitivity", "specificity", "ppv", "npv"):
        entry = op["metrics"][name]
        assert entry["value"] == pytest.approx(stats[name])
        assert entry["ci_low"] <= entry["value"] <= entry["ci_high"]


# ------------------------------------------------------------------------ subgroups
def test_subgroup_table_values():
    rng = np.random.default_rng(11)
    n = 60
    y = np.tile([0, 1], n)
    score = np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.01, 2 * n)
    site = np.array(["face"] * n + ["back"] * n, dtype=object)
    score[site == "back"] = 1 - score[site == "back"]  # perfectly wrong on the back
    site[:6] = "ear"  # a subgroup too small to judge
    sex = np.array(["male", "female", None] * (2 * n // 3), dtype=object)
    table = metrics.subgroup_table(y, score, {"site": site, "sex": sex}, n_boot=50)
    rows = table.set_index(["attribute", "value"])
    assert rows.loc[("site", "face"), "auroc"] == 1.0
    assert rows.loc[("site", "back"), "auroc"] == 0.0
    assert rows.loc[("site", "back"), "balanced_accuracy"] == 0.0
    assert rows.loc[("site", "ear"), "note"] == "too few"
    assert np.isnan(rows.loc[("site", "ear"), "auroc"])
    assert rows.loc[("site", "face"), "n"] == n - 6
    assert rows.loc[("site", "face"), "positives"] == (y[site == "face"]).sum()
    mask = sex == "male"
    assert rows.loc[("sex", "male"), "auroc"] == pytest.approx(
        skm.roc_auc_score(y[mask], score[mask])
    )
    assert rows.loc[("sex", "missing"), "n"] == (sex == None).sum()  # noqa: E711
    face = rows.loc[("site", "face")]
    assert face["auroc_ci_low"] <= face["auroc"] <= face["auroc_ci_high"]


def test_subgroup_table_multiclass_and_groups():
    y, proba = _multiclass_data(300, k=3, seed=12)
    sex = np.where(np.arange(300) % 2 == 0, "male", "female")
    groups = np.arange(300) // 3
    table = metrics.subgroup_table(y, proba, pd.DataFrame({"sex": sex}), groups=groups,
                                   class_names=["a", "b", "c"], n_boot=30)
    male = table.set_index("value").loc["male"]
    mask = sex == "male"
    assert male["balanced_accuracy"] == pytest.approx(
        skm.balanced_accuracy_score(y[mask], proba[mask].argmax(axis=1))
    )
    assert male["auroc"] == pytest.approx(
        skm.roc_auc_score(y[mask], proba[mask], multi_class="ovr")
    )
    assert male["n_groups"] == 100 and male["classes"] == 3


def test_subgroup_table_rejects_continuous_columns():
    y, score = _binary_data(100)
    with pytest.raises(ValueError, match="age_bands"):
        metrics.subgroup_table(y, score, {"age": np.linspace(20, 80, 100)}, n_boot=10)


def test_age_bands():
    bands = metrics.age_bands(pd.Series([5, 29.9, 30, 44, 45, 74, 75, 90, np.nan]))
    assert bands.astype(object).where(bands.notna(), None).tolist() == [
        "0-29", "0-29", "30-44", "30-44", "45-59", "60-74", "75+", "75+", None,
    ]
    assert list(bands.cat.categories) == ["0-29", "30-44", "45-59", "60-74", "75+"]
    table = metrics.subgroup_table(*_binary_data(9), {"age": bands}, n_boot=5)
    assert table["value"].tolist()[:3] == ["0-29", "30-44", "45-59"]  # band order kept


# ----------------------------------------------------------------- summaries and JSON
def test_fold_summary_from_reports_and_frames():
    reports = [metrics.binary_report(*_binary_data(100, seed=s), n_boot=10, progress=False)
               for s in range(3)]
    summary = metrics.fold_summary(reports)
    values = [r["metrics"]["auroc"]["value"] for r in reports]
    assert summary.loc["auroc", "mean"] == pytest.approx(np.mean(values))
    assert summary.loc["auroc", "sd"] == pytest.approx(np.std(values, ddof=1))
    assert summary.loc["auroc", "n_folds"] == 3
    frame = pd.DataFrame({"fold": [0, 1], "bacc": [0.7, 0.8]})
    assert metrics.fold_summary(frame).loc["bacc", "mean ± sd"] == "0.750 ± 0.071"


def test_reports_are_json_serialisable():
    y, score = _binary_data(120)
    sex = np.where(np.arange(120) % 2, "male", "female")
    report = metrics.binary_report(y, score, groups=np.arange(120) // 2, n_boot=20,
                                   progress=False)
    report["subgroups"] = metrics.subgroup_table(y, score, {"sex": sex}, n_boot=20,
                                                 progress=False)
    text = json.dumps(metrics.to_jsonable(report))
    back = json.loads(text)
    assert back["metrics"]["auroc"]["value"] == pytest.approx(report["metrics"]["auroc"]["value"])
    counts = pd.DataFrame(**back["confusion_matrix"]["counts"])
    assert counts.to_numpy().tolist() == report["confusion_matrix"]["counts"].to_numpy().tolist()
    y3, proba = _multiclass_data(60, k=3)
    json.dumps(metrics.to_jsonable(
        metrics.multiclass_report(y3, proba, ["a", "b", "c"], n_boot=5, progress=False)
    ))
    assert metrics.to_jsonable({"x": np.nan, "y": pd.NA}) == {"x": None, "y": None}


def test_metrics_table():
    report = metrics.binary_report(*_binary_data(100), n_boot=10, progress=False)
    table = metrics.metrics_table(report)
    assert list(table.columns) == ["value", "ci_low", "ci_high"]
    assert table.loc["auroc", "value"] == report["metrics"]["auroc"]["value"]


# ----------------------------------------------------------------------- bad inputs
def test_clear_errors_on_bad_input():
    with pytest.raises(ValueError, match="0/1 labels"):
        metrics.binary_report([0, 2, 1], [0.1, 0.2, 0.3], n_boot=5, progress=False)
    with pytest.raises(ValueError, match="single class"):
        metrics.binary_report([1, 1], [0.1, 0.2], n_boot=5, progress=False)
    with pytest.raises(ValueError, match="entries"):
        metrics.binary_report([0, 1], [0.1, 0.2, 0.3], n_boot=5, progress=False)
    with pytest.raises(ValueError, match="missing values"):
        metrics.binary_report([0, 1], [0.1, 0.2], groups=["a", None], n_boot=5, progress=False)
    with pytest.raises(ValueError, match="softmax"):
        metrics.multiclass_report([0, 1], [[2.0, 1.0], [0.0, 3.0]], ["a", "b"], n_boot=5)
    with pytest.raises(ValueError, match="shape"):
        metrics.multiclass_report([0, 1], [[0.5, 0.5], [0.5, 0.5]], ["a", "b", "c"], n_boot=5)


def test_the_plain_patient_loop_gives_the_reports_numbers():
    """binary_report's interval is the percentile of what the loop notebook 04 teaches gives."""
    rng = np.random.default_rng(42)
    patients = rng.integers(0, 40, 150)
    y = (rng.random(150) < 0.3).astype(int)
    score = np.clip(0.35 * y + 0.65 * rng.random(150), 0, 1)
    loop = bootstrap_by_patient(roc_auc_score, y, score, patients, n_boot=300, seed=7)
    fast = metrics.bootstrap_stats({"auroc": lambda w: resampled_auroc(y, score, w)}, len(y),
                                   group_codes(patients, len(y)), n_boot=300, seed=7)["auroc"]
    np.testing.assert_allclose(fast, loop, rtol=0, atol=1e-12)
    report = metrics.binary_report(y, score, patients, n_boot=300, seed=7, progress=False)
    low, high, n_valid = metrics.percentile_ci(loop)
    auroc = report["metrics"]["auroc"]
    assert report.metrics.auroc is auroc and report.task == "binary"
    assert (auroc.ci_low, auroc.ci_high, auroc.n_valid) == (pytest.approx(float(low)),
                                                            pytest.approx(float(high)), n_valid)
    assert (auroc.n_units, auroc.unit, auroc.note) == (len(set(patients)), "patients", "")


def test_fewer_than_five_patients_give_no_interval_and_say_so():
    y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    score = np.array([0.1, 0.8, 0.3, 0.7, 0.2, 0.9, 0.6, 0.4])
    report = metrics.binary_report(y, score, [1, 1, 2, 2, 3, 3, 4, 4], n_boot=50, progress=False)
    auroc = report["metrics"]["auroc"]
    assert auroc["value"] == 1.0 and np.isnan(auroc["ci_low"]) and np.isnan(auroc["ci_high"])
    assert auroc["note"] == "too few patients for an interval (n = 4)"
    assert metrics.format_estimate(auroc) == "1.000 (too few patients for an interval (n = 4))"
    assert str(auroc) == metrics.format_estimate(auroc)
    by_image = metrics.binary_report(y, score, n_boot=50, progress=False)["metrics"]["auroc"]
    assert by_image.note == "" and by_image.n_units == 8 and by_image.unit == "images"
    assert json.loads(json.dumps(metrics.to_jsonable(report["metrics"])))["auroc"]["note"] \
        == "too few patients for an interval (n = 4)"
