"""Tests of the model file format: round trip, every kind of damage, and atomic saving.

Damaged files are built from mlpnet's own saved models by rewriting bytes, or
by rewriting entries with NumPy and zipfile, so each test controls exactly which
fault the file has.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import tracemalloc
import zipfile

import numpy as np
import pytest

import mlpnet
from mlpnet.errors import InvalidParameterError, ModelFormatError
from mlpnet.io.atomic import atomic_write, check_writable
from mlpnet.io.model_file import FORMAT_VERSION, MAX_ARRAY_ELEMENTS, load_model_file, load_network, save_network

CASES = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "cases"
FIXTURES = CASES / "11-corrupt-model-file" / "fixtures"


def make_network(layer_sizes=(3, 3, 1), seed=0, **options) -> mlpnet.Network:
    return mlpnet.Network(list(layer_sizes), activation="sigmoid", output_activation="identity", seed=seed, **options)


@pytest.fixture
def saved(tmp_path) -> pathlib.Path:
    path = tmp_path / "model.npz"
    save_network(path, make_network(), {"loss": "mse", "feature_names": ["x1", "x2", "x3"]},
                 {"input_mean": np.array([0.5, -1.0, 2.0]), "input_scale": np.array([1.0, 2.0, 0.5])})
    return path


def read_entries(path: pathlib.Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read the JSON header and the arrays of a model file with plain NumPy."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    return header, arrays


def write_entries(path: pathlib.Path, header: dict | str, arrays: dict[str, np.ndarray]) -> None:
    text = header if isinstance(header, str) else json.dumps(header)
    np.savez(path, metadata=np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays)


def assert_model_error(path, *words: str) -> ModelFormatError:
    with pytest.raises(ModelFormatError) as info:
        load_network(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message
    return info.value


# -- round trip -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_bit_for_bit(tmp_path, dtype):
    net = mlpnet.Network([4, 5, 3, 2], activation=["tanh", "relu"], output_activation="softmax", seed=1, dtype=dtype)
    path = tmp_path / "model.npz"
    metadata = {"loss": "crossentropy", "classes": ["a", "b"], "epochs": 10, "final_loss": 0.25, "nested": {"x": [1]}}
    save_network(path, net, metadata, {"input_mean": np.arange(4.0)})

    loaded = load_model_file(path)
    assert loaded.network.layer_sizes == [4, 5, 3, 2]
    assert loaded.network.activations == ["tanh", "relu", "softmax"]
    assert loaded.network.dtype == np.dtype(dtype)
    assert loaded.network.parameters.tobytes() == net.parameters.tobytes()
    for W_loaded, W in zip(loaded.network.weights, net.weights):
        np.testing.assert_array_equal(W_loaded, W)
    assert loaded.metadata == metadata
    assert loaded.format_version == FORMAT_VERSION
    assert list(loaded.arrays) == ["input_mean"]
    np.testing.assert_array_equal(loaded.arrays["input_mean"], np.arange(4.0))


def test_round_trip_predictions(saved):
    X = np.array([[0.1, 0.2, 0.3], [-1.0, 0.5, 2.0]])
    np.testing.assert_array_equal(mlpnet.load(str(saved)).predict(X), make_network().predict(X))


def test_network_save_method(tmp_path):
    path = tmp_path / "model.npz"
    make_network().save(str(path))
    assert load_network(path).parameters.tobytes() == make_network().parameters.tobytes()


def test_network_without_hidden_layer(tmp_path):
    net = mlpnet.Network([2, 1], output_activation="sigmoid", seed=0)
    save_network(tmp_path / "m.npz", net)
    loaded = load_network(tmp_path / "m.npz")
    assert loaded.layer_sizes == [2, 1]
    assert loaded.activations == ["sigmoid"]


def test_file_layout(saved):
    header, arrays = read_entries(saved)
    assert header["format"] == "mlpnet-model"
    assert header["format_version"] == 1
    assert header["mlpnet_version"] == mlpnet.__version__
    assert header["layer_sizes"] == [3, 3, 1]
    assert header["activations"] == ["sigmoid", "identity"]
    assert header["dtype"] == "float64"
    assert sorted(arrays) == ["biases_0", "biases_1", "input_mean", "input_scale", "weights_0", "weights_1"]
    assert header["arrays"]["weights_0"] == {"shape": [3, 3], "dtype": "float64"}
    assert header["arrays"]["biases_1"] == {"shape": [1], "dtype": "float64"}
    assert set(header["arrays"]) == set(arrays)
    with zipfile.ZipFile(saved) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())


# -- saving rejects bad input ----------------------------------------------------


def test_save_rejects_nan_weight(tmp_path):
    net = make_network()
    net._weights[1][0, 2] = np.nan
    path = tmp_path / "model.npz"
    with pytest.raises(InvalidParameterError, match=r"weights_1 has a NaN or infinite entry at index \(0, 2\)"):
        save_network(path, net)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_save_rejects_bad_metadata(tmp_path):
    path = tmp_path / "model.npz"
    with pytest.raises(InvalidParameterError, match="JSON"):
        save_network(path, make_network(), {"value": float("nan")})
    with pytest.raises(InvalidParameterError, match="JSON"):
        save_network(path, make_network(), {"value": object()})
    with pytest.raises(InvalidParameterError, match="reserved"):
        save_network(path, make_network(), arrays={"weights_0": np.zeros(3)})
    with pytest.raises(InvalidParameterError, match="dtype"):
        save_network(path, make_network(), arrays={"names": np.array(["a"], dtype=object)})
    with pytest.raises(InvalidParameterError, match="NaN"):
        save_network(path, make_network(), arrays={"input_scale": np.array([1.0, np.inf])})
    assert not path.exists()


# -- damaged files --------------------------------------------------------------


def test_missing_file(tmp_path):
    assert_model_error(tmp_path / "absent.npz", "not found")


def test_folder(tmp_path):
    assert_model_error(tmp_path, "folder")


def test_empty_file(saved):
    saved.write_bytes(b"")
    assert_model_error(saved, "empty")


@pytest.mark.parametrize("keep", ["half", "all_but_last_byte", "first_100_bytes"])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    size = {"half": len(data) // 2, "all_but_last_byte": len(data) - 1, "first_100_bytes": 100}[keep]
    saved.write_bytes(data[:size])
    error = assert_model_error(saved)
    assert error.__cause__ is not None or "zip" in str(error)


def test_text_file(saved):
    saved.write_text("layer_sizes: [3, 3, 1]\nthis is not a model\n")
    assert_model_error(saved, "not a valid zip archive")


@pytest.mark.parametrize("fraction", [0.1, 0.25, 1 / 3, 0.5, 0.66, 0.8])
def test_flipped_bytes_never_load_silently(saved, fraction):
    original = load_network(saved).parameters.copy()
    data = bytearray(saved.read_bytes())
    start = int(len(data) * fraction)
    for i in range(start, min(start + 8, len(data))):
        data[i] ^= 0xFF
    saved.write_bytes(bytes(data))
    # Bytes outside the checksummed data (such as a zip timestamp) may be
    # harmless; anywhere else the flip must be detected.
    try:
        loaded = load_network(saved)
    except ModelFormatError as exc:
        assert str(saved) in str(exc)
    else:
        assert loaded.parameters.tobytes() == original.tobytes()


def test_flipped_weight_byte_fails_checksum(saved):
    data = bytearray(saved.read_bytes())
    _, arrays = read_entries(saved)
    needle = arrays["weights_0"].tobytes()
    offset = bytes(data).index(needle)
    data[offset + 3] ^= 0x01
    saved.write_bytes(bytes(data))
    assert_model_error(saved, "CRC-32")


def test_missing_array(saved):
    header, arrays = read_entries(saved)
    del arrays["biases_1"]
    write_entries(saved, header, arrays)
    assert_model_error(saved, "missing array 'biases_1'")


def test_extra_undeclared_array(saved):
    header, arrays = read_entries(saved)
    arrays["surprise"] = np.zeros(2)
    write_entries(saved, header, arrays)
    assert_model_error(saved, "unknown array 'surprise'")


def test_misshapen_array(saved):
    header, arrays = read_entries(saved)
    arrays["weights_0"] = np.zeros((4, 3))
    write_entries(saved, header, arrays)
    assert_model_error(saved, "weights_0", "shape (4, 3)", "(3, 3)")


def test_layer_sizes_disagree_with_arrays(saved):
    header, arrays = read_entries(saved)
    header["layer_sizes"] = [3, 4, 1]
    write_entries(saved, header, arrays)
    assert_model_error(saved, "weights_0", "[3, 4, 1]")


def test_wrong_array_dtype(saved):
    header, arrays = read_entries(saved)
    arrays["weights_1"] = arrays["weights_1"].astype(np.float32)
    write_entries(saved, header, arrays)
    assert_model_error(saved, "weights_1", "float32")


def test_nan_weight(saved):
    header, arrays = read_entries(saved)
    arrays["weights_0"][1, 2] = np.nan
    write_entries(saved, header, arrays)
    assert_model_error(saved, "weights_0", "non-finite", "(1, 2)")


def test_inf_in_extra_array(saved):
    header, arrays = read_entries(saved)
    arrays["input_scale"][0] = np.inf
    write_entries(saved, header, arrays)
    assert_model_error(saved, "input_scale", "non-finite")


def test_future_format_version(saved):
    header, arrays = read_entries(saved)
    header["format_version"] = 999
    write_entries(saved, header, arrays)
    assert_model_error(saved, "format version 999", f"format version {FORMAT_VERSION}", "upgrade mlpnet")


def test_unknown_activation(saved):
    header, arrays = read_entries(saved)
    header["activations"] = ["sigmoid", "swishy"]
    write_entries(saved, header, arrays)
    assert_model_error(saved, "unknown activation 'swishy'")


def test_softmax_in_hidden_layer(saved):
    header, arrays = read_entries(saved)
    header["activations"] = ["softmax", "identity"]
    write_entries(saved, header, arrays)
    assert_model_error(saved, "invalid")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("layer_sizes", "3,3,1"),
        ("layer_sizes", [3, 0, 1]),
        ("layer_sizes", [3, 3.0, 1]),
        ("layer_sizes", [3, True, 1]),
        ("layer_sizes", [3]),
        ("activations", "sigmoid"),
        ("activations", ["sigmoid"]),
        ("activations", ["sigmoid", 1]),
        ("format_version", "1"),
        ("format_version", 0),
        ("dtype", "float16"),
        ("dtype", 64),
        ("metadata", []),
        ("arrays", []),
        ("mlpnet_version", 1),
        ("format", "keras"),
    ],
)
def test_wrong_json_types(saved, field, value):
    header, arrays = read_entries(saved)
    header[field] = value
    write_entries(saved, header, arrays)
    assert_model_error(saved, field if field != "format" else "not an mlpnet model file")


@pytest.mark.parametrize("field", ["layer_sizes", "activations", "dtype", "arrays", "format"])
def test_missing_json_field(saved, field):
    header, arrays = read_entries(saved)
    del header[field]
    write_entries(saved, header, arrays)
    assert_model_error(saved)


@pytest.mark.parametrize("text", ['{"format": "mlpnet-model", ', "[1, 2]", "\u00ff not json", '{"a": NaN}'])
def test_broken_metadata_json(saved, text):
    _, arrays = read_entries(saved)
    write_entries(saved, text, arrays)
    assert_model_error(saved, "metadata")


def test_metadata_not_bytes(saved):
    header, arrays = read_entries(saved)
    np.savez(saved, metadata=np.zeros(3), **arrays)
    assert_model_error(saved, "metadata")


def test_object_array_rejected(saved):
    header, arrays = read_entries(saved)
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(saved, "w") as archive:
        metadata = json.dumps({**header, "arrays": {**header["arrays"], "extra": {"shape": [1], "dtype": "float64"}}})
        meta_buffer = io.BytesIO()
        np.save(meta_buffer, np.frombuffer(metadata.encode(), dtype=np.uint8))
        archive.writestr("metadata.npy", meta_buffer.getvalue())
        for name, value in arrays.items():
            array_buffer = io.BytesIO()
            np.save(array_buffer, value)
            archive.writestr(f"{name}.npy", array_buffer.getvalue())
        archive.writestr("extra.npy", buffer.getvalue())
    assert_model_error(saved, "extra", "Python objects")


def _write_with_raw_header(path: pathlib.Path, header: dict, arrays: dict, name: str, shape: tuple, data: bytes) -> None:
    """Write a model whose entry ``name`` has a hand-made .npy header declaring ``shape``."""
    with zipfile.ZipFile(path, "w") as archive:
        meta_buffer = io.BytesIO()
        np.save(meta_buffer, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
        archive.writestr("metadata.npy", meta_buffer.getvalue())
        for key, value in arrays.items():
            buffer = io.BytesIO()
            if key == name:
                np.lib.format.write_array_header_1_0(
                    buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
                )
                buffer.write(data)
            else:
                np.save(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())


def test_huge_shape_rejected_before_allocating(saved):
    header, arrays = read_entries(saved)
    # Both the metadata and the .npy header declare 2**27 doubles (1 GiB), but
    # the entry contains 16 bytes: loading must stop before allocating.
    header["layer_sizes"] = [2**14, 2**13, 1]
    header["arrays"]["weights_0"]["shape"] = [2**13, 2**14]
    header["arrays"]["biases_0"]["shape"] = [2**13]
    header["arrays"]["weights_1"]["shape"] = [1, 2**13]
    _write_with_raw_header(saved, header, arrays, "weights_0", (2**13, 2**14), b"\x00" * 16)
    tracemalloc.start()
    try:
        assert_model_error(saved, "weights_0")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_declared_size_over_limit(saved):
    header, arrays = read_entries(saved)
    header["arrays"]["input_mean"]["shape"] = [MAX_ARRAY_ELEMENTS + 1]
    write_entries(saved, header, arrays)
    assert_model_error(saved, "input_mean", "limit")


def test_npy_header_disagrees_with_metadata(saved):
    header, arrays = read_entries(saved)
    _write_with_raw_header(saved, header, arrays, "weights_0", (3, 4), b"\x00" * 96)
    assert_model_error(saved, "weights_0", "(3, 4)")


def test_array_with_trailing_data(saved):
    header, arrays = read_entries(saved)
    _write_with_raw_header(saved, header, arrays, "weights_0", (3, 3), b"\x00" * 80)
    assert_model_error(saved, "weights_0", "more data")


def test_array_cut_short(saved):
    header, arrays = read_entries(saved)
    _write_with_raw_header(saved, header, arrays, "weights_0", (3, 3), b"\x00" * 40)
    assert_model_error(saved, "weights_0")


def test_case_fixtures_all_rejected():
    # They use another layout (W0, b0, ... and a JSON file beside them), so
    # even the intact ones are not mlpnet model files.
    paths = sorted(FIXTURES.iterdir())
    assert len(paths) == 14
    for path in paths:
        with pytest.raises(ModelFormatError) as info:
            load_network(path)
        message = str(info.value)
        assert str(path) in message
        assert "Traceback" not in message


def test_case_fixture_good_npz_message():
    assert_model_error(FIXTURES / "good.npz", "not an mlpnet model file", "metadata")


def test_intact_model_loads_after_failures(tmp_path, saved):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(saved.read_bytes()[:-1])
    for _ in range(3):
        with pytest.raises(ModelFormatError):
            load_network(broken)
    assert load_network(saved).parameters.tobytes() == make_network().parameters.tobytes()


def test_model_format_error_is_value_error():
    assert issubclass(ModelFormatError, ValueError)


# -- atomic writes --------------------------------------------------------------


def test_atomic_write_keeps_old_file_on_failure(tmp_path, saved):
    before = saved.read_bytes()

    def write_half_then_fail(handle):
        handle.write(before[: len(before) // 2])
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(saved, write_half_then_fail)
    assert saved.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_failed_save_keeps_old_model(tmp_path, saved):
    before = saved.read_bytes()
    net = make_network(seed=5)
    net._weights[0][0, 0] = np.inf
    with pytest.raises(InvalidParameterError):
        save_network(saved, net)
    assert saved.read_bytes() == before


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    atomic_write(path, lambda handle: handle.write(b"new contents"))
    assert path.read_bytes() == b"new contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_check_writable(tmp_path):
    check_writable(tmp_path / "model.npz")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        check_writable(tmp_path / "missing" / "model.npz")
    with pytest.raises(InvalidParameterError, match="is a folder"):
        check_writable(tmp_path)


def test_check_writable_parent_is_a_file(tmp_path):
    parent = tmp_path / "notes.txt"
    parent.write_text("not a folder")
    with pytest.raises(InvalidParameterError, match="notes.txt"):
        check_writable(parent / "model.npz")


def test_saved_file_has_umask_permissions(tmp_path):
    previous = os.umask(0o027)
    try:
        save_network(tmp_path / "model.npz", make_network())
    finally:
        os.umask(previous)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == 0o640
