"""Evaluation metrics as pure functions of targets and predictions.

The regression metrics follow scikit-learn's definitions: with several
outputs they compute the metric per output and average the outputs with
equal weights.  So ``mean_squared_error`` is the training loss "mse"
(which sums over outputs) divided by the number of outputs.

Inputs are array-likes of shape (m,) or (m, n_outputs); predictions and
targets must have the same number of rows.  Invalid input raises
:class:`~mlpnet.errors.InvalidDataError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidDataError
from .validation import as_numeric_array, check_finite

__all__ = [
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "r2_score",
    "accuracy",
    "log_loss",
    "confusion_matrix",
]


# -- input checks -----------------------------------------------------------


def as_columns(values: Any, name: str) -> np.ndarray:
    """Convert to a finite float64 array of shape (m, n_outputs); (m,) becomes (m, 1)."""
    array = as_numeric_array(values, name)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise InvalidDataError(f"{name} must have shape (m,) or (m, n_outputs), got shape {array.shape}")
    if array.shape[0] == 0:
        raise InvalidDataError(f"{name} is empty; pass at least one row")
    array = np.asarray(array, dtype=np.float64)
    check_finite(array, name)
    return array


def check_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return targets and predictions as (m, n_outputs) float64 arrays of equal shape."""
    Y = as_columns(y_true, "y_true")
    Y_hat = as_columns(y_pred, "y_pred")
    if Y.shape != Y_hat.shape:
        raise InvalidDataError(
            f"y_true has shape {Y.shape} but y_pred has shape {Y_hat.shape}; "
            f"pass one prediction per target"
        )
    return Y, Y_hat


def check_weights(sample_weight: Any, m: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    weights = as_numeric_array(sample_weight, "sample_weight").astype(np.float64)
    if weights.shape != (m,):
        raise InvalidDataError(f"sample_weight must have shape ({m},), got shape {weights.shape}")
    check_finite(weights, "sample_weight")
    if (weights < 0).any() or weights.sum() <= 0:
        raise InvalidDataError("sample_weight must be 0 or more, with a positive sum")
    return weights


def average_rows(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Average (m, k) values over rows, optionally weighted, giving (k,)."""
    return np.average(values, axis=0, weights=weights)


# -- regression ---------------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Compute mean_j [ sum_i w_i (y_ij - yhat_ij)^2 / sum_i w_i ], with w_i = 1 by default.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (m,) or (m, n_outputs)
    sample_weight : array-like of shape (m,), optional
    """
    Y, Y_hat = check_pair(y_true, y_pred)
    weights = check_weights(sample_weight, Y.shape[0])
    # A residual beyond about 1.3e154 squares to infinity, and the mean squared error is then infinite.
    with np.errstate(over="ignore"):
        return float(average_rows((Y - Y_hat) ** 2, weights).mean())


def root_mean_squared_error(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Compute the square root of each output's mean squared error, averaged over outputs."""
    Y, Y_hat = check_pair(y_true, y_pred)
    weights = check_weights(sample_weight, Y.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        residuals = Y - Y_hat
        rms = np.sqrt(average_rows(residuals**2, weights))
        overflowed = ~np.isfinite(rms) & np.isfinite(residuals).all(axis=0)
        if overflowed.any():
            # sqrt(mean(r^2)) = c sqrt(mean((r / c)^2)) for c = max |r|, whose squares stay finite.
            largest = np.max(np.abs(residuals[:, overflowed]), axis=0)
            rms[overflowed] = largest * np.sqrt(average_rows((residuals[:, overflowed] / largest) ** 2, weights))
    return float(rms.mean())


def mean_absolute_error(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Compute mean_j [ sum_i w_i |y_ij - yhat_ij| / sum_i w_i ]."""
    Y, Y_hat = check_pair(y_true, y_pred)
    weights = check_weights(sample_weight, Y.shape[0])
    with np.errstate(over="ignore"):
        return float(average_rows(np.abs(Y - Y_hat), weights).mean())


def r2_score(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Compute the coefficient of determination R^2 = 1 - SS_res / SS_tot, averaged over outputs.

    An output whose targets are constant (SS_tot = 0) scores 1.0 when its
    predictions are exact and 0.0 otherwise, as scikit-learn's default
    ``force_finite=True`` does.
    """
    Y, Y_hat = check_pair(y_true, y_pred)
    weights = check_weights(sample_weight, Y.shape[0])
    w = np.ones(Y.shape[0]) if weights is None else weights

    with np.errstate(over="ignore", invalid="ignore"):
        # NOTE: the mean itself overflows for targets near +-1.8e308, and R2 is then NaN.
        mean = average_rows(Y, weights)
        residuals, deviations = Y - Y_hat, Y - mean
        # Both sums are divided by the same c^2, c = the largest |residual| or
        # |deviation| of the output, so that squares near 1e308 stay finite.
        # The ratio of the sums does not change.
        largest = np.maximum(np.abs(residuals).max(axis=0), np.abs(deviations).max(axis=0))
        largest[(largest == 0) | ~np.isfinite(largest)] = 1.0
        residual_sum = w @ (residuals / largest) ** 2
        total_sum = w @ (deviations / largest) ** 2

    scores = np.ones(Y.shape[1])
    defined = total_sum != 0
    scores[defined] = 1.0 - residual_sum[defined] / total_sum[defined]
    scores[~defined & (residual_sum != 0)] = 0.0
    return float(scores.mean())


# -- classification -----------------------------------------------------------


def as_labels(values: Any, name: str) -> np.ndarray:
    """Convert class labels to a 1-D array; a one-column 2-D array is flattened."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(f"{name} could not be converted to an array of labels ({exc})") from exc
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidDataError(
            f"{name} must be a 1-D array of class labels, got shape {array.shape}; "
            f"for one-hot rows or probabilities pass their argmax along axis 1"
        )
    if array.shape[0] == 0:
        raise InvalidDataError(f"{name} is empty; pass at least one label")
    return array


def check_label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    labels_true = as_labels(y_true, "y_true")
    labels_pred = as_labels(y_pred, "y_pred")
    if labels_true.shape != labels_pred.shape:
        raise InvalidDataError(
            f"y_true has {labels_true.shape[0]} labels but y_pred has {labels_pred.shape[0]}; "
            f"pass one predicted label per sample"
        )
    return labels_true, labels_pred


def accuracy(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Compute the (weighted) fraction of samples whose predicted label equals the true label.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (m,)
        Class labels of any comparable type.
    """
    labels_true, labels_pred = check_label_pair(y_true, y_pred)
    weights = check_weights(sample_weight, labels_true.shape[0])
    return float(np.average(labels_true == labels_pred, weights=weights))


def log_loss(y_true: Any, y_proba: Any, sample_weight: Any = None) -> float:
    """Compute the cross-entropy -mean_i sum_k y_ik log p_ik from class probabilities.

    Probabilities are clipped to [eps, 1 - eps], eps the float64 machine
    epsilon, as scikit-learn does, so a probability of exactly 0 or 1
    gives a finite loss (about 36 for a confident wrong prediction).

    Parameters
    ----------
    y_true : array-like of shape (m,) or (m, k)
        Binary: labels 0 and 1.  Multi-class: integer labels 0..k-1, or
        one-hot rows.
    y_proba : array-like of shape (m,), (m, 1) or (m, k)
        Binary: the probability of class 1.  Multi-class: one probability
        per class, rows summing to 1.
    sample_weight : array-like of shape (m,), optional
    """
    P = as_columns(y_proba, "y_proba")
    if P.shape[1] == 1:
        P = np.hstack([1.0 - P, P])
    m, n_classes = P.shape
    if (P < 0).any() or (P > 1).any():
        raise InvalidDataError("y_proba must hold probabilities in [0, 1]; apply a sigmoid or softmax first")

    Y = as_numeric_array(y_true, "y_true")
    if Y.ndim == 2 and Y.shape[1] == n_classes:
        one_hot = np.asarray(Y, dtype=np.float64)
    else:
        labels = as_labels(Y, "y_true")
        if labels.shape[0] != m:
            raise InvalidDataError(f"y_true has {labels.shape[0]} rows but y_proba has {m}")
        if not np.isin(labels, np.arange(n_classes)).all():
            raise InvalidDataError(
                f"y_true must hold integer labels 0..{n_classes - 1} for {n_classes} classes, "
                f"got values {np.unique(labels)[:10].tolist()}"
            )
        one_hot = np.eye(n_classes)[labels.astype(np.int64)]
    if one_hot.shape[0] != m:
        raise InvalidDataError(f"y_true has {one_hot.shape[0]} rows but y_proba has {m}")
    weights = check_weights(sample_weight, m)

    eps = np.finfo(np.float64).eps
    log_P = np.log(np.clip(P, eps, 1.0 - eps))
    per_sample = -(one_hot * log_P).sum(axis=1)
    return float(np.average(per_sample, weights=weights))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None) -> np.ndarray:
    """Count samples by true label (rows) and predicted label (columns).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (m,)
    labels : array-like of shape (k,), optional
        The classes in row and column order; by default the sorted union of
        the labels in ``y_true`` and ``y_pred``.  Samples whose labels are
        not listed are not counted.

    Returns
    -------
    ndarray of int64, shape (k, k)
        Entry (i, j) counts the samples of class ``labels[i]`` predicted as ``labels[j]``.
    """
    labels_true, labels_pred = check_label_pair(y_true, y_pred)
    if labels is None:
        classes = np.union1d(labels_true, labels_pred)
    else:
        classes = as_labels(labels, "labels")
        if np.unique(classes).shape[0] != classes.shape[0]:
            raise InvalidDataError(f"labels must not repeat, got {classes.tolist()}")

    index = {label: i for i, label in enumerate(classes.tolist())}
    rows = np.array([index.get(label, -1) for label in labels_true.tolist()], dtype=np.int64)
    columns = np.array([index.get(label, -1) for label in labels_pred.tolist()], dtype=np.int64)
    counted = (rows >= 0) & (columns >= 0)

    k = classes.shape[0]
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (rows[counted], columns[counted]), 1)
    return matrix
