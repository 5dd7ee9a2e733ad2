"""Row chunks as the workers keep them: converted, checked, and summarized.

Everything here runs where a chunk lives, on plain NumPy arrays.  A check
never raises on the worker: it records the first problem of each array in a
:class:`ChunkReport`, with the 0-based index inside the chunk, and the
client turns the first problem in row order into the same error that
in-memory input gets (see :mod:`mlpnet.distributed.messages`).  Reporting
instead of raising also keeps the errors' attributes, which do not survive
pickling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..validation import first_non_finite
from .moments import Moments, column_moments


@dataclass(frozen=True)
class Problem:
    """The first invalid entry of one array of a chunk.

    Attributes
    ----------
    kind : {"text", "not_numeric", "non_finite", "negative"}
    index : tuple of int
        The 0-based index inside the chunk; empty for "not_numeric".
    value : object
        The entry before the cast to the network's dtype.
    detail : str
        The dtype name for "non_finite", NumPy's message for "not_numeric".
    """

    kind: str
    index: tuple[int, ...] = ()
    value: Any = None
    detail: str = ""


@dataclass
class ChunkReport:
    """What the client needs to know about a chunk, without its rows.

    Attributes
    ----------
    n_rows : int
    problems : dict of str to Problem
        The first problem of each checked array, keyed by its role:
        "features", "targets" or "weights".
    weight_sum : float or None
        The sum of the sample weights, None without weights.
    target_moments : Moments or None
        Column statistics of the targets in float64, for the R^2 metric.
    feature_moments : Moments or None
        Column statistics of the features, only for :func:`prepare_features`.
    """

    n_rows: int
    problems: dict[str, Problem] = field(default_factory=dict)
    weight_sum: float | None = None
    target_moments: Moments | None = None
    feature_moments: Moments | None = None


class Chunk:
    """Validated rows in the network's dtype: X (m, n_inputs), Y (m, n_outputs), weights (m,) or None."""

    __slots__ = ("X", "Y", "weights", "report")

    def __init__(self, X: np.ndarray, Y: np.ndarray | None, weights: np.ndarray | None, report: ChunkReport):
        self.X = X
        self.Y = Y
        self.weights = weights
        self.report = report


# -- conversion and checks ------------------------------------------------------


def is_text(value: Any) -> bool:
    return isinstance(value, (str, bytes))


def numeric_block(block: Any) -> tuple[np.ndarray | None, Problem | None]:
    """Convert a block to a numeric array, or report the first text entry as in-memory input does."""
    array = np.asarray(block)
    if array.dtype.kind != "O":
        return array, None
    text = np.asarray(np.frompyfunc(is_text, 1, 1)(array), dtype=bool)
    if text.any():
        index = tuple(int(i) for i in np.argwhere(text)[0])
        return None, Problem("text", index, array[index])
    try:
        return array.astype(np.float64), None
    except (TypeError, ValueError) as exc:
        return None, Problem("not_numeric", detail=str(exc))


def cast_block(array: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, Problem | None]:
    """Cast to the network's dtype and report the first NaN, infinity, or value that overflowed in the cast."""
    with np.errstate(over="ignore", invalid="ignore"):
        converted = np.asarray(array, dtype=dtype)
    index = first_non_finite(converted)
    if index is None:
        return converted, None
    return converted, Problem("non_finite", index, array[index].item(), dtype.name)


def check_block(block: Any, dtype: np.dtype, as_column: bool) -> tuple[np.ndarray | None, Problem | None]:
    array, problem = numeric_block(block)
    if problem is not None:
        return None, problem
    if as_column and array.ndim == 1:
        array = array.reshape(-1, 1)
    return cast_block(array, dtype)


def check_weights(block: Any, dtype: np.dtype) -> tuple[np.ndarray | None, Problem | None]:
    weights, problem = check_block(block, dtype, as_column=False)
    if problem is not None:
        return None, problem
    negative = weights < 0
    if negative.any():
        row = int(np.argmax(negative))
        return None, Problem("negative", (row,), weights[row].item())
    return weights, None


# -- chunk builders ---------------------------------------------------------------


def prepare_chunk(X_block: Any, Y_block: Any, weight_block: Any, dtype_name: str) -> Chunk:
    """Convert and check one chunk of training or validation rows.

    Parameters
    ----------
    X_block : array-like of shape (m, n_inputs)
    Y_block : array-like of shape (m, n_outputs) or (m,)
    weight_block : array-like of shape (m,), or None
    dtype_name : str
        The network's dtype, "float64" or "float32".
    """
    dtype = np.dtype(dtype_name)
    report = ChunkReport(n_rows=int(np.shape(X_block)[0]))
    X, problem = check_block(X_block, dtype, as_column=False)
    if problem is not None:
        report.problems["features"] = problem
    Y, problem = check_block(Y_block, dtype, as_column=True)
    if problem is not None:
        report.problems["targets"] = problem
    weights = None
    if weight_block is not None:
        weights, problem = check_weights(weight_block, dtype)
        if problem is not None:
            report.problems["weights"] = problem
        else:
            report.weight_sum = float(weights.sum())
    if report.problems:
        return Chunk(None, None, None, report)
    report.target_moments = column_moments(Y)
    return Chunk(X, Y, weights, report)


def prepare_features(X_block: Any) -> ChunkReport:
    """Check a chunk of features in float64 and compute its column moments."""
    report = ChunkReport(n_rows=int(np.shape(X_block)[0]))
    X, problem = check_block(X_block, np.dtype(np.float64), as_column=False)
    if problem is not None:
        report.problems["features"] = problem
        return report
    report.feature_moments = column_moments(X)
    return report


def select_rows(chunk: Chunk, mask: np.ndarray) -> Chunk:
    """Keep the rows of a valid chunk where ``mask`` is True, with a new report."""
    weights = None if chunk.weights is None else chunk.weights[mask]
    report = ChunkReport(
        n_rows=int(mask.sum()),
        weight_sum=None if weights is None else float(weights.sum()),
    )
    Y = chunk.Y[mask]
    report.target_moments = column_moments(Y)
    return Chunk(chunk.X[mask], Y, weights, report)


def chunk_report(chunk: Chunk) -> ChunkReport:
    return chunk.report
