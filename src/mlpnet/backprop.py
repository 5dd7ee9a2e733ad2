"""The forward and backward pass of a multi-layer perceptron, as pure functions.

Index convention: layers are l = 1..N in the formulas and 0..N-1 in the
lists, so ``weights[0]`` is W1.  Data holds one sample per row, so with
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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .activations import Activation
from .losses import Loss


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


def loss_value(loss: Loss, trace: ForwardTrace, Y: np.ndarray, scale: np.ndarray | float) -> float:
    """Compute L = sum_i scale_i * loss_i, which is the mean over samples when scale = 1/m."""
    per_sample = loss.per_sample(trace.Z[-1], trace.A[-1], Y)
    if np.ndim(scale) == 0:
        return float(per_sample.sum() * scale)
    return float(per_sample @ scale[:, 0])


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
