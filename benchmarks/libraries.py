"""Trainers of one workload for mlpnet and its peers, and the NumPy matrix-product reference.

Each ``prepare_*`` function builds the model from the shared initial weights
and returns a callable that runs the whole training and returns the final
loss: the mean over the last epoch's batches of each batch's loss before
its update, in mlpnet's convention (``"mse"`` sums over outputs and averages
over rows, with no 1/2).  Everything outside that callable is setup and is
not timed.

Conventions matched across libraries:

* scikit-learn's squared error is 0.5 * mean over rows and outputs, but its
  gradient is that of 0.5 * mean over rows of the sum over outputs, so its
  gradient is half of mlpnet's.  Gradient descent therefore gets
  ``learning_rate_init = 2 * learning_rate``, and its reported loss is
  multiplied by 2 * n_outputs.  Adam is invariant to a constant gradient
  scale up to its epsilon, so it gets the same learning rate.
* PyTorch's ``mse_loss(reduction="sum") / m`` is mlpnet's ``"mse"``, and
  ``cross_entropy`` on logits is mlpnet's softmax plus ``"crossentropy"``.
* Every library visits the rows in their stored order (no shuffling) in
  consecutive batches, the last one shorter when the batch size does not
  divide m.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from workloads import Data, Workload, matmul_shapes

Trainer = Callable[[], float]

LIBRARIES = ("mlpnet", "sklearn", "torch")
"""The libraries whose training is timed, in the order the runner interleaves them."""


# -- mlpnet -------------------------------------------------------------------


def prepare_mlpnet(workload: Workload, data: Data, weights: list, biases: list) -> Trainer:
    import mlpnet

    net = mlpnet.Network(
        list(workload.layer_sizes),
        activation=workload.activation,
        output_activation=workload.output_activation,
        seed=0,
        dtype=workload.dtype,
        weights=weights,
        biases=biases,
    )

    def train() -> float:
        history = net.fit(
            data.X,
            data.Y,
            loss=workload.loss,
            optimizer=workload.optimizer,
            learning_rate=workload.learning_rate,
            epochs=workload.epochs,
            batch_size=workload.batch_size,
            shuffle=False,
        )
        return float(history.loss[-1])

    return train


# -- scikit-learn -------------------------------------------------------------

SKLEARN_ACTIVATIONS = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}


def sklearn_estimator(workload: Workload):
    """Build the scikit-learn estimator with the workload's settings and no penalty or stopping."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    solver = "adam" if workload.optimizer == "adam" else "sgd"
    learning_rate = workload.learning_rate
    if solver == "sgd" and workload.task == "regression":
        learning_rate *= 2.0
    estimator_class = MLPClassifier if workload.task == "classification" else MLPRegressor
    return estimator_class(
        hidden_layer_sizes=workload.layer_sizes[1:-1],
        activation=SKLEARN_ACTIVATIONS[workload.activation],
        solver=solver,
        alpha=0.0,
        batch_size=workload.effective_batch_size,
        learning_rate="constant",
        learning_rate_init=learning_rate,
        max_iter=1,
        shuffle=False,
        random_state=0,
        # A tolerance of 0 and a patience longer than the run disable stopping early.
        tol=0.0,
        n_iter_no_change=workload.epochs + 10,
        warm_start=True,
        momentum=0.0,
        nesterovs_momentum=False,
        early_stopping=False,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    )


def sklearn_targets(workload: Workload, data: Data) -> np.ndarray:
    if workload.task == "classification":
        return data.labels
    return data.Y[:, 0] if workload.n_outputs == 1 else data.Y


def prepare_sklearn(workload: Workload, data: Data, weights: list, biases: list) -> Trainer:
    from sklearn.exceptions import ConvergenceWarning

    estimator = sklearn_estimator(workload)
    y = sklearn_targets(workload, data)

    # scikit-learn builds its layers in the first fit, so one iteration on a
    # few rows (every class included) creates them.  With warm_start, the
    # next fit keeps the weights set below and starts a fresh optimizer.
    if data.labels is not None:
        _, first_rows = np.unique(data.labels, return_index=True)
    else:
        first_rows = np.arange(min(4, workload.rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(data.X[first_rows], y[first_rows])
    estimator.coefs_ = [np.array(W.T, order="C") for W in weights]
    estimator.intercepts_ = [b.copy() for b in biases]
    estimator.max_iter = workload.epochs

    scale = 2.0 * workload.n_outputs if workload.task == "regression" else 1.0

    def train() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(data.X, y)
        return float(estimator.loss_curve_[-1]) * scale

    return train


# -- PyTorch ------------------------------------------------------------------


def torch_model(workload: Workload, weights: list, biases: list):
    """Build ``torch.nn.Sequential`` of Linear layers and activations holding copies of the weights."""
    import torch

    dtype = getattr(torch, workload.dtype)
    activation_class = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[
        workload.activation
    ]
    layers = []
    for l, (W, b) in enumerate(zip(weights, biases)):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if l < len(weights) - 1:
            layers.append(activation_class())
    return torch.nn.Sequential(*layers)


def prepare_torch(workload: Workload, data: Data, weights: list, biases: list) -> Trainer:
    import torch
    import torch.nn.functional as F

    model = torch_model(workload, weights, biases)
    if workload.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=workload.learning_rate, betas=(0.9, 0.999), eps=1e-8)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=workload.learning_rate)

    X = torch.from_numpy(data.X)
    if workload.task == "classification":
        target = torch.from_numpy(data.labels)
    else:
        target = torch.from_numpy(data.Y)
    m, batch_size = workload.rows, workload.effective_batch_size

    def batch_loss(output, target_rows, n_rows):
        if workload.task == "classification":
            return F.cross_entropy(output, target_rows)
        return F.mse_loss(output, target_rows, reduction="sum") / n_rows

    def train() -> float:
        epoch_loss = float("nan")
        for _ in range(workload.epochs):
            loss_sum = 0.0
            for start in range(0, m, batch_size):
                stop = min(start + batch_size, m)
                optimizer.zero_grad()
                loss = batch_loss(model(X[start:stop]), target[start:stop], stop - start)
                loss.backward()
                optimizer.step()
                loss_sum += loss.item() * (stop - start)
            epoch_loss = loss_sum / m
        return epoch_loss

    return train


# -- the NumPy matrix-product reference ---------------------------------------


def prepare_matmul(workload: Workload) -> Callable[[], None]:
    """Return a callable that runs one epoch of the workload's matrix products with ``@``.

    The operands have the memory layouts mlpnet's backpropagation uses:
    ``A @ W.T`` with W stored (n_out, n_in), ``delta.T @ A`` and
    ``delta @ W``.  Each product writes into an output array allocated
    once, as mlpnet's training does, so the time is the BLAS calls alone.
    The operands hold uniform random numbers of the workload's dtype.
    """
    rng = np.random.default_rng(0)
    dtype = np.dtype(workload.dtype)
    operands: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for batch_rows in set(workload.batch_sizes):
        pairs = []
        for kind, left_shape, right_shape in matmul_shapes(workload, batch_rows):
            if kind == "forward":
                left = rng.random(left_shape, dtype=dtype)
                right = rng.random(right_shape[::-1], dtype=dtype).T
            elif kind == "weight gradient":
                left = rng.random(left_shape[::-1], dtype=dtype).T
                right = rng.random(right_shape, dtype=dtype)
            else:
                left = rng.random(left_shape, dtype=dtype)
                right = rng.random(right_shape, dtype=dtype)
            pairs.append((left, right, np.empty((left.shape[0], right.shape[1]), dtype=dtype)))
        operands[batch_rows] = pairs
    batches = [operands[batch_rows] for batch_rows in workload.batch_sizes]

    def run_epoch() -> None:
        for pairs in batches:
            for left, right, out in pairs:
                np.matmul(left, right, out=out)

    return run_epoch


PREPARERS = {"mlpnet": prepare_mlpnet, "sklearn": prepare_sklearn, "torch": prepare_torch}
