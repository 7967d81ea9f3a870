"""Run folders: the one place that knows the files a trained model's run leaves behind.

A notebook saves each trained model's predictions as a *run folder*; everything downstream
(notebook 04, :mod:`casekit.evaluation`, :mod:`casekit.report`) reads that folder alone, so
anyone can regenerate the results and check every number.

Layout (write it with :func:`save_run`, read it with :func:`load_run`)::

    run_dir/
      run.json          what was run (keys below)
      predictions.csv   one row per image, every split the model scored
      history.json      optional: per-epoch loss and metrics (Keras ``History.history``)
      figures/*.png     optional: figures that need the model and images, e.g. Grad-CAM
                        (:func:`save_run_figure`)
      model.keras       optional: the trained model

``run.json`` keys — required: ``dataset`` (registry name, e.g. ``"pad_ufes_20"``),
``synthetic`` (true for generated stand-in data), ``task`` (``"binary"`` or
``"multiclass"``), ``class_names`` (binary: two names, index 1 is the positive class, e.g.
``["not cancer", "cancer"]``). Optional, and shown in the results document when present
(:data:`RECIPE_KEYS`): ``model`` (backbone, e.g. ``"EfficientNetB0"``), ``weights`` (the
weights the backbone started from, e.g. ``"imagenet"`` or ``"None"`` for a random start),
``weights_reason`` (why those weights), ``image_size`` (pixels, square), ``epochs``
(``{"head": 5, "fine_tune": 10}``), ``learning_rates`` (``{"head": 1e-3, "fine_tune":
1e-4}``), ``batch_size``, ``optimizer`` (e.g. ``"Adam"``), ``loss`` (e.g.
``"binary_crossentropy"`` or ``"focal (gamma 2)"``), ``class_weight`` (``{class name:
weight}`` or null), ``augmentation`` (list of layer descriptions, e.g. ``["RandomFlip
horizontal_and_vertical", "RandomRotation 0.1"]``), ``precision`` (Keras dtype policy,
``"mixed_float16"`` or ``"float32"``), ``fine_tune`` (e.g. ``{"from_block": "block6",
"batch_norm": "frozen"}``), plus ``split`` (dict describing the protocol, e.g.
``{"protocol": "StratifiedGroupKFold", "grouped_by": "patient_id"}``), ``seeds``,
``fine_tune_epoch`` (epochs before fine-tuning, for the training-curve plot) and ``notes``.
:func:`save_run` adds ``timestamp`` (UTC, ISO 8601) and ``casekit_version`` when absent.

``predictions.csv`` columns: ``image_id``, ``group_id`` (patient or lesion id), ``split``
(``train``/``val``/``test``), ``y_true`` (class index into ``class_names``), then the scores —
binary: ``score`` (probability of class 1); multiclass: ``score_<class name>`` per class, in
``class_names`` order, rows summing to 1 — then optional subgroup columns ``sex``, ``age``,
``site``, ``skin_type`` (the normalised metadata columns) and any others.

Example:
    >>> import tempfile, pandas as pd
    >>> frame = pd.DataFrame({"image_id": ["a", "b"], "group_id": ["p1", "p2"],
    ...                       "split": ["test", "test"], "y_true": [0, 1],
    ...                       "score": [0.2, 0.7]})
    >>> info = {"dataset": "pad_ufes_20", "synthetic": True, "task": "binary",
    ...         "class_names": ["not cancer", "cancer"]}
    >>> folder = tempfile.mkdtemp()
    >>> sorted(save_run(folder, frame, info, history=[{"loss": [0.9]}, {"loss": [0.5]}]))
    ['history', 'predictions', 'run']
    >>> run = load_run(folder)
    >>> run.info["synthetic"], run.history["loss"]
    (True, [0.9, 0.5])
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casekit import __version__
from casekit.history import merge_histories
from casekit.io import save_figure, write_text_atomic
from casekit.metrics import to_jsonable
from casekit.metrics.inputs import probability_rows
from casekit.splits import SPLITS

RUN_FILE = "run.json"
PREDICTIONS_FILE = "predictions.csv"
HISTORY_FILE = "history.json"
FIGURES_FOLDER = "figures"
REQUIRED_INFO = ("dataset", "synthetic", "task", "class_names")
#: Optional ``run.json`` keys that describe how the model was trained (the recipe).
RECIPE_KEYS = (
    "model", "weights", "weights_reason", "image_size", "epochs", "learning_rates",
    "batch_size", "optimizer", "loss", "class_weight", "augmentation", "precision", "fine_tune",
)
ID_COLUMNS = ("image_id", "group_id", "split", "y_true")
SUBGROUP_COLUMNS = ("sex", "age", "site", "skin_type")
TASKS = ("binary", "multiclass")


@dataclass
class Run:
    """A loaded run folder.

    Attributes:
        path: the folder.
        info: the checked contents of ``run.json``.
        predictions: one row per image (columns described in :mod:`casekit.runs`).
        history: per-epoch values ``{name: [value per epoch]}``, or ``None``.
    """

    path: Path
    info: dict
    predictions: pd.DataFrame
    history: dict | None = None

    def score_columns(self) -> list[str]:
        """The columns holding the model's scores, in ``class_names`` order."""
        return score_columns(self.info["task"], self.info["class_names"])

    def figure(self, name: str) -> Path | None:
        """The saved figure ``figures/<name>.png`` of this run, or ``None`` when absent."""
        path = self.path / FIGURES_FOLDER / f"{name}.png"
        return path if path.is_file() else None


def score_columns(task: str, class_names: Sequence[str]) -> list[str]:
    """``["score"]`` for a binary task, ``["score_<name>", …]`` for a multiclass one."""
    return ["score"] if task == "binary" else [f"score_{name}" for name in class_names]


def describe_augmentation(augmentation: Any) -> list[str]:
    """The ``run.json`` ``augmentation`` entry: one string per Keras preprocessing layer.

    Args:
        augmentation: a Keras model or layer with ``.layers`` (e.g.
            :func:`casekit.models.augmentation`), or a list of layers; ``None`` for none.

    Returns:
        E.g. ``["RandomFlip(mode=horizontal_and_vertical)", "RandomRotation(factor=(-0.5, 0.5))"]``;
        ``[]`` for ``None``.
    """
    if augmentation is None:
        return []
    found = getattr(augmentation, "layers", augmentation)
    described = []
    for layer in found:
        config = layer.get_config()
        shown = [f"{key}={config[key]}" for key in _AUGMENTATION_KEYS if key in config]
        described.append(f"{type(layer).__name__}({', '.join(shown)})")
    return described


_AUGMENTATION_KEYS = ("mode", "factor", "height_factor", "width_factor")


# ----------------------------------------------------------------------- save and load
def save_run(run_dir: str | os.PathLike[str], predictions: pd.DataFrame, run_info: dict, *,
             history: Any = None) -> dict[str, Path]:
    """Check and write ``run.json``, ``predictions.csv`` (and ``history.json``) atomically.

    Args:
        run_dir: the folder (created when missing; files of the same names are replaced).
        predictions: one row per image, columns as in :mod:`casekit.runs`.
        run_info: the ``run.json`` contents; ``timestamp`` and ``casekit_version`` are added.
        history: a Keras ``History``, its ``.history`` dict, or a list of them (one per
            training stage, merged with :func:`merge_histories`).

    Returns:
        The paths written, keyed ``run``, ``predictions`` (and ``history``).

    Raises:
        ValueError: when ``run_info`` or ``predictions`` break the format (nothing is
            written then).
    """
    run_dir = Path(run_dir)
    info = validate_info(dict(run_info), source="run_info")
    info.setdefault("timestamp", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    info.setdefault("casekit_version", __version__)
    frame = validate_predictions(predictions, info, source="predictions")
    log = None if history is None else merge_histories(history)
    paths = {
        "run": write_text_atomic(run_dir / RUN_FILE, to_json(info)),
        "predictions": write_text_atomic(run_dir / PREDICTIONS_FILE, frame.to_csv(index=False)),
    }
    if log is not None:
        paths["history"] = write_text_atomic(run_dir / HISTORY_FILE, json.dumps(log) + "\n")
    return paths


def save_run_figure(run_dir: str | os.PathLike[str], name: str, fig, *, dpi: int = 150) -> Path:
    """Save ``fig`` as ``run_dir/figures/<name>.png`` (atomically) for the results document.

    For figures that need the model and the images, which the document cannot recompute
    from the predictions: e.g. ``save_run_figure(run_dir, "gradcam", overlay)``.

    Raises:
        ValueError: when ``name`` is not a plain file stem (letters, digits, ``_`` and ``-``).
    """
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"figure name must be letters, digits, _ or -, got {name!r}")
    return save_figure(fig, Path(run_dir) / FIGURES_FOLDER / f"{name}.png", dpi=dpi)


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read and check a run folder written by :func:`save_run` (or by hand, same format).

    Returns:
        A :class:`Run`.

    Raises:
        FileNotFoundError: when ``run.json`` or ``predictions.csv`` is missing.
        ValueError: when a file breaks the format (the message names the file and the fix).
    """
    run_dir = Path(run_dir)
    info_path, csv_path = run_dir / RUN_FILE, run_dir / PREDICTIONS_FILE
    for path in (info_path, csv_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: is {run_dir} a run folder written "
                                    "by casekit.runs.save_run?")
    info = _read_json(info_path)
    info = validate_info(info, source=str(info_path))
    text_columns = {"image_id": str, "group_id": str, "split": str, "sex": str, "site": str}
    frame = pd.read_csv(csv_path, dtype=text_columns)
    if "skin_type" in frame:
        frame["skin_type"] = pd.to_numeric(frame["skin_type"], errors="coerce").astype("Int64")
    frame = validate_predictions(frame, info, source=str(csv_path))
    history_path = run_dir / HISTORY_FILE
    history = _read_json(history_path) if history_path.is_file() else None
    return Run(run_dir, info, frame, history)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error


# ------------------------------------------------------------------------- validation
def validate_info(info: dict, *, source: str = "run.json") -> dict:
    """Check the ``run.json`` contents; returns them with ``class_names`` as strings.

    Raises:
        ValueError: naming ``source`` and the key at fault.
    """
    missing = [key for key in REQUIRED_INFO if key not in info]
    if missing:
        raise ValueError(f"{source} lacks {missing}; required keys are {list(REQUIRED_INFO)}")
    if info["task"] not in TASKS:
        raise ValueError(f"{source}: task must be one of {TASKS}, got {info['task']!r}")
    if not isinstance(info["synthetic"], bool):
        raise ValueError(f"{source}: synthetic must be true or false, got {info['synthetic']!r}")
    names = info["class_names"]
    if not isinstance(names, (list, tuple)) or len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"{source}: class_names must list at least two distinct names")
    if info["task"] == "binary" and len(names) != 2:
        raise ValueError(f"{source}: a binary task has exactly two class_names "
                         "(negative first, positive second)")
    info["class_names"] = [str(name) for name in names]
    return info


def validate_predictions(predictions: pd.DataFrame, info: dict, *,
                         source: str = "predictions.csv") -> pd.DataFrame:
    """Check the predictions against ``info``; returns a cleaned copy (ids first).

    Raises:
        ValueError: naming ``source``, the columns at fault and the fix.
    """
    scores = score_columns(info["task"], info["class_names"])
    missing = [c for c in (*ID_COLUMNS, *scores) if c not in predictions.columns]
    if missing:
        raise ValueError(f"{source} lacks columns {missing}; see casekit.runs for the format")
    frame = predictions.reset_index(drop=True).copy()
    empty = [c for c in (*ID_COLUMNS, *scores) if frame[c].isna().any()]
    if empty:
        raise ValueError(f"{source}: columns {empty} have missing values")
    for column in ("image_id", "group_id", "split"):
        frame[column] = frame[column].astype(str)
    unknown = sorted(set(frame["split"]) - set(SPLITS))
    if unknown:
        raise ValueError(f"{source}: unknown split names {unknown}; use {list(SPLITS)}")
    duplicated = frame["image_id"][frame["image_id"].duplicated()].unique()
    if len(duplicated):
        raise ValueError(f"{source}: image_id repeats ({list(duplicated[:3])}); one row per image")
    y = pd.to_numeric(frame["y_true"], errors="coerce")
    k = len(info["class_names"])
    if y.isna().any() or (y % 1 != 0).any() or y.min() < 0 or y.max() >= k:
        raise ValueError(f"{source}: y_true must be class indices 0..{k - 1}")
    frame["y_true"] = y.astype(int)
    values = frame[scores].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all() or (info["task"] == "binary" and (
            values.min() < 0 or values.max() > 1)):
        raise ValueError(f"{source}: scores {scores} must be probabilities in [0, 1]")
    if info["task"] == "multiclass":  # softmax rows, within their float precision
        try:
            values = probability_rows(values)
        except ValueError as error:
            raise ValueError(f"{source}: scores {scores}: {error}") from None
    frame[scores] = values
    leading = [*ID_COLUMNS, *scores]
    return frame[leading + [c for c in frame.columns if c not in leading]]


def to_json(value) -> str:
    """``value`` as indented JSON text (NumPy and pandas values converted), newline-ended."""
    return json.dumps(to_jsonable(value), indent=2) + "\n"
