"""``mlpnet explain``: print every quantity of one step of plain gradient descent.

The printout uses the notation of the derivation, where samples are columns:
X is (n_inputs x m) and every Z_l, A_l and gradient with respect to them is
(n_l x m).  The library keeps samples as rows, so those arrays are printed
transposed.  Weights are (n_out x n_in) in both conventions and print as
stored.

Every number comes from the library: the forward pass from
``Network.forward_trace``, the loss and output gradient from
:mod:`mlpnet.backprop` and the loss functions, dL/dA and dL/dZ of the hidden
layers from the weights and ``Activation.backward`` (the same products
:func:`mlpnet.backprop.backward` forms), and dL/dW, dL/db from
:func:`mlpnet.backprop.backward` itself.

Each matrix is printed as a header line ``LABEL  (r x c)``, where LABEL is
``NAME`` or ``NAME = FORMULA``, followed by r indented lines of c numbers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from .. import backprop
from ..gradcheck import gradient_check
from ..losses import Loss, get_loss
from ..network import Network
from ..preprocessing import fit_standardization, standardize
from .errors import CommandLineError

DEFAULT_LAYER_SIZES = [3, 3, 1]
DEFAULT_DATASET = "stackloss"

DERIVATIVE_TEXT = {
    "identity": "1",
    "sigmoid": "A{l} * (1 - A{l})",
    "tanh": "(1 - A{l}^2)",
    "relu": "[Z{l} > 0]",
    "leaky_relu": "where(Z{l} > 0, 1, 0.01)",
    "elu": "where(Z{l} > 0, 1, A{l} + 1)",
    "softplus": "sigmoid(Z{l})",
}
"""g'(Z_l) of each hidden activation, written with what the forward pass keeps."""

LOSS_TEXT = {
    "mse": ("L = (1/m) sum_i ||yhat_i - y_i||^2", "dL/dyhat = 2 (yhat - y) / m"),
    "mae": ("L = (1/m) sum_i sum_j |yhat_ij - y_ij|", "dL/dyhat = sign(yhat - y) / m"),
    "huber": (
        "L = (1/m) sum_i sum_j huber(yhat_ij - y_ij), delta 1",
        "dL/dyhat = clip(yhat - y, -1, 1) / m",
    ),
    "binary_crossentropy": (
        "L = -(1/m) sum_i [y_i log yhat_i + (1 - y_i) log(1 - yhat_i)]",
        "dL/dZ{n} = (yhat - y) / m",
    ),
    "crossentropy": (
        "L = -(1/m) sum_i sum_j y_ij log yhat_ij",
        "dL/dZ{n} = (yhat - y) / m",
    ),
}
"""The loss and the gradient that starts the backward pass, for each loss."""


@dataclass
class Problem:
    """The network and the rows of one explained step."""

    network: Network
    loss: Loss
    X: np.ndarray  # (m, n_inputs), as the network receives it
    Y: np.ndarray  # (m, n_outputs)
    description: list[str]


class Printer:
    """Write labelled matrices with a fixed number of significant digits."""

    def __init__(self, out: TextIO, digits: int):
        self.out = out
        self.digits = digits

    def line(self, text: str = "") -> None:
        print(text, file=self.out)

    def number(self, value: float) -> str:
        return f"{value:.{self.digits}g}"

    def matrix(self, label: str, values: np.ndarray) -> None:
        """Print ``LABEL  (r x c)`` and then the rows; a vector prints as a column."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 0:
            values = values.reshape(1, 1)
        elif values.ndim == 1:
            values = values.reshape(-1, 1)
        rows, columns = values.shape
        self.line(f"{label}  ({rows} x {columns})")
        cells = [[self.number(v) for v in row] for row in values]
        width = max(len(cell) for row in cells for cell in row)
        for row in cells:
            self.line("    " + "  ".join(cell.rjust(width) for cell in row))
        self.line()


def run(args) -> int:
    if (args.model is None) != (args.data is None):
        raise CommandLineError(
            "--model and --data go together: give both to explain a saved model, or neither "
            "for the 3-3-1 example",
            help="run 'mlpnet explain --help' to see the options",
        )
    if args.model is None:
        problem = default_problem(args.rows, args.seed)
    else:
        problem = model_problem(args.model, args.data, args.rows, args.header, args.delimiter)

    explain_step(problem, args.learning_rate, Printer(sys.stdout, args.precision))
    return 0


# -- the rows and the network ------------------------------------------------


def first_rows(X: np.ndarray, Y: np.ndarray, rows: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    if rows > X.shape[0]:
        raise CommandLineError(
            f"--rows {rows} is more than the {X.shape[0]} rows of {source}",
            help=f"pass --rows {X.shape[0]} or fewer",
        )
    return X[:rows], Y[:rows]


def default_problem(rows: int, seed: int) -> Problem:
    """Build the 3-3-1 network and the first rows of the standardized stackloss data."""
    from ..datasets import load_dataset

    data = load_dataset(DEFAULT_DATASET)
    y = np.asarray(data.y, dtype=np.float64).reshape(-1, 1)
    # Row-major, so the column means sum in the same order as for a NumPy
    # array built row by row: the printed digits then match such a reference.
    X_data = np.ascontiguousarray(data.X)
    X_all = standardize(X_data, fit_standardization(X_data))
    Y_all = standardize(y, fit_standardization(y))
    X, Y = first_rows(X_all, Y_all, rows, f"the {DEFAULT_DATASET} dataset")

    network = Network(DEFAULT_LAYER_SIZES, activation="sigmoid", output_activation="identity", seed=seed)
    description = [
        "One step of plain gradient descent on the 3-3-1 network: 3 inputs, 3 sigmoid hidden "
        "units, 1 identity output, squared error.",
        f"Data: the first {rows} of the {X_all.shape[0]} rows of the bundled {DEFAULT_DATASET} "
        f"dataset, inputs {', '.join(data.feature_names)} and target {data.target_name}, each "
        f"standardized to mean 0 and standard deviation 1 over all {X_all.shape[0]} rows.",
        f"Initial weights: drawn with seed {seed}.",
    ]
    return Problem(network, get_loss("mse"), X, Y, description)


def model_problem(model_path: str, data_path: str, rows: int, header, delimiter) -> Problem:
    """Load a saved model and the first rows of a CSV file with its features and target."""
    from ..io.csv_reader import load_training_data
    from .model import load_trained_model
    from .predict import encode_true_labels

    model = load_trained_model(model_path)
    if model.target_name is None:
        raise CommandLineError(
            f"model file {model_path!r} does not name its target column, so the loss of {data_path!r} "
            "cannot be computed",
            help="explain needs a model written by 'mlpnet train'",
        )
    data = load_training_data(
        data_path,
        target=model.target_name,
        features=model.feature_names,
        header=model.header if header is None else header,
        delimiter=model.delimiter if delimiter is None else delimiter,
        task=model.task,
    )
    if model.task == "classification":
        targets = encode_true_labels(data, model.classes)
    else:
        targets = np.asarray(data.y, dtype=np.float64)
    X_all = model.network_inputs(data.X)
    Y_all = model.network_targets(targets)
    X, Y = first_rows(X_all, Y_all, rows, repr(data_path))

    network = model.network
    sizes = "-".join(str(n) for n in network.layer_sizes)
    scaled = "standardized as in training" if model.input_scaling is not None else "unscaled"
    description = [
        f"One step of plain gradient descent on the {sizes} network of {model_path!r}, "
        f"activations {', '.join(network.activations)}, loss {model.loss}.",
        f"Data: the first {rows} rows of {data_path!r}, inputs {scaled}.",
    ]
    return Problem(network, get_loss(model.loss), X, Y, description)


# -- the step -------------------------------------------------------------------


def explain_step(problem: Problem, learning_rate: float, printer: Printer) -> None:
    """Print the forward pass, the loss, the backward pass, the update and a gradient check."""
    net, loss = problem.network, problem.loss
    weights, activations = net._weights, net._activations
    X = np.asarray(problem.X, dtype=net.dtype)
    Y = np.asarray(problem.Y, dtype=net.dtype)
    m = X.shape[0]
    scale = backprop.row_scale(m, None, net.dtype)

    for text in problem.description:
        printer.line(text)
    printer.line(f"Learning rate alpha = {printer.number(learning_rate)}, m = {m} samples.")
    printer.line(
        "Samples are columns here, as in the derivation: X is (n_inputs x m). mlpnet stores "
        "samples as rows, so X, every Z_l and A_l, y, yhat and the gradients with respect to "
        "them are printed transposed; W_l and b_l print as stored."
    )
    printer.line()

    trace = net.forward_trace(X)
    L = backprop.loss_value(loss, trace, Y, scale)
    print_forward(printer, net, loss, trace, Y, L)

    delta_N = backprop.output_delta(loss, activations[-1], trace, Y, scale)
    dW, db = backprop.backward(weights, activations, trace, delta_N)
    print_backward(printer, net, loss, trace, Y, scale, delta_N, dW, db)

    print_update(printer, net, loss, X, Y, dW, db, learning_rate)

    error = gradient_check(net, X, Y, loss=loss.name)
    printer.line(
        "Gradient check: the largest relative difference between dL/dW, dL/db above and central "
        f"finite differences (epsilon 1e-5) is {error:.3g}."
    )


def output_name(l: int, n_layers: int) -> str:
    return "yhat" if l == n_layers else f"A{l}"


def print_forward(printer: Printer, net: Network, loss: Loss, trace, Y: np.ndarray, L: float) -> None:
    n_layers = len(net._weights)
    printer.line("Forward pass")
    printer.line()
    printer.matrix("X", trace.A[0].T)
    for l in range(1, n_layers + 1):
        g = net._activations[l - 1]
        previous = "X" if l == 1 else f"A{l - 1}"
        printer.matrix(f"W{l}", net._weights[l - 1])
        printer.matrix(f"b{l}", net._biases[l - 1])
        if l == n_layers and g.name == "identity":
            printer.matrix(f"yhat = W{l} {previous} + b{l}", trace.Z[l - 1].T)
            continue
        printer.matrix(f"Z{l} = W{l} {previous} + b{l}", trace.Z[l - 1].T)
        printer.matrix(f"{output_name(l, n_layers)} = {g.name}(Z{l})", trace.A[l].T)
    printer.matrix("y", Y.T)
    printer.matrix(LOSS_TEXT[loss.name][0], np.array(L))


def print_backward(printer: Printer, net: Network, loss: Loss, trace, Y, scale, delta_N, dW, db) -> None:
    """Print the output gradient, then dL/db, dL/dW, dL/dA and dL/dZ layer by layer, downwards."""
    weights, activations = net._weights, net._activations
    n_layers = len(weights)
    printer.line("Backward pass, with delta_l = dL/dZ_l")
    printer.line()

    output = activations[-1]
    start_text = LOSS_TEXT[loss.name][1].format(n=n_layers)
    if loss.output_activation is not None:
        printer.matrix(start_text, delta_N.T)
        current = f"dL/dZ{n_layers}"
    else:
        dL_dyhat = loss.gradient(trace.Z[-1], trace.A[-1], Y) * scale
        printer.matrix(start_text, dL_dyhat.T)
        current = "dL/dyhat"
        if output.name != "identity":
            printer.matrix(f"dL/dZ{n_layers} = dL/dyhat * {output.name}'(Z{n_layers})", delta_N.T)
            current = f"dL/dZ{n_layers}"

    delta = delta_N
    for l in range(n_layers, 0, -1):
        previous = "X" if l == 1 else f"A{l - 1}"
        gradient_of_bias = (f"dL/db{l} = sum over columns of {current}", db[l - 1])
        gradient_of_weight = (f"dL/dW{l} = {current} {previous}^T", dW[l - 1])
        # The output layer lists dL/db first, as the derivation does; hidden layers dL/dW first.
        blocks = [gradient_of_bias, gradient_of_weight] if l == n_layers else [gradient_of_weight, gradient_of_bias]
        for label, values in blocks:
            printer.matrix(label, values)
        if l == 1:
            break

        dA = delta @ weights[l - 1]
        printer.matrix(f"dL/dA{l - 1} = W{l}^T {current}", dA.T)
        g = activations[l - 2]
        delta = g.backward(dA, trace.Z[l - 2], trace.A[l - 1])
        derivative = DERIVATIVE_TEXT[g.name].format(l=l - 1)
        printer.matrix(f"dL/dZ{l - 1} = dL/dA{l - 1} * {derivative}", delta.T)
        current = f"dL/dZ{l - 1}"


def print_update(printer: Printer, net: Network, loss: Loss, X, Y, dW, db, learning_rate: float) -> None:
    """Print P - alpha dL/dP for every weight and bias, and the loss at the new parameters."""
    printer.line(f"Update: P <- P - alpha dL/dP with alpha = {printer.number(learning_rate)}")
    printer.line()
    new_weights, new_biases = [], []
    for l, (W, b) in enumerate(zip(net._weights, net._biases), start=1):
        new_W = W - learning_rate * dW[l - 1]
        new_b = b - learning_rate * db[l - 1]
        printer.matrix(f"new W{l} = W{l} - alpha dL/dW{l}", new_W)
        printer.matrix(f"new b{l} = b{l} - alpha dL/db{l}", new_b)
        new_weights.append(new_W)
        new_biases.append(new_b)

    updated = net.copy()
    updated.weights = new_weights
    updated.biases = new_biases
    printer.matrix("new L = L at the new parameters", np.array(updated.loss(X, Y, loss=loss.name)))
