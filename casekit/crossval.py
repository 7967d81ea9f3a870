"""Bookkeeping for k-fold cross-validation: fit functions, per-fold scores, paired plots.

The fold loop itself (which rows train, which are held out, how patients are kept whole)
is the caller's: in assignment 05 the student writes it. This module supplies what goes
around it: ready-made *fit-predict* functions ``fit_predict(x_train, y_train, x_test) ->
scores`` for the loop to call, a table of each fold's metrics, a fold-by-model table for a
paired comparison, and its plot.

Scores follow casekit's convention: a binary model gives P(class 1), shape (n,); a model
for K classes gives probabilities (n, K), columns in class-index order.

Example:
    >>> import numpy as np
    >>> y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    >>> score = np.array([.2, .9, .4, .6, .1, .7, .3, .5])
    >>> folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> score_folds(y, score, folds)["auroc"].tolist()
    [1.0, 0.75]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

FitPredict = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def logistic_model(n_classes: int, *, C: float = 1.0, balanced: bool = True) -> FitPredict:
    """A fit-predict function: impute (median) → standardise → logistic regression.

    ``n_classes`` fixes the output: 2 gives P(class 1), shape (n,); more give (n,
    n_classes) probabilities, with zeros for a class absent from a training fold. Missing
    values (NaN) in a feature are filled with that feature's training median.
    ``balanced=True`` weights the classes as ``class_weight="balanced"`` (scikit-learn).

    Example:
        >>> fit_predict = logistic_model(2)
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
        >>> bool(fit_predict(x, y, np.array([[3.0]]))[0] > 0.5)
        True
    """
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")

    def fit_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        model = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
            LogisticRegression(C=C, max_iter=3000,
                               class_weight="balanced" if balanced else None),
        )
        # Small problems: one BLAS thread is several times faster than many fighting over
        # two cores (measured: 0.4 s instead of 1.3 s for 480 x 1,280 features, six classes).
        with threadpool_limits(limits=1, user_api="blas"):
            model.fit(np.asarray(x_train, dtype=float), np.asarray(y_train))
            proba = model.predict_proba(np.asarray(x_test, dtype=float))
        classes = model[-1].classes_.astype(int)
        full = np.zeros((len(proba), n_classes))
        full[:, classes] = proba
        return full[:, 1] if n_classes == 2 else full

    return fit_predict


def keras_model(build: Callable[[], object], *, epochs: int, batch_size: int = 32,
                learning_rate: float = 1e-3, balanced: bool = True, seed: int = 0) -> FitPredict:
    """A fit-predict function that trains the Keras model ``build()`` from scratch each call.

    The model is built and compiled once (Adam at ``learning_rate``; binary cross-entropy
    for one output unit, sparse categorical cross-entropy otherwise); every call restores
    its initial weights (BatchNormalization statistics included) and zeroes the optimizer's
    state, then trains ``epochs`` epochs on the call's training rows with
    :func:`casekit.training.fit` (balanced class weights from those rows when ``balanced``)
    and returns :func:`casekit.training.predict_proba` for the test rows. Reusing one
    compiled model spares TensorFlow's tracing in every fold (seconds per fold on a CPU);
    no state is carried from one fold to the next. After the first call the function's
    ``model`` attribute is the compiled model (holding the last call's weights).

    Example:
        >>> from casekit.models import build_baseline_cnn
        >>> fit_predict = keras_model(lambda: build_baseline_cnn(6, input_size=32),
        ...                           epochs=2)  # doctest: +SKIP
    """
    state: dict[str, object] = {}

    def fit_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        import keras

        from casekit.imbalance import class_weights
        from casekit.training import fit, predict_proba

        if "model" not in state:
            keras.utils.set_random_seed(seed)
            model = build()
            binary = model.output_shape[-1] == 1
            model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                          loss="binary_crossentropy" if binary
                          else "sparse_categorical_crossentropy")
            state.update(model=model, initial=model.get_weights())
            fit_predict.model = model
        model = state["model"]
        model.set_weights(state["initial"])
        for variable in model.optimizer.variables:  # iteration count, moments; not the rate
            if not variable.path.endswith("learning_rate"):
                variable.assign(keras.ops.zeros(variable.shape, dtype=variable.dtype))
        fit(model, (x_train, y_train), epochs=epochs, batch_size=batch_size,
            class_weight=class_weights(y_train) if balanced else None, seed=seed, verbose=0)
        return predict_proba(model, x_test, batch_size=2 * batch_size)

    return fit_predict


def score_folds(y_true, scores, folds) -> pd.DataFrame:
    """One row per fold: ``fold``, ``n`` and its metrics, computed on that fold's rows only.

    Binary scores (n,): ``auroc``. Multiclass scores (n, K): ``balanced_accuracy`` and
    ``macro_f1`` of the most probable class (macro over the classes present in the fold).
    Rows whose ``fold`` is negative or whose scores are NaN are left out. Raises
    ``ValueError`` when the lengths differ.
    """
    y, s, f = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(folds)
    if not len(y) == len(s) == len(f):
        raise ValueError(f"y_true, scores and folds differ in length: {len(y)}, {len(s)}, "
                         f"{len(f)}")
    usable = (f >= 0) & ~np.isnan(s.reshape(len(s), -1)).any(axis=1)
    rows = []
    for fold in np.unique(f[usable]):
        keep = usable & (f == fold)
        row = {"fold": int(fold), "n": int(keep.sum())}
        if s.ndim == 1:
            row["auroc"] = float(roc_auc_score(y[keep], s[keep]))
        else:
            predicted = s[keep].argmax(axis=1)
            row["balanced_accuracy"] = float(balanced_accuracy_score(y[keep], predicted))
            row["macro_f1"] = float(f1_score(y[keep], predicted, average="macro",
                                             labels=np.unique(y[keep])))
        rows.append(row)
    return pd.DataFrame(rows)


def compare_models(results: Mapping[str, pd.DataFrame], metric: str) -> pd.DataFrame:
    """Fold-by-model table of one metric (rows: folds, columns: models) for paired comparisons.

    ``results`` maps a model's name to its :func:`score_folds` table. Every model must have
    been scored on the same folds, or the comparison is not paired: ``ValueError`` otherwise.
    """
    columns = {}
    for name, table in results.items():
        if metric not in table:
            raise ValueError(f"{name}: no column {metric!r} (has {list(table.columns)})")
        columns[name] = table.set_index("fold")[metric]
    folds = {name: tuple(column.index) for name, column in columns.items()}
    if len(set(folds.values())) > 1:
        raise ValueError(f"the models were scored on different folds: {folds}")
    return pd.DataFrame(columns).rename_axis("fold")


def plot_paired(table: pd.DataFrame, *, metric: str, ax: plt.Axes | None = None) -> plt.Figure:
    """Each fold as a grey line across the models of ``table`` (from :func:`compare_models`);
    black dots and lines: the models' means. Returns the figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.8 + 1.4 * table.shape[1], 3.2))
    x = np.arange(table.shape[1])
    for fold, values in table.iterrows():
        ax.plot(x, values.to_numpy(), color="0.6", marker="o", lw=1, label=None)
        ax.annotate(f"fold {fold}", (x[-1], values.iloc[-1]), xytext=(4, 0),
                    textcoords="offset points", fontsize=7, color="0.4", va="center")
    ax.plot(x, table.mean().to_numpy(), color="black", marker="D", lw=2, label="mean")
    ax.set_xticks(x, table.columns, rotation=15)
    ax.set_xlim(-0.3, x[-1] + 0.6)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric.replace('_', ' ')} per fold: same folds, paired")
    ax.legend(loc="best", fontsize=8)
    ax.figure.tight_layout()
    return ax.figure
