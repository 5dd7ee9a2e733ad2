"""Column statistics and predictions of Dask arrays against NumPy on the same values."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

from mlpnet import InvalidDataError, Network
from mlpnet.distributed import column_stats, fit_standardization, predict
from mlpnet.preprocessing import fit_standardization as fit_standardization_in_memory

ROWS = (100, 37, 1, 262)


@pytest.fixture(params=["synchronous", "threads"])
def scheduler(request):
    with dask.config.set(scheduler=request.param):
        yield


def wide_data():
    rng = np.random.default_rng(3)
    X = rng.normal(loc=[0.0, 1e6, -3.0, 5.0], scale=[1.0, 1e-2, 50.0, 2.0], size=(400, 4))
    X[:, 3] = 0.1  # a constant column
    return X


def test_column_stats_equal_numpy(scheduler):
    X = wide_data()
    mean, std = column_stats(da.from_array(X, chunks=(ROWS, 2)))
    # Column 1 has mean 1e6 and standard deviation 0.01: a one-pass formula would lose its digits.
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(std, X.std(axis=0), rtol=1e-12, atol=1e-15)
    assert mean.shape == (4,)
    assert std.shape == (4,)


def test_column_stats_one_row_per_chunk(scheduler):
    X = np.array([[1.0, 2.0], [3.0, 5.0], [8.0, 13.0]])
    mean, std = column_stats(da.from_array(X, chunks=(1, 2)))
    # By hand.  Column 0: mean 12/3 = 4, squared deviations 9 + 1 + 16 = 26, variance 26/3.
    # Column 1: mean 20/3, deviations -14/3, -5/3, 19/3, squared (196 + 25 + 361)/9 = 582/9, variance 582/27.
    np.testing.assert_allclose(mean, [4.0, 20.0 / 3.0], rtol=1e-15)
    np.testing.assert_allclose(std, np.sqrt([26.0 / 3.0, 582.0 / 27.0]), rtol=1e-15)


def test_standardization_equals_in_memory(scheduler):
    X = wide_data()
    distributed = fit_standardization(da.from_array(X, chunks=(ROWS, 4)))
    reference = fit_standardization_in_memory(X)
    np.testing.assert_allclose(distributed.mean, reference.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(distributed.scale, reference.scale, rtol=1e-12)
    assert distributed.mean[3] == 0.1
    assert distributed.scale[3] == 1.0


def test_column_stats_reports_nan_position(scheduler):
    X = wide_data()
    X[250, 2] = np.nan
    with pytest.raises(InvalidDataError, match=r"X contains NaN at row 250, column 2 \(0-based\)"):
        column_stats(da.from_array(X, chunks=(ROWS, 4)))


def test_column_stats_needs_two_dimensions(scheduler):
    with pytest.raises(InvalidDataError, match=r"X must be a 2-D array of shape \(m, n\).*got shape \(5,\)"):
        column_stats(da.ones(5, chunks=2))


def test_predict_equals_network(scheduler):
    X = wide_data()[:, [0, 2, 3]]
    net = Network([3, 4, 2], seed=1, activation="relu")
    predictions = predict(net, da.from_array(X, chunks=(ROWS, 3)))
    assert predictions.shape == (400, 2)
    np.testing.assert_allclose(predictions.compute(), net.predict(X), rtol=1e-14, atol=1e-15)


def test_predict_reports_bad_row(scheduler):
    X = wide_data()[:, :3]
    X[140, 1] = np.inf
    net = Network([3, 2, 1], seed=0)
    with pytest.raises(InvalidDataError, match=r"X contains infinity at row 140, column 1"):
        predict(net, da.from_array(X, chunks=(ROWS, 3))).compute()
