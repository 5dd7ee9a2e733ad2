"""Tests of the strict CSV reader: valid layouts, every kind of invalid cell, and both parsing paths.

Expected values are the numbers written into each file, converted by Python's
float(); line numbers are counted by hand (the header is line 1).
"""

from __future__ import annotations

import os
import pathlib
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpnet.errors import InvalidDataError, InvalidParameterError
from mlpnet.io import csv_reader
from mlpnet.io.csv_reader import CSVFormatError, load_features, load_training_data, read_csv, select

CASES = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "cases"
BAD_DATA = CASES / "08-nan-inf-in-training-data"
BAD_CELLS = CASES / "14-cli-csv-bad-cells"
TINY = CASES / "15-cli-empty-and-tiny-csv"

# The rows of clean.csv in case 15, as written in the file.
CLEAN_ROWS = [
    [0.5, -1.0, 2.0, 1.0],
    [1.5, 0.2, -0.3, -0.5],
    [-0.7, 0.8, 0.1, 0.3],
    [0.0, -0.4, 1.2, 2.0],
    [1.0, 1.0, 1.0, 0.7],
    [-1.2, 0.3, 0.6, -0.9],
]
CLEAN = np.array(CLEAN_ROWS)


@pytest.fixture(params=["fast", "exact"])
def parser_path(request, monkeypatch):
    """Run a test once with the C-parser fast path and once with the csv-module path only."""
    if request.param == "exact":
        monkeypatch.setattr(csv_reader, "_read_fast", lambda *args, **kwargs: None)
    return request.param


def write(tmp_path: pathlib.Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def rows_text(rows: list[list[str]], header: str = "x1,x2,x3,y", delimiter: str = ",") -> str:
    lines = [header] if header is not None else []
    lines += [delimiter.join(row) for row in rows]
    return "\n".join(lines) + "\n"


def clean_cells() -> list[list[str]]:
    return [[repr(v) for v in row] for row in CLEAN_ROWS]


def test_cases_folder_exists():
    assert CASES.is_dir(), f"failure cases not found at {CASES}"


# -- valid layouts ------------------------------------------------------------


def test_clean_file_values(parser_path):
    data = load_training_data(TINY / "clean.csv", None)
    np.testing.assert_array_equal(data.X, CLEAN[:, :3])
    np.testing.assert_array_equal(data.y, CLEAN[:, 3])
    assert data.X.dtype == np.float64
    assert data.X.shape == (6, 3)
    assert data.y.shape == (6,)
    assert data.feature_names == ["x1", "x2", "x3"]
    assert data.target_name == "y"
    assert data.task == "regression"
    assert data.n_dropped == 0


@pytest.mark.parametrize(
    "name",
    ["crlf.csv", "bom.csv", "no_trailing_newline.csv", "trailing_blank_lines.csv", "spaces_around_cells.csv"],
)
def test_layout_variants_match_clean(name, parser_path):
    data = load_training_data(TINY / name, None)
    np.testing.assert_array_equal(data.X, CLEAN[:, :3])
    np.testing.assert_array_equal(data.y, CLEAN[:, 3])
    assert data.feature_names == ["x1", "x2", "x3"]
    assert data.target_name == "y"


def test_bom_without_header(parser_path):
    data = load_training_data(TINY / "bom_no_header.csv", None, header=False)
    np.testing.assert_array_equal(data.X, CLEAN[:, :3])
    np.testing.assert_array_equal(data.y, CLEAN[:, 3])
    assert data.X[0, 0] == 0.5
    assert data.feature_names == ["0", "1", "2"]
    assert data.target_name == "3"


def test_single_row_file(parser_path):
    data = load_training_data(TINY / "single_row.csv", None)
    np.testing.assert_array_equal(data.X, [[0.5, -1.0, 2.0]])
    np.testing.assert_array_equal(data.y, [1.0])


def test_header_and_no_header_agree(parser_path):
    with_header = load_training_data(BAD_CELLS / "good_with_header.csv", None)
    without = load_training_data(BAD_CELLS / "good_no_header.csv", None, header=False)
    np.testing.assert_array_equal(with_header.X, without.X)
    np.testing.assert_array_equal(with_header.y, without.y)
    assert with_header.X.shape == (8, 3)
    assert with_header.X[0].tolist() == [0.5, -1.0, 2.0]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_endings(tmp_path, ending, parser_path):
    text = rows_text(clean_cells()).replace("\n", ending)
    data = load_training_data(write(tmp_path, text), None)
    np.testing.assert_array_equal(data.X, CLEAN[:, :3])


def test_blank_lines_in_middle_keep_line_numbers(tmp_path, parser_path):
    # Line 1 header, line 2 data, lines 3-4 blank, line 5 data, line 6 bad.
    text = "a,b,y\n1,2,3\n\n   \n4,5,6\n7,oops,9\n"
    with pytest.raises(CSVFormatError) as info:
        load_training_data(write(tmp_path, text), None)
    assert info.value.line == 6
    assert info.value.column == "b"
    good = load_training_data(write(tmp_path, "a,b,y\n1,2,3\n\n \t \n4,5,6\n", "good.csv"), None)
    np.testing.assert_array_equal(good.X, [[1.0, 2.0], [4.0, 5.0]])


def test_quoted_numbers_accepted(tmp_path, parser_path):
    data = load_training_data(write(tmp_path, 'a,b,y\n"1.5", "2",3\n'), None)
    np.testing.assert_array_equal(data.X, [[1.5, 2.0]])


def test_semicolon_delimiter(tmp_path, parser_path):
    text = rows_text(clean_cells(), header="x1;x2;x3;y", delimiter=";")
    data = load_training_data(write(tmp_path, text), None, delimiter=";")
    np.testing.assert_array_equal(data.X, CLEAN[:, :3])


def test_number_spellings(tmp_path, parser_path):
    cells = ["1", "-2", "+3", "1.", ".5", "-.5", "1e3", "1E-3", "2.5e+2", "007", "0.0", "-0"]
    text = "v,y\n" + "".join(f"{cell},0\n" for cell in cells)
    data = load_training_data(write(tmp_path, text), None)
    np.testing.assert_array_equal(data.X[:, 0], [float(cell) for cell in cells])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=3, max_size=3),
        min_size=1,
        max_size=20,
    )
)
def test_random_floats_round_trip(tmp_path_factory, rows):
    # repr() writes the shortest text that float() maps back to the same double.
    path = tmp_path_factory.mktemp("csv") / "random.csv"
    path.write_text(rows_text([[repr(v) for v in row] for row in rows], header="a,b,y"))
    expected = np.array(rows, dtype=np.float64)
    for use_fast_path in (True, False):
        raw = read_csv(path) if use_fast_path else _read_exact_only(path)
        data = select(raw)
        np.testing.assert_array_equal(data.X, expected[:, :2])
        np.testing.assert_array_equal(data.y, expected[:, 2])


def _read_exact_only(path) -> csv_reader.RawTable:
    text = pathlib.Path(path).read_bytes().decode("utf-8")
    return csv_reader._read_exact(str(path), text, True, ",")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.eE+- ", min_size=1, max_size=7))
def test_token_accepted_iff_python_float(tmp_path_factory, token):
    # Over this alphabet, a cell is valid exactly when Python's float() reads
    # it (spaces around it stripped) as a finite number.
    try:
        reference = float(token.strip(" "))
        valid = np.isfinite(reference) and " " not in token.strip(" ")
    except ValueError:
        valid = False
    path = tmp_path_factory.mktemp("csv") / "token.csv"
    path.write_text(f"a,y\n1,0\n{token},0\n")
    for reader in (read_csv, _read_exact_only):
        if valid:
            data = select(reader(path))
            assert data.X[1, 0] == reference
        else:
            with pytest.raises(CSVFormatError) as info:
                select(reader(path))
            assert info.value.line == 3
            assert info.value.column == "a"


# -- invalid cells -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "column", "cell", "words"),
    [
        ("nan_literal_line4_x2.csv", 4, "x2", "nan", "NaN"),
        ("inf_literal_line5_x1.csv", 5, "x1", "inf", "infinite"),
        ("overflowing_number_line3_x3.csv", 3, "x3", "1e400", "overflows"),
        ("empty_cell_line2_x2.csv", 2, "x2", "", "empty"),
        ("nan_in_target_line6_y.csv", 6, "y", "NaN", "NaN"),
    ],
)
def test_non_finite_case_files(name, line, column, cell, words, parser_path):
    path = BAD_DATA / name
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, None)
    error = info.value
    assert error.line == line
    assert error.column == column
    assert error.cell == cell
    assert error.path == str(path)
    message = str(error)
    assert name in message
    assert f"line {line}" in message
    assert repr(column) in message
    assert words in message


def test_non_finite_control_file(parser_path):
    data = load_training_data(BAD_DATA / "clean.csv", None)
    assert data.X.shape == (5, 3)
    assert np.isfinite(data.X).all()


@pytest.mark.parametrize(
    ("name", "line", "column", "cell"),
    [
        ("bad_question_mark.csv", 4, "power", "?"),
        ("bad_unicode_minus.csv", 3, "weight", "\u22120.5"),
        ("bad_text_column.csv", 2, "name", "alpha"),
        ("bad_quoted_thousands.csv", 5, "speed", "1,234.5"),
    ],
)
def test_bad_cell_case_files(name, line, column, cell, parser_path):
    with pytest.raises(CSVFormatError) as info:
        load_training_data(BAD_CELLS / name, None)
    error = info.value
    assert (error.line, error.column, error.cell) == (line, column, cell)
    message = str(error)
    assert name in message
    assert f"line {line}" in message
    assert repr(column) in message
    assert repr(cell) in message


def test_unicode_minus_message_names_the_character():
    with pytest.raises(CSVFormatError, match="U\\+2212"):
        load_training_data(BAD_CELLS / "bad_unicode_minus.csv", None)


def test_text_column_message_suggests_features():
    with pytest.raises(CSVFormatError, match="--features"):
        load_training_data(BAD_CELLS / "bad_text_column.csv", None)


def test_text_column_left_out(parser_path):
    data = load_training_data(BAD_CELLS / "bad_text_column.csv", "target", features=["speed", "weight", "power"])
    assert data.X.shape == (8, 3)
    np.testing.assert_array_equal(data.X[0], [0.5, -1.0, 2.0])


def test_ragged_case_file(parser_path):
    with pytest.raises(CSVFormatError) as info:
        load_training_data(BAD_CELLS / "bad_ragged_row.csv", None)
    assert info.value.line == 6
    message = str(info.value)
    assert "bad_ragged_row.csv" in message
    assert "line 6" in message
    assert "3 fields" in message
    assert "header has 4" in message


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("", "empty"),
        ("1.2.3", "not a number"),
        ("1e", "not a number"),
        ("e5", "not a number"),
        ("0x10", "not a number"),
        ("1_000", "thousands separator"),
        ("+-1", "not a number"),
        ("--1", "not a number"),
        (".", "not a number"),
        ("-", "not a number"),
        ("1 2", "not a number"),
        ("1e 5", "not a number"),
        ("\u221e", "non-ASCII"),
        ("NaN", "NaN"),
        ("nan", "NaN"),
        ("-nan", "NaN"),
        ("inf", "infinite"),
        ("-inf", "infinite"),
        ("+Infinity", "infinite"),
        ("Infinity", "infinite"),
        ("1e400", "overflows"),
        ("-1e400", "overflows"),
        ("\uff11\uff12", "non-ASCII"),
        ("\u22121", "U+2212"),
        ("1\u00a0000", "U+00A0"),
        ("\u00a01", "U+00A0"),
        ('"1,234.5"', "thousands separator"),
        ("?", "not a number"),
        ("NA", "not a number"),
        ("true", "not a number"),
    ],
)
def test_malformed_numbers(tmp_path, cell, words, parser_path):
    # Line 1 header, line 2 valid, line 3 contains the cell in column b.
    path = write(tmp_path, f"a,b,y\n1,2,3\n4,{cell},6\n")
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, None)
    error = info.value
    assert error.line == 3
    assert error.column == "b"
    assert error.cell == cell.strip('"')
    assert words in str(error)
    assert "line 3" in str(error)


def test_decimal_comma_with_semicolon(tmp_path, parser_path):
    path = write(tmp_path, "a;b;y\n1;2,5;3\n")
    with pytest.raises(CSVFormatError, match="decimal comma") as info:
        load_training_data(path, None, delimiter=";")
    assert (info.value.line, info.value.column, info.value.cell) == (2, "b", "2,5")


def test_first_bad_cell_in_file_order(tmp_path, parser_path):
    # Column b is bad on line 4, column a on line 3: line 3 comes first.
    path = write(tmp_path, "a,b,y\n1,2,3\nx,2,3\n1,y,3\n")
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, None)
    assert (info.value.line, info.value.column) == (3, "a")


def test_bad_cell_in_unused_column_ignored(tmp_path, parser_path):
    path = write(tmp_path, "a,note,y\n1,nan,3\n2,,4\n")
    data = load_training_data(path, "y", features=["a"])
    np.testing.assert_array_equal(data.X, [[1.0], [2.0]])


@pytest.mark.parametrize(
    ("row", "n_fields"),
    [("1,2", 2), ("1,2,3,4", 4), ("1,2,3,4,5", 5), ("1", 1)],
)
def test_ragged_rows(tmp_path, row, n_fields, parser_path):
    path = write(tmp_path, f"a,b,y\n1,2,3\n{row}\n7,8,9\n")
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, None)
    assert info.value.line == 3
    assert f"{n_fields} fields" in str(info.value)
    assert "header has 3" in str(info.value)


def test_ragged_row_without_header(tmp_path, parser_path):
    path = write(tmp_path, "1,2,3\n4,5\n")
    with pytest.raises(CSVFormatError, match="first row has 3") as info:
        load_training_data(path, None, header=False)
    assert info.value.line == 2


def test_quoted_field_with_newline_keeps_line_numbers(tmp_path):
    # The quoted label spans lines 2-3, so the bad cell is on line 4.
    path = write(tmp_path, 'a,label\n1,"two\nlines"\nbad,x\n')
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, "label")
    assert info.value.line == 4
    assert info.value.column == "a"


def test_malformed_quoting(tmp_path):
    path = write(tmp_path, 'a,b,y\n1,"2"x,3\n')
    with pytest.raises(CSVFormatError, match="line 2"):
        load_training_data(path, None)


# -- whole-file problems -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.csv", "file is empty"),
        ("header_only.csv", "no data rows"),
        ("blank_lines_only.csv", "no data rows"),
        ("single_column.csv", "no feature columns: the file has only the target column"),
    ],
)
def test_empty_and_tiny_case_files(name, words, parser_path):
    with pytest.raises(CSVFormatError) as info:
        load_training_data(TINY / name, None)
    assert words in str(info.value)
    assert name in str(info.value)


def test_bom_only_file_is_empty(tmp_path):
    with pytest.raises(CSVFormatError, match="file is empty"):
        load_training_data(write(tmp_path, "\ufeff"), None)


def test_missing_file(tmp_path):
    with pytest.raises(CSVFormatError, match="file not found"):
        load_training_data(tmp_path / "nope.csv", None)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(CSVFormatError, match="folder"):
        load_training_data(tmp_path, None)


def test_invalid_utf8_names_line_and_offset(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"a,b,y\n1,2,3\n4,\xe95,6\n")
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, None)
    assert info.value.line == 3
    assert "byte offset 14" in str(info.value)
    assert "UTF-8" in str(info.value)


def test_duplicate_column_names(tmp_path):
    with pytest.raises(CSVFormatError, match="duplicate column name 'a'"):
        load_training_data(write(tmp_path, "a,b,a\n1,2,3\n"), None)


def test_empty_column_name(tmp_path):
    with pytest.raises(CSVFormatError, match="empty name"):
        load_training_data(write(tmp_path, "a,,y\n1,2,3\n"), None)


def test_missing_target_lists_columns(tmp_path, parser_path):
    path = write(tmp_path, rows_text(clean_cells()))
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, "price")
    message = str(info.value)
    assert "'price' not found" in message
    assert "'x1', 'x2', 'x3', 'y'" in message


def test_missing_feature_names_it(tmp_path, parser_path):
    path = write(tmp_path, rows_text(clean_cells()))
    with pytest.raises(CSVFormatError, match="feature column 'x9' not found"):
        load_training_data(path, "y", features=["x1", "x9"])


def test_target_also_feature_rejected(tmp_path):
    path = write(tmp_path, rows_text(clean_cells()))
    with pytest.raises(InvalidParameterError, match="target and as a feature"):
        load_training_data(path, "y", features=["x1", "y"])


def test_invalid_delimiter():
    with pytest.raises(InvalidParameterError, match="delimiter"):
        load_training_data(TINY / "clean.csv", None, delimiter=",,")


def test_csv_format_error_is_invalid_data_error():
    assert issubclass(CSVFormatError, InvalidDataError)
    assert issubclass(CSVFormatError, ValueError)


# -- choosing columns ----------------------------------------------------------


def test_target_by_name_and_index(tmp_path, parser_path):
    path = write(tmp_path, rows_text(clean_cells()))
    by_name = load_training_data(path, "x1")
    by_index = load_training_data(path, 0)
    by_digit_string = load_training_data(path, "0")
    for data in (by_name, by_index, by_digit_string):
        assert data.target_name == "x1"
        assert data.feature_names == ["x2", "x3", "y"]
        np.testing.assert_array_equal(data.y, CLEAN[:, 0])
        np.testing.assert_array_equal(data.X, CLEAN[:, 1:])


def test_column_named_like_an_index_wins(tmp_path, parser_path):
    path = write(tmp_path, "a,0,y\n1,2,3\n4,5,6\n")
    data = load_training_data(path, "0")
    assert data.target_name == "0"
    np.testing.assert_array_equal(data.y, [2.0, 5.0])


def test_no_header_target_index(parser_path):
    data = load_training_data(BAD_CELLS / "good_no_header.csv", 1, header=False)
    assert data.target_name == "1"
    assert data.feature_names == ["0", "2", "3"]
    np.testing.assert_array_equal(data.y[:2], [-1.0, 0.2])


def test_feature_order_follows_request(tmp_path, parser_path):
    path = write(tmp_path, rows_text(clean_cells()))
    data = load_training_data(path, "y", features=["x3", "x1"])
    np.testing.assert_array_equal(data.X, CLEAN[:, [2, 0]])
    assert data.feature_names == ["x3", "x1"]


# -- missing values and classification -----------------------------------------


def test_drop_missing_counts_rows(tmp_path):
    # Lines 3 and 5 have an empty cell in a used column; line 4 only in the unused column.
    path = write(tmp_path, "a,b,note,y\n1,2,,3\n,5,x,6\n7,8,,9\n10,11,z,\n13,14,w,15\n")
    data = load_training_data(path, "y", features=["a", "b"], drop_missing=True)
    assert data.n_dropped == 2
    np.testing.assert_array_equal(data.X, [[1.0, 2.0], [7.0, 8.0], [13.0, 14.0]])
    np.testing.assert_array_equal(data.y, [3.0, 9.0, 15.0])


def test_drop_missing_still_rejects_text(tmp_path):
    path = write(tmp_path, "a,y\n,1\n?,2\n3,4\n")
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, None, drop_missing=True)
    assert (info.value.line, info.value.cell) == (3, "?")


def test_drop_missing_all_rows(tmp_path):
    path = write(tmp_path, "a,y\n,1\n2,\n")
    with pytest.raises(CSVFormatError, match="leaves no data"):
        load_training_data(path, None, drop_missing=True)


def test_string_target_is_classification(tmp_path, parser_path):
    path = write(tmp_path, "a,b,species\n1,2,cat\n3,4,dog\n5,6, cat \n")
    data = load_training_data(path, None)
    assert data.task == "classification"
    assert data.y.tolist() == ["cat", "dog", "cat"]
    np.testing.assert_array_equal(data.X, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def test_integer_target_stays_regression_under_auto(tmp_path, parser_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n3,2\n")
    assert load_training_data(path, None).task == "regression"
    labels = load_training_data(path, None, task="classification")
    assert labels.task == "classification"
    assert labels.y.dtype == np.int64
    assert labels.y.tolist() == [0, 1, 2]


def test_mixed_target_under_auto_is_error(tmp_path):
    path = write(tmp_path, "a,y\n1,2.5\n2,3.5\n3,?\n")
    with pytest.raises(CSVFormatError, match="mixes numbers and text") as info:
        load_training_data(path, None)
    assert (info.value.line, info.value.column, info.value.cell) == (4, "y", "?")
    labels = load_training_data(path, None, task="classification")
    assert labels.y.tolist() == ["2.5", "3.5", "?"]


def test_regression_rejects_text_target(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n")
    with pytest.raises(CSVFormatError) as info:
        load_training_data(path, None, task="regression")
    assert (info.value.line, info.value.column, info.value.cell) == (2, "y", "cat")


def test_empty_class_label(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n2,\n")
    with pytest.raises(CSVFormatError, match="empty") as info:
        load_training_data(path, None, task="classification")
    assert info.value.line == 3
    dropped = load_training_data(path, None, task="classification", drop_missing=True)
    assert dropped.y.tolist() == ["cat"]
    assert dropped.n_dropped == 1


def test_invalid_task():
    with pytest.raises(InvalidParameterError, match="task"):
        load_training_data(TINY / "clean.csv", None, task="ranking")


# -- load_features ---------------------------------------------------------------


def test_load_features_picks_named_columns(parser_path):
    X, target = load_features(BAD_CELLS / "good_with_header.csv", ["power", "speed"])
    assert target is None
    np.testing.assert_array_equal(X[:2], [[2.0, 0.5], [-0.3, 1.5]])
    assert X.shape == (8, 2)


def test_load_features_with_target_text(parser_path):
    X, target = load_features(BAD_CELLS / "good_with_header.csv", ["speed", "weight", "power"], target="target")
    assert target.tolist() == ["1", "-0.5", "0.3", "2", "0.7", "-0.9", "0.4", "1.6"]
    X, absent = load_features(BAD_CELLS / "predict.csv", ["speed", "weight", "power"], target="target")
    assert absent is None
    np.testing.assert_array_equal(X, [[0.1, 0.2, 0.3], [-0.5, 0.9, -1.0]])


def test_load_features_label_text_matches_class_labels(tmp_path, parser_path):
    path = write(tmp_path, "a,y\n1,1.0\n2,2\n3, 1 \n")
    labels = load_training_data(path, None, task="classification").y
    _, target = load_features(path, ["a"], target="y")
    assert [str(label) for label in labels] == target.tolist()


def test_load_features_missing_column():
    with pytest.raises(CSVFormatError, match="feature column 'weight' not found"):
        load_features(TINY / "predict.csv", ["x1", "weight"])


def test_load_features_without_header(parser_path):
    X, _ = load_features(BAD_CELLS / "good_no_header.csv", ["0", "2"], header=False)
    np.testing.assert_array_equal(X[0], [0.5, 2.0])


def test_load_features_rejects_bad_cell():
    with pytest.raises(CSVFormatError) as info:
        load_features(BAD_CELLS / "bad_question_mark.csv", ["speed", "weight", "power"])
    assert (info.value.line, info.value.column) == (4, "power")


# -- column selection on both paths, compared with np.loadtxt --------------------

# Columns of the table that write_numeric_table writes, in file order.
NUMERIC_COLUMNS = ["a", "b", "label", "c", "y"]


def write_numeric_table(tmp_path: pathlib.Path, n_rows: int = 60) -> tuple[str, np.ndarray]:
    """Write a numeric table with a header, and return its path and the values np.loadtxt reads from it.

    Column "label" contains the integer labels 0, 1 and 2.  The other
    columns contain floats of several magnitudes, written with repr.
    """
    rng = np.random.default_rng(5)
    values = rng.standard_normal((n_rows, len(NUMERIC_COLUMNS))) * [1.0, 250.0, 1e-4, 3e6, 2.0]
    values[:, 2] = rng.integers(0, 3, n_rows)
    lines = [",".join(NUMERIC_COLUMNS)]
    lines += [",".join(repr(float(v)) for v in row) for row in values]
    path = tmp_path / "numeric.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path), np.loadtxt(path, delimiter=",", skiprows=1)


@pytest.mark.parametrize(
    ("target", "features"),
    [
        ("y", None),
        ("a", None),
        ("label", None),
        ("y", ["a", "b"]),
        ("y", ["c", "a"]),
        ("y", ["b"]),
        ("b", ["label", "c", "y"]),
        (2, [4, 0]),
    ],
)
def test_regression_values_match_loadtxt(tmp_path, target, features, parser_path):
    path, reference = write_numeric_table(tmp_path)
    target_index = NUMERIC_COLUMNS.index(target) if isinstance(target, str) else target
    if features is None:
        feature_indices = [j for j in range(len(NUMERIC_COLUMNS)) if j != target_index]
    else:
        feature_indices = [NUMERIC_COLUMNS.index(f) if isinstance(f, str) else f for f in features]

    data = load_training_data(path, target, features=features)

    assert data.task == "regression"
    assert data.feature_names == [NUMERIC_COLUMNS[j] for j in feature_indices]
    assert data.X.dtype == np.float64
    assert data.y.dtype == np.float64
    np.testing.assert_array_equal(data.X, reference[:, feature_indices])
    np.testing.assert_array_equal(data.y, reference[:, target_index])


def test_classification_values_match_loadtxt(tmp_path, parser_path):
    path, reference = write_numeric_table(tmp_path)
    data = load_training_data(path, "label", features=["y", "a"], task="classification")
    assert data.task == "classification"
    assert data.y.dtype == np.int64
    np.testing.assert_array_equal(data.y, reference[:, 2].astype(np.int64))
    np.testing.assert_array_equal(data.X, reference[:, [4, 0]])


def test_no_header_values_match_loadtxt(tmp_path, parser_path):
    path, reference = write_numeric_table(tmp_path)
    no_header = tmp_path / "no_header.csv"
    no_header.write_text(pathlib.Path(path).read_text().split("\n", 1)[1])
    data = load_training_data(no_header, 1, features=[3, 4, 0], header=False)
    np.testing.assert_array_equal(data.X, reference[:, [3, 4, 0]])
    np.testing.assert_array_equal(data.y, reference[:, 1])
    assert data.feature_names == ["3", "4", "0"]


def test_load_features_match_loadtxt(tmp_path, parser_path):
    path, reference = write_numeric_table(tmp_path)
    for names in (["a", "b", "label"], ["y", "b"], ["c"]):
        X, _ = load_features(path, names)
        np.testing.assert_array_equal(X, reference[:, [NUMERIC_COLUMNS.index(name) for name in names]])


@pytest.mark.parametrize(("features", "feature_indices"), [(None, [0, 1, 3, 4]), (["c", "a"], [3, 0])])
def test_loaded_arrays_are_writable_and_separate(tmp_path, features, feature_indices, parser_path):
    path, reference = write_numeric_table(tmp_path)
    data = load_training_data(path, "label", features=features)
    # Either memory order is allowed, but the array must be contiguous in one of them.
    assert data.X.flags.c_contiguous or data.X.flags.f_contiguous
    assert data.X.flags.writeable
    assert data.y.flags.writeable
    assert not np.shares_memory(data.X, data.y)

    data.X[:] = -1.0
    np.testing.assert_array_equal(data.y, reference[:, 2])
    again = load_training_data(path, "label", features=features)
    np.testing.assert_array_equal(again.X, reference[:, feature_indices])


# -- training on the loaded arrays ---------------------------------------------


@pytest.mark.parametrize("layout", ["as loaded", "column-major"])
@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "gd", "learning_rate": 0.05, "epochs": 4},
        {"optimizer": "adam", "learning_rate": 0.01, "epochs": 3, "batch_size": 16},
    ],
)
def test_fit_on_loaded_X_equals_row_major_copy(tmp_path, options, layout):
    from mlpnet import Network

    path, reference = write_numeric_table(tmp_path)
    data = load_training_data(path, "y", features=["a", "label", "c"])
    # The reference arrays come from np.loadtxt, scaled the same way, in row-major order.
    scale = np.array([1.0, 1.0, 1e-6])
    X_loaded = data.X * scale
    if layout == "column-major":
        X_loaded = np.asfortranarray(X_loaded)
    X_reference = np.ascontiguousarray(reference[:, [0, 2, 3]] * scale)
    y_reference = reference[:, 4].copy()

    trained = Network([3, 8, 1], activation="tanh", seed=4)
    trained.fit(X_loaded, data.y, **options)
    expected = Network([3, 8, 1], activation="tanh", seed=4)
    expected.fit(X_reference, y_reference, **options)

    # A full batch of a column-major X reaches BLAS transposed, which may
    # round the last bit of a sum differently from the row-major copy.
    np.testing.assert_allclose(trained.parameters, expected.parameters, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(trained.predict(X_loaded), expected.predict(X_reference), rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_on_loaded_X_equals_row_major_copy(tmp_path):
    from mlpnet.estimators import NetworkClassifier

    path, reference = write_numeric_table(tmp_path)
    data = load_training_data(path, "label", features=["a", "y"], task="classification")
    common = {"hidden_layer_sizes": (6,), "epochs": 5, "learning_rate": 0.01, "random_state": 2}
    loaded = NetworkClassifier(**common).fit(data.X, data.y)
    expected = NetworkClassifier(**common).fit(np.ascontiguousarray(reference[:, [0, 4]]), reference[:, 2].astype(int))
    np.testing.assert_allclose(loaded.network_.parameters, expected.network_.parameters, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(loaded.predict(data.X), expected.predict(reference[:, [0, 4]]))


def test_cli_results_equal_on_both_paths(tmp_path, monkeypatch, capsys):
    # The exact path returns row-major arrays, so equal parameters and equal
    # printed output show that the fast path's column-major arrays give train,
    # predict and evaluate the same results.
    from mlpnet.cli.main import main
    from mlpnet.io.model_file import load_model_file

    path, _ = write_numeric_table(tmp_path)
    outputs = {}
    for name in ("fast", "exact"):
        if name == "exact":
            monkeypatch.setattr(csv_reader, "_read_fast", lambda *args, **kwargs: None)
        # The same model path for both, because evaluate prints it.
        model = tmp_path / "model.npz"
        common = ["--target", "y", "--features", "c,a,b", "--epochs", "4", "--seed", "1", "--quiet"]
        assert main(["train", path, "--out", str(model), "--batch-size", "full", *common]) == 0
        assert main(["predict", str(model), path]) == 0
        assert main(["evaluate", str(model), path]) == 0
        outputs[name] = (load_model_file(str(model)).network.parameters, capsys.readouterr().out)
    np.testing.assert_array_equal(outputs["fast"][0], outputs["exact"][0])
    assert outputs["fast"][1] == outputs["exact"][1]
    assert outputs["fast"][1].count("\n") > 60


# -- the fast path's block scan -------------------------------------------------


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize(
    ("text", "fast", "expected"),
    [
        # CRLF endings may straddle two blocks, and the header is longer than a block.
        ("alpha,beta,y\r\n1,2,3\r\n4,5e1,6\r\n", True, [[1.0, 2.0], [4.0, 50.0]]),
        ("alpha,beta,y\n1,2,3\n4,5E-1,6", True, [[1.0, 2.0], [4.0, 0.5]]),
        # A lone carriage return in the data rows leaves the file to the exact path.
        ("a,b,y\n1,2,3\r4,5,6\n", False, [[1.0, 2.0], [4.0, 5.0]]),
        ("a,b,y\n1,2,3\n4,5,6\r", False, [[1.0, 2.0], [4.0, 5.0]]),
        ("a,b,y\r\n1,2,3\n4 , 5 ,6\n", True, [[1.0, 2.0], [4.0, 5.0]]),
        # Cells the strict rule rejects.  pandas 3.1.1 reads the form feed and vertical tab cells.
        ("a,b,y\n1,2,3\n4,5e 1,6\n", False, (3, "b", "5e 1")),
        ("a,b,y\n1,2,3\n4,5e+\t1,6\n", False, (3, "b", "5e+\t1")),
        ("a,b,y\n1,2,3\n4,\f5,6\n", False, (3, "b", "\f5")),
        ("a,b,y\n1,2,3\n4,5\v,6\n", False, (3, "b", "5\v")),
    ],
)
def test_block_scan_at_every_offset(tmp_path, monkeypatch, block_bytes, text, fast, expected):
    monkeypatch.setattr(csv_reader, "_SCAN_BLOCK_BYTES", block_bytes)
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("ascii"))

    raw = read_csv(path)

    assert (raw.numbers is not None) == fast
    if isinstance(expected, tuple):
        with pytest.raises(CSVFormatError) as info:
            select(raw)
        assert (info.value.line, info.value.column, info.value.cell) == expected
        assert "not a number" in str(info.value)
    else:
        np.testing.assert_array_equal(select(raw).X, expected)


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ("1,2,3\r\n4,5e1,6\r\n", True),
        ("1 , 2e-3 ,\t3\n", True),
        # pandas 3.1.1 rejects "5e 1" by itself, so only this direct call shows that the scan does.
        ("1,5e 1,3\n", False),
        ("1,5E-\t1,3\n", False),
        ("1,5e+ 1,3\n", False),
        ("1,2,3\r4,5,6\n", False),
        ("1,2,3\n4,5,6\r", False),
        ("1,2,x\n", False),
        ("1,2,\f3\n", False),
    ],
)
def test_scan_file_rejects_at_every_offset(tmp_path, monkeypatch, block_bytes, body, accepted):
    monkeypatch.setattr(csv_reader, "_SCAN_BLOCK_BYTES", block_bytes)
    path = tmp_path / "data.csv"
    path.write_bytes(("alpha,beta,y\r\n" + body).encode("ascii"))
    with open(path, "rb") as handle:
        scan = csv_reader._scan_file(handle, True, csv_reader._FAST_PATH_BYTES + b",")
    assert (scan is not None) == accepted
    if accepted:
        assert scan.first_line == b"alpha,beta,y"


@pytest.mark.parametrize("block_bytes", [1, 2, 5])
def test_block_scan_bom_without_header(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(csv_reader, "_SCAN_BLOCK_BYTES", block_bytes)
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf0.5,-1,2\r\n1.5,0.25,-3\r\n")
    raw = read_csv(path, header=False)
    assert raw.numbers is not None
    data = select(raw)
    np.testing.assert_array_equal(data.X, [[0.5, -1.0], [1.5, 0.25]])
    np.testing.assert_array_equal(data.y, [2.0, -3.0])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_named_pipe_is_read_once(tmp_path):
    # A pipe cannot be read twice, so the reader must not scan it and then open it again.
    # That second open would wait forever for a writer.
    pipe = tmp_path / "rows.csv"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_text, args=("a,y\n1,2\n3,4\n",), daemon=True)
    writer.start()
    result: dict = {}

    def read() -> None:
        try:
            result["data"] = load_training_data(pipe, None)
        except CSVFormatError as exc:
            result["error"] = exc

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=20)
    timed_out = reader.is_alive()
    if timed_out:
        # Release the reader blocked in open() before failing.
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    assert not timed_out, "reading the pipe did not finish within 20 s"
    assert "error" not in result, result.get("error")
    np.testing.assert_array_equal(result["data"].X, [[1.0], [3.0]])
    np.testing.assert_array_equal(result["data"].y, [2.0, 4.0])


# -- the fast path parses the file it scanned ------------------------------------


def test_tilde_folder_not_read_as_home(tmp_path, monkeypatch):
    (tmp_path / "~").mkdir()
    (tmp_path / "~" / "data.csv").write_text("a,y\n1,2\n3,4\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "data.csv").write_text("a,y\n100,200\n300,400\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(home))

    data = load_training_data("~/data.csv")

    np.testing.assert_array_equal(data.X, [[1.0], [3.0]])
    np.testing.assert_array_equal(data.y, [2.0, 4.0])


def test_gz_name_of_plain_file_takes_fast_path(tmp_path):
    path = tmp_path / "data.csv.gz"
    path.write_text("a,y\n1.5,2\n3,4\n")

    table = read_csv(path)

    assert table.numbers is not None
    np.testing.assert_array_equal(table.numbers, [[1.5, 2.0], [3.0, 4.0]])


# -- messages that point at the fix ------------------------------------------------


def test_text_target_under_regression_suggests_classifier(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("a,b,label\n1,2,cat\n3,4,dog\n")

    with pytest.raises(CSVFormatError) as error:
        load_training_data(path, task="regression")

    assert "the target column 'label' contains text" in str(error.value)
    assert "--task classification" in str(error.value)
    assert error.value.line == 2


def test_text_feature_suggests_leaving_it_out(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("name,b,y\ncat,2,1\ndog,4,2\n")

    with pytest.raises(CSVFormatError, match=r"column 'name' contains text, not numbers; leave it out"):
        load_training_data(path)


def test_single_column_suggests_delimiter(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text("a;b;y\n1;2;3\n4;5;6\n")

    with pytest.raises(CSVFormatError, match=r"other than ',', pass that character .*--delimiter"):
        load_training_data(path)


def test_missing_relative_path_names_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    with pytest.raises(CSVFormatError, match=r"file not found; check the path, which is relative to"):
        load_training_data("absent.csv")


def test_directory_rejected_with_hint(tmp_path):
    with pytest.raises(CSVFormatError, match=r"is a directory, not a CSV file; pass the path of a CSV file"):
        load_training_data(tmp_path)


def test_long_cell_shortened_in_message(tmp_path):
    cell = "x" * 500
    path = tmp_path / "long.csv"
    path.write_text(f"a,y\n1,2\n{cell},3\n")

    with pytest.raises(CSVFormatError) as error:
        load_training_data(path)

    assert f"invalid cell '{'x' * 57}...'" in str(error.value)
    assert len(str(error.value)) < 400
    assert error.value.cell == cell


def test_nan_cell_explains_missing_values(tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text("a,b,y\n1,2,3\nnan,4,5\n")

    with pytest.raises(CSVFormatError) as error:
        load_training_data(path, drop_missing=True)

    assert "the cell is NaN, which is not read as a missing value" in str(error.value)
    assert "leave the cell empty" in str(error.value)
    assert error.value.line == 3


def test_missing_target_in_one_column_file_suggests_delimiter(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text("a;b;y\n1;2;3\n4;5;6\n")

    with pytest.raises(CSVFormatError) as error:
        load_training_data(path, target="y")

    assert "target column 'y' not found; the file has the columns 'a;b;y'" in str(error.value)
    assert "pass that character (delimiter=..., --delimiter on the command line)" in str(error.value)


def test_missing_column_lists_at_most_twenty(tmp_path):
    names = [f"c{j}" for j in range(300)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")

    with pytest.raises(CSVFormatError) as error:
        load_training_data(path, target="zz")

    message = str(error.value)
    assert "'c0', 'c1'" in message
    assert "'c19' and 280 more" in message
    assert "'c20'" not in message
    assert "delimiter" not in message


def test_long_column_name_shortened_in_message(tmp_path):
    long_name = "n" * 5000
    path = tmp_path / "long_header.csv"
    path.write_text(f"{long_name},y\n1,2\n")

    with pytest.raises(CSVFormatError) as error:
        load_training_data(path, target="zz")

    assert f"'{'n' * 57}...'" in str(error.value)
    assert len(str(error.value)) < 400


def test_gzip_file_rejected_with_hint(tmp_path):
    import gzip

    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(b"a,y\n1,2\n3,4\n"))

    with pytest.raises(CSVFormatError, match=r"the file is gzip-compressed, .*decompress it first \(gunzip -k data.csv.gz\)"):
        load_training_data(path)
