"""Plausible wrong answers to 02_binary's autograded exercises (see casekit_course/mutants.py).

Each source replaces the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of
the exercise's solution cell (written unindented; it gets the markers' indentation).
"""

MUTANTS = {
    "test_split_by_patient": {
        "image-level split (ignores patients)": {"kind": "named-mistake", "code": """
            out = df.copy()
            draw = np.random.default_rng(seed).random(len(out))
            cut = np.where(draw < test + val, "val", "train")
            out["split"] = np.where(draw < test, "test", cut)
            return out
        """},
        "grouped by lesion, not patient": {"kind": "named-mistake", "code": """
            rng = np.random.default_rng(seed)
            diagnosis = df.groupby("lesion_id", sort=True)["label"].first()
            split_of = {}
            for _, lesions in diagnosis.groupby(diagnosis):
                ids = rng.permutation(lesions.index.to_numpy())
                n_test, n_val = round(len(ids) * test), round(len(ids) * val)
                split_of.update(dict.fromkeys(ids[:n_test], "test"))
                split_of.update(dict.fromkeys(ids[n_test:n_test + n_val], "val"))
                split_of.update(dict.fromkeys(ids[n_test + n_val:], "train"))
            return df.assign(split=df["lesion_id"].map(split_of))
        """},
        "GroupShuffleSplit twice (not stratified)": """
            from sklearn.model_selection import GroupShuffleSplit

            out = df.copy()
            outer = GroupShuffleSplit(n_splits=1, test_size=test, random_state=seed)
            rest, test_rows = next(outer.split(out, groups=out["group_id"]))
            inner = GroupShuffleSplit(n_splits=1, test_size=val / (1 - test), random_state=seed)
            _, val_rows = next(inner.split(out.iloc[rest], groups=out["group_id"].iloc[rest]))
            out["split"] = "train"
            out.iloc[rest[val_rows], out.columns.get_loc("split")] = "val"
            out.iloc[test_rows, out.columns.get_loc("split")] = "test"
            return out
        """,
        "random split of patients (not stratified)": """
            out = df.copy()
            patients = out["group_id"].unique()
            draw = dict(zip(patients, np.random.default_rng(seed).random(len(patients))))
            u = out["group_id"].map(draw)
            out["split"] = np.where(u < test, "test", np.where(u < test + val, "val", "train"))
            return out
        """,
        'stratified by cancer (target_binary), not diagnosis': {"kind": "named-mistake", "code": """
            rng = np.random.default_rng(seed)
            cancer = df.groupby("group_id", sort=True)["target_binary"].first()
            split_of = {}
            for _, patients in cancer.groupby(cancer):
                ids = rng.permutation(patients.index.to_numpy())
                n_test, n_val = round(len(ids) * test), round(len(ids) * val)
                split_of.update(dict.fromkeys(ids[:n_test], "test"))
                split_of.update(dict.fromkeys(ids[n_test:n_test + n_val], "val"))
                split_of.update(dict.fromkeys(ids[n_test + n_val:], "train"))
            return df.assign(split=df["group_id"].map(split_of))
        """},
        'ignores `val`, `test` and `seed`': {"kind": "argument-ignored", "code": """
            rng = np.random.default_rng(0)
            diagnosis = df.groupby("group_id", sort=True)["label"].first()
            split_of = {}
            for _, patients in diagnosis.groupby(diagnosis):
                ids = rng.permutation(patients.index.to_numpy())
                n_test, n_val = round(len(ids) * 0.15), round(len(ids) * 0.15)
                split_of.update(dict.fromkeys(ids[:n_test], "test"))
                split_of.update(dict.fromkeys(ids[n_test:n_test + n_val], "val"))
                split_of.update(dict.fromkeys(ids[n_test + n_val:], "train"))
            return df.assign(split=df["group_id"].map(split_of))
        """},
        "calls casekit.splits.grouped_split": {"kind": "casekit-call", "code": """
            from casekit.splits import grouped_split

            return grouped_split(df, val=val, test=test, seed=seed, label_col="label",
                                 group_col="group_id")
        """},
    },
    "test_patients_in_several_splits": {
        "only train against test": {"kind": "named-mistake", "code": """
            train = set(df.loc[df["split"] == "train", "group_id"])
            return sorted(train & set(df.loc[df["split"] == "test", "group_id"]))
        """},
        "patients with several images": {"kind": "named-mistake", "code": """
            images = df.groupby("group_id").size()
            return sorted(images[images > 1].index)
        """},
        "a pandas Index, not a list": """
            splits_per_patient = df.groupby("group_id")["split"].nunique()
            return splits_per_patient[splits_per_patient > 1].index.sort_values()
        """,
        "patients in all three splits": """
            splits_per_patient = df.groupby("group_id")["split"].nunique()
            return sorted(splits_per_patient[splits_per_patient > 2].index)
        """,
        "calls casekit.splits.check_no_group_leakage": {"kind": "casekit-call", "code": """
            from casekit.splits import GroupLeakageError, check_no_group_leakage

            try:
                check_no_group_leakage(df)
            except GroupLeakageError:
                splits_per_patient = df.groupby("group_id")["split"].nunique()
                return sorted(splits_per_patient[splits_per_patient > 1].index)
            return []
        """},
    },
    "test_train_class_weights": {
        "inverted weights (n_class / n)": {"kind": "named-mistake", "code": """
            labels = df.loc[df["split"] == "train", target]
            counts = labels.value_counts().sort_index()
            return {int(c): float(len(counts) * n / len(labels)) for c, n in counts.items()}
        """},
        "weights from every split, not training": {"kind": "named-mistake", "code": """
            labels = df[target]
            counts = labels.value_counts().sort_index()
            return {int(c): float(len(labels) / (len(counts) * n)) for c, n in counts.items()}
        """},
        "ignores the `target` argument": {"kind": "argument-ignored", "code": """
            labels = df.loc[df["split"] == "train", "target_binary"]
            counts = labels.value_counts().sort_index()
            return {int(c): float(len(labels) / (len(counts) * n)) for c, n in counts.items()}
        """},
        'calls casekit.imbalance.class_weights': {"kind": "casekit-call", "code": """
            return ck.imbalance.class_weights(df.loc[df["split"] == "train", target])
        """},
    },
    "test_build_head_model": {
        "divides by 255 before EfficientNet": {"kind": "named-mistake", "code": """
            backbone.trainable = False
            inputs = keras.Input(shape=backbone.input_shape[1:], name="image")
            x = inputs if augmentation is None else augmentation(inputs)
            x = backbone(x / 255.0, training=False)
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
            x = keras.layers.Dropout(dropout, name="head_dropout")(x)
            outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32",
                                         name="cancer_probability")(x)
            return keras.Model(inputs, outputs, name="cancer_classifier")
        """},
        "backbone not frozen": {"kind": "named-mistake", "code": """
            inputs = keras.Input(shape=backbone.input_shape[1:], name="image")
            x = inputs if augmentation is None else augmentation(inputs)
            x = backbone(x, training=False)
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
            x = keras.layers.Dropout(dropout, name="head_dropout")(x)
            outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32",
                                         name="cancer_probability")(x)
            return keras.Model(inputs, outputs, name="cancer_classifier")
        """},
        "backbone called in training mode": {"kind": "named-mistake", "code": """
            backbone.trainable = False
            inputs = keras.Input(shape=backbone.input_shape[1:], name="image")
            x = inputs if augmentation is None else augmentation(inputs)
            x = backbone(x)
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
            x = keras.layers.Dropout(dropout, name="head_dropout")(x)
            outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32",
                                         name="cancer_probability")(x)
            return keras.Model(inputs, outputs, name="cancer_classifier")
        """},
        "ignores `augmentation`": {"kind": "argument-ignored", "code": """
            backbone.trainable = False
            inputs = keras.Input(shape=backbone.input_shape[1:], name="image")
            x = backbone(inputs, training=False)
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
            x = keras.layers.Dropout(dropout, name="head_dropout")(x)
            outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32",
                                         name="cancer_probability")(x)
            return keras.Model(inputs, outputs, name="cancer_classifier")
        """},
        "float16 output under mixed precision": {"kind": "named-mistake", "code": """
            backbone.trainable = False
            inputs = keras.Input(shape=backbone.input_shape[1:], name="image")
            x = inputs if augmentation is None else augmentation(inputs)
            x = backbone(x, training=False)
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
            x = keras.layers.Dropout(dropout, name="head_dropout")(x)
            outputs = keras.layers.Dense(1, activation="sigmoid", name="cancer_probability")(x)
            return keras.Model(inputs, outputs, name="cancer_classifier")
        """},
        "head from casekit's own models._classifier": {"kind": "casekit-call", "code": """
            backbone.trainable = False
            inputs = keras.Input(shape=backbone.input_shape[1:], name="image")
            x = inputs if augmentation is None else augmentation(inputs)
            outputs = ck.models._classifier(backbone(x, training=False), 2, dropout)
            return keras.Model(inputs, outputs, name="cancer_classifier")
        """},
    },
    "test_unfreeze_top_blocks": {
        "unfreezes BatchNormalization too": {"kind": "named-mistake", "code": """
            backbone = ck.models.backbone_of(model)
            names = [layer.name for layer in backbone.layers]
            start = next(i for i, name in enumerate(names) if name.startswith(from_block))
            backbone.trainable = True
            for i, layer in enumerate(backbone.layers):
                layer.trainable = i >= start
            return model
        """},
        "unfreezes the whole backbone": {"kind": "named-mistake", "code": """
            ck.models.backbone_of(model).trainable = True
            return model
        """},
        "always from block6 (ignores `from_block`)": {"kind": "argument-ignored", "code": """
            backbone = ck.models.backbone_of(model)
            names = [layer.name for layer in backbone.layers]
            start = next(i for i, name in enumerate(names) if name.startswith("block6"))
            backbone.trainable = True
            for i, layer in enumerate(backbone.layers):
                batch_norm = isinstance(layer, keras.layers.BatchNormalization)
                layer.trainable = i >= start and not batch_norm
            return model
        """},
        'calls casekit.finetune.unfreeze_top': {"kind": "casekit-call", "code": """
            return ck.finetune.unfreeze_top(model, from_block=from_block)
        """},
    },
    "test_auroc_on_split": {
        "AUROC of hard 0/1 predictions": {"kind": "named-mistake", "code": """
            rows = predictions[predictions["split"] == split]
            return float(roc_auc_score(rows["y_true"], rows["score"] >= 0.5))
        """},
        "every split, not the one asked": """
            return float(roc_auc_score(predictions["y_true"], predictions["score"]))
        """,
        "always the validation split (ignores `split`)": {"kind": "argument-ignored", "code": """
            rows = predictions[predictions["split"] == "val"]
            return float(roc_auc_score(rows["y_true"], rows["score"]))
        """},
        'calls casekit.metrics.binary_report': {"kind": "casekit-call", "code": """
            rows = predictions[predictions["split"] == split]
            report = ck.metrics.binary_report(rows["y_true"], rows["score"], n_boot=1,
                                              progress=False)
            return float(report["metrics"]["auroc"]["value"])
        """},
    },
}
