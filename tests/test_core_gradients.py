"""The loss and every gradient against PyTorch autograd (float64) and central finite differences.

The grid covers every hidden activation, every loss with its output
activation, mse through a softmax output (the softmax Jacobian), 0 to 3 hidden
layers, one and several outputs, and sample weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlpnet

HIDDEN_ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]

# (loss, output activation); mse through softmax and sigmoid exercises the
# output activation's own derivative instead of the paired cross-entropy delta.
LOSS_OUTPUTS = [
    ("mse", "identity"),
    ("mae", "identity"),
    ("huber", "identity"),
    ("binary_crossentropy", "sigmoid"),
    ("crossentropy", "softmax"),
    ("mse", "softmax"),
    ("mse", "sigmoid"),
]

# Number of layers (weight matrices) -> hidden layer sizes.
HIDDEN_SIZES = {1: [], 2: [5], 3: [5, 3], 4: [5, 4, 3]}

N_INPUTS = 4
RTOL = 1e-10
ATOL = 1e-13
GRADCHECK_THRESHOLD = 1e-6
# Central differences with epsilon = 1e-5 carry a rounding error of about
# 2.2e-16 * |L| / 1e-5, a few times 1e-11 for these losses, which is a
# relative error above 1e-6 on entries below 1e-4 (deep sigmoid nets have
# some).  With a floor of 1e-3 such entries must agree to 1e-9 absolute, still
# far below the error of any wrong formula.
GRADCHECK_FLOOR = 1e-3


def layer_sizes(depth: int, n_outputs: int) -> list[int]:
    return [N_INPUTS, *HIDDEN_SIZES[depth], n_outputs]


def outputs_for(output_activation: str, several: bool) -> int:
    """Return 1 or 3 outputs; a softmax layer gets 2 at least, because one softmax output is constant."""
    if several:
        return 3
    return 2 if output_activation == "softmax" else 1


def assert_matches_reference(net, X, Y, loss, reference, sample_weight=None):
    """Compare mlpnet's loss, dW and db with the torch reference, side by side on failure."""
    L, dW, db = net.loss_and_gradients(X, Y, loss=loss, sample_weight=sample_weight)
    L_ref, dW_ref, db_ref = reference(
        net.weights, net.biases, net.activations, loss, X, Y, sample_weight=sample_weight
    )

    np.testing.assert_allclose(L, L_ref, rtol=RTOL, atol=ATOL, err_msg="loss (mlpnet, torch)")
    assert len(dW) == len(dW_ref)
    assert len(db) == len(db_ref)
    for l in range(len(dW_ref)):
        assert dW[l].shape == net.weights[l].shape
        assert db[l].shape == net.biases[l].shape
        np.testing.assert_allclose(dW[l], dW_ref[l], rtol=RTOL, atol=ATOL, err_msg=f"dW[{l}] (mlpnet, torch)")
        np.testing.assert_allclose(db[l], db_ref[l], rtol=RTOL, atol=ATOL, err_msg=f"db[{l}] (mlpnet, torch)")


# -- PyTorch autograd ----------------------------------------------------------


@pytest.mark.parametrize("several", [False, True], ids=["one_output", "several_outputs"])
@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_hidden_activation_matches_torch(hidden, depth, several, build_problem, torch_loss_and_gradients):
    sizes = layer_sizes(depth, outputs_for("identity", several))
    net, X, Y = build_problem(sizes, hidden, "identity", "mse", seed=depth)

    assert_matches_reference(net, X, Y, "mse", torch_loss_and_gradients)


@pytest.mark.parametrize("several", [False, True], ids=["one_output", "several_outputs"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("loss, output", LOSS_OUTPUTS, ids=[f"{l}-{o}" for l, o in LOSS_OUTPUTS])
def test_loss_matches_torch(loss, output, depth, several, build_problem, torch_loss_and_gradients):
    sizes = layer_sizes(depth, outputs_for(output, several))
    net, X, Y = build_problem(sizes, "tanh", output, loss, seed=10 + depth)

    assert_matches_reference(net, X, Y, loss, torch_loss_and_gradients)


@pytest.mark.parametrize(
    "hidden",
    [["relu", "tanh", "softplus"], ["elu", "sigmoid", "leaky_relu"]],
    ids=["relu-tanh-softplus", "elu-sigmoid-leaky_relu"],
)
def test_mixed_hidden_activations_match_torch(hidden, build_problem, torch_loss_and_gradients):
    net, X, Y = build_problem(layer_sizes(4, 2), hidden, "identity", "mse", seed=3)

    assert net.activations == [*hidden, "identity"]
    assert_matches_reference(net, X, Y, "mse", torch_loss_and_gradients)


@pytest.mark.parametrize("loss, output", LOSS_OUTPUTS, ids=[f"{l}-{o}" for l, o in LOSS_OUTPUTS])
def test_sample_weight_matches_torch(loss, output, build_problem, torch_loss_and_gradients):
    net, X, Y = build_problem(layer_sizes(3, 3), "sigmoid", output, loss, seed=7, n_samples=6)
    # One zero weight: that sample must drop out of the loss and the gradient entirely.
    sample_weight = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25])

    assert_matches_reference(net, X, Y, loss, torch_loss_and_gradients, sample_weight=sample_weight)


def test_equal_sample_weights_give_plain_mean(build_problem, torch_loss_and_gradients):
    net, X, Y = build_problem(layer_sizes(2, 1), "tanh", "identity", "mse", seed=4)

    assert_matches_reference(net, X, Y, "mse", torch_loss_and_gradients, sample_weight=np.full(6, 3.0))
    assert_matches_reference(net, X, Y, "mse", torch_loss_and_gradients, sample_weight=None)


def test_scalar_sample_weight_gives_plain_mean(build_problem, torch_loss_and_gradients):
    """A scalar sample_weight weights every sample alike, so the loss is the plain mean."""
    net, X, Y = build_problem(layer_sizes(2, 1), "tanh", "identity", "mse", seed=4)

    L, dW, db = net.loss_and_gradients(X, Y, loss="mse", sample_weight=2.5)
    L_ref, dW_ref, db_ref = torch_loss_and_gradients(net.weights, net.biases, net.activations, "mse", X, Y)

    np.testing.assert_allclose(L, L_ref, rtol=RTOL, atol=ATOL)
    for l in range(2):
        np.testing.assert_allclose(dW[l], dW_ref[l], rtol=RTOL, atol=ATOL, err_msg=f"dW[{l}]")
        np.testing.assert_allclose(db[l], db_ref[l], rtol=RTOL, atol=ATOL, err_msg=f"db[{l}]")


def test_one_sample_batch_matches_torch(build_problem, torch_loss_and_gradients):
    net, X, Y = build_problem(layer_sizes(3, 2), "relu", "softmax", "crossentropy", seed=5, n_samples=1)

    assert_matches_reference(net, X, Y, "crossentropy", torch_loss_and_gradients)


# -- central finite differences ------------------------------------------------


@pytest.mark.parametrize("several", [False, True], ids=["one_output", "several_outputs"])
@pytest.mark.parametrize("depth", [2, 4])
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_hidden_activation_passes_gradient_check(hidden, depth, several, build_problem):
    sizes = layer_sizes(depth, outputs_for("identity", several))
    net, X, Y = build_problem(sizes, hidden, "identity", "mse", seed=depth)

    error = mlpnet.gradient_check(net, X, Y, loss="mse", floor=GRADCHECK_FLOOR)

    assert error < GRADCHECK_THRESHOLD


@pytest.mark.parametrize("several", [False, True], ids=["one_output", "several_outputs"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("loss, output", LOSS_OUTPUTS, ids=[f"{l}-{o}" for l, o in LOSS_OUTPUTS])
def test_loss_passes_gradient_check(loss, output, depth, several, build_problem):
    sizes = layer_sizes(depth, outputs_for(output, several))
    net, X, Y = build_problem(sizes, "tanh", output, loss, seed=10 + depth)

    error = mlpnet.gradient_check(net, X, Y, loss=loss, floor=GRADCHECK_FLOOR)

    assert error < GRADCHECK_THRESHOLD


@pytest.mark.parametrize("loss, output", LOSS_OUTPUTS, ids=[f"{l}-{o}" for l, o in LOSS_OUTPUTS])
def test_sample_weight_passes_gradient_check(loss, output, build_problem):
    net, X, Y = build_problem(layer_sizes(3, 3), "sigmoid", output, loss, seed=7)
    sample_weight = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25])

    error = mlpnet.gradient_check(net, X, Y, loss=loss, sample_weight=sample_weight, floor=GRADCHECK_FLOOR)

    assert error < GRADCHECK_THRESHOLD


def test_gradient_check_detects_wrong_gradient(build_problem, monkeypatch):
    """A squared-error gradient missing its factor 2, yhat - y in place of 2 (yhat - y), must fail the check."""
    from mlpnet import losses

    net, X, Y = build_problem(layer_sizes(2, 1), "tanh", "identity", "mse", seed=1)
    halved = losses.Loss("mse", losses.squared_error, lambda Z, A, Y: (A - Y))
    monkeypatch.setitem(losses.LOSSES, "mse", halved)

    error = mlpnet.gradient_check(net, X, Y, loss="mse")

    # Analytic g/2 against numeric g: relative error 1/2 on every nonzero entry.
    assert error == pytest.approx(0.5, rel=1e-4)
