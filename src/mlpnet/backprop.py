"""The forward and backward pass of a multi-layer perceptron, as pure functions.

Index convention: layers are l = 1..N in the formulas and 0..N-1 in the
lists, so ``weights[0]`` is W1.  Data has one sample per row, so with
A_0 = X of shape (m, n_0):

    Z_l = A_(l-1) W_l^T + b_l            (m, n_l)
    A_l = g_l(Z_l)                       (m, n_l)
    yhat = A_N

and, with delta_l = dL/dZ_l,

    delta_N     = dL/dyhat * g_N'(Z_N)   (or A_N - Y, scaled, for a cross-entropy)
    dL/dW_l     = delta_l^T A_(l-1)      (n_l, n_(l-1))
    dL/db_l     = sum over rows of delta_l
    delta_(l-1) = (delta_l W_l) * g_(l-1)'(Z_(l-1))

This is the lecture formulation with samples as columns, transposed.

Training runs the lecture formulation itself, with samples as columns:
:func:`forward_columns` and :func:`backward_columns` write into buffers
that :mod:`mlpnet.training.workspace` preallocates.  That layout makes the
sums over samples and the bias broadcasts run along contiguous memory,
which for a layer of a few units is several times faster than the row
layout.  The results equal those of :func:`forward` and :func:`backward` up
to the order of floating-point summation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .activations import Activation
from .losses import Loss

if TYPE_CHECKING:
    from .training.workspace import BatchBuffers


@dataclass
class ForwardTrace:
    """Every layer's pre-activation and activation from one forward pass.

    Attributes
    ----------
    Z : list of ndarray
        ``Z[l]`` has shape (m, layer_sizes[l + 1]): the pre-activation of layer l + 1.
    A : list of ndarray
        ``A[0]`` is the input X (m, layer_sizes[0]); ``A[l + 1] = g(Z[l])``,
        and ``A[-1]`` is the prediction yhat.
    """

    Z: list[np.ndarray]
    A: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.A[-1]


def forward(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[Activation],
    X: np.ndarray,
) -> ForwardTrace:
    """Run the forward pass, keeping Z and A of every layer.

    Parameters
    ----------
    weights : sequence of ndarray, each (n_l, n_(l-1))
    biases : sequence of ndarray, each (n_l,)
    activations : sequence of Activation, one per layer
    X : ndarray of shape (m, n_0)
    """
    Z_list: list[np.ndarray] = []
    A_list: list[np.ndarray] = [X]
    A = X
    for W, b, g in zip(weights, biases, activations):
        Z = A @ W.T + b
        A = g.forward(Z)
        Z_list.append(Z)
        A_list.append(A)
    return ForwardTrace(Z_list, A_list)


def predict(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[Activation],
    X: np.ndarray,
) -> np.ndarray:
    """Run the forward pass keeping only the output, (m, n_N)."""
    A = X
    for W, b, g in zip(weights, biases, activations):
        A = g.forward(A @ W.T + b)
    return A


def row_scale(n_samples: int, sample_weight: np.ndarray | None, dtype: np.dtype) -> np.ndarray | float:
    """Return each sample's share of the mean: 1/m, or w_i / sum(w) with sample weights."""
    if sample_weight is None:
        return dtype.type(1.0 / n_samples)
    return (sample_weight / sample_weight.sum()).reshape(-1, 1)


def weighted_total(per_sample: np.ndarray, scale: np.ndarray | float) -> float:
    """Compute L = sum_i scale_i * loss_i from the per-sample losses (m,), which is the mean when scale = 1/m."""
    if np.ndim(scale) == 0:
        return float(per_sample.sum() * scale)
    return float(per_sample @ scale[:, 0])


def loss_value(loss: Loss, trace: ForwardTrace, Y: np.ndarray, scale: np.ndarray | float) -> float:
    """Compute L = sum_i scale_i * loss_i, which is the mean over samples when scale = 1/m."""
    return weighted_total(loss.per_sample(trace.Z[-1], trace.A[-1], Y), scale)


def output_delta(loss: Loss, output: Activation, trace: ForwardTrace, Y: np.ndarray, scale) -> np.ndarray:
    """Compute delta_N = dL/dZ_N for the output layer, (m, n_N)."""
    Z, A = trace.Z[-1], trace.A[-1]
    if loss.output_activation is not None:
        return loss.gradient(Z, A, Y) * scale

    dL_dyhat = loss.gradient(Z, A, Y) * scale
    return output.backward(dL_dyhat, Z, A)


def layer_gradients(delta: np.ndarray, A_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compute one layer's dL/dW = delta^T A_prev (n_l, n_(l-1)) and dL/db = column sums of delta (n_l,).

    ``delta`` is dL/dZ of the layer, (m, n_l); ``A_prev`` is its input, (m, n_(l-1)).
    """
    return delta.T @ A_prev, delta.sum(axis=0)


def input_gradient(delta: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Compute dL/dA_prev = delta W, (m, n_(l-1)), the gradient with respect to a layer's input."""
    return delta @ W


def backward(
    weights: Sequence[np.ndarray],
    activations: Sequence[Activation],
    trace: ForwardTrace,
    delta_N: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Propagate the output delta back through every layer.

    Returns
    -------
    dW : list of ndarray, dW[l] of shape (n_l, n_(l-1)), like weights[l]
    db : list of ndarray, db[l] of shape (n_l,), like biases[l]
    """
    n_layers = len(weights)
    dW: list[np.ndarray] = [None] * n_layers  # type: ignore[list-item]
    db: list[np.ndarray] = [None] * n_layers  # type: ignore[list-item]

    delta = delta_N
    for l in range(n_layers - 1, -1, -1):
        A_prev = trace.A[l]

        dW[l], db[l] = layer_gradients(delta, A_prev)

        if l > 0:
            dA_prev = input_gradient(delta, weights[l])
            delta = activations[l - 1].backward(dA_prev, trace.Z[l - 1], A_prev)

    return dW, db


def loss_and_gradients(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[Activation],
    loss: Loss,
    X: np.ndarray,
    Y: np.ndarray,
    scale: np.ndarray | float,
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """Compute the loss and its gradient with respect to every weight and bias.

    ``scale`` is each sample's weight in the loss: 1/m for the mean, an
    (m, 1) column of normalized sample weights, or 1/M for one chunk of a
    data set of M rows whose chunk gradients are summed elsewhere.
    """
    trace = forward(weights, biases, activations, X)
    L = loss_value(loss, trace, Y, scale)
    delta_N = output_delta(loss, activations[-1], trace, Y, scale)
    dW, db = backward(weights, activations, trace, delta_N)
    return L, dW, db


# -- Training's pass: samples as columns, in preallocated buffers -------------


def matmul_into(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
    """Write left @ right into ``out``.

    With an inner dimension of 1 the product is an outer product, which
    ``np.multiply`` computes a few times faster than a BLAS call on small
    arrays, and bitwise equal, because each entry is a single product.
    """
    if left.shape[1] == 1:
        np.multiply(left, right, out=out)
    else:
        np.matmul(left, right, out=out)


def forward_columns(
    weights: Sequence[np.ndarray],
    bias_columns: Sequence[np.ndarray],
    activations: Sequence[Activation],
    X: np.ndarray,
    buffers: BatchBuffers,
) -> np.ndarray:
    """Run the forward pass with samples as columns, in place in ``buffers``.

    With A_0 = X^T of shape (n_0, m):

        Z_l = W_l A_(l-1) + b_l      (n_l, m)
        A_l = g_l(Z_l)

    A hidden layer's buffer ``buffers.Z[l]`` receives W_l A_(l-1), and then
    b_l and g_l are applied tile by tile, each tile bringing its rows of b_l.
    The backward pass needs only A_l.

    Parameters
    ----------
    weights : sequence of ndarray, each (n_l, n_(l-1))
    bias_columns : sequence of ndarray, each (n_l, 1)
        Only the output layer's is read here.
    activations : sequence of Activation, one per layer
    X : ndarray of shape (m, n_0)
    buffers : BatchBuffers for m rows

    Returns
    -------
    ndarray of shape (n_N, m)
        Z_N, the output layer's pre-activation (its activation is left to the loss).
    """
    A_prev = X.T
    for l in range(len(weights) - 1):
        np.matmul(weights[l], A_prev, out=buffers.Z[l])
        g = activations[l]
        for Z, b, scratch in buffers.forward_tiles[l]:
            Z += b
            g.forward_in_place(Z, scratch)
        A_prev = buffers.Z[l]

    Z_N = buffers.Z[-1]
    np.matmul(weights[-1], A_prev, out=Z_N)
    Z_N += bias_columns[-1]
    return Z_N


def loss_and_output_delta(
    loss: Loss, output: Activation, Z: np.ndarray, A: np.ndarray, Y: np.ndarray, scale, out: np.ndarray
) -> tuple[float, np.ndarray]:
    """Compute L = sum_i scale_i loss_i and delta_N = dL/dZ_N, (m, n_N), from the output layer.

    ``out`` (m, n_N) receives the scaled loss gradient when the loss can write
    it in place; the returned delta_N is ``out`` or a new array.  The identity
    output's derivative is 1, so its delta is dL/dyhat itself, as in
    :func:`output_delta` up to the multiplication by 1.
    """
    if loss.value_and_gradient is not None:
        L = loss.value_and_gradient(Z, A, Y, scale, out)
        dL_dyhat = out
    else:
        L = weighted_total(loss.per_sample(Z, A, Y), scale)
        dL_dyhat = loss.gradient(Z, A, Y) * scale

    if loss.output_activation is not None or output.name == "identity":
        return L, dL_dyhat
    return L, output.backward(dL_dyhat, Z, A)


def backward_columns(
    weights: Sequence[np.ndarray],
    activations: Sequence[Activation],
    X: np.ndarray,
    buffers: BatchBuffers,
    delta_N: np.ndarray,
    weight_gradients: Sequence[np.ndarray],
    bias_gradients: Sequence[np.ndarray],
) -> None:
    """Propagate delta_N back through every layer with samples as columns.

        dL/dW_l     = delta_l A_(l-1)^T                 (n_l, n_(l-1))
        dL/db_l     = sum over columns of delta_l       (n_l,)
        delta_(l-1) = (W_l^T delta_l) * g_(l-1)'(Z_(l-1))

    Once dL/dW_l has used A_(l-1), delta_(l-1) overwrites it in its buffer.
    W_l^T delta_l is computed a column block at a time into ``block.dA``.

    Parameters
    ----------
    weights, activations : as for :func:`forward_columns`
    X : ndarray of shape (m, n_0)
    buffers : BatchBuffers filled by :func:`forward_columns`
    delta_N : ndarray of shape (n_N, m)
    weight_gradients, bias_gradients : sequences of ndarray
        Receive dL/dW_l (n_l, n_(l-1)) and dL/db_l (n_l,).
    """
    delta = delta_N
    for l in range(len(weights) - 1, 0, -1):
        A_prev = buffers.Z[l - 1]
        np.matmul(delta, A_prev.T, out=weight_gradients[l])
        np.add.reduce(delta, axis=1, out=bias_gradients[l])

        W_transposed = weights[l].T
        g = activations[l - 1]
        for block in buffers.backward_blocks[l - 1]:
            matmul_into(W_transposed, delta[:, block.columns], block.dA)
            for dA, A, scratch in block.tiles:
                g.backward_in_place(dA, A, scratch)
        delta = A_prev

    np.matmul(delta, X, out=weight_gradients[0])
    np.add.reduce(delta, axis=1, out=bias_gradients[0])
