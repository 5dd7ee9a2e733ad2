"""One forward and backward pass of the 3-3-1 network, checked against numbers worked by hand.

Samples are columns in the derivation below, as in the textbook formulas; mlpnet
holds samples as rows, so every (units x m) matrix here is compared transposed.

Network: 3 inputs, 3 sigmoid hidden units, 1 identity output, squared error
L = (1/m) sum_i (y_i - yhat_i)^2 with m = 2.

    W1 = [[0.5, -0.5,  0.0],     b1 = [0, 0, 0.5]
          [0.0,  0.5,  0.5],
          [0.5,  0.0, -0.5]]
    W2 = [[0.5, -0.5, 1.0]]      b2 = [0.25]
    x1 = (1, 1, 0), y1 = 1;   x2 = (1, 0, 1), y2 = 0

Forward:
    Z1 = W1 X + b1 = [[0, 0.5], [0.5, 0.5], [1, 0.5]]
    A1 = sigmoid(Z1), with sigmoid(0) = 0.5, s = sigmoid(0.5) = 0.6224593312018546,
         t = sigmoid(1) = 0.7310585786300049:
       = [[0.5, s], [s, s], [t, s]]
    yhat1 = 0.5 * 0.5 - 0.5 s + t + 0.25 = 0.9198289130290775
    yhat2 = 0.5 s - 0.5 s + s + 0.25   = 0.8724593312018546
    L = ((1 - yhat1)^2 + yhat2^2) / 2  = 0.3838063438936433

Backward:
    dL/dyhat = 2 (yhat - y) / m = (yhat1 - 1, yhat2) = (-0.08017108697092246, 0.8724593312018546)
    dL/db2   = sum of dL/dyhat = 0.7922882442309321
    dL/dW2   = dL/dyhat A1^T, e.g. entry 1: 0.5 (yhat1 - 1) + s yhat2 = 0.5029849083152625
    dL/dA1   = W2^T dL/dyhat: row j is W2_j * dL/dyhat
    dL/dZ1   = dL/dA1 * A1 (1 - A1), e.g. entry (1, 1): 0.5 (yhat1 - 1) * 0.25 = -0.010021385871365307
    dL/dW1   = dL/dZ1 X^T: column k sums dL/dZ1 over the samples whose input k is 1
    dL/db1   = row sums of dL/dZ1

The numbers were evaluated with Python's math module from these formulas.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlpnet import Network, backprop
from mlpnet.activations import get_activation
from mlpnet.losses import get_loss

RTOL = 1e-12

X = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
Y = np.array([1.0, 0.0])
M = 2

W1 = np.array([[0.5, -0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, -0.5]])
b1 = np.array([0.0, 0.0, 0.5])
W2 = np.array([[0.5, -0.5, 1.0]])
b2 = np.array([0.25])

S = 0.6224593312018546  # sigmoid(0.5)
T = 0.7310585786300049  # sigmoid(1)

# Samples as columns: (units, m).
Z1_EXPECTED = np.array([[0.0, 0.5], [0.5, 0.5], [1.0, 0.5]])
A1_EXPECTED = np.array([[0.5, S], [S, S], [T, S]])
YHAT_EXPECTED = np.array([[0.9198289130290775, 0.8724593312018546]])
L_EXPECTED = 0.3838063438936433

DYHAT_EXPECTED = np.array([[-0.08017108697092246, 0.8724593312018546]])
DB2_EXPECTED = np.array([0.7922882442309321])
DW2_EXPECTED = np.array([[0.5029849083152625, 0.49316721062307767, 0.4844606909125387]])
DA1_EXPECTED = np.array(
    [
        [-0.04008554348546123, 0.4362296656009273],
        [0.04008554348546123, -0.4362296656009273],
        [-0.08017108697092246, 0.8724593312018546],
    ]
)
DZ1_EXPECTED = np.array(
    [
        [-0.010021385871365307, 0.10251559078867813],
        [0.009420251524701832, -0.10251559078867813],
        [-0.01576259239942404, 0.20503118157735625],
    ]
)
DW1_EXPECTED = np.array(
    [
        [0.09249420491731282, -0.010021385871365307, 0.10251559078867813],
        [-0.0930953392639763, 0.009420251524701832, -0.10251559078867813],
        [0.1892685891779322, -0.01576259239942404, 0.20503118157735625],
    ]
)
DB1_EXPECTED = np.array([0.09249420491731282, -0.0930953392639763, 0.1892685891779322])


@pytest.fixture
def net() -> Network:
    return Network([3, 3, 1], activation="sigmoid", output_activation="identity", weights=[W1, W2], biases=[b1, b2])


def test_forward_pass_by_hand(net):
    trace = net.forward_trace(X)

    np.testing.assert_array_equal(trace.A[0], X)
    np.testing.assert_allclose(trace.Z[0], Z1_EXPECTED.T, rtol=RTOL, err_msg="Z1")
    np.testing.assert_allclose(trace.A[1], A1_EXPECTED.T, rtol=RTOL, err_msg="A1")
    np.testing.assert_allclose(trace.Z[1], YHAT_EXPECTED.T, rtol=RTOL, err_msg="Z2")
    np.testing.assert_allclose(trace.A[2], YHAT_EXPECTED.T, rtol=RTOL, err_msg="yhat")
    np.testing.assert_allclose(net.predict(X), YHAT_EXPECTED.T, rtol=RTOL, err_msg="predict")


def test_loss_by_hand(net):
    assert net.loss(X, Y, "mse") == pytest.approx(L_EXPECTED, rel=RTOL)


def test_backward_steps_by_hand(net):
    trace = net.forward_trace(X)
    mse = get_loss("mse")
    sigmoid = get_activation("sigmoid")
    identity = get_activation("identity")
    scale = 1.0 / M

    dL_dyhat = backprop.output_delta(mse, identity, trace, Y.reshape(-1, 1), scale)
    np.testing.assert_allclose(dL_dyhat, DYHAT_EXPECTED.T, rtol=RTOL, err_msg="dL/dyhat")

    dW2, db2 = backprop.layer_gradients(dL_dyhat, trace.A[1])
    np.testing.assert_allclose(db2, DB2_EXPECTED, rtol=RTOL, err_msg="dL/db2")
    np.testing.assert_allclose(dW2, DW2_EXPECTED, rtol=RTOL, err_msg="dL/dW2")

    dL_dA1 = backprop.input_gradient(dL_dyhat, W2)
    np.testing.assert_allclose(dL_dA1, DA1_EXPECTED.T, rtol=RTOL, err_msg="dL/dA1")

    dL_dZ1 = sigmoid.backward(dL_dA1, trace.Z[0], trace.A[1])
    np.testing.assert_allclose(dL_dZ1, DZ1_EXPECTED.T, rtol=RTOL, err_msg="dL/dZ1")

    dW1, db1 = backprop.layer_gradients(dL_dZ1, trace.A[0])
    np.testing.assert_allclose(dW1, DW1_EXPECTED, rtol=RTOL, err_msg="dL/dW1")
    np.testing.assert_allclose(db1, DB1_EXPECTED, rtol=RTOL, err_msg="dL/db1")


def test_loss_and_gradients_by_hand(net):
    L, dW, db = net.loss_and_gradients(X, Y, loss="mse")

    assert L == pytest.approx(L_EXPECTED, rel=RTOL)
    np.testing.assert_allclose(dW[0], DW1_EXPECTED, rtol=RTOL, err_msg="dL/dW1")
    np.testing.assert_allclose(db[0], DB1_EXPECTED, rtol=RTOL, err_msg="dL/db1")
    np.testing.assert_allclose(dW[1], DW2_EXPECTED, rtol=RTOL, err_msg="dL/dW2")
    np.testing.assert_allclose(db[1], DB2_EXPECTED, rtol=RTOL, err_msg="dL/db2")

