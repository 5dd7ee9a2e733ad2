"""Column statistics and predictions of Dask arrays, computed chunk by chunk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidDataError
from ..preprocessing import Standardization
from .chunk_steps import NetworkSpec, unpack
from .chunks import check_block, prepare_features
from .data import as_dask_array, known_shape, with_known_chunks, block_list
from .dependency import require_dask
from .executor import current_executor
from .messages import check_dtype_kind, problem_message, raise_first_problem
from .moments import Moments, combine_moments

if TYPE_CHECKING:
    from ..network import Network


def feature_moments(X: Any, name: str = "X") -> Moments:
    """Check every entry of X and compute its column moments, one task per row chunk.

    Parameters
    ----------
    X : Dask array of shape (m, n), or array-like

    Raises
    ------
    InvalidDataError
        For a shape other than (m, n) with m >= 1, or an entry that is not a
        finite number, naming its 0-based row and column.
    """
    dask, _ = require_dask()
    X = as_dask_array(X, name)
    check_dtype_kind(X.dtype, name)
    (X,) = with_known_chunks([X])
    shape = known_shape(X)
    if len(shape) != 2:
        raise InvalidDataError(f"{name} must be a 2-D array of shape (m, n), one sample per row, got shape {shape}")
    if shape[0] == 0:
        raise InvalidDataError(f"{name} has no rows (shape {shape}); pass at least one sample")

    X = X.rechunk({1: -1})
    check = dask.delayed(prepare_features, pure=True)
    reports = current_executor().compute([check(block) for block in block_list(X)])
    raise_first_problem(reports, "features", name)
    return combine_moments([report.feature_moments for report in reports])


def column_stats(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Compute the mean and the standard deviation of every column of a Dask array.

    The standard deviation is the population one (ddof=0), as ``numpy.std``
    and scikit-learn's StandardScaler compute it.  Each chunk contributes its
    count, mean and sum of squared deviations, which are combined exactly
    (see :mod:`mlpnet.distributed.moments`), so no chunk leaves its worker.

    Parameters
    ----------
    X : Dask array of shape (m, n), or array-like

    Returns
    -------
    mean, std : ndarray of float64, shape (n,)
    """
    moments = feature_moments(X)
    return moments.mean, np.sqrt(moments.variance)


def fit_standardization(X: Any) -> Standardization:
    """Compute the standardization of :func:`mlpnet.preprocessing.fit_standardization` chunk by chunk.

    A column whose values are all equal gets its value as the mean and scale
    1, so it standardizes to exact zeros.

    Returns
    -------
    Standardization
    """
    moments = feature_moments(X)
    constant = moments.minimum == moments.maximum
    std = np.sqrt(moments.variance)
    mean = np.where(constant, moments.minimum, moments.mean)
    scale = np.where(constant | (std == 0), 1.0, std)
    return Standardization(mean=mean, scale=scale)


def predict_block(X_block: np.ndarray, parameters: np.ndarray, spec: NetworkSpec, block_info=None) -> np.ndarray:
    X, problem = check_block(X_block, np.dtype(spec.dtype), as_column=False)
    if problem is not None:
        offset = block_info[0]["array-location"][0][0] if block_info else 0
        raise InvalidDataError(problem_message(problem, "X", offset))
    weights, biases, activations, _ = unpack(parameters, spec)
    from ..backprop import predict as forward_output

    return forward_output(weights, biases, activations, X)


def predict(net: Network, X: Any):
    """Return the network's predictions on a Dask array, lazily, as a Dask array of shape (m, n_outputs).

    The current parameters are copied into the graph, so training the
    network afterwards does not change the result.  A NaN or infinite entry
    raises :class:`~mlpnet.errors.InvalidDataError` when the chunk is computed.
    """
    _, da = require_dask()
    X = as_dask_array(X, "X")
    check_dtype_kind(X.dtype, "X")
    if X.ndim != 2 or X.shape[1] != net.n_inputs:
        raise InvalidDataError(
            f"X must be a 2-D array of shape (m, {net.n_inputs}), one sample per row, got shape {X.shape}"
        )
    X = X.rechunk({1: -1})
    spec = NetworkSpec.of(net, "mse")
    return X.map_blocks(
        predict_block,
        parameters=net.parameters.copy(),
        spec=spec,
        dtype=net.dtype,
        chunks=(X.chunks[0], (net.n_outputs,)),
    )
