"""casekit.plots: every function returns a Figure with the expected axes and artists."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from casekit import metrics, plots


@pytest.fixture(autouse=True, scope="module")
def agg_backend():
    """No display: the plots never touch pyplot, and Agg guarantees nothing tries to."""
    matplotlib.use("Agg")


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    score = np.clip(0.35 * y + 0.65 * rng.random(300), 0, 1)
    return y, score, np.arange(300) // 3


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 200)
    proba = rng.dirichlet(np.ones(4), 200)
    proba[np.arange(200), y] += 0.5
    return y, proba / proba.sum(axis=1, keepdims=True), ["ACK", "BCC", "MEL", "NEV"]


def _texts(ax) -> list[str]:
    return [text.get_text() for text in ax.texts]


def test_plot_class_distribution_counts_and_shares():
    fig = plots.plot_class_distribution(["nv", "nv", "mel", "nv"], order=["mel", "nv", "df"])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert sorted(p.get_width() for p in ax.patches) == [0, 1, 3]
    assert " 3 (75.0%)" in _texts(ax) and " 0 (0.0%)" in _texts(ax)
    assert ax.get_title() == "Class distribution (n = 4)"


def test_plot_demographics_panels():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({
        "label": rng.choice(["BCC", "NEV"], 80),
        "age": np.where(rng.random(80) < 0.1, np.nan, rng.normal(60, 10, 80)),
        "sex": rng.choice(["male", "female", None], 80),
        "site": rng.choice(["face", "back", None], 80),
        "skin_type": pd.array(rng.choice([1, 2, 3, None], 80), dtype="Int64"),
    })
    fig = plots.plot_demographics(df)
    titles = [ax.get_title() for ax in fig.axes[:6]]
    assert titles[1] == "Age by diagnosis" and titles[2] == "Sex by diagnosis"
    assert titles[0] == f"Age ({df['age'].isna().sum()} missing)"
    skin = fig.axes[4]
    assert [t.get_text() for t in skin.get_xticklabels()] == ["I", "II", "III", "IV", "V", "VI"]
    assert sum(p.get_height() for p in skin.patches) == df["skin_type"].notna().sum()
    # HAM10000 has no skin type: the panel says so instead of failing.
    fig = plots.plot_demographics(df.assign(skin_type=pd.array([None] * 80, dtype="Int64")))
    assert "no skin-type data recorded" in _texts(fig.axes[4])


def test_plot_training_curves_from_two_phases():
    head = {"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.8], "accuracy": [0.5, 0.6, 0.7],
            "val_accuracy": [0.5, 0.55, 0.6], "learning_rate": [1e-3] * 3}

    class History:  # what keras.callbacks.History exposes
        history = {"loss": [0.5, 0.4], "val_loss": [0.7, 0.72], "accuracy": [0.75, 0.8],
                   "val_accuracy": [0.62, 0.63], "learning_rate": [1e-5] * 2}

    fig = plots.plot_training_curves([head, History()])
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]  # no learning rate
    for ax in fig.axes:
        train, val, marker = ax.get_lines()
        assert list(train.get_xdata()) == [1, 2, 3, 4, 5]
        assert list(val.get_ydata())[-1] in (0.72, 0.63)
        assert list(marker.get_xdata()) == [3.5, 3.5]  # fine-tuning starts after epoch 3
    fig = plots.plot_training_curves(head, metrics=["loss"])
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 2
    with pytest.raises(KeyError, match="auc"):
        plots.plot_training_curves(head, metrics=["auc"])


def test_plot_roc_with_band(binary):
    y, score, groups = binary
    fig = plots.plot_roc(y, score, groups=groups, n_boot=100)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2  # the curve and the chance diagonal
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    auroc = metrics.roc_curve_ci(y, score, groups, n_boot=100)["auroc"]
    label = ax.get_legend().get_texts()[0].get_text()
    assert label == f"model: AUROC {metrics.format_estimate(auroc)}"
    assert "patients/lesions" in ax.get_legend().get_texts()[1].get_text()


def test_roc_band_brackets_the_curve(binary):
    y, score, groups = binary
    result = metrics.roc_curve_ci(y, score, groups, n_boot=200)
    curve = np.interp(result["grid"], result["fpr"], result["tpr"])
    inside = (result["tpr_low"] - 1e-9 <= curve) & (curve <= result["tpr_high"] + 1e-9)
    assert inside.mean() > 0.95
    assert (result["tpr_high"] - result["tpr_low"]).max() > 0.05


def test_plot_pr_with_band_and_prevalence(binary):
    y, score, _ = binary
    ax = plots.plot_pr(y, score, n_boot=50).axes[0]
    assert len(ax.get_lines()) == 2
    assert ax.get_lines()[1].get_ydata()[0] == pytest.approx(y.mean())
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1


def test_multiclass_curves_one_per_class(multiclass):
    y, proba, names = multiclass
    roc = plots.plot_roc(y, proba, class_names=names).axes[0]
    assert len(roc.get_lines()) == len(names) + 1
    assert roc.get_legend().get_texts()[0].get_text().startswith("ACK (AUROC")
    pr = plots.plot_pr(y, proba, class_names=names).axes[0]
    assert len(pr.get_lines()) == len(names)


def test_curve_on_given_axes(binary):
    y, score, _ = binary
    fig = Figure()
    ax = fig.subplots()
    assert plots.plot_roc(y, score, n_boot=10, ax=ax, label="B0") is fig
    plots.plot_roc(y, 1 - score, n_boot=10, ax=ax, label="inverted")
    assert len(ax.get_lines()) == 4


def test_plot_confusion_matrix_counts_and_shares_side_by_side():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0, 2])
    fig = plots.plot_confusion_matrix(y, predicted, class_names=["a", "b", "c"])
    counts, shares = fig.axes
    assert _texts(counts) == ["1", "1", "0", "0", "2", "0", "1", "0", "2"]
    assert _texts(shares)[:3] == ["0.50", "0.50", "0.00"]
    assert _texts(shares)[-3:] == ["0.33", "0.00", "0.67"]
    assert shares.get_title().startswith("Row-normalised")
    with pytest.raises(ValueError, match="class indices"):
        plots.plot_confusion_matrix(y, predicted, class_names=["a", "b"])


def test_plot_reliability_diagram_shows_ece(binary, multiclass):
    y, score, _ = binary
    fig = plots.plot_reliability_diagram(y, score, n_bins=10)
    top, bottom = fig.axes
    ece = metrics.expected_calibration_error(y, score)
    assert top.get_title() == f"Reliability diagram, ECE = {ece:.3f}"
    assert sum(p.get_height() for p in bottom.patches) == len(y)
    y3, proba, names = multiclass
    top = plots.plot_reliability_diagram(y3, proba, class_names=names).axes[0]
    expected = metrics.confidence_calibration(y3, proba)["ece"]
    assert top.get_title().endswith(f"{expected:.3f}")


def test_plot_image_grid_colours_right_and_wrong():
    images = np.zeros((3, 16, 16, 3), dtype=np.uint8)
    fig = plots.plot_image_grid(images, [0, 1, 1], [0, 0, 1], class_names=["benign", "cancer"],
                                ncols=2)
    assert len(fig.axes) == 4  # 2 × 2 grid, the last cell empty
    titles = [ax.title for ax in fig.axes[:3]]
    assert titles[0].get_text() == "true: benign\npred: benign"
    assert [to_hex(t.get_color()) for t in titles] == [plots.figure.CORRECT, plots.figure.WRONG,
                                                         plots.figure.CORRECT]
    assert len(fig.axes[3].images) == 0


def test_plot_gradcam_resizes_heatmaps():
    images = np.full((2, 32, 48, 3), 128, dtype=np.uint8)
    heatmaps = np.random.default_rng(3).random((2, 4, 6))
    fig = plots.plot_gradcam(images, heatmaps, titles=["mel", "nv"])
    assert len(fig.axes) == 4
    top, overlay = fig.axes[0], fig.axes[2]
    assert top.get_title() == "mel"
    assert len(overlay.images) == 2
    assert overlay.images[1].get_array().shape == (32, 48)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plots.plot_gradcam(images, heatmaps * 255)
    with pytest.raises(ValueError, match="one 2-D heatmap per image"):
        plots.plot_gradcam(images, heatmaps[:1])


def test_save_figure_writes_png_atomically(tmp_path):
    fig = plots.plot_class_distribution(["a", "b"])
    path = plots.save_figure(fig, tmp_path / "figs" / "classes.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["classes.png"]
    with pytest.raises(ValueError, match="PNG"):
        plots.save_figure(fig, tmp_path / "classes.pdf")


def test_figures_render_in_notebooks_without_pyplot():
    fig = plots.plot_class_distribution(["a", "b"])
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # what Jupyter calls to show it


def test_figure_options_are_keyword_only(binary):
    y, score, groups = binary
    with pytest.raises(TypeError):
        plots.plot_roc(y, score, groups, ["no", "yes"])
    with pytest.raises(TypeError):
        plots.plot_confusion_matrix(y, y, ["no", "yes"])
    with pytest.raises(TypeError):
        plots.plot_reliability_diagram(y, score, 5)
