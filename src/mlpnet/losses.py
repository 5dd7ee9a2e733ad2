"""Loss functions and their gradients.

Every loss is a mean over samples of a per-sample loss that sums over the
outputs.  For the squared error that is

    L = (1/m) * sum_i ||yhat_i - y_i||^2

with no 1/2 factor.  PyTorch's ``MSELoss(reduction="sum") / m`` is the same
number; scikit-learn's squared error is L / 2.

A loss provides two pure functions of the output layer's pre-activation Z,
activation A = yhat and targets Y, all of shape (m, n_out):

* ``per_sample(Z, A, Y) -> (m,)``, the loss of each sample;
* ``gradient(Z, A, Y) -> (m, n_out)``, the derivative of each sample's loss.
  For a loss that is paired with its output activation (the cross-entropies)
  this is the derivative with respect to Z, so the output delta is simply
  ``A - Y`` and never goes through a saturated activation.  Otherwise it is
  the derivative with respect to yhat.

The caller weights both by the row scale (1/m, or normalized sample weights).
A loss may also provide ``value_and_gradient(Z, A, Y, scale, out) -> L``,
which computes the weighted total and the scaled gradient together, with
fewer passes over the arrays, for training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InvalidParameterError

HUBER_DELTA = 1.0
"""Threshold between the quadratic and the linear part of the Huber loss."""


def squared_error(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute ||yhat_i - y_i||^2 for each sample i."""
    R = A - Y
    return np.einsum("ij,ij->i", R, R)


def squared_error_gradient(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute d/dyhat ||yhat - y||^2 = 2 (yhat - y)."""
    return 2.0 * (A - Y)


def squared_error_value_and_gradient(
    Z: np.ndarray, A: np.ndarray, Y: np.ndarray, scale: np.ndarray | float, out: np.ndarray
) -> float:
    """Return L = sum_i s_i ||yhat_i - y_i||^2 and write dL/dyhat_i = 2 s_i (yhat_i - y_i) into ``out``.

    ``scale`` s is 1/m or an (m, 1) column.  (yhat - y) * (2 s) is the same
    number as :func:`squared_error_gradient` times s, because doubling is
    exact in binary floating point.
    """
    R = np.subtract(A, Y, out=out)
    if np.ndim(scale) == 0:
        L = float(np.add.reduce(R * R, axis=None) * scale)
    else:
        L = float(np.einsum("ij,ij->i", R, R) @ scale[:, 0])
    np.multiply(R, 2 * scale, out=out)
    return L


def absolute_error(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute sum_j |yhat_ij - y_ij| for each sample i."""
    return np.abs(A - Y).sum(axis=1)


def absolute_error_gradient(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute sign(yhat - y), which is 0 where yhat equals y (as in PyTorch)."""
    return np.sign(A - Y)


def huber(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute sum_j h(yhat_ij - y_ij) with h(r) = r^2 / 2 for |r| <= delta, else delta (|r| - delta / 2)."""
    delta = A.dtype.type(HUBER_DELTA)
    R = np.abs(A - Y)
    quadratic = 0.5 * R * R
    linear = delta * (R - 0.5 * delta)
    return np.where(R <= delta, quadratic, linear).sum(axis=1)


def huber_gradient(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute h'(r) = r clipped to [-delta, delta]."""
    delta = A.dtype.type(HUBER_DELTA)
    return np.clip(A - Y, -delta, delta)


def binary_crossentropy(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute -sum_j [y log p + (1 - y) log(1 - p)] with p = sigmoid(z), from the logits.

    Uses -y log p - (1 - y) log(1 - p) = softplus(z) - y z, and
    softplus(z) = max(z, 0) + log1p(exp(-|z|)), so the loss stays finite when p
    rounds to exactly 0 or 1.
    """
    softplus_Z = np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))
    return (softplus_Z - Y * Z).sum(axis=1)


def binary_crossentropy_gradient(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute dL/dz = sigmoid(z) - y = A - y."""
    return A - Y


def crossentropy(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute -sum_j y_j log softmax(z)_j from the logits.

    Uses log softmax(z)_j = z_j - logsumexp(z), with the row maximum taken out
    of the exponent, so a probability of exactly 0 gives a finite loss.
    """
    z_max = Z.max(axis=1, keepdims=True)
    log_sum_exp = z_max + np.log(np.exp(Z - z_max).sum(axis=1, keepdims=True))
    return (Y * (log_sum_exp - Z)).sum(axis=1)


def crossentropy_gradient(Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Compute dL/dz = softmax(z) * sum_j y_j - y, which is A - Y for one-hot rows."""
    return A * Y.sum(axis=1, keepdims=True) - Y


@dataclass(frozen=True)
class Loss:
    """A loss function with its gradient.

    Attributes
    ----------
    name : str
        The canonical name, as stored in model files.
    per_sample : callable
        (Z, A, Y) -> (m,), each sample's loss, summed over outputs.
    gradient : callable
        (Z, A, Y) -> (m, n_out), each sample's gradient with respect to Z
        when ``output_activation`` is set, else with respect to yhat = A.
    output_activation : str or None
        The output activation this loss is computed with, from the logits;
        None when any output activation works.
    value_and_gradient : callable or None
        (Z, A, Y, scale, out) -> L = sum_i scale_i loss_i, writing
        scale_i * gradient_i into ``out`` (m, n_out); None when training
        combines ``per_sample`` and ``gradient`` instead.
    """

    name: str
    per_sample: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    output_activation: str | None = None
    value_and_gradient: Callable[..., float] | None = None


LOSSES: dict[str, Loss] = {
    "mse": Loss(
        "mse", squared_error, squared_error_gradient, value_and_gradient=squared_error_value_and_gradient
    ),
    "mae": Loss("mae", absolute_error, absolute_error_gradient),
    "huber": Loss("huber", huber, huber_gradient),
    "binary_crossentropy": Loss(
        "binary_crossentropy", binary_crossentropy, binary_crossentropy_gradient, "sigmoid"
    ),
    "crossentropy": Loss("crossentropy", crossentropy, crossentropy_gradient, "softmax"),
}

ALIASES = {
    "squared_error": "mse",
    "absolute_error": "mae",
    "binary_cross_entropy": "binary_crossentropy",
    "log_loss": "binary_crossentropy",
    "categorical_crossentropy": "crossentropy",
    "cross_entropy": "crossentropy",
}
"""Other common names of the same losses (scikit-learn's and Keras's)."""


def get_loss(name: str) -> Loss:
    """Look up a loss by name or alias.

    Raises
    ------
    InvalidParameterError
        If the name is not known; the message lists the valid names.
    """
    if not isinstance(name, str):
        raise InvalidParameterError(
            f"loss must be a name such as 'mse', got {name!r} of type {type(name).__name__}"
        )
    key = ALIASES.get(name, name)
    if key not in LOSSES:
        valid = ", ".join(sorted(LOSSES))
        raise InvalidParameterError(f"unknown loss {name!r}; use one of: {valid}")
    return LOSSES[key]


def check_loss_matches_output(loss: Loss, output_activation: str) -> None:
    """Raise if a cross-entropy loss is paired with the wrong output activation."""
    if loss.output_activation is not None and loss.output_activation != output_activation:
        raise InvalidParameterError(
            f"loss {loss.name!r} is computed from the logits of a "
            f"{loss.output_activation} output layer, but the network's output activation is "
            f"{output_activation!r}; build the network with "
            f"output_activation={loss.output_activation!r}"
        )


def default_output_activation(loss_name: str) -> str:
    """Return the output activation a loss is paired with ('identity' for regression losses)."""
    return get_loss(loss_name).output_activation or "identity"


__all__ = [
    "LOSSES",
    "Loss",
    "get_loss",
    "check_loss_matches_output",
    "default_output_activation",
]
