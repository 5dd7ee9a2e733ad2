"""Training and validation data as validated chunks that stay where they were computed.

:func:`prepare_data` turns Dask arrays (or in-memory arrays next to them)
into a :class:`ChunkedData`.  The client checks the shapes from the arrays'
metadata and aligns X, Y and the sample weights into the same row chunks.
Each chunk is then converted and checked where it lives, and only its small
report travels to the client, where the first problem in row order raises
the error that in-memory input would get.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from ..validation import as_numeric_array
from .chunks import ChunkReport, chunk_report, prepare_chunk, select_rows
from .dependency import require_dask
from .detect import is_dask_collection
from .messages import (
    check_dtype_kind,
    check_feature_shape,
    check_target_shape,
    check_weight_shape,
    check_weight_sum,
    raise_first_problem,
)
from .moments import Moments, combine_moments

logger = logging.getLogger(__name__)


@dataclass
class ChunkedData:
    """Validated rows held as chunks by an executor.

    Attributes
    ----------
    executor : LocalExecutor or ClusterExecutor
    chunks : list
        One handle per non-empty chunk, in row order.
    reports : list of ChunkReport
        The report of each chunk.
    dtype : numpy.dtype
        The network's dtype, which every chunk has.
    weighted : bool
        Whether the rows have sample weights.
    """

    executor: Any
    chunks: list[Any]
    reports: list[ChunkReport]
    dtype: np.dtype
    weighted: bool = False

    @property
    def n_samples(self) -> int:
        return sum(report.n_rows for report in self.reports)

    @property
    def n_chunks(self) -> int:
        return len(self.chunks)

    @cached_property
    def target_moments(self) -> Moments:
        return combine_moments([report.target_moments for report in self.reports])

    def scale_arguments(self) -> dict[str, Any]:
        """Return the keyword arguments that give a chunk function each row's share of the loss.

        Without weights, ``scale`` is 1/m in the network's dtype, as in
        :func:`mlpnet.backprop.row_scale`; with weights, ``total_weight`` is
        the sum of all weights, which each chunk divides its weights by.
        """
        if not self.weighted:
            return {"scale": self.dtype.type(1.0 / self.n_samples), "total_weight": None}
        total = self.dtype.type(sum(report.weight_sum for report in self.reports))
        return {"scale": None, "total_weight": total}

    def rows(self, index: np.ndarray) -> ChunkedData:
        """Keep the rows at ``index``, sorted 0-based positions in the whole data set.

        The rows keep their order.  This is how a validation split selects
        training and validation rows, chunk by chunk where the chunks live.
        """
        index = np.asarray(index, dtype=np.int64)
        if index.size > 1 and not (np.diff(index) > 0).all():
            raise InvalidDataError("distributed row selection needs sorted positions without repeats")
        keep = np.zeros(self.n_samples, dtype=bool)
        keep[index] = True
        offsets = np.cumsum([0] + [report.n_rows for report in self.reports])

        unchanged, changed, masks = [], [], []
        for position, (handle, report) in enumerate(zip(self.chunks, self.reports)):
            mask = keep[offsets[position] : offsets[position + 1]]
            if mask.all():
                unchanged.append((position, handle, report))
            elif mask.any():
                changed.append(position)
                masks.append(mask)

        derived = self.executor.derive(select_rows, [self.chunks[p] for p in changed], masks)
        derived_reports = self.executor.map(chunk_report, derived) if derived else []
        selected = {p: (h, r) for p, h, r in unchanged}
        selected.update({p: (h, r) for p, h, r in zip(changed, derived, derived_reports)})
        order = sorted(selected)
        return ChunkedData(
            self.executor,
            [selected[p][0] for p in order],
            [selected[p][1] for p in order],
            self.dtype,
            self.weighted,
        )


# -- Dask arrays --------------------------------------------------------------------


def as_dask_array(value: Any, name: str):
    """Return a Dask array for a Dask array, DataFrame or Series, or for in-memory array-like input.

    In-memory input goes through the same conversion as in-memory training,
    so it fails with the same messages, and becomes one chunk.
    """
    _, da = require_dask()
    if is_dask_collection(value):
        if isinstance(value, da.Array):
            return value
        if hasattr(value, "to_dask_array"):
            return value.to_dask_array(lengths=True)
        raise InvalidDataError(
            f"{name} is a Dask {type(value).__name__}, which cannot be used as training data; "
            f"pass a Dask array, DataFrame or Series"
        )
    array = as_numeric_array(value, name)
    return da.from_array(array, chunks=array.shape, name=False)


def has_unknown_chunks(array) -> bool:
    return any(math.isnan(size) for sizes in array.chunks for size in sizes)


def known_shape(array) -> tuple[int, ...]:
    return tuple(int(size) for size in array.shape)


def with_known_chunks(arrays: list):
    """Persist the arrays and compute their chunk sizes when some are unknown, such as after a filter."""
    dask, _ = require_dask()
    present = [array for array in arrays if array is not None]
    if not any(has_unknown_chunks(array) for array in present):
        return arrays
    persisted = iter(dask.persist(*present))
    result = []
    for array in arrays:
        if array is None:
            result.append(None)
            continue
        array = next(persisted)
        if has_unknown_chunks(array):
            array.compute_chunk_sizes()
        result.append(array)
    return result


def block_list(array) -> list:
    """Return one delayed object per row chunk; the columns must be in one chunk."""
    return array.to_delayed().ravel().tolist()


def prepare_data(
    executor: Any,
    X: Any,
    Y: Any,
    sample_weight: Any,
    n_inputs: int,
    n_outputs: int,
    dtype: np.dtype,
    names: tuple[str, str] = ("X", "Y"),
) -> ChunkedData:
    """Check, align, convert and persist the rows of X, Y and the sample weights.

    Parameters
    ----------
    executor : LocalExecutor or ClusterExecutor
    X : Dask array of shape (m, n_inputs), or array-like
    Y : Dask array of shape (m, n_outputs) or (m,), or array-like
    sample_weight : Dask array of shape (m,), array-like, scalar, or None
    n_inputs, n_outputs : int
        The network's sizes.
    dtype : numpy.dtype
        The network's dtype.
    names : tuple of str
        The names of X and Y in error messages, such as ("X_val", "Y_val").

    Raises
    ------
    InvalidDataError
        With the message that in-memory input gets.  Shape errors are found
        before invalid entries, because they need no pass over the data.
    """
    dask, da = require_dask()
    x_name, y_name = names
    native = [is_dask_collection(value) for value in (X, Y, sample_weight)]
    X = as_dask_array(X, x_name)
    Y = as_dask_array(Y, y_name)
    weights = None if sample_weight is None else as_dask_array(sample_weight, "sample_weight")
    for array, name in ((X, x_name), (Y, y_name), (weights, "sample_weight")):
        if array is not None:
            check_dtype_kind(array.dtype, name)

    X, Y, weights = with_known_chunks([X, Y, weights])
    check_feature_shape(known_shape(X), n_inputs, x_name)
    m = known_shape(X)[0]
    check_target_shape(known_shape(Y), m, n_outputs, y_name)
    if weights is not None and weights.ndim == 0:
        # A single weight applies to every row, as with in-memory input.
        weights = da.full((m,), weights.compute(), dtype=np.float64, chunks=m)
    if weights is not None:
        check_weight_shape(known_shape(weights), m)

    row_chunks = row_chunking([X, Y, weights], native)
    X = X.rechunk({0: row_chunks, 1: -1})
    Y = Y.rechunk({0: row_chunks, 1: -1} if Y.ndim == 2 else {0: row_chunks})
    if weights is not None:
        weights = weights.rechunk({0: row_chunks})

    x_blocks, y_blocks = block_list(X), block_list(Y)
    w_blocks = block_list(weights) if weights is not None else [None] * len(x_blocks)
    prepare = dask.delayed(prepare_chunk, pure=True)
    tasks = [prepare(xb, yb, wb, dtype.name) for xb, yb, wb in zip(x_blocks, y_blocks, w_blocks)]
    handles = executor.persist(tasks)
    reports = executor.map(chunk_report, handles)

    raise_first_problem(reports, "features", x_name)
    raise_first_problem(reports, "targets", y_name)
    raise_first_problem(reports, "weights", "sample_weight")
    if weights is not None:
        check_weight_sum(sum(report.weight_sum for report in reports))

    non_empty = [(handle, report) for handle, report in zip(handles, reports) if report.n_rows > 0]
    logger.debug("prepared %d rows in %d chunks on %s", m, len(non_empty), executor.description)
    return ChunkedData(
        executor,
        [handle for handle, _ in non_empty],
        [report for _, report in non_empty],
        dtype,
        weighted=weights is not None,
    )


def row_chunking(arrays: list, native: list[bool]) -> tuple[int, ...]:
    """Choose the row chunks of the first array the caller passed as a Dask collection.

    An in-memory array passed next to a Dask array arrives as one chunk, so
    it follows the Dask array's chunks instead of merging them into one.
    """
    for array, is_native in zip(arrays, native):
        if array is not None and is_native:
            return tuple(int(size) for size in array.chunks[0])
    return tuple(int(size) for size in arrays[0].chunks[0])
