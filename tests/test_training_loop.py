"""The training loop: continuation, determinism, validation, metrics, callbacks, early stopping."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from sklearn import metrics as sk_metrics

import mlpnet
import mlpnet.training

torch = pytest.importorskip("torch")


def regression_data(m=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=m)
    return X, y


def numpy_forward(weights, biases, X, hidden="sigmoid", output="identity"):
    """Forward pass written out for the tests: Z = A W^T + b, layer by layer."""
    functions = {
        "sigmoid": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
        "tanh": np.tanh,
        "identity": lambda Z: Z,
        "softmax": lambda Z: np.exp(Z - Z.max(axis=1, keepdims=True))
        / np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True),
    }
    A = np.asarray(X, dtype=float)
    for l, (W, b) in enumerate(zip(weights, biases)):
        g = functions[output if l == len(weights) - 1 else hidden]
        A = g(A @ np.asarray(W).T + np.asarray(b))
    return A


# -- continuation and determinism -----------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 7, "schedule": "step",
         "schedule_options": {"step_size": 3, "gamma": 0.7}},
        {"optimizer": "momentum", "learning_rate": 0.05, "batch_size": 16, "schedule": "plateau",
         "schedule_options": {"patience": 1, "factor": 0.5, "threshold": 0.05}, "validation_fraction": 0.25,
         "metrics": ["mae"]},
        {"optimizer": "rmsprop", "learning_rate": 0.01, "schedule": "cosine", "schedule_options": {"t_max": 4},
         "l2": 0.01, "clip_norm": 1.0},
    ],
    ids=["adam_step", "momentum_plateau_split", "rmsprop_cosine_full_batch"],
)
def test_fit_twice_equals_fit_once(options):
    X, y = regression_data()
    once = mlpnet.Network([3, 5, 1], seed=3)
    twice = once.copy()

    history_once = once.fit(X, y, epochs=10, **options)
    first = twice.fit(X, y, epochs=5, **options)
    second = twice.fit(X, y, epochs=5, **options)

    np.testing.assert_array_equal(twice.parameters, once.parameters)
    assert first.loss + second.loss == history_once.loss
    assert first.learning_rate + second.learning_rate == history_once.learning_rate
    assert second.epochs == list(range(5, 10))
    assert twice.training_state["epoch"] == 10


def test_fit_twice_without_seed_keeps_the_split():
    X, y = regression_data()
    once = mlpnet.Network([3, 4, 1])
    twice = once.copy()

    first = twice.fit(X, y, epochs=3, validation_fraction=0.3)
    second = twice.fit(X, y, epochs=3, validation_fraction=0.3)
    stored_seed = twice.training_state["validation_seed"]
    history_once = once.fit(X, y, epochs=6, validation_fraction=0.3, validation_seed=stored_seed)

    assert first.val_loss + second.val_loss == history_once.val_loss
    np.testing.assert_array_equal(twice.parameters, once.parameters)


def test_same_seed_gives_same_training():
    X, y = regression_data()
    histories = []
    parameters = []
    for _ in range(2):
        net = mlpnet.Network([3, 4, 1], seed=11)
        histories.append(net.fit(X, y, optimizer="sgd", learning_rate=0.05, epochs=5, batch_size=8))
        parameters.append(net.parameters.copy())

    other = mlpnet.Network([3, 4, 1], seed=11, weights=mlpnet.Network([3, 4, 1], seed=11).weights)
    other.rng = np.random.default_rng(12)
    other_history = other.fit(X, y, optimizer="sgd", learning_rate=0.05, epochs=5, batch_size=8)

    assert histories[0].loss == histories[1].loss
    np.testing.assert_array_equal(parameters[0], parameters[1])
    assert other_history.loss[0] != histories[0].loss[0], "another batch order should change the losses"


def test_unshuffled_fit_leaves_rng_alone():
    X, y = regression_data()
    net = mlpnet.Network([3, 4, 1], seed=5)
    state = net.rng.bit_generator.state

    net.fit(X, y, epochs=3, batch_size=8, shuffle=False)

    assert net.rng.bit_generator.state == state


# -- validation -------------------------------------------------------------------


def test_validation_fraction_partitions_the_rows():
    # A learning rate of 1e-300 leaves the parameters unchanged in float64 (the biases
    # move by about 1e-301). So the training loss before the single step and the
    # validation loss after it belong to the same parameters, and their row-weighted
    # sum is m times the loss on all rows.
    X, y = regression_data(m=41)
    net = mlpnet.Network([3, 4, 1], seed=6)
    full_loss = np.mean((numpy_forward(net.weights, net.biases, X)[:, 0] - y) ** 2)

    history = net.fit(X, y, learning_rate=1e-300, epochs=1, validation_fraction=0.25)

    n_validation = math.ceil(0.25 * 41)
    combined = (41 - n_validation) * history.loss[0] + n_validation * history.val_loss[0]
    assert combined == pytest.approx(41 * full_loss, rel=1e-12)
    assert history.loss[0] != pytest.approx(full_loss, rel=1e-6), "the split should change the training loss"


def test_validation_seed_chooses_the_split():
    X, y = regression_data()
    losses = {}
    for seed in (0, 0, 1):
        net = mlpnet.Network([3, 4, 1], seed=7)
        history = net.fit(X, y, epochs=1, validation_fraction=0.25, validation_seed=seed)
        losses.setdefault(seed, []).append(history.val_loss[0])

    assert losses[0][0] == losses[0][1]
    assert losses[0][0] != losses[1][0]


def test_validation_data_and_metrics_match_sklearn():
    X, y = regression_data(m=30)
    X_val, y_val = regression_data(m=12, seed=1)
    net = mlpnet.Network([3, 4, 1], seed=8)
    train_predictions = numpy_forward(net.weights, net.biases, X)[:, 0]
    val_predictions = numpy_forward(net.weights, net.biases, X_val)[:, 0]

    history = net.fit(
        X, y, learning_rate=1e-300, epochs=1, validation_data=(X_val, y_val), metrics=["mse", "rmse", "mae", "r2"]
    )

    assert history.val_loss[0] == pytest.approx(sk_metrics.mean_squared_error(y_val, val_predictions), rel=1e-12)
    for name, function in [
        ("mse", sk_metrics.mean_squared_error),
        ("rmse", sk_metrics.root_mean_squared_error),
        ("mae", sk_metrics.mean_absolute_error),
        ("r2", sk_metrics.r2_score),
    ]:
        assert history.metrics[name][0] == pytest.approx(function(y, train_predictions), rel=1e-12), name
        assert history.metrics["val_" + name][0] == pytest.approx(function(y_val, val_predictions), rel=1e-12), name


def test_accuracy_metric_matches_sklearn():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(50, 4))
    labels = rng.integers(0, 3, size=50)
    Y = np.eye(3)[labels]
    net = mlpnet.Network([4, 6, 3], activation="tanh", output_activation="softmax", seed=9)
    predicted = numpy_forward(net.weights, net.biases, X, hidden="tanh", output="softmax").argmax(axis=1)

    history = net.fit(X, Y, loss="crossentropy", learning_rate=1e-300, epochs=1, metrics=["accuracy"])

    assert history.metrics["accuracy"][0] == pytest.approx(sk_metrics.accuracy_score(labels, predicted))


def test_mini_batch_loss_is_row_weighted_mean():
    # 10 rows in batches of 4, 4 and 2; with a learning rate of 1e-300 each batch loss
    # is a loss of the initial parameters, so the row-weighted mean is the full loss.
    X, y = regression_data(m=10)
    net = mlpnet.Network([3, 4, 1], seed=10)
    full_loss = np.mean((numpy_forward(net.weights, net.biases, X)[:, 0] - y) ** 2)

    history = net.fit(X, y, learning_rate=1e-300, epochs=1, batch_size=4)

    assert history.loss[0] == pytest.approx(full_loss, rel=1e-12)


def test_zero_weight_batch_is_skipped():
    X, y = regression_data(m=12)
    sample_weight = np.ones(12)
    sample_weight[8:] = 0.0
    net = mlpnet.Network([3, 4, 1], seed=12)
    reference = net.copy()

    net.fit(X, y, epochs=2, batch_size=4, shuffle=False, sample_weight=sample_weight)
    reference.fit(X[:8], y[:8], epochs=2, batch_size=4, shuffle=False)

    np.testing.assert_array_equal(net.parameters, reference.parameters)


# -- callbacks and early stopping -------------------------------------------------


def test_function_callback_stops_training():
    X, y = regression_data()
    net = mlpnet.Network([3, 4, 1], seed=1)
    seen = []

    def stop_after_three(epoch, logs):
        seen.append((epoch, sorted(logs)))
        return epoch == 2

    history = net.fit(X, y, epochs=50, callbacks=[stop_after_three], metrics=["mae"])

    assert len(history) == 3
    assert history.stopped_epoch == 2
    assert "stop_after_three" in history.stop_reason
    assert seen[0] == (0, ["learning_rate", "loss", "mae"])


class RecordingCallback(mlpnet.training.Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, logs):
        self.events.append(("begin", logs, self.network is not None))

    def on_epoch_end(self, epoch, logs):
        self.events.append(("epoch", epoch))
        return "enough" if epoch == 6 else None

    def on_train_end(self, logs):
        self.events.append(("end", sorted(logs)))


def test_callback_class_sees_every_event():
    X, y = regression_data()
    net = mlpnet.Network([3, 4, 1], seed=1)
    net.fit(X, y, epochs=5)
    callback = RecordingCallback()

    history = net.fit(X, y, epochs=10, callbacks=callback, validation_fraction=0.2)

    assert callback.events[0] == ("begin", {"initial_epoch": 5, "epochs": 10}, True)
    assert callback.events[1:3] == [("epoch", 5), ("epoch", 6)]
    assert callback.events[-1] == ("end", ["learning_rate", "loss", "val_loss"])
    assert history.stop_reason == "enough"
    assert history.epochs == [5, 6]


def torch_momentum_run(net, X, y, X_val, y_val, learning_rate, momentum, epochs):
    """Train a PyTorch copy with SGD momentum; return parameters and validation loss after each epoch."""
    params = []
    for W, b in zip(net.weights, net.biases):
        params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
    optimizer = torch.optim.SGD(params, lr=learning_rate, momentum=momentum)
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    Xv_t, yv_t = torch.tensor(X_val), torch.tensor(y_val)

    def predict(A):
        return torch.tanh(A @ params[0].T + params[1]) @ params[2].T + params[3]

    trajectory, val_losses = [], []
    for _ in range(epochs):
        optimizer.zero_grad()
        ((predict(X_t) - y_t) ** 2).sum(dim=1).mean().backward()
        optimizer.step()
        with torch.no_grad():
            val_losses.append(float(((predict(Xv_t) - yv_t) ** 2).sum(dim=1).mean()))
        trajectory.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return trajectory, val_losses


def overfitting_problem():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(12, 1))
    y = np.sin(2 * X) + 0.3 * rng.normal(size=X.shape)
    X_val = rng.uniform(-2, 2, size=(30, 1))
    y_val = np.sin(2 * X_val)
    net = mlpnet.Network([1, 16, 1], activation="tanh", seed=2)
    return net, X, y, X_val, y_val


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_matches_keras_rule(restore):
    net, X, y, X_val, y_val = overfitting_problem()
    patience = 20
    trajectory, val_losses = torch_momentum_run(net, X, y, X_val, y_val, 0.2, 0.9, 600)
    # Keras's rule with min_delta = 0: stop at the first epoch that is `patience`
    # epochs after the best one so far.
    best_epoch, expected_stop = 0, None
    for epoch, value in enumerate(val_losses):
        if value < val_losses[best_epoch]:
            best_epoch = epoch
        elif epoch - best_epoch >= patience:
            expected_stop = epoch
            break
    assert expected_stop is not None and expected_stop < 599, "the reference run should stop early"

    history = net.fit(
        X, y, optimizer="momentum", momentum=0.9, learning_rate=0.2, epochs=600, validation_data=(X_val, y_val),
        early_stopping=True, patience=patience, restore_best_weights=restore,
    )

    assert history.stopped_epoch == expected_stop
    assert len(history) == expected_stop + 1
    assert "val_loss did not improve" in history.stop_reason
    expected_parameters = trajectory[best_epoch] if restore else trajectory[expected_stop]
    np.testing.assert_allclose(net.parameters, expected_parameters, rtol=1e-9, atol=1e-12)


def test_early_stopping_min_delta_and_metric_monitor():
    net, X, y, X_val, y_val = overfitting_problem()
    stopping = mlpnet.training.EarlyStopping(monitor="val_r2", patience=3, min_delta=0.5)

    history = net.fit(X, y, learning_rate=0.1, epochs=100, validation_data=(X_val, y_val), metrics=["r2"],
                      early_stopping=stopping)

    # The first epoch always improves on -infinity; later gains of R^2 per epoch are far
    # below 0.5, so training stops after 1 + patience epochs.
    assert history.stopped_epoch == 3
    assert stopping.best_epoch == 0


def test_library_prints_nothing(capsys, caplog):
    X, y = regression_data()
    net = mlpnet.Network([3, 4, 1], seed=1)
    with caplog.at_level(logging.DEBUG, logger="mlpnet"):
        net.fit(X, y, epochs=3, early_stopping=True, patience=1)

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""
