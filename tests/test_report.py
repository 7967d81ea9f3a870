"""casekit.report: the results document for binary-only, six-class-only and both runs.

The HTML is checked twice: with the standard library's HTML parser (every section, every
figure a decodable PNG, no empty table header) and in headless Chromium (the browser's own
DOM has every section; a screenshot shows the synthetic banner and the degenerate alarm).
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from _runs_fixtures import HISTORY, PAD_CLASSES, make_info, make_predictions
from PIL import Image
from sklearn import metrics as skm

from casekit import plots
from casekit.answers import course_notebooks, written_answers
from casekit.datasets.registry import get_spec
from casekit.report import write_results_document
from casekit.runs import load_run, save_run, save_run_figure

CARD = ["## Model card", "### Model details", "### Intended use", "### Out-of-scope uses",
        "### Training and evaluation data", "### Metrics", "### Ethical considerations",
        "## Limitations", "## Training recipe"]
TASK = ["### Metrics ({short})", "### ROC and precision–recall curves ({short})",
        "### Confusion matrix ({short})", "### Calibration ({short})",
        "### Subgroup results ({short})"]
END = ["## Grad-CAM", "## Exploring the data", "## Your discussion", "## Not a diagnostic tool"]
BINARY = "## Binary task: cancer vs not cancer"
SIXCLASS = "## Six-class task: ACK, BCC, MEL, NEV, SCC, SEK"
FAST = {"n_boot": 30, "n_boot_subgroups": 5, "dpi": 40, "progress": False}
RECIPE = {"weights": "imagenet", "weights_reason": "cached ImageNet weights",
          "learning_rates": {"head": 1e-3, "fine_tune": 1e-4}, "batch_size": 32,
          "optimizer": "Adam", "loss": "binary_crossentropy",
          "class_weight": {"not cancer": 0.9, "cancer": 1.1},
          "augmentation": ["RandomFlip horizontal_and_vertical", "RandomRotation 0.1"],
          "precision": "mixed_float16", "fine_tune": {"from_block": "block6",
                                                      "batch_norm": "frozen"}}


def _sections(binary: bool, sixclass: bool) -> list[str]:
    expected = ["## Summary", *CARD]
    for present, title, short in ((binary, BINARY, "binary"), (sixclass, SIXCLASS, "6-class")):
        if present:
            expected += [title, *(s.format(short=short) for s in TASK)]
    return expected + END


def _in_order(markdown: str, sections: list[str]) -> None:
    lines = markdown.splitlines()
    positions = []
    for section in sections:
        assert section in lines, f"section {section!r} missing"
        positions.append(lines.index(section))
    assert positions == sorted(positions)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    save_run(root / "binary", make_predictions("binary", n_patients=90),
             make_info("binary", **RECIPE), history=HISTORY)
    heat = np.random.default_rng(0).random((2, 4, 4))
    save_run_figure(root / "binary", "gradcam",
                    plots.plot_gradcam(np.full((2, 16, 16, 3), 90, np.uint8), heat,
                                       titles=["a", "b"]))
    save_run(root / "sixclass", make_predictions("multiclass", n_patients=90, seed=1),
             make_info("multiclass"))
    real = make_predictions("multiclass", n_patients=90, seed=2)
    save_run(root / "real", real[real["split"] != "test"], make_info("multiclass", False))
    degenerate = make_predictions("binary", n_patients=45).assign(score=0.5012)
    save_run(root / "degenerate", degenerate, make_info("binary", weights="None"))
    return root


@pytest.fixture(scope="module")
def degenerate(folders):
    return write_results_document(folders / "degenerate", **FAST)


@pytest.fixture(scope="module")
def both(folders):
    return write_results_document([folders / "sixclass", folders / "binary"],
                                  out_dir=folders / "both", **FAST)


def test_binary_only_document(folders):
    paths = write_results_document(folders / "binary", **FAST)
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert markdown.splitlines()[0].startswith("SYNTHETIC DATA")
    _in_order(markdown, _sections(binary=True, sixclass=False))
    assert SIXCLASS not in markdown and "### Training curves (binary)" in markdown
    assert "no patient appears in more than one split" in markdown
    assert "Threshold chosen on the validation split" in markdown
    assert "| weights the backbone started from | imagenet |" in markdown
    assert "| learning rates | head: 0.001, fine_tune: 0.0001 |" in markdown
    assert "| augmentation | RandomFlip horizontal_and_vertical, RandomRotation 0.1 |" \
        in markdown
    for name in ("roc", "pr", "confusion", "calibration", "training"):
        assert f"](figures/binary_{name}.png)" in markdown
        assert paths["figures"][f"binary_{name}"].read_bytes()[:4] == b"\x89PNG"
    assert "](figures/gradcam.png)" in markdown  # saved in the run folder, copied along
    assert paths["markdown"].parent == folders / "binary" / "report"
    assert "Warning" not in markdown.split("## Model card")[0]  # a working model: no alarm


def test_sixclass_only_document_on_real_data_uses_the_registry(folders):
    paths = write_results_document(folders / "real", title="Fold 0", **FAST)
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert markdown.startswith("# Fold 0") and "SYNTHETIC DATA" not in markdown
    _in_order(markdown, _sections(binary=False, sixclass=True))
    assert "Evaluated on the **val** split" in markdown
    assert "these are validation results" in markdown
    assert "| class | n | recall |" in markdown
    assert "### Training curves" not in markdown  # no history saved
    spec = get_spec("pad_ufes_20")
    for fact in (*spec.caveats, spec.published_results["multiclass"], spec.citation):
        assert fact in markdown
    assert "(PAD-UFES-20 as a whole: 11 of 1,494)" in markdown
    assert "| weights the backbone started from | not recorded |" in markdown  # older run
    saved = json.loads(paths["metrics"].read_text(encoding="utf-8"))["multiclass"]
    val = load_run(folders / "real").predictions.query("split == 'val'")
    expected = skm.balanced_accuracy_score(
        val["y_true"], val[[f"score_{c}" for c in PAD_CLASSES]].to_numpy().argmax(axis=1))
    assert saved["report"]["metrics"]["balanced_accuracy"]["value"] == pytest.approx(expected)


def test_both_runs_give_both_sections(both):
    markdown = both["markdown"].read_text(encoding="utf-8")
    _in_order(markdown, _sections(binary=True, sixclass=True))
    assert "| property | binary | 6-class |" in markdown
    assert "| test (6-class run) |" in markdown and "| test (binary run) |" in markdown
    saved = json.loads(both["metrics"].read_text(encoding="utf-8"))
    assert sorted(saved) == ["binary", "multiclass"]
    test = load_run(both["markdown"].parents[1] / "binary").predictions.query("split == 'test'")
    auroc = saved["binary"]["report"]["metrics"]["auroc"]
    assert auroc["value"] == pytest.approx(skm.roc_auc_score(test["y_true"], test["score"]))
    assert auroc["ci_low"] < auroc["value"] < auroc["ci_high"]
    assert f"{auroc['value']:.3f} ({auroc['ci_low']:.3f}–{auroc['ci_high']:.3f})" in markdown
    table = pd.DataFrame(**saved["binary"]["report"]["subgroups"])
    assert {"sex", "age", "site", "skin_type"} <= set(table["attribute"])
    sites = table[table["attribute"] == "site"]
    assert sites["value"].tolist() == ["face", "other (back, ear, lip)"]  # rare sites pooled
    assert (sites["n"] >= 30).all() and (sites["note"] == "").all()  # no row of 'too few'



def test_no_real_dataset_fact_in_a_synthetic_report(both):
    text = both["markdown"].read_text(encoding="utf-8") + both["html"].read_text(
        encoding="utf-8")
    for spec in (get_spec("pad_ufes_20"), get_spec("ham10000")):
        facts = [*spec.caveats, *spec.published_results.values(), spec.citation, spec.licence,
                 spec.title, f"{spec.n_images:,}", spec.official_doi]
        for fact in facts:
            assert fact not in text, fact
    for number in ("1,494", "804 of", "0.77–0.80", "biops", "Austria", "Fitzpatrick type V"):
        assert number not in text, number


def test_degenerate_model_is_flagged_and_undefined_values_explained(degenerate):
    markdown = degenerate["markdown"].read_text(encoding="utf-8")
    head = markdown.split("## Model card")[0]
    assert '<div class="alarm" markdown="1">' in head and "looks degenerate" in head
    assert "The model has not learnt" in head
    assert "| NPV | undefined |" in markdown
    assert "- **NPV**: the model called no image negative, so NPV = TN / (TN + FN) divides " \
        "by zero." in markdown
    assert "nan" not in markdown.lower().replace("nann", "")
    assert "none: random initialisation" in markdown
    assert "started from random weights" in markdown


class _Page(HTMLParser):
    """Headings, image sources and table header rows of an HTML page."""

    def __init__(self):
        super().__init__()
        self.headings, self.images, self.header_rows, self.classes = [], [], [], []
        self._heading = self._row = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("class"):
            self.classes.append(attrs["class"])
        if tag in ("h1", "h2", "h3"):
            self._heading = ""
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._in_head:
            self._row = []
        elif tag == "th" and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append(self._heading.strip())
            self._heading = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "tr" and self._row is not None:
            self.header_rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading += data
        if self._row:
            self._row[-1] += data


def _headings(sections: list[str]) -> list[str]:
    return [s.lstrip("# ") for s in sections]


def test_html_parses_with_every_section_figure_and_header(both):
    page = both["html"].read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(page)
    assert page.startswith("<!DOCTYPE html>") and "synthetic" in parsed.classes
    wanted = _headings(_sections(binary=True, sixclass=True))
    assert [h for h in parsed.headings if h in wanted] == wanted
    assert len(parsed.images) == 2 * 4 + 1 + 1  # 4 per task, training (binary), Grad-CAM
    for source in parsed.images:
        assert source.startswith("data:image/png;base64,")  # one self-contained file
        image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        assert image.format == "PNG" and min(image.size) > 50
    assert parsed.header_rows and all(all(cell.strip() for cell in row[:1])
                                      for row in parsed.header_rows)  # no empty header row


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.fail("headless Chromium is needed for the browser check (Debian: apt-get install "
                "chromium)")


def test_html_renders_in_headless_chromium(both, degenerate, tmp_path):
    browser = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*browser, "--dump-dom", both["html"].as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    rendered = [re.sub(r"<[^>]+>", "", h).strip()
                for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", dom)]
    wanted = _headings(_sections(binary=True, sixclass=True))
    assert [h for h in rendered if h in wanted] == wanted
    assert dom.count("<img") == 10
    shot = tmp_path / "page.png"
    subprocess.run([*browser, "--window-size=1200,900", f"--screenshot={shot}",
                    degenerate["html"].as_uri()], capture_output=True, timeout=120, check=True)
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    red = (np.abs(pixels - [0xD7, 0x30, 0x27]).sum(axis=2) < 30)  # banner and alarm colour
    full = np.flatnonzero(red.mean(axis=1) > 0.2)  # red across the page: banner, box edges
    banner = full[: np.argmax(np.diff(full) > 1)]  # the first unbroken band: the banner
    assert full.min() < 150 and len(banner) > 20
    sides = np.flatnonzero((red.sum(axis=1) > 0) & (red.sum(axis=1) <= 12))  # box's two sides
    assert len(sides) > 50 and sides.min() > banner.max()


def test_runs_must_describe_one_dataset_and_options_are_keyword_only(folders):
    with pytest.raises(ValueError, match="one document describes one dataset"):
        write_results_document([folders / "binary", folders / "real"], **FAST)
    with pytest.raises(ValueError, match="one run per task"):
        write_results_document([folders / "binary", folders / "degenerate"], **FAST)
    with pytest.raises(TypeError):
        write_results_document(folders / "binary", folders / "out")


def test_document_warns_about_leaked_groups(tmp_path):
    frame = make_predictions("binary", n_patients=45)
    frame.loc[frame.index[:2], "group_id"] = "PAT_1"  # train image and patient 1 (val) share
    save_run(tmp_path, frame, make_info("binary"))
    paths = write_results_document(tmp_path, **FAST)
    assert "appear in more than one split" in paths["markdown"].read_text(encoding="utf-8")


def _notebook(path, answers: dict[str, str]) -> None:
    """A saved notebook holding one question and answer cell per grade id."""
    cells = []
    for grade_id, text in answers.items():
        cells.append({"cell_type": "markdown", "metadata": {},
                      "source": [f"**Question (2 points).** What does {grade_id} show?\n",
                                 "\n", "Details the document leaves out."]})
        cells.append({"cell_type": "markdown", "source": text, "metadata": {
            "nbgrader": {"solution": True, "grade": True, "grade_id": grade_id}}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")


def test_the_hand_in_has_author_summary_answers_limitations_and_no_absolute_path(folders,
                                                                                 tmp_path):
    course = tmp_path / "notebooks"
    _notebook(course / "01_eda" / "01_eda.ipynb", {"answer_who": "Mostly fair skin, BCC first."})
    _notebook(course / "02_binary" / "Copy of 02_binary.ipynb",
              {"answer_split": "Patients never cross splits.", "answer_curve": "YOUR ANSWER HERE"})
    _notebook(course / "04_evaluation" / "04_evaluation.ipynb", {"answer_ci": ""})
    found = course_notebooks(course / "04_evaluation", course / "01_eda", course / "02_binary")
    assert [p.name for p in found] == ["01_eda.ipynb", "Copy of 02_binary.ipynb",
                                       "04_evaluation.ipynb"]
    answers = written_answers(found)
    assert [(a.notebook, a.grade_id, a.answered) for a in answers] == [
        ("01_eda", "answer_who", True), ("02_binary", "answer_split", True),
        ("02_binary", "answer_curve", False), ("04_evaluation", "answer_ci", False)]
    assert answers[0].question == "What does answer_who show?"

    paths = write_results_document(folders / "binary", out_dir=tmp_path / "doc", **FAST,
                                   author="Ada Student", answers=answers,
                                   date=datetime.date(2026, 12, 8))
    text = paths["markdown"].read_text(encoding="utf-8")
    assert "**Author:** Ada Student · **Date:** 2026-12-08" in text
    summary = text.split("## Summary")[1].split("\n## ")[0]
    assert re.search(r"on \d+ test images of \d+ patients", summary), summary
    assert "synthetic stand-in images" in summary and "AUROC" in summary
    limitations = text.split("\n## Limitations\n")[1].split("\n## ")[0]
    assert "Same-source test set" in limitations
    exploration = text.split("\n## Exploring the data\n")[1].split("\n## ")[0]
    assert "Mostly fair skin, BCC first." in exploration and "02_binary" not in exploration
    discussion = text.split("\n## Your discussion\n")[1].split("\n## ")[0]
    assert "**02_binary · What does answer_split show?**" in discussion
    assert "Patients never cross splits." in discussion
    assert discussion.count("*(not answered yet)*") == 2, "empty answers are shown as such"
    assert str(folders) not in text and str(tmp_path) not in text, "no absolute path"
    assert f"| run folder | {folders.name}/binary |" in text, "the folder by name only"
    html = paths["html"].read_text(encoding="utf-8")
    assert "Ada Student" in html and str(folders) not in html
