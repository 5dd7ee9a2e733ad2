"""Expected items of the failure cases that other test files do not assert.

* Non-finite training data (case 08): every library entry point rejects
  NaN and infinity before any arithmetic, naming the array and the 0-based
  position, and a network or estimator that was already fitted keeps its
  weights after the failed call.
* Damaged model files (case 11): the nine tamper procedures T1-T9, applied
  to a model that mlpnet saved itself, each through the library and the
  command line.
* Saturated sigmoids (case 02): the hidden activations on the prediction
  inputs after training.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlpnet
from mlpnet.errors import InvalidDataError, ModelFormatError
from mlpnet.io.model_file import load_model_file

NAN_CASE = "08-nan-inf-in-training-data"
CORRUPT_CASE = "11-corrupt-model-file"
SIGMOID_CASE = "02-sigmoid-large-preactivation"


# -- case 08: NaN and infinity in training data ------------------------------------------


@pytest.fixture(scope="module")
def nan_case(cases_dir: Path) -> tuple[dict, Path]:
    folder = cases_dir / NAN_CASE
    return json.loads((folder / "case.json").read_text()), folder


# The four bad arrays of the case, each with its pair, the array name in the
# message and the expected words (0-based position, kind of value).
BAD_ARRAYS = {
    "X_nan_r2_c1.npy": ("y_clean.npy", "X", "NaN at row 2, column 1"),
    "X_inf_r3_c0.npy": ("y_clean.npy", "X", "infinity at row 3, column 0"),
    "X_neginf_r0_c2.npy": ("y_clean.npy", "X", "-infinity at row 0, column 2"),
    "y_nan_r1.npy": ("X_clean.npy", "Y", "NaN at row 1, column 0"),
}


def fitted_network(folder: Path) -> mlpnet.Network:
    net = mlpnet.Network([3, 3, 1], activation="sigmoid", seed=0)
    net.fit(np.load(folder / "X_clean.npy"), np.load(folder / "y_clean.npy"), learning_rate=0.1, epochs=10)
    return net


def test_case_08_lists_the_arrays_tested_here(nan_case):
    case, _ = nan_case
    assert sorted(case["input"]["arrays"]) == sorted(BAD_ARRAYS)
    assert case["network"]["layer_sizes"] == [3, 3, 1]


@pytest.mark.parametrize("name", sorted(BAD_ARRAYS))
def test_case_08_fit_rejects_before_any_update(nan_case, name):
    _, folder = nan_case
    partner, array_name, words = BAD_ARRAYS[name]
    bad, good = np.load(folder / name), np.load(folder / partner)
    X, y = (bad, good) if array_name == "X" else (good, bad)
    net = fitted_network(folder)
    parameters, state = net.parameters.copy(), dict(net.training_state)
    optimizer_state = net.training_state["optimizer"].state_dict()
    generator_state = net.rng.bit_generator.state

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidDataError) as info:
            net.fit(X, y, learning_rate=0.1, epochs=10)

    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith(f"{array_name} contains {words} (0-based)")
    # The fitted network keeps its weights, training state and generator.
    assert net.parameters.tobytes() == parameters.tobytes()
    assert net.training_state == state
    assert net.training_state["optimizer"].state_dict() == optimizer_state
    assert net.rng.bit_generator.state == generator_state


def test_case_08_predict_rejects_nan(nan_case):
    _, folder = nan_case
    net = fitted_network(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidDataError, match=r"X contains NaN at row 2, column 1 \(0-based\)"):
            net.predict(np.load(folder / "X_nan_r2_c1.npy"))


@pytest.mark.parametrize(
    "entry_point",
    ["loss", "loss_and_gradients", "gradient_check", "validation_X", "validation_Y", "sample_weight",
     "float32_overflow"],
)
def test_case_08_every_entry_point_rejects_non_finite(nan_case, entry_point):
    _, folder = nan_case
    X, y = np.load(folder / "X_clean.npy"), np.load(folder / "y_clean.npy")
    X_nan = np.load(folder / "X_nan_r2_c1.npy")
    net = fitted_network(folder)
    before = net.parameters.copy()

    calls = {
        "loss": (lambda: net.loss(X_nan, y), "X contains NaN at row 2, column 1"),
        "loss_and_gradients": (lambda: net.loss_and_gradients(X, np.load(folder / "y_nan_r1.npy")),
                               "Y contains NaN at row 1, column 0"),
        "gradient_check": (lambda: mlpnet.gradient_check(net, X_nan, y), "X contains NaN at row 2, column 1"),
        "validation_X": (lambda: net.fit(X, y, epochs=2, validation_data=(X_nan, y)),
                         "X_val contains NaN at row 2, column 1"),
        "validation_Y": (lambda: net.fit(X, y, epochs=2, validation_data=(X, np.load(folder / "y_nan_r1.npy"))),
                         "Y_val contains NaN at row 1, column 0"),
        "sample_weight": (lambda: net.fit(X, y, epochs=2, sample_weight=[1.0, np.inf, 1.0, 1.0, 1.0]),
                          "sample_weight contains infinity at row 1"),
        "float32_overflow": (lambda: mlpnet.Network([3, 3, 1], dtype="float32").fit(X * [1.0, 1e39, 1.0], y),
                             "which overflows float32 at row 0, column 1"),
    }
    call, words = calls[entry_point]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidDataError) as info:
            call()
    assert words in str(info.value)
    assert net.parameters.tobytes() == before.tobytes()


def test_case_08_fitted_estimator_keeps_weights(nan_case):
    pytest.importorskip("sklearn")
    _, folder = nan_case
    X, y = np.load(folder / "X_clean.npy"), np.load(folder / "y_clean.npy")
    estimator = mlpnet.NetworkRegressor(hidden_layer_sizes=(3,), epochs=5, tol=0, random_state=0)
    estimator.fit(X, y)
    before = estimator.network_.parameters.copy()

    for X_bad, y_bad in ((np.load(folder / "X_nan_r2_c1.npy"), y), (X, np.load(folder / "y_nan_r1.npy"))):
        with pytest.raises(ValueError, match="NaN"):
            estimator.partial_fit(X_bad, y_bad)
        with pytest.raises(ValueError, match="NaN"):
            estimator.fit(X_bad, y_bad)
        assert estimator.network_.parameters.tobytes() == before.tobytes()


def test_case_08_clean_data_trains_silently(nan_case, caplog):
    _, folder = nan_case
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = fitted_network(folder)
    assert np.isfinite(net.parameters).all()
    assert [record for record in caplog.records if record.levelname != "DEBUG"] == []


# -- case 11: the tamper procedures T1-T9 ---------------------------------------------------


def read_entries(path: Path) -> tuple[dict, dict[str, np.ndarray], bytes]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    raw = arrays.pop("metadata").tobytes()
    return json.loads(raw.decode("utf-8")), arrays, raw


def write_entries(path: Path, arrays: dict[str, np.ndarray], metadata: bytes | None) -> None:
    entries = dict(arrays)
    if metadata is not None:
        entries["metadata"] = np.frombuffer(metadata, dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **entries)


def truncate_to_half(path: Path, other: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def truncate_last_byte(path: Path, other: Path) -> None:
    path.write_bytes(path.read_bytes()[:-1])


def make_empty(path: Path, other: Path) -> None:
    path.write_bytes(b"")


def invert_8_bytes(path: Path, other: Path) -> None:
    data = bytearray(path.read_bytes())
    start = len(data) // 3
    data[start:start + 8] = bytes(b ^ 0xFF for b in data[start:start + 8])
    path.write_bytes(bytes(data))


def truncate_metadata_json(path: Path, other: Path) -> None:
    # mlpnet keeps the JSON inside the .npz, as its "metadata" entry.
    _, arrays, raw = read_entries(path)
    write_entries(path, arrays, raw[: len(raw) // 2])


def delete_metadata_json(path: Path, other: Path) -> None:
    _, arrays, _ = read_entries(path)
    write_entries(path, arrays, None)


def delete_arrays_keep_metadata(path: Path, other: Path) -> None:
    _, _, raw = read_entries(path)
    write_entries(path, {}, raw)


def arrays_of_other_network(path: Path, other: Path) -> None:
    # The weights and biases of the 3-4-1 network; the scaling arrays stay.
    _, arrays, raw = read_entries(path)
    _, other_arrays, _ = read_entries(other)
    arrays.update(other_arrays)
    write_entries(path, arrays, raw)


def set_nan_weight(path: Path, other: Path) -> None:
    _, arrays, raw = read_entries(path)
    arrays["weights_0"] = arrays["weights_0"].copy()
    arrays["weights_0"][1, 2] = np.nan
    write_entries(path, arrays, raw)


def set_future_version(path: Path, other: Path) -> None:
    header, arrays, _ = read_entries(path)
    header["format_version"] = 999
    write_entries(path, arrays, json.dumps(header).encode("utf-8"))


# T-number -> variants (name, tamper, words the message must contain).
TAMPERING = {
    "T1": [("truncated_half", truncate_to_half, "truncated")],
    "T2": [("truncated_last_byte", truncate_last_byte, "truncated")],
    "T3": [("empty", make_empty, "empty")],
    "T4": [("inverted_bytes", invert_8_bytes, "damaged")],
    "T5": [("truncated_json", truncate_metadata_json, "not valid UTF-8 JSON")],
    "T6": [("json_deleted", delete_metadata_json, "not an mlpnet model file"),
           ("arrays_deleted", delete_arrays_keep_metadata, "missing array")],
    "T7": [("other_arrays", arrays_of_other_network, "shape (4, 3), but the metadata declares (3, 3) for layer sizes [3, 3, 1]")],
    "T8": [("nan_weight", set_nan_weight, "non-finite value (NaN or infinity) at index (1, 2)")],
    "T9": [("future_version", set_future_version, "format version 999")],
}
VARIANTS = [(number, *variant) for number, variants in TAMPERING.items() for variant in variants]


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "MLPNET_TRACEBACK"}
    return subprocess.run([sys.executable, "-m", "mlpnet", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=environment)


@pytest.fixture(scope="module")
def saved_models(cases_dir: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The case network trained by `mlpnet train` on the case data, and a 3-4-1 network beside it."""
    folder = tmp_path_factory.mktemp("case11")
    case = json.loads((cases_dir / CORRUPT_CASE / "case.json").read_text())
    spec = case["network"]
    result = run_cli("train", cases_dir / CORRUPT_CASE / "train.csv", "--out", "model.npz", "--hidden", "3",
                     "--activation", spec["activations"][0], "--optimizer", spec["optimizer"]["name"],
                     "--learning-rate", spec["optimizer"]["lr"], "--epochs", spec["epochs"],
                     "--seed", spec["seed"], "--quiet", cwd=folder)
    assert result.returncode == 0, result.stderr
    mlpnet.Network([3, 4, 1], activation="sigmoid", seed=1).save(folder / "other.npz")
    return folder / "model.npz", folder / "other.npz"


def test_case_11_lists_nine_tamper_procedures(cases_dir):
    case = json.loads((cases_dir / CORRUPT_CASE / "case.json").read_text())
    procedures = next(v for k, v in case["input"].items() if k.startswith("tamper_procedures"))
    assert [p.split(" ")[0] for p in procedures] == list(TAMPERING)


@pytest.mark.parametrize(("number", "name", "tamper", "words"), VARIANTS, ids=[f"{v[0]}-{v[1]}" for v in VARIANTS])
def test_case_11_tampered_model_rejected(cases_dir, tmp_path, saved_models, number, name, tamper, words):
    model, other = saved_models
    damaged = tmp_path / f"{name}.npz"
    damaged.write_bytes(model.read_bytes())
    tamper(damaged, other)

    with pytest.raises(ModelFormatError) as info:
        mlpnet.load(damaged)
    message = str(info.value)
    assert message.startswith(f"cannot load model file {str(damaged)!r}: ")
    assert words in message

    data = cases_dir / CORRUPT_CASE / "train.csv"
    result = run_cli("predict", damaged, data, "--out", "predictions.csv", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"mlpnet: error: {message}"
    assert len(lines) <= 2
    assert not (tmp_path / "predictions.csv").exists()


def test_case_11_intact_model_still_predicts(cases_dir, tmp_path, saved_models):
    model, other = saved_models
    before = load_model_file(model).network.parameters.copy()
    for number, name, tamper, _ in VARIANTS:
        damaged = tmp_path / f"{name}.npz"
        damaged.write_bytes(model.read_bytes())
        tamper(damaged, other)
        with pytest.raises(ModelFormatError):
            mlpnet.load(damaged)

    result = run_cli("predict", model, cases_dir / CORRUPT_CASE / "train.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    values = np.array([float(line) for line in result.stdout.splitlines()[1:]])
    assert values.size > 0
    assert np.isfinite(values).all()
    assert load_model_file(model).network.parameters.tobytes() == before.tobytes()


# -- case 02: hidden activations after training ---------------------------------------------


def test_case_02_hidden_activations_after_training(cases_dir):
    case = json.loads((cases_dir / SIGMOID_CASE / "case.json").read_text())
    spec, expected = case["network"], case["expected"]
    initial = spec["initial_weights"]
    net = mlpnet.Network(spec["layer_sizes"], activation=spec["activations"][0],
                         output_activation=spec["activations"][1],
                         weights=[np.array(W).T for W in initial["W"]], biases=[np.array(b) for b in initial["b"]])
    X, y = np.array(case["input"]["X"]), np.array(case["input"]["y"])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            net.fit(X, y, optimizer="gd", learning_rate=spec["optimizer"]["lr"], epochs=spec["epochs"], shuffle=False)
            trace = net.forward_trace(np.array(case["input"]["X_predict"]))

    tolerance = expected["tolerance"]
    np.testing.assert_allclose(trace.A[1], expected["hidden_activations_on_X_predict_after_10_steps"],
                               rtol=tolerance["rtol"], atol=tolerance["atol"])
    np.testing.assert_allclose(trace.A[2][:, 0], expected["predictions_on_X_predict_after_10_steps"],
                               rtol=tolerance["rtol"], atol=tolerance["atol"])
