"""Plausible wrong answers to 04_evaluation's autograded exercises (casekit_course/mutants.py).

Each source replaces the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of
the exercise's solution cell (written unindented; it gets the markers' indentation).
"""

MUTANTS = {
    "test_sensitivity_specificity": {
        "threshold on the wrong side (score > t)": {"kind": "named-mistake", "code": """
            cancer = np.asarray(y_true) == 1
            called = np.asarray(scores, dtype=float) > threshold
            tp, fn = np.sum(called & cancer), np.sum(~called & cancer)
            tn, fp = np.sum(~called & ~cancer), np.sum(called & ~cancer)
            return float(tp / (tp + fn)), float(tn / (tn + fp))
        """},
        "low scores called cancer": """
            cancer = np.asarray(y_true) == 1
            called = np.asarray(scores, dtype=float) <= threshold
            tp, fn = np.sum(called & cancer), np.sum(~called & cancer)
            tn, fp = np.sum(~called & ~cancer), np.sum(called & ~cancer)
            return float(tp / (tp + fn)), float(tn / (tn + fp))
        """,
        "rates over all images (wrong denominator)": {"kind": "named-mistake", "code": """
            cancer = np.asarray(y_true) == 1
            called = np.asarray(scores, dtype=float) >= threshold
            n = len(cancer)
            return float(np.sum(called & cancer) / n), float(np.sum(~called & ~cancer) / n)
        """},
        "ignores `threshold` (always 0.5)": {"kind": "argument-ignored", "code": """
            cancer = np.asarray(y_true) == 1
            called = np.asarray(scores, dtype=float) >= 0.5
            tp, fn = np.sum(called & cancer), np.sum(~called & cancer)
            tn, fp = np.sum(~called & ~cancer), np.sum(called & ~cancer)
            return float(tp / (tp + fn)), float(tn / (tn + fp))
        """},
        'calls casekit.metrics.threshold_stats': {"kind": "casekit-call", "code": """
            rates = ck.metrics.threshold_stats(y_true, scores, threshold)
            return float(rates["sensitivity"]), float(rates["specificity"])
        """},
    },
    "test_highest_threshold": {
        "the lowest threshold reaching the target": {"kind": "named-mistake", "code": """
            cancer = np.asarray(y_true) == 1
            s = np.asarray(scores, dtype=float)
            for threshold in np.sort(np.unique(s)):
                if np.mean(s[cancer] >= threshold) >= target:
                    return float(threshold)
        """},
        "sensitivity must exceed the target strictly": {"kind": "named-mistake", "code": """
            cancer = np.asarray(y_true) == 1
            s = np.asarray(scores, dtype=float)
            for threshold in np.sort(np.unique(s))[::-1]:
                if np.mean(s[cancer] >= threshold) > target:
                    return float(threshold)
        """},
        "strictly above the threshold counts as positive": {"kind": "named-mistake", "code": """
            cancer = np.asarray(y_true) == 1
            s = np.asarray(scores, dtype=float)
            for threshold in np.sort(np.unique(s))[::-1]:
                if np.mean(s[cancer] > threshold) >= target:
                    return float(threshold)
        """},
        "ignores `target` (always 0.9)": {"kind": "argument-ignored", "code": """
            cancer = np.asarray(y_true) == 1
            s = np.asarray(scores, dtype=float)
            for threshold in np.sort(np.unique(s))[::-1]:
                if np.mean(s[cancer] >= threshold) >= 0.9:
                    return float(threshold)
        """},
        'calls casekit.metrics.threshold_for_sensitivity': {"kind": "casekit-call", "code": """
            chosen = ck.metrics.threshold_for_sensitivity(y_true, scores, target=target)
            return float(chosen["threshold"])
        """},
    },
    "test_honest_operating_point": {
        "threshold chosen on the test rows": {"kind": "named-mistake", "code": """
            test = predictions[predictions["split"] == "test"]
            threshold = ck.metrics.threshold_for_sensitivity(test["y_true"], test["score"],
                                                             target=target)["threshold"]
            rates = ck.metrics.threshold_stats(test["y_true"], test["score"], threshold)
            return {"threshold": threshold, "sensitivity": rates["sensitivity"],
                    "specificity": rates["specificity"]}
        """},
        "rates measured on the validation rows": {"kind": "named-mistake", "code": """
            val = predictions[predictions["split"] == "val"]
            threshold = ck.metrics.threshold_for_sensitivity(val["y_true"], val["score"],
                                                             target=target)["threshold"]
            rates = ck.metrics.threshold_stats(val["y_true"], val["score"], threshold)
            return {"threshold": threshold, "sensitivity": rates["sensitivity"],
                    "specificity": rates["specificity"]}
        """},
        "ignores `target` (always 0.9)": {"kind": "argument-ignored", "code": """
            val = predictions[predictions["split"] == "val"]
            test = predictions[predictions["split"] == "test"]
            threshold = ck.metrics.threshold_for_sensitivity(val["y_true"], val["score"],
                                                             target=0.9)["threshold"]
            rates = ck.metrics.threshold_stats(test["y_true"], test["score"], threshold)
            return {"threshold": threshold, "sensitivity": rates["sensitivity"],
                    "specificity": rates["specificity"]}
        """},
        "threshold chosen on every row but test": """
            fit = predictions[predictions["split"] != "test"]
            test = predictions[predictions["split"] == "test"]
            threshold = ck.metrics.threshold_for_sensitivity(fit["y_true"], fit["score"],
                                                             target=target)["threshold"]
            rates = ck.metrics.threshold_stats(test["y_true"], test["score"], threshold)
            return {"threshold": threshold, "sensitivity": rates["sensitivity"],
                    "specificity": rates["specificity"]}
        """,
    },
    "test_grouped_bootstrap_ci": {
        "resamples images, not patients": {"kind": "named-mistake", "code": """
            y, s = np.asarray(y), np.asarray(s, dtype=float)
            rng = np.random.default_rng(seed)
            values = []
            for _ in range(n_boot):
                rows = rng.integers(0, len(y), size=len(y))
                values.append(stat(y[rows], s[rows]))
            low, high = np.nanpercentile(np.asarray(values, dtype=float), [2.5, 97.5])
            return float(low), float(high)
        """},
        "draws patients without replacement": {"kind": "named-mistake", "code": """
            y, s, groups = np.asarray(y), np.asarray(s, dtype=float), np.asarray(groups)
            rng = np.random.default_rng(seed)
            names = np.unique(groups)
            rows_of = [np.flatnonzero(groups == name) for name in names]
            values = []
            for _ in range(n_boot):
                drawn = rng.permutation(len(names))
                rows = np.concatenate([rows_of[i] for i in drawn])
                values.append(stat(y[rows], s[rows]))
            low, high = np.nanpercentile(np.asarray(values, dtype=float), [2.5, 97.5])
            return float(low), float(high)
        """},
        "a fixed seed (ignores `seed`)": {"kind": "argument-ignored", "code": """
            y, s, groups = np.asarray(y), np.asarray(s, dtype=float), np.asarray(groups)
            rng = np.random.default_rng(0)
            names = np.unique(groups)
            rows_of = [np.flatnonzero(groups == name) for name in names]
            values = []
            for _ in range(n_boot):
                drawn = rng.integers(0, len(names), size=len(names))
                rows = np.concatenate([rows_of[i] for i in drawn])
                values.append(stat(y[rows], s[rows]))
            low, high = np.nanpercentile(np.asarray(values, dtype=float), [2.5, 97.5])
            return float(low), float(high)
        """},
        "5th and 95th percentiles": {"kind": "named-mistake", "code": """
            y, s, groups = np.asarray(y), np.asarray(s, dtype=float), np.asarray(groups)
            rng = np.random.default_rng(seed)
            names = np.unique(groups)
            rows_of = [np.flatnonzero(groups == name) for name in names]
            values = []
            for _ in range(n_boot):
                drawn = rng.integers(0, len(names), size=len(names))
                rows = np.concatenate([rows_of[i] for i in drawn])
                values.append(stat(y[rows], s[rows]))
            low, high = np.nanpercentile(np.asarray(values, dtype=float), [5, 95])
            return float(low), float(high)
        """},
        "resamples with casekit.metrics.bootstrap_weights": {"kind": "casekit-call", "code": """
            y, s = np.asarray(y), np.asarray(s, dtype=float)
            values = []
            for chunk in ck.metrics.bootstrap_weights(len(y), np.asarray(groups), n_boot=n_boot,
                                                   seed=seed):
                for counts in chunk.astype(int):
                    values.append(stat(np.repeat(y, counts), np.repeat(s, counts)))
            low, high = np.nanpercentile(np.asarray(values, dtype=float), [2.5, 97.5])
            return float(low), float(high)
        """},
    },
    "test_expected_calibration_error": {
        "unweighted mean over the bins": {"kind": "named-mistake", "code": """
            y = np.asarray(y_true, dtype=float)
            p = np.asarray(probs, dtype=float)
            bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
            gaps = [abs(y[bins == b].mean() - p[bins == b].mean())
                    for b in range(n_bins) if (bins == b).any()]
            return float(np.mean(gaps))
        """},
        "p = 1.0 falls out of the last bin": {"kind": "named-mistake", "code": """
            y = np.asarray(y_true, dtype=float)
            p = np.asarray(probs, dtype=float)
            bins = (p * n_bins).astype(int)
            ece = 0.0
            for b in range(n_bins):
                inside = bins == b
                if inside.any():
                    ece += inside.mean() * abs(y[inside].mean() - p[inside].mean())
            return float(ece)
        """},
        "always 10 bins (ignores `n_bins`)": {"kind": "argument-ignored", "code": """
            y = np.asarray(y_true, dtype=float)
            p = np.asarray(probs, dtype=float)
            bins = np.searchsorted(np.linspace(0, 1, 11)[1:-1], p)  # edges to the lower bin
            ece = 0.0
            for b in range(10):
                inside = bins == b
                if inside.any():
                    ece += inside.mean() * abs(y[inside].mean() - p[inside].mean())
            return float(ece)
        """},
        "signed gaps cancel out": {"kind": "named-mistake", "code": """
            y = np.asarray(y_true, dtype=float)
            p = np.asarray(probs, dtype=float)
            bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
            ece = 0.0
            for b in range(n_bins):
                inside = bins == b
                if inside.any():
                    ece += inside.mean() * (y[inside].mean() - p[inside].mean())
            return float(abs(ece))
        """},
        'calls casekit.metrics.expected_calibration_error': {"kind": "casekit-call", "code": """
            return float(ck.metrics.expected_calibration_error(y_true, probs, n_bins=n_bins))
        """},
    },
}
