"""The Network class: parameters, forward pass, loss and gradients."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backprop
from .activations import Activation, get_activation
from .errors import InvalidParameterError
from .initializers import check_initializer, default_initializer, initialize_layer
from .losses import check_loss_matches_output, get_loss
from .validation import (
    check_dtype,
    check_features,
    check_sample_weight,
    check_targets,
    first_non_finite,
)

if TYPE_CHECKING:
    from .training.history import History


class ParameterList(list):
    """A list of views into a network's parameter buffer.

    Assigning an element copies the new values into the buffer after checking
    the shape, so ``net.weights[0] = W`` changes the network as expected.
    """

    def __init__(self, views: Sequence[np.ndarray], kind: str):
        super().__init__(views)
        self._kind = kind

    def __setitem__(self, index, value):  # type: ignore[override]
        if not isinstance(index, int):
            raise TypeError(f"assign one {self._kind} array at a time, by integer index")
        target = list.__getitem__(self, index)
        target[...] = as_parameter_array(value, target, f"{self._kind}[{index}]")


def as_parameter_array(value: Any, target: np.ndarray, label: str, context: str = "") -> np.ndarray:
    """Convert a new weight or bias array to the dtype of ``target``, checking shape and finiteness.

    Raises
    ------
    InvalidParameterError
        If the value is not numeric, has another shape than ``target``, or
        contains NaN or infinity.  ``context`` is appended to the shape message.
    """
    try:
        with np.errstate(over="ignore"):
            new = np.asarray(value, dtype=target.dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{label} must be an array of numbers of shape {target.shape}, got {type(value).__name__} ({exc})"
        ) from exc
    if new.shape != target.shape:
        raise InvalidParameterError(f"{label} must have shape {target.shape}{context}, got shape {new.shape}")
    if first_non_finite(new) is not None:
        raise InvalidParameterError(
            f"{label} contains NaN or infinity (or a value too large for {target.dtype}); pass finite values"
        )
    return new


def parameter_shapes(layer_sizes: Sequence[int]) -> list[tuple[tuple[int, int], tuple[int]]]:
    """Return [(W shape, b shape)] for each layer: W is (n_out, n_in), b is (n_out,)."""
    return [((n_out, n_in), (n_out,)) for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]


def split_flat(flat: np.ndarray, layer_sizes: Sequence[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """View a flat buffer as per-layer weights and biases, each layer's W then b."""
    weights, biases = [], []
    offset = 0
    for w_shape, b_shape in parameter_shapes(layer_sizes):
        size = w_shape[0] * w_shape[1]
        weights.append(flat[offset : offset + size].reshape(w_shape))
        offset += size
        biases.append(flat[offset : offset + b_shape[0]])
        offset += b_shape[0]
    return weights, biases


def count_parameters(layer_sizes: Sequence[int]) -> int:
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))


def check_layer_sizes(layer_sizes: Any) -> list[int]:
    try:
        sizes = list(layer_sizes)
    except TypeError as exc:
        raise InvalidParameterError(
            f"layer_sizes must be a list such as [3, 3, 1] (inputs, hidden..., outputs), got {layer_sizes!r}"
        ) from exc
    if len(sizes) < 2:
        raise InvalidParameterError(
            f"layer_sizes needs at least an input and an output size, such as [3, 1], got {sizes!r}"
        )
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise InvalidParameterError(
                f"every layer size must be an integer >= 1, got {size!r} in layer_sizes={sizes!r}"
            )
    return [int(s) for s in sizes]


def resolve_activations(activation: Any, output_activation: str, n_hidden: int) -> list[Activation]:
    """Return one Activation per layer: the hidden ones, then the output one."""
    if isinstance(activation, str):
        hidden_names = [activation] * n_hidden
    else:
        hidden_names = list(activation)
        if len(hidden_names) != n_hidden:
            raise InvalidParameterError(
                f"activation lists {len(hidden_names)} names but the network has {n_hidden} hidden "
                f"layers; give one name, or one per hidden layer"
            )
    hidden = [get_activation(name) for name in hidden_names]
    for index, g in enumerate(hidden):
        if g.output_only:
            raise InvalidParameterError(
                f"activation {g.name!r} (hidden layer {index + 1}) can only be used on the output "
                f"layer; pass it as output_activation"
            )
    return hidden + [get_activation(output_activation)]


class Network:
    """A fully connected feed-forward network (multi-layer perceptron).

    Parameters
    ----------
    layer_sizes : sequence of int
        Inputs, hidden layer sizes, outputs: ``[3, 3, 1]`` is the network with
        three inputs, three hidden units and one output.
    activation : str or sequence of str, default "sigmoid"
        The hidden activation: one name for every hidden layer, or one per
        hidden layer.  One of identity, sigmoid, tanh, relu, leaky_relu, elu,
        softplus.
    output_activation : str, default "identity"
        The output layer's activation; softmax and sigmoid pair with the
        cross-entropy losses.
    seed : int or None, default None
        Seed of the network's own ``numpy.random.Generator``, which draws the
        initial weights and the mini-batch order.  None draws fresh entropy.
    dtype : {"float64", "float32"}, default "float64"
        The dtype of parameters, activations and gradients.
    init : str or None, default None
        The initialization scheme (see :mod:`mlpnet.initializers`); None picks
        He uniform for layers with a ReLU-family activation, else Glorot uniform.
    weights, biases : sequence of array-like, optional
        Explicit initial parameters, ``weights[l]`` of shape (n_out, n_in) and
        ``biases[l]`` of shape (n_out,).  Biases default to zeros when only
        weights are given.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` has shape (layer_sizes[l + 1], layer_sizes[l]): W1, W2, ...
    biases : list of ndarray
        ``biases[l]`` has shape (layer_sizes[l + 1],): b1, b2, ...
    rng : numpy.random.Generator
        The generator owned by this network.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | Sequence[str] = "sigmoid",
        output_activation: str = "identity",
        seed: int | None = None,
        dtype: str | np.dtype = "float64",
        init: str | None = None,
        weights: Sequence[Any] | None = None,
        biases: Sequence[Any] | None = None,
    ):
        self.layer_sizes = check_layer_sizes(layer_sizes)
        self.dtype = check_dtype(dtype)
        self._activations = resolve_activations(activation, output_activation, len(self.layer_sizes) - 2)
        self.init = None if init is None else check_initializer(init)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

        self._parameters = np.zeros(count_parameters(self.layer_sizes), dtype=self.dtype)
        self._weights, self._biases = split_flat(self._parameters, self.layer_sizes)

        if weights is not None:
            self.weights = weights
            if biases is not None:
                self.biases = biases
        elif biases is not None:
            raise InvalidParameterError("biases were given without weights; pass both or neither")
        else:
            self._initialize()

        # State that training keeps between fit calls (optimizer, schedule, epoch count).
        self.training_state: dict[str, Any] = {}

    # -- parameters --------------------------------------------------------

    def _initialize(self) -> None:
        hidden_activation = self.activations[0]
        for l, (W, b) in enumerate(zip(self._weights, self._biases)):
            scheme = self.init or default_initializer(self.activations[l])
            n_out, n_in = W.shape
            W[...], b[...] = initialize_layer(
                scheme, n_in, n_out, self.rng, self.dtype, hidden_activation=hidden_activation
            )

    @property
    def weights(self) -> ParameterList:
        return ParameterList(self._weights, "weights")

    @weights.setter
    def weights(self, values: Sequence[Any]) -> None:
        self._assign(values, "weights")

    @property
    def biases(self) -> ParameterList:
        return ParameterList(self._biases, "biases")

    @biases.setter
    def biases(self, values: Sequence[Any]) -> None:
        self._assign(values, "biases")

    def _assign(self, values: Sequence[Any], kind: str) -> None:
        values = list(values)
        n_layers = len(self.layer_sizes) - 1
        if len(values) != n_layers:
            raise InvalidParameterError(
                f"{kind} must hold one array per layer ({n_layers} for layer_sizes={self.layer_sizes}), "
                f"got {len(values)}"
            )
        targets = self._weights if kind == "weights" else self._biases
        # Check every array before changing any, so a bad list leaves the network unchanged.
        context = f" for layer_sizes={self.layer_sizes}"
        staged = [
            as_parameter_array(value, target, f"{kind}[{l}]", context)
            for l, (value, target) in enumerate(zip(values, targets))
        ]
        for target, array in zip(targets, staged):
            target[...] = array

    @property
    def parameters(self) -> np.ndarray:
        """All weights and biases in one flat array (a view): W1, b1, W2, b2, ..."""
        return self._parameters

    @property
    def n_parameters(self) -> int:
        return self._parameters.size

    @property
    def activations(self) -> list[str]:
        """The activation name of every layer, hidden layers first, then the output."""
        return [g.name for g in self._activations]

    @property
    def activation(self) -> str | list[str]:
        hidden = self.activations[:-1]
        if len(set(hidden)) == 1:
            return hidden[0]
        return hidden

    @property
    def output_activation(self) -> str:
        return self._activations[-1].name

    @property
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    # -- computation -------------------------------------------------------

    def predict(self, X: Any) -> np.ndarray:
        """Compute the network's output.

        Parameters
        ----------
        X : array-like of shape (m, n_inputs)

        Returns
        -------
        ndarray of shape (m, n_outputs)
        """
        X = check_features(X, self.n_inputs, self.dtype)
        return backprop.predict(self._weights, self._biases, self._activations, X)

    def forward_trace(self, X: Any) -> backprop.ForwardTrace:
        """Run the forward pass and keep Z and A of every layer for inspection."""
        X = check_features(X, self.n_inputs, self.dtype)
        return backprop.forward(self._weights, self._biases, self._activations, X)

    def loss(self, X: Any, Y: Any, loss: str = "mse", sample_weight: Any = None) -> float:
        """Compute the loss of the current parameters on (X, Y)."""
        loss_fn, X, Y, scale = self._prepare(X, Y, loss, sample_weight)
        trace = backprop.forward(self._weights, self._biases, self._activations, X)
        return backprop.loss_value(loss_fn, trace, Y, scale)

    def loss_and_gradients(
        self, X: Any, Y: Any, loss: str = "mse", sample_weight: Any = None
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """Compute the loss and its gradient with respect to every weight and bias.

        Parameters
        ----------
        X : array-like of shape (m, n_inputs)
        Y : array-like of shape (m, n_outputs), or (m,) for one output
        loss : str, default "mse"
            "mse", "mae", "huber", "binary_crossentropy" (sigmoid output) or
            "crossentropy" (softmax output, one-hot Y).
        sample_weight : array-like of shape (m,), optional
            The loss becomes sum_i w_i loss_i / sum_i w_i.

        Returns
        -------
        loss : float
        dW : list of ndarray, ``dW[l]`` shaped like ``weights[l]``
        db : list of ndarray, ``db[l]`` shaped like ``biases[l]``
        """
        loss_fn, X, Y, scale = self._prepare(X, Y, loss, sample_weight)
        return backprop.loss_and_gradients(
            self._weights, self._biases, self._activations, loss_fn, X, Y, scale
        )

    def _prepare(self, X: Any, Y: Any, loss: str, sample_weight: Any):
        loss_fn = get_loss(loss)
        check_loss_matches_output(loss_fn, self.output_activation)
        X = check_features(X, self.n_inputs, self.dtype)
        Y = check_targets(Y, X.shape[0], self.n_outputs, self.dtype)
        weights = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        scale = backprop.row_scale(X.shape[0], weights, self.dtype)
        return loss_fn, X, Y, scale

    # -- training and files ------------------------------------------------

    def fit(self, X: Any, Y: Any, **options: Any) -> History:
        """Train the network; see :func:`mlpnet.training.fit` for every option."""
        from .training import fit

        return fit(self, X, Y, **options)

    def save(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Write the network to a model file atomically; see :func:`mlpnet.save`."""
        from .io.model_file import save_network

        save_network(path, self, metadata)

    def copy(self) -> Network:
        """Return an independent deep copy, generator state and training state included."""
        return copy.deepcopy(self)

    def __deepcopy__(self, memo: dict) -> Network:
        new = Network.__new__(Network)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key in ("_weights", "_biases"):
                continue
            setattr(new, key, copy.deepcopy(value, memo))
        new._weights, new._biases = split_flat(new._parameters, new.layer_sizes)
        return new

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_weights"], state["_biases"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._weights, self._biases = split_flat(self._parameters, self.layer_sizes)

    def __repr__(self) -> str:
        return (
            f"Network({self.layer_sizes}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, dtype={self.dtype.name!r})"
        )
