"""Divergence: a non-finite loss stops training with DivergenceError and finite parameters."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mlpnet

torch = pytest.importorskip("torch")


def divergent_problem():
    """A 3-3-1 network and targets from -30 to 45, far from standardized, for learning rate 5."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = rng.uniform(-30.0, 45.0, size=(20, 1))
    net = mlpnet.Network([3, 3, 1], activation="sigmoid", seed=0)
    return net, X, y


def torch_divergence(net, X, y, learning_rate, max_epochs):
    """Run full-batch gradient descent in PyTorch until the loss is non-finite.

    Returns that epoch, the parameters before the last update and the loss of those parameters.
    """
    params = []
    for W, b in zip(net.weights, net.biases):
        params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
    optimizer = torch.optim.SGD(params, lr=learning_rate)
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    previous = None
    last_finite = None
    for epoch in range(max_epochs):
        optimizer.zero_grad()
        A1 = torch.sigmoid(X_t @ params[0].T + params[1])
        L = (((A1 @ params[2].T + params[3]) - y_t) ** 2).sum(dim=1).mean()
        if not math.isfinite(float(L.detach())):
            return epoch, previous, last_finite
        L.backward()
        previous = np.concatenate([p.detach().numpy().ravel() for p in params])
        last_finite = float(L.detach())
        optimizer.step()
    return None, previous, last_finite


def test_divergence_raises_with_finite_weights():
    net, X, y = divergent_problem()
    expected_epoch, expected_parameters, expected_last_loss = torch_divergence(net, X, y, 5.0, 1000)
    assert expected_epoch is not None, "the reference run should diverge"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            with pytest.raises(mlpnet.DivergenceError, match=r"diverged in epoch \d+") as info:
                net.fit(X, y, learning_rate=5.0, epochs=1000)

    error = info.value
    assert error.epoch == expected_epoch
    assert f"epoch {expected_epoch}" in str(error)
    assert "learning_rate" in str(error)
    assert "standardize" in str(error)
    assert error.last_finite_loss == pytest.approx(expected_last_loss, rel=1e-6)
    assert np.isfinite(net.parameters).all()
    np.testing.assert_allclose(net.parameters, expected_parameters, rtol=1e-6)
    assert len(error.history) == expected_epoch
    assert error.history.stopped_epoch == expected_epoch


def test_training_continues_after_divergence():
    net, X, y = divergent_problem()
    with pytest.raises(mlpnet.DivergenceError):
        net.fit(X, y, optimizer="momentum", learning_rate=5.0, epochs=1000)
    assert "optimizer" not in net.training_state

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = net.fit(X, y, optimizer="momentum", learning_rate=1e-9, epochs=3)

    assert np.isfinite(history.loss).all()
    assert np.isfinite(net.parameters).all()


def test_divergence_with_adam_batches_keeps_finite_weights():
    net, X, y = divergent_problem()
    X = X * 1e150

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            with pytest.raises(mlpnet.DivergenceError) as info:
                net.fit(X, y, optimizer="adam", learning_rate=1e160, epochs=50, batch_size=4)

    assert np.isfinite(net.parameters).all()
    assert info.value.epoch < 50
