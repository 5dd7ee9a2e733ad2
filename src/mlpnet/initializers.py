"""Weight initialization schemes.

Each scheme draws one layer's weights W (n_out, n_in) and biases b (n_out,)
from a ``numpy.random.Generator``, with fan_in = n_in and fan_out = n_out.

| name | weights | biases |
| --- | --- | --- |
| glorot_uniform | U(-r, r), r = sqrt(6 / (fan_in + fan_out)) | 0 |
| glorot_normal | N(0, s^2), s = sqrt(2 / (fan_in + fan_out)) | 0 |
| he_uniform | U(-r, r), r = sqrt(6 / fan_in) | 0 |
| he_normal | N(0, s^2), s = sqrt(2 / fan_in) | 0 |
| lecun_normal | N(0, s^2), s = sqrt(1 / fan_in) | 0 |
| sklearn | U(-r, r), r = sqrt(k / (fan_in + fan_out)) | U(-r, r) |

For ``sklearn``, k is 2 when the network's hidden activation is the sigmoid
(scikit-learn's "logistic") and 6 otherwise, as scikit-learn's MLP does.
The normal schemes draw from the plain normal, not the truncated normal
that Keras uses.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidParameterError

INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "sklearn",
)

ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal"}


def default_initializer(activation: str) -> str:
    """Return the scheme suited to a layer's activation: He for the ReLU family, else Glorot."""
    if activation in ("relu", "leaky_relu", "elu"):
        return "he_uniform"
    return "glorot_uniform"


def check_initializer(name: str) -> str:
    """Return the canonical scheme name, or raise if it is unknown."""
    key = ALIASES.get(name, name) if isinstance(name, str) else name
    if key not in INITIALIZERS:
        valid = ", ".join(INITIALIZERS)
        raise InvalidParameterError(f"unknown initializer {name!r}; use one of: {valid}")
    return key


def initialize_layer(
    name: str,
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype: np.dtype,
    hidden_activation: str = "sigmoid",
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one layer's weights and biases.

    Parameters
    ----------
    name : str
        A scheme from :data:`INITIALIZERS`.
    n_in, n_out : int
        The layer's fan-in and fan-out.
    rng : numpy.random.Generator
        The network's generator; the weights are drawn first, then the biases.
    dtype : numpy.dtype
        The dtype of the returned arrays.
    hidden_activation : str
        The first hidden layer's activation, used only by the ``sklearn`` scheme.

    Returns
    -------
    W : ndarray of shape (n_out, n_in)
    b : ndarray of shape (n_out,)
    """
    name = check_initializer(name)
    shape = (n_out, n_in)

    if name == "glorot_uniform":
        limit = np.sqrt(6.0 / (n_in + n_out))
        W = rng.uniform(-limit, limit, size=shape)
    elif name == "glorot_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=shape)
    elif name == "he_uniform":
        limit = np.sqrt(6.0 / n_in)
        W = rng.uniform(-limit, limit, size=shape)
    elif name == "he_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=shape)
    elif name == "lecun_normal":
        W = rng.normal(0.0, np.sqrt(1.0 / n_in), size=shape)
    else:
        factor = 2.0 if hidden_activation == "sigmoid" else 6.0
        limit = np.sqrt(factor / (n_in + n_out))
        W = rng.uniform(-limit, limit, size=shape)
        b = rng.uniform(-limit, limit, size=n_out)
        return W.astype(dtype), b.astype(dtype)

    return W.astype(dtype), np.zeros(n_out, dtype=dtype)
