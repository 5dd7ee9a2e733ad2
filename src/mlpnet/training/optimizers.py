"""Update rules that change a flat parameter vector in place.

A network keeps all weights and biases in one flat buffer (W1, b1, W2, b2,
...), and training writes the gradient into one flat buffer of the same
layout.  Each optimizer therefore updates every parameter with a few
vectorized in-place operations on whole vectors, with no loop over layers.

With P the parameters, g = dL/dP, lr the learning rate and t the 1-based
step count, the rules are those of ``torch.optim`` (PyTorch 2.x) with the
same settings:

=========== ==================================================================
gd, sgd     P <- P - lr g
momentum    v <- mu v + g;  P <- P - lr v          (``torch.optim.SGD``)
nesterov    v <- mu v + g;  P <- P - lr (g + mu v) (``SGD(nesterov=True)``)
adam        m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2
            P <- P - (lr / (1 - b1^t)) m / (sqrt(s) / sqrt(1 - b2^t) + eps)
adamw       P <- P - lr wd P on the weights (not the biases), then adam
rmsprop     s <- rho s + (1 - rho) g^2;  P <- P - lr g / (sqrt(s) + eps)
=========== ==================================================================

The built-in rules work through the vectors in chunks of
:data:`UPDATE_CHUNK` entries with one preallocated scratch chunk, so an
update allocates no temporary as large as the parameters, and each chunk's
several passes reread it from cache.  Each operation is the one the
formula above spells out, in the same order, so chunking changes no bit.

The state (velocity, moments, step count) is plain arrays and integers:
:meth:`Optimizer.state_dict` and :meth:`Optimizer.load_state_dict` exchange
it without pickle, and :meth:`Optimizer.config` names the rule and its
settings so the same optimizer can be rebuilt with :func:`make_optimizer`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidParameterError
from ..validation import check_positive_float


UPDATE_CHUNK = 1 << 16
"""Entries per chunk of an update: 512 KiB in float64, so the four to five vectors
of an Adam chunk stay within the L2 or L3 cache."""


def check_fraction(value: Any, name: str) -> float:
    """Check a decay rate such as a momentum or a beta: a number in [0, 1)."""
    number = check_positive_float(value, name, allow_zero=True)
    if number >= 1.0:
        raise InvalidParameterError(f"{name} must be a number in [0, 1), got {value!r}")
    return number


class Optimizer:
    """Base class of the update rules.

    Subclasses list their state arrays in ``state_names`` and implement
    :meth:`update`.  Call :meth:`step` once per mini-batch.

    Attributes
    ----------
    step_count : int
        The number of updates done so far (t in the formulas).
    """

    name: ClassVar[str] = ""
    state_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.step_count = 0
        self.state: dict[str, np.ndarray] = {}
        self.weight_mask: np.ndarray | None = None
        self.scratch: np.ndarray | None = None

    # -- setup -------------------------------------------------------------

    def prepare(self, parameters: np.ndarray, weight_mask: np.ndarray) -> None:
        """Allocate zero state shaped like ``parameters``, unless state of that shape exists.

        Parameters
        ----------
        parameters : ndarray of shape (n_parameters,)
            The flat parameter buffer that :meth:`step` will update.
        weight_mask : ndarray of bool, shape (n_parameters,)
            True for the entries that are weights, False for biases.

        Raises
        ------
        InvalidParameterError
            If the optimizer already contains state for a different number of
            parameters, such as state from another network.
        """
        self.check_size(parameters.size)
        for key in self.state_names:
            existing = self.state.get(key)
            if existing is None:
                self.state[key] = np.zeros_like(parameters)
            else:
                self.state[key] = existing.astype(parameters.dtype, copy=False)
        self.weight_mask = weight_mask

    def check_size(self, n_parameters: int) -> None:
        """Raise if the optimizer has state for a different number of parameters."""
        for array in self.state.values():
            if array.shape != (n_parameters,):
                raise InvalidParameterError(
                    f"the {self.name} optimizer has state for {array.size} parameters, but the "
                    f"network has {n_parameters}; pass a new optimizer or call its reset()"
                )

    def reset(self) -> None:
        """Forget the state, so the next :meth:`step` starts as the first."""
        self.step_count = 0
        self.state = {}

    # -- updating ----------------------------------------------------------

    def step(self, parameters: np.ndarray, gradient: np.ndarray, learning_rate: float) -> None:
        """Update ``parameters`` in place from ``gradient``, both of shape (n_parameters,)."""
        self.step_count += 1
        self.update(parameters, gradient, learning_rate)

    def update(self, parameters: np.ndarray, gradient: np.ndarray, learning_rate: float) -> None:
        raise NotImplementedError

    def chunks(self, *vectors: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """Split equally long vectors into matching chunks of at most UPDATE_CHUNK entries.

        Each tuple contains one chunk of every vector, in order, and then a
        scratch array of the chunk's length and dtype (the same memory for
        every chunk).
        """
        n = vectors[0].shape[0]
        size = min(n, UPDATE_CHUNK)
        # getattr: an optimizer unpickled from an older version has no scratch attribute.
        scratch = getattr(self, "scratch", None)
        if scratch is None or scratch.shape[0] < size or scratch.dtype != vectors[0].dtype:
            scratch = self.scratch = np.empty(size, dtype=vectors[0].dtype)
        if n <= UPDATE_CHUNK:
            return [(*vectors, scratch[:n])]
        return [
            (*(vector[start : start + UPDATE_CHUNK] for vector in vectors), scratch[: min(UPDATE_CHUNK, n - start)])
            for start in range(0, n, UPDATE_CHUNK)
        ]

    # -- saving ------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Return the rule's name and settings as plain numbers and strings."""
        return {"name": self.name}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["scratch"] = None
        return state

    def state_dict(self) -> dict[str, Any]:
        """Return the state: ``step_count`` and one flat array per state vector (copies)."""
        state: dict[str, Any] = {"step_count": self.step_count}
        for key, array in self.state.items():
            state[key] = array.copy()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the state written by :meth:`state_dict`.

        Raises
        ------
        InvalidParameterError
            If a state array is missing or the arrays differ in shape.
        """
        missing = [key for key in self.state_names if key not in state]
        if "step_count" not in state or missing:
            raise InvalidParameterError(
                f"the {self.name} optimizer state needs step_count and {list(self.state_names)}, "
                f"got keys {sorted(state)}; pass a dict written by state_dict()"
            )
        arrays = {key: np.array(state[key]) for key in self.state_names}
        shapes = {array.shape for array in arrays.values()}
        if len(shapes) > 1 or any(len(shape) != 1 for shape in shapes):
            raise InvalidParameterError(
                f"the {self.name} optimizer state arrays must be flat and of one length, "
                f"got shapes {sorted(shapes)}"
            )
        self.step_count = int(state["step_count"])
        self.state = arrays

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in self.config().items() if key != "name")
        return f"{type(self).__name__}({settings})"


class GradientDescent(Optimizer):
    """Plain gradient descent: P <- P - lr g.

    With the full batch this is gradient descent exactly; with mini-batches
    it is stochastic gradient descent (``torch.optim.SGD`` with its defaults).
    """

    name = "gd"

    def update(self, parameters: np.ndarray, gradient: np.ndarray, learning_rate: float) -> None:
        for P, g, step in self.chunks(parameters, gradient):
            np.multiply(g, learning_rate, out=step)
            P -= step


class Momentum(GradientDescent):
    """Gradient descent with heavy-ball momentum, optionally Nesterov's.

    v <- mu v + g, then P <- P - lr v, or P <- P - lr (g + mu v) with
    ``nesterov=True``.  The velocity starts at zero, so the first step is
    P - lr g (Nesterov: P - lr (1 + mu) g), as in ``torch.optim.SGD`` with
    ``momentum=mu`` and ``dampening=0``.

    Parameters
    ----------
    momentum : float in [0, 1), default 0.9
        The factor mu.
    nesterov : bool, default False
    """

    name = "momentum"
    state_names = ("velocity",)

    def __init__(self, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__()
        self.momentum = check_fraction(momentum, "momentum")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise InvalidParameterError(f"nesterov must be True or False, got {nesterov!r}")
        self.nesterov = bool(nesterov)

    def update(self, parameters: np.ndarray, gradient: np.ndarray, learning_rate: float) -> None:
        for P, g, v, step in self.chunks(parameters, gradient, self.state["velocity"]):
            v *= self.momentum
            v += g
            if self.nesterov:
                np.multiply(v, self.momentum, out=step)
                step += g
                step *= learning_rate
            else:
                np.multiply(v, learning_rate, out=step)
            P -= step

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), as ``torch.optim.Adam`` without amsgrad.

    m <- b1 m + (1 - b1) g and s <- b2 s + (1 - b2) g^2, both starting at
    zero, then P <- P - (lr / (1 - b1^t)) m / (sqrt(s) / sqrt(1 - b2^t) + eps).

    Parameters
    ----------
    beta1 : float in [0, 1), default 0.9
    beta2 : float in [0, 1), default 0.999
    epsilon : float > 0, default 1e-8
    """

    name = "adam"
    state_names = ("first_moment", "second_moment")

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        super().__init__()
        self.beta1 = check_fraction(beta1, "beta1")
        self.beta2 = check_fraction(beta2, "beta2")
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def update(self, parameters: np.ndarray, gradient: np.ndarray, learning_rate: float) -> None:
        t = self.step_count
        step_size = learning_rate / (1.0 - self.beta1**t)
        # A Python float, so float32 arithmetic stays float32 (a NumPy float64
        # scalar would promote it).
        second_correction = math.sqrt(1.0 - self.beta2**t)

        for P, g, m, s, work in self.chunks(
            parameters, gradient, self.state["first_moment"], self.state["second_moment"]
        ):
            m *= self.beta1
            np.multiply(g, 1.0 - self.beta1, out=work)
            m += work

            s *= self.beta2
            np.multiply(g, g, out=work)
            work *= 1.0 - self.beta2
            s += work

            denominator = np.sqrt(s, out=work)
            denominator /= second_correction
            denominator += self.epsilon
            step = np.divide(m, denominator, out=work)
            step *= step_size
            P -= step

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    P <- P - lr wd P, then the Adam step, as ``torch.optim.AdamW``.  Only
    the weights decay; the biases do not, which in PyTorch is a parameter
    group of the biases with ``weight_decay=0``.

    Parameters
    ----------
    weight_decay : float >= 0, default 0.01
        The factor wd (PyTorch's default).
    beta1, beta2, epsilon
        As in :class:`Adam`.
    """

    name = "adamw"

    def __init__(
        self,
        weight_decay: float = 0.01,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(beta1=beta1, beta2=beta2, epsilon=epsilon)
        self.weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)

    def update(self, parameters: np.ndarray, gradient: np.ndarray, learning_rate: float) -> None:
        if self.weight_decay:
            for P, is_weight, decay in self.chunks(parameters, self.weight_mask):
                np.multiply(P, is_weight, out=decay)
                decay *= learning_rate * self.weight_decay
                P -= decay
        super().update(parameters, gradient, learning_rate)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture rule), as ``torch.optim.RMSprop`` with no momentum, not centered.

    s <- rho s + (1 - rho) g^2, starting at zero, then
    P <- P - lr g / (sqrt(s) + eps).

    Parameters
    ----------
    rho : float in [0, 1), default 0.99
        The decay of the squared-gradient average (PyTorch's ``alpha``).
    epsilon : float > 0, default 1e-8
    """

    name = "rmsprop"
    state_names = ("square_average",)

    def __init__(self, rho: float = 0.99, epsilon: float = 1e-8) -> None:
        super().__init__()
        self.rho = check_fraction(rho, "rho")
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def update(self, parameters: np.ndarray, gradient: np.ndarray, learning_rate: float) -> None:
        for P, g, s, work in self.chunks(parameters, gradient, self.state["square_average"]):
            s *= self.rho
            np.multiply(g, g, out=work)
            work *= 1.0 - self.rho
            s += work

            denominator = np.sqrt(s, out=work)
            denominator += self.epsilon
            step = np.divide(g, denominator, out=work)
            step *= learning_rate
            P -= step

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "rho": self.rho, "epsilon": self.epsilon}


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "sgd": GradientDescent,
    "momentum": Momentum,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
}
"""The optimizer names that :func:`make_optimizer` accepts, with their classes."""

OPTIMIZER_OPTIONS: dict[str, tuple[str, ...]] = {
    "gd": (),
    "sgd": (),
    "momentum": ("momentum", "nesterov"),
    "adam": ("beta1", "beta2", "epsilon"),
    "adamw": ("weight_decay", "beta1", "beta2", "epsilon"),
    "rmsprop": ("rho", "epsilon"),
}
"""The keyword arguments each optimizer takes."""


def make_optimizer(name: str, **options: Any) -> Optimizer:
    """Build an optimizer from its name and settings, such as ``make_optimizer("adam", beta1=0.8)``.

    Raises
    ------
    InvalidParameterError
        If the name is unknown, an option does not apply to that optimizer,
        or an option value is invalid.
    """
    if not isinstance(name, str) or name not in OPTIMIZERS:
        valid = ", ".join(map(repr, OPTIMIZERS))
        raise InvalidParameterError(
            f"optimizer must be one of {valid} or an Optimizer instance, got {name!r}"
        )
    allowed = OPTIMIZER_OPTIONS[name]
    for key in options:
        if key not in allowed:
            accepted = ", ".join(allowed) if allowed else "no options"
            raise InvalidParameterError(
                f"{key} does not apply to optimizer={name!r}, which accepts {accepted}; "
                f"remove {key} or choose an optimizer that uses it"
            )
    return OPTIMIZERS[name](**options)
