"""Numerical trouble in training: every run trains or stops with DivergenceError, never a warning or a NaN.

The sweep covers every hidden activation, every loss with its output
activation, every optimizer and both dtypes, each with a setting that trains
and two that diverge (a huge learning rate, huge inputs).  Each run happens
under ``warnings.simplefilter("error")``, so a NumPy RuntimeWarning that
reaches the caller fails it.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import mlpnet
from mlpnet.errors import DivergenceError
from mlpnet.training.checkpoint import load_checkpoint
from mlpnet.training.optimizers import OPTIMIZERS

HIDDEN_ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
LOSSES = {
    "mse": "identity",
    "mae": "identity",
    "huber": "identity",
    "binary_crossentropy": "sigmoid",
    "crossentropy": "softmax",
}
# Learning rates at which every optimizer trains these small problems.
TRAINING_RATES = {"gd": 0.05, "sgd": 0.05, "momentum": 0.02, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.01}
# Inputs this large overflow the forward pass or the loss in each dtype.
HUGE_INPUT_SCALE = {"float64": 1e150, "float32": 1e30}
SETTINGS = ("trains", "huge_learning_rate", "huge_inputs")


def problem(loss: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 3))
    if loss == "crossentropy":
        Y = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]
    elif loss == "binary_crossentropy":
        Y = (X[:, :1] + X[:, 1:2] > 0).astype(float)
    else:
        Y = X[:, :1] - 0.5 * X[:, 1:2] + 0.1
    return X, Y, Y.shape[1]


def run(activation: str, loss: str, optimizer: str, dtype: str, setting: str):
    """Train one configuration with warnings as errors; return (network, History or DivergenceError)."""
    X, Y, n_outputs = problem(loss)
    learning_rate = TRAINING_RATES[optimizer]
    if setting == "huge_learning_rate":
        learning_rate = 1e30
    if setting == "huge_inputs":
        X = X * HUGE_INPUT_SCALE[dtype]
    net = mlpnet.Network([3, 4, n_outputs], activation=activation, output_activation=LOSSES[loss], seed=0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            outcome = net.fit(X, Y, loss=loss, optimizer=optimizer, learning_rate=learning_rate, epochs=15,
                              batch_size=5)
        except DivergenceError as exc:
            outcome = exc
    return net, outcome


CONFIGURATIONS = list(itertools.product(HIDDEN_ACTIVATIONS, LOSSES, sorted(OPTIMIZERS), ["float64", "float32"]))


@pytest.mark.parametrize("setting", SETTINGS)
def test_sweep_trains_or_raises_divergence(setting):
    assert len(CONFIGURATIONS) == 7 * 5 * 6 * 2
    outcomes = {"trained": 0, "diverged": 0}
    for activation, loss, optimizer, dtype in CONFIGURATIONS:
        label = f"{activation}/{loss}/{optimizer}/{dtype}/{setting}"
        net, outcome = run(activation, loss, optimizer, dtype, setting)

        assert np.isfinite(net.parameters).all(), label
        assert net.parameters.dtype == np.dtype(dtype), label
        if isinstance(outcome, DivergenceError):
            outcomes["diverged"] += 1
            assert setting != "trains", f"{label}: {outcome}"
            assert 0 <= outcome.epoch < 15, label
            assert len(outcome.history) == outcome.epoch, label
            assert np.isfinite(outcome.history.loss).all(), label
            assert "optimizer" not in net.training_state, label
        else:
            outcomes["trained"] += 1
            assert len(outcome) == 15, label
            assert np.isfinite(outcome.loss).all(), label
            if setting == "trains":
                assert outcome.loss[-1] < outcome.loss[0], f"{label}: loss {outcome.loss[0]} -> {outcome.loss[-1]}"
    print(f"{setting}: {outcomes}")
    if setting == "trains":
        assert outcomes["diverged"] == 0
    else:
        assert outcomes["diverged"] > 0


# (input x, learning rate) per dtype; see the derivation in the test.
OVERFLOW_SETUP = {"float64": (4e156, 5e154), "float32": (5e21, 1e20)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saturated_sigmoid_weight_overflow_is_divergence(dtype):
    # A 1-1-1 network: sigmoid hidden unit, w1 = 1 / x so that z = 1, w2 = 1,
    # biases 0, and the target y = s - 0.005 with s = sigmoid(1).  By hand:
    #   dL/dyhat = 2 (s - y) = 0.01 = dL/db2,   dL/dw2 = 0.01 s,
    #   dL/dw1 = 0.01 w2 s (1 - s) x = 0.0019661 x,
    # about 7.9e153 (float64) or 9.8e18 (float32): its square still fits the
    # dtype, so the gradient norm is finite.  The step lr * dL/dw1 (about
    # 3.9e308 or 9.8e38) overflows w1 to -inf, while b2 becomes -0.01 lr.
    # Then z = -inf, the sigmoid saturates at exactly 0, and the next loss,
    # (b2 - y)^2 (about 2.5e305 or 1e36), is finite with a finite gradient:
    # only a check of the parameters finds the overflow.
    x, learning_rate = OVERFLOW_SETUP[dtype]
    s = 1.0 / (1.0 + np.exp(-1.0))
    net = mlpnet.Network([1, 1, 1], activation="sigmoid", dtype=dtype, weights=[[[1.0 / x]], [[1.0]]])
    X, y = np.array([[x]]), np.array([s - 0.005])
    before = net.parameters.copy()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DivergenceError, match="parameter after the update is -inf") as info:
            net.fit(X, y, learning_rate=learning_rate, epochs=2)

    assert info.value.epoch == 0
    np.testing.assert_array_equal(net.parameters, before)
    assert info.value.last_finite_loss == pytest.approx(0.005**2, rel=1e-3)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_diverging_run_leaves_finite_checkpoint(tmp_path, optimizer, dtype):
    X, Y, _ = problem("mse")
    path = tmp_path / "run.npz"
    net = mlpnet.Network([3, 4, 1], activation="tanh", seed=0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            net.fit(X * HUGE_INPUT_SCALE[dtype] ** 0.5, Y, optimizer=optimizer, learning_rate=1e6, epochs=30,
                    batch_size=5, checkpoint=path)
        except DivergenceError as exc:
            diverged_at = exc.epoch
        else:
            diverged_at = None

    if not path.exists():
        # Diverged in the first epoch, before any checkpoint.
        assert diverged_at == 0
        return
    restored, checkpoint = load_checkpoint(path)
    assert np.isfinite(restored.parameters).all()
    assert np.isfinite(checkpoint.history.loss).all()
    for array in restored.training_state["optimizer"].state.values():
        assert np.isfinite(array).all()
    if diverged_at is not None:
        assert checkpoint.epoch == diverged_at
