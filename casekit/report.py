"""Run folders and the generated results document (Markdown and HTML).

A notebook saves each trained model's predictions as a *run folder*; the results document
is computed from that folder alone, so anyone can regenerate it and check every number.

Run-folder format (write it with :func:`save_run`, read it with :func:`load_run`)::

    run_dir/
      run.json         what was run (below)
      predictions.csv  one row per image, every split the model scored
      history.json     optional: Keras History.history (per-epoch loss and metrics)

``run.json`` keys — required: ``dataset`` (registry name, e.g. ``"pad_ufes_20"``),
``synthetic`` (true for generated stand-in data), ``task`` (``"binary"`` or
``"multiclass"``), ``class_names`` (binary: two names, index 1 is the positive class,
e.g. ``["not cancer", "cancer"]``). Optional: ``split`` (dict describing the protocol, e.g.
``{"protocol": "StratifiedGroupKFold", "n_splits": 5, "fold": 0, "grouped_by":
"patient_id"}``), ``seeds`` (dict or int), ``model`` (e.g. ``"EfficientNetB0"``),
``image_size``, ``epochs`` (int or ``{"head": 5, "fine_tune": 10}``), ``fine_tune_epoch``
(epochs before fine-tuning, for the training-curve plot), ``notes``. ``save_run`` adds
``timestamp`` (UTC, ISO 8601) and ``casekit_version`` when absent.

``predictions.csv`` columns: ``image_id``, ``group_id`` (patient or lesion id),
``split`` (``train``/``val``/``test``), ``y_true`` (class index into ``class_names``), then
the scores — binary: ``score`` (probability of class 1); multiclass: ``score_<class name>``
per class, in ``class_names`` order, rows summing to 1 — then optional subgroup columns
``sex``, ``age``, ``site``, ``skin_type`` (the normalised metadata columns) and any others.

Example:
    >>> import tempfile, pandas as pd
    >>> frame = pd.DataFrame({"image_id": ["a", "b"], "group_id": ["p1", "p2"],
    ...                       "split": ["test", "test"], "y_true": [0, 1],
    ...                       "score": [0.2, 0.7]})
    >>> info = {"dataset": "pad_ufes_20", "synthetic": True, "task": "binary",
    ...         "class_names": ["not cancer", "cancer"]}
    >>> folder = tempfile.mkdtemp()
    >>> sorted(save_run(folder, frame, info))
    ['predictions', 'run']
    >>> load_run(folder).info["synthetic"]
    True
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import markdown
import numpy as np
import pandas as pd

from casekit import __version__, metrics, plots
from casekit.datasets.registry import DatasetSpec, get_spec
from casekit.io import write_text_atomic
from casekit.metrics import age_bands, format_estimate, to_jsonable

RUN_FILE = "run.json"
PREDICTIONS_FILE = "predictions.csv"
HISTORY_FILE = "history.json"
REQUIRED_INFO = ("dataset", "synthetic", "task", "class_names")
ID_COLUMNS = ("image_id", "group_id", "split", "y_true")
SUBGROUP_COLUMNS = ("sex", "age", "site", "skin_type")
SPLITS = ("train", "val", "test")
TASKS = ("binary", "multiclass")
SYNTHETIC_LINE = (
    "SYNTHETIC DATA — these results come from generated stand-in images, not from patients. "
    "They show that the pipeline runs; they say nothing about how a model performs on real "
    "skin lesions."
)
NOT_DIAGNOSTIC = (
    "casekit and the models trained with it are teaching material. They are not medical "
    "devices, have not been clinically validated, and must not be used to diagnose, screen "
    "or triage anyone. Anyone worried about a skin lesion should see a doctor."
)
SMALL_CLASS = 30


@dataclass
class Run:
    """A loaded run folder: its ``run.json``, its predictions and (maybe) its history."""

    path: Path
    info: dict
    predictions: pd.DataFrame
    history: dict | None = None

    def score_columns(self) -> list[str]:
        """The columns holding the model's scores, in ``class_names`` order."""
        return score_columns(self.info["task"], self.info["class_names"])


def score_columns(task: str, class_names) -> list[str]:
    """``["score"]`` for a binary task, ``["score_<name>", …]`` for a multiclass one."""
    return ["score"] if task == "binary" else [f"score_{name}" for name in class_names]


# ----------------------------------------------------------------------- run folders
def save_run(run_dir: str | os.PathLike[str], predictions: pd.DataFrame, run_info: dict,
             history=None) -> dict[str, Path]:
    """Check and write ``run.json``, ``predictions.csv`` (and ``history.json``) atomically.

    ``history`` may be a Keras ``History`` or its ``.history`` dict. Returns the paths
    written, keyed ``run``, ``predictions`` (and ``history``).
    """
    run_dir = Path(run_dir)
    info = _check_info(dict(run_info), source="run_info")
    info.setdefault("timestamp", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    info.setdefault("casekit_version", __version__)
    frame = _check_predictions(predictions, info, source="predictions")
    paths = {
        "run": write_text_atomic(run_dir / RUN_FILE, _json(info)),
        "predictions": write_text_atomic(run_dir / PREDICTIONS_FILE, frame.to_csv(index=False)),
    }
    if history is not None:
        log = getattr(history, "history", history)
        log = {str(key): [float(v) for v in values] for key, values in dict(log).items()}
        paths["history"] = write_text_atomic(run_dir / HISTORY_FILE, json.dumps(log) + "\n")
    return paths


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read and check a run folder written by :func:`save_run` (or by hand, same format)."""
    run_dir = Path(run_dir)
    info_path, csv_path = run_dir / RUN_FILE, run_dir / PREDICTIONS_FILE
    for path in (info_path, csv_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: is {run_dir} a run folder written "
                                    "by casekit.report.save_run?")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{info_path} is not valid JSON: {error}") from error
    info = _check_info(info, source=str(info_path))
    text_columns = {"image_id": str, "group_id": str, "split": str, "sex": str, "site": str}
    frame = pd.read_csv(csv_path, dtype=text_columns)
    if "skin_type" in frame:
        frame["skin_type"] = pd.to_numeric(frame["skin_type"], errors="coerce").astype("Int64")
    frame = _check_predictions(frame, info, source=str(csv_path))
    history_path = run_dir / HISTORY_FILE
    history = json.loads(history_path.read_text(encoding="utf-8")) if history_path.is_file() \
        else None
    return Run(run_dir, info, frame, history)


def _check_info(info: dict, source: str) -> dict:
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


def _check_predictions(predictions: pd.DataFrame, info: dict, source: str) -> pd.DataFrame:
    scores = score_columns(info["task"], info["class_names"])
    missing = [c for c in (*ID_COLUMNS, *scores) if c not in predictions.columns]
    if missing:
        raise ValueError(f"{source} lacks columns {missing}; see casekit.report for the format")
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
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ValueError(f"{source}: scores {scores} must be probabilities in [0, 1]")
    if info["task"] == "multiclass" and not np.allclose(values.sum(axis=1), 1, atol=1e-3):
        raise ValueError(f"{source}: multiclass scores must sum to 1 per row (softmax output)")
    frame[scores] = values
    leading = [*ID_COLUMNS, *scores]
    return frame[leading + [c for c in frame.columns if c not in leading]]


# -------------------------------------------------------------------- results document
def write_results_document(run_dir: str | os.PathLike[str],
                           out_dir: str | os.PathLike[str] | None = None,
                           title: str = "Skin-lesion classifier: results",
                           n_boot: int = 1000, seed: int = 0,
                           target_sensitivity: float = 0.9,
                           n_boot_subgroups: int = 200) -> dict:
    """Compute metrics from a run folder and write ``results.md``, ``results.html``,
    ``metrics.json`` and PNG figures to ``out_dir`` (default ``run_dir/report``).

    Metrics are computed on the ``test`` split, or on ``val`` when the run has no test
    split, with bootstrap CIs over patients/lesions (``group_id``): ``n_boot`` resamples
    for the headline metrics and curves, ``n_boot_subgroups`` for each subgroup (every
    subgroup is a separate bootstrap, so fewer keep the run short). The HTML embeds the
    figures, so it is one self-contained file. Returns the paths: ``markdown``, ``html``,
    ``metrics`` and ``figures`` (name → path).
    """
    run = load_run(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run.path / "report"
    result = _evaluate(run, n_boot, seed, target_sensitivity, n_boot_subgroups)
    figure_paths = {
        name: plots.save_figure(fig, out_dir / "figures" / f"{name}.png")
        for name, fig in _figures(run, result, n_boot, seed).items()
    }
    document = _markdown(run, title, result, figure_paths, out_dir)
    saved = {key: result[key] for key in ("split", "report", "operating_point")}
    return {
        "markdown": write_text_atomic(out_dir / "results.md", document),
        "html": write_text_atomic(out_dir / "results.html",
                                  _html(document, title, run.info["synthetic"], out_dir)),
        "metrics": write_text_atomic(out_dir / "metrics.json", _json({**saved, "run": run.info})),
        "figures": figure_paths,
    }


def _evaluate(run: Run, n_boot: int, seed: int, target_sensitivity: float,
              n_boot_subgroups: int) -> dict:
    """Metrics on the test split (else val), the val-chosen threshold, subgroups."""
    frame = run.predictions
    split = "test" if (frame["split"] == "test").any() else "val"
    data = frame[frame["split"] == split].reset_index(drop=True)
    if data.empty:
        raise ValueError(f"{run.path / PREDICTIONS_FILE} has no test or val rows to evaluate")
    names = run.info["class_names"]
    y = data["y_true"].to_numpy()
    groups = data["group_id"].to_numpy()
    scores = data[run.score_columns()].to_numpy()
    operating = None
    if run.info["task"] == "binary":
        scores = scores[:, 0]
        report = metrics.binary_report(
            y, scores, groups, target_sensitivity=target_sensitivity, n_boot=n_boot,
            seed=seed, labels=tuple(names),
        )
        predicted = (scores >= report["threshold"]).astype(int)
        validation = frame[frame["split"] == "val"]
        if split == "test" and validation["y_true"].nunique() == 2:
            chosen = metrics.threshold_for_sensitivity(
                validation["y_true"], validation["score"], target_sensitivity
            )
            operating = metrics.operating_point(y, scores, chosen["threshold"], groups,
                                                n_boot=n_boot, seed=seed)
            operating["chosen_on_val"] = chosen
    else:
        report = metrics.multiclass_report(y, scores, names, groups, n_boot=n_boot, seed=seed)
        predicted = scores.argmax(axis=1)
    subgroups = _subgroups(data)
    if subgroups is not None:
        report["subgroups"] = metrics.subgroup_table(
            y, scores, subgroups, groups, class_names=names, n_boot=n_boot_subgroups,
            seed=seed, progress=True,
        )
        report["subgroup_n_boot"] = n_boot_subgroups
    return {"split": split, "data": data, "y": y, "scores": scores, "groups": groups,
            "predicted": predicted, "report": report, "operating_point": operating}


def _figures(run: Run, result: dict, n_boot: int, seed: int) -> dict:
    names = run.info["class_names"]
    y, scores, groups = result["y"], result["scores"], result["groups"]
    figures = {
        "roc": plots.roc_curve(y, scores, groups, names, n_boot=n_boot, seed=seed),
        "pr": plots.pr_curve(y, scores, groups, names, n_boot=n_boot, seed=seed),
        "confusion": plots.confusion_matrices(y, result["predicted"], names),
        "calibration": plots.reliability_diagram(y, scores, class_names=names),
    }
    if run.history:
        figures["training"] = plots.training_curves(
            run.history, fine_tune_epoch=run.info.get("fine_tune_epoch")
        )
    return figures


def _subgroups(data: pd.DataFrame) -> pd.DataFrame | None:
    columns = {}
    for name in SUBGROUP_COLUMNS:
        if name in data and data[name].notna().any():
            columns[name] = age_bands(data[name]) if name == "age" else data[name]
    return pd.DataFrame(columns) if columns else None


def _spec(info: dict) -> DatasetSpec | None:
    name = str(info["dataset"]).removeprefix("synthetic_")
    try:
        return get_spec(name)
    except KeyError:
        return None


def _group_word(spec) -> str:
    if spec is None:
        return "group"
    return {"patient_id": "patient", "lesion_id": "lesion"}.get(spec.group_column, "group")


# ------------------------------------------------------------------- Markdown sections
def _markdown(run: Run, title: str, result: dict, figures: dict[str, Path],
              out_dir: Path) -> str:
    spec = _spec(run.info)
    report, data = result["report"], result["data"]
    lines = [SYNTHETIC_LINE, ""] if run.info["synthetic"] else []
    lines += [f"# {title}", "", f"> **Not a diagnostic tool.** {NOT_DIAGNOSTIC}", ""]
    lines += _data_section(run, spec)
    lines += _metrics_section(run, spec, result["split"], report, result["operating_point"])
    links = {name: path.relative_to(out_dir).as_posix() for name, path in figures.items()}
    lines += _curves_section(run, links)
    lines += _confusion_section(run, report, links["confusion"])
    lines += _calibration_section(run, report, links["calibration"])
    lines += _subgroup_section(report, spec)
    if "training" in links:
        lines += ["## Training curves", "", f"![Training curves]({links['training']})", ""]
    lines += _limitations_section(run, spec, data)
    lines += ["## Not a diagnostic tool", "", NOT_DIAGNOSTIC, ""]
    return "\n".join(lines)


def _curves_section(run: Run, links: dict[str, str]) -> list[str]:
    note = ("Shaded bands: pointwise bootstrap intervals." if run.info["task"] == "binary"
            else "One curve per class (one-vs-rest); the intervals are in the per-class table.")
    return ["## ROC and precision–recall curves", "", note, "",
            f"![ROC curve]({links['roc']})", "",
            f"![Precision–recall curve]({links['pr']})", ""]


def _confusion_section(run: Run, report: dict, link: str) -> list[str]:
    rule = (f"score ≥ {report['threshold']:g} is called positive" if run.info["task"] == "binary"
            else "the class with the highest probability")
    return ["## Confusion matrices", "",
            f"Rows are the true class, columns the predicted one ({rule}).", "",
            _table(report["confusion_matrix"]["counts"]), "",
            f"![Confusion matrices]({link})", ""]


def _data_section(run: Run, spec) -> list[str]:
    info = run.info
    frame = run.predictions
    word = _group_word(spec)
    dataset = spec.title if spec else str(info["dataset"])
    rows = [
        ("Dataset", dataset + (" — synthetic stand-in" if info["synthetic"] else "")),
        ("Task", f"{info['task']}: {', '.join(info['class_names'])}"),
    ]
    for key, label in (("model", "Model"), ("image_size", "Image size"), ("epochs", "Epochs"),
                       ("seeds", "Seeds"), ("timestamp", "Run at"),
                       ("casekit_version", "casekit version")):
        if key in info:
            rows.append((label, _describe(info[key])))
    lines = ["## Data and split protocol", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    lines.append("")
    if spec is not None:
        lines += [f"Data: {spec.attribution()}", ""]
    protocol = info.get("split")
    if protocol:
        lines += [f"Split protocol: {_describe(protocol)}.", ""]
    lines += [
        f"The split must be grouped by {word} (`group_id`): all images of one {word} in the "
        f"same split, so that the model is never tested on a {word} it has seen.", "",
    ]
    counts = pd.DataFrame({
        "images": frame.groupby("split").size(),
        f"{word}s": frame.groupby("split")["group_id"].nunique(),
    })
    per_class = pd.crosstab(frame["split"], frame["y_true"]).reindex(
        columns=range(len(info["class_names"])), fill_value=0
    )
    per_class.columns = info["class_names"]
    counts = counts.join(per_class).reindex([s for s in SPLITS if s in counts.index])
    lines += [_table(counts.rename_axis("split")), ""]
    shared = frame.groupby("group_id")["split"].nunique()
    leaked = int((shared > 1).sum())
    if leaked:
        lines += [f"**Warning: {leaked} {word}s appear in more than one split.** Their images "
                  "leak between training and evaluation, so the metrics below are optimistic.",
                  ""]
    else:
        lines += [f"Checked on the saved predictions: no {word} appears in more than one "
                  "split.", ""]
    return lines


def _metrics_section(run: Run, spec, split: str, report: dict,
                     operating: dict | None) -> list[str]:
    boot = report["bootstrap"]
    word = _group_word(spec)
    unit = f"{word}s (all images of a drawn {word} together)" if boot["unit"] == "group" \
        else "images"
    lines = [
        "## Metrics", "",
        f"Evaluated on the **{split}** split: {report['n_images']} images from "
        f"{report['n_groups']} {word}s. Intervals: {boot['ci']:.0%} percentile bootstrap, "
        f"{boot['n_boot']} resamples of {unit}, seed {boot['seed']}.", "",
    ]
    if split == "val":
        lines += ["The run has no test split, so these are validation results; they were "
                  "seen during model selection and are optimistic.", ""]
    table = pd.DataFrame(
        {"metric": [_METRIC_NAMES.get(k, k) for k in report["metrics"]],
         f"value ({boot['ci']:.0%} CI)": [format_estimate(v) for v in report["metrics"].values()]}
    )
    if run.info["task"] == "binary":
        lines += [f"Sensitivity, specificity, PPV, NPV, accuracy and F1 call an image positive "
                  f"when its score is ≥ {report['threshold']:g}.", ""]
    lines += [_table(table, index=False), ""]
    if run.info["task"] == "binary":
        lines += _operating_lines(report, operating, split)
    else:
        lines += ["Per class (one-vs-rest AUROC/AUPRC; recall is the sensitivity for that "
                  "class):", "", _per_class_table(report["per_class"]), ""]
        small = report["per_class"].index[report["per_class"]["n"] < SMALL_CLASS].tolist()
        if small:
            lines += [f"Classes with fewer than {SMALL_CLASS} images here ({', '.join(small)}) "
                      "have wide intervals: read their rows with care.", ""]
    lines += _context_lines(run, spec)
    return lines


_METRIC_NAMES = {
    "auroc": "AUROC", "auprc": "AUPRC (average precision)", "balanced_accuracy":
    "balanced accuracy", "sensitivity": "sensitivity (recall)", "specificity": "specificity",
    "ppv": "PPV (precision)", "npv": "NPV", "accuracy": "accuracy", "f1": "F1",
    "ece": "expected calibration error", "top1_accuracy": "top-1 accuracy",
    "top2_accuracy": "top-2 accuracy", "top3_accuracy": "top-3 accuracy",
    "macro_f1": "macro F1", "macro_auroc": "macro AUROC (one-vs-rest)",
    "macro_auprc": "macro AUPRC (one-vs-rest)", "classwise_ece": "class-wise ECE",
}


def _operating_lines(report: dict, operating: dict | None, split: str) -> list[str]:
    own = report["threshold_for_sensitivity"]
    if operating is None:
        return [
            f"To reach {own['target']:.0%} sensitivity on these same images the threshold "
            f"would be {own['threshold']:.3f} (specificity {own['specificity']:.3f}). Chosen "
            "and measured on the same images, this is optimistic.", "",
        ]
    chosen = operating["chosen_on_val"]
    sensitivity = format_estimate(operating["metrics"]["sensitivity"])
    specificity = format_estimate(operating["metrics"]["specificity"])
    return [
        f"Threshold chosen on the validation split for ≥ {chosen['target']:.0%} sensitivity: "
        f"{chosen['threshold']:.3f} (validation sensitivity {chosen['sensitivity']:.3f}, "
        f"specificity {chosen['specificity']:.3f}). Applied to the {split} split: sensitivity "
        f"{sensitivity}, specificity {specificity}.", "",
    ]


def _per_class_table(per_class: pd.DataFrame) -> str:
    table = pd.DataFrame({"n": per_class["n"]}, index=per_class.index)
    for name in ("recall", "precision", "f1", "auroc", "auprc"):
        table[_METRIC_NAMES.get(name, name)] = [
            "n/a" if not np.isfinite(row[name]) else format_estimate(
                {"value": row[name], "ci_low": row[f"{name}_ci_low"],
                 "ci_high": row[f"{name}_ci_high"]})
            for _, row in per_class.iterrows()
        ]
    return _table(table.rename_axis("class"))


def _context_lines(run: Run, spec) -> list[str]:
    name = spec.name if spec else None
    task = run.info["task"]
    if name == "pad_ufes_20" and task == "multiclass":
        text = ("Published PAD-UFES-20 six-class results reach balanced accuracy 0.77–0.80 "
                "with images plus clinical metadata and image-level 5-fold splits; clinical "
                "data adds 7–10 points. This run uses images only and a patient-grouped split, "
                "the stricter protocol, so expect lower numbers.")
    elif name == "ham10000" and task == "multiclass":
        text = ("The best published balanced multiclass accuracy on HAM10000 / ISIC 2018 is "
                "0.885, from ensembles trained with extra data.")
    else:
        return []
    if run.info["synthetic"]:
        text += " (Synthetic data: no comparison is meaningful.)"
    return [f"Context: {text}", ""]


def _calibration_section(run: Run, report: dict, link: str) -> list[str]:
    ece = report["metrics"]["ece"]
    what = ("the predicted probability of the positive class" if run.info["task"] == "binary"
            else "the top probability (confidence) against being right")
    lines = ["## Calibration", "",
             f"Reliability of {what}; expected calibration error {format_estimate(ece)}. "
             "0 is perfect; a model can rank well (high AUROC) and still be badly calibrated.",
             "", f"![Reliability diagram]({link})", ""]
    return lines


def _subgroup_section(report: dict, spec) -> list[str]:
    table = report.get("subgroups")
    lines = ["## Subgroup results", ""]
    if table is None or table.empty:
        return lines + ["The predictions carry no subgroup columns (sex, age, site, skin type).",
                        ""]
    shown = table[["attribute", "value", "n"]].copy()
    for column in ("n_groups", "positives", "classes"):
        if column in table:
            shown[column.replace("n_groups", f"{_group_word(spec)}s")] = table[column]
    for name, label in (("auroc", "AUROC"), ("balanced_accuracy", "balanced accuracy")):
        shown[label] = [
            "—" if not np.isfinite(row[name]) else format_estimate(
                {"value": row[name], "ci_low": row[f"{name}_ci_low"],
                 "ci_high": row[f"{name}_ci_high"]})
            for _, row in table.iterrows()
        ]
    shown["note"] = table["note"]
    return lines + [
        "Each subgroup is evaluated on its own, with bootstrap intervals "
        f"({report.get('subgroup_n_boot', report['bootstrap']['n_boot'])} resamples of "
        f"{_group_word(spec)}s). `too few`: not enough images (or too few of one class) to "
        "say anything — which is itself a finding about the data.", "",
        _table(shown, index=False), "",
    ]


def _limitations_section(run: Run, spec, data: pd.DataFrame) -> list[str]:
    names = run.info["class_names"]
    counts = np.bincount(data["y_true"], minlength=len(names))
    small = [f"{name} ({count})" for name, count in zip(names, counts, strict=True)
             if count < SMALL_CLASS]
    items = [
        "**Same-source test set.** The evaluation images come from the same dataset (same "
        "clinics, cameras and labelling) as the training images. Performance in another "
        "hospital, on another device or in another population is unknown and usually lower.",
        "**Dermoscopic vs smartphone images.** HAM10000 holds dermoscopic images, PAD-UFES-20 "
        "smartphone photographs; lighting, magnification and framing differ, and a model "
        "trained on one should not be expected to work on the other.",
    ]
    items += _skin_type_items(spec, data)
    if spec is not None and spec.name == "pad_ufes_20":
        items.append(
            "**Label sources.** Every cancer (BCC, SCC, MEL) is biopsy-proven, while the "
            "non-cancer labels (ACK, NEV, SEK) are partly clinical consensus: the two sides "
            "are labelled differently, and `biopsed` leaks the label (never use it as a "
            "feature). 804 images have no patient questionnaire."
        )
    elif spec is not None and spec.name == "ham10000":
        items.append(
            "**Label sources.** About half the HAM10000 labels are histopathology (5,340); the "
            "rest come from follow-up (3,704, almost all nevi), expert consensus (902) or "
            "confocal microscopy (69). `dx_type` leaks the label: never use it as a feature."
        )
    if small:
        items.append(
            f"**Small classes.** Fewer than {SMALL_CLASS} evaluation images for "
            f"{', '.join(small)}: their metrics rest on a handful of images (and fewer "
            f"{_group_word(spec)}s) and carry wide intervals."
        )
    items.append(
        "**Class balance.** Class shares here follow the dataset, not any clinic's case mix: "
        "predictive values (PPV, NPV) change with prevalence and do not transfer."
    )
    return ["## Limitations", "", *[f"- {item}" for item in items], ""]


def _skin_type_items(spec, data: pd.DataFrame) -> list[str]:
    known = pd.to_numeric(data["skin_type"], errors="coerce").dropna() if "skin_type" in data \
        else pd.Series(dtype=float)
    if spec is not None and spec.name == "ham10000":
        return ["**Skin type.** HAM10000 records no skin type; its images come from clinics in "
                "Austria and Australia and show mostly light skin. Nothing here tells how the "
                "model works on darker skin."]
    if len(known):
        dark = int((known >= 5).sum())
        return [f"**Skin types V–VI are nearly absent.** {dark} of {len(known)} evaluation "
                "images with a recorded Fitzpatrick type are type V or VI (PAD-UFES-20 as a "
                "whole: 11 of 1,494). The model is untested on darker skin."]
    return ["**Skin type.** No Fitzpatrick skin type is recorded for these images; "
            "performance on darker skin (types V–VI) is unknown."]


# --------------------------------------------------------------------------- helpers
def _describe(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key} {_describe(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_describe(item) for item in value)
    return str(value)


def _json(value) -> str:
    return json.dumps(to_jsonable(value), indent=2) + "\n"


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(frame: pd.DataFrame, index: bool = True) -> str:
    """A DataFrame as a Markdown table (no extra dependency such as tabulate)."""
    frame = frame.reset_index() if index else frame
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_cell(_format(v)) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _format(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "—" if not np.isfinite(value) else f"{value:.3f}"
    if value is None or value is pd.NA:
        return "—"
    return str(value)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
img { max-width: 100%; }
blockquote { border-left: 4px solid #d73027; margin: 0; padding: 0.2rem 1rem; background: #fdf1ee; }
.synthetic { background: #d73027; color: white; font-weight: bold; padding: 0.8rem 1rem; }
"""


def _html(document: str, title: str, synthetic: bool, out_dir: Path) -> str:
    body_text = document.split("\n", 2)[2] if synthetic else document
    body = markdown.markdown(body_text, extensions=["tables"])

    def embed(match: re.Match) -> str:
        path = out_dir / match.group(1)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="(figures/[^"]+\.png)"', embed, body)
    banner = f'<p class="synthetic">{html.escape(SYNTHETIC_LINE)}</p>\n' if synthetic else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{banner}{body}\n</body>\n</html>\n"
    )
