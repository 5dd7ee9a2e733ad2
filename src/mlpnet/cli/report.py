"""Metrics of a trained model and their text tables.

Regression metrics are computed on the target's original scale: MSE, RMSE,
MAE and R2.  Classification metrics: accuracy, log loss (from the predicted
class probabilities) and the confusion matrix.  The predicted class is the
one with the highest probability; a tie goes to the class listed first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import metrics

REGRESSION_METRICS = (("mse", "MSE"), ("rmse", "RMSE"), ("mae", "MAE"), ("r2", "R2"))
CLASSIFICATION_METRICS = (("accuracy", "accuracy"), ("log_loss", "log loss"))


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Compute MSE, RMSE, MAE and R2 of predictions (m,) against targets (m,)."""
    return {
        "mse": metrics.mean_squared_error(y_true, y_pred),
        "rmse": metrics.root_mean_squared_error(y_true, y_pred),
        "mae": metrics.mean_absolute_error(y_true, y_pred),
        "r2": metrics.r2_score(y_true, y_pred),
    }


def classification_metrics(true_indices: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Compute accuracy, log loss and the confusion matrix.

    Parameters
    ----------
    true_indices : ndarray of int, shape (m,)
        The true class of each row, as an index into the model's classes.
    probabilities : ndarray of shape (m, n_classes)

    Returns
    -------
    dict
        ``accuracy`` and ``log_loss`` (floats) and ``confusion_matrix``, a
        list of rows: entry [i][j] counts rows of class i predicted as class j.
    """
    n_classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    confusion = metrics.confusion_matrix(true_indices, predicted, labels=np.arange(n_classes))
    return {
        "accuracy": metrics.accuracy(true_indices, predicted),
        "log_loss": metrics.log_loss(true_indices, probabilities),
        "confusion_matrix": confusion.tolist(),
    }


def format_number(value: float | None) -> str:
    """Format a metric with 6 significant digits, or "non-finite" for None, which a model file stores in its place."""
    if value is None:
        return "non-finite"
    return f"{value:.6g}"


def metrics_table(results: dict[str, dict[str, Any] | None], task: str) -> list[str]:
    """Write one row per metric and one column per row set, such as training and validation.

    ``results`` maps a column title to that row set's metrics, or to None
    when there were no such rows (that column is left out).
    """
    columns = [(title, values) for title, values in results.items() if values]
    names = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    label_width = max(len(label) for _, label in names)
    widths = [max(12, len(title)) for title, _ in columns]

    lines = [" " * label_width + "".join(f"  {title:>{w}}" for (title, _), w in zip(columns, widths))]
    for key, label in names:
        cells = "".join(f"  {format_number(values[key]):>{w}}" for (_, values), w in zip(columns, widths))
        lines.append(f"{label:<{label_width}}{cells}")
    return lines


def confusion_table(confusion: Sequence[Sequence[int]], classes: Sequence[str]) -> list[str]:
    """Write a confusion matrix with the true class as rows and the predicted class as columns."""
    corner = "true \\ predicted"
    label_width = max(len(corner), *(len(label) for label in classes))
    widths = [max(6, len(label)) for label in classes]
    lines = [f"{corner:<{label_width}}" + "".join(f"  {label:>{w}}" for label, w in zip(classes, widths))]
    for label, row in zip(classes, confusion):
        lines.append(f"{label:<{label_width}}" + "".join(f"  {count:>{w}d}" for count, w in zip(row, widths)))
    return lines


def metrics_report(
    results: dict[str, dict[str, Any] | None], task: str, classes: Sequence[str] | None
) -> list[str]:
    """Write the metrics table and, for a classifier, one confusion matrix per row set."""
    lines = metrics_table(results, task)
    if task == "classification":
        for title, values in results.items():
            if values:
                lines.append("")
                lines.append(f"Confusion matrix on the {title} rows:")
                lines.extend(confusion_table(values["confusion_matrix"], classes))
    return lines
