"""The benchmark workloads, their generated data, initial weights and FLOP counts.

Every library trains the same network from the same initial weights on the
same rows, in the same order, with the same number of parameter updates.
The data comes from a fixed-seed teacher network (one tanh hidden layer of
32 units) plus Gaussian noise.  For the classifier, the label of each row
is the argmax of the teacher's logits plus Gumbel noise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

DATA_SEED = 20240601
"""Seed of the teacher network, the inputs and the noise."""

INIT_SEED = 7
"""Seed of the student's initial weights, shared by every library."""

TEACHER_HIDDEN = 32
NOISE_STD = 0.1


@dataclass(frozen=True)
class Workload:
    """One training job: the network, the data size and the optimizer settings.

    Attributes
    ----------
    name : str
        The name in the table; float32 variants append "-float32".
    layer_sizes : tuple of int
        Inputs, hidden sizes, outputs.
    activation : str
        The hidden activation, in mlpnet's names: "sigmoid", "tanh" or "relu".
    task : str
        "regression" (identity output, mean squared error) or
        "classification" (softmax output, cross-entropy, one class per row).
    rows : int
        The number of training rows m.
    batch_size : int or None
        Rows per mini-batch; None is the full batch.
    optimizer : str
        "gd" (full-batch gradient descent), "sgd" (the same rule on
        mini-batches) or "adam".
    learning_rate : float
        The learning rate in mlpnet's loss convention.
    epochs : int
    dtype : str
        "float64" or "float32".
    """

    name: str
    layer_sizes: tuple[int, ...]
    activation: str
    task: str
    rows: int
    batch_size: int | None
    optimizer: str
    learning_rate: float
    epochs: int
    dtype: str = "float64"

    @property
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    @property
    def loss(self) -> str:
        return "crossentropy" if self.task == "classification" else "mse"

    @property
    def output_activation(self) -> str:
        return "softmax" if self.task == "classification" else "identity"

    @property
    def effective_batch_size(self) -> int:
        return self.rows if self.batch_size is None else min(self.batch_size, self.rows)

    @property
    def batch_sizes(self) -> list[int]:
        """The row count of each mini-batch of one epoch, in order."""
        size = self.effective_batch_size
        full, remainder = divmod(self.rows, size)
        return [size] * full + ([remainder] if remainder else [])

    @property
    def updates(self) -> int:
        """The number of parameter updates in the whole run."""
        return len(self.batch_sizes) * self.epochs

    def replace(self, **changes) -> Workload:
        return dataclasses.replace(self, **changes)


WORKLOADS: dict[str, Workload] = {
    workload.name: workload
    for workload in [
        Workload("lecture", (3, 3, 1), "sigmoid", "regression", 1_000, None, "gd", 0.5, 2_000),
        Workload("small", (20, 64, 64, 1), "tanh", "regression", 20_000, 64, "sgd", 0.01, 5),
        Workload("medium", (64, 256, 256, 1), "relu", "regression", 50_000, 256, "adam", 1e-3, 3),
        Workload("wide", (512, 2048, 2048, 10), "sigmoid", "regression", 8_192, None, "gd", 1e-3, 20),
        Workload(
            "wide-float32", (512, 2048, 2048, 10), "sigmoid", "regression", 8_192, None, "gd", 1e-3, 20, "float32"
        ),
        Workload("classifier", (784, 128, 10), "relu", "classification", 20_000, 128, "adam", 1e-3, 2),
    ]
}
"""The full-size workloads, in table order."""

QUICK_CHANGES: dict[str, dict] = {
    "lecture": {"epochs": 200},
    "small": {"rows": 2_000, "epochs": 1},
    "medium": {"rows": 5_000, "epochs": 1},
    "wide": {"layer_sizes": (512, 256, 256, 10), "rows": 1_024, "epochs": 2},
    "wide-float32": {"layer_sizes": (512, 256, 256, 10), "rows": 1_024, "epochs": 2},
    "classifier": {"rows": 2_000, "epochs": 1},
}
"""The changes that ``--quick`` makes to each workload, so the whole suite runs in a minute or two."""


def get_workload(name: str, quick: bool = False) -> Workload:
    """Return the workload called ``name``, shrunk by :data:`QUICK_CHANGES` when ``quick``."""
    workload = WORKLOADS[name]
    return workload.replace(**QUICK_CHANGES[name]) if quick else workload


# -- data ---------------------------------------------------------------------


@dataclass
class Data:
    """The training rows of one workload.

    Attributes
    ----------
    X : ndarray of shape (m, n_inputs), the workload's dtype
    Y : ndarray of shape (m, n_outputs), the workload's dtype
        Regression targets, or one-hot rows for a classifier.
    labels : ndarray of int64, shape (m,), or None
        The class index of each row, for a classifier.
    """

    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray | None


def make_data(workload: Workload) -> Data:
    """Generate the workload's rows from the fixed-seed teacher network.

    The same ``(rows, n_inputs, n_outputs, task)`` always gives the same
    numbers, whatever the dtype, so the float32 variant trains on the float64
    data rounded to float32.
    """
    rng = np.random.default_rng([DATA_SEED, workload.n_inputs, workload.n_outputs])
    n_in, n_out = workload.n_inputs, workload.n_outputs
    W1 = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(TEACHER_HIDDEN, n_in))
    W2 = rng.normal(0.0, 1.0 / np.sqrt(TEACHER_HIDDEN), size=(n_out, TEACHER_HIDDEN))
    b2 = rng.normal(0.0, 0.1, size=n_out)

    row_rng = np.random.default_rng([DATA_SEED, workload.rows, n_in, n_out])
    X = row_rng.standard_normal((workload.rows, n_in))
    teacher_output = np.tanh(X @ W1.T) @ W2.T + b2

    dtype = np.dtype(workload.dtype)
    if workload.task == "regression":
        Y = teacher_output + NOISE_STD * row_rng.standard_normal(teacher_output.shape)
        return Data(X.astype(dtype), Y.astype(dtype), None)

    # Scaling the logits by 3 makes the classes learnable but not separable.
    labels = np.argmax(3.0 * teacher_output + row_rng.gumbel(size=teacher_output.shape), axis=1)
    Y = np.zeros((workload.rows, n_out), dtype=dtype)
    Y[np.arange(workload.rows), labels] = 1.0
    return Data(X.astype(dtype), Y, labels.astype(np.int64))


def initial_parameters(workload: Workload) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Draw the student's initial weights, ``W[l]`` of shape (n_out, n_in), and zero biases.

    The weights are uniform in [-limit, limit].  The limit is He's
    sqrt(6 / n_in) for ReLU layers and Glorot's sqrt(6 / (n_in + n_out))
    otherwise.  They are drawn in float64 and rounded to the workload's dtype.
    """
    rng = np.random.default_rng([INIT_SEED, *workload.layer_sizes])
    dtype = np.dtype(workload.dtype)
    weights, biases = [], []
    for n_in, n_out in zip(workload.layer_sizes[:-1], workload.layer_sizes[1:]):
        if workload.activation == "relu":
            limit = np.sqrt(6.0 / n_in)
        else:
            limit = np.sqrt(6.0 / (n_in + n_out))
        weights.append(rng.uniform(-limit, limit, size=(n_out, n_in)).astype(dtype))
        biases.append(np.zeros(n_out, dtype=dtype))
    return weights, biases


# -- arithmetic ---------------------------------------------------------------


def matmul_shapes(workload: Workload, batch_rows: int) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    """List the matrix products of one training step on ``batch_rows`` rows.

    Per layer l with input width n_in and output width n_out: the forward
    product Z = A W^T, (b, n_in) x (n_in, n_out); the weight gradient
    dW = delta^T A, (n_out, b) x (b, n_in); and, for every layer but the
    first, the input gradient delta W, (b, n_out) x (n_out, n_in).  No
    library computes the gradient with respect to X, so the first layer has
    two products.

    Returns
    -------
    list of (kind, left shape, right shape)
    """
    products = []
    for l, (n_in, n_out) in enumerate(zip(workload.layer_sizes[:-1], workload.layer_sizes[1:])):
        products.append(("forward", (batch_rows, n_in), (n_in, n_out)))
        products.append(("weight gradient", (n_out, batch_rows), (batch_rows, n_in)))
        if l > 0:
            products.append(("input gradient", (batch_rows, n_out), (n_out, n_in)))
    return products


def flops_per_epoch(workload: Workload) -> int:
    """Count the floating-point operations of one epoch's matrix products, 2 * m * n_in * n_out each."""
    total = 0
    for batch_rows in workload.batch_sizes:
        for _, (rows, inner), (_, columns) in matmul_shapes(workload, batch_rows):
            total += 2 * rows * inner * columns
    return total


def warmup_subset(workload: Workload, data: Data, n_rows: int = 128) -> tuple[Workload, Data]:
    """Return a short version of the workload on its first rows, for warming up a library.

    The subset has at most ``n_rows`` rows plus, for a classifier, the first
    row of every class that those rows miss, so a peer that fixes its classes
    on the first fit (scikit-learn with ``warm_start``) gets all of them.
    """
    rows = np.arange(min(n_rows, workload.rows))
    if data.labels is not None:
        _, first_of_class = np.unique(data.labels, return_index=True)
        rows = np.union1d(rows, first_of_class)
    labels = None if data.labels is None else data.labels[rows]
    batch_size = None if workload.batch_size is None else min(workload.batch_size, 64)
    small = workload.replace(rows=len(rows), batch_size=batch_size, epochs=2)
    return small, Data(data.X[rows], data.Y[rows], labels)
