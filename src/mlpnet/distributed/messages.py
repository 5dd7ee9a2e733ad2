"""The in-memory input errors, raised from shapes and chunk reports instead of whole arrays.

Each message here has the same wording as the check in
:mod:`mlpnet.validation` that in-memory input goes through, and the tests
compare the two on the same data.  Row numbers are 0-based positions in the
whole array, not in the chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidDataError
from ..validation import describe_position
from .chunks import ChunkReport, Problem

# The order in which the in-memory checks look at an array: conversion to
# numbers first, then finiteness, then the sign of sample weights.
PROBLEM_ORDER = ("text", "not_numeric", "non_finite", "negative")


def problem_message(problem: Problem, name: str, offset: int) -> str:
    """Word a chunk's problem as the in-memory check does, with the row counted from the array's start."""
    index = (problem.index[0] + offset, *problem.index[1:]) if problem.index else ()
    if problem.kind == "text":
        return (
            f"{name} contains the non-numeric value {problem.value!r} at "
            f"{describe_position(index)} (0-based); convert every column to numbers first"
        )
    if problem.kind == "not_numeric":
        return f"{name} contains non-numeric values ({problem.detail}); convert every column to numbers first"
    if problem.kind == "negative":
        return (
            f"sample_weight contains the negative value {problem.value!r} at row {index[0]}; "
            f"weights must be 0 or more"
        )
    value = problem.value
    if np.isnan(value):
        what = "NaN"
    elif np.isinf(value):
        what = "infinity" if value > 0 else "-infinity"
    else:
        what = f"{value!r}, which overflows {problem.detail}"
    return (
        f"{name} contains {what} at {describe_position(index)} (0-based); "
        f"remove or impute that value before training or predicting"
    )


def raise_first_problem(reports: Sequence[ChunkReport], role: str, name: str) -> None:
    """Raise for the problem the in-memory check would find first in the array of ``role``.

    Raises
    ------
    InvalidDataError
    """
    offsets = np.concatenate([[0], np.cumsum([report.n_rows for report in reports])])
    for kind in PROBLEM_ORDER:
        for report, offset in zip(reports, offsets):
            problem = report.problems.get(role)
            if problem is not None and problem.kind == kind:
                raise InvalidDataError(problem_message(problem, name, int(offset)))


# -- shapes -------------------------------------------------------------------------


def check_dtype_kind(dtype: np.dtype, name: str) -> None:
    """Reject a dtype that is neither a number nor an object, as the in-memory conversion does."""
    if dtype.kind not in "biufO":
        raise InvalidDataError(
            f"{name} must contain numbers, got dtype {dtype}; "
            f"convert text or categorical columns to numbers first"
        )


def check_feature_shape(shape: tuple[int, ...], n_features: int, name: str = "X") -> None:
    if len(shape) != 2:
        hint = ""
        if len(shape) == 1:
            hint = (
                f"; use {name}.reshape(-1, 1) if it is one feature, "
                f"or {name}.reshape(1, -1) if it is one sample"
            )
        raise InvalidDataError(
            f"{name} must be a 2-D array of shape (m, {n_features}), one sample per row, "
            f"got shape {shape}{hint}"
        )
    if shape[0] == 0:
        raise InvalidDataError(f"{name} has no rows (shape {shape}); pass at least one sample")
    if shape[1] != n_features:
        raise InvalidDataError(
            f"{name} has {shape[1]} features per row, but the network expects {n_features}; "
            f"pass an array of shape (m, {n_features})"
        )


def check_target_shape(shape: tuple[int, ...], n_samples: int, n_outputs: int, name: str = "Y") -> None:
    if len(shape) == 1:
        if n_outputs != 1:
            raise InvalidDataError(
                f"{name} has shape {shape}, but the network has {n_outputs} outputs; "
                f"pass {name} of shape ({n_samples}, {n_outputs}), one-hot encoded for classes"
            )
    elif len(shape) != 2 or shape[1] != n_outputs:
        raise InvalidDataError(
            f"{name} must have shape ({n_samples}, {n_outputs})"
            + (" or (m,)" if n_outputs == 1 else "")
            + f" for a network with {n_outputs} output(s), got shape {shape}"
        )
    if shape[0] != n_samples:
        raise InvalidDataError(
            f"X has {n_samples} rows but {name} has {shape[0]}; pass one target row per sample"
        )


def check_weight_shape(shape: tuple[int, ...], n_samples: int) -> None:
    if shape != (n_samples,):
        raise InvalidDataError(
            f"sample_weight must have shape ({n_samples},), one weight per sample, got shape {shape}"
        )


def check_weight_sum(total: float) -> None:
    if total <= 0:
        raise InvalidDataError(
            "sample_weight sums to 0 because every weight is zero; give at least one sample a positive weight"
        )
