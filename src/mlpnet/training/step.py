"""One training step: the batch loss and its flat gradient, the penalty, clipping, the update.

The gradient lives in one flat buffer with the layout of ``net.parameters``
(W1, b1, W2, b2, ...), so the penalty, the clipping and the optimizer each
work on whole vectors.

The L2 penalty adds (l2 / 2) sum_l ||W_l||^2 to the loss, over the weights
only, so the gradient gains l2 W_l and the biases are not penalized.
Clipping by global norm follows ``torch.nn.utils.clip_grad_norm_``: with
n = ||g||_2 over every parameter, g <- g * clip_norm / (n + 1e-6) whenever
that factor is below 1.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .. import backprop
from ..losses import Loss
from ..network import split_flat
from .optimizers import Optimizer
from .workspace import Workspace

if TYPE_CHECKING:
    from ..network import Network

CLIP_EPSILON = 1e-6
"""Added to the gradient norm before dividing, as PyTorch's ``clip_grad_norm_`` does."""


class NonFiniteValue(ArithmeticError):
    """A loss, gradient or parameter came out NaN or infinite; the loop turns this into a DivergenceError."""

    def __init__(self, quantity: str, value: float):
        super().__init__(f"the {quantity} is {value}")
        self.quantity = quantity
        self.value = value


def weight_mask(net: Network) -> np.ndarray:
    """Return a boolean vector that is True where ``net.parameters`` has a weight and False where it has a bias."""
    mask = np.zeros(net.parameters.shape, dtype=bool)
    weight_views, _ = split_flat(mask, net.layer_sizes)
    for W in weight_views:
        W[...] = True
    return mask


def l2_penalty(parameters: np.ndarray, mask: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Return the penalty (l2 / 2) sum ||W||^2 and its gradient l2 W (zero on biases), flat."""
    weights_only = parameters * mask
    return 0.5 * l2 * float(np.einsum("i,i->", weights_only, weights_only)), l2 * weights_only


def add_l2_penalty(weights: list[np.ndarray], weight_gradients: list[np.ndarray], l2: float) -> float:
    """Add l2 W_l to each weight gradient in place and return the penalty (l2 / 2) sum_l ||W_l||^2."""
    squares = 0.0
    for W, dW in zip(weights, weight_gradients):
        squares += float(np.einsum("ij,ij->", W, W))
        dW += l2 * W
    return 0.5 * l2 * squares


def is_finite_sum(vector: np.ndarray) -> bool:
    """Return True when the sum of ``vector`` is finite, which proves every entry finite.

    One reduction, where checking the entries themselves takes two.  A NaN
    or infinite entry makes the sum NaN or infinite; a False result can also
    mean finite entries whose sum overflows, so confirm it with
    :func:`first_non_finite_value`.
    """
    return math.isfinite(np.add.reduce(vector))


def first_non_finite_value(parameters: np.ndarray) -> float | None:
    """Return a NaN or infinite entry of ``parameters``, or None when every entry is finite.

    The maximum and the minimum propagate NaN and reach +-infinity, so two
    reductions find any non-finite entry without allocating a mask, and
    finite values too large to sum cannot raise a false alarm.
    """
    for extreme in (parameters.max(), parameters.min()):
        if not np.isfinite(extreme):
            return float(extreme)
    return None


def gradient_norm(gradient: np.ndarray) -> float:
    """Return ||g||_2, summed by NumPy's own single-threaded loop.

    The BLAS dot product ``g @ g`` may run on several OpenBLAS threads,
    which stall while another process keeps a core busy.
    """
    return math.sqrt(np.einsum("i,i->", gradient, gradient))


def clip_by_norm(gradient: np.ndarray, norm: float, clip_norm: float) -> None:
    """Scale ``gradient`` in place so its norm is at most about ``clip_norm``."""
    factor = clip_norm / (norm + CLIP_EPSILON)
    if factor < 1.0:
        gradient *= factor


class TrainingStep:
    """Buffers and arithmetic of the steps of one fit call.

    The forward and backward passes run with samples as columns in the
    preallocated buffers of a :class:`~mlpnet.training.workspace.Workspace`
    and write the gradient straight into ``gradient``.

    Parameters
    ----------
    net : Network
    loss : Loss
    l2 : float
        The L2 penalty strength; 0 disables it.
    clip_norm : float or None
        The maximum gradient norm; None disables clipping.

    Attributes
    ----------
    gradient : ndarray of shape (n_parameters,)
        The last batch's gradient, laid out like ``net.parameters``.
    mask : ndarray of bool, shape (n_parameters,)
        True where ``net.parameters`` has a weight, False for a bias.
    previous : ndarray of shape (n_parameters,)
        The parameters before the last update, for rolling back a divergence.
    updates : int
        The number of updates made in this fit call.
    last_finite_loss : float or None
        The loss of the parameters in ``previous``: the batch loss computed
        before the last update.  None before the first update.
    """

    def __init__(self, net: Network, loss: Loss, l2: float, clip_norm: float | None):
        self.net = net
        self.loss = loss
        self.l2 = l2
        self.clip_norm = clip_norm
        self.gradient = np.zeros_like(net.parameters)
        self.gradient_weights, self.gradient_biases = split_flat(self.gradient, net.layer_sizes)
        self.mask = weight_mask(net)
        self.previous = net.parameters.copy()
        self.workspace = Workspace(net)
        self.updates = 0
        self.batch_loss: float | None = None
        self.last_finite_loss: float | None = None

    def finish_gradient(self, L: float) -> float:
        """Add the L2 penalty, check the gradient norm and clip; return the loss with the penalty.

        Raises
        ------
        NonFiniteValue
            If the gradient norm is NaN or infinite.
        """
        if self.l2:
            L += add_l2_penalty(self.net._weights, self.gradient_weights, self.l2)
        self.batch_loss = L

        norm = gradient_norm(self.gradient)
        if not math.isfinite(norm):
            raise NonFiniteValue("gradient norm", norm)
        if self.clip_norm is not None:
            clip_by_norm(self.gradient, norm, self.clip_norm)
        return L

    def loss_and_gradient(self, X: np.ndarray, Y: np.ndarray, scale: np.ndarray | float) -> tuple[float, np.ndarray]:
        """Compute the batch loss and fill ``self.gradient``; return the loss and the predictions.

        Parameters
        ----------
        X : ndarray of shape (m, n_inputs)
        Y : ndarray of shape (m, n_outputs)
        scale : float or ndarray of shape (m, 1)
            Each row's share of the loss (see :func:`mlpnet.backprop.row_scale`).

        Returns
        -------
        loss : float
            Including the L2 penalty.
        predictions : ndarray of shape (m, n_outputs)
            A view that the next step overwrites.

        Raises
        ------
        NonFiniteValue
            If the loss or the gradient norm is NaN or infinite.
        """
        net = self.net
        output = net._activations[-1]
        buffers = self.workspace.buffers(X.shape[0])

        Z_N = backprop.forward_columns(net._weights, self.workspace.bias_columns, net._activations, X, buffers)
        Z = Z_N.T
        A = output.forward(Z)
        L, delta_N = backprop.loss_and_output_delta(
            self.loss, output, Z, A, Y, scale, buffers.output_gradient.T
        )
        if not math.isfinite(L):
            raise NonFiniteValue("training loss", L)

        backprop.backward_columns(
            net._weights, net._activations, X, buffers, delta_N.T, self.gradient_weights, self.gradient_biases
        )
        L = self.finish_gradient(L)
        return L, A

    def update(self, optimizer: Optimizer, learning_rate: float) -> None:
        """Apply the optimizer to the parameters, keeping a copy of their previous values.

        Raises
        ------
        NonFiniteValue
            If the update made a parameter NaN or infinite.  A finite
            gradient can do that with a huge learning rate, and with
            saturated activations the next loss may stay finite, so the
            parameters are checked here rather than through the loss.
        """
        parameters = self.net.parameters
        np.copyto(self.previous, parameters)
        optimizer.step(parameters, self.gradient, learning_rate)
        self.updates += 1
        self.last_finite_loss = self.batch_loss
        if not is_finite_sum(parameters):
            bad_value = first_non_finite_value(parameters)
            if bad_value is not None:
                raise NonFiniteValue("largest or smallest parameter after the update", bad_value)

    def roll_back(self) -> None:
        """Restore the parameters from before the last update, if this fit call made one."""
        if self.updates:
            np.copyto(self.net.parameters, self.previous)
