"""Training on recorded failure cases: saturated sigmoids and saturated cross-entropy.

Each case folder contains a case.json with the network, the data and the
expected trajectory, computed in float64 with PyTorch autograd and
torch.optim.  Its weights are stored as (fan_in, fan_out) with
Z = A_prev @ W + b, so they are transposed here.  Training runs with
warnings as errors and NumPy floating-point errors raised, except underflow.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlpnet


def cases_folder() -> Path | None:
    """Return the shared cases folder beside the repository root, or None if it is absent."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "cases"
    return folder if folder.is_dir() else None


def load_case(name: str) -> dict:
    folder = cases_folder()
    if folder is None or not (folder / name / "case.json").is_file():
        pytest.skip(f"case {name} not found beside the repository (expected ../shared/cases/{name})")
    return json.loads((folder / name / "case.json").read_text())


def network_from_case(case: dict) -> mlpnet.Network:
    spec = case["network"]
    initial = spec["initial_weights"]
    hidden, output = spec["activations"][:-1], spec["activations"][-1]
    return mlpnet.Network(
        spec["layer_sizes"],
        activation=hidden,
        output_activation=output,
        weights=[np.array(W).T for W in initial["W"]],
        biases=[np.array(b) for b in initial["b"]],
    )


def assert_close(actual, expected, tolerance, what):
    np.testing.assert_allclose(
        actual, expected, rtol=tolerance["rtol"], atol=tolerance["atol"], err_msg=what
    )


def train_strictly(net, X, y, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return net.fit(X, y, **options)


@pytest.mark.parametrize(
    "name, loss",
    [
        ("02-sigmoid-large-preactivation", "mse"),
        ("04-bce-saturated-predictions", "binary_crossentropy"),
    ],
)
def test_case_trajectory(name, loss):
    case = load_case(name)
    spec, expected = case["network"], case["expected"]
    tolerance = expected["tolerance"]
    X, y = np.array(case["input"]["X"]), np.array(case["input"]["y"])
    net = network_from_case(case)
    final_key = next(key for key in expected if key.startswith("final_weights_after_"))

    history = train_strictly(
        net, X, y, loss=loss, optimizer="gd", learning_rate=spec["optimizer"]["lr"],
        epochs=spec["epochs"], shuffle=False,
    )

    assert len(history) == spec["epochs"]
    for steps, value in expected["loss_after_steps"].items():
        steps = int(steps)
        actual = history.loss[steps] if steps < spec["epochs"] else net.loss(X, y, loss=loss)
        assert_close(actual, value, tolerance, f"loss after {steps} steps")
    for l, (W, b) in enumerate(zip(expected[final_key]["W"], expected[final_key]["b"])):
        assert_close(net.weights[l], np.array(W).T, tolerance, f"W{l + 1} after training")
        assert_close(net.biases[l], np.array(b), tolerance, f"b{l + 1} after training")
    assert np.isfinite(net.parameters).all()


def test_sigmoid_case_predictions_after_training():
    case = load_case("02-sigmoid-large-preactivation")
    expected = case["expected"]
    X, y = np.array(case["input"]["X"]), np.array(case["input"]["y"])
    net = network_from_case(case)
    train_strictly(net, X, y, learning_rate=0.1, epochs=10)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            predictions = net.predict(np.array(case["input"]["X_predict"]))

    assert_close(
        predictions[:, 0], expected["predictions_on_X_predict_after_10_steps"], expected["tolerance"],
        "predictions after 10 steps",
    )
