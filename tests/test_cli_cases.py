"""The failure cases about CSV and model files, run through `python -m mlpnet`.

Bad CSV cells, empty and tiny files, non-finite literals and damaged model
files must each end with exit code 2 and one message that names the file.
For a bad cell the message also names the line, column and cell text.  No
traceback is printed and no model or prediction file is written.  Harmless variants of a file (CRLF, BOM,
padded cells, trailing blank lines) must give the same model as the clean
file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The networks of the CLI cases: one hidden layer of 3 sigmoid units, plain
# gradient descent with learning rate 0.1, the last column as target.
CASE_14_OPTIONS = ["--hidden", "3", "--activation", "sigmoid", "--optimizer", "gd",
                   "--learning-rate", "0.1", "--epochs", "50", "--seed", "7", "--quiet"]
CASE_15_OPTIONS = ["--hidden", "3", "--activation", "sigmoid", "--optimizer", "gd",
                   "--learning-rate", "0.1", "--epochs", "30", "--seed", "3", "--quiet"]


@pytest.fixture(scope="module")
def cases(cases_dir: Path) -> Path:
    """The failure-case folder; the conftest fixture fails (never skips) when it is missing."""
    return cases_dir


def load_case(cases: Path, name: str) -> dict:
    return json.loads((cases / name / "case.json").read_text())


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "MLPNET_TRACEBACK"}
    return subprocess.run(
        [sys.executable, "-m", "mlpnet", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=environment,
    )


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\nstderr:\n{result.stderr}"


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit 2, no traceback, one error line (plus an optional help line) containing every fragment."""
    assert result.returncode == 2, f"exit {result.returncode}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("mlpnet: error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("help: ")), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def predictions(result: subprocess.CompletedProcess) -> np.ndarray:
    rows = list(csv.reader(io.StringIO(result.stdout)))
    return np.array([[float(v) for v in row] for row in rows[1:]])


def headerless_copy(source: Path, folder: Path) -> Path:
    """Write ``source`` without its first line, for a model trained on a file without a header."""
    lines = source.read_text().splitlines(keepends=True)
    target = folder / ("no_header_" + source.name)
    target.write_text("".join(lines[1:]))
    return target


# -- case 14: one bad cell in a file with a header ------------------------------------


def case_14_bad_files(cases: Path) -> list[tuple[str, dict]]:
    bad = load_case(cases, "14-cli-csv-bad-cells")["input"]["bad (line numbers 1-based, header = line 1)"]
    return sorted(bad.items())


@pytest.mark.parametrize("index", range(5))
def test_case_14_bad_cell_exits_2(cases, tmp_path, index):
    name, expected = case_14_bad_files(cases)[index]
    result = run_cli("train", cases / "14-cli-csv-bad-cells" / name, "--out", "model.npz",
                     *CASE_14_OPTIONS, cwd=tmp_path)

    column = expected["column"].split(" (")[0]
    if name == "bad_ragged_row.csv":
        fragments = ["3 fields", "4"]
    else:
        cell = expected["cell"].split(" (")[0].strip('"')
        fragments = [repr(column), repr(cell)]
    assert_user_error(result, name, f"line {expected['line']}", *fragments)
    assert not (tmp_path / "model.npz").exists()


def test_case_14_text_column_left_out_trains(cases, tmp_path):
    result = run_cli("train", cases / "14-cli-csv-bad-cells" / "bad_text_column.csv", "--out", "model.npz",
                     "--features", "speed,weight,power", *CASE_14_OPTIONS, cwd=tmp_path)
    assert_ok(result)
    assert (tmp_path / "model.npz").is_file()


def test_case_14_header_is_optional(cases, tmp_path):
    folder = cases / "14-cli-csv-bad-cells"
    assert_ok(run_cli("train", folder / "good_with_header.csv", "--out", "with.npz", *CASE_14_OPTIONS, cwd=tmp_path))
    assert_ok(run_cli("train", folder / "good_no_header.csv", "--no-header", "--out", "without.npz",
                      *CASE_14_OPTIONS, cwd=tmp_path))

    with_header = run_cli("predict", "with.npz", folder / "predict.csv", cwd=tmp_path)
    # The second model's columns are named by position, and it reads files without a header.
    without_header = run_cli("predict", "without.npz", headerless_copy(folder / "predict.csv", tmp_path), cwd=tmp_path)
    assert_ok(with_header)
    assert_ok(without_header)
    expected = predictions(with_header)
    assert expected.shape == (2, 1)
    np.testing.assert_allclose(predictions(without_header), expected, rtol=0, atol=1e-12)


# -- case 08: non-finite literals and empty cells ----------------------------------------


def case_08_files(cases: Path) -> list[tuple[str, dict]]:
    files = load_case(cases, "08-nan-inf-in-training-data")["input"]
    key = next(k for k in files if k.startswith("csv_files"))
    return sorted(files[key].items())


@pytest.mark.parametrize("index", range(5))
def test_case_08_non_finite_cell_exits_2(cases, tmp_path, index):
    name, expected = case_08_files(cases)[index]
    result = run_cli("train", cases / "08-nan-inf-in-training-data" / name, "--out", "model.npz",
                     "--epochs", "10", "--seed", "0", "--quiet", cwd=tmp_path)
    cell = {"nan": "'nan'", "inf": "'inf'", "empty field": "''"}.get(expected["problem"])
    if cell is None:
        cell = "'1e400'" if expected["problem"].startswith("1e400") else "'NaN'"
    assert_user_error(result, name, f"line {expected['line']}", repr(expected["column"]), cell)
    assert not (tmp_path / "model.npz").exists()


def test_case_08_drop_missing_drops_the_row(cases, tmp_path):
    result = run_cli("train", cases / "08-nan-inf-in-training-data" / "empty_cell_line2_x2.csv",
                     "--drop-missing", "--epochs", "5", "--out", "model.npz", cwd=tmp_path)
    assert_ok(result)
    assert "Dropped 1 rows with an empty cell" in result.stdout
    assert "on 4 rows" in result.stdout


# -- case 15: empty and tiny files, harmless variants --------------------------------------


@pytest.mark.parametrize("name", ["empty.csv", "header_only.csv", "blank_lines_only.csv", "single_column.csv"])
def test_case_15_unusable_file_exits_2(cases, tmp_path, name):
    expected = load_case(cases, "15-cli-empty-and-tiny-csv")["input"][name]
    assert expected["outcome"] == "error"
    result = run_cli("train", cases / "15-cli-empty-and-tiny-csv" / name, "--out", "model.npz",
                     *CASE_15_OPTIONS, cwd=tmp_path)
    assert_user_error(result, name, expected["what"].split(" (")[0])
    assert not (tmp_path / "model.npz").exists()


@pytest.fixture(scope="module")
def clean_predictions(cases, tmp_path_factory) -> np.ndarray:
    folder = tmp_path_factory.mktemp("clean")
    case = cases / "15-cli-empty-and-tiny-csv"
    assert_ok(run_cli("train", case / "clean.csv", "--out", "clean.npz", *CASE_15_OPTIONS, cwd=folder))
    result = run_cli("predict", "clean.npz", case / "predict.csv", cwd=folder)
    assert_ok(result)
    return predictions(result)


@pytest.mark.parametrize(
    "name", ["crlf.csv", "bom.csv", "no_trailing_newline.csv", "trailing_blank_lines.csv", "spaces_around_cells.csv"]
)
def test_case_15_variant_predicts_like_clean(cases, tmp_path, clean_predictions, name):
    case = cases / "15-cli-empty-and-tiny-csv"
    assert load_case(cases, "15-cli-empty-and-tiny-csv")["input"][name]["outcome"] == "same_as_clean"
    assert_ok(run_cli("train", case / name, "--out", "model.npz", *CASE_15_OPTIONS, cwd=tmp_path))
    result = run_cli("predict", "model.npz", case / "predict.csv", cwd=tmp_path)
    assert_ok(result)
    assert clean_predictions.shape == (2, 1)
    np.testing.assert_allclose(predictions(result), clean_predictions, rtol=0, atol=1e-12)


def test_case_15_bom_without_header_predicts_like_clean(cases, tmp_path, clean_predictions):
    case = cases / "15-cli-empty-and-tiny-csv"
    assert_ok(run_cli("train", case / "bom_no_header.csv", "--no-header", "--out", "model.npz",
                      *CASE_15_OPTIONS, cwd=tmp_path))
    described = run_cli("describe", "model.npz", cwd=tmp_path)
    assert "Input columns (3): 0, 1, 2" in described.stdout

    result = run_cli("predict", "model.npz", headerless_copy(case / "predict.csv", tmp_path), cwd=tmp_path)
    assert_ok(result)
    np.testing.assert_allclose(predictions(result), clean_predictions, rtol=0, atol=1e-12)


def test_case_15_single_row_trains_and_predicts(cases, tmp_path):
    case = cases / "15-cli-empty-and-tiny-csv"
    trained = run_cli("train", case / "single_row.csv", "--out", "model.npz", *CASE_15_OPTIONS, cwd=tmp_path)
    assert_ok(trained)
    assert trained.stderr == ""

    result = run_cli("predict", "model.npz", case / "predict.csv", cwd=tmp_path)
    assert_ok(result)
    assert result.stderr == ""
    values = predictions(result)
    assert values.shape == (2, 1)
    assert np.all(np.isfinite(values))


# -- case 11: damaged model files -------------------------------------------------------


def npz_contents(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    return arrays, header


def rewrite(path: Path, change) -> None:
    """Rewrite a model file with numpy after ``change(arrays, header)`` edits its contents."""
    arrays, header = npz_contents(path)
    change(arrays, header)
    arrays["metadata"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def truncate_last_byte(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-1])


def make_empty(path: Path) -> None:
    path.write_bytes(b"")


def make_text(path: Path) -> None:
    path.write_text("layer_sizes: 3, 3, 1\nthis is not a model file\n")


def flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    start = len(data) // 3
    for i in range(start, start + 8):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def set_nan_weight(arrays, header) -> None:
    arrays["weights_0"] = arrays["weights_0"].copy()
    arrays["weights_0"][0, 0] = np.nan


def set_future_version(arrays, header) -> None:
    header["format_version"] = 999


def set_unknown_activation(arrays, header) -> None:
    header["activations"][0] = "swish"


def remove_weights(arrays, header) -> None:
    del arrays["weights_1"]


def misshape_weights(arrays, header) -> None:
    arrays["weights_0"] = arrays["weights_0"].T.copy()[:, :2]


def remove_input_scale(arrays, header) -> None:
    del arrays["input_scale"]
    del header["arrays"]["input_scale"]


def break_feature_names(arrays, header) -> None:
    header["metadata"]["feature_names"] = "x1,x2,x3"


DAMAGE = {
    "empty": make_empty,
    "truncated_half": truncate_half,
    "truncated_last_byte": truncate_last_byte,
    "not_a_zip": make_text,
    "flipped_bytes": flip_bytes,
    "nan_weight": lambda path: rewrite(path, set_nan_weight),
    "future_version": lambda path: rewrite(path, set_future_version),
    "unknown_activation": lambda path: rewrite(path, set_unknown_activation),
    "missing_array": lambda path: rewrite(path, remove_weights),
    "misshapen_array": lambda path: rewrite(path, misshape_weights),
    "missing_scaling_array": lambda path: rewrite(path, remove_input_scale),
    "feature_names_not_a_list": lambda path: rewrite(path, break_feature_names),
    "missing_file": lambda path: path.unlink(),
}


@pytest.fixture(scope="module")
def case_11_model(cases, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("case11")
    result = run_cli("train", cases / "11-corrupt-model-file" / "train.csv", "--out", "model.npz",
                     "--hidden", "3", "--activation", "sigmoid", "--optimizer", "gd", "--learning-rate", "0.1",
                     "--epochs", "20", "--seed", "0", "--quiet", cwd=folder)
    assert_ok(result)
    return folder / "model.npz"


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_case_11_damaged_model_exits_2(cases, tmp_path, case_11_model, damage):
    damaged = tmp_path / f"{damage}.npz"
    damaged.write_bytes(case_11_model.read_bytes())
    DAMAGE[damage](damaged)
    data = cases / "11-corrupt-model-file" / "train.csv"

    predicted = run_cli("predict", damaged, data, "--out", "predictions.csv", cwd=tmp_path)
    assert_user_error(predicted, damaged.name)
    assert not (tmp_path / "predictions.csv").exists()
    assert_user_error(run_cli("describe", damaged, cwd=tmp_path), damaged.name)
    assert_user_error(run_cli("evaluate", damaged, data, cwd=tmp_path), damaged.name)


def test_case_11_fixtures_exit_2(cases, tmp_path):
    fixtures = sorted((cases / "11-corrupt-model-file" / "fixtures").iterdir())
    assert len(fixtures) >= 10
    for fixture in fixtures:
        result = run_cli("describe", fixture, cwd=tmp_path)
        assert_user_error(result, fixture.name)


def test_case_11_intact_model_still_predicts(cases, tmp_path, case_11_model):
    result = run_cli("predict", case_11_model, cases / "11-corrupt-model-file" / "train.csv", cwd=tmp_path)
    assert_ok(result)
    assert np.all(np.isfinite(predictions(result)))
