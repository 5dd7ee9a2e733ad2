"""Reading CSV part files as Dask arrays with the strict reader's checks."""

from __future__ import annotations

from pathlib import Path

import dask
import numpy as np
import pytest

from mlpnet import InvalidDataError, InvalidParameterError
from mlpnet.distributed import class_targets, read_csv
from mlpnet.io.csv_reader import CSVFormatError


@pytest.fixture(autouse=True)
def threads():
    with dask.config.set(scheduler="threads"):
        yield


def write_parts(folder: Path, blocks, header="x1,x2,x3,y", name="part-{}.csv") -> list[Path]:
    """Write each block of rows (lists of cell strings) to its own file; return the paths."""
    paths = []
    for number, rows in enumerate(blocks):
        path = folder / name.format(number)
        lines = ([header] if header is not None else []) + [",".join(row) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def numeric_blocks(seed=0, sizes=(5, 8, 3)):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(size, 4)) for size in sizes]
    blocks = [[[repr(float(v)) for v in row] for row in array] for array in arrays]
    return arrays, blocks


def test_regression_parts_read_exactly(tmp_path):
    arrays, blocks = numeric_blocks()
    write_parts(tmp_path, blocks)
    data = read_csv(str(tmp_path / "part-*.csv"), target="y")
    expected = np.vstack(arrays)
    np.testing.assert_array_equal(data.X.compute(), expected[:, :3])
    np.testing.assert_array_equal(data.y.compute(), expected[:, 3])
    assert data.feature_names == ["x1", "x2", "x3"]
    assert data.target_name == "y"
    assert data.task == "regression"
    assert data.part_rows == [5, 8, 3]
    assert data.X.chunks[0] == (5, 8, 3)
    assert [Path(p).name for p in data.paths] == ["part-0.csv", "part-1.csv", "part-2.csv"]


@pytest.mark.parametrize(
    "cell, reason",
    [
        ("?", "the cell is not a number"),
        ("\u22120.5", "Unicode minus sign U+2212"),
        ("nan", "the cell is NaN"),
        ("1e400", "the number overflows float64"),
        ("", "the cell is empty"),
    ],
)
def test_bad_cell_names_file_line_column(tmp_path, cell, reason):
    _, blocks = numeric_blocks()
    blocks[1][2][1] = cell  # the second file, its third data row (line 4), column x2
    write_parts(tmp_path, blocks)
    with pytest.raises(CSVFormatError) as error:
        read_csv(str(tmp_path / "part-*.csv"), target="y")
    bad_file = str(tmp_path / "part-1.csv")
    assert error.value.path == bad_file
    assert error.value.line == 4
    assert error.value.column == "x2"
    assert error.value.cell == cell
    assert str(error.value).startswith(f"{bad_file}, line 4, column 'x2': invalid cell {cell!r}: ")
    assert reason in str(error.value)


def test_first_bad_file_in_order(tmp_path):
    _, blocks = numeric_blocks()
    blocks[2][0][0] = "abc"
    blocks[1][4][3] = "?"
    write_parts(tmp_path, blocks)
    with pytest.raises(CSVFormatError) as error:
        read_csv(str(tmp_path / "part-*.csv"), target="y")
    assert error.value.path == str(tmp_path / "part-1.csv")
    assert (error.value.line, error.value.column, error.value.cell) == (6, "y", "?")


def test_ragged_row_names_line(tmp_path):
    _, blocks = numeric_blocks()
    blocks[0][3] = blocks[0][3][:3]
    write_parts(tmp_path, blocks)
    with pytest.raises(CSVFormatError, match=r"part-0\.csv, line 5: the row has 3 fields but the header has 4"):
        read_csv(str(tmp_path / "part-*.csv"), target="y")


def test_columns_must_agree(tmp_path):
    _, blocks = numeric_blocks()
    write_parts(tmp_path, blocks[:2])
    (tmp_path / "part-9.csv").write_text("x1,x3,x2,y\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(CSVFormatError, match=r"part-9\.csv: the columns \['x1', 'x3', 'x2', 'y'\] differ"):
        read_csv(str(tmp_path / "part-*.csv"), target="y")


def test_no_matching_files(tmp_path):
    pattern = str(tmp_path / "nothing-*.csv")
    with pytest.raises(CSVFormatError, match="no files match this pattern"):
        read_csv(pattern)


def test_missing_target_column(tmp_path):
    _, blocks = numeric_blocks()
    write_parts(tmp_path, blocks)
    with pytest.raises(CSVFormatError, match="target column 'z' not found"):
        read_csv(str(tmp_path / "part-*.csv"), target="z")


def test_invalid_task(tmp_path):
    with pytest.raises(InvalidParameterError, match="task must be 'auto', 'regression' or 'classification'"):
        read_csv(str(tmp_path / "part-*.csv"), task="clustering")


def test_features_and_no_header(tmp_path):
    arrays, blocks = numeric_blocks(sizes=(4, 6))
    paths = write_parts(tmp_path, blocks, header=None)
    data = read_csv([str(p) for p in paths], target=0, features=[3, 1], header=False)
    expected = np.vstack(arrays)
    np.testing.assert_array_equal(data.X.compute(), expected[:, [3, 1]])
    np.testing.assert_array_equal(data.y.compute(), expected[:, 0])
    assert data.feature_names == ["3", "1"]


def test_drop_missing_counts_rows(tmp_path):
    _, blocks = numeric_blocks()
    blocks[0][1][0] = ""
    blocks[2][2][3] = ""
    write_parts(tmp_path, blocks)
    data = read_csv(str(tmp_path / "part-*.csv"), target="y", drop_missing=True)
    assert data.n_dropped == 2
    assert data.part_rows == [4, 8, 2]
    assert data.X.compute().shape == (14, 3)


def test_text_labels_across_parts(tmp_path):
    write_parts(tmp_path, [[["1", "2", "cat"], ["3", "4", "dog"]], [["5", "6", "emu"], ["7", "8", "cat"]]],
                header="a,b,kind")
    data = read_csv(str(tmp_path / "part-*.csv"), target="kind")
    assert data.task == "classification"
    assert data.classes == ["cat", "dog", "emu"]
    assert data.y.compute().tolist() == ["cat", "dog", "emu", "cat"]
    Y = class_targets(data.y, data.classes, 3).compute()
    np.testing.assert_array_equal(Y, np.eye(3)[[0, 1, 2, 0]])
    Y_binary = class_targets(data.y[[0, 1]], ["cat", "dog"], 1).compute()
    np.testing.assert_array_equal(Y_binary, [[0.0], [1.0]])


def test_numeric_labels_sort_by_value(tmp_path):
    write_parts(tmp_path, [[["1", "10"], ["2", "2"]], [["3", "10"], ["4", "9"]]], header="a,label")
    data = read_csv(str(tmp_path / "part-*.csv"), target="label", task="classification")
    assert data.classes == ["2", "9", "10"]
    assert data.y.dtype == np.int64
    assert data.y.compute().tolist() == [10, 2, 10, 9]


def test_unknown_label_names_row(tmp_path):
    write_parts(tmp_path, [[["1", "cat"], ["2", "dog"]], [["3", "cat"], ["4", "owl"]]], header="a,kind")
    data = read_csv(str(tmp_path / "part-*.csv"), target="kind")
    with pytest.raises(InvalidDataError, match=r"unknown class label 'owl' in row 3 \(0-based\)"):
        class_targets(data.y, ["cat", "dog"], 2).compute()


def test_mixed_target_types_rejected(tmp_path):
    write_parts(tmp_path, [[["1", "0.5"], ["2", "1.5"]], [["3", "big"], ["4", "small"]]], header="a,y")
    with pytest.raises(CSVFormatError, match=r"part-1\.csv: the target column 'y' contains text labels, but in .*part-0\.csv"):
        read_csv(str(tmp_path / "part-*.csv"), target="y")
