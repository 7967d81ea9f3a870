"""Plausible wrong answers to 03_sixclass's autograded exercises (see casekit_course/mutants.py).

Each source replaces the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of
the exercise's solution cell (written unindented; it gets the markers' indentation).
"""

MUTANTS = {
    "test_encode_labels": {
        "classes in alphabetical order, not class_names": {"kind": "named-mistake", "code": """
            position = {name: i for i, name in enumerate(sorted(class_names))}
            indices = np.array([position[label] for label in labels], dtype=np.int64)
            one_hot = np.eye(len(class_names), dtype=np.float32)[indices]
            return indices, one_hot
        """},
        "integer one-hot rows": {"kind": "named-mistake", "code": """
            position = {name: i for i, name in enumerate(class_names)}
            indices = np.array([position[label] for label in labels], dtype=np.int64)
            return indices, np.eye(len(class_names), dtype=int)[indices]
        """},
        "np.searchsorted: class_names taken as sorted": {"kind": "named-mistake", "code": """
            indices = np.searchsorted(np.asarray(class_names), np.asarray(labels))
            indices = indices.astype(np.int64)
            one_hot = np.eye(len(class_names), dtype=np.float32)[indices]
            return indices, one_hot
        """},
        "unknown labels silently become class 0": {"kind": "named-mistake", "code": """
            position = {name: i for i, name in enumerate(class_names)}
            indices = np.array([position.get(label, 0) for label in labels], dtype=np.int64)
            one_hot = np.eye(len(class_names), dtype=np.float32)[indices]
            return indices, one_hot
        """},
    },
    "test_softmax_head": {
        "sigmoid instead of softmax": {"kind": "named-mistake", "code": """
            x = layers.GlobalAveragePooling2D(name="avg_pool")(features)
            x = layers.Dropout(dropout, name="head_dropout")(x)
            return layers.Dense(num_classes, activation="sigmoid", dtype="float32",
                                name="predictions")(x)
        """},
        "six units whatever num_classes": {"kind": "argument-ignored", "code": """
            x = layers.GlobalAveragePooling2D(name="avg_pool")(features)
            x = layers.Dropout(dropout, name="head_dropout")(x)
            return layers.Dense(6, activation="softmax", dtype="float32", name="predictions")(x)
        """},
        "ignores `dropout` (always 0.2)": {"kind": "argument-ignored", "code": """
            x = layers.GlobalAveragePooling2D(name="avg_pool")(features)
            x = layers.Dropout(0.2, name="head_dropout")(x)
            return layers.Dense(num_classes, activation="softmax", dtype="float32",
                                name="predictions")(x)
        """},
        "float16 probabilities under mixed precision": {"kind": "named-mistake", "code": """
            x = layers.GlobalAveragePooling2D(name="avg_pool")(features)
            x = layers.Dropout(dropout, name="head_dropout")(x)
            return layers.Dense(num_classes, activation="softmax", name="predictions")(x)
        """},
        "dropout also at prediction time": """
            x = layers.GlobalAveragePooling2D(name="avg_pool")(features)
            x = layers.Dropout(dropout, name="head_dropout")(x, training=True)
            return layers.Dense(num_classes, activation="softmax", dtype="float32",
                                name="predictions")(x)
        """,
        "calls casekit's own head (models._classifier)": {"kind": "casekit-call", "code": """
            return ck.models._classifier(features, num_classes, dropout)
        """},
    },
    "test_focal_loss": {
        "label-blind: p_t = the largest probability": {"kind": "named-mistake", "code": """
            y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0 - 1e-7)
            p_t = ops.max(y_pred, axis=-1)
            return -ops.power(1.0 - p_t, gamma) * ops.log(p_t)
        """},
        "ignores `gamma` (always 2)": {"kind": "argument-ignored", "code": """
            y_true = ops.cast(y_true, "float32")
            y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0 - 1e-7)
            p_true = ops.sum(y_true * y_pred, axis=-1)
            return -ops.power(1.0 - p_true, 2.0) * ops.log(p_true)
        """},
        "no clipping: log(0)": {"kind": "named-mistake", "code": """
            y_true = ops.cast(y_true, "float32")
            p_true = ops.sum(y_true * ops.cast(y_pred, "float32"), axis=-1)
            return -ops.power(1.0 - p_true, gamma) * ops.log(p_true)
        """},
        "p_t ** gamma instead of (1 - p_t) ** gamma": {"kind": "named-mistake", "code": """
            y_true = ops.cast(y_true, "float32")
            y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0 - 1e-7)
            p_true = ops.sum(y_true * y_pred, axis=-1)
            return -ops.power(p_true, gamma) * ops.log(p_true)
        """},
        "mean over the batch, not one value per image": {"kind": "named-mistake", "code": """
            y_true = ops.cast(y_true, "float32")
            y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0 - 1e-7)
            p_true = ops.sum(y_true * y_pred, axis=-1)
            return ops.mean(-ops.power(1.0 - p_true, gamma) * ops.log(p_true))
        """},
        "NumPy instead of keras.ops (breaks in fit)": {"kind": "named-mistake", "code": """
            y_true = np.asarray(y_true, dtype="float32")
            y_pred = np.clip(np.asarray(y_pred, dtype="float32"), 1e-7, 1.0 - 1e-7)
            p_true = np.sum(y_true * y_pred, axis=-1)
            return -np.power(1.0 - p_true, gamma) * np.log(p_true)
        """},
        'no (1 - p_t) ** gamma factor: plain cross-entropy': {"kind": "named-mistake", "code": """
            y_true = ops.cast(y_true, "float32")
            y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0 - 1e-7)
            return -ops.log(ops.sum(y_true * y_pred, axis=-1))
        """},
        'calls casekit.losses.CategoricalFocalLoss': {"kind": "casekit-call", "code": """
            return ck.losses.CategoricalFocalLoss(gamma=gamma).call(y_true, y_pred)
        """},
    },
    "test_balanced_accuracy": {
        "plain accuracy": {"kind": "named-mistake", "code": """
            counts = np.asarray(cm, dtype=float)
            return float(np.trace(counts) / counts.sum())
        """},
        "divides by the column sums (precision)": {"kind": "named-mistake", "code": """
            counts = np.asarray(cm, dtype=float)
            predicted = counts.sum(axis=0)
            return float(np.mean(np.diag(counts) / np.maximum(predicted, 1)))
        """},
        "classes without true images count as recall 0": {"kind": "named-mistake", "code": """
            counts = np.asarray(cm, dtype=float)
            support = counts.sum(axis=1)
            return float(np.mean(np.diag(counts) / np.maximum(support, 1)))
        """},
        "calls casekit's multiclass_rates": {"kind": "casekit-call", "code": """
            from casekit.metrics.confusion import multiclass_rates

            rates = multiclass_rates(np.asarray(cm, dtype=float)[None])
            return float(rates["balanced_accuracy"][0])
        """},
    },
    "test_most_confused_pairs": {
        "ignores `top` (always 3 rows)": {"kind": "argument-ignored", "code": """
            counts = np.asarray(cm, dtype=float)
            rows = counts.sum(axis=1)
            records = [
                {"true": class_names[i], "predicted": class_names[j], "count": int(counts[i, j]),
                 "share": counts[i, j] / rows[i]}
                for i in range(len(class_names)) for j in range(len(class_names))
                if i != j and counts[i, j] > 0
            ]
            table = pd.DataFrame(records, columns=["true", "predicted", "count", "share"])
            table = table.sort_values("share", ascending=False, kind="stable")
            return table.head(3).reset_index(drop=True)
        """},
        "a list of (true, predicted, count, share), not a table": {"kind": "named-mistake",
                                                                    "code": """
            counts = np.asarray(cm, dtype=float)
            rows = counts.sum(axis=1)
            pairs = [(class_names[i], class_names[j], int(counts[i, j]), counts[i, j] / rows[i])
                     for i in range(len(class_names)) for j in range(len(class_names))
                     if i != j and counts[i, j] > 0]
            return sorted(pairs, key=lambda pair: -pair[3])[:top]
        """},
        "sorted by count, not share": {"kind": "named-mistake", "code": """
            counts = np.asarray(cm, dtype=float)
            rows = counts.sum(axis=1)
            records = [
                {"true": class_names[i], "predicted": class_names[j], "count": int(counts[i, j]),
                 "share": counts[i, j] / rows[i]}
                for i in range(len(class_names)) for j in range(len(class_names))
                if i != j and counts[i, j] > 0
            ]
            table = pd.DataFrame(records, columns=["true", "predicted", "count", "share"])
            table = table.sort_values("count", ascending=False, kind="stable")
            return table.head(top).reset_index(drop=True)
        """},
        "includes the diagonal": {"kind": "named-mistake", "code": """
            counts = np.asarray(cm, dtype=float)
            rows = counts.sum(axis=1)
            records = [
                {"true": class_names[i], "predicted": class_names[j], "count": int(counts[i, j]),
                 "share": counts[i, j] / rows[i]}
                for i in range(len(class_names)) for j in range(len(class_names))
                if counts[i, j] > 0
            ]
            table = pd.DataFrame(records, columns=["true", "predicted", "count", "share"])
            table = table.sort_values("share", ascending=False, kind="stable")
            return table.head(top).reset_index(drop=True)
        """},
        "share of the predicted column": {"kind": "named-mistake", "code": """
            counts = np.asarray(cm, dtype=float)
            columns = counts.sum(axis=0)
            records = [
                {"true": class_names[i], "predicted": class_names[j], "count": int(counts[i, j]),
                 "share": counts[i, j] / columns[j]}
                for i in range(len(class_names)) for j in range(len(class_names))
                if i != j and counts[i, j] > 0
            ]
            table = pd.DataFrame(records, columns=["true", "predicted", "count", "share"])
            table = table.sort_values("share", ascending=False, kind="stable")
            return table.head(top).reset_index(drop=True)
        """},
        "keeps cells without images": {"kind": "named-mistake", "code": """
            counts = np.asarray(cm, dtype=float)
            rows = counts.sum(axis=1)
            records = [
                {"true": class_names[i], "predicted": class_names[j], "count": int(counts[i, j]),
                 "share": counts[i, j] / max(rows[i], 1)}
                for i in range(len(class_names)) for j in range(len(class_names)) if i != j
            ]
            table = pd.DataFrame(records, columns=["true", "predicted", "count", "share"])
            table = table.sort_values("share", ascending=False, kind="stable")
            return table.head(top).reset_index(drop=True)
        """},
    },
}
