"""Plausible wrong answers to 01_eda's autograded exercises (see casekit_course/mutants.py).

Each source replaces the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of
the exercise's solution cell (written unindented; it gets the markers' indentation).
tests/test_mutants.py autogrades them with nbgrader and checks that every one loses points.
"""

MUTANTS = {
    "test_class_shares": {
        "counts, not shares": {"kind": "named-mistake", "code": """
            return df[column].value_counts()
        """},
        "ignores the `column` argument": {"kind": "argument-ignored", "code": """
            return df["label"].value_counts(normalize=True)
        """},
        "a dict, not a Series": """
            return df[column].value_counts(normalize=True).to_dict()
        """,
        "alphabetical, not largest first": {"kind": "named-mistake", "code": """
            return df[column].value_counts(normalize=True).sort_index()
        """},
        "divides by the number of classes": """
            counts = df[column].value_counts()
            return counts / len(counts)
        """,
    },
    "test_median_age_by_label": {
        "missing ages counted as 0": {"kind": "named-mistake", "code": """
            return df.assign(age=df["age"].fillna(0)).groupby("label")["age"].median()
        """},
        "mean, not median": {"kind": "named-mistake", "code": """
            return df.groupby("label")["age"].mean()
        """},
        "drops rows with missing age silently": {"kind": "named-mistake", "code": """
            return df.dropna(subset=["age"]).groupby("label")["age"].median()
        """},
        "sorted by age, not by label": {"kind": "named-mistake", "code": """
            return df.groupby("label")["age"].median().sort_values()
        """},
    },
    "test_leak_crosstab": {
        "rows of the label, shares within columns": {"kind": "named-mistake", "code": """
            return pd.crosstab(df[column], df["label"], normalize="columns")
        """},
        "ignores the `column` argument": {"kind": "argument-ignored", "code": """
            return pd.crosstab(df["dx_type"], df["label"], normalize="index")
        """},
        "shares of all images": 'return pd.crosstab(df[column], df["label"], normalize="all")',
    },
    "test_images_per_group": {
        "not sorted": {"kind": "named-mistake", "code": """
            return df.groupby("group_id").size()
        """},
        "distinct labels, not images": """
            return df.groupby("group_id")["label"].nunique().sort_values(ascending=False)
        """,
        "fewest images first": {"kind": "named-mistake", "code": """
            return df.groupby("group_id").size().sort_values()
        """},
    },
    "test_share_in_repeated_groups": {
        "share of groups, not of images": {"kind": "named-mistake", "code": """
            return float((df.groupby("group_id").size() >= 2).mean())
        """},
        "count, not share": """
            sizes = df.groupby("group_id")["group_id"].transform("size")
            return int((sizes >= 2).sum())
        """,
        "duplicated() misses each group's first image": {"kind": "named-mistake", "code": """
            return float(df["group_id"].duplicated().mean())
        """},
    },
    "test_skin_type_counts": {
        "drops missing skin types silently": {"kind": "named-mistake", "code": """
            known = df["skin_type"].dropna().astype(int)
            named = known.map(dict(zip(range(1, 7), FITZPATRICK)))
            return named.value_counts().reindex(FITZPATRICK, fill_value=0)
        """},
        "leaves out types without images": {"kind": "named-mistake", "code": """
            known = df["skin_type"].dropna().astype(int)
            named = known.map(dict(zip(range(1, 7), FITZPATRICK)))
            unknown = pd.Series({"unknown": int(df["skin_type"].isna().sum())})
            return pd.concat([named.value_counts(), unknown])
        """},
        "types numbered from 0": """
            known = df["skin_type"].dropna().astype(int)
            counts = known.map(dict(zip(range(0, 6), FITZPATRICK))).value_counts()
            counts = counts.reindex(FITZPATRICK, fill_value=0)
            unknown = pd.Series({"unknown": int(df["skin_type"].isna().sum())})
            return pd.concat([counts, unknown]).astype(int)
        """,
    },
    "test_share_missing_questionnaire": {
        "any column missing, not all": {"kind": "named-mistake", "code": """
            return float(df[list(columns)].isna().any(axis=1).mean())
        """},
        "every column of the table, not the questionnaire's": """
            return float(df.isna().all(axis=1).mean())
        """,
        "always QUESTIONNAIRE (ignores `columns`)": {"kind": "argument-ignored", "code": """
            return float(df[QUESTIONNAIRE].isna().all(axis=1).mean())
        """},
        "count, not share": "return int(df[list(columns)].isna().all(axis=1).sum())",
        "share of missing cells": "return float(df[list(columns)].isna().mean().mean())",
    },
    "test_dataset_summary": {
        "missing ages counted as 0": {"kind": "named-mistake", "code": """
            n_images, n_groups = len(df), df["group_id"].nunique()
            return pd.Series({
                "n_images": n_images, "n_groups": n_groups,
                "images_per_group": n_images / n_groups,
                "share_cancer": float(df["target_binary"].mean()),
                "median_age": float(df["age"].fillna(0).median()),
                "share_missing_age": float(df["age"].isna().mean()),
            })
        """},
        "cancer share of groups, not images": {"kind": "named-mistake", "code": """
            n_images, n_groups = len(df), df["group_id"].nunique()
            return pd.Series({
                "n_images": n_images, "n_groups": n_groups,
                "images_per_group": n_images / n_groups,
                "share_cancer": float(df.groupby("group_id")["target_binary"].max().mean()),
                "median_age": float(df["age"].median()),
                "share_missing_age": float(df["age"].isna().mean()),
            })
        """},
        "groups per image": """
            n_images, n_groups = len(df), df["group_id"].nunique()
            return pd.Series({
                "n_images": n_images, "n_groups": n_groups,
                "images_per_group": n_groups / n_images,
                "share_cancer": float(df["target_binary"].mean()),
                "median_age": float(df["age"].median()),
                "share_missing_age": float(df["age"].isna().mean()),
            })
        """,
        "a dict, not a Series": """
            n_images, n_groups = len(df), df["group_id"].nunique()
            return {
                "n_images": n_images, "n_groups": n_groups,
                "images_per_group": n_images / n_groups,
                "share_cancer": float(df["target_binary"].mean()),
                "median_age": float(df["age"].median()),
                "share_missing_age": float(df["age"].isna().mean()),
            }
        """,
        "missing-age share of the known ages": """
            n_images, n_groups = len(df), df["group_id"].nunique()
            return pd.Series({
                "n_images": n_images, "n_groups": n_groups,
                "images_per_group": n_images / n_groups,
                "share_cancer": float(df["target_binary"].mean()),
                "median_age": float(df["age"].median()),
                "share_missing_age": float(df["age"].isna().sum() / df["age"].count()),
            })
        """,
    },
}
