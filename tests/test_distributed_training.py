"""Training on Dask arrays equals in-memory training, on Dask's local schedulers.

The reference for every trajectory is ``Network.fit`` on the same NumPy
arrays, which the training tests check against PyTorch.  A distributed step
sums the chunks' gradients, so it differs from the in-memory step only in
the order of floating-point additions: after 20 steps parameters and losses
agree to a relative 1e-10.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

from mlpnet import InvalidParameterError, Network

RTOL = 1e-10
ATOL = 1e-13
UNEVEN_ROWS = (7, 13, 1, 30, 9)  # 60 rows in chunks of different sizes, one of a single row


def make_regression(n_rows=60, n_inputs=4, n_outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_inputs))
    W = rng.normal(size=(n_inputs, n_outputs))
    Y = np.tanh(X @ W) + 0.1 * rng.normal(size=(n_rows, n_outputs))
    return X, Y


def chunked(array, rows=UNEVEN_ROWS):
    chunks = (rows,) if array.ndim == 1 else (rows, array.shape[1])
    return da.from_array(array, chunks=chunks)


def fit_both(layer_sizes, X, Y, dask_inputs, seed=3, net_options=None, **options):
    """Fit one network on NumPy arrays and a copy on Dask arrays; return both networks and histories."""
    net = Network(layer_sizes, seed=seed, **(net_options or {}))
    twin = net.copy()
    history = net.fit(X, Y, **options)
    twin_history = twin.fit(dask_inputs(X), dask_inputs(Y), **options)
    return net, history, twin, twin_history


def assert_same_training(net, history, twin, twin_history):
    np.testing.assert_allclose(twin.parameters, net.parameters, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(twin_history.loss, history.loss, rtol=RTOL, atol=ATOL)
    assert twin_history.epochs == history.epochs
    assert set(twin_history.metrics) == set(history.metrics)
    for name, values in history.metrics.items():
        np.testing.assert_allclose(twin_history.metrics[name], values, rtol=RTOL, atol=ATOL, err_msg=name)
    np.testing.assert_allclose(twin_history.val_loss, history.val_loss, rtol=RTOL, atol=ATOL)


@pytest.fixture
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_synchronous_matches_memory(synchronous, optimizer):
    X, Y = make_regression()
    result = fit_both([4, 5, 1], X, Y, chunked, optimizer=optimizer, learning_rate=0.05, epochs=20)
    assert_same_training(*result)


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_threads_match_memory(optimizer):
    X, Y = make_regression(n_outputs=2)
    with dask.config.set(scheduler="threads"):
        result = fit_both([4, 6, 3, 2], X, Y, chunked, optimizer=optimizer, learning_rate=0.05, epochs=20,
                          net_options={"activation": "tanh"})
    assert_same_training(*result)


def test_one_dimensional_targets(synchronous):
    X, Y = make_regression()
    result = fit_both([4, 3, 1], X, Y[:, 0], chunked, optimizer="rmsprop", learning_rate=0.01, epochs=20)
    assert_same_training(*result)


def test_penalty_clipping_schedule(synchronous):
    X, Y = make_regression(n_outputs=2)
    result = fit_both(
        [4, 5, 2], X, Y, chunked,
        optimizer="adamw", learning_rate=0.05, epochs=20, l2=0.3, clip_norm=0.05,
        schedule="step", schedule_options={"step_size": 5, "gamma": 0.5},
    )
    assert_same_training(*result)


def test_sample_weights(synchronous):
    X, Y = make_regression()
    weights = np.random.default_rng(5).uniform(0.0, 2.0, size=X.shape[0])
    weights[:7] = 0.0  # the whole first chunk has weight 0
    net = Network([4, 5, 1], seed=1)
    twin = net.copy()
    history = net.fit(X, Y, optimizer="momentum", learning_rate=0.05, epochs=20, sample_weight=weights)
    twin_history = twin.fit(chunked(X), chunked(Y), optimizer="momentum", learning_rate=0.05, epochs=20,
                            sample_weight=chunked(weights))
    assert_same_training(net, history, twin, twin_history)


def test_softmax_crossentropy_metrics(synchronous):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    labels = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    Y = np.eye(3)[labels]
    result = fit_both(
        [3, 4, 3], X, Y, chunked,
        net_options={"output_activation": "softmax", "activation": "relu"},
        loss="crossentropy", optimizer="adam", learning_rate=0.05, epochs=20, metrics=["accuracy", "mse"],
    )
    assert_same_training(*result)
    assert len(result[3].metrics["accuracy"]) == 20


def test_float32_network(synchronous):
    X, Y = make_regression()
    net, history, twin, twin_history = fit_both(
        [4, 5, 1], X, Y, chunked, net_options={"dtype": "float32"}, optimizer="gd", epochs=20
    )
    assert twin.parameters.dtype == np.float32
    # float32 sums in another order differ by a few units in the last place.
    np.testing.assert_allclose(twin.parameters, net.parameters, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(twin_history.loss, history.loss, rtol=1e-5)


def test_validation_data_and_metrics(synchronous):
    X, Y = make_regression(n_rows=90)
    X_train, Y_train, X_val, Y_val = X[:60], Y[:60], X[60:], Y[60:]
    net = Network([4, 5, 1], seed=4)
    twin = net.copy()
    options = {"optimizer": "adam", "learning_rate": 0.05, "epochs": 20, "metrics": ["mse", "rmse", "mae", "r2"]}
    history = net.fit(X_train, Y_train, validation_data=(X_val, Y_val), **options)
    twin_history = twin.fit(
        chunked(X_train), chunked(Y_train),
        validation_data=(chunked(X_val, (11, 19)), chunked(Y_val, (11, 19))), **options,
    )
    assert_same_training(net, history, twin, twin_history)
    assert set(twin_history.metrics) == {"mse", "rmse", "mae", "r2", "val_mse", "val_rmse", "val_mae", "val_r2"}


def test_validation_fraction_split(synchronous):
    X, Y = make_regression(n_rows=60)
    result = fit_both([4, 3, 1], X, Y, chunked, optimizer="gd", epochs=20, validation_fraction=0.25, metrics=["r2"])
    assert_same_training(*result)
    assert len(result[3].val_loss) == 20


def test_early_stopping_restores_best(synchronous):
    X, Y = make_regression()
    result = fit_both([4, 5, 1], X, Y, chunked, optimizer="gd", learning_rate=3.0, epochs=40,
                      early_stopping=True, monitor="loss", patience=2, restore_best_weights=True)
    net, history, twin, twin_history = result
    assert history.stopped_epoch is not None
    assert twin_history.stopped_epoch == history.stopped_epoch
    assert_same_training(*result)


def test_second_fit_continues(synchronous):
    X, Y = make_regression()
    net = Network([4, 5, 1], seed=6)
    twin = net.copy()
    net.fit(X, Y, optimizer="adam", epochs=20)
    twin.fit(chunked(X), chunked(Y), optimizer="adam", epochs=10)
    history = twin.fit(chunked(X), chunked(Y), optimizer="adam", epochs=10)
    assert history.epochs[0] == 10
    np.testing.assert_allclose(twin.parameters, net.parameters, rtol=RTOL, atol=ATOL)


def test_numpy_targets_follow_dask_chunks(synchronous):
    X, Y = make_regression()
    net = Network([4, 2, 1], seed=3)
    twin = net.copy()
    history = net.fit(X, Y, optimizer="gd", epochs=20)
    twin_history = twin.fit(chunked(X), Y, optimizer="gd", epochs=20)
    assert_same_training(net, history, twin, twin_history)


def test_numpy_features_follow_dask_targets(synchronous):
    X, Y = make_regression()
    net = Network([4, 2, 1], seed=3)
    twin = net.copy()
    history = net.fit(X, Y, optimizer="momentum", epochs=20, sample_weight=2.0)
    twin_history = twin.fit(X, chunked(Y), optimizer="momentum", epochs=20, sample_weight=2.0)
    assert_same_training(net, history, twin, twin_history)


def test_unknown_chunk_sizes(synchronous):
    X, Y = make_regression()
    dask_X, dask_Y = chunked(X), chunked(Y)
    keep = da.from_array(np.ones(X.shape[0], dtype=bool), chunks=(UNEVEN_ROWS,))
    filtered_X, filtered_Y = dask_X[keep], dask_Y[keep]
    assert np.isnan(filtered_X.shape[0])
    net = Network([4, 3, 1], seed=2)
    twin = net.copy()
    history = net.fit(X, Y, optimizer="gd", epochs=20)
    twin_history = twin.fit(filtered_X, filtered_Y, optimizer="gd", epochs=20)
    assert_same_training(net, history, twin, twin_history)


def test_mini_batches_rejected(synchronous):
    X, Y = make_regression()
    net = Network([4, 3, 1], seed=0)
    before = net.parameters.copy()
    with pytest.raises(InvalidParameterError, match=r"batch_size=16 is not supported with Dask input.*batch_size=None"):
        net.fit(chunked(X), chunked(Y), batch_size=16, epochs=2)
    np.testing.assert_array_equal(net.parameters, before)


def test_divergence_rolls_back(synchronous):
    X, Y = make_regression()
    X = X * 1e150
    from mlpnet import DivergenceError

    net = Network([4, 3, 1], seed=0, activation="relu")
    twin = net.copy()
    with pytest.raises(DivergenceError) as memory_error:
        net.fit(X, Y, learning_rate=1.0, epochs=5)
    with pytest.raises(DivergenceError) as dask_error:
        twin.fit(chunked(X), chunked(Y), learning_rate=1.0, epochs=5)
    assert dask_error.value.epoch == memory_error.value.epoch
    assert str(dask_error.value) == str(memory_error.value)
    np.testing.assert_array_equal(twin.parameters, net.parameters)


def test_checkpoint_resume_bit_for_bit(synchronous, tmp_path):
    X, Y = make_regression()
    checkpoint = str(tmp_path / "run.npz")
    straight = Network([4, 5, 1], seed=8)
    straight_history = straight.fit(chunked(X), chunked(Y), optimizer="adam", epochs=10)

    interrupted = Network([4, 5, 1], seed=8)
    interrupted.fit(chunked(X), chunked(Y), optimizer="adam", epochs=10, checkpoint=checkpoint,
                    callbacks=[lambda epoch, logs: epoch == 3])
    assert interrupted.training_state["epoch"] == 4

    resumed = Network([4, 5, 1], seed=8)
    history = resumed.fit(chunked(X), chunked(Y), optimizer="adam", epochs=10, resume=checkpoint)
    np.testing.assert_array_equal(resumed.parameters, straight.parameters)
    assert history.loss == straight_history.loss
    assert history.epochs == list(range(10))
