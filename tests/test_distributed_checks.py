"""Invalid Dask input fails with the in-memory message, found chunk by chunk.

Each case builds the same bad data twice, fits once on NumPy arrays and once
on Dask arrays with uneven chunks, and requires the same exception type and
message.  The bad entries sit in later chunks, so a row number counted
inside its chunk would differ from the expected one.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

from mlpnet import InvalidDataError, InvalidParameterError, Network

ROWS = (4, 3, 5, 8)  # 20 rows


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def clean_data(n_rows=20, n_inputs=3, n_outputs=1):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n_rows, n_inputs)), rng.normal(size=(n_rows, n_outputs))


def as_dask(array, rows=ROWS):
    if np.ndim(array) == 0:
        return da.from_array(np.asarray(array))
    rows = rows if sum(rows) == np.shape(array)[0] else np.shape(array)[0]
    return da.from_array(array, chunks=(rows,) + tuple(np.shape(array)[1:]))


def errors_of_both(layer_sizes, X, Y, **options):
    """Return the exceptions that fitting on NumPy and on Dask arrays raise, and both networks."""
    net = Network(layer_sizes, seed=0)
    twin = net.copy()
    with pytest.raises(Exception) as memory:
        net.fit(X, Y, epochs=2, **options)
    dask_options = dict(options)
    if options.get("sample_weight") is not None:
        dask_options["sample_weight"] = as_dask(options["sample_weight"])
    if options.get("validation_data") is not None:
        dask_options["validation_data"] = tuple(as_dask(part, (3, 2)) for part in options["validation_data"])
    with pytest.raises(Exception) as distributed:
        twin.fit(as_dask(X), as_dask(Y), epochs=2, **dask_options)
    return memory.value, distributed.value, twin


def with_entry(array, index, value):
    array = array.copy()
    array[index] = value
    return array


X0, Y0 = clean_data()

CASES = {
    "X NaN": (with_entry(X0, (9, 1), np.nan), Y0, {}),
    "X infinity": (with_entry(X0, (13, 0), np.inf), Y0, {}),
    "X minus infinity": (with_entry(X0, (19, 2), -np.inf), Y0, {}),
    "Y NaN": (X0, with_entry(Y0, (8, 0), np.nan), {}),
    "X NaN before Y NaN": (with_entry(X0, (15, 0), np.nan), with_entry(Y0, (1, 0), np.nan), {}),
    "first NaN wins": (with_entry(with_entry(X0, (18, 0), np.nan), (5, 2), np.inf), Y0, {}),
    "Y 1-D NaN": (X0, with_entry(Y0[:, 0], 11, np.nan), {}),
    "weights NaN": (X0, Y0, {"sample_weight": with_entry(np.ones(20), 12, np.nan)}),
    "weights negative": (X0, Y0, {"sample_weight": with_entry(np.ones(20), 16, -0.5)}),
    "weights NaN after negative": (
        X0, Y0, {"sample_weight": with_entry(with_entry(np.ones(20), 2, -1.0), 17, np.nan)},
    ),
    "weights all zero": (X0, Y0, {"sample_weight": np.zeros(20)}),
    "weights shape": (X0, Y0, {"sample_weight": np.ones(19)}),
    "X features": (X0[:, :2], Y0, {}),
    "X one-dimensional": (X0[:, 0], Y0, {}),
    "Y rows": (X0, Y0[:19], {}),
    "Y columns": (X0, np.hstack([Y0, Y0]), {}),
    "X_val NaN": (X0, Y0, {"validation_data": (with_entry(X0[:5], (4, 2), np.nan), Y0[:5])}),
    "Y_val rows": (X0, Y0, {"validation_data": (X0[:5], Y0[:4])}),
    "X text": (with_entry(X0.astype(object), (10, 1), "7,5"), Y0, {}),
    "X strings dtype": (X0.astype(str), Y0, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_message_matches_memory(case):
    X, Y, options = CASES[case]
    memory, distributed, _ = errors_of_both([3, 2, 1], X, Y, **options)
    assert type(distributed) is type(memory)
    assert str(distributed) == str(memory)


def test_failed_fit_keeps_parameters():
    X = with_entry(X0, (9, 1), np.nan)
    net = Network([3, 2, 1], seed=0)
    before = net.parameters.copy()
    with pytest.raises(InvalidDataError, match=r"X contains NaN at row 9, column 1 \(0-based\)"):
        net.fit(as_dask(X), as_dask(Y0), epochs=2)
    np.testing.assert_array_equal(net.parameters, before)
    assert net.training_state == {}


def test_validation_data_tuple_checked():
    net = Network([3, 2, 1], seed=0)
    with pytest.raises(InvalidParameterError, match="validation_data must be a tuple"):
        net.fit(as_dask(X0), as_dask(Y0), validation_data=(as_dask(X0),), epochs=1)


def test_validation_options_conflict():
    net = Network([3, 2, 1], seed=0)
    with pytest.raises(InvalidParameterError, match="validation_data and validation_fraction were both given"):
        net.fit(as_dask(X0), as_dask(Y0), validation_data=(X0, Y0), validation_fraction=0.2, epochs=1)


def test_float32_overflow_message():
    # The overflowing entry only becomes infinite in the float32 cast, as in memory.
    X = with_entry(X0, (14, 2), 1e300)
    net = Network([3, 2, 1], seed=0, dtype="float32")
    with pytest.raises(InvalidDataError) as error:
        net.fit(as_dask(X), as_dask(Y0), epochs=1)
    assert str(error.value) == (
        "X contains 1e+300, which overflows float32 at row 14, column 2 (0-based); "
        "remove or impute that value before training or predicting"
    )
