"""Tests of the strict CSV reader: valid layouts, every kind of invalid cell, and both parsing paths.

Expected values are the numbers written into each file, converted by Python's
float(); line numbers are counted by hand (the header is line 1).
"""

from __future__ import annotations

import pathlib

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
