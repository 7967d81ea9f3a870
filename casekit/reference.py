"""casekit's reference training runs: what later notebooks use when a student's run is missing.

Notebook 02 saves its binary run to ``runs_root()/"binary"`` and notebook 03 its six-class run
to ``runs_root()/"sixclass"``. Notebook 04 (evaluation) calls :func:`find_or_train_run`, which
returns the student's run when it is there and valid, and otherwise trains (once) this module's
reference run with casekit's own implementation of every step: grouped split, decode-once
cache, class weights, a frozen pretrained backbone with a new head (weights chosen by
:func:`casekit.weights.resolve_weights`: the Keras ImageNet weights of the backbone when they
can be had, else EfficientNet-Lite0's bundled ImageNet weights), top-block fine-tuning with
BatchNormalization frozen, predictions saved as a run folder (see :mod:`casekit.runs`).

While nbgrader grades (``NBGRADER_EXECUTION`` set) the reference run shrinks to a tiny
from-scratch CNN on a few synthetic images, so a notebook still executes in seconds.

Example:
    >>> from casekit.reference import find_or_train_run   # doctest: +SKIP
    >>> run_dir = find_or_train_run("binary")   # may train for minutes   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casekit.alarms import degenerate_model_warning
from casekit.datasets.registry import get_spec
from casekit.io import atomic_path
from casekit.notebook import is_grading
from casekit.paths import runs_root
from casekit.weights import resolve_weights

DATASET = "pad_ufes_20"
RUN_FOLDERS = {"binary": "binary", "multiclass": "sixclass"}
MODEL_FILE = "model.keras"


def reference_folder(task: str) -> Path:
    """Where the reference run for ``task`` lives (a separate tiny one while grading)."""
    suffix = "_grading" if is_grading() else ""
    return runs_root() / f"reference_{RUN_FOLDERS[task]}{suffix}"


def _task_setup(task: str) -> tuple[str, list[str], int]:
    if task not in RUN_FOLDERS:
        raise ValueError(f"task must be 'binary' or 'multiclass', got {task!r}")
    spec = get_spec(DATASET)
    if task == "binary":
        return "target_binary", ["not cancer", "cancer"], 2
    return "label_idx", list(spec.labels), len(spec.labels)


def _compile(model: Any, task: str, learning_rate: float) -> None:
    import keras

    binary = task == "binary"
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=[keras.metrics.AUC(name="auc")] if binary else ["accuracy"],
    )


def _predictions(df: pd.DataFrame, target: str, proba: np.ndarray,
                 class_names: list[str]) -> pd.DataFrame:
    frame = df[["image_id", "group_id", "split"]].astype(str).copy()
    frame["y_true"] = df[target].astype(int).to_numpy()
    if proba.ndim == 1:
        frame["score"] = proba
    else:
        for i, name in enumerate(class_names):
            frame[f"score_{name}"] = proba[:, i]
    for column in ("sex", "age", "site", "skin_type"):
        frame[column] = df[column].to_numpy()
    return frame


def train_reference(
    task: str,
    run_dir: str | Path | None = None,
    *,
    data: str = "synthetic",
    data_root: str | Path | None = None,
    image_size: int = 64,
    epochs_head: int = 3,
    epochs_finetune: int = 2,
    batch_size: int = 32,
    backbone: str = "EfficientNetB0",
    weights: str | None = "auto",
    learning_rates: tuple[float, float] = (1e-3, 1e-4),
    n_images: int | None = None,
    seed: int = 0,
) -> Path:
    """Train casekit's reference model for ``task`` on PAD-UFES-20 and save a run folder.

    Returns the run folder (``run.json``, ``predictions.csv``, ``history.json``,
    ``model.keras``). ``task`` is ``"binary"`` (cancer vs not) or ``"multiclass"`` (six).
    """
    import keras

    from casekit import finetune, imbalance, models, training
    from casekit.pipeline import prepare
    from casekit.runs import describe_augmentation, merge_histories, save_run

    target, class_names, num_classes = _task_setup(task)
    grading = is_grading()
    if grading:  # seconds, not minutes: a tiny from-scratch CNN on a few synthetic images
        data, data_root, n_images = "synthetic", None, 120
        image_size, epochs_head, epochs_finetune = 32, 1, 0
    run_dir = Path(run_dir) if run_dir else reference_folder(task)
    prepared = prepare(DATASET, data_root, real=data == "real", size=image_size,
                       n_images=n_images, seed=seed, progress=not grading)
    df = prepared.df.reset_index(drop=True)
    images = prepared.cache.take(df["image_id"].tolist())
    labels = df[target].to_numpy()
    train = np.flatnonzero(df["split"].to_numpy() == "train")
    val = np.flatnonzero(df["split"].to_numpy() == "val")

    training.set_seeds(seed)
    if grading:  # no backbone at all: a tiny from-scratch CNN grades in seconds
        model = models.build_baseline_cnn(num_classes, input_size=image_size, filters=(8, 16))
        model_name, choice = "baseline_cnn", resolve_weights(None, backbone="baseline_cnn")
    else:
        choice = resolve_weights(weights, backbone=backbone)
        training.enable_mixed_precision_if_useful()
        model = models.build_model(choice.backbone, num_classes, input_size=image_size,
                                   weights=choice.weights)
        finetune.freeze_backbone(model)
        model_name = choice.backbone
        print(f"Reference model: {model_name}, {choice.reason}.")
    _compile(model, task, learning_rates[0])
    weights_by_class = imbalance.class_weights(labels[train])
    fit = dict(val=(images[val], labels[val]), batch_size=batch_size, seed=seed,
               class_weight=weights_by_class, verbose=0 if grading else 2)
    history = training.fit(model, (images[train], labels[train]), epochs=epochs_head,
                           **fit).history
    if epochs_finetune:
        finetune.unfreeze_top(model, from_block="block6")
        finetune.recompile(model, learning_rates[1])
        more = training.fit(model, (images[train], labels[train]), epochs=epochs_finetune,
                            **fit).history
        history = merge_histories(history, more)

    proba = training.predict_proba(model, images, batch_size=batch_size)
    alarm = degenerate_model_warning(proba[val], class_names=class_names)
    if alarm and not grading:
        print(f"WARNING: {alarm}")
    info = {
        "dataset": DATASET, "synthetic": data != "real", "task": task,
        "class_names": class_names, "model": model_name, "image_size": image_size,
        "weights": str(choice.weights), "weights_reason": choice.reason,
        "learning_rates": {"head": learning_rates[0], "fine_tune": learning_rates[1]},
        "batch_size": batch_size, "optimizer": "Adam",
        "fine_tune": ({"from_block": "block6", "batch_norm": "frozen"} if epochs_finetune
                      else None),
        "loss": "binary_crossentropy" if task == "binary" else "sparse_categorical_crossentropy",
        "class_weight": {class_names[int(k)]: round(float(v), 4)
                         for k, v in weights_by_class.items()},
        "augmentation": describe_augmentation(models.augmentation(seed=seed)),
        "precision": keras.mixed_precision.global_policy().name,
        "epochs": {"head": epochs_head, "fine_tune": epochs_finetune},
        "fine_tune_epoch": epochs_head, "seeds": {"split": seed, "training": seed},
        "split": {"protocol": "grouped stratified split", "grouped_by": "patient_id",
                  "val": 0.15, "test": 0.15},
        "notes": "casekit reference run" + (" (grading mode: tiny CNN)" if grading else ""),
    }
    # Written whole or not at all: parallel graders may train the same reference at once.
    with atomic_path(run_dir) as tmp:
        save_run(tmp, _predictions(df, target, proba, class_names), info, history=history)
        model.save(tmp / MODEL_FILE)
    return run_dir


def find_or_train_run(task: str, **train_kwargs: Any) -> Path:
    """The student's run folder for ``task`` if it loads, else the reference run, which is
    trained (minutes on a CPU) the first time it is needed.

    ``train_kwargs`` go to :func:`train_reference` when the reference must be trained.
    """
    from casekit.runs import load_run

    _task_setup(task)
    for folder in (runs_root() / RUN_FOLDERS[task], reference_folder(task)):
        if (folder / "run.json").exists():
            try:
                load_run(folder)
            except (ValueError, OSError) as error:
                print(f"Ignoring the run in {folder}: {error}")
                continue
            print(f"Using the run in {folder}")
            return folder
    print(f"No saved {task} run found: training casekit's reference run once.")
    return train_reference(task, **train_kwargs)
