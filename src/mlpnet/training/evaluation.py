"""Per-epoch metrics and validation loss, computed from network outputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .. import backprop, metrics
from ..losses import Loss

METRIC_NAMES = ("mse", "rmse", "mae", "r2", "accuracy")
"""The metric names that ``fit(metrics=...)`` accepts."""


def class_labels(outputs: np.ndarray) -> np.ndarray:
    """Turn (m, n_outputs) scores into labels: output >= 0.5 for one output, else the argmax."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(outputs, axis=1)


def output_accuracy(Y: np.ndarray, Y_hat: np.ndarray) -> float:
    """Compute the accuracy of outputs against 0/1 or one-hot targets."""
    return metrics.accuracy(class_labels(Y), class_labels(Y_hat))


METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "mse": metrics.mean_squared_error,
    "rmse": metrics.root_mean_squared_error,
    "mae": metrics.mean_absolute_error,
    "r2": metrics.r2_score,
    "accuracy": output_accuracy,
}


def compute_metrics(names: Sequence[str], Y: np.ndarray, Y_hat: np.ndarray, prefix: str = "") -> dict[str, float]:
    """Compute each named metric of predictions ``Y_hat`` against targets ``Y``, both (m, n_outputs).

    Metrics are unweighted, even when training uses sample weights.
    """
    return {prefix + name: METRIC_FUNCTIONS[name](Y, Y_hat) for name in names}


def validation_records(
    net, loss: Loss, X: np.ndarray, Y: np.ndarray, scale: np.ndarray | float, metric_names: Sequence[str]
) -> dict[str, float]:
    """Compute ``val_loss`` (no L2 penalty) and the ``val_`` metrics of the current parameters."""
    trace = backprop.forward(net._weights, net._biases, net._activations, X)
    records = {"val_loss": backprop.loss_value(loss, trace, Y, scale)}
    if metric_names and np.isfinite(trace.output).all():
        records.update(compute_metrics(metric_names, Y, trace.output, prefix="val_"))
    elif metric_names:
        records.update({"val_" + name: float("nan") for name in metric_names})
    return records
