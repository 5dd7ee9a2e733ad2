"""The Network class: parameter shapes and views, assignment, copies, pickling and gradient_check."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import mlpnet
from mlpnet import Network


@pytest.fixture
def net() -> Network:
    return Network([3, 3, 1], activation="tanh", seed=0)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    return rng.normal(size=(6, 3)), rng.normal(size=(6, 1))


def test_parameter_shapes_of_3_3_1(net):
    assert [W.shape for W in net.weights] == [(3, 3), (1, 3)]
    assert [b.shape for b in net.biases] == [(3,), (1,)]
    assert net.layer_sizes == [3, 3, 1]
    assert net.n_inputs == 3
    assert net.n_outputs == 1
    # 3 * 3 + 3 + 1 * 3 + 1
    assert net.n_parameters == 16
    assert net.parameters.shape == (16,)


def test_properties_describe_network():
    net = Network([4, 5, 3, 2], activation=["relu", "logistic"], output_activation="softmax", seed=0)

    assert net.activations == ["relu", "sigmoid", "softmax"]
    assert net.activation == ["relu", "sigmoid"]
    assert net.output_activation == "softmax"
    assert Network([4, 5, 3, 2], activation="linear").activation == "identity"
    assert net.dtype == np.dtype("float64")
    assert net.seed == 0


def test_parameter_layout_is_W1_b1_W2_b2(net):
    flat = net.parameters

    np.testing.assert_array_equal(flat[0:9], net.weights[0].ravel())
    np.testing.assert_array_equal(flat[9:12], net.biases[0])
    np.testing.assert_array_equal(flat[12:15], net.weights[1].ravel())
    np.testing.assert_array_equal(flat[15:16], net.biases[1])


def test_weights_are_views_of_parameters(net):
    for array in [*net.weights, *net.biases]:
        assert np.shares_memory(array, net.parameters)

    net.parameters[1] = 7.0
    net.parameters[15] = -2.0

    # Flat index 1 is W1 row 0, column 1; index 15 is b2.
    assert net.weights[0][0, 1] == 7.0
    assert net.biases[1][0] == -2.0


def test_in_place_weight_change_reaches_predictions(net, data):
    X, _ = data
    net.weights[1][...] = 0.0
    net.biases[1][...] = 0.5

    np.testing.assert_array_equal(net.predict(X), np.full((6, 1), 0.5))


def test_weight_assignment_copies_in(net, data):
    X, _ = data
    W = np.arange(9.0).reshape(3, 3) / 10

    net.weights[0] = W
    W[0, 0] = 99.0

    assert net.weights[0] is not W
    assert net.weights[0][0, 0] == 0.0
    np.testing.assert_array_equal(net.parameters[0:9], np.arange(9.0) / 10)
    assert np.shares_memory(net.weights[0], net.parameters)


def test_whole_list_assignment_copies_in(net):
    weights = [np.ones((3, 3)), np.full((1, 3), 2.0)]
    biases = [np.zeros(3), [0.25]]

    net.weights = weights
    net.biases = biases
    weights[0][...] = 5.0

    np.testing.assert_array_equal(net.parameters, [1.0] * 9 + [0.0] * 3 + [2.0] * 3 + [0.25])


def test_constructor_weights_without_biases_gives_zero_biases():
    net = Network([3, 2], weights=[np.ones((2, 3))])

    np.testing.assert_array_equal(net.biases[0], [0.0, 0.0])
    np.testing.assert_array_equal(net.predict([[1.0, 2.0, 3.0]]), [[6.0, 6.0]])


def test_copy_is_independent(net, data):
    X, _ = data
    original = net.parameters.copy()

    clone = net.copy()
    clone.weights[0] = np.zeros((3, 3))
    clone.parameters[-1] = 3.0

    np.testing.assert_array_equal(net.parameters, original)
    assert np.shares_memory(clone.weights[0], clone.parameters)
    assert not np.shares_memory(clone.parameters, net.parameters)
    np.testing.assert_array_equal(clone.weights[0], 0.0)


def test_copy_has_own_generator_in_same_state(net):
    clone = net.copy()

    assert clone.rng is not net.rng
    assert clone.rng.random() == net.rng.random()


def test_copy_keeps_training_state_independent(net):
    net.training_state["epoch"] = [1, 2]
    clone = net.copy()
    clone.training_state["epoch"].append(3)

    assert net.training_state["epoch"] == [1, 2]


def test_pickle_round_trip(net, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(net))

    np.testing.assert_array_equal(restored.parameters, net.parameters)
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    assert restored.activations == net.activations
    assert restored.layer_sizes == net.layer_sizes
    assert restored.dtype == net.dtype
    assert restored.rng.random() == net.rng.random()
    for array in [*restored.weights, *restored.biases]:
        assert np.shares_memory(array, restored.parameters)

    restored.weights[1] = np.zeros((1, 3))
    assert np.abs(net.weights[1]).max() > 0


def test_gradient_check_leaves_network_unchanged(net, data):
    X, Y = data
    parameters = net.parameters.copy()
    rng_state = net.rng.bit_generator.state
    yhat = net.predict(X)

    mlpnet.gradient_check(net, X, Y)

    np.testing.assert_array_equal(net.parameters, parameters)
    assert net.rng.bit_generator.state == rng_state
    np.testing.assert_array_equal(net.predict(X), yhat)


def test_predict_does_not_modify_input(net, data):
    X, Y = data
    X_before, Y_before = X.copy(), Y.copy()

    net.predict(X)
    net.loss_and_gradients(X, Y)

    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


def test_gradients_are_fresh_arrays(net, data):
    """Gradients never alias the parameters, so an update W -= lr * dW cannot corrupt them."""
    X, Y = data
    _, dW, db = net.loss_and_gradients(X, Y)

    for g in dW + db:
        assert not np.shares_memory(g, net.parameters)


def test_list_like_inputs_accepted(net, data):
    X, Y = data

    np.testing.assert_array_equal(net.predict(X.tolist()), net.predict(X))
    assert net.loss(X.tolist(), Y[:, 0].tolist()) == net.loss(X, Y)


def test_repr_names_architecture(net):
    assert repr(net) == "Network([3, 3, 1], activation='tanh', output_activation='identity', dtype='float64')"
