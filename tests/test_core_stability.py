"""Activations and losses at |z| = 1e3 and 1e6, in float32 and float64, under strict numerics.

Strict numerics turns every warning into an error and makes overflow, invalid
operations and division by zero raise, so a test that passes computed
nothing non-finite on the way.  Expected values are the limits of each
formula, worked by hand in the tables below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlpnet import Network, backprop
from mlpnet.activations import get_activation
from mlpnet.losses import get_loss

DTYPES = ["float32", "float64"]
RTOL = {"float32": 1e-6, "float64": 1e-12}

Z_ROW = [1e6, -1e6, 1e3, -1e3, 0.0]
LN2 = math.log(2.0)

# activation -> (g(z), g'(z)) at z = 1e6, -1e6, 1e3, -1e3, 0.
# exp(-1000) underflows to 0 in both dtypes, so sigmoid, tanh, elu and softplus are exactly saturated.
ELEMENTWISE_LIMITS = {
    "identity": (Z_ROW, [1, 1, 1, 1, 1]),
    "sigmoid": ([1, 0, 1, 0, 0.5], [0, 0, 0, 0, 0.25]),
    "tanh": ([1, -1, 1, -1, 0], [0, 0, 0, 0, 1]),
    "relu": ([1e6, 0, 1e3, 0, 0], [1, 0, 1, 0, 0]),
    "leaky_relu": ([1e6, -1e4, 1e3, -10, 0], [1, 0.01, 1, 0.01, 0.01]),
    "elu": ([1e6, -1, 1e3, -1, 0], [1, 0, 1, 0, 1]),
    "softplus": ([1e6, 0, 1e3, 0, LN2], [1, 0, 1, 0, 0.5]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ELEMENTWISE_LIMITS))
def test_activation_at_large_inputs(name, dtype, strict_numerics):
    g = get_activation(name)
    Z = np.array([Z_ROW], dtype=dtype)
    expected_A, expected_derivative = ELEMENTWISE_LIMITS[name]

    with strict_numerics():
        A = g.forward(Z)
        dZ = g.backward(np.ones_like(Z), Z, A)

    assert A.dtype == np.dtype(dtype)
    assert dZ.dtype == np.dtype(dtype)
    np.testing.assert_allclose(A[0], expected_A, rtol=RTOL[dtype], atol=0)
    np.testing.assert_allclose(dZ[0], expected_derivative, rtol=RTOL[dtype], atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_at_large_inputs(dtype, strict_numerics):
    g = get_activation("softmax")
    Z = np.array([[1e6, -1e6, 0.0], [1e3, 1e3, -1e3], [-1e6, -1e6, -1e6]], dtype=dtype)
    dA = np.array([[1.0, 2.0, 3.0]] * 3, dtype=dtype)

    with strict_numerics():
        A = g.forward(Z)
        dZ = g.backward(dA, Z, A)

    np.testing.assert_allclose(A, [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=RTOL[dtype], atol=0)
    # dZ_j = A_j (dA_j - sum_k A_k dA_k): row 1 is (1 (1 - 1), 0, 0); row 2 has sum 1.5,
    # so (0.5 (1 - 1.5), 0.5 (2 - 1.5), 0); row 3 has sum 2, so (-1/3, 0, 1/3).
    expected = [[0, 0, 0], [-0.25, 0.25, 0], [-1 / 3, 0, 1 / 3]]
    np.testing.assert_allclose(dZ, expected, rtol=RTOL[dtype], atol=1e-7 if dtype == "float32" else 1e-15)


# -- losses ------------------------------------------------------------------------

# A network [2, 2] with W = I and b = 0 has output pre-activation Z = X.  With
# X = [[z, -z]] and Y = [[0, 1]] (m = 1) the losses are, worked by hand:
#   mse, identity:      z^2 + (-z - 1)^2
#   mae, identity:      z + (z + 1)
#   huber, identity:    (z - 1/2) + (z + 1 - 1/2)
#   bce, sigmoid:       softplus(z) - 0 + softplus(-z) - (-z) = 2z  (both outputs confidently wrong)
#   crossentropy:       logsumexp(z, -z) - (-z) = 2z
#   mse, softmax:       yhat = (1, 0), so 1 + 1 = 2
#   mse, sigmoid:       yhat = (1, 0), so 1 + 1 = 2
LOSS_LIMITS = {
    ("mse", "identity"): lambda z: z**2 + (z + 1) ** 2,
    ("mae", "identity"): lambda z: 2 * z + 1,
    ("huber", "identity"): lambda z: 2 * z,
    ("binary_crossentropy", "sigmoid"): lambda z: 2 * z,
    ("crossentropy", "softmax"): lambda z: 2 * z,
    ("mse", "softmax"): lambda z: 2.0,
    ("mse", "sigmoid"): lambda z: 2.0,
}


def identity_network(output_activation: str, dtype: str) -> Network:
    return Network(
        [2, 2],
        output_activation=output_activation,
        dtype=dtype,
        weights=[np.eye(2)],
        biases=[np.zeros(2)],
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("z", [1e3, 1e6])
@pytest.mark.parametrize("loss, output", list(LOSS_LIMITS), ids=[f"{l}-{o}" for l, o in LOSS_LIMITS])
def test_loss_at_large_logits(loss, output, z, dtype, strict_numerics):
    net = identity_network(output, dtype)
    X = np.array([[z, -z]])
    Y = np.array([[0.0, 1.0]])

    with strict_numerics():
        L, dW, db = net.loss_and_gradients(X, Y, loss=loss)

    np.testing.assert_allclose(L, LOSS_LIMITS[(loss, output)](z), rtol=RTOL[dtype])
    for g in dW + db:
        assert g.dtype == np.dtype(dtype)
        assert np.isfinite(g).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss, output", [("binary_crossentropy", "sigmoid"), ("crossentropy", "softmax")])
def test_crossentropy_of_exact_probabilities(loss, output, dtype, strict_numerics):
    """Probabilities of exactly 0 and 1: confident-correct costs 0, confident-wrong costs 2000."""
    net = identity_network(output, dtype)
    X = np.array([[1e3, -1e3]])

    with strict_numerics():
        A = net.predict(X)
        L_correct, dW_correct, _ = net.loss_and_gradients(X, [[1.0, 0.0]], loss=loss)
        L_wrong, dW_wrong, db_wrong = net.loss_and_gradients(X, [[0.0, 1.0]], loss=loss)

    np.testing.assert_array_equal(A, [[1.0, 0.0]])
    assert L_correct == 0.0
    np.testing.assert_array_equal(dW_correct[0], 0.0)
    np.testing.assert_allclose(L_wrong, 2e3, rtol=RTOL[dtype])
    # delta = p - y = (1, -1); dW = delta^T X.
    np.testing.assert_allclose(db_wrong[0], [1.0, -1.0], rtol=RTOL[dtype])
    np.testing.assert_allclose(dW_wrong[0], [[1e3, -1e3], [-1e3, 1e3]], rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_delta_of_confident_wrong_rows(dtype, strict_numerics):
    """The output delta is (p - y) / m on every row, saturated or not."""
    net = identity_network("sigmoid", dtype)
    X = np.array([[1e3, -1e3], [0.0, 0.0], [-1e6, 1e6], [2.0, -2.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    m = 4

    with strict_numerics():
        trace = net.forward_trace(X)
        delta = backprop.output_delta(
            get_loss("binary_crossentropy"), get_activation("sigmoid"), trace, Y.astype(dtype), np.dtype(dtype).type(1 / m)
        )

    sigmoid_2 = 1.0 / (1.0 + math.exp(-2.0))
    p = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [sigmoid_2, 1.0 - sigmoid_2]])
    np.testing.assert_allclose(delta, (p - Y) / m, rtol=RTOL[dtype])
    # Rows 0 and 2 are confidently wrong: their delta is the full +-1/m, not clipped to 0.
    np.testing.assert_array_equal(np.abs(delta[[0, 2]]), 1 / m)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", list(ELEMENTWISE_LIMITS))
def test_network_with_million_inputs(hidden, dtype, strict_numerics):
    """A whole network fed |x| = 1e6 stays finite through forward and backward passes."""
    net = Network([3, 4, 2], activation=hidden, output_activation="softmax", seed=0, dtype=dtype)
    X = np.array([[1e6, -1e6, 0.0], [-1e6, 1e3, 1e6], [1e3, -1e3, 0.5]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])

    with strict_numerics():
        yhat = net.predict(X)
        L, dW, db = net.loss_and_gradients(X, Y, loss="crossentropy")

    assert np.isfinite(yhat).all()
    np.testing.assert_allclose(yhat.sum(axis=1), 1.0, rtol=RTOL[dtype])
    assert np.isfinite(L)
    assert all(np.isfinite(g).all() for g in dW + db)
