"""float32 networks keep float32 end to end and agree with a float64 reference to float32 accuracy;
every computation is bit-for-bit repeatable."""

from __future__ import annotations

import numpy as np
import pytest

import mlpnet
from mlpnet import Network

HIDDEN_ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
LOSS_OUTPUTS = [
    ("mse", "identity"),
    ("mae", "identity"),
    ("huber", "identity"),
    ("binary_crossentropy", "sigmoid"),
    ("crossentropy", "softmax"),
    ("mse", "softmax"),
]
# float32 carries about 7 significant digits; a few layers of rounding stay well inside 1e-4.
RTOL_FLOAT32 = 1e-4


def float32_problem(build_problem, hidden, output, loss, seed):
    """Return a float32 network and float64 data, weights and data rounded to float32 values."""
    net64, X, Y = build_problem([4, 5, 3, 3], hidden, output, loss, seed=seed)
    net32 = Network(
        net64.layer_sizes,
        activation=hidden,
        output_activation=output,
        dtype="float32",
        weights=net64.weights,
        biases=net64.biases,
    )
    X = X.astype(np.float32).astype(np.float64)
    Y = Y.astype(np.float32).astype(np.float64)
    return net32, X, Y


def assert_close_to_reference(net32, X, Y, loss, reference):
    L, dW, db = net32.loss_and_gradients(X, Y, loss=loss)
    weights64 = [W.astype(np.float64) for W in net32.weights]
    biases64 = [b.astype(np.float64) for b in net32.biases]
    L_ref, dW_ref, db_ref = reference(weights64, biases64, net32.activations, loss, X, Y)

    assert isinstance(L, float)
    np.testing.assert_allclose(L, L_ref, rtol=RTOL_FLOAT32, err_msg="loss (float32, torch float64)")
    for l in range(len(dW_ref)):
        assert dW[l].dtype == np.float32
        assert db[l].dtype == np.float32
        # Entries that cancel to nearly 0 keep an absolute error of float32 rounding on the largest entry.
        atol = 1e-6 * max(np.abs(dW_ref[l]).max(), 1.0)
        np.testing.assert_allclose(dW[l], dW_ref[l], rtol=RTOL_FLOAT32, atol=atol, err_msg=f"dW[{l}]")
        np.testing.assert_allclose(db[l], db_ref[l], rtol=RTOL_FLOAT32, atol=atol, err_msg=f"db[{l}]")


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_float32_activation_matches_float64_reference(hidden, build_problem, torch_loss_and_gradients):
    net32, X, Y = float32_problem(build_problem, hidden, "identity", "mse", seed=20)

    assert_close_to_reference(net32, X, Y, "mse", torch_loss_and_gradients)


@pytest.mark.parametrize("loss, output", LOSS_OUTPUTS, ids=[f"{l}-{o}" for l, o in LOSS_OUTPUTS])
def test_float32_loss_matches_float64_reference(loss, output, build_problem, torch_loss_and_gradients):
    net32, X, Y = float32_problem(build_problem, "tanh", output, loss, seed=21)

    assert_close_to_reference(net32, X, Y, loss, torch_loss_and_gradients)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_float32_dtype_kept_everywhere(hidden):
    net = Network([4, 5, 3, 2], activation=hidden, output_activation="softmax", seed=0, dtype="float32")
    X = np.random.default_rng(0).normal(size=(6, 4))  # float64 input is converted
    Y = np.eye(2)[[0, 1, 1, 0, 1, 0]]

    trace = net.forward_trace(X)
    _, dW, db = net.loss_and_gradients(X, Y, loss="crossentropy", sample_weight=np.arange(1.0, 7.0))

    assert net.dtype == np.float32
    assert net.parameters.dtype == np.float32
    assert all(A.dtype == np.float32 for A in trace.A)
    assert all(Z.dtype == np.float32 for Z in trace.Z)
    assert net.predict(X).dtype == np.float32
    assert all(g.dtype == np.float32 for g in dW + db)


def test_float32_gradient_check_uses_float64_reference(build_problem):
    net32, X, Y = float32_problem(build_problem, "tanh", "identity", "mse", seed=22)
    before = net32.parameters.copy()

    error = mlpnet.gradient_check(net32, X, Y, loss="mse", floor=1e-3)

    # Central differences in float64 against float32 analytic gradients: float32 rounding, not more.
    assert error < 1e-4
    np.testing.assert_array_equal(net32.parameters, before)
    assert net32.dtype == np.float32


# -- determinism ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_are_bit_identical(dtype):
    X = np.random.default_rng(3).normal(size=(20, 4))
    Y = np.random.default_rng(4).normal(size=(20, 2))

    def run() -> tuple:
        net = Network([4, 6, 5, 2], activation="tanh", seed=11, dtype=dtype)
        return net.parameters.copy(), net.predict(X), net.loss_and_gradients(X, Y, loss="huber")

    params_a, yhat_a, (L_a, dW_a, db_a) = run()
    params_b, yhat_b, (L_b, dW_b, db_b) = run()

    assert np.array_equal(params_a, params_b)
    assert np.array_equal(yhat_a, yhat_b)
    assert L_a == L_b
    assert all(np.array_equal(a, b) for a, b in zip(dW_a, dW_b))
    assert all(np.array_equal(a, b) for a, b in zip(db_a, db_b))


def test_repeated_calls_are_bit_identical():
    net = Network([4, 6, 1], activation="relu", seed=5)
    X = np.random.default_rng(6).normal(size=(8, 4))

    first = net.predict(X)
    net.loss_and_gradients(X, np.zeros(8))
    second = net.predict(X)

    assert np.array_equal(first, second)
    assert np.array_equal(net.forward_trace(X).output, first)
