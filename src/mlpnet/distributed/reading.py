"""CSV part files as Dask arrays, read with the strict single-file reader.

:func:`read_csv` reads each file of a glob such as ``data/part-*.csv`` as
one task with :mod:`mlpnet.io.csv_reader`, on a worker that can open the
file.  Every file gets the strict reader's checks and messages, with the
true file name and line numbers, and becomes one row chunk of the result.
The client receives only a summary of each file (its columns, row count,
task and class labels) and checks that the files agree.

With a ``distributed.Client`` the files are read on the workers, so the
paths must be readable there (shared storage); the chunks stay in worker
memory.  Without one, the files are read in this process.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidDataError, InvalidParameterError, MlpnetError
from ..io import csv_reader
from ..io.csv_reader import CSVFormatError
from ..preprocessing import UnknownLabelError, encode_labels, find_classes
from ..preprocessing import class_targets as one_hot_targets
from .dependency import require_dask
from .executor import current_executor

logger = logging.getLogger(__name__)

TASKS = ("auto", "regression", "classification")


# -- on the worker ------------------------------------------------------------------


@dataclass
class ErrorRecord:
    """An error raised while reading a file, in a form that survives pickling."""

    type_name: str
    message: str
    path: str | None = None
    line: int | None = None
    column: str | None = None
    cell: str | None = None

    @classmethod
    def of(cls, exc: MlpnetError) -> ErrorRecord:
        return cls(
            type(exc).__name__,
            str(exc),
            getattr(exc, "path", None),
            getattr(exc, "line", None),
            getattr(exc, "column", None),
            getattr(exc, "cell", None),
        )

    def to_exception(self) -> MlpnetError:
        if self.type_name == "CSVFormatError":
            return CSVFormatError(self.message, self.path or "", self.line, self.column, self.cell)
        if self.type_name == "InvalidParameterError":
            return InvalidParameterError(self.message)
        return InvalidDataError(self.message)


@dataclass
class Part:
    """One file's rows, or the error that reading it raised.

    Attributes
    ----------
    path : str
    dataset : csv_reader.Dataset or None
    columns : list of str
        Every column of the file, from its header or by position.
    error : ErrorRecord or None
    """

    path: str
    dataset: csv_reader.Dataset | None = None
    columns: list[str] = field(default_factory=list)
    error: ErrorRecord | None = None


@dataclass
class PartSummary:
    """The summary of one file that the client receives, without the file's rows.

    Attributes
    ----------
    labels : ndarray or None
        The distinct class labels of a classification target.
    """

    path: str
    columns: list[str]
    feature_names: list[str]
    target_name: str
    task: str
    n_rows: int
    n_dropped: int
    labels: np.ndarray | None = None
    error: ErrorRecord | None = None


def read_part(
    path: str,
    target: str | int | None,
    features: list[str | int] | None,
    header: bool,
    delimiter: str,
    drop_missing: bool,
    task: str,
) -> Part:
    """Read one file with the strict reader; an error is recorded, not raised."""
    try:
        raw = csv_reader.read_csv(path, header=header, delimiter=delimiter, drop_missing=drop_missing)
        dataset = csv_reader.select(raw, target=target, features=features, task=task)
    except MlpnetError as exc:
        return Part(path, error=ErrorRecord.of(exc))
    return Part(path, dataset, list(raw.columns))


def summarize_part(part: Part) -> PartSummary:
    if part.error is not None:
        return PartSummary(part.path, [], [], "", "", 0, 0, error=part.error)
    dataset = part.dataset
    labels = None
    if dataset.task == "classification":
        labels = np.unique(dataset.y) if dataset.y.dtype.kind != "O" else np.asarray(sorted(set(dataset.y)), dtype=object)
    return PartSummary(
        part.path,
        part.columns,
        list(dataset.feature_names),
        dataset.target_name,
        dataset.task,
        int(dataset.X.shape[0]),
        int(dataset.n_dropped),
        labels,
    )


def part_features(part: Part) -> np.ndarray:
    return part.dataset.X


def part_targets(part: Part, as_text: bool) -> np.ndarray:
    y = part.dataset.y
    if as_text and y.dtype.kind != "O":
        return np.asarray([label_text_of_number(value) for value in y.tolist()], dtype=object)
    return y


def label_text_of_number(value: float | int) -> str:
    """Write a numeric class label as the strict reader writes numbers ("3" for 3.0)."""
    return str(value) if isinstance(value, int) else csv_reader.format_number(float(value))


# -- on the client ------------------------------------------------------------------


@dataclass
class DistributedDataset:
    """Training data read from CSV part files, as Dask arrays with one chunk per file.

    Attributes
    ----------
    X : Dask array of float64, shape (m, n)
    y : Dask array, shape (m,)
        float64 for regression.  For classification the dtype is that of the
        single-file reader: int64 when every label is an integer, float64
        when every label is another number, else object (str).
    feature_names : list of str
    target_name : str
    task : {"regression", "classification"}
    classes : list of str or None
        The sorted distinct class labels as text, for classification.
    labels : ndarray or None
        The distinct class labels with the dtype of ``y``, for classification.
    n_dropped : int
        Rows dropped because of an empty cell (only with ``drop_missing``).
    paths : list of str
        The files, in the order of their rows in X and y.
    part_rows : list of int
        The number of rows of each file.
    """

    X: Any
    y: Any
    feature_names: list[str]
    target_name: str
    task: str
    classes: list[str] | None
    labels: np.ndarray | None
    n_dropped: int
    paths: list[str]
    part_rows: list[int]

    @property
    def n_rows(self) -> int:
        return sum(self.part_rows)


def expand_paths(pattern: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """Return the sorted files of a glob pattern, or the given list of paths in its order.

    Raises
    ------
    CSVFormatError
        When the pattern matches no file.
    """
    if isinstance(pattern, (str, os.PathLike)):
        text = os.fspath(pattern)
        if not glob.has_magic(text):
            return [text]
        paths = sorted(path for path in glob.glob(text) if not os.path.isdir(path))
        if not paths:
            raise CSVFormatError(f"{text}: no files match this pattern; check the path and the glob", text)
        return paths
    paths = [os.fspath(path) for path in pattern]
    if not paths:
        raise InvalidParameterError("read_csv needs at least one file, got an empty list")
    return paths


def check_parts_agree(summaries: list[PartSummary], task: str) -> str:
    """Check that every file has the first file's columns and task; return the task.

    Raises
    ------
    CSVFormatError
    """
    first = summaries[0]
    for summary in summaries[1:]:
        if summary.columns != first.columns:
            raise CSVFormatError(
                f"{summary.path}: the columns {summary.columns} differ from the columns {first.columns} "
                f"of {first.path}; every part file needs the same columns in the same order",
                summary.path,
            )
    tasks = {summary.task for summary in summaries}
    if len(tasks) > 1:
        regression = next(s for s in summaries if s.task == "regression")
        text = next(s for s in summaries if s.task == "classification")
        raise CSVFormatError(
            f"{text.path}: the target column {text.target_name!r} contains text labels, but in "
            f"{regression.path} it contains only numbers; fix the files, or set the task to "
            f"classification (task='classification') to use every value as a class label",
            text.path,
            column=text.target_name,
        )
    return first.task


def part_dtype(summary: PartSummary, labels_as_text: bool) -> np.dtype:
    """Return the dtype of the target values that :func:`part_targets` returns for one file."""
    if summary.task != "classification":
        return np.dtype(np.float64)
    return np.dtype(object) if labels_as_text else summary.labels.dtype


def distinct_labels(summaries: list[PartSummary]) -> tuple[np.ndarray, bool]:
    """Return the distinct class labels of all files and whether they are compared as text."""
    labels = [summary.labels for summary in summaries]
    if any(array.dtype.kind == "O" for array in labels):
        # NOTE: next to a file of text labels, a file of numeric labels has
        # its numbers written as text by format_number, so its cell "1.0"
        # becomes the label "1".  One file with both kinds keeps "1.0".
        texts = {label_text_of_number(v) if not isinstance(v, str) else v for array in labels for v in array.tolist()}
        return np.asarray(sorted(texts), dtype=object), True
    return np.unique(np.concatenate(labels)), False


def read_csv(
    pattern: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    target: str | int | None = None,
    features: list[str | int] | None = None,
    header: bool = True,
    delimiter: str = ",",
    drop_missing: bool = False,
    task: str = "auto",
) -> DistributedDataset:
    """Read CSV part files as Dask arrays, with one row chunk per file.

    Every file is read by the strict reader of :mod:`mlpnet.io.csv_reader`
    (one task per file, where the file is), so a bad cell raises the same
    :class:`~mlpnet.io.csv_reader.CSVFormatError` as for one file, naming
    the file, the 1-based line, the column and the cell.  The files are
    read when this function runs.  The chunks stay where they were read
    (in worker memory on a cluster), and the returned arrays refer to them.

    Parameters
    ----------
    pattern : str, path-like, or list of them
        A glob such as ``"data/part-*.csv"`` (files in sorted order), one
        path, or a list of paths (in the given order).
    target : str, int or None
        The target column's name or 0-based position; None takes the last column.
    features : list of str or int, optional
        Feature columns; None takes every column but the target.
    header : bool, default True
        Whether the first non-blank line of every file contains the column names.
    delimiter : str, default ","
    drop_missing : bool, default False
        Drop rows with an empty cell in a used column instead of raising.
    task : {"auto", "regression", "classification"}
        "auto" decides per file as the single-file reader does, and the files
        must agree.

    Returns
    -------
    DistributedDataset

    Raises
    ------
    CSVFormatError
        For the first problem in file order, or files whose columns or
        target types differ.
    InvalidParameterError
        For an invalid ``task``, ``delimiter`` or column choice.
    """
    dask, da = require_dask()
    if task not in TASKS:
        raise InvalidParameterError(f"task must be 'auto', 'regression' or 'classification', got {task!r}")
    paths = expand_paths(pattern)
    executor = current_executor()

    read = dask.delayed(read_part, pure=False)
    options = (target, None if features is None else list(features), header, delimiter, drop_missing, task)
    parts = executor.persist([read(path, *options) for path in paths])
    summaries = executor.map(summarize_part, parts)
    for summary in summaries:
        if summary.error is not None:
            raise summary.error.to_exception()
    resolved_task = check_parts_agree(summaries, task)

    classes, labels, labels_as_text = None, None, False
    if resolved_task == "classification":
        labels, labels_as_text = distinct_labels(summaries)
        classes = find_classes(labels)
        y_dtype = labels.dtype
    else:
        y_dtype = np.dtype(np.float64)

    n_features = len(summaries[0].feature_names)
    features_of = dask.delayed(part_features, pure=False)
    targets_of = dask.delayed(part_targets, pure=False)
    X = da.concatenate(
        [da.from_delayed(features_of(part), (s.n_rows, n_features), np.float64) for part, s in zip(parts, summaries)]
    )
    y = da.concatenate(
        [
            da.from_delayed(targets_of(part, labels_as_text), (s.n_rows,), part_dtype(s, labels_as_text)).astype(y_dtype)
            for part, s in zip(parts, summaries)
        ]
    )
    n_dropped = sum(summary.n_dropped for summary in summaries)
    logger.info("read %d rows from %d files on %s", sum(s.n_rows for s in summaries), len(paths), executor.description)
    return DistributedDataset(
        X=X,
        y=y,
        feature_names=summaries[0].feature_names,
        target_name=summaries[0].target_name,
        task=resolved_task,
        classes=classes,
        labels=labels,
        n_dropped=n_dropped,
        paths=paths,
        part_rows=[summary.n_rows for summary in summaries],
    )


# -- class labels ---------------------------------------------------------------------


def encode_block(y_block: np.ndarray, classes: list[str], n_outputs: int, block_info=None) -> np.ndarray:
    try:
        indices = encode_labels(y_block, classes)
    except UnknownLabelError as exc:
        offset = block_info[0]["array-location"][0][0] if block_info else 0
        known = ", ".join(repr(c) for c in classes)
        raise InvalidDataError(
            f"unknown class label {exc.label!r} in row {exc.row + offset} (0-based); "
            f"the model knows only the classes {known}"
        ) from None
    return one_hot_targets(indices, n_outputs)


def class_targets(y: Any, classes: Sequence[str], n_outputs: int):
    """Encode class labels as network targets, chunk by chunk, lazily.

    One output (a sigmoid for two classes) gets the class index, 0.0 or 1.0;
    more outputs (a softmax) get one-hot rows, as
    :func:`mlpnet.preprocessing.class_targets`.

    Parameters
    ----------
    y : Dask array of shape (m,)
        Class labels, compared by their text as :func:`mlpnet.preprocessing.encode_labels` does.
    classes : sequence of str
    n_outputs : int

    Returns
    -------
    Dask array of float64, shape (m, n_outputs)
        Computing a chunk with a label outside ``classes`` raises
        :class:`~mlpnet.errors.InvalidDataError` naming the label and its row.
    """
    return y.map_blocks(
        encode_block,
        classes=list(classes),
        n_outputs=n_outputs,
        dtype=np.float64,
        chunks=(y.chunks[0], (n_outputs,)),
        new_axis=1,
    )
