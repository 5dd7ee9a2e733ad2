"""Activation functions and their derivatives.

Each activation g is a pair of pure functions: ``forward(Z) -> A`` and
``derivative(Z, A) -> g'(Z)``, the derivative written in terms of what the
forward pass keeps (for example ``A * (1 - A)`` for the sigmoid).  Softmax is
not elementwise, so it provides ``backward(dA, Z, A) -> dZ``, the product of
its Jacobian with ``dA``; every activation has that ``backward`` so the
backward pass treats all of them alike.

Arrays have shape (m, n_units): one sample per row.  Every function keeps the
dtype of its input and is numerically stable for any finite input: no
overflow, no NaN and no warning, even for ``|z| = 1e6``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InvalidParameterError

LEAKY_RELU_SLOPE = 0.01
"""Slope of leaky_relu for negative inputs (PyTorch's default)."""

ELU_ALPHA = 1.0
"""Saturation value -alpha of elu for large negative inputs (PyTorch's default)."""


def identity(Z: np.ndarray) -> np.ndarray:
    return Z


def identity_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return np.ones_like(Z)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """Compute 1 / (1 + exp(-z)) without overflow.

    exp is only taken of -|z|, which lies in (0, 1]: for z >= 0 the result is
    1 / (1 + e), otherwise e / (1 + e), with e = exp(-|z|).
    """
    e = np.exp(-np.abs(Z))
    inverse = 1.0 / (1.0 + e)
    return np.where(Z >= 0, inverse, e * inverse)


def sigmoid_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return A * (1.0 - A)


def tanh(Z: np.ndarray) -> np.ndarray:
    return np.tanh(Z)


def tanh_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return 1.0 - A * A


def relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(Z, 0)


def relu_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Return 1 where z > 0, else 0 (0 at the kink z = 0, as PyTorch does)."""
    return (Z > 0).astype(Z.dtype)


def leaky_relu(Z: np.ndarray) -> np.ndarray:
    return np.where(Z > 0, Z, Z * Z.dtype.type(LEAKY_RELU_SLOPE))


def leaky_relu_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    slope = Z.dtype.type(LEAKY_RELU_SLOPE)
    return np.where(Z > 0, Z.dtype.type(1), slope)


def elu(Z: np.ndarray) -> np.ndarray:
    """Compute z for z > 0, else alpha * (exp(z) - 1).

    expm1 is taken of min(z, 0) so the branch that np.where discards cannot
    overflow for large positive z.
    """
    alpha = Z.dtype.type(ELU_ALPHA)
    return np.where(Z > 0, Z, alpha * np.expm1(np.minimum(Z, 0)))


def elu_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Return 1 for z > 0, else alpha * exp(z), which equals A + alpha."""
    alpha = Z.dtype.type(ELU_ALPHA)
    return np.where(Z > 0, Z.dtype.type(1), A + alpha)


def softplus(Z: np.ndarray) -> np.ndarray:
    """Compute log(1 + exp(z)) as max(z, 0) + log1p(exp(-|z|)), which cannot overflow."""
    return np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))


def softplus_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Return sigmoid(z), which equals 1 - exp(-A) because exp(A) = 1 + exp(z)."""
    return -np.expm1(-A)


def softmax(Z: np.ndarray) -> np.ndarray:
    """Compute exp(z_j) / sum_k exp(z_k) over each row, shifted by the row maximum."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(shifted)
    return E / E.sum(axis=1, keepdims=True)


def softmax_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Multiply dA by the softmax Jacobian: dZ = A * (dA - sum_j dA_j A_j), per row."""
    return A * (dA - np.sum(dA * A, axis=1, keepdims=True))


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative.

    Attributes
    ----------
    name : str
        The canonical name, as stored in model files.
    forward : callable
        Z (m, n) -> A (m, n).
    derivative : callable or None
        (Z, A) -> g'(Z), elementwise; None for softmax, whose derivative is a
        Jacobian.
    jacobian_backward : callable or None
        (dA, Z, A) -> dZ for activations that are not elementwise.
    output_only : bool
        True for softmax, which normalizes over a layer's units and is only
        meaningful on the output layer.
    """

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    jacobian_backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    output_only: bool = False

    def backward(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """Compute dL/dZ = dL/dA * g'(Z) (a Jacobian product for softmax)."""
        if self.jacobian_backward is not None:
            return self.jacobian_backward(dA, Z, A)
        return dA * self.derivative(Z, A)


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", identity, identity_derivative),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_derivative),
    "tanh": Activation("tanh", tanh, tanh_derivative),
    "relu": Activation("relu", relu, relu_derivative),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_derivative),
    "elu": Activation("elu", elu, elu_derivative),
    "softplus": Activation("softplus", softplus, softplus_derivative),
    "softmax": Activation("softmax", softmax, None, softmax_backward, output_only=True),
}

ALIASES = {"linear": "identity", "logistic": "sigmoid"}
"""Other common names: Keras says linear, scikit-learn says logistic."""


def get_activation(name: str) -> Activation:
    """Look up an activation by name or alias.

    Raises
    ------
    InvalidParameterError
        If the name is not known; the message lists the valid names.
    """
    if not isinstance(name, str):
        raise InvalidParameterError(
            f"activation must be a name such as 'sigmoid', got {name!r} of type {type(name).__name__}"
        )
    key = ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        valid = ", ".join(sorted(ACTIVATIONS))
        raise InvalidParameterError(f"unknown activation {name!r}; use one of: {valid}")
    return ACTIVATIONS[key]
