"""Input checks that run before any arithmetic.

Each check raises :class:`~mlpnet.errors.InvalidDataError` or
:class:`~mlpnet.errors.InvalidParameterError` with a message that names the
value received and what to do about it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .errors import InvalidDataError, InvalidParameterError


def describe_dtype(array: np.ndarray) -> str:
    return f"dtype {array.dtype}"


def as_numeric_array(values: Any, name: str) -> np.ndarray:
    """Convert array-like input to a NumPy array of numbers, rejecting anything else."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(
            f"{name} could not be converted to a numeric array ({exc}); "
            f"pass a 2-D array of numbers"
        ) from exc

    if array.dtype.kind == "O":
        # NumPy would parse numeric text such as "2.5" in an object array, while
        # it rejects the same text in a string array: reject text in both.
        is_text = np.asarray(np.frompyfunc(lambda v: isinstance(v, (str, bytes)), 1, 1)(array), dtype=bool)
        if is_text.any():
            index = tuple(int(i) for i in np.argwhere(is_text)[0])
            raise InvalidDataError(
                f"{name} contains the non-numeric value {array[index]!r} at "
                f"{describe_position(index)} (0-based); convert every column to numbers first"
            )
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidDataError(
                f"{name} contains non-numeric values ({exc}); "
                f"convert every column to numbers first"
            ) from exc

    if array.dtype.kind not in "biuf":
        raise InvalidDataError(
            f"{name} must contain numbers, got {describe_dtype(array)}; "
            f"convert text or categorical columns to numbers first"
        )
    return array


def first_non_finite(array: np.ndarray) -> tuple[int, ...] | None:
    """Return the index of the first NaN or infinite entry, or None.

    A finite sum of all entries proves every entry finite in one pass that
    allocates nothing.  Only when the sum is NaN or infinite (a bad entry,
    or finite entries whose sum overflows) is the boolean mask built to
    find the first bad entry.
    """
    if array.dtype.kind in "biu":
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(np.add.reduce(array, axis=None)):
            return None
        bad = ~np.isfinite(array)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def describe_position(index: tuple[int, ...]) -> str:
    if len(index) == 1:
        return f"row {index[0]}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"index {index}"


def check_finite(array: np.ndarray, name: str, source: np.ndarray | None = None) -> None:
    """Raise if the array contains NaN or infinity, naming the 0-based row and column.

    ``source`` is the array before a cast to a narrower dtype, so that a value
    that only overflowed in the cast is reported as such.
    """
    index = first_non_finite(array)
    if index is None:
        return
    value = (source if source is not None else array)[index].item()
    position = describe_position(index)
    if np.isnan(value):
        problem = "NaN"
    elif np.isinf(value):
        problem = "infinity" if value > 0 else "-infinity"
    else:
        problem = f"{value!r}, which overflows {array.dtype}"
    raise InvalidDataError(
        f"{name} contains {problem} at {position} (0-based); "
        f"remove or impute that value before training or predicting"
    )


def to_dtype(array: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """Cast to the network's dtype (no copy when it already matches) and check finiteness."""
    with np.errstate(over="ignore", invalid="ignore"):
        converted = np.asarray(array, dtype=dtype)
    check_finite(converted, name, source=array)
    return converted


def check_features(X: Any, n_features: int, dtype: np.dtype, name: str = "X") -> np.ndarray:
    """Validate and convert input features.

    Parameters
    ----------
    X : array-like of shape (m, n_features)
    n_features : int
        The network's input size.
    dtype : numpy.dtype
        The network's dtype.

    Returns
    -------
    ndarray of shape (m, n_features) and the given dtype
    """
    array = as_numeric_array(X, name)
    if array.ndim != 2:
        hint = ""
        if array.ndim == 1:
            hint = (
                f"; use {name}.reshape(-1, 1) if it is one feature, "
                f"or {name}.reshape(1, -1) if it is one sample"
            )
        raise InvalidDataError(
            f"{name} must be a 2-D array of shape (m, {n_features}), one sample per row, "
            f"got shape {array.shape}{hint}"
        )
    if array.shape[0] == 0:
        raise InvalidDataError(f"{name} has no rows (shape {array.shape}); pass at least one sample")
    if array.shape[1] != n_features:
        raise InvalidDataError(
            f"{name} has {array.shape[1]} features per row, but the network expects {n_features}; "
            f"pass an array of shape (m, {n_features})"
        )
    return to_dtype(array, dtype, name)


def check_targets(Y: Any, n_samples: int, n_outputs: int, dtype: np.dtype, name: str = "Y") -> np.ndarray:
    """Validate and convert targets.

    Y may have shape (m, n_outputs), or (m,) when the network has one output;
    both give identical results.  Never broadcasts (m,) against (m, 1).

    Returns
    -------
    ndarray of shape (m, n_outputs) and the given dtype
    """
    array = as_numeric_array(Y, name)
    if array.ndim == 1:
        if n_outputs != 1:
            raise InvalidDataError(
                f"{name} has shape {array.shape}, but the network has {n_outputs} outputs; "
                f"pass {name} of shape ({n_samples}, {n_outputs}), one-hot encoded for classes"
            )
        array = array.reshape(-1, 1)
    elif array.ndim != 2 or array.shape[1] != n_outputs:
        raise InvalidDataError(
            f"{name} must have shape ({n_samples}, {n_outputs})"
            + (" or (m,)" if n_outputs == 1 else "")
            + f" for a network with {n_outputs} output(s), got shape {array.shape}"
        )
    if array.shape[0] != n_samples:
        raise InvalidDataError(
            f"X has {n_samples} rows but {name} has {array.shape[0]}; "
            f"pass one target row per sample"
        )
    return to_dtype(array, dtype, name)


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: np.dtype) -> np.ndarray | None:
    """Validate per-sample weights: shape (m,), finite, non-negative, with a positive sum."""
    if sample_weight is None:
        return None
    weights = as_numeric_array(sample_weight, "sample_weight")
    if weights.ndim == 0:
        weights = np.full(n_samples, weights, dtype=np.float64)
    if weights.shape != (n_samples,):
        raise InvalidDataError(
            f"sample_weight must have shape ({n_samples},), one weight per sample, "
            f"got shape {weights.shape}"
        )
    weights = to_dtype(weights, dtype, "sample_weight")
    if (weights < 0).any():
        index = int(np.argmax(weights < 0))
        raise InvalidDataError(
            f"sample_weight contains the negative value {weights[index].item()!r} at row {index}; "
            f"weights must be 0 or more"
        )
    if weights.sum() <= 0:
        raise InvalidDataError(
            "sample_weight sums to 0 because every weight is zero; give at least one sample a positive weight"
        )
    return weights


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_float(value: Any, name: str, allow_zero: bool = False) -> float:
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if valid:
        valid = value >= 0 if allow_zero else value > 0
    if not valid:
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidParameterError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_dtype(dtype: Any) -> np.dtype:
    """Accept float32 or float64 in any spelling NumPy understands."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise InvalidParameterError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from exc
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InvalidParameterError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return resolved
