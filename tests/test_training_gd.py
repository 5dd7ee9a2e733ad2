"""Plain gradient descent on the 3-3-1 network, against a loop written with Python floats.

The reference below is the textbook derivation with samples one at a time:

    z1_j = sum_k W1[j][k] x_k + b1_j,   a1_j = 1 / (1 + exp(-z1_j))
    yhat = sum_j W2[j] a1_j + b2
    L    = (1/m) sum_i (yhat_i - y_i)^2
    dL/dyhat_i = 2 (yhat_i - y_i) / m
    dL/dW2[j] += dL/dyhat_i a1_j,         dL/db2 += dL/dyhat_i
    delta1_j   = dL/dyhat_i W2[j] a1_j (1 - a1_j)
    dL/dW1[j][k] += delta1_j x_k,         dL/db1_j += delta1_j
    every parameter P <- P - lr dL/dP
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlpnet

X = [
    [0.5, -1.2, 0.3],
    [1.5, 0.2, -0.7],
    [-0.3, 0.8, 1.1],
    [0.0, -0.4, -1.5],
    [2.0, 1.0, 0.5],
    [-1.0, -2.0, 0.4],
]
Y = [0.7, -0.2, 1.3, 0.1, 2.2, -1.1]
W1 = [[0.2, -0.4, 0.1], [0.5, 0.3, -0.6], [-0.3, 0.8, 0.2]]
B1 = [0.1, -0.1, 0.05]
W2 = [0.6, -0.5, 0.9]
B2 = 0.2
LEARNING_RATE = 0.1


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def reference_losses(steps):
    """Return the loss before step 0, 1, ..., steps, from a loop over Python floats."""
    W1_ = [row[:] for row in W1]
    b1 = B1[:]
    W2_ = W2[:]
    b2 = B2
    m = len(X)
    losses = []
    for _ in range(steps + 1):
        L = 0.0
        gW1 = [[0.0] * 3 for _ in range(3)]
        gb1 = [0.0] * 3
        gW2 = [0.0] * 3
        gb2 = 0.0
        for x, y in zip(X, Y):
            a1 = [sigmoid(sum(W1_[j][k] * x[k] for k in range(3)) + b1[j]) for j in range(3)]
            yhat = sum(W2_[j] * a1[j] for j in range(3)) + b2
            L += (yhat - y) ** 2 / m
            d_yhat = 2.0 * (yhat - y) / m
            gb2 += d_yhat
            for j in range(3):
                gW2[j] += d_yhat * a1[j]
                delta1 = d_yhat * W2_[j] * a1[j] * (1.0 - a1[j])
                gb1[j] += delta1
                for k in range(3):
                    gW1[j][k] += delta1 * x[k]
        losses.append(L)
        for j in range(3):
            W2_[j] -= LEARNING_RATE * gW2[j]
            b1[j] -= LEARNING_RATE * gb1[j]
            for k in range(3):
                W1_[j][k] -= LEARNING_RATE * gW1[j][k]
        b2 -= LEARNING_RATE * gb2
    return losses


def make_network():
    return mlpnet.Network(
        [3, 3, 1], activation="sigmoid", output_activation="identity", weights=[W1, [W2]], biases=[B1, [B2]]
    )


def test_default_fit_is_plain_gradient_descent():
    expected = reference_losses(100)
    net = make_network()

    history = net.fit(X, Y, learning_rate=LEARNING_RATE, epochs=100)

    assert history.loss[0] == pytest.approx(expected[0], rel=1e-12)
    assert history.loss[1] == pytest.approx(expected[1], rel=1e-12)
    assert history.loss[10] == pytest.approx(expected[10], rel=1e-12)
    assert net.loss(X, Y) == pytest.approx(expected[100], rel=1e-11)
    np.testing.assert_allclose(history.loss, expected[:100], rtol=1e-11)


def test_loss_falls_under_gradient_descent():
    expected = reference_losses(100)

    assert expected[100] < expected[10] < expected[1] < expected[0]


def test_history_records_each_epoch():
    net = make_network()

    history = net.fit(X, Y, learning_rate=LEARNING_RATE, epochs=7)

    assert len(history) == 7
    assert history.epochs == list(range(7))
    assert history.learning_rate == [LEARNING_RATE] * 7
    assert history.val_loss == []
    assert history.stopped_epoch is None
    assert history.stop_reason == "completed"
    as_dict = history.to_dict()
    assert as_dict["loss"] == history.loss
    assert as_dict["epochs"] == list(range(7))
