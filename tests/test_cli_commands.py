"""End-to-end tests of train, predict, evaluate, describe and datasets, run as `python -m mlpnet`.

Metrics printed by the command line are checked against scikit-learn's
metrics computed from the command's own predictions, and predictions against
the library applied by hand to the arrays in the model file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from mlpnet.datasets import dataset_path
from mlpnet.io.model_file import load_model_file

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m mlpnet ARGS`` and return the finished process with text output."""
    environment = {k: v for k, v in os.environ.items() if k != "MLPNET_TRACEBACK"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mlpnet", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr


def printed_metric(output: str, label: str, column: int = 0) -> float:
    """Read one metric from a metrics table: the line starting with LABEL, the given value column."""
    for line in output.splitlines():
        if line.startswith(label + " "):
            return float(line[len(label):].split()[column])
    raise AssertionError(f"no metric line {label!r} in:\n{output}")


def read_predictions(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def read_dataset(name: str) -> tuple[list[str], list[list[str]]]:
    with open(dataset_path(name), newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def apply_model_by_hand(model_path: Path, X: np.ndarray) -> np.ndarray:
    """Standardize X with the stored arrays, run the loaded network, undo the target scaling."""
    model = load_model_file(model_path)
    arrays = model.arrays
    Z = (X - arrays["input_mean"]) / arrays["input_scale"]
    outputs = model.network.predict(Z)
    if "target_mean" in arrays:
        outputs = outputs * arrays["target_scale"] + arrays["target_mean"]
    return outputs


@pytest.fixture(scope="module")
def stackloss_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stackloss")
    result = run_cli("train", "--dataset", "stackloss", "--out", "model.npz", "--epochs", "300", cwd=folder)
    assert_ok(result)
    return folder / "model.npz"


@pytest.fixture(scope="module")
def penguins_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("penguins")
    result = run_cli("train", "--dataset", "penguins", "--out", "model.npz", "--epochs", "60", cwd=folder)
    assert_ok(result)
    return folder / "model.npz"


# -- train, predict, evaluate on each bundled dataset ------------------------------


def test_stackloss_evaluate_matches_sklearn(stackloss_model, tmp_path):
    data = dataset_path("stackloss")
    predicted = run_cli("predict", stackloss_model, data, cwd=tmp_path)
    assert_ok(predicted)
    names, rows = read_predictions(predicted.stdout)
    assert names == ["STACKLOSS"]
    y_pred = np.array([float(row[0]) for row in rows])
    header, data_rows = read_dataset("stackloss")
    y_true = np.array([float(row[header.index("STACKLOSS")]) for row in data_rows])
    assert y_pred.shape == (21,)

    evaluated = run_cli("evaluate", stackloss_model, data, cwd=tmp_path)
    assert_ok(evaluated)
    r2 = printed_metric(evaluated.stdout, "R2")
    assert r2 > 0.85
    # The table prints 6 significant digits.
    assert r2 == pytest.approx(sk_metrics.r2_score(y_true, y_pred), rel=1e-5)
    assert printed_metric(evaluated.stdout, "MSE") == pytest.approx(
        sk_metrics.mean_squared_error(y_true, y_pred), rel=1e-5
    )
    assert printed_metric(evaluated.stdout, "RMSE") == pytest.approx(
        np.sqrt(sk_metrics.mean_squared_error(y_true, y_pred)), rel=1e-5
    )
    assert printed_metric(evaluated.stdout, "MAE") == pytest.approx(
        sk_metrics.mean_absolute_error(y_true, y_pred), rel=1e-5
    )


def test_penguins_accuracy_and_probabilities(penguins_model, tmp_path):
    data = dataset_path("penguins")
    predicted = run_cli("predict", penguins_model, data, "--out", "predictions.csv", cwd=tmp_path)
    assert_ok(predicted)
    assert predicted.stdout == ""
    assert predicted.stderr == "Wrote 342 predictions to predictions.csv.\n"
    names, rows = read_predictions((tmp_path / "predictions.csv").read_text())
    assert names == ["species", "probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]
    probabilities = np.array([[float(v) for v in row[1:]] for row in rows])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    labels = [row[0] for row in rows]
    assert labels == [names[1 + int(j)][len("probability_"):] for j in probabilities.argmax(axis=1)]

    header, data_rows = read_dataset("penguins")
    y_true = [row[header.index("species")] for row in data_rows]
    accuracy = sk_metrics.accuracy_score(y_true, labels)
    assert accuracy > 0.9

    evaluated = run_cli("evaluate", penguins_model, data, cwd=tmp_path)
    assert_ok(evaluated)
    assert printed_metric(evaluated.stdout, "accuracy") == pytest.approx(accuracy, rel=1e-5)
    log_loss = sk_metrics.log_loss(y_true, probabilities, labels=["Adelie", "Chinstrap", "Gentoo"])
    assert printed_metric(evaluated.stdout, "log loss") == pytest.approx(log_loss, rel=1e-5)

    confusion = sk_metrics.confusion_matrix(y_true, labels, labels=["Adelie", "Chinstrap", "Gentoo"])
    for label, row in zip(["Adelie", "Chinstrap", "Gentoo"], confusion):
        expected = f"{label} " + " ".join(str(count) for count in row)
        assert any(" ".join(line.split()) == expected for line in evaluated.stdout.splitlines()), expected


def test_evaluate_names_unknown_label(penguins_model, tmp_path):
    data = tmp_path / "emperor.csv"
    data.write_text(
        "species,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n"
        "Adelie,39.1,18.7,181,3750\n"
        "Emperor,45.0,20.0,230,30000\n"
    )
    result = run_cli("evaluate", penguins_model, data, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "emperor.csv: column 'species', data row 2" in result.stderr
    assert "unknown class label 'Emperor'" in result.stderr


def test_breast_cancer_binary_classifier(tmp_path):
    trained = run_cli("train", "--dataset", "breast_cancer", "--out", "model.npz", "--epochs", "15", cwd=tmp_path)
    assert_ok(trained)
    assert printed_metric(trained.stdout, "accuracy", column=1) > 0.9

    data = dataset_path("breast_cancer")
    predicted = run_cli("predict", "model.npz", data, cwd=tmp_path)
    assert_ok(predicted)
    names, rows = read_predictions(predicted.stdout)
    assert names == ["diagnosis", "probability_benign", "probability_malignant"]
    assert len(rows) == 569

    header, data_rows = read_dataset("breast_cancer")
    y_true = [row[header.index("diagnosis")] for row in data_rows]
    accuracy = sk_metrics.accuracy_score(y_true, [row[0] for row in rows])
    evaluated = run_cli("evaluate", "model.npz", data, cwd=tmp_path)
    assert_ok(evaluated)
    assert printed_metric(evaluated.stdout, "accuracy") == pytest.approx(accuracy, rel=1e-5)
    assert accuracy > 0.9


# -- predictions equal the library's ------------------------------------------------


def test_regression_predictions_equal_library(stackloss_model, tmp_path):
    header, data_rows = read_dataset("stackloss")
    features = ["AIRFLOW", "WATERTEMP", "ACIDCONC"]
    X = np.array([[float(row[header.index(name)]) for name in features] for row in data_rows])

    result = run_cli("predict", stackloss_model, dataset_path("stackloss"), cwd=tmp_path)
    assert_ok(result)
    _, rows = read_predictions(result.stdout)
    cli = np.array([float(row[0]) for row in rows])

    np.testing.assert_allclose(cli, apply_model_by_hand(stackloss_model, X)[:, 0], rtol=1e-15, atol=0)


def test_classifier_probabilities_equal_library(penguins_model, tmp_path):
    header, data_rows = read_dataset("penguins")
    features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    X = np.array([[float(row[header.index(name)]) for name in features] for row in data_rows])

    result = run_cli("predict", penguins_model, dataset_path("penguins"), cwd=tmp_path)
    assert_ok(result)
    _, rows = read_predictions(result.stdout)
    cli = np.array([[float(v) for v in row[1:]] for row in rows])

    np.testing.assert_allclose(cli, apply_model_by_hand(penguins_model, X), rtol=1e-15, atol=0)


def test_predict_ignores_extra_columns_and_order(stackloss_model, tmp_path):
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("note,ACIDCONC,AIRFLOW,WATERTEMP\nfirst,89,80,27\nsecond,86,62,22\n")
    result = run_cli("predict", stackloss_model, shuffled, cwd=tmp_path)
    assert_ok(result)
    _, rows = read_predictions(result.stdout)
    cli = np.array([float(row[0]) for row in rows])

    X = np.array([[80.0, 27.0, 89.0], [62.0, 22.0, 86.0]])
    np.testing.assert_allclose(cli, apply_model_by_hand(stackloss_model, X)[:, 0], rtol=1e-15, atol=0)


def test_predict_names_missing_feature_column(stackloss_model, tmp_path):
    partial = tmp_path / "partial.csv"
    partial.write_text("AIRFLOW,WATERTEMP\n80,27\n")
    result = run_cli("predict", stackloss_model, partial, cwd=tmp_path)
    assert result.returncode == 2
    assert "ACIDCONC" in result.stderr
    assert "Traceback" not in result.stderr


# -- model file contents ---------------------------------------------------------------


def npz_contents(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    return arrays, metadata


def test_same_seed_gives_identical_model_file(tmp_path):
    options = ["--dataset", "stackloss", "--epochs", "20", "--seed", "5", "--quiet"]
    for name in ("a.npz", "b.npz"):
        assert_ok(run_cli("train", *options, "--out", name, cwd=tmp_path))
    assert_ok(run_cli("train", *options[:-3], "--seed", "6", "--out", "c.npz", cwd=tmp_path))

    arrays_a, metadata_a = npz_contents(tmp_path / "a.npz")
    arrays_b, metadata_b = npz_contents(tmp_path / "b.npz")
    arrays_c, _ = npz_contents(tmp_path / "c.npz")

    assert sorted(arrays_a) == sorted(arrays_b)
    for name in arrays_a:
        assert arrays_a[name].dtype == arrays_b[name].dtype
        assert arrays_a[name].tobytes() == arrays_b[name].tobytes(), name
    # The metadata contains no timestamp, so it is equal as a whole.
    assert metadata_a == metadata_b
    # Zip entries carry a fixed date, so the files are equal byte for byte.
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert not np.array_equal(arrays_a["weights_0"], arrays_c["weights_0"])


def test_model_file_stores_scaling_and_columns(stackloss_model):
    arrays, metadata = npz_contents(stackloss_model)
    for name in ("input_mean", "input_scale", "target_mean", "target_scale"):
        assert name in arrays
    assert arrays["input_mean"].shape == (3,)
    assert arrays["target_scale"].shape == (1,)
    free = metadata["metadata"]
    assert free["feature_names"] == ["AIRFLOW", "WATERTEMP", "ACIDCONC"]
    assert free["target_name"] == "STACKLOSS"
    assert free["task"] == "regression"
    assert free["training"]["epochs_run"] == 300


def test_no_standardize_stores_no_scaling(tmp_path):
    result = run_cli(
        "train", "--dataset", "stackloss", "--no-standardize", "--epochs", "3", "--learning-rate", "0.001",
        "--out", "model.npz", cwd=tmp_path,
    )
    assert_ok(result)
    arrays, _ = npz_contents(tmp_path / "model.npz")
    assert not any(name.startswith(("input_", "target_")) for name in arrays)


def test_scaling_comes_from_training_rows_only(tmp_path):
    data = tmp_path / "data.csv"
    values = np.arange(10, dtype=float)
    data.write_text("x,y\n" + "".join(f"{v},{2 * v}\n" for v in values))
    result = run_cli("train", data, "--validation-fraction", "0.3", "--epochs", "2", "--out", "m.npz", cwd=tmp_path)
    assert_ok(result)
    arrays, metadata = npz_contents(tmp_path / "m.npz")
    assert metadata["metadata"]["training"]["rows"] == {"training": 7, "validation": 3, "dropped": 0}
    # Seed 0 holds out 3 rows; the stored mean is that of the other 7, not of all 10.
    held_out = np.sort(np.random.default_rng(0).permutation(10)[:3])
    training = np.setdiff1d(values, held_out)
    assert arrays["input_mean"][0] == pytest.approx(training.mean(), rel=1e-15)
    assert arrays["input_scale"][0] == pytest.approx(training.std(), rel=1e-15)
    assert arrays["target_mean"][0] == pytest.approx(2 * training.mean(), rel=1e-15)


# -- describe and datasets ------------------------------------------------------------


def test_describe_shows_layers_columns_and_training(penguins_model, tmp_path):
    result = run_cli("describe", penguins_model, cwd=tmp_path)
    assert_ok(result)
    text = result.stdout
    # 4-16-3: 16 * (4 + 1) + 3 * (16 + 1) = 80 + 51 = 131 parameters.
    assert "4-16-3, 131 parameters" in text
    assert "tanh" in text
    assert "softmax" in text
    assert "bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g" in text
    assert "Classes (3): Adelie, Chinstrap, Gentoo" in text
    assert "the bundled dataset penguins" in text
    assert "epochs run: 60" in text
    assert "optimizer: adam" in text
    assert re.search(r"^\s*accuracy\s+\S+\s+\S+", text, re.MULTILINE)


def test_datasets_lists_every_bundled_dataset(tmp_path):
    result = run_cli("datasets", cwd=tmp_path)
    assert_ok(result)
    for name, rows, target in (("penguins", 342, "species"), ("stackloss", 21, "STACKLOSS"),
                               ("breast_cancer", 569, "diagnosis")):
        assert re.search(rf"^{name}$", result.stdout, re.MULTILINE)
        assert f"rows: {rows}," in result.stdout
        assert f"default target: {target}" in result.stdout
    assert "licence: CC0" in result.stdout


# -- progress and plots ---------------------------------------------------------------


def test_verbose_prints_one_line_per_epoch(tmp_path):
    result = run_cli("train", "--dataset", "stackloss", "--epochs", "7", "--verbose", "--out", "m.npz", cwd=tmp_path)
    assert_ok(result)
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 7
    assert epoch_lines[0].startswith("epoch 1/7  loss ")
    assert "val_loss" in epoch_lines[0]


def test_quiet_prints_nothing(tmp_path):
    result = run_cli("train", "--dataset", "stackloss", "--epochs", "3", "--quiet", "--out", "m.npz", cwd=tmp_path)
    assert_ok(result)
    assert result.stdout == ""
    assert result.stderr == ""
    assert (tmp_path / "m.npz").is_file()


def test_early_stopping_ends_before_last_epoch(tmp_path):
    result = run_cli(
        "train", "--dataset", "stackloss", "--epochs", "3000", "--patience", "5", "--out", "m.npz",
        cwd=tmp_path,
    )
    assert_ok(result)
    assert "Stopped early" in result.stdout
    _, metadata = npz_contents(tmp_path / "m.npz")
    assert metadata["metadata"]["training"]["epochs_run"] < 3000


def test_plot_writes_png(tmp_path):
    import matplotlib.image

    result = run_cli(
        "train", "--dataset", "stackloss", "--epochs", "5", "--out", "m.npz", "--plot", "loss.png", cwd=tmp_path
    )
    assert_ok(result)
    png = tmp_path / "loss.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(png)
    assert image.ndim == 3
    assert image.shape[0] > 0
    assert image.shape[1] > 0
    # Only the plot and the model: no temporary files are left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "m.npz"]


def test_model_file_is_a_plain_npz(stackloss_model):
    with zipfile.ZipFile(stackloss_model) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())


def test_huge_target_trains_and_saves(tmp_path):
    # Targets near 1e200: the mean squared error on the original scale
    # overflows, which must neither warn nor lose the trained model.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] - 0.5 * X[:, 1]) * 1e200
    lines = ["a,b,y"] + [f"{float(X[i, 0])!r},{float(X[i, 1])!r},{float(y[i])!r}" for i in range(40)]
    (tmp_path / "huge.csv").write_text("\n".join(lines) + "\n")

    result = run_cli("train", "huge.csv", "--epochs", "3", "--quiet", "--out", "model.npz", cwd=tmp_path)

    assert_ok(result)
    assert "Warning" not in result.stderr
    metadata = load_model_file(str(tmp_path / "model.npz")).metadata
    assert metadata["metrics"]["training"]["mse"] is None
    assert 1e199 < metadata["metrics"]["training"]["rmse"] < 1e201
    described = run_cli("describe", "model.npz", cwd=tmp_path)
    assert_ok(described)
    assert "non-finite" in described.stdout
