"""mlpnet: multi-layer perceptrons with explicit, hand-derived backpropagation on NumPy.

The public names are :class:`Network`, :func:`load`, :func:`gradient_check`,
the scikit-learn estimators :class:`NetworkRegressor` and
:class:`NetworkClassifier` (which need the ``sklearn`` extra), and the
exception classes in :mod:`mlpnet.errors`.
"""

from __future__ import annotations

from .errors import (
    DivergenceError,
    InvalidDataError,
    InvalidParameterError,
    MlpnetError,
    ModelFormatError,
)
from .gradcheck import gradient_check
from .network import Network
from . import training

__version__ = "0.1.0"

__all__ = [
    "Network",
    "gradient_check",
    "load",
    "NetworkRegressor",
    "NetworkClassifier",
    "DivergenceError",
    "InvalidDataError",
    "InvalidParameterError",
    "MlpnetError",
    "ModelFormatError",
    "__version__",
]


def load(path: str) -> Network:
    """Read a network from a model file written by :meth:`Network.save`.

    Never unpickles: a model file contains plain arrays and JSON only.

    Raises
    ------
    ModelFormatError
        If the file is missing, damaged, or of a newer format version.
    """
    from .io.model_file import load_network

    return load_network(path)


def __getattr__(name: str):
    """Import the scikit-learn estimators on first use, so the core needs only NumPy."""
    if name in ("NetworkRegressor", "NetworkClassifier"):
        try:
            from . import estimators
        except ImportError as exc:
            raise ImportError(
                f"mlpnet.{name} needs scikit-learn; install it with: pip install 'mlpnet[sklearn]'"
            ) from exc
        return getattr(estimators, name)
    raise AttributeError(f"module 'mlpnet' has no attribute {name!r}")
