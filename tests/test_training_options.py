"""Validation of fit arguments: one message per mistake, raised before any change to the network."""

from __future__ import annotations

import numpy as np
import pytest

import mlpnet
import mlpnet.training
from mlpnet.errors import InvalidDataError, InvalidParameterError

rng = np.random.default_rng(0)
X = rng.normal(size=(12, 3))
Y = rng.normal(size=12)

INVALID_OPTIONS = [
    ({"learning_rate": 0}, r"learning_rate must be a finite number > 0, got 0"),
    ({"learning_rate": float("nan")}, r"learning_rate must be a finite number > 0, got nan"),
    ({"epochs": 0}, r"epochs must be an integer >= 1, got 0"),
    ({"epochs": 2.5}, r"epochs must be an integer >= 1, got 2.5"),
    ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
    ({"shuffle": "yes"}, r"shuffle must be True or False, got 'yes'"),
    ({"loss": "bce"}, r"unknown loss 'bce'"),
    ({"loss": "crossentropy"}, r"output activation is 'identity'"),
    ({"optimizer": "adagrad"}, r"optimizer must be one of 'gd', 'sgd', .*got 'adagrad'"),
    ({"optimizer": "adam", "nesterov": True}, r"nesterov does not apply to optimizer='adam'"),
    ({"optimizer": "gd", "momentum": 0.9}, r"momentum does not apply to optimizer='gd'"),
    ({"optimizer": "momentum", "momentum": 1.5}, r"momentum must be a number in \[0, 1\), got 1.5"),
    ({"optimizer": "adam", "beta2": 1.0}, r"beta2 must be a number in \[0, 1\), got 1.0"),
    ({"optimizer": "rmsprop", "epsilon": 0.0}, r"epsilon must be a finite number > 0, got 0.0"),
    ({"optimizer": "adamw", "weight_decay": -0.1}, r"weight_decay must be a finite number >= 0, got -0.1"),
    ({"optimizer": mlpnet.training.Adam(), "beta1": 0.5}, r"beta1 cannot be combined with an Optimizer instance"),
    ({"l2": -1.0}, r"l2 must be a finite number >= 0, got -1.0"),
    ({"clip_norm": 0}, r"clip_norm must be a finite number > 0, got 0"),
    ({"schedule": "linear"}, r"schedule must be one of 'constant', .*got 'linear'"),
    ({"schedule": "step"}, r"invalid schedule_options \{\} for schedule='step'"),
    ({"schedule": "step", "schedule_options": {"step_size": 0}}, r"step_size must be an integer >= 1, got 0"),
    ({"schedule": "exponential", "schedule_options": [0.9]}, r"schedule_options must be a dict"),
    ({"schedule": "plateau", "schedule_options": {"factor": 1.0}}, r"factor must be a number in \(0, 1\), got 1.0"),
    ({"schedule": "plateau", "schedule_options": {"monitor": "val_loss"}},
     r"the plateau schedule monitors 'val_loss', which is not recorded.*need validation_data"),
    ({"validation_fraction": 1.0}, r"validation_fraction must be a number in \(0, 1\), got 1.0"),
    ({"validation_fraction": 0.2, "validation_data": (X, Y)},
     r"validation_data and validation_fraction were both given"),
    ({"validation_seed": 3}, r"validation_seed=3 applies only with validation_fraction"),
    ({"validation_fraction": 0.5, "validation_seed": -1}, r"validation_seed must be an integer >= 0, got -1"),
    ({"validation_data": X}, r"validation_data must be a tuple \(X_val, Y_val\)"),
    ({"metrics": ["f1"]}, r"unknown metric 'f1' in metrics"),
    ({"early_stopping": True, "monitor": "val_loss"}, r"early stopping monitors 'val_loss', which is not recorded"),
    ({"early_stopping": True, "monitor": "mae"}, r"early stopping monitors 'mae', which is not recorded"),
    ({"patience": 5}, r"patience applies only with early stopping; pass early_stopping=True"),
    ({"early_stopping": True, "patience": 0}, r"patience must be an integer >= 1, got 0"),
    ({"early_stopping": "yes"}, r"early_stopping must be True or False, got 'yes'"),
    ({"callbacks": [42]}, r"callbacks must be Callback instances or functions f\(epoch, logs\), got 42"),
]


def snapshot(net):
    return (
        net.parameters.copy(),
        net.rng.bit_generator.state,
        dict(net.training_state),
    )


def assert_unchanged(net, before):
    parameters, rng_state, training_state = before
    np.testing.assert_array_equal(net.parameters, parameters)
    assert net.rng.bit_generator.state == rng_state
    assert net.training_state == training_state


@pytest.mark.parametrize("options, message", INVALID_OPTIONS, ids=[str(o) for o, _ in INVALID_OPTIONS])
def test_invalid_option_is_rejected_before_training(options, message):
    net = mlpnet.Network([3, 4, 1], seed=0)
    net.fit(X, Y, epochs=2, batch_size=4, optimizer="adam")
    before = snapshot(net)

    with pytest.raises(InvalidParameterError, match=message):
        net.fit(X, Y, **options)

    assert_unchanged(net, before)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"X": np.where(np.arange(36).reshape(12, 3) == 7, np.nan, X)}, r"X contains NaN at row 2, column 1"),
        ({"Y": np.where(np.arange(12) == 4, np.inf, Y)}, r"Y contains infinity at row 4"),
        ({"Y": Y[:10]}, r"X has 12 rows but Y has 10"),
        ({"sample_weight": -np.ones(12)}, r"sample_weight contains the negative value"),
        ({"validation_data": (X[:, :2], Y)}, r"X_val has 2 features per row, but the network expects 3"),
    ],
    ids=["nan_in_X", "inf_in_Y", "row_mismatch", "negative_weight", "validation_shape"],
)
def test_invalid_data_is_rejected_before_training(data, message):
    net = mlpnet.Network([3, 4, 1], seed=0)
    net.fit(X, Y, epochs=2)
    before = snapshot(net)
    arguments = {"X": X, "Y": Y, **data}

    with pytest.raises(InvalidDataError, match=message):
        net.fit(arguments.pop("X"), arguments.pop("Y"), **arguments)

    assert_unchanged(net, before)


def test_changed_optimizer_settings_start_fresh_state():
    net = mlpnet.Network([3, 4, 1], seed=0)
    net.fit(X, Y, epochs=3, optimizer="adam")
    stored = net.training_state["optimizer"]

    net.fit(X, Y, epochs=1, optimizer="adam", beta1=0.5)

    assert net.training_state["optimizer"] is not stored
    assert net.training_state["optimizer"].step_count == 1


def test_optimizer_state_of_another_network_is_rejected():
    optimizer = mlpnet.training.Adam()
    mlpnet.Network([3, 4, 1], seed=0).fit(X, Y, epochs=1, optimizer=optimizer)
    other = mlpnet.Network([3, 2, 1], seed=0)
    before = snapshot(other)

    with pytest.raises(InvalidParameterError, match=r"has state for 21 parameters, but the network has 11"):
        other.fit(X, Y, epochs=1, optimizer=optimizer)

    assert_unchanged(other, before)


def test_load_state_dict_rejects_incomplete_state():
    with pytest.raises(InvalidParameterError, match=r"needs step_count and \['first_moment', 'second_moment'\]"):
        mlpnet.training.Adam().load_state_dict({"step_count": 1, "first_moment": np.zeros(3)})
