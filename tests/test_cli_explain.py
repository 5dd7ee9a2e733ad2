"""`mlpnet explain`: every printed number equals the library's, and PyTorch autograd in float64.

The printout is parsed back into matrices (``LABEL  (r x c)`` and r rows of
numbers).  With --precision 17 each printed float64 reads back exactly, so
the library's values are compared bit for bit and torch's to rounding.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mlpnet import Network, gradient_check
from mlpnet.datasets import dataset_path
from mlpnet.io.model_file import load_model_file

HEADER = re.compile(r"^(?P<label>\S.*?)  \((?P<rows>\d+) x (?P<columns>\d+)\)$")
LEARNING_RATE = 0.1


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "MLPNET_TRACEBACK"}
    result = subprocess.run(
        [sys.executable, "-m", "mlpnet", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=environment,
    )
    assert result.returncode == 0, f"exit {result.returncode}\nstderr:\n{result.stderr}"
    return result


def parse_blocks(text: str) -> dict[str, np.ndarray]:
    """Map each block's name (the label before " = ") to its (rows x columns) matrix."""
    lines = text.splitlines()
    blocks: dict[str, np.ndarray] = {}
    i = 0
    while i < len(lines):
        match = HEADER.match(lines[i])
        if match is None:
            i += 1
            continue
        rows, columns = int(match["rows"]), int(match["columns"])
        values = np.array([[float(v) for v in lines[i + 1 + k].split()] for k in range(rows)])
        assert values.shape == (rows, columns), lines[i]
        name = match["label"].split(" = ")[0]
        assert name not in blocks, f"block {name!r} printed twice"
        blocks[name] = values
        i += 1 + rows
    return blocks


def read_columns(path: Path, names: list[str]) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    return [[row[header.index(name)] for name in names] for row in rows[1:]]


# -- the 3-3-1 network on stackloss ---------------------------------------------------


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    result = run_cli("explain", "--precision", "17", cwd=folder)
    return result.stdout, parse_blocks(result.stdout)


@pytest.fixture(scope="module")
def stackloss_rows():
    """The first 4 rows of stackloss, inputs and target standardized over all 21 rows (ddof=0)."""
    values = np.array(
        read_columns(dataset_path("stackloss"), ["AIRFLOW", "WATERTEMP", "ACIDCONC", "STACKLOSS"]), dtype=float
    )
    standardized = (values - values.mean(axis=0)) / values.std(axis=0)
    return standardized[:4, :3], standardized[:4, 3:]


def torch_step(weights, biases, activations, X, Y, loss):
    """Forward and backward in float64 with torch autograd; samples are rows, W is (n_out, n_in)."""
    W = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    b = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in biases]
    A = torch.tensor(X, dtype=torch.float64)
    Y_t = torch.tensor(Y, dtype=torch.float64)
    Zs, As = [], [A]
    for W_l, b_l, name in zip(W, b, activations):
        Z = A @ W_l.T + b_l
        Z.retain_grad()
        A = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda t: t,
             "softmax": lambda t: torch.softmax(t, dim=1)}[name](Z)
        A.retain_grad()
        Zs.append(Z)
        As.append(A)
    if loss == "mse":
        L = ((A - Y_t) ** 2).sum() / A.shape[0]
    else:
        L = -(Y_t * torch.log_softmax(Zs[-1], dim=1)).sum() / A.shape[0]
    L.backward()
    return {
        "L": L.item(),
        "Z": [z.detach().numpy() for z in Zs],
        "A": [a.detach().numpy() for a in As],
        "dZ": [z.grad.numpy() for z in Zs],
        # The cross-entropy is computed from the logits, so the output A then has no gradient.
        "dA": [None if a.grad is None else a.grad.numpy() for a in As[1:]],
        "dW": [w.grad.numpy() for w in W],
        "db": [v.grad.numpy() for v in b],
    }


def test_explain_prints_lecture_shapes(default_run):
    text, blocks = default_run
    expected = {
        "X": (3, 4), "W1": (3, 3), "b1": (3, 1), "Z1": (3, 4), "A1": (3, 4), "W2": (1, 3), "b2": (1, 1),
        "yhat": (1, 4), "y": (1, 4), "L": (1, 1), "dL/dyhat": (1, 4), "dL/db2": (1, 1), "dL/dW2": (1, 3),
        "dL/dA1": (3, 4), "dL/dZ1": (3, 4), "dL/dW1": (3, 3), "dL/db1": (3, 1),
        "new W1": (3, 3), "new b1": (3, 1), "new W2": (1, 3), "new b2": (1, 1), "new L": (1, 1),
    }
    assert {name: block.shape for name, block in blocks.items()} == expected
    assert text.count("printed transposed") == 1
    for formula in ("Z1 = W1 X + b1", "A1 = sigmoid(Z1)", "yhat = W2 A1 + b2", "dL/dyhat = 2 (yhat - y) / m",
                    "dL/dW2 = dL/dyhat A1^T", "dL/dA1 = W2^T dL/dyhat", "dL/dZ1 = dL/dA1 * A1 * (1 - A1)",
                    "dL/dW1 = dL/dZ1 X^T", "dL/db1 = sum over columns of dL/dZ1"):
        assert formula in text, formula


def test_explain_numbers_equal_library(default_run, stackloss_rows):
    _, blocks = default_run
    X, Y = stackloss_rows
    net = Network([3, 3, 1], activation="sigmoid", output_activation="identity", seed=0)
    trace = net.forward_trace(X)
    L, dW, db = net.loss_and_gradients(X, Y, loss="mse")

    np.testing.assert_allclose(blocks["X"], X.T, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(blocks["y"], Y.T, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(blocks["W1"], net.weights[0])
    np.testing.assert_array_equal(blocks["b1"][:, 0], net.biases[0])
    np.testing.assert_array_equal(blocks["W2"], net.weights[1])
    np.testing.assert_array_equal(blocks["Z1"], trace.Z[0].T)
    np.testing.assert_array_equal(blocks["A1"], trace.A[1].T)
    np.testing.assert_array_equal(blocks["yhat"], trace.A[2].T)
    assert blocks["L"][0, 0] == L
    np.testing.assert_array_equal(blocks["dL/dW1"], dW[0])
    np.testing.assert_array_equal(blocks["dL/db1"][:, 0], db[0])
    np.testing.assert_array_equal(blocks["dL/dW2"], dW[1])
    np.testing.assert_array_equal(blocks["dL/db2"][:, 0], db[1])
    np.testing.assert_array_equal(blocks["new W1"], net.weights[0] - LEARNING_RATE * dW[0])
    np.testing.assert_array_equal(blocks["new b2"][:, 0], net.biases[1] - LEARNING_RATE * db[1])


def test_explain_numbers_match_torch(default_run, stackloss_rows):
    text, blocks = default_run
    X, Y = stackloss_rows
    weights = [blocks["W1"], blocks["W2"]]
    biases = [blocks["b1"][:, 0], blocks["b2"][:, 0]]
    reference = torch_step(weights, biases, ["sigmoid", "identity"], X, Y, "mse")

    def close(name, expected):
        np.testing.assert_allclose(blocks[name], expected, rtol=1e-12, atol=1e-15, err_msg=name)

    close("Z1", reference["Z"][0].T)
    close("A1", reference["A"][1].T)
    close("yhat", reference["A"][2].T)
    close("L", [[reference["L"]]])
    close("dL/dyhat", reference["dA"][1].T)
    close("dL/dA1", reference["dA"][0].T)
    close("dL/dZ1", reference["dZ"][0].T)
    close("dL/dW1", reference["dW"][0])
    close("dL/db1", reference["db"][0].reshape(-1, 1))
    close("dL/dW2", reference["dW"][1])
    close("dL/db2", reference["db"][1].reshape(-1, 1))

    new_weights = [w - LEARNING_RATE * g for w, g in zip(weights, reference["dW"])]
    new_biases = [v - LEARNING_RATE * g for v, g in zip(biases, reference["db"])]
    close("new W2", new_weights[1])
    close("new b1", new_biases[0].reshape(-1, 1))
    after = torch_step(new_weights, new_biases, ["sigmoid", "identity"], X, Y, "mse")
    close("new L", [[after["L"]]])

    # The gradient check of the library's gradient on the same network and rows.
    net = Network([3, 3, 1], activation="sigmoid", output_activation="identity", seed=0)
    printed_error = float(re.search(r"finite differences \(epsilon 1e-5\) is (\S+)\.", text).group(1))
    assert printed_error == pytest.approx(gradient_check(net, X, Y), rel=1e-2)
    assert printed_error < 1e-6


def test_explain_rows_option(tmp_path):
    blocks = parse_blocks(run_cli("explain", "--rows", "2", cwd=tmp_path).stdout)
    assert blocks["X"].shape == (3, 2)
    assert blocks["dL/dZ1"].shape == (3, 2)


# -- a saved model of any depth -----------------------------------------------------------


def model_rows(model_path: Path, data_path: Path, rows: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Standardize the first rows with the model's own arrays and build its target array by hand."""
    model = load_model_file(model_path)
    info = model.metadata
    raw = read_columns(data_path, info["feature_names"] + [info["target_name"]])[:rows]
    X = np.array([row[:-1] for row in raw], dtype=float)
    X = (X - model.arrays["input_mean"]) / model.arrays["input_scale"]
    if info["task"] == "regression":
        y = np.array([[float(row[-1])] for row in raw])
        Y = (y - model.arrays["target_mean"]) / model.arrays["target_scale"]
    else:
        Y = np.array([[1.0 if row[-1] == label else 0.0 for label in info["classes"]] for row in raw])
    return X, Y, {"model": model, "loss": info["loss"]}


@pytest.mark.parametrize(
    "dataset, hidden, activation",
    [("stackloss", "4,3", "tanh"), ("penguins", "5", "sigmoid")],
)
def test_explain_saved_model_matches_torch(tmp_path, dataset, hidden, activation):
    data = dataset_path(dataset)
    run_cli("train", "--dataset", dataset, "--hidden", hidden, "--activation", activation, "--epochs", "3",
            "--quiet", "--out", "model.npz", cwd=tmp_path)
    text = run_cli("explain", "--model", "model.npz", "--data", data, "--rows", "5", "--precision", "17",
                   cwd=tmp_path).stdout
    blocks = parse_blocks(text)

    X, Y, info = model_rows(tmp_path / "model.npz", data, 5)
    net = info["model"].network
    reference = torch_step([np.asarray(w) for w in net.weights], [np.asarray(b) for b in net.biases],
                           net.activations, X, Y, info["loss"])

    def close(name, expected):
        np.testing.assert_allclose(blocks[name], expected, rtol=1e-11, atol=1e-14, err_msg=name)

    n_layers = len(net.weights)
    close("X", X.T)
    close("y", Y.T)
    close("L", [[reference["L"]]])
    for l in range(1, n_layers + 1):
        close(f"W{l}", net.weights[l - 1])
        close(f"dL/dW{l}", reference["dW"][l - 1])
        close(f"dL/db{l}", reference["db"][l - 1].reshape(-1, 1))
        if l < n_layers:
            close(f"Z{l}", reference["Z"][l - 1].T)
            close(f"A{l}", reference["A"][l].T)
            close(f"dL/dZ{l}", reference["dZ"][l - 1].T)
            close(f"dL/dA{l}", reference["dA"][l - 1].T)
    if info["loss"] == "crossentropy":
        close(f"Z{n_layers}", reference["Z"][-1].T)
        close(f"dL/dZ{n_layers}", reference["dZ"][-1].T)
        assert f"dL/dZ{n_layers} = (yhat - y) / m" in text
    close("yhat", reference["A"][-1].T)
