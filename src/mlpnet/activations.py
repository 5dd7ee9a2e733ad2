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

Training uses two more forms of each activation that write into existing
buffers instead of allocating, and that work on any layout (training keeps
samples as columns):

* ``forward_in_place(Z, scratch)`` overwrites Z with g(Z);
* ``backward_in_place(dA, A, scratch)`` overwrites A with dL/dZ = dA * g'(Z),
  computed from A alone, so the forward pass need not keep Z.

They compute the same formulas, operation for operation, as ``forward`` and
``derivative``, so their results are bitwise equal.  ``scratch`` is an
array of the same shape and dtype that they may overwrite.
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


def identity_forward_in_place(Z: np.ndarray, scratch: np.ndarray) -> None:
    pass


def identity_backward_in_place(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    np.copyto(A, dA)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """Compute 1 / (1 + exp(-z)) without overflow.

    exp is only taken of -|z|, so e = exp(-|z|) lies in [0, 1].  The result
    is 1 / (1 + e) for z >= 0 and e / (1 + e) otherwise, computed as
    (1 / (1 + e)) * max(e, [z >= 0]): the factor is exactly 1 for z >= 0
    and e otherwise.  That product avoids ``np.where``, which is several
    times slower on arrays of mixed signs.
    """
    e = np.exp(-np.abs(Z))
    inverse = 1.0 / (1.0 + e)
    return inverse * np.maximum(e, Z >= 0)


def sigmoid_forward_in_place(Z: np.ndarray, scratch: np.ndarray) -> None:
    """Overwrite Z with sigmoid(Z), with the operations of :func:`sigmoid`."""
    e = scratch
    np.abs(Z, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)

    factor = Z
    np.greater_equal(Z, 0, out=factor)
    np.maximum(e, factor, out=factor)

    inverse = e
    np.add(e, 1.0, out=inverse)
    np.divide(1.0, inverse, out=inverse)
    np.multiply(factor, inverse, out=Z)


def sigmoid_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return A * (1.0 - A)


def sigmoid_backward_in_place(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    """Overwrite A with dA * A (1 - A)."""
    np.subtract(1.0, A, out=scratch)
    np.multiply(A, scratch, out=A)
    np.multiply(dA, A, out=A)


def tanh(Z: np.ndarray) -> np.ndarray:
    return np.tanh(Z)


def tanh_forward_in_place(Z: np.ndarray, scratch: np.ndarray) -> None:
    np.tanh(Z, out=Z)


def tanh_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return 1.0 - A * A


def tanh_backward_in_place(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    """Overwrite A with dA * (1 - A^2)."""
    np.multiply(A, A, out=A)
    np.subtract(1.0, A, out=A)
    np.multiply(dA, A, out=A)


def relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(Z, 0)


def relu_forward_in_place(Z: np.ndarray, scratch: np.ndarray) -> None:
    np.maximum(Z, 0, out=Z)


def relu_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Return 1 where z > 0, else 0 (0 at the kink z = 0, as PyTorch does)."""
    return (Z > 0).astype(Z.dtype)


def relu_backward_in_place(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    """Overwrite A with dA * [z > 0]; A = max(z, 0) is positive exactly where z is."""
    np.greater(A, 0, out=A)
    np.multiply(dA, A, out=A)


def leaky_relu(Z: np.ndarray) -> np.ndarray:
    """Compute z for z > 0, else slope * z, as max(z, slope * z), which is exact because 0 < slope < 1."""
    return np.maximum(Z, Z * Z.dtype.type(LEAKY_RELU_SLOPE))


def leaky_relu_forward_in_place(Z: np.ndarray, scratch: np.ndarray) -> None:
    np.multiply(Z, Z.dtype.type(LEAKY_RELU_SLOPE), out=scratch)
    np.maximum(Z, scratch, out=Z)


def leaky_relu_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    slope = Z.dtype.type(LEAKY_RELU_SLOPE)
    return np.where(Z > 0, Z.dtype.type(1), slope)


def leaky_relu_backward_in_place(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    """Overwrite A with dA * g'(z), where g'(z) = max([A > 0], slope) is 1 for z > 0, else slope."""
    np.greater(A, 0, out=A)
    np.maximum(A, A.dtype.type(LEAKY_RELU_SLOPE), out=A)
    np.multiply(dA, A, out=A)


def elu(Z: np.ndarray) -> np.ndarray:
    """Compute z for z > 0, else alpha * (exp(z) - 1).

    expm1 is taken of min(z, 0) so the branch that np.where discards cannot
    overflow for large positive z.
    """
    alpha = Z.dtype.type(ELU_ALPHA)
    return np.where(Z > 0, Z, alpha * np.expm1(np.minimum(Z, 0)))


def elu_forward_in_place(Z: np.ndarray, scratch: np.ndarray) -> None:
    np.copyto(Z, elu(Z))


def elu_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Return 1 for z > 0, else alpha * exp(z), which equals A + alpha."""
    alpha = Z.dtype.type(ELU_ALPHA)
    return np.where(Z > 0, Z.dtype.type(1), A + alpha)


def elu_backward_in_place(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    """Overwrite A with dA * g'(z); A is positive exactly where z is, so A replaces Z in the test."""
    np.multiply(dA, elu_derivative(A, A), out=A)


def softplus(Z: np.ndarray) -> np.ndarray:
    """Compute log(1 + exp(z)) as max(z, 0) + log1p(exp(-|z|)), which cannot overflow."""
    return np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))


def softplus_forward_in_place(Z: np.ndarray, scratch: np.ndarray) -> None:
    np.copyto(Z, softplus(Z))


def softplus_derivative(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Return sigmoid(z), which equals 1 - exp(-A) because exp(A) = 1 + exp(z)."""
    return -np.expm1(-A)


def softplus_backward_in_place(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    np.multiply(dA, softplus_derivative(None, A), out=A)


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
    forward_in_place : callable or None
        (Z, scratch) -> None, overwriting Z with g(Z); None for softmax.
    backward_in_place : callable or None
        (dA, A, scratch) -> None, overwriting A with dA * g'(Z), computed
        from A alone; None for softmax.
    """

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    jacobian_backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    output_only: bool = False
    forward_in_place: Callable[[np.ndarray, np.ndarray], None] | None = None
    backward_in_place: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None

    def backward(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """Compute dL/dZ = dL/dA * g'(Z) (a Jacobian product for softmax)."""
        if self.jacobian_backward is not None:
            return self.jacobian_backward(dA, Z, A)
        return dA * self.derivative(Z, A)


def elementwise(name: str, forward, derivative, forward_in_place, backward_in_place) -> Activation:
    return Activation(
        name,
        forward,
        derivative,
        forward_in_place=forward_in_place,
        backward_in_place=backward_in_place,
    )


ACTIVATIONS: dict[str, Activation] = {
    "identity": elementwise(
        "identity", identity, identity_derivative, identity_forward_in_place, identity_backward_in_place
    ),
    "sigmoid": elementwise(
        "sigmoid", sigmoid, sigmoid_derivative, sigmoid_forward_in_place, sigmoid_backward_in_place
    ),
    "tanh": elementwise("tanh", tanh, tanh_derivative, tanh_forward_in_place, tanh_backward_in_place),
    "relu": elementwise("relu", relu, relu_derivative, relu_forward_in_place, relu_backward_in_place),
    "leaky_relu": elementwise(
        "leaky_relu",
        leaky_relu,
        leaky_relu_derivative,
        leaky_relu_forward_in_place,
        leaky_relu_backward_in_place,
    ),
    "elu": elementwise("elu", elu, elu_derivative, elu_forward_in_place, elu_backward_in_place),
    "softplus": elementwise(
        "softplus", softplus, softplus_derivative, softplus_forward_in_place, softplus_backward_in_place
    ),
    "softmax": Activation("softmax", softmax, None, softmax_backward, output_only=True),
}

ALIASES = {"linear": "identity", "logistic": "sigmoid"}
"""Other common names: Keras calls the identity linear, and scikit-learn calls the sigmoid logistic."""


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
