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

from typing import TYPE_CHECKING

import numpy as np

from .. import backprop
from ..losses import Loss
from ..network import split_flat
from .optimizers import Optimizer

if TYPE_CHECKING:
    from ..network import Network

CLIP_EPSILON = 1e-6
"""Added to the gradient norm before dividing, as PyTorch's ``clip_grad_norm_`` does."""


class NonFiniteValue(ArithmeticError):
    """A loss or gradient came out NaN or infinite; the loop turns this into a DivergenceError."""

    def __init__(self, quantity: str, value: float):
        super().__init__(f"the {quantity} is {value}")
        self.quantity = quantity
        self.value = value


def weight_mask(net: Network) -> np.ndarray:
    """Return 1.0 where ``net.parameters`` has a weight and 0.0 where it has a bias."""
    mask = np.zeros_like(net.parameters)
    weight_views, _ = split_flat(mask, net.layer_sizes)
    for W in weight_views:
        W[...] = 1.0
    return mask


def l2_penalty(parameters: np.ndarray, mask: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Return the penalty (l2 / 2) sum ||W||^2 and its gradient l2 W (zero on biases), flat."""
    weights_only = parameters * mask
    return 0.5 * l2 * float(weights_only @ weights_only), l2 * weights_only


def clip_by_norm(gradient: np.ndarray, norm: float, clip_norm: float) -> None:
    """Scale ``gradient`` in place so its norm is at most about ``clip_norm``."""
    factor = clip_norm / (norm + CLIP_EPSILON)
    if factor < 1.0:
        gradient *= factor


class TrainingStep:
    """Buffers and arithmetic of the steps of one fit call.

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
        self.updates = 0
        self.batch_loss: float | None = None
        self.last_finite_loss: float | None = None

    def loss_and_gradient(self, X: np.ndarray, Y: np.ndarray, scale: np.ndarray | float) -> tuple[float, np.ndarray]:
        """Compute the batch loss and fill ``self.gradient``; return the loss and the predictions.

        Raises
        ------
        NonFiniteValue
            If the loss or the gradient norm is NaN or infinite.
        """
        net = self.net
        trace = backprop.forward(net._weights, net._biases, net._activations, X)
        L = backprop.loss_value(self.loss, trace, Y, scale)
        if not np.isfinite(L):
            raise NonFiniteValue("training loss", L)

        delta_N = backprop.output_delta(self.loss, net._activations[-1], trace, Y, scale)
        dW, db = backprop.backward(net._weights, net._activations, trace, delta_N)
        for l in range(len(dW)):
            self.gradient_weights[l][...] = dW[l]
            self.gradient_biases[l][...] = db[l]

        if self.l2:
            penalty, penalty_gradient = l2_penalty(net.parameters, self.mask, self.l2)
            L += penalty
            self.gradient += penalty_gradient

        norm = float(np.sqrt(self.gradient @ self.gradient))
        self.batch_loss = L
        if not np.isfinite(norm):
            raise NonFiniteValue("gradient norm", norm)
        if self.clip_norm is not None:
            clip_by_norm(self.gradient, norm, self.clip_norm)
        return L, trace.output

    def update(self, optimizer: Optimizer, learning_rate: float) -> None:
        """Apply the optimizer to the parameters, keeping a copy of their previous values."""
        np.copyto(self.previous, self.net.parameters)
        optimizer.step(self.net.parameters, self.gradient, learning_rate)
        self.updates += 1
        self.last_finite_loss = self.batch_loss

    def roll_back(self) -> None:
        """Restore the parameters from before the last update, if this fit call made one."""
        if self.updates:
            np.copyto(self.net.parameters, self.previous)
