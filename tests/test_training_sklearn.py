"""Plain gradient descent against scikit-learn's MLPRegressor.

scikit-learn's squared error carries a factor 1/2 that mlpnet's "mse" does
not, so its gradient is half of ours: solver="sgd" with
learning_rate_init = 2 * lr takes the same step as mlpnet's lr.  Its L2 term
(alpha / (2 * batch_size)) ||W||^2 is added to that halved loss, which makes
mlpnet's l2 = 2 * alpha / batch_size.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mlpnet

sklearn_neural_network = pytest.importorskip("sklearn.neural_network")
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

STEPS = 50


def sklearn_regressor(hidden_sizes, activation, learning_rate, m, alpha=0.0, max_iter=STEPS):
    return sklearn_neural_network.MLPRegressor(
        hidden_layer_sizes=hidden_sizes,
        activation=activation,
        solver="sgd",
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=alpha,
        learning_rate="constant",
        learning_rate_init=2 * learning_rate,
        batch_size=m,
        shuffle=False,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=max_iter + 1,
        random_state=0,
    )


def fit_sklearn_from(net, regressor, X, y):
    """Give the regressor ``net``'s parameters (transposed to its (n_in, n_out) layout) and fit it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor.set_params(max_iter=1)
        regressor.fit(X, y)
        regressor.coefs_ = [W.T.copy() for W in net.weights]
        regressor.intercepts_ = [b.copy() for b in net.biases]
        regressor.set_params(max_iter=STEPS, warm_start=True)
        regressor.fit(X, y)
    return regressor


@pytest.mark.parametrize("hidden_sizes", [(3,), (4, 3, 2)], ids=["one_hidden", "three_hidden"])
@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_gd_matches_sklearn_sgd(hidden_sizes, activation):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    net = mlpnet.Network([3, *hidden_sizes, 1], activation=activation, init="sklearn", seed=1)
    regressor = fit_sklearn_from(net, sklearn_regressor(hidden_sizes, activation, 0.05, 30), X, y)

    history = net.fit(X, y, optimizer="gd", learning_rate=0.05, epochs=STEPS)

    assert len(regressor.loss_curve_) == 1 + STEPS, "one setup epoch, then the compared ones"
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        np.testing.assert_allclose(W, regressor.coefs_[l].T, rtol=1e-10, atol=1e-12, err_msg=f"W{l + 1}")
        np.testing.assert_allclose(b, regressor.intercepts_[l], rtol=1e-10, atol=1e-12, err_msg=f"b{l + 1}")
    np.testing.assert_allclose(history.loss, 2 * np.array(regressor.loss_curve_[-STEPS:]), rtol=1e-10)


def test_l2_maps_to_sklearn_alpha():
    rng = np.random.default_rng(2)
    m = 25
    X = rng.normal(size=(m, 3))
    y = X @ np.array([0.5, -1.0, 2.0]) + 0.3
    alpha = 0.4
    net = mlpnet.Network([3, 3, 1], init="sklearn", seed=3)
    regressor = fit_sklearn_from(net, sklearn_regressor((3,), "logistic", 0.1, m, alpha=alpha), X, y)

    history = net.fit(X, y, learning_rate=0.1, epochs=STEPS, l2=2 * alpha / m)

    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        np.testing.assert_allclose(W, regressor.coefs_[l].T, rtol=1e-10, atol=1e-12, err_msg=f"W{l + 1}")
        np.testing.assert_allclose(b, regressor.intercepts_[l], rtol=1e-10, atol=1e-12, err_msg=f"b{l + 1}")
    np.testing.assert_allclose(history.loss, 2 * np.array(regressor.loss_curve_[-STEPS:]), rtol=1e-10)
