"""Made-up run folders for the run-format, evaluation and report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

PAD_CLASSES = ["ACK", "BCC", "MEL", "NEV", "SCC", "SEK"]
HISTORY = {"loss": [0.9, 0.7, 0.6], "val_loss": [1.0, 0.8, 0.75], "accuracy": [0.5, 0.6, 0.7],
           "val_accuracy": [0.5, 0.55, 0.6]}


def make_predictions(task: str, n_patients: int = 150, seed: int = 0) -> pd.DataFrame:
    """Predictions of a made-up model: 1–3 images per patient, each patient in one split."""
    rng = np.random.default_rng(seed)
    k = 2 if task == "binary" else len(PAD_CLASSES)
    rows = []
    for patient in range(n_patients):
        split = ["train", "val", "test"][patient % 3]
        sex = ["male", "female", None][(patient // 3) % 3]
        for image in range(1 + patient % 3):
            rows.append({
                "image_id": f"PAT_{patient}_{image}", "group_id": f"PAT_{patient}",
                "split": split, "y_true": int(rng.integers(0, k)), "sex": sex,
                "age": float(rng.normal(60, 15)),
                "site": ["face", "back", "ear", "lip"][(image + patient) % 4 if
                                                       patient % 7 == 0 else image % 2],
                "skin_type": [1, 2, 3, 5, None][patient % 5],
            })
    frame = pd.DataFrame(rows)
    frame["skin_type"] = frame["skin_type"].astype("Int64")
    y = frame["y_true"].to_numpy()
    if task == "binary":
        frame.insert(4, "score", np.clip(0.4 * y + 0.6 * rng.random(len(y)), 0, 1))
    else:
        proba = rng.dirichlet(np.ones(k), len(y))
        proba[np.arange(len(y)), y] += 0.5
        proba /= proba.sum(axis=1, keepdims=True)
        for j, name in enumerate(PAD_CLASSES):
            frame.insert(4 + j, f"score_{name}", proba[:, j])
    return frame


def make_info(task: str, synthetic: bool = True, **extra) -> dict:
    names = ["not cancer", "cancer"] if task == "binary" else PAD_CLASSES
    return {"dataset": "pad_ufes_20", "synthetic": synthetic, "task": task,
            "class_names": names, "split": {"protocol": "StratifiedGroupKFold", "fold": 0},
            "seeds": {"split": 42}, "model": "EfficientNetB0", "image_size": 224,
            "epochs": {"head": 2, "fine_tune": 1}, "fine_tune_epoch": 2, **extra}
