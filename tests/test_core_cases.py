"""Saturated sigmoids and saturated binary cross-entropy, from recorded failure reports.

Each case file stores its network with weights of shape (fan_in, fan_out) and
Z = A_prev @ W + b; mlpnet stores (fan_out, fan_in), so the weights and the
expected weight gradients are transposed here.  The expected numbers were
computed with PyTorch autograd in float64.  Everything runs under strict
numerics: any overflow, invalid operation or warning fails the test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlpnet import Network, backprop
from mlpnet.activations import get_activation
from mlpnet.losses import get_loss

SIGMOID_CASE = "02-sigmoid-large-preactivation"
BCE_CASE = "04-bce-saturated-predictions"


def network_from_case(case: dict, dtype: str = "float64") -> Network:
    spec = case["network"]
    hidden, output = spec["activations"]
    initial = spec["initial_weights"]
    return Network(
        spec["layer_sizes"],
        activation=hidden,
        output_activation=output,
        dtype=dtype,
        weights=[np.array(W).T for W in initial["W"]],
        biases=[np.array(b) for b in initial["b"]],
    )


def tolerance(case: dict) -> dict:
    return {"rtol": case["expected"]["tolerance"]["rtol"], "atol": case["expected"]["tolerance"]["atol"]}


def assert_case_gradients(net: Network, X, y, loss: str, case: dict) -> None:
    expected = case["expected"]["gradients_at_initial_weights"]
    _, dW, db = net.loss_and_gradients(X, y, loss=loss)
    for l, (dW_case, db_case) in enumerate(zip(expected["dW"], expected["db"])):
        np.testing.assert_allclose(dW[l], np.array(dW_case).T, err_msg=f"dW[{l}]", **tolerance(case))
        np.testing.assert_allclose(db[l], np.array(db_case), err_msg=f"db[{l}]", **tolerance(case))


# -- sigmoid hidden units with pre-activations of +-850 to +-1000 ---------------


@pytest.fixture(scope="module")
def sigmoid_case(load_case) -> dict:
    return load_case(SIGMOID_CASE)


def test_saturated_sigmoid_forward(sigmoid_case, strict_numerics):
    net = network_from_case(sigmoid_case)
    X = np.array(sigmoid_case["input"]["X"])
    expected = sigmoid_case["expected"]

    with strict_numerics():
        trace = net.forward_trace(X)

    np.testing.assert_allclose(trace.Z[0], expected["hidden_preactivations_at_start"], **tolerance(sigmoid_case))
    np.testing.assert_allclose(trace.A[1], expected["hidden_activations_at_start"], **tolerance(sigmoid_case))
    # |z| >= 850 rounds to exactly 0 or 1 in float64.
    saturated = np.abs(trace.Z[0]) >= 850
    assert set(trace.A[1][saturated]) <= {0.0, 1.0}


def test_saturated_sigmoid_loss_at_start(sigmoid_case, strict_numerics):
    net = network_from_case(sigmoid_case)
    X = np.array(sigmoid_case["input"]["X"])
    y = np.array(sigmoid_case["input"]["y"])

    with strict_numerics():
        loss = net.loss(X, y, "mse")

    np.testing.assert_allclose(loss, sigmoid_case["expected"]["loss_after_steps"]["0"], **tolerance(sigmoid_case))


def test_saturated_sigmoid_gradients(sigmoid_case, strict_numerics):
    net = network_from_case(sigmoid_case)
    X = np.array(sigmoid_case["input"]["X"])
    y = np.array(sigmoid_case["input"]["y"])

    with strict_numerics():
        assert_case_gradients(net, X, y, "mse", sigmoid_case)


def test_saturated_sigmoid_local_derivative_is_zero(sigmoid_case, strict_numerics):
    net = network_from_case(sigmoid_case)
    X = np.array(sigmoid_case["input"]["X"])

    with strict_numerics():
        trace = net.forward_trace(X)
        derivative = get_activation("sigmoid").derivative(trace.Z[0], trace.A[1])

    saturated = np.abs(trace.Z[0]) >= 850
    assert saturated.sum() == 12
    np.testing.assert_array_equal(derivative[saturated], 0.0)


def test_predict_with_million_inputs(sigmoid_case, strict_numerics):
    net = network_from_case(sigmoid_case)
    X_predict = np.array(sigmoid_case["input"]["X_predict"])

    with strict_numerics():
        yhat = net.predict(X_predict)

    # Worked by hand from the initial weights (W1 rows (1, 1, -1), (1, -1, 1), (-1, 1, 1),
    # b1 = (0.1, -0.2, 0.05), W2 = (0.5, -0.3, 0.8), b2 = 0.1):
    #   x = (1e6, 0, 0):    Z1 = (1e6 + 0.1, 1e6 - 0.2, -1e6 + 0.05) -> A1 = (1, 1, 0) -> 0.5 - 0.3 + 0.1
    #   x = (-1e6, 0, 0):   A1 = (0, 0, 1)                                          -> 0.8 + 0.1
    #   x = (0, -800, 800): Z1 = (-1599.9, 1599.8, 0.05) -> A1 = (0, 1, sigmoid(0.05))
    expected = np.array(
        [
            [0.5 - 0.3 + 0.1],
            [0.8 + 0.1],
            [-0.3 + 0.8 / (1.0 + math.exp(-0.05)) + 0.1],
        ]
    )
    assert yhat.shape == (3, 1)
    np.testing.assert_allclose(yhat, expected, rtol=1e-12)


def test_saturated_sigmoid_float32_finite(sigmoid_case, strict_numerics):
    net = network_from_case(sigmoid_case, dtype="float32")
    X = np.array(sigmoid_case["input"]["X"])
    y = np.array(sigmoid_case["input"]["y"])
    X_predict = np.array(sigmoid_case["input"]["X_predict"])

    with strict_numerics():
        loss, dW, db = net.loss_and_gradients(X, y, loss="mse")
        yhat = net.predict(X_predict)

    assert np.isfinite(loss)
    assert all(np.isfinite(g).all() and g.dtype == np.float32 for g in dW + db)
    assert np.isfinite(yhat).all()
    assert loss == pytest.approx(sigmoid_case["expected"]["loss_after_steps"]["0"], rel=1e-5)


# -- binary cross-entropy with predictions of exactly 0.0 and 1.0 ---------------


@pytest.fixture(scope="module")
def bce_case(load_case) -> dict:
    return load_case(BCE_CASE)


def test_saturated_bce_forward(bce_case, strict_numerics):
    net = network_from_case(bce_case)
    X = np.array(bce_case["input"]["X"])
    expected = bce_case["expected"]

    with strict_numerics():
        trace = net.forward_trace(X)

    np.testing.assert_allclose(trace.Z[-1][:, 0], expected["output_logits_at_start"], **tolerance(bce_case))
    np.testing.assert_allclose(trace.A[-1][:, 0], expected["sigmoid_outputs_at_start"], **tolerance(bce_case))
    # sigmoid(40) and sigmoid(-800) round to exactly 1.0 and 0.0 in float64, the saturation under test.
    assert trace.A[-1][0, 0] == 1.0
    assert trace.A[-1][4, 0] == 0.0


def test_saturated_bce_per_sample_loss(bce_case, strict_numerics):
    net = network_from_case(bce_case)
    X = np.array(bce_case["input"]["X"])
    y = np.array(bce_case["input"]["y"]).reshape(-1, 1)

    with strict_numerics():
        trace = net.forward_trace(X)
        per_sample = get_loss("binary_crossentropy").per_sample(trace.Z[-1], trace.A[-1], y)

    np.testing.assert_allclose(per_sample, bce_case["expected"]["per_sample_loss_at_start"], **tolerance(bce_case))


def test_saturated_bce_loss_at_start(bce_case, strict_numerics):
    net = network_from_case(bce_case)
    X = np.array(bce_case["input"]["X"])
    y = np.array(bce_case["input"]["y"])

    with strict_numerics():
        loss = net.loss(X, y, "binary_crossentropy")

    np.testing.assert_allclose(loss, bce_case["expected"]["loss_after_steps"]["0"], **tolerance(bce_case))


def test_saturated_bce_output_delta(bce_case, strict_numerics):
    net = network_from_case(bce_case)
    X = np.array(bce_case["input"]["X"])
    y = np.array(bce_case["input"]["y"]).reshape(-1, 1)
    m = X.shape[0]

    with strict_numerics():
        trace = net.forward_trace(X)
        delta = backprop.output_delta(
            get_loss("binary_crossentropy"), get_activation("sigmoid"), trace, y, 1.0 / m
        )

    expected = bce_case["expected"]["dL_dz_at_start (equals (p - y)/m)"]
    np.testing.assert_allclose(delta[:, 0], expected, **tolerance(bce_case))
    # The confident-wrong row (p = 1, y = 0) keeps its full gradient (1 - 0) / m.
    assert delta[2, 0] == pytest.approx(1.0 / m, rel=1e-15)


def test_saturated_bce_gradients(bce_case, strict_numerics):
    net = network_from_case(bce_case)
    X = np.array(bce_case["input"]["X"])
    y = np.array(bce_case["input"]["y"])

    with strict_numerics():
        assert_case_gradients(net, X, y, "binary_crossentropy", bce_case)
