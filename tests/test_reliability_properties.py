"""Property-based tests: damaged and malformed files give a result or the documented error, nothing else.

For CSV files the documented errors are CSVFormatError and InvalidDataError;
for model and checkpoint files it is ModelFormatError.  Every message must
name the file.  A damaged model or checkpoint that still loads must be
exactly the original (damage to bytes that no check covers, such as a zip
timestamp, is harmless), so a silently different network fails the test.

Hypothesis runs derandomized, so every run tries the same examples.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlpnet
from mlpnet.cli.model import load_trained_model
from mlpnet.errors import InvalidDataError, ModelFormatError
from mlpnet.io.csv_reader import CSVFormatError, load_features, load_training_data, read_csv
from mlpnet.io.model_file import load_model_file, save_network
from mlpnet.training.checkpoint import load_checkpoint

PROPERTY_SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


# -- CSV files ---------------------------------------------------------------------------


def load_strictly(path: Path, **options):
    """Load training data with warnings as errors; return the Dataset or the documented error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return load_training_data(path, **options)
        except (CSVFormatError, InvalidDataError) as exc:
            return exc


def assert_valid_outcome(outcome, path: Path) -> None:
    if isinstance(outcome, Exception):
        assert str(path) in str(outcome), str(outcome)
        return
    assert outcome.X.dtype == np.float64
    assert outcome.X.ndim == 2
    assert outcome.X.shape[0] >= 1
    assert outcome.X.shape[1] >= 1
    assert np.isfinite(outcome.X).all()
    assert outcome.y.shape == (outcome.X.shape[0],)
    assert len(outcome.feature_names) == outcome.X.shape[1]


@settings(max_examples=1000, **PROPERTY_SETTINGS)
@given(data=st.binary(max_size=400), header=st.booleans(), delimiter=st.sampled_from([",", ";", "\t"]))
def test_csv_random_bytes(folder, data, header, delimiter):
    path = folder / "random.csv"
    path.write_bytes(data)
    assert_valid_outcome(load_strictly(path, header=header, delimiter=delimiter), path)


NUMBER_CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["1e5", ".5", "-0", "+3", "1E-3", " 2.5 ", "7."]),
)
BAD_CELLS = st.sampled_from(
    ["", "nan", "NaN", "inf", "-Infinity", "1e400", "?", "\u22120.5", "1,234.5", '"1,5"', "abc", "0x1A",
     "1_000", "\u00e9t\u00e9", "\u4e2d", "\x00", '"', "''", "1 2", "--1", "\ufeff1"]
)
CELLS = st.one_of(NUMBER_CELLS, BAD_CELLS, st.text(max_size=6))


@st.composite
def csv_tables(draw, cells=CELLS):
    n_columns = draw(st.integers(1, 4))
    n_rows = draw(st.integers(0, 6))
    rows = [[draw(cells) for _ in range(n_columns)] for _ in range(n_rows)]
    # A ragged row now and then.
    if rows and draw(st.booleans()):
        index = draw(st.integers(0, len(rows) - 1))
        rows[index] = rows[index][: draw(st.integers(0, n_columns))]
    return rows


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1"]


@settings(max_examples=1000, **PROPERTY_SETTINGS)
@given(
    rows=csv_tables(),
    header=st.booleans(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    line_ending=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(ENCODINGS),
    final_newline=st.booleans(),
)
def test_csv_random_cells(folder, rows, header, delimiter, line_ending, encoding, final_newline):
    lines = [delimiter.join(row) for row in rows]
    if header and rows:
        lines.insert(0, delimiter.join(f"c{j}" for j in range(len(rows[0]) or 1)))
    text = line_ending.join(lines) + (line_ending if final_newline else "")
    path = folder / "cells.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))

    assert_valid_outcome(load_strictly(path, header=header, delimiter=delimiter), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            X, _ = load_features(path, ["c0"] if header else ["0"], header=header, delimiter=delimiter)
        except (CSVFormatError, InvalidDataError) as exc:
            assert str(path) in str(exc)
        else:
            assert X.shape[1] == 1
            assert np.isfinite(X).all()


@settings(max_examples=300, **PROPERTY_SETTINGS)
@given(
    rows=st.lists(
        st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=2, max_size=2),
        min_size=1, max_size=8,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    line_ending=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
    padding=st.sampled_from(["", " ", "  "]),
)
def test_csv_valid_tables_read_exactly(folder, rows, delimiter, line_ending, encoding, padding):
    # repr() writes the shortest text that float() reads back as the same double.
    lines = [delimiter.join(["x", "y"])] + [delimiter.join(padding + repr(v) + padding for v in row) for row in rows]
    path = folder / "valid.csv"
    path.write_bytes(line_ending.join(lines).encode(encoding))

    data = load_training_data(path, delimiter=delimiter, task="regression")

    expected = np.array(rows)
    assert data.feature_names == ["x"]
    np.testing.assert_array_equal(data.X[:, 0], expected[:, 0])
    np.testing.assert_array_equal(data.y, expected[:, 1])


def test_csv_utf16_is_rejected_naming_the_encoding(folder):
    path = folder / "utf16.csv"
    path.write_bytes("x,y\n1,2\n".encode("utf-16"))
    with pytest.raises(CSVFormatError) as info:
        read_csv(path)
    assert str(path) in str(info.value)
    assert "UTF-8" in str(info.value)


# -- model and checkpoint files --------------------------------------------------------------


DAMAGE = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("zero"), st.floats(0, 1, exclude_max=True), st.integers(1, 64)),
    st.tuples(st.just("overwrite"), st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=16)),
)


def damage(data: bytes, operations) -> bytes:
    """Apply flips, truncations, insertions, zeroed and overwritten ranges at relative positions."""
    data = bytearray(data)
    for operation in operations:
        kind, position = operation[0], operation[1]
        offset = min(int(position * len(data)), max(len(data) - 1, 0))
        if kind == "flip" and data:
            data[offset] ^= 1 << operation[2]
        elif kind == "truncate":
            del data[offset:]
        elif kind == "insert":
            data[offset:offset] = operation[2]
        elif kind == "zero":
            data[offset:offset + operation[2]] = bytes(len(data[offset:offset + operation[2]]))
        elif kind == "overwrite":
            data[offset:offset + len(operation[2])] = operation[2]
    return bytes(data)


@pytest.fixture(scope="module")
def model_bytes(folder) -> bytes:
    net = mlpnet.Network([3, 4, 2], activation="tanh", output_activation="softmax", seed=0)
    path = folder / "original_model.npz"
    save_network(path, net, {"classes": ["a", "b"], "loss": "crossentropy"}, {"input_mean": np.arange(3.0)})
    return path.read_bytes()


@settings(max_examples=2000, **PROPERTY_SETTINGS)
@given(operations=st.lists(DAMAGE, min_size=1, max_size=3))
def test_damaged_model_loads_identically_or_raises(folder, model_bytes, operations):
    original = folder / "original_model.npz"
    path = folder / "damaged_model.npz"
    path.write_bytes(damage(model_bytes, operations))
    try:
        loaded = load_model_file(path)
    except ModelFormatError as exc:
        assert str(path) in str(exc)
        return
    reference = load_model_file(original)
    assert loaded.network.parameters.tobytes() == reference.network.parameters.tobytes()
    assert loaded.network.activations == reference.network.activations
    assert loaded.metadata == reference.metadata
    assert loaded.arrays.keys() == reference.arrays.keys()
    assert loaded.arrays["input_mean"].tobytes() == reference.arrays["input_mean"].tobytes()


@pytest.fixture(scope="module")
def cli_model_bytes(folder) -> bytes:
    from mlpnet.cli.main import main

    path = folder / "cli_model.npz"
    assert main(["train", "--dataset", "stackloss", "--epochs", "3", "--quiet", "--out", str(path)]) == 0
    return path.read_bytes()


@settings(max_examples=800, **PROPERTY_SETTINGS)
@given(operations=st.lists(DAMAGE, min_size=1, max_size=2))
def test_damaged_cli_model_loads_identically_or_raises(folder, cli_model_bytes, operations):
    path = folder / "damaged_cli_model.npz"
    path.write_bytes(damage(cli_model_bytes, operations))
    try:
        loaded = load_trained_model(str(path))
    except ModelFormatError as exc:
        assert str(path) in str(exc)
        return
    reference = load_trained_model(str(folder / "cli_model.npz"))
    assert loaded.network.parameters.tobytes() == reference.network.parameters.tobytes()
    assert loaded.metadata() == reference.metadata()
    assert loaded.input_scaling.mean.tobytes() == reference.input_scaling.mean.tobytes()


@pytest.fixture(scope="module")
def checkpoint_bytes(folder) -> bytes:
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    net = mlpnet.Network([3, 4, 2], activation="tanh", seed=0)
    path = folder / "original_checkpoint.npz"
    net.fit(X, Y, optimizer="adam", batch_size=4, epochs=3, schedule="plateau", early_stopping=True,
            patience=5, restore_best_weights=True, validation_fraction=0.25, checkpoint=path)
    return path.read_bytes()


@settings(max_examples=1500, **PROPERTY_SETTINGS)
@given(operations=st.lists(DAMAGE, min_size=1, max_size=3))
def test_damaged_checkpoint_loads_identically_or_raises(folder, checkpoint_bytes, operations):
    path = folder / "damaged_checkpoint.npz"
    path.write_bytes(damage(checkpoint_bytes, operations))
    try:
        net, checkpoint = load_checkpoint(path)
    except ModelFormatError as exc:
        assert str(path) in str(exc)
        return
    reference_net, reference = load_checkpoint(folder / "original_checkpoint.npz")
    assert net.parameters.tobytes() == reference_net.parameters.tobytes()
    assert net.rng.bit_generator.state == reference_net.rng.bit_generator.state
    assert checkpoint.history.to_dict() == reference.history.to_dict()
    assert checkpoint.epoch == reference.epoch
    for key in ("first_moment", "second_moment"):
        ours = net.training_state["optimizer"].state[key]
        assert ours.tobytes() == reference_net.training_state["optimizer"].state[key].tobytes()
    assert math.isclose(net.training_state["schedule"].learning_rate,
                        reference_net.training_state["schedule"].learning_rate)
