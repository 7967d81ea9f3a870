"""Measure the course recipe on real PAD-UFES-20 photos: a measurement script, not a test.

    python -m casekit_course.bench.real ROOT [--size 128] [--epochs-head 6] [--epochs-finetune 3]

``ROOT`` holds PAD-UFES-20's ``metadata.csv`` and images (the whole dataset or a subset: it is
loaded with ``missing="drop"``). For the binary task (cancer vs not) and the six-class task it
runs patient-grouped, stratified 5-fold cross-validation (:func:`casekit.splits.grouped_kfold`)
of three models on the same folds:

* ``recipe``: the notebooks' recipe: EfficientNet-Lite0 with ImageNet weights, augmentation in
  the model, balanced class weights, the head on the frozen backbone, then blocks 6-7 and the
  top unfrozen with BatchNormalization frozen at a ten times lower learning rate;
* ``probe``: a logistic-regression linear probe (balanced class weights) on the same frozen
  Lite0 features (global average pooling, no augmentation);
* ``baseline``: the from-scratch baseline CNN, same epochs in total.

It prints, per task and model, the per-fold AUROC (binary) or balanced accuracy (six-class),
their mean ± sd, a 95 % CI from a patient bootstrap of the pooled out-of-fold predictions,
and the wall time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

TASKS = {"binary": "target_binary", "sixclass": "label_idx"}
MODELS = ("recipe", "probe", "baseline")
METRICS = {"binary": "auroc", "sixclass": "balanced_accuracy"}  # score_folds' columns


def pooled_ci(task: str, y: np.ndarray, proba: np.ndarray, groups: np.ndarray,
              *, n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of the pooled metric, resampling patients.

    The metric is AUROC (binary) or the balanced accuracy of the most probable class;
    resamples holding a single class are left out.
    """
    from casekit.metrics.bootstrap import bootstrap_stats, percentile_ci
    from casekit.metrics.confusion import confusion_counts, multiclass_rates
    from casekit.metrics.ranking import resampled_auroc

    def balanced_accuracy(weights: np.ndarray) -> np.ndarray:
        confusion = confusion_counts(weights, y, proba.argmax(axis=1), proba.shape[1])
        single_class = (confusion.sum(axis=2) > 0).sum(axis=1) < 2
        return np.where(single_class, np.nan, multiclass_rates(confusion)["balanced_accuracy"])

    statistic = ((lambda weights: resampled_auroc(y, proba, weights)) if task == "binary"
                 else balanced_accuracy)
    samples = bootstrap_stats({"metric": statistic}, len(y), groups, n_boot=n_boot, seed=seed)
    low, high, _ = percentile_ci(samples["metric"], min_valid=0.0)
    return round(float(low), 3), round(float(high), 3)


def _keras_fit(model, task: str, images, y, train, *, epochs: int, lr: float, seed: int,
               batch_size: int, class_weight: dict) -> None:
    import keras

    from casekit import training

    loss = "binary_crossentropy" if task == "binary" else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss)
    training.fit(model, (images, y), epochs=epochs, batch_size=batch_size, seed=seed,
                 class_weight=class_weight, train_indices=train, verbose=0)


def run_recipe(task, images, y, train, test, args) -> np.ndarray:
    """The notebooks' two-stage recipe on EfficientNet-Lite0; test-fold probabilities."""
    from casekit import finetune, imbalance, models, training

    n_classes = 2 if task == "binary" else 6
    weights = imbalance.class_weights(y[train])
    model = models.build_model("EfficientNetLite0", n_classes, input_size=args.size,
                               weights="imagenet", dropout=0.2)
    finetune.freeze_backbone(model)
    fit = dict(seed=args.seed, batch_size=args.batch_size, class_weight=weights)
    _keras_fit(model, task, images, y, train, epochs=args.epochs_head, lr=args.lr_head, **fit)
    if args.epochs_finetune:
        finetune.unfreeze_top(model, from_block=args.unfreeze_from)
        _keras_fit(model, task, images, y, train, epochs=args.epochs_finetune,
                   lr=args.lr_finetune, **fit)
    return training.predict_proba(model, images[test])


def run_probe(task, features, y, train, test, args) -> np.ndarray:
    """A balanced logistic-regression probe on frozen features; test-fold probabilities."""
    from casekit.crossval import logistic_model

    fit_predict = logistic_model(2 if task == "binary" else 6, C=args.probe_c)
    return fit_predict(features[train], y[train], features[test])


def run_baseline(task, images, y, train, test, args) -> np.ndarray:
    """The from-scratch baseline CNN for the same number of epochs; test-fold probabilities."""
    from casekit import imbalance, models, training

    model = models.build_baseline_cnn(2 if task == "binary" else 6, input_size=args.size)
    _keras_fit(model, task, images, y, train, epochs=args.epochs_head + args.epochs_finetune,
               lr=1e-3, seed=args.seed, batch_size=args.batch_size,
               class_weight=imbalance.class_weights(y[train]))
    return training.predict_proba(model, images[test])


def cross_validate(task: str, df: pd.DataFrame, images, runner: Callable, args) -> dict:
    """Out-of-fold predictions of ``runner`` on the folds of ``df``; the task's numbers."""
    from casekit.crossval import score_folds
    from casekit.metrics import fold_summary

    y = df[TASKS[task]].to_numpy().astype(int)
    folds = df["fold"].to_numpy()
    n_classes = 2 if task == "binary" else 6
    pooled = np.zeros(len(df)) if task == "binary" else np.zeros((len(df), n_classes))
    started = time.perf_counter()
    for fold in range(args.folds):
        train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        pooled[test] = runner(task, images, y, train, test, args)
    per_fold = score_folds(y, pooled, folds)[METRICS[task]]
    summary = fold_summary(per_fold.to_frame()).loc[METRICS[task]]
    return {"per_fold": [round(float(v), 3) for v in per_fold],
            "mean": float(summary["mean"]), "sd": float(summary["sd"]),
            "ci": pooled_ci(task, y, pooled, df["group_id"].astype(str).to_numpy()),
            "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="PAD-UFES-20 folder (metadata.csv + images)")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--epochs-head", type=int, default=6)
    parser.add_argument("--epochs-finetune", type=int, default=3)
    parser.add_argument("--lr-head", type=float, default=1e-3)
    parser.add_argument("--lr-finetune", type=float, default=1e-4)
    parser.add_argument("--unfreeze-from", default="block6")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--probe-c", type=float, default=0.1)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args(argv)

    from casekit.datasets import load
    from casekit.features import frozen_features
    from casekit.images import cache_for
    from casekit.splits import grouped_kfold

    df = load("pad_ufes_20", args.root, missing="drop").reset_index(drop=True)
    df = grouped_kfold(df, k=args.folds, seed=args.seed)
    started = time.perf_counter()
    images = cache_for(df, args.size, dataset="pad_ufes_20_bench", progress=False).images
    print(f"{len(df)} images of {df['group_id'].nunique()} patients at {args.size}px "
          f"(decoded in {time.perf_counter() - started:.0f}s); {args.folds}-fold "
          f"patient-grouped CV; recipe: head {args.epochs_head} ep @ {args.lr_head:g}, "
          f"fine-tune {args.epochs_finetune} ep @ {args.lr_finetune:g} from "
          f"{args.unfreeze_from}", flush=True)
    features = (frozen_features(images, backbone="EfficientNetLite0", progress=False)
                if "probe" in args.models else None)
    runners = {"recipe": (run_recipe, images), "probe": (run_probe, features),
               "baseline": (run_baseline, images)}
    for task in args.tasks:
        metric = "AUROC" if task == "binary" else "balanced accuracy"
        for name in args.models:
            runner, inputs = runners[name]
            result = cross_validate(task, df, inputs, runner, args)
            print(f"{task:8s} {name:8s} {metric}: {result['mean']:.3f} ± {result['sd']:.3f} "
                  f"(folds {result['per_fold']}); pooled 95% CI {result['ci'][0]:.3f}–"
                  f"{result['ci'][1]:.3f}; {result['seconds']:.0f}s", flush=True)


if __name__ == "__main__":
    main()
