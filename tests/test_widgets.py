"""casekit.widgets: the pure functions behind the widgets, and the widgets without a kernel."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import ipywidgets
import numpy as np
import pandas as pd
import pytest

from casekit import metrics, widgets

REPO = Path(__file__).resolve().parents[1]


def test_threshold_stats_values():
    stats = widgets.threshold_stats([0, 0, 0, 1, 1], [0.1, 0.5, 0.7, 0.4, 0.9], 0.5)
    assert (stats["tn"], stats["fp"], stats["fn"], stats["tp"]) == (1, 2, 1, 1)
    assert stats["sensitivity"] == 0.5
    assert stats["specificity"] == pytest.approx(1 / 3)
    assert stats["ppv"] == pytest.approx(1 / 3)
    assert stats["npv"] == 0.5
    assert widgets.threshold_stats is metrics.threshold_stats


def test_threshold_explorer_updates_live():
    y = [0, 0, 0, 1, 1]
    score = [0.1, 0.5, 0.7, 0.4, 0.9]
    explorer = widgets.threshold_explorer(y, score, n_boot=50)
    assert isinstance(explorer, ipywidgets.VBox)
    slider, view = explorer.children
    assert slider.value == 0.5 and "TP 1" in view.value and "FP 2" in view.value
    slider.value = 0.95
    assert "TP 0" in view.value and "FP 0" in view.value
    assert re.search(r"ppv</td><td[^>]*>undefined", view.value)  # no positive calls
    slider.value = 0.05
    assert "sensitivity</td>" in view.value and "TP 2" in view.value
    assert "bootstrap over images" in view.value


def test_threshold_explorer_with_groups_and_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    logits = 2 * y + rng.normal(0, 1, 200)  # not probabilities: the slider spans the scores
    explorer = widgets.threshold_explorer(y, logits, groups=np.arange(200) // 4, n_boot=50)
    slider, view = explorer.children
    assert slider.min == pytest.approx(logits.min()) and slider.max == pytest.approx(logits.max())
    assert "patients/lesions" in view.value


def test_threshold_intervals_bracket_the_value():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    score = np.clip(0.4 * y + 0.6 * rng.random(300), 0, 1)
    weights = np.concatenate(list(metrics.bootstrap_weights(300, n_boot=200, seed=0)))
    intervals = widgets.threshold_intervals(weights, y, score, 0.5)
    stats = widgets.threshold_stats(y, score, 0.5)
    for name, (low, high) in intervals.items():
        assert low <= stats[name] <= high, name
        assert high - low < 0.3


def test_error_types():
    assert widgets.error_types([1, 0, 1, 0], [1, 1, 0, 0], 2).tolist() == ["TP", "FP", "FN", "TN"]
    assert widgets.error_types([0, 2, 1], [0, 1, 1], 3).tolist() == ["correct", "wrong",
                                                                      "correct"]


def test_filter_images():
    df = pd.DataFrame({"y_true": [0, 1, 2, 2, 1], "y_pred": [0, 2, 2, 1, 1]},
                      index=[10, 11, 12, 13, 14])  # positions, not index labels, come back
    names = ["ACK", "BCC", "MEL"]
    assert widgets.filter_images(df, names).tolist() == [0, 1, 2, 3, 4]
    assert widgets.filter_images(df, names, true_class="MEL").tolist() == [2, 3]
    assert widgets.filter_images(df, names, pred_class="MEL").tolist() == [1, 2]
    assert widgets.filter_images(df, names, error_type="wrong").tolist() == [1, 3]
    assert widgets.filter_images(df, names, "MEL", "all", "wrong").tolist() == [3]
    with pytest.raises(ValueError, match="unknown class"):
        widgets.filter_images(df, names, true_class="NEV")
    with pytest.raises(ValueError, match="choose from"):
        widgets.filter_images(df, names, error_type="FP")
    with pytest.raises(KeyError, match="y_pred"):
        widgets.filter_images(df[["y_true"]], names)


def test_image_browser_filters_and_pages():
    rng = np.random.default_rng(2)
    n = 30
    df = pd.DataFrame({"image_id": [f"IMG_{i}" for i in range(n)],
                       "y_true": rng.integers(0, 2, n), "y_pred": rng.integers(0, 2, n)})
    images = rng.integers(0, 256, (n, 40, 40, 3), dtype=np.uint8)
    browser = widgets.image_browser(images, df, ["benign", "cancer"], page_size=12)
    controls, summary, gallery = browser.children
    true_box, pred_box, kind_box, page_box = controls.children
    assert list(kind_box.options) == ["all", "TP", "FP", "TN", "FN"]
    assert "30 images match; page 1 of 3" in summary.value
    assert gallery.value.count("<img") == 12
    page_box.value = 3
    assert gallery.value.count("<img") == 6 and "IMG_29" in gallery.value
    kind_box.value = "FN"
    expected = int(((df.y_true == 1) & (df.y_pred == 0)).sum())
    assert f"{expected} images match; page 1 of" in summary.value  # back to the first page
    assert gallery.value.count("<img") == min(expected, 12)
    with pytest.raises(ValueError, match="len\\(df\\)"):
        widgets.image_browser(images[:5], df, ["benign", "cancer"])


BUILD_BOTH = """
import json, numpy as np, pandas as pd, ipywidgets
from casekit import widgets
explorer = widgets.threshold_explorer([0, 0, 0, 1, 1], [0.1, 0.5, 0.7, 0.4, 0.9], n_boot=20)
explorer.children[0].value = 0.95
df = pd.DataFrame({"y_true": [0, 1, 1, 0], "y_pred": [0, 0, 1, 1]})
browser = widgets.image_browser(np.zeros((4, 8, 8, 3), np.uint8), df, ["benign", "cancer"])
browser.children[0].children[2].value = "FN"
def tree(w):
    return [type(w).__name__, [tree(c) for c in getattr(w, "children", ())]]
print(json.dumps({"version": ipywidgets.__version__, "tree": [tree(explorer), tree(browser)],
                  "explorer": explorer.children[1].value, "browser": browser.children[1].value}))
"""


def install(target: Path, *requirements: str) -> Path:
    """Install ``requirements`` (no dependencies) into the throwaway folder ``target``."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(target), *requirements],
                   check=True)
    return target


def test_widgets_build_and_update_under_ipywidgets_7_7_and_8(tmp_path):
    """The same controls and the same updates under Colab's 7.7.1 and under 8."""
    versions = {"7": install(tmp_path / "ipywidgets7", "ipywidgets==7.7.1",
                             "ipython_genutils==0.2.0"),
                "8": install(tmp_path / "ipywidgets8", "ipywidgets==8.1.5")}
    results = {}
    for label, folder in versions.items():
        path = os.pathsep.join((str(folder), str(REPO)))
        done = subprocess.run([sys.executable, "-c", BUILD_BOTH], capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": path}, check=True)
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["7"]["version"] == "7.7.1" and results["8"]["version"] == "8.1.5"
    assert results["7"]["tree"] == results["8"]["tree"]  # same controls on both
    for result in results.values():
        assert "TP 0" in result["explorer"] and "FP 0" in result["explorer"]
        assert "1 images match" in result["browser"]
