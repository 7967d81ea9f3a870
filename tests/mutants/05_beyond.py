"""Plausible wrong answers to 05_beyond's autograded exercises (see casekit_course/mutants.py).

Each source replaces the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of
the exercise's solution cell (written unindented; it gets the markers' indentation).
"named-mistake": the exercise's text warns against it, so its visible tests catch it.
"""

MUTANTS = {
    "test_cross_validate": {
        "folds ignore patients (StratifiedKFold)": {"kind": "named-mistake", "code": """
            from sklearn.model_selection import StratifiedKFold

            y = np.asarray(y)
            folds = np.zeros(len(y), dtype=int)
            splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            for fold, (_, held) in enumerate(splitter.split(np.zeros(len(y)), y)):
                folds[held] = fold
            scores = None
            for fold in range(n_splits):
                held_out = folds == fold
                predicted = np.asarray(fit_predict(x[~held_out], y[~held_out], x[held_out]))
                if scores is None:
                    scores = np.full((len(y), *predicted.shape[1:]), np.nan)
                scores[held_out] = predicted
            return scores, folds
        """},
        "scores concatenated in fold order": {"kind": "named-mistake", "code": """
            y = np.asarray(y)
            table = pd.DataFrame({"label": y, "group_id": np.asarray(groups)})
            folds = ck.grouped_kfold(table, k=n_splits, seed=seed)["fold"].to_numpy()
            parts = []
            for fold in range(n_splits):
                held_out = folds == fold
                parts.append(np.asarray(fit_predict(x[~held_out], y[~held_out], x[held_out])))
            return np.concatenate(parts), folds
        """},
        "ignores `seed` (always seed 0)": {"kind": "argument-ignored", "code": """
            y = np.asarray(y)
            table = pd.DataFrame({"label": y, "group_id": np.asarray(groups)})
            folds = ck.grouped_kfold(table, k=n_splits, seed=0)["fold"].to_numpy()
            scores = None
            for fold in range(n_splits):
                held_out = folds == fold
                predicted = np.asarray(fit_predict(x[~held_out], y[~held_out], x[held_out]))
                if scores is None:
                    scores = np.full((len(y), *predicted.shape[1:]), np.nan)
                scores[held_out] = predicted
            return scores, folds
        """},
        "trains on every row, held-out fold included": """
            y = np.asarray(y)
            table = pd.DataFrame({"label": y, "group_id": np.asarray(groups)})
            folds = ck.grouped_kfold(table, k=n_splits, seed=seed)["fold"].to_numpy()
            scores = None
            for fold in range(n_splits):
                held_out = folds == fold
                predicted = np.asarray(fit_predict(x, y, x[held_out]))
                if scores is None:
                    scores = np.full((len(y), *predicted.shape[1:]), np.nan)
                scores[held_out] = predicted
            return scores, folds
        """,
        "GroupKFold: neither stratified nor seeded": """
            from sklearn.model_selection import GroupKFold

            y = np.asarray(y)
            folds = np.zeros(len(y), dtype=int)
            splitter = GroupKFold(n_splits=n_splits)
            for fold, (_, held) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
                folds[held] = fold
            scores = None
            for fold in range(n_splits):
                held_out = folds == fold
                predicted = np.asarray(fit_predict(x[~held_out], y[~held_out], x[held_out]))
                if scores is None:
                    scores = np.full((len(y), *predicted.shape[1:]), np.nan)
                scores[held_out] = predicted
            return scores, folds
        """,
    },
    "test_colour_histogram": {
        "pixel counts, not shares": {"kind": "named-mistake", "code": """
            out = np.zeros((len(images), 3, bins))
            for i, image in enumerate(images):
                index = np.asarray(image).reshape(-1, 3).astype(np.int64) * bins // 256
                for channel in range(3):
                    out[i, channel] = np.bincount(index[:, channel], minlength=bins)
            return out.reshape(len(images), 3 * bins)
        """},
        "bins over the image's own range (np.histogram without range)": """
            out = np.zeros((len(images), 3, bins))
            for i, image in enumerate(images):
                pixels = np.asarray(image).reshape(-1, 3)
                for channel in range(3):
                    counts, _ = np.histogram(pixels[:, channel], bins=bins)
                    out[i, channel] = counts / len(pixels)
            return out.reshape(len(images), 3 * bins)
        """,
        "ignores `bins` (always 8)": {"kind": "argument-ignored", "code": """
            out = np.zeros((len(images), 3, 8))
            for i, image in enumerate(images):
                index = np.asarray(image).reshape(-1, 3).astype(np.int64) * 8 // 256
                for channel in range(3):
                    out[i, channel] = np.bincount(index[:, channel], minlength=8) / len(index)
            return out.reshape(len(images), 3 * 8)
        """},
        "one histogram for the whole batch": """
            pixels = np.asarray(images).reshape(-1, 3).astype(np.int64) * bins // 256
            shares = [np.bincount(pixels[:, c], minlength=bins) / len(pixels) for c in range(3)]
            return np.tile(np.concatenate(shares), (len(images), 1))
        """,
        "values scaled to 0-1 before binning (everything in one bin)": """
            out = np.zeros((len(images), 3, bins))
            for i, image in enumerate(images):
                pixels = np.asarray(image).reshape(-1, 3) / 255.0
                for channel in range(3):
                    counts, _ = np.histogram(pixels[:, channel], bins=bins, range=(0, 255))
                    out[i, channel] = counts / len(pixels)
            return out.reshape(len(images), 3 * bins)
        """,
    },
    "test_paired_comparison": {
        "unpaired: difference of the means, both spreads": {"kind": "named-mistake", "code": """
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            k = len(a)
            mean = float(b.mean() - a.mean())
            sd = float(np.sqrt(a.var(ddof=1) + b.var(ddof=1)))
            half = float(stats.t.ppf((1 + confidence) / 2, k - 1)) * sd / np.sqrt(k)
            return {"mean_difference": mean, "sd": sd, "ci_low": mean - half,
                    "ci_high": mean + half}
        """},
        "normal quantile 1.96 instead of t": """
            d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
            mean, sd = float(d.mean()), float(d.std(ddof=1))
            half = 1.96 * sd / np.sqrt(len(d))
            return {"mean_difference": mean, "sd": sd, "ci_low": mean - half,
                    "ci_high": mean + half}
        """,
        "population sd (ddof=0)": """
            d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
            k = len(d)
            mean, sd = float(d.mean()), float(d.std())
            half = float(stats.t.ppf((1 + confidence) / 2, k - 1)) * sd / np.sqrt(k)
            return {"mean_difference": mean, "sd": sd, "ci_low": mean - half,
                    "ci_high": mean + half}
        """,
        "always a 95 % interval (ignores `confidence`)": {"kind": "argument-ignored", "code": """
            d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
            k = len(d)
            mean, sd = float(d.mean()), float(d.std(ddof=1))
            half = float(stats.t.ppf(0.975, k - 1)) * sd / np.sqrt(k)
            return {"mean_difference": mean, "sd": sd, "ci_low": mean - half,
                    "ci_high": mean + half}
        """},
    },
    "test_cancer_label": {
        "akiec counted as benign (PAD's view of keratoses)": {"kind": "named-mistake", "code": """
            cancer = {"mel": 1, "bcc": 1, "akiec": 0, "nv": 0, "bkl": 0, "df": 0, "vasc": 0,
                      "MEL": 1, "BCC": 1, "SCC": 1, "ACK": 0, "NEV": 0, "SEK": 0}
            labels = pd.Series(list(labels), dtype=object).astype(str)
            unknown = sorted(set(labels) - set(cancer))
            if unknown:
                raise ValueError(f"unknown labels {unknown}")
            return labels.map(cancer).to_numpy(dtype=int)
        """},
        "unknown labels silently benign": {"kind": "named-mistake", "code": """
            cancer = {"mel", "bcc", "akiec", "MEL", "BCC", "SCC"}
            return np.array([int(str(label) in cancer) for label in labels])
        """},
        "HAM's list upper-cased (forgets SCC)": """
            cancer = {"MEL", "BCC", "AKIEC"}
            return np.array([int(str(label).upper() in cancer) for label in labels])
        """,
    },
    "test_clinical_features": {
        "keeps biopsed (the label leak)": {"kind": "named-mistake", "code": """
            out = pd.DataFrame(index=df.index)
            for column in NUMERIC:
                out[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
            for column in SYMPTOMS:
                out[column] = df[column].astype("boolean").astype("Float64").astype(float)
            region = df["region"].astype("string")
            for name in REGIONS:
                out[f"region_{name}"] = (region == name).fillna(False).astype(float)
            out["biopsed"] = df["biopsed"].astype(float)
            return out
        """},
        "unknown symptoms as 'no' (fillna(False))": {"kind": "named-mistake", "code": """
            out = pd.DataFrame(index=df.index)
            for column in NUMERIC:
                out[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
            for column in SYMPTOMS:
                out[column] = df[column].fillna(False).astype(float)
            region = df["region"].astype("string")
            for name in REGIONS:
                out[f"region_{name}"] = (region == name).fillna(False).astype(float)
            return out
        """},
        "pd.get_dummies for the regions present": """
            out = pd.DataFrame(index=df.index)
            for column in NUMERIC:
                out[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
            for column in SYMPTOMS:
                out[column] = df[column].astype("boolean").astype("Float64").astype(float)
            dummies = pd.get_dummies(df["region"], prefix="region").astype(float)
            return pd.concat([out, dummies], axis=1)
        """,
        "missing numbers as 0": """
            out = pd.DataFrame(index=df.index)
            for column in NUMERIC:
                out[column] = pd.to_numeric(df[column], errors="coerce").fillna(0).astype(float)
            for column in SYMPTOMS:
                out[column] = df[column].astype("boolean").astype("Float64").astype(float)
            region = df["region"].astype("string")
            for name in REGIONS:
                out[f"region_{name}"] = (region == name).fillna(False).astype(float)
            return out
        """,
    },
    "test_late_fusion": {
        "no questionnaire not handled (NaN comes out)": {"kind": "named-mistake", "code": """
            p_image = np.asarray(p_image, dtype=float)
            p_clinical = np.asarray(p_clinical, dtype=float)
            return (1 - weight) * p_image + weight * p_clinical
        """},
        "weight given to the image model": """
            p_image = np.asarray(p_image, dtype=float)
            p_clinical = np.asarray(p_clinical, dtype=float)
            answered = ~np.isnan(p_clinical).any(axis=1)
            fused = p_image.copy()
            fused[answered] = weight * p_image[answered] + (1 - weight) * p_clinical[answered]
            return fused
        """,
        "ignores `weight` (always 0.5)": {"kind": "argument-ignored", "code": """
            p_image = np.asarray(p_image, dtype=float)
            p_clinical = np.asarray(p_clinical, dtype=float)
            answered = ~np.isnan(p_clinical).any(axis=1)
            fused = p_image.copy()
            fused[answered] = 0.5 * p_image[answered] + 0.5 * p_clinical[answered]
            return fused
        """},
        "missing answers as a uniform guess": """
            p_image = np.asarray(p_image, dtype=float)
            p_clinical = np.asarray(p_clinical, dtype=float)
            filled = np.where(np.isnan(p_clinical), 1 / p_clinical.shape[1], p_clinical)
            return (1 - weight) * p_image + weight * filled
        """,
    },
}
