"""Feature standardization and class-label encoding.

Standardization maps each column x to (x - mean) / scale, with the mean and
the population standard deviation (ddof=0, as scikit-learn's StandardScaler)
taken from the training rows only.  A constant column gets scale 1 and its
own value as the mean, so it standardizes to exact zeros without a division
by zero.  One training row is therefore enough.

Class labels are encoded as indices into a sorted list of classes; a network
with two classes has one sigmoid output (target: the index, 0 or 1), and one
with more classes has one softmax output per class (target: one-hot rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InvalidDataError


class UnknownLabelError(InvalidDataError):
    """A label is not one of the known classes.

    Attributes
    ----------
    row : int
        The 0-based position of the label.
    label : str
        The label's text.
    """

    def __init__(self, message: str, row: int, label: str):
        super().__init__(message)
        self.row = row
        self.label = label


@dataclass(frozen=True)
class Standardization:
    """Per-column mean and scale of a standardization.

    Attributes
    ----------
    mean : ndarray of shape (n_columns,), float64
    scale : ndarray of shape (n_columns,), float64
        The standard deviation of each column, or 1 where the column is constant.
    """

    mean: np.ndarray
    scale: np.ndarray


def fit_standardization(X: np.ndarray) -> Standardization:
    """Compute the mean and scale of every column of X.

    Parameters
    ----------
    X : ndarray of shape (m, n), m >= 1, finite

    Returns
    -------
    Standardization
        A column whose values are all equal gets its value as the mean and
        scale 1, so it standardizes to exact zeros.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise InvalidDataError(
            f"standardization needs a 2-D array with at least one row, got shape {X.shape}"
        )
    constant = np.all(X == X[0], axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        column_mean = X.mean(axis=0)
        std = X.std(axis=0)
    overflowed = ~(np.isfinite(column_mean) & np.isfinite(std))
    if overflowed.any():
        column_mean[overflowed], std[overflowed] = scaled_mean_and_std(X[:, overflowed])
    mean = np.where(constant, X[0], column_mean)
    scale = np.where(constant | (std == 0), 1.0, std)
    return Standardization(mean=mean, scale=scale)


def scaled_mean_and_std(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compute the column means and standard deviations of finite X whose sums or squares overflow.

    Each column is divided by its largest absolute value c first, so every
    entry lies in [-1, 1].  Then mean = c mean(X / c) and std = c std(X / c)
    are both at most c in magnitude, and so finite.

    Parameters
    ----------
    X : ndarray of shape (m, k), finite, no column all zeros

    Returns
    -------
    mean, std : ndarray of shape (k,)
    """
    largest = np.max(np.abs(X), axis=0)
    scaled = X / largest
    return largest * scaled.mean(axis=0), largest * scaled.std(axis=0)


def standardize(X: np.ndarray, standardization: Standardization) -> np.ndarray:
    """Compute (X - mean) / scale column by column, (m, n) -> (m, n) float64."""
    return (np.asarray(X, dtype=np.float64) - standardization.mean) / standardization.scale


def unstandardize(Y: np.ndarray, standardization: Standardization) -> np.ndarray:
    """Compute Y * scale + mean column by column: the inverse of :func:`standardize`."""
    return np.asarray(Y, dtype=np.float64) * standardization.scale + standardization.mean


def label_text(value: Any) -> str:
    """Return the text form of a class label; an integral float such as 2.0 becomes "2"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8")
    return str(value).strip()


def find_classes(y: Sequence[Any] | np.ndarray) -> list[str]:
    """Return the sorted distinct labels of y as text.

    Numeric labels sort by value (2 before 10); text labels sort as strings.
    """
    values = np.asarray(y)
    if values.dtype.kind in "biuf":
        return [label_text(v) for v in np.unique(values)]
    return sorted({label_text(v) for v in values})


def encode_labels(y: Sequence[Any] | np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Map each label to its index in ``classes``.

    Labels are compared by their text form (see :func:`label_text`), and a
    numeric label also matches a class with the same numeric value, so "1.0"
    matches the class "1".

    Returns
    -------
    ndarray of shape (m,), int64

    Raises
    ------
    UnknownLabelError
        If a label is not one of ``classes``; the message names the label,
        its 0-based row and the known classes.
    """
    index_of = {label: i for i, label in enumerate(classes)}
    numeric_index = {}
    for label, i in index_of.items():
        number = parse_number(label)
        if number is not None:
            numeric_index.setdefault(number, i)

    indices = np.empty(len(y), dtype=np.int64)
    for row, value in enumerate(y):
        text = label_text(value)
        index = index_of.get(text)
        if index is None:
            number = parse_number(text)
            index = numeric_index.get(number) if number is not None else None
        if index is None:
            known = ", ".join(repr(c) for c in classes)
            raise UnknownLabelError(
                f"unknown class label {text!r} in row {row} (0-based); "
                f"the model knows only the classes {known}",
                row=row,
                label=text,
            )
        indices[row] = index
    return indices


def parse_number(text: str) -> float | None:
    """Return float(text) when text is a finite number, else None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def class_targets(indices: np.ndarray, n_outputs: int) -> np.ndarray:
    """Build the network's target array from class indices.

    One output (a sigmoid for two classes) gets the index itself, 0.0 or 1.0;
    more outputs (a softmax) get one-hot rows.

    Returns
    -------
    ndarray of shape (m, n_outputs), float64
    """
    indices = np.asarray(indices, dtype=np.int64)
    if n_outputs == 1:
        return indices.astype(np.float64).reshape(-1, 1)
    targets = np.zeros((indices.size, n_outputs), dtype=np.float64)
    targets[np.arange(indices.size), indices] = 1.0
    return targets


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Turn network outputs into one probability column per class.

    One sigmoid output p becomes the columns (1 - p, p); softmax outputs are
    returned unchanged.

    Returns
    -------
    ndarray of shape (m, n_classes), float64
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape[1] == 1:
        return np.hstack([1.0 - outputs, outputs])
    return outputs


__all__ = [
    "UnknownLabelError",
    "Standardization",
    "fit_standardization",
    "standardize",
    "unstandardize",
    "label_text",
    "find_classes",
    "encode_labels",
    "class_targets",
    "class_probabilities",
]
