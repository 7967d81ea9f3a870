"""casekit: the helper package of the skin-lesion deep-learning case study.

One import gives a notebook everything it uses::

    import casekit as ck
    SESSION = ck.setup(seed=SEED, persist=PERSIST, deep_learning=True)
    GRADING = SESSION.grading

Names are loaded when first used (PEP 562), so ``import casekit`` is light: Keras and
TensorFlow are imported only when a deep-learning name (``ck.models``, ``ck.training``,
``ck.finetune``, ``ck.losses``, ``ck.gradcam``, ``ck.resolve_weights``,
``ck.frozen_features``) is. Nothing in casekit is a diagnostic tool.

Each name, with the notebook that teaches it (as d2l tags its helpers with the chapter):

Set-up (every notebook)
    setup             one call: storage (Drive in Colab), secrets, widgets, seeds, one line
    Session           what :func:`setup` returns (``.grading``, ``.storage``, ``.environment``)
    is_grading        True while nbgrader grades (tiny images, no training)
    resolve_data      the dataset folder to analyse: synthetic stand-in or the real data
    check_install     Colab: asks for a restart when the install replaced a loaded package
    self_check        runs the SAVED notebook's visible tests in a separate kernel
    without_casekit   test cells: call a student's function with casekit's own one switched off
Data (01 EDA)
    load, get_spec    a dataset's table and its description (columns, classes, licence)
    split_summary     images, patients and class shares per split
Splits and images (02 binary)
    grouped_split, check_no_group_leakage   patient-level train/val/test split and its check
    cache_for         the decode-once image cache: ``cache_for(table, size).take(ids)``
    runs_root         where training runs are saved
    save_run, load_run, save_run_figure, describe_augmentation   the run folder
    merge_histories   one training history from the two fine-tuning stages
    resolve_weights   which ImageNet weights to start from (deep learning)
Cross-validation (05 beyond)
    grouped_kfold     patient-grouped, class-stratified folds
    frozen_features   features of a frozen backbone, cached (deep learning)

Modules, used as ``ck.metrics.binary_report(...)`` and so on:

    alarms (02, 03)    does a model rank at all? (degenerate-model warning)
    imbalance (02, 03) class weights
    models (02, 03)    backbones, augmentation, heads (deep learning)
    training (02, 03)  fit, predict, seeds, mixed precision (deep learning)
    finetune (02, 03)  freeze, unfreeze the top blocks, recompile (deep learning)
    losses (03)        focal loss (deep learning)
    metrics (02-05)    reports with patient-bootstrap intervals, thresholds, calibration
    plots (01-04)      data figures and evaluation figures
    reference (02-04)  casekit's reference run, trained once when no run of yours is found
    runs (02-04)       the run folder
    report (04)        the results document
    answers (04)       the written answers of the saved notebooks 01-04, for the document
    widgets (04)       the threshold explorer
    gradcam (04)       Grad-CAM heat maps (deep learning)
    crossval (05)      paired model comparison over grouped folds
    persist, datasets, images, splits, synthetic, environment   the plumbing behind them

Example:
    >>> import casekit as ck
    >>> ck.get_spec("ham10000").name
    'ham10000'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> (module, attribute); attribute None: the module itself.
_NAMES: dict[str, tuple[str, str | None]] = {
    "setup": ("casekit.notebook", "setup"),
    "Session": ("casekit.notebook", "Session"),
    "is_grading": ("casekit.environment", "is_grading"),
    "resolve_data": ("casekit.notebook", "resolve_data"),
    "check_install": ("casekit.colab", "check_install"),
    "self_check": ("casekit.selfcheck", "run"),
    "without_casekit": ("casekit.graded", "without_casekit"),
    "load": ("casekit.datasets", "load"),
    "get_spec": ("casekit.datasets", "get_spec"),
    "split_summary": ("casekit.splits", "split_summary"),
    "grouped_split": ("casekit.splits", "grouped_split"),
    "check_no_group_leakage": ("casekit.splits", "check_no_group_leakage"),
    "grouped_kfold": ("casekit.splits", "grouped_kfold"),
    "cache_for": ("casekit.images", "cache_for"),
    "runs_root": ("casekit.paths", "runs_root"),
    "save_run": ("casekit.runs", "save_run"),
    "load_run": ("casekit.runs", "load_run"),
    "save_run_figure": ("casekit.runs", "save_run_figure"),
    "describe_augmentation": ("casekit.runs", "describe_augmentation"),
    "merge_histories": ("casekit.history", "merge_histories"),
    "resolve_weights": ("casekit.weights", "resolve_weights"),
    "frozen_features": ("casekit.features", "frozen_features"),
    **{name: (f"casekit.{name}", None) for name in (
        "alarms", "answers", "crossval", "datasets", "environment", "finetune", "gradcam", "images",
        "imbalance", "losses", "metrics", "models", "persist", "plots", "reference", "report",
        "runs", "splits", "synthetic", "training", "widgets",
    )},
}

__all__ = ["__version__", *_NAMES]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it in the package."""
    try:
        module_name, attribute = _NAMES[name]
    except KeyError:
        raise AttributeError(f"module 'casekit' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

