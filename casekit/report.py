"""The results document: evaluated run folders rendered as Markdown and one HTML file.

:func:`write_results_document` reads one run folder per task (binary and/or six-class, see
:mod:`casekit.runs`), evaluates each with :mod:`casekit.evaluation`, draws the figures with
:mod:`casekit.plots` and renders ``casekit/templates/results.md.j2`` (Jinja2): a model card
(details with the backbone and the weights actually used, intended and out-of-scope uses,
training and evaluation data with their diagnosis mix, headline metrics with CIs, ethical
considerations), its Limitations, the training recipe, one section per task, a Grad-CAM
figure, the student's own exploration of the data (notebook 01) and discussion (02-04), read
from their saved notebooks (:mod:`casekit.answers`). It carries the author and the date and
opens with a one-paragraph summary: it is what a student hands in. Run folders appear by name,
never as a machine's absolute path. The HTML file embeds every figure (base64 PNG), so
it is one self-contained file. This module only renders: it computes no metric itself.

Dataset facts come from the registry (:mod:`casekit.datasets.registry`) and appear only for
real data: a synthetic run's document states only what is true of the generated data.

Example:
    >>> paths = write_results_document(["runs/binary", "runs/sixclass"])  # doctest: +SKIP
    >>> paths["html"]                                                     # doctest: +SKIP
    PosixPath('runs/binary/report/results.html')
"""

from __future__ import annotations

import base64
import datetime
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import jinja2
import markdown
import numpy as np
import pandas as pd
from markdown.extensions.toc import slugify

from casekit import plots
from casekit.answers import Answer
from casekit.datasets.registry import DatasetSpec, get_spec
from casekit.evaluation import MIN_SUBGROUP, Evaluation, evaluate_run
from casekit.io import write_text_atomic
from casekit.metrics import format_estimate
from casekit.runs import RECIPE_KEYS, SPLITS, TASKS, Run, load_run, to_json

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
#: Classes with fewer evaluation images than this get a "wide intervals" note.
SMALL_CLASS = 30
NOT_RECORDED = "not recorded"
UNDEFINED = "undefined"
#: Calibration bins of the ECE, the reliability diagram and the document's text.
N_BINS = 10
_NUMBERS = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight"}
_METRIC_NAMES = {
    "auroc": "AUROC", "auprc": "AUPRC (average precision)", "balanced_accuracy":
    "balanced accuracy", "sensitivity": "sensitivity (recall)", "specificity": "specificity",
    "ppv": "PPV (precision)", "npv": "NPV", "accuracy": "accuracy", "f1": "F1",
    "ece": "expected calibration error", "top1_accuracy": "top-1 accuracy",
    "top2_accuracy": "top-2 accuracy", "top3_accuracy": "top-3 accuracy",
    "macro_f1": "macro F1", "macro_auroc": "macro AUROC (one-vs-rest)",
    "macro_auprc": "macro AUPRC (one-vs-rest)", "classwise_ece": "class-wise ECE",
    "recall": "recall", "precision": "precision",
}
_RECIPE_LABELS = {
    "model": "backbone", "weights": "weights the backbone started from",
    "weights_reason": "why these weights", "image_size": "image size (px)",
    "epochs": "epochs per stage", "learning_rates": "learning rates",
    "batch_size": "batch size", "optimizer": "optimizer", "loss": "loss",
    "class_weight": "class weights", "augmentation": "augmentation",
    "precision": "precision (dtype policy)", "fine_tune": "fine-tuning",
}


def write_results_document(runs: str | os.PathLike[str] | Run | Sequence, *,
                           out_dir: str | os.PathLike[str] | None = None,
                           title: str = "Skin-lesion classifier: results",
                           n_boot: int = 1000, seed: int = 0,
                           target_sensitivity: float = 0.9, n_boot_subgroups: int = 200,
                           dpi: int = 150, progress: bool = True, author: str = "",
                           answers: Sequence[Answer] = (),
                           date: datetime.date | None = None) -> dict:
    """Evaluate run folders and write ``results.md``, ``results.html``, ``metrics.json``
    and the PNG figures.

    Args:
        runs: one run folder (path or loaded :class:`~casekit.runs.Run`) or a list of them,
            at most one per task (``"binary"``, ``"multiclass"``), all on the same data.
        out_dir: where to write (default: ``<first run>/report``).
        title: the document's title.
        n_boot: bootstrap resamples of patients/lesions for headline metrics and curves.
        seed: bootstrap seed.
        target_sensitivity: binary: the sensitivity (fraction) the threshold chosen on
            validation must reach.
        n_boot_subgroups: resamples per subgroup.
        dpi: resolution of the PNG figures (dots per inch).
        progress: show progress bars.
        author: the student's name, printed under the title ("" leaves a line to fill in).
        answers: the student's written answers (:func:`casekit.answers.written_answers`):
            notebook 01's go into "Exploring the data", 02-04's into "Your discussion";
            unanswered questions are listed as such. None given: the sections hold prompts.
        date: the document's date (default: today).

    Returns:
        ``{"markdown": Path, "html": Path, "metrics": Path, "figures": {name: Path}}``.

    Raises:
        ValueError: no run, two runs of one task, or runs on different data (dataset or
            synthetic flag differ).
        FileNotFoundError: a run folder lacks ``run.json`` or ``predictions.csv``.
    """
    loaded = _load_runs(runs)
    out_dir = Path(out_dir) if out_dir is not None else loaded[0].path / "report"
    evaluations = [
        evaluate_run(run, n_boot=n_boot, seed=seed, target_sensitivity=target_sensitivity,
                     n_boot_subgroups=n_boot_subgroups, n_bins=N_BINS, progress=progress)
        for run in loaded
    ]
    figures = _figures(evaluations, out_dir, n_boot=n_boot, seed=seed, dpi=dpi)
    context = _context(evaluations, title=title, figures=figures)
    context.update(author=author, date=(date or datetime.date.today()).isoformat(),
                   summary=_summary(evaluations, context["tasks"]),
                   exploration=[a for a in answers if a.notebook.startswith("01")],
                   discussion=[a for a in answers if not a.notebook.startswith("01")],
                   has_answers=bool(answers))
    document = render_markdown(context, figure=lambda name: f"figures/{name}.png")
    body = markdown.markdown(
        render_markdown(context, figure=lambda name: _data_uri(figures[name]), for_html=True),
        extensions=["tables", "md_in_html", "toc"],
    )
    page = _environment().get_template("results.html.j2").render(
        title=title, synthetic=context["synthetic"], synthetic_line=SYNTHETIC_LINE,
        body=body,
    )
    saved = {
        e.run.info["task"]: {"split": e.split, "report": e.report,
                             "operating_point": e.operating_point, "warning": e.warning,
                             "undefined": e.undefined, "run": e.run.info}
        for e in evaluations
    }
    return {
        "markdown": write_text_atomic(out_dir / "results.md", document),
        "html": write_text_atomic(out_dir / "results.html", page),
        "metrics": write_text_atomic(out_dir / "metrics.json", to_json(saved)),
        "figures": figures,
    }


def render_markdown(context: dict, *, figure, for_html: bool = False) -> str:
    """The Markdown document from a context built by :func:`write_results_document`.

    ``figure(name)`` returns the image source for figure ``name`` (a path or data URI).
    """
    template = _environment().get_template("results.md.j2")
    return template.render(**context, figure=figure, for_html=for_html)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("casekit", "templates"), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
    )
    env.filters["cell"] = _cell
    return env


def _load_runs(runs) -> list[Run]:
    items = [runs] if isinstance(runs, (str, os.PathLike, Run)) else list(runs)
    if not items:
        raise ValueError("write_results_document needs at least one run folder")
    loaded = [item if isinstance(item, Run) else load_run(item) for item in items]
    tasks = [run.info["task"] for run in loaded]
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"one run per task, got tasks {tasks}")
    first = loaded[0].info
    for run in loaded[1:]:
        if (run.info["dataset"], run.info["synthetic"]) != (first["dataset"], first["synthetic"]):
            raise ValueError(f"{run.path} is on other data ({run.info['dataset']}, synthetic "
                             f"{run.info['synthetic']}) than {loaded[0].path}: one document "
                             "describes one dataset")
    return sorted(loaded, key=lambda run: TASKS.index(run.info["task"]))


# ---------------------------------------------------------------------------- figures
def _figures(evaluations: list[Evaluation], out_dir: Path, *, n_boot: int, seed: int,
             dpi: int) -> dict[str, Path]:
    folder = out_dir / "figures"
    paths = {}
    for e in evaluations:
        key, names = e.run.info["task"], e.run.info["class_names"]
        figures = {
            "roc": plots.plot_roc(e.y, e.scores, e.groups, class_names=names, n_boot=n_boot,
                                  seed=seed),
            "pr": plots.plot_pr(e.y, e.scores, e.groups, class_names=names, n_boot=n_boot,
                                seed=seed),
            "confusion": plots.plot_confusion_matrix(e.y, e.predicted, class_names=names),
            "calibration": plots.plot_reliability_diagram(e.y, e.scores, class_names=names,
                                                          n_bins=N_BINS),
        }
        if e.run.history:
            figures["training"] = plots.plot_training_curves(
                e.run.history, fine_tune_epoch=e.run.info.get("fine_tune_epoch"))
        for name, fig in figures.items():
            paths[f"{key}_{name}"] = plots.save_figure(fig, folder / f"{key}_{name}.png",
                                                       dpi=dpi)
    gradcam = next((run_figure for e in evaluations
                    if (run_figure := e.run.figure("gradcam")) is not None), None)
    if gradcam is not None:
        folder.mkdir(parents=True, exist_ok=True)
        paths["gradcam"] = Path(shutil.copyfile(gradcam, folder / "gradcam.png"))
    return paths


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# ---------------------------------------------------------------------------- context
def _context(evaluations: list[Evaluation], *, title: str, figures: dict) -> dict:
    info = evaluations[0].run.info
    synthetic = bool(info["synthetic"])
    spec = None if synthetic else _spec(info)
    word = _group_word(info)
    tasks = [_task(e, spec, word) for e in evaluations]
    return {
        "title": title, "synthetic": synthetic, "synthetic_line": SYNTHETIC_LINE,
        "not_diagnostic": NOT_DIAGNOSTIC, "small_class": SMALL_CLASS,
        "min_subgroup": MIN_SUBGROUP, "n_bins": N_BINS,
        "alarms": [{"task": t["title"], "text": t["warning"]} for t in tasks if t["warning"]],
        "card": _card(evaluations, spec, tasks),
        "data": _data(evaluations, spec, word),
        "recipe": _recipe(evaluations),
        "tasks": tasks,
        "gradcam": "gradcam" if "gradcam" in figures else None,
    }


def _spec(info: dict) -> DatasetSpec | None:
    try:
        return get_spec(str(info["dataset"]))
    except KeyError:
        return None


def _group_word(info: dict) -> str:
    name = str(info["dataset"])
    try:
        column = get_spec(name).group_column
    except KeyError:
        return "group"
    return {"patient_id": "patient", "lesion_id": "lesion"}.get(column, "group")


def _task_title(info: dict) -> tuple[str, str]:
    names = info["class_names"]
    if info["task"] == "binary":
        return f"Binary task: {names[1]} vs {names[0]}", "binary"
    k = len(names)
    return f"{_NUMBERS.get(k, str(k))}-class task: {', '.join(names)}", f"{k}-class"


def _task(e: Evaluation, spec: DatasetSpec | None, word: str) -> dict:
    info, report = e.run.info, e.report
    title, short = _task_title(info)
    boot = report["bootstrap"]
    binary = info["task"] == "binary"
    task = {
        "key": info["task"], "title": title, "short": short, "anchor": slugify(title, "-"),
        "kind": info["task"], "split": e.split, "n_images": report["n_images"],
        "n_groups": report["n_groups"], "ci": f"{boot['ci']:.0%}", "n_boot": boot["n_boot"],
        "seed": boot["seed"],
        "unit": f"{word}s (all images of a drawn {word} together)" if boot["unit"] == "group"
        else "images",
        "warning": e.warning,
        "metrics": _table(pd.DataFrame({
            "metric": [_METRIC_NAMES.get(k, k) for k in report["metrics"]],
            f"value ({boot['ci']:.0%} CI)": [_estimate(v) for v in report["metrics"].values()],
        }), index=False),
        "undefined": [(_undefined_name(k), text) for k, text in e.undefined.items()],
        "threshold": f"{report['threshold']:g}" if binary else None,
        "own_threshold": _threshold_facts(report) if binary else None,
        "chosen": _chosen_facts(e.operating_point),
        "per_class": None if binary else _per_class_table(report["per_class"]),
        "per_class_undefined": not binary and (report["per_class"][
            ["recall", "precision", "f1", "auroc", "auprc"]].isna().to_numpy().any()),
        "notes": list(report.get("notes") or []),
        "small_classes": "" if binary else ", ".join(
            report["per_class"].index[report["per_class"]["n"] < SMALL_CLASS].tolist()),
        "context": spec.published_results.get(info["task"], "") if spec is not None else "",
        "confusion": _table(report["confusion_matrix"]["counts"].rename_axis(
            "true ↓ / predicted →")),
        "ece": _estimate(report["metrics"]["ece"]) if "ece" in report["metrics"] else UNDEFINED,
        "subgroups": _subgroup_table(report.get("subgroups"), word),
        "subgroup_n_boot": report.get("subgroup_n_boot", boot["n_boot"]),
        "training": bool(e.run.history),
    }
    return task


def _undefined_name(key: str) -> str:
    prefix, _, name = key.rpartition(".")
    label = _METRIC_NAMES.get(name, name)
    return f"{label} at the threshold chosen on validation" if prefix else label


def _threshold_facts(report: dict) -> dict:
    own = report["threshold_for_sensitivity"]
    return {"target": f"{own['target']:.0%}", "threshold": f"{own['threshold']:.3f}",
            "specificity": f"{own['specificity']:.3f}"}


def _chosen_facts(operating: dict | None) -> dict | None:
    """The threshold chosen on validation and its test rates, formatted; None if none."""
    if operating is None:
        return None
    chosen = operating["chosen_on_val"]
    return {
        "target": f"{chosen['target']:.0%}", "threshold": f"{chosen['threshold']:.3f}",
        "val_sensitivity": f"{chosen['sensitivity']:.3f}",
        "val_specificity": f"{chosen['specificity']:.3f}",
        **{name: _estimate(operating["metrics"][name])
           for name in ("sensitivity", "specificity", "ppv", "npv")},
    }


def _per_class_table(per_class: pd.DataFrame) -> dict:
    table = pd.DataFrame({"n": per_class["n"]}, index=per_class.index)
    for name in ("recall", "precision", "f1", "auroc", "auprc"):
        table[_METRIC_NAMES.get(name, name)] = [
            _estimate({"value": row[name], "ci_low": row[f"{name}_ci_low"],
                       "ci_high": row[f"{name}_ci_high"]})
            for _, row in per_class.iterrows()
        ]
    return _table(table.rename_axis("class"))


def _subgroup_table(table: pd.DataFrame | None, word: str) -> dict | None:
    if table is None or table.empty:
        return None
    shown = table[["attribute", "value", "n"]].copy()
    for column in ("n_groups", "positives", "classes"):
        if column in table:
            shown[column.replace("n_groups", f"{word}s")] = table[column]
    for name, label in (("auroc", "AUROC"), ("balanced_accuracy", "balanced accuracy")):
        shown[label] = [
            "—" if not np.isfinite(row[name]) else _estimate(
                {"value": row[name], "ci_low": row[f"{name}_ci_low"],
                 "ci_high": row[f"{name}_ci_high"]})
            for _, row in table.iterrows()
        ]
    shown["note"] = table["note"]
    return _table(shown, index=False)


def _card(evaluations: list[Evaluation], spec: DatasetSpec | None, tasks: list[dict]) -> dict:
    columns = {task["short"]: e.run.info for task, e in zip(tasks, evaluations, strict=True)}
    rows = {
        "task and classes": {k: f"{i['task']}: {', '.join(i['class_names'])}"
                             for k, i in columns.items()},
        "backbone": {k: i.get("model", NOT_RECORDED) for k, i in columns.items()},
        "weights the backbone started from": {k: _weights(i) for k, i in columns.items()},
        "why these weights": {k: i.get("weights_reason", NOT_RECORDED)
                              for k, i in columns.items()},
        "trained": {k: i.get("timestamp", NOT_RECORDED) for k, i in columns.items()},
        "casekit version": {k: i.get("casekit_version", NOT_RECORDED)
                            for k, i in columns.items()},
        "seeds": {k: _describe(i.get("seeds", NOT_RECORDED)) for k, i in columns.items()},
        "run folder": {k: _folder_name(e.run.path)
                       for k, e in zip(columns, evaluations, strict=True)},
        "notes": {k: i.get("notes", "") for k, i in columns.items()},
    }
    details = pd.DataFrame(rows).T.rename_axis("property")
    headline = []
    for task, e in zip(tasks, evaluations, strict=True):
        values = e.report["metrics"]
        names = ("auroc", "auprc") if task["kind"] == "binary" else (
            "balanced_accuracy", "macro_auroc", "macro_f1")
        headline += [(task["short"], _METRIC_NAMES[n], _estimate(values[n])) for n in names]
        if e.operating_point is not None:
            for n in ("sensitivity", "specificity"):
                headline.append((task["short"], f"{_METRIC_NAMES[n]} at the threshold chosen "
                                 "on validation", _estimate(e.operating_point["metrics"][n])))
    ci = f"{evaluations[0].report['bootstrap']['ci']:.0%}"
    return {
        "details": _table(details),
        "metrics": _table(pd.DataFrame(headline, columns=["task", "metric",
                                                          f"value ({ci} CI)"]), index=False),
        "metrics_text": (f"Headline numbers on each run's {evaluations[0].split} split with "
                         f"{ci} bootstrap intervals; each task's section gives them all."),
        "dataset": None if spec is None else {
            "licence": spec.licence, "modality": spec.modality, "caveats": list(spec.caveats)},
        "skin": _skin_type_facts(evaluations, spec),
        "random_weights": [t["title"] for t, e in zip(tasks, evaluations, strict=True)
                           if _weights(e.run.info).startswith("none")],
        "small_classes": _small_classes(evaluations, tasks),
    }


def _weights(info: dict) -> str:
    if "weights" not in info:
        return NOT_RECORDED
    weights = info["weights"]
    if weights in (None, "None", "none"):
        return "none: random initialisation"
    return str(weights)


def _skin_type_facts(evaluations: list[Evaluation], spec: DatasetSpec | None) -> dict:
    """Fitzpatrick types V–VI among the evaluated images (and, for real data, the dataset)."""
    data = evaluations[0].data
    known = pd.to_numeric(data["skin_type"], errors="coerce").dropna() if "skin_type" in data \
        else pd.Series(dtype=float)
    facts = {"known": len(known), "dark": int((known >= 5).sum()), "dataset": None}
    if spec is not None and spec.skin_type_counts:
        facts["dataset"] = {
            "name": spec.title.split(" (")[0],
            "dark": f"{sum(n for t, n in spec.skin_type_counts.items() if t >= 5):,}",
            "known": f"{sum(spec.skin_type_counts.values()):,}",
        }
    return facts


def _small_classes(evaluations: list[Evaluation], tasks: list[dict]) -> list[dict]:
    """Per task, the classes with fewer than SMALL_CLASS evaluation images."""
    found = []
    for task, e in zip(tasks, evaluations, strict=True):
        names = e.run.info["class_names"]
        counts = np.bincount(e.y, minlength=len(names))
        small = [f"{n} ({c})" for n, c in zip(names, counts, strict=True) if c < SMALL_CLASS]
        if small:
            found.append({"task": task["short"], "classes": ", ".join(small)})
    return found


def _data(evaluations: list[Evaluation], spec: DatasetSpec | None, word: str) -> dict:
    info = evaluations[0].run.info
    if spec is None:
        description = (f"Synthetic stand-in data generated by `casekit.synthetic` in the layout "
                       f"of the `{info['dataset']}` dataset: the images are generated, not "
                       "photographs; the class mix below is that of the generated data.")
    else:
        description = f"{spec.title}: {spec.n_images:,} images in all."
    protocol = []
    for e in evaluations:
        split = e.run.info.get("split")
        if split:
            protocol.append(f"Split protocol ({_task_title(e.run.info)[1]}): "
                            f"{_describe(split)}.")
    protocol.append(f"The split must be grouped by {word} (`group_id`): all images of one "
                    f"{word} in the same split, so that the model is never tested on a {word} "
                    "it has seen.")
    tables, leaked = [], 0
    for e in evaluations:
        frame, names = e.run.predictions, e.run.info["class_names"]
        counts = pd.DataFrame({"images": frame.groupby("split").size(),
                               f"{word}s": frame.groupby("split")["group_id"].nunique()})
        mix = pd.crosstab(frame["split"], frame["y_true"]).reindex(
            columns=range(len(names)), fill_value=0)
        mix.columns = names
        table = counts.join(mix).reindex([s for s in SPLITS if s in counts.index])
        table.index = [f"{s} ({_task_title(e.run.info)[1]} run)" for s in table.index]
        tables.append(_table(table.rename_axis("split")))
        leaked = max(leaked, int((frame.groupby("group_id")["split"].nunique() > 1).sum()))
    return {
        "description": description,
        "attribution": spec.attribution() if spec is not None else "",
        "protocol": protocol, "word": word, "leaked": leaked,
        "splits": tables[0] if len(tables) == 1 else _stack(tables),
    }


def _stack(tables: list[dict]) -> dict:
    """Several tables as one: the union of their columns, blank where a table has none."""
    columns = list(dict.fromkeys(c for t in tables for c in t["columns"]))
    rows = []
    for t in tables:
        for row in t["rows"]:
            values = dict(zip(t["columns"], row, strict=True))
            rows.append([values.get(c, "") for c in columns])
    return {"columns": columns, "rows": rows}


def _recipe(evaluations: list[Evaluation]) -> dict | None:
    infos = {_task_title(e.run.info)[1]: e.run.info for e in evaluations}
    if not any(key in info for info in infos.values() for key in RECIPE_KEYS
               if key not in ("model",)):
        return None
    rows = {}
    for key in RECIPE_KEYS:
        rows[_RECIPE_LABELS[key]] = {
            task: _recipe_value(info, key) for task, info in infos.items()
        }
    return _table(pd.DataFrame(rows).T.rename_axis("setting"))


def _recipe_value(info: dict, key: str) -> str:
    if key == "weights":
        return _weights(info)
    value = info.get(key)
    if value is None and key == "learning_rates":  # older runs: fine_tune.learning_rates
        value = (info.get("fine_tune") or {}).get("learning_rates")
    if key == "class_weight" and key in info and value is None:
        return "none"
    if value is None:
        return NOT_RECORDED
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_describe(v)}" for k, v in value.items())
    return _describe(value)


def _summary(evaluations: list[Evaluation], tasks: list[dict]) -> str:
    """One paragraph: what was evaluated, on how many patients, the headline numbers."""
    word = _group_word(evaluations[0].run.info)
    parts = []
    for task, e in zip(tasks, evaluations, strict=True):
        values = e.report["metrics"]
        names = ("auroc",) if task["kind"] == "binary" else ("balanced_accuracy",)
        numbers = [f"{_METRIC_NAMES[n]} {_estimate(values[n])}" for n in names]
        if e.operating_point is not None:
            rates = e.operating_point["metrics"]
            numbers.append(f"at the threshold chosen on validation a sensitivity of "
                           f"{_estimate(rates['sensitivity'])} and a specificity of "
                           f"{_estimate(rates['specificity'])}")
        parts.append(f"on the {task['short']} task the model ({e.run.info.get('model', 'a CNN')}) "
                     f"reached {' and '.join(numbers)} on {task['n_images']} {task['split']} "
                     f"images of {task['n_groups']} {word}s")
    data = ("synthetic stand-in images, so the numbers only show that the pipeline runs"
            if evaluations[0].run.info["synthetic"]
            else f"the {evaluations[0].run.info['dataset']} photographs")
    return (f"This document evaluates a skin-lesion classifier trained on {data}: "
            f"{'; '.join(parts)} ({tasks[0]['ci']} bootstrap intervals over {word}s in "
            "brackets). "
            "The intervals, the small classes and the limitations below say how far these "
            "figures can be trusted; none of it makes the model a diagnostic tool.")


def _folder_name(path: Path) -> str:
    """A run folder by its last two names (``runs/binary``): no machine's absolute path."""
    return "/".join(Path(path).parts[-2:])


# --------------------------------------------------------------------------- helpers
def _estimate(entry) -> str:
    value = entry.get("value") if isinstance(entry, dict) else entry
    if value is None or not np.isfinite(value):
        return UNDEFINED
    return format_estimate(entry)


def _describe(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key} {_describe(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_describe(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(frame: pd.DataFrame, index: bool = True) -> dict:
    """A DataFrame as ``{"columns": [...], "rows": [[str, ...], ...]}`` for the template."""
    frame = frame.reset_index() if index else frame
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[_format(v) for v in row] for row in frame.itertuples(index=False)]}


def _format(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "—" if not np.isfinite(value) else f"{value:.3f}"
    if value is None or value is pd.NA:
        return "—"
    return str(value)
