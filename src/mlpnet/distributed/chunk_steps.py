"""One chunk's share of a training step or an evaluation, as plain NumPy on the worker.

The loss L is a mean over the m rows of the whole data set.  With each
row's share s_i (1/m, or w_i / sum(w) with sample weights), the loss and
its gradient therefore split over any partition of the rows into chunks:

    L = sum_chunks sum_(i in chunk) s_i l_i
    dL/dP = sum_chunks dL_chunk/dP,  with dL_chunk/dP the gradient of the chunk's sum

A chunk therefore runs the in-memory training step
(:class:`mlpnet.training.step.TrainingStep`, without penalty and clipping)
with ``scale`` = its rows' shares, and the client adds the chunk results.
The sum equals the in-memory step up to floating-point summation order.

Each worker thread keeps one such step, with its preallocated buffers, for
the network shape it computed last, so a step allocates no large arrays;
:func:`release_worker_steps` frees them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from .. import backprop
from ..activations import get_activation
from ..losses import get_loss
from ..network import Network, split_flat
from ..training.evaluation import class_labels
from ..training.step import NonFiniteValue, TrainingStep
from .chunks import Chunk

class NetworkSpec:
    """The network's shape and functions by name, which a worker needs besides the parameter vector.

    Attributes
    ----------
    layer_sizes : tuple of int
    activations : tuple of str
        One activation name per layer, the output layer last.
    loss : str
    dtype : str
    """

    __slots__ = ("layer_sizes", "activations", "loss", "dtype")

    def __init__(self, layer_sizes: Sequence[int], activations: Sequence[str], loss: str, dtype: str):
        self.layer_sizes = tuple(layer_sizes)
        self.activations = tuple(activations)
        self.loss = loss
        self.dtype = dtype

    @classmethod
    def of(cls, net, loss_name: str) -> NetworkSpec:
        return cls(net.layer_sizes, net.activations, loss_name, net.dtype.name)

    def __reduce__(self):
        return type(self), (self.layer_sizes, self.activations, self.loss, self.dtype)


class OutputPartials:
    """Sums over a chunk's rows from which the epoch metrics of the whole data set follow.

    Attributes
    ----------
    n_rows : int
    finite : bool
        Whether every prediction is finite.
    squared_error, absolute_error : ndarray of float64, shape (n_outputs,), or None
        Sums over rows of (y - yhat)^2 and |y - yhat|, per output.
    correct : int or None
        The number of rows whose predicted class equals the target's class.
    """

    __slots__ = ("n_rows", "finite", "squared_error", "absolute_error", "correct")

    def __init__(self, n_rows, finite, squared_error=None, absolute_error=None, correct=None):
        self.n_rows = n_rows
        self.finite = finite
        self.squared_error = squared_error
        self.absolute_error = absolute_error
        self.correct = correct

    def __reduce__(self):
        return type(self), (self.n_rows, self.finite, self.squared_error, self.absolute_error, self.correct)


class ChunkResult:
    """A chunk's loss share, gradient share (None for an evaluation) and metric sums."""

    __slots__ = ("loss", "gradient", "partials")

    def __init__(self, loss: float, gradient: np.ndarray | None, partials: OutputPartials | None):
        self.loss = loss
        self.gradient = gradient
        self.partials = partials

    def __reduce__(self):
        return type(self), (self.loss, self.gradient, self.partials)


def output_partials(Y: np.ndarray, Y_hat: np.ndarray, metric_names: Sequence[str]) -> OutputPartials | None:
    """Sum what the requested metrics need over the rows of a chunk; None when no metric is requested."""
    if not metric_names:
        return None
    Y = np.asarray(Y, dtype=np.float64)
    Y_hat = np.asarray(Y_hat, dtype=np.float64)
    partials = OutputPartials(Y.shape[0], bool(np.isfinite(Y_hat).all()))
    if not partials.finite:
        return partials
    error = Y - Y_hat
    if {"mse", "rmse", "r2"} & set(metric_names):
        partials.squared_error = np.einsum("ij,ij->j", error, error)
    if "mae" in metric_names:
        partials.absolute_error = np.abs(error).sum(axis=0)
    if "accuracy" in metric_names:
        partials.correct = int(np.count_nonzero(class_labels(Y) == class_labels(Y_hat)))
    return partials


def row_shares(chunk: Chunk, scale, total_weight) -> np.ndarray | float:
    """Return each row's share of the loss: the scalar 1/m, or the column w_i / sum(w)."""
    if chunk.weights is None:
        return scale
    return (chunk.weights / total_weight).reshape(-1, 1)


def unpack(parameters: np.ndarray, spec: NetworkSpec):
    weights, biases = split_flat(parameters, spec.layer_sizes)
    activations = [get_activation(name) for name in spec.activations]
    return weights, biases, activations, get_loss(spec.loss)


_steps_lock = threading.Lock()
_steps: dict[int, tuple[tuple, TrainingStep]] = {}
"""The training step of each worker thread, by thread id, with the network shape it is for."""


def worker_step(spec: NetworkSpec) -> TrainingStep:
    """Return this thread's training step for the network shape of ``spec``, made on first use."""
    thread = threading.get_ident()
    key = (spec.layer_sizes, spec.activations, spec.loss, spec.dtype)
    with _steps_lock:
        entry = _steps.get(thread)
    if entry is not None and entry[0] == key:
        return entry[1]
    net = Network(
        spec.layer_sizes,
        activation=list(spec.activations[:-1]),
        output_activation=spec.activations[-1],
        dtype=spec.dtype,
        seed=0,
    )
    step = TrainingStep(net, get_loss(spec.loss), 0.0, None)
    with _steps_lock:
        _steps[thread] = (key, step)
    return step


def release_worker_steps() -> int:
    """Free the training steps and buffers of every thread of this process; return how many there were."""
    with _steps_lock:
        count = len(_steps)
        _steps.clear()
    return count


def chunk_loss_and_gradient(
    chunk: Chunk,
    parameters: np.ndarray,
    spec: NetworkSpec,
    scale=None,
    total_weight=None,
    metric_names: Sequence[str] = (),
) -> ChunkResult:
    """Compute a chunk's share of the loss and of the flat gradient (layout W1, b1, W2, b2, ...).

    A NaN or infinite loss or gradient is returned, not raised, so that the
    client can raise the in-memory step's error for the whole batch.

    Parameters
    ----------
    chunk : Chunk
    parameters : ndarray of shape (n_parameters,)
    spec : NetworkSpec
    scale : scalar of the network's dtype, or None
        1/m for the m rows of the whole data set, without sample weights.
    total_weight : scalar of the network's dtype, or None
        The sum of the sample weights over the whole data set, with weights.
    metric_names : sequence of str
    """
    step = worker_step(spec)
    np.copyto(step.net.parameters, parameters)
    shares = row_shares(chunk, scale, total_weight)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        try:
            L, Y_hat = step.loss_and_gradient(chunk.X, chunk.Y, shares)
        except NonFiniteValue as exc:
            if exc.quantity == "training loss":
                return ChunkResult(exc.value, np.zeros_like(parameters), None)
            return ChunkResult(step.batch_loss, step.gradient.copy(), None)
        # The predictions are a view of the step's buffers: sum them before the next step.
        partials = output_partials(chunk.Y, Y_hat, metric_names)
    return ChunkResult(L, step.gradient.copy(), partials)


def chunk_evaluate(
    chunk: Chunk,
    parameters: np.ndarray,
    spec: NetworkSpec,
    scale=None,
    total_weight=None,
    metric_names: Sequence[str] = (),
) -> ChunkResult:
    """Compute a chunk's share of the loss, without the penalty, and its metric sums; no gradient."""
    weights, biases, activations, loss = unpack(parameters, spec)
    shares = row_shares(chunk, scale, total_weight)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        trace = backprop.forward(weights, biases, activations, chunk.X)
        L = backprop.loss_value(loss, trace, chunk.Y, shares)
    return ChunkResult(L, None, output_partials(chunk.Y, trace.output, metric_names))
