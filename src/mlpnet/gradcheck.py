"""Finite-difference check of the analytic gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import backprop

if TYPE_CHECKING:
    from .network import Network


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float) -> np.ndarray:
    """Compute |a - n| / max(|a|, |n|, floor), elementwise.

    The floor keeps a gradient that is zero up to rounding from turning
    finite-difference noise into a large relative error.
    """
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    return np.abs(analytic - numeric) / scale


def gradient_check(
    net: Network,
    X: Any,
    Y: Any,
    loss: str = "mse",
    epsilon: float = 1e-5,
    floor: float = 1e-7,
    sample_weight: Any = None,
) -> float:
    """Compare the analytic gradient with central finite differences.

    For every parameter p, the numeric derivative is
    (L(p + epsilon) - L(p - epsilon)) / (2 epsilon).  The loss is evaluated in
    float64 on a copy of the network, so a float32 network is checked against
    an accurate reference; the network itself is not changed.

    Parameters
    ----------
    net : Network
    X : array-like of shape (m, n_inputs)
    Y : array-like of shape (m, n_outputs) or (m,)
    loss : str, default "mse"
    epsilon : float, default 1e-5
        The step of the central difference, in parameter units.
    floor : float, default 1e-7
        The smallest denominator of the relative error; see :func:`relative_error`.

    Returns
    -------
    float
        The largest relative error over every weight and bias.  In float64 a
        right gradient gives about 1e-7 or less on entries above 1e-4.  Smaller
        entries carry the rounding error of the difference quotient, about
        2.2e-16 * |L| / epsilon, so a right gradient can reach 1e-5 with the
        default floor; pass ``floor=1e-3`` to compare those entries in absolute
        terms.  A float32 network reaches about 1e-4.
    """
    _, dW, db = net.loss_and_gradients(X, Y, loss=loss, sample_weight=sample_weight)
    analytic = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in zip(dW, db)]).astype(np.float64)

    reference = net.copy()
    if reference.dtype != np.float64:
        from .network import Network

        reference = Network(
            net.layer_sizes,
            activation=net.activations[:-1],
            output_activation=net.output_activation,
            dtype="float64",
            weights=[W.astype(np.float64) for W in net.weights],
            biases=[b.astype(np.float64) for b in net.biases],
        )
    loss_fn, X64, Y64, scale = reference._prepare(X, Y, loss, sample_weight)
    flat = reference.parameters

    def loss_at() -> float:
        trace = backprop.forward(reference._weights, reference._biases, reference._activations, X64)
        return backprop.loss_value(loss_fn, trace, Y64, scale)

    numeric = np.empty_like(analytic)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + epsilon
        loss_plus = loss_at()
        flat[i] = original - epsilon
        loss_minus = loss_at()
        flat[i] = original
        numeric[i] = (loss_plus - loss_minus) / (2.0 * epsilon)

    return float(relative_error(analytic, numeric, floor).max())
