"""Weight initialization: the bound or standard deviation of each scheme, bias rules, defaults and RNG ownership.

Expected bounds come from the schemes' definitions (fan_in = n_in, fan_out = n_out):
glorot uniform r = sqrt(6 / (fan_in + fan_out)), glorot normal s = sqrt(2 / (fan_in + fan_out)),
he uniform r = sqrt(6 / fan_in), he normal s = sqrt(2 / fan_in), lecun normal
s = sqrt(1 / fan_in), and scikit-learn's MLP r = sqrt(k / (fan_in + fan_out)) with
k = 2 for a logistic hidden activation, else 6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlpnet import InvalidParameterError, Network
from mlpnet.initializers import initialize_layer

N_IN, N_OUT = 400, 300  # 120,000 weights: sample statistics within about 0.3 %.

UNIFORM_BOUNDS = {
    "glorot_uniform": math.sqrt(6 / (N_IN + N_OUT)),
    "he_uniform": math.sqrt(6 / N_IN),
    "sklearn": math.sqrt(6 / (N_IN + N_OUT)),  # non-sigmoid hidden activation
}
NORMAL_STDS = {
    "glorot_normal": math.sqrt(2 / (N_IN + N_OUT)),
    "he_normal": math.sqrt(2 / N_IN),
    "lecun_normal": math.sqrt(1 / N_IN),
}


def draw(name: str, hidden_activation: str = "relu", dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    return initialize_layer(
        name, N_IN, N_OUT, np.random.default_rng(0), np.dtype(dtype), hidden_activation=hidden_activation
    )


def assert_uniform(W: np.ndarray, bound: float) -> None:
    """U(-r, r): every |w| <= r, the extremes reach r, and the standard deviation is r / sqrt(3)."""
    assert np.abs(W).max() <= bound
    # With 120,000 draws the chance that max |w| < 0.999 r is about exp(-120).
    assert W.max() > 0.999 * bound
    assert W.min() < -0.999 * bound
    assert W.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert abs(W.mean()) < 0.01 * bound


@pytest.mark.parametrize("name", list(UNIFORM_BOUNDS))
def test_uniform_scheme_bounds(name):
    W, b = draw(name)

    assert W.shape == (N_OUT, N_IN)
    assert_uniform(W, UNIFORM_BOUNDS[name])


@pytest.mark.parametrize("name", list(NORMAL_STDS))
def test_normal_scheme_standard_deviation(name):
    W, b = draw(name)
    std = NORMAL_STDS[name]

    assert W.shape == (N_OUT, N_IN)
    assert W.std() == pytest.approx(std, rel=0.01)
    assert abs(W.mean()) < 5 * std / math.sqrt(W.size)
    # A plain normal reaches about 4.4 s in 120,000 draws; a normal truncated at 2 s never passes 2 s.
    assert np.abs(W).max() > 3.5 * std


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal"])
def test_biases_start_at_zero(name):
    _, b = draw(name)

    assert b.shape == (N_OUT,)
    np.testing.assert_array_equal(b, 0.0)


def test_sklearn_scheme_draws_biases_from_same_range():
    _, b = draw("sklearn", hidden_activation="relu")
    bound = math.sqrt(6 / (N_IN + N_OUT))

    assert b.shape == (N_OUT,)
    assert np.abs(b).max() <= bound
    assert np.count_nonzero(b) == N_OUT
    # 300 draws from U(-r, r) have a standard deviation of r / sqrt(3) within about 10 %.
    assert b.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)


@pytest.mark.parametrize("hidden, factor", [("sigmoid", 2), ("logistic", 2), ("tanh", 6), ("relu", 6)])
def test_sklearn_factor_depends_on_hidden_activation(hidden, factor):
    """scikit-learn's MLP uses sqrt(2 / (fan_in + fan_out)) for logistic networks, else sqrt(6 / ...), on every layer."""
    net = Network([N_IN, N_OUT, 200], activation=hidden, init="sklearn", seed=0)

    assert_uniform(net.weights[0], math.sqrt(factor / (N_IN + N_OUT)))
    assert np.abs(net.weights[1]).max() <= math.sqrt(factor / (N_OUT + 200))
    assert np.abs(net.weights[1]).max() > 0.99 * math.sqrt(factor / (N_OUT + 200))
    assert np.abs(net.biases[0]).max() <= math.sqrt(factor / (N_IN + N_OUT))
    assert np.count_nonzero(net.biases[0]) == N_OUT


@pytest.mark.parametrize(
    "hidden, hidden_bound",
    [
        ("relu", math.sqrt(6 / N_IN)),
        ("leaky_relu", math.sqrt(6 / N_IN)),
        ("elu", math.sqrt(6 / N_IN)),
        ("sigmoid", math.sqrt(6 / (N_IN + N_OUT))),
        ("tanh", math.sqrt(6 / (N_IN + N_OUT))),
        ("softplus", math.sqrt(6 / (N_IN + N_OUT))),
        ("identity", math.sqrt(6 / (N_IN + N_OUT))),
    ],
)
def test_default_scheme_follows_activation(hidden, hidden_bound):
    """He uniform for the ReLU family, Glorot uniform otherwise, and Glorot for the identity output layer."""
    net = Network([N_IN, N_OUT, 200], activation=hidden, seed=0)

    assert_uniform(net.weights[0], hidden_bound)
    # Output layer: Glorot r = sqrt(6 / 500) = 0.110, clearly below He's sqrt(6 / 300) = 0.141.
    output_bound = math.sqrt(6 / (N_OUT + 200))
    assert np.abs(net.weights[1]).max() <= output_bound
    assert np.abs(net.weights[1]).max() > 0.999 * output_bound
    for b in net.biases:
        np.testing.assert_array_equal(b, 0.0)


@pytest.mark.parametrize("alias, name", [("xavier_uniform", "glorot_uniform"), ("xavier_normal", "glorot_normal")])
def test_initializer_aliases(alias, name):
    np.testing.assert_array_equal(draw(alias)[0], draw(name)[0])
    assert Network([3, 2], init=alias).init == name


def test_explicit_init_applies_to_every_layer():
    net = Network([N_IN, N_OUT, 200], activation="relu", init="glorot_uniform", seed=0)

    assert_uniform(net.weights[0], math.sqrt(6 / (N_IN + N_OUT)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_initial_parameters_have_network_dtype(dtype):
    net = Network([5, 4, 3], seed=0, dtype=dtype, init="sklearn")

    assert net.parameters.dtype == np.dtype(dtype)
    assert all(W.dtype == np.dtype(dtype) for W in net.weights)
    assert all(b.dtype == np.dtype(dtype) for b in net.biases)


def test_same_seed_gives_identical_weights():
    first = Network([5, 4, 3], seed=42)
    second = Network([5, 4, 3], seed=42)
    other = Network([5, 4, 3], seed=43)

    np.testing.assert_array_equal(first.parameters, second.parameters)
    assert not np.array_equal(first.parameters, other.parameters)


def test_no_seed_gives_fresh_weights():
    assert not np.array_equal(Network([5, 4, 3]).parameters, Network([5, 4, 3]).parameters)


@pytest.mark.parametrize("init", [None, "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal", "sklearn"])
def test_global_random_state_untouched(init):
    np.random.seed(1234)
    state_before = np.random.get_state()

    Network([6, 5, 2], activation="relu", init=init, seed=0)
    Network([6, 5, 2], activation="tanh", init=init, seed=None)

    state_after = np.random.get_state()
    assert state_after[0] == state_before[0]
    np.testing.assert_array_equal(state_after[1], state_before[1])
    assert state_after[2:] == state_before[2:]


def test_initializer_name_must_be_known():
    with pytest.raises(InvalidParameterError, match=r"unknown initializer 'uniform'"):
        initialize_layer("uniform", 3, 2, np.random.default_rng(0), np.dtype(np.float64))
