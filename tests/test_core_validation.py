"""Input and parameter checks: each bad input raises an mlpnet error whose message names the value."""

from __future__ import annotations

import numpy as np
import pytest

from mlpnet import InvalidDataError, InvalidParameterError, MlpnetError, Network


@pytest.fixture
def net() -> Network:
    return Network([3, 3, 1], seed=0)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(5, 3)), rng.normal(size=(5, 1))


def test_error_classes_are_value_errors():
    assert issubclass(InvalidDataError, MlpnetError)
    assert issubclass(InvalidDataError, ValueError)
    assert issubclass(InvalidParameterError, MlpnetError)
    assert issubclass(InvalidParameterError, ValueError)


# -- shapes of X -----------------------------------------------------------------


def test_one_dimensional_X_rejected(net):
    with pytest.raises(InvalidDataError, match=r"2-D array of shape \(m, 3\).*got shape \(3,\).*reshape"):
        net.predict(np.array([1.0, 2.0, 3.0]))


def test_three_dimensional_X_rejected(net):
    with pytest.raises(InvalidDataError, match=r"2-D array.*got shape \(2, 5, 3\)"):
        net.predict(np.zeros((2, 5, 3)))


def test_scalar_X_rejected(net):
    with pytest.raises(InvalidDataError, match=r"2-D array.*got shape \(\)"):
        net.predict(1.0)


def test_wrong_feature_count_names_both_sizes(net):
    with pytest.raises(InvalidDataError, match=r"X has 4 features per row, but the network expects 3"):
        net.predict(np.zeros((5, 4)))


def test_empty_X_rejected(net):
    with pytest.raises(InvalidDataError, match=r"X has no rows \(shape \(0, 3\)\)"):
        net.predict(np.zeros((0, 3)))


def test_ragged_X_rejected(net):
    with pytest.raises(InvalidDataError, match=r"X could not be converted to a numeric array"):
        net.predict([[1.0, 2.0, 3.0], [1.0, 2.0]])


# -- shapes of Y -----------------------------------------------------------------


def test_one_dimensional_Y_equals_column(net, data):
    X, Y = data

    L_column, dW_column, db_column = net.loss_and_gradients(X, Y)
    L_flat, dW_flat, db_flat = net.loss_and_gradients(X, Y[:, 0])

    assert L_flat == L_column
    for l in range(2):
        np.testing.assert_array_equal(dW_flat[l], dW_column[l])
        np.testing.assert_array_equal(db_flat[l], db_column[l])


def test_one_dimensional_Y_with_two_outputs_rejected(data):
    X, _ = data
    net = Network([3, 3, 2], seed=0)

    with pytest.raises(InvalidDataError, match=r"Y has shape \(5,\), but the network has 2 outputs"):
        net.loss_and_gradients(X, np.zeros(5))


@pytest.mark.parametrize("shape", [(5, 5), (1, 5), (5, 2), (5, 1, 1)])
def test_Y_that_would_broadcast_rejected(net, data, shape):
    """An (m, m) or (1, m) Y must not broadcast against the (m, 1) output."""
    X, _ = data

    with pytest.raises(InvalidDataError, match=r"Y must have shape \(5, 1\) or \(m,\).*got shape " + re_shape(shape)):
        net.loss_and_gradients(X, np.zeros(shape))


def re_shape(shape: tuple[int, ...]) -> str:
    return r"\(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else r"\)")


@pytest.mark.parametrize("n_targets", [4, 6])
def test_row_count_mismatch_rejected(net, data, n_targets):
    X, _ = data

    with pytest.raises(InvalidDataError, match=rf"X has 5 rows but Y has {n_targets}"):
        net.loss_and_gradients(X, np.zeros(n_targets))


# -- non-finite and non-numeric values ---------------------------------------------


@pytest.mark.parametrize(
    "value, word",
    [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "-infinity")],
    ids=["nan", "inf", "-inf"],
)
def test_non_finite_X_names_row_and_column(net, data, value, word):
    X, Y = data
    X = X.copy()
    X[3, 2] = value

    with pytest.raises(InvalidDataError, match=rf"X contains {word} at row 3, column 2 \(0-based\)"):
        net.predict(X)
    with pytest.raises(InvalidDataError, match=rf"X contains {word} at row 3, column 2"):
        net.loss_and_gradients(X, Y)


@pytest.mark.parametrize(
    "value, word",
    [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "-infinity")],
    ids=["nan", "inf", "-inf"],
)
def test_non_finite_Y_names_row_and_column(data, value, word):
    X, _ = data
    net = Network([3, 3, 2], seed=0)
    Y = np.zeros((5, 2))
    Y[4, 1] = value

    with pytest.raises(InvalidDataError, match=rf"Y contains {word} at row 4, column 1"):
        net.loss_and_gradients(X, Y)


def test_non_finite_flat_Y_names_row(net, data):
    X, _ = data
    y = np.zeros(5)
    y[2] = np.nan

    with pytest.raises(InvalidDataError, match=r"Y contains NaN at row 2"):
        net.loss_and_gradients(X, y)


def test_large_finite_X_accepted(net):
    # Each entry is finite, but their sum overflows to infinity.
    X = np.full((4, 3), 1e308)

    prediction = net.predict(X)

    assert prediction.shape == (4, 1)


def test_first_bad_entry_named_in_large_X(net):
    X = np.full((6, 3), 1e308)
    X[5, 0] = np.nan
    X[4, 2] = -np.inf

    with pytest.raises(InvalidDataError, match=r"X contains -infinity at row 4, column 2"):
        net.predict(X)


def test_first_bad_entry_of_column_major_X(net, data):
    X = np.asfortranarray(data[0])
    X[3, 0] = np.nan
    X[1, 2] = np.inf

    with pytest.raises(InvalidDataError, match=r"X contains infinity at row 1, column 2"):
        net.predict(X)


def test_value_overflowing_float32_rejected():
    net = Network([3, 1], dtype="float32", seed=0)
    X = np.zeros((2, 3))
    X[1, 0] = 1e39

    with pytest.raises(InvalidDataError, match=r"X contains 1e\+39, which overflows float32 at row 1, column 0"):
        net.predict(X)


def test_string_X_rejected(net):
    with pytest.raises(InvalidDataError, match=r"X must contain numbers, got dtype <U"):
        net.predict([["a", "b", "c"]])


@pytest.mark.parametrize(
    "X",
    [
        np.array([[1.0, "x", 2.0]], dtype=object),
        np.array([[1.0, "2.5", 2.0]], dtype=object),
        np.array([[1.0, b"2.5", 2.0]], dtype=object),
    ],
    ids=["text", "numeric-text", "bytes"],
)
def test_object_X_with_text_rejected(net, X):
    with pytest.raises(InvalidDataError, match=r"X contains the non-numeric value .* at row 0, column 1 \(0-based\)"):
        net.predict(X)


def test_object_X_with_unconvertible_value_rejected(net):
    X = np.empty((1, 3), dtype=object)
    X[0] = [1.0, {"a": 1}, 2.0]

    with pytest.raises(InvalidDataError, match=r"X contains non-numeric values"):
        net.predict(X)


def test_object_X_with_none_reported_as_missing(net):
    """None in an object array (a missing value in pandas) becomes NaN and is reported by position."""
    with pytest.raises(InvalidDataError, match=r"X contains NaN at row 0, column 1"):
        net.predict(np.array([[1.0, None, 2.0]], dtype=object))


def test_object_X_of_numbers_accepted(net):
    X_object = np.array([[1, 2.5, np.float32(3.0)]], dtype=object)

    np.testing.assert_array_equal(net.predict(X_object), net.predict([[1.0, 2.5, 3.0]]))


def test_string_Y_rejected(net, data):
    X, _ = data

    with pytest.raises(InvalidDataError, match=r"Y must contain numbers"):
        net.loss_and_gradients(X, np.array(["a", "b", "a", "b", "a"]))


# -- sample weights ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (np.ones(4), r"sample_weight must have shape \(5,\).*got shape \(4,\)"),
        (np.ones((5, 1)), r"sample_weight must have shape \(5,\).*got shape \(5, 1\)"),
        (np.array([1.0, -0.5, 1.0, 1.0, 1.0]), r"negative value -0.5 at row 1"),
        (np.zeros(5), r"sample_weight sums to 0"),
        (np.array([1.0, 1.0, np.nan, 1.0, 1.0]), r"sample_weight contains NaN at row 2"),
    ],
    ids=["short", "column", "negative", "zero-sum", "nan"],
)
def test_invalid_sample_weight_rejected(net, data, sample_weight, message):
    X, Y = data

    with pytest.raises(InvalidDataError, match=message):
        net.loss_and_gradients(X, Y, sample_weight=sample_weight)


# -- network parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "layer_sizes, message",
    [
        ([3], r"at least an input and an output size"),
        ([], r"at least an input and an output size"),
        ([3, 0, 1], r"integer >= 1, got 0"),
        ([3, -2, 1], r"integer >= 1, got -2"),
        ([3, 2.5, 1], r"integer >= 1, got 2.5"),
        ([3, True, 1], r"integer >= 1, got True"),
        ([3, "4", 1], r"integer >= 1, got '4'"),
        (5, r"layer_sizes must be a list"),
        (None, r"layer_sizes must be a list"),
    ],
    ids=["one", "empty", "zero", "negative", "float", "bool", "string", "int", "none"],
)
def test_bad_layer_sizes_rejected(layer_sizes, message):
    with pytest.raises(InvalidParameterError, match=message):
        Network(layer_sizes)


def test_numpy_integer_layer_sizes_accepted():
    net = Network(np.array([3, 4, 2]), seed=0)

    assert net.layer_sizes == [3, 4, 2]
    assert all(type(size) is int for size in net.layer_sizes)


def test_unknown_activation_rejected():
    with pytest.raises(InvalidParameterError, match=r"unknown activation 'sigmod'; use one of: elu, identity"):
        Network([3, 3, 1], activation="sigmod")


def test_unknown_output_activation_rejected():
    with pytest.raises(InvalidParameterError, match=r"unknown activation 'softmaxx'"):
        Network([3, 3, 1], output_activation="softmaxx")


def test_non_string_activation_rejected():
    with pytest.raises(InvalidParameterError, match=r"activation must be a name such as 'sigmoid', got 3"):
        Network([3, 3, 1], activation=[3])


def test_activation_list_of_wrong_length_rejected():
    with pytest.raises(InvalidParameterError, match=r"activation lists 1 names but the network has 2 hidden layers"):
        Network([3, 3, 3, 1], activation=["relu"])


def test_unknown_loss_rejected(net, data):
    X, Y = data

    with pytest.raises(InvalidParameterError, match=r"unknown loss 'hinge'; use one of: binary_crossentropy"):
        net.loss_and_gradients(X, Y, loss="hinge")


def test_unknown_initializer_rejected():
    with pytest.raises(InvalidParameterError, match=r"unknown initializer 'orthogonal'; use one of: glorot_uniform"):
        Network([3, 3, 1], init="orthogonal")


@pytest.mark.parametrize("dtype", ["float16", "int64", "complex128", "banana"])
def test_unsupported_dtype_rejected(dtype):
    with pytest.raises(InvalidParameterError, match=rf"dtype must be 'float32' or 'float64', got '{dtype}'"):
        Network([3, 1], dtype=dtype)


def test_softmax_hidden_activation_rejected():
    with pytest.raises(InvalidParameterError, match=r"'softmax' \(hidden layer 2\) can only be used on the output layer"):
        Network([3, 4, 4, 2], activation=["relu", "softmax"])


@pytest.mark.parametrize(
    "loss, output, paired",
    [
        ("crossentropy", "identity", "softmax"),
        ("crossentropy", "sigmoid", "softmax"),
        ("binary_crossentropy", "identity", "sigmoid"),
        ("binary_crossentropy", "softmax", "sigmoid"),
    ],
)
def test_crossentropy_with_wrong_output_rejected(data, loss, output, paired):
    X, _ = data
    net = Network([3, 3, 2], output_activation=output, seed=0)
    Y = np.eye(2)[[0, 1, 0, 1, 1]]

    with pytest.raises(InvalidParameterError, match=rf"output_activation='{paired}'"):
        net.loss_and_gradients(X, Y, loss=loss)


# -- explicit weights --------------------------------------------------------------------


def test_constructor_weight_shape_rejected():
    with pytest.raises(InvalidParameterError, match=r"weights\[1\] must have shape \(1, 3\).*got shape \(3, 1\)"):
        Network([3, 3, 1], weights=[np.zeros((3, 3)), np.zeros((3, 1))])


def test_constructor_weight_count_rejected():
    with pytest.raises(InvalidParameterError, match=r"weights must hold one array per layer \(2 for"):
        Network([3, 3, 1], weights=[np.zeros((3, 3))])


def test_constructor_bias_shape_rejected():
    with pytest.raises(InvalidParameterError, match=r"biases\[0\] must have shape \(3,\).*got shape \(3, 1\)"):
        Network([3, 3, 1], weights=[np.zeros((3, 3)), np.zeros((1, 3))], biases=[np.zeros((3, 1)), np.zeros(1)])


def test_constructor_biases_without_weights_rejected():
    with pytest.raises(InvalidParameterError, match=r"biases were given without weights"):
        Network([3, 3, 1], biases=[np.zeros(3), np.zeros(1)])


def test_constructor_nan_weight_rejected():
    with pytest.raises(InvalidParameterError, match=r"weights\[0\] contains NaN or infinity"):
        Network([3, 1], weights=[np.full((1, 3), np.nan)])


@pytest.mark.parametrize(
    "second_weight, message",
    [
        (np.zeros((3, 1)), r"weights\[1\] must have shape \(1, 3\)"),
        (np.full((1, 3), np.nan), r"weights\[1\] contains NaN or infinity"),
        (np.full((1, 3), np.inf), r"weights\[1\] contains NaN or infinity"),
    ],
    ids=["shape", "nan", "inf"],
)
def test_failed_weights_assignment_leaves_network_unchanged(net, second_weight, message):
    before = net.parameters.copy()

    with pytest.raises(InvalidParameterError, match=message):
        net.weights = [np.ones((3, 3)), second_weight]

    np.testing.assert_array_equal(net.parameters, before)


def test_failed_biases_assignment_leaves_network_unchanged(net):
    before = net.parameters.copy()

    with pytest.raises(InvalidParameterError, match=r"biases\[1\] contains NaN or infinity"):
        net.biases = [np.ones(3), [np.nan]]

    np.testing.assert_array_equal(net.parameters, before)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.zeros((3, 1)), r"weights\[1\] must have shape \(1, 3\), got shape \(3, 1\)"),
        (np.full((1, 3), np.nan), r"weights\[1\] contains NaN or infinity"),
    ],
    ids=["shape", "nan"],
)
def test_failed_element_assignment_leaves_network_unchanged(net, value, message):
    before = net.parameters.copy()

    with pytest.raises(InvalidParameterError, match=message):
        net.weights[1] = value

    np.testing.assert_array_equal(net.parameters, before)


def test_non_numeric_weights_rejected(net):
    before = net.parameters.copy()

    with pytest.raises(InvalidParameterError, match=r"weights\[0\]"):
        net.weights = [[["a", "b", "c"]] * 3, np.zeros((1, 3))]

    np.testing.assert_array_equal(net.parameters, before)
