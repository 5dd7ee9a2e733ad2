"""Strict CSV reading for training and prediction data.

Every feature cell must be a plain decimal number such as ``-1.5``, ``2``,
``.5`` or ``3e-4`` that is finite in float64.  Anything else (text, an empty
cell, ``nan``/``inf`` literals, a number that overflows, a Unicode minus sign,
a thousands separator) raises :class:`CSVFormatError` naming the file, the
1-based line (the header is line 1), the column and the cell text.

Reading has two paths.  The fast path applies to regular files whose data
rows contain only digits, signs, ``.``, ``e``/``E``, the delimiter, spaces
and newlines.  It parses them with the C parser of pandas (or
:func:`numpy.loadtxt` when pandas is not installed) and keeps the result only
if every value is finite and every row has the header's field count.  With
pandas its arrays are column-major (Fortran order).  Every other file, and
every file the fast path rejects, goes through the :mod:`csv` module and a
per-cell check, which is the definition of what is valid and produces the
error messages.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import logging
import math
import os
import re
import stat
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import InvalidDataError, InvalidParameterError

logger = logging.getLogger(__name__)

Task = Literal["auto", "regression", "classification"]

# A decimal number in ASCII: optional sign, digits with an optional point (or a
# point and digits), optional exponent.  Spaces and tabs around it are allowed.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NON_FINITE_WORD = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_CELL_SPACE = " \t"

# Bytes that may occur in the data rows of a file the fast path accepts.
_FAST_PATH_BYTES = b"0123456789.eE+- \t\r\n"
# The strict rule rejects a space or tab after the exponent marker ("1e 5").
# pandas 3.1.1 rejects it too, but files with any of these byte sequences take
# the exact path, so the result does not depend on the pandas version.
_EXPONENT_SPACES = tuple(
    marker + sign + space for marker in (b"e", b"E") for sign in (b"", b"+", b"-") for space in (b" ", b"\t")
)
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
# The fast path scans a file in blocks of this size, so it keeps no copy of
# the whole file next to the parsed numbers.  The one exception is a file
# without a header that starts with a byte order mark, which pandas parses
# from the scanned bytes.
_SCAN_BLOCK_BYTES = 1 << 18

# Error messages show at most this many characters of a cell.  The
# exception's ``cell`` attribute keeps the whole text.
MAX_CELL_CHARS = 60

# Error messages list at most this many column names.
MAX_LISTED_COLUMNS = 20

# Integer-valued class labels are stored as int64 only below this magnitude,
# where every integer is exact in float64.
_MAX_EXACT_INTEGER = 2.0**53


class CSVFormatError(InvalidDataError):
    """A CSV file cannot be used: it is empty, malformed, or has an invalid cell.

    Attributes
    ----------
    path : str
        The file.
    line : int or None
        The 1-based line number (the header is line 1), or None when the
        problem concerns the whole file.
    column : str or None
        The column name (the 0-based position as a string without a header).
    cell : str or None
        The offending cell text, spaces around it removed.
    """

    def __init__(
        self,
        message: str,
        path: str,
        line: int | None = None,
        column: str | None = None,
        cell: str | None = None,
    ):
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column
        self.cell = cell


@dataclass
class RawTable:
    """The cells of a CSV file, read and split but not yet converted.

    Exactly one of ``numbers`` and ``cells`` is set: ``numbers`` when the
    fast path parsed every cell as a finite float, ``cells`` (one tuple of
    stripped strings per column) otherwise.

    Attributes
    ----------
    path : str
    columns : list of str
        Column names from the header, or "0", "1", ... without a header.
    line_numbers : ndarray of int64, shape (m,), or None
        The 1-based line on which each data row starts; None with ``numbers``,
        which has no invalid cell to report.
    numbers : ndarray of float64, shape (m, n_columns), or None
        Column-major (Fortran order) when pandas parsed the file.
    cells : list of tuple of str, or None
    header : bool
        Whether the first non-blank line was read as the header.
    drop_missing : bool
        Whether :func:`select` drops rows with an empty cell in a used column.
    delimiter : str
    """

    path: str
    columns: list[str]
    line_numbers: np.ndarray | None
    numbers: np.ndarray | None = None
    cells: list[tuple[str, ...]] | None = None
    header: bool = True
    drop_missing: bool = False
    delimiter: str = ","

    @property
    def n_rows(self) -> int:
        if self.numbers is not None:
            return int(self.numbers.shape[0])
        return int(self.line_numbers.shape[0])

    def column_index(self, spec: str | int, role: str = "column") -> int:
        """Resolve a column name or 0-based position to a position.

        A name matches first; an int (or a string of digits) is a position
        when no column has that name.  ``role`` ("target", "feature") only
        words the error message.
        """
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            name = str(int(spec))
        elif isinstance(spec, str):
            name = spec.strip()
        else:
            raise InvalidParameterError(
                f"{role} column must be a column name or a 0-based position, got {spec!r}"
            )
        if name in self.columns:
            return self.columns.index(name)
        if _INTEGER.fullmatch(name) and not name.startswith(("+", "-")):
            position = int(name)
            if position < len(self.columns):
                return position
        how = "" if self.header else " (without a header, columns are named by 0-based position)"
        hint = delimiter_hint(self.delimiter) if len(self.columns) == 1 else ""
        raise CSVFormatError(
            f"{self.path}: {role} column {shorten_cell(str(spec))!r} not found; the file has the columns "
            f"{describe_columns(self.columns)}{how}{hint}",
            self.path,
            column=str(spec),
        )

    def cell_text(self, j: int) -> tuple[str, ...]:
        """Return the stripped text of every cell in column ``j``."""
        if self.cells is not None:
            return self.cells[j]
        return tuple(format_number(float(v)) for v in self.numbers[:, j])


@dataclass
class Dataset:
    """Training data taken from a CSV file.

    Attributes
    ----------
    X : ndarray of float64, shape (m, n)
        C-contiguous from the exact path.  From the fast path it is
        column-major (Fortran order), and a view of ``RawTable.numbers``
        when the features are consecutive columns in file order.
    y : ndarray, shape (m,)
        float64 for regression; for classification int64 when every label is
        an integer, float64 when every label is another number, else an
        object array of str.
    feature_names : list of str
    target_name : str
    task : {"regression", "classification"}
    n_dropped : int
        Rows dropped because of an empty cell (only with ``drop_missing``).
    path : str
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    task: str
    n_dropped: int = 0
    path: str = ""


# -- cells ------------------------------------------------------------------


def format_number(value: float) -> str:
    """Write a number the way class labels and target text are compared.

    An integer-valued number is written as an integer ("3", not "3.0"), any
    other number with :func:`repr`.  ``str(label)`` of a class label from
    :func:`load_training_data` equals this text for the same number.
    """
    if value.is_integer() and abs(value) < _MAX_EXACT_INTEGER:
        return str(int(value))
    return repr(value)


def parse_number(cell: str) -> float | None:
    """Return the finite float a stripped cell spells, or None if it is not one."""
    if _NUMBER.fullmatch(cell) is None:
        return None
    value = float(cell)
    if not math.isfinite(value):
        return None
    return value


def looks_numeric(cell: str) -> bool:
    """True for a number literal, including the ones :func:`parse_number` rejects (nan, inf, 1e400)."""
    return _NUMBER.fullmatch(cell) is not None or _NON_FINITE_WORD.fullmatch(cell) is not None


def describe_bad_cell(cell: str, delimiter: str) -> str:
    """Say why a stripped cell is not a finite number, and what to do."""
    if cell == "":
        return (
            "the cell is empty; fill it in, or drop rows with empty cells "
            "(drop_missing=True, or --drop-missing of mlpnet train)"
        )
    lowered = cell.lower().lstrip("+-")
    if lowered == "nan":
        return (
            "the cell is NaN, which is not read as a missing value; fix it, or if it marks a missing value, "
            "leave the cell empty and drop such rows (drop_missing=True, or --drop-missing of mlpnet train)"
        )
    if lowered in ("inf", "infinity"):
        return "the cell is infinite; infinity is not allowed in the data, fix or remove the row"
    if _NUMBER.fullmatch(cell):
        return "the number overflows float64 (its magnitude exceeds about 1.8e308); rescale the column"
    if "\u2212" in cell:
        return "the cell uses the Unicode minus sign U+2212; replace it with the ASCII hyphen-minus '-'"
    if "\u00a0" in cell:
        return "the cell contains a non-breaking space (U+00A0); remove it"
    if "," in cell and delimiter != ",":
        return "the cell uses a decimal comma; write the decimal point as '.'"
    if "," in cell or "_" in cell:
        return "the cell has a thousands separator; write the number with digits only, such as 1234.5"
    if any(not ch.isascii() for ch in cell):
        return "the cell contains non-ASCII characters; numbers must use the ASCII digits 0-9, '.', '+', '-', 'e'"
    return (
        "the cell is not a number; write a number, or if it marks a missing value, leave the cell "
        "empty and drop such rows (drop_missing=True, or --drop-missing of mlpnet train)"
    )


def numeric_column(table: RawTable, j: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, int | None]:
    """Convert column ``j`` of a table read by the exact path to float64.

    Returns the values and the index (into ``rows``) of the first cell that
    is not a finite number, or None when every cell is valid.
    """
    cells = table.cells[j]
    if rows is not None:
        cells = [cells[i] for i in rows]
    values = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        number = parse_number(cell)
        if number is None:
            return values, i
        values[i] = number
    return values, None


def numeric_columns(
    table: RawTable, columns: list[int], rows: np.ndarray | None, target: int | None = None
) -> np.ndarray:
    """Stack columns as float64 (m, len(columns)), raising for the first bad cell in file order.

    A table that the fast path read gives a view or a copy of columns of
    ``table.numbers`` (see :func:`_take_columns`), column-major when pandas
    parsed the file.  The exact path gives a new row-major array.
    """
    if table.numbers is not None:
        return _take_columns(table.numbers if rows is None else table.numbers[rows], columns)
    m = table.n_rows if rows is None else len(rows)
    X = np.empty((m, len(columns)), dtype=np.float64)
    first_bad: tuple[int, int] | None = None  # (row index, position in columns)
    for k, j in enumerate(columns):
        values, bad_row = numeric_column(table, j, rows)
        X[:, k] = values
        if bad_row is not None and (first_bad is None or bad_row < first_bad[0]):
            first_bad = (bad_row, k)
    if first_bad is not None:
        raise_bad_cell(table, columns[first_bad[1]], first_bad[0], rows, target)
    return X


def _take_columns(numbers: np.ndarray, columns: list[int]) -> np.ndarray:
    """Select columns of a float64 array without a per-column loop; the result is C- or F-contiguous.

    From a column-major array, columns that form an ascending run such as
    ``[0, 1, 2]`` come back as a column-major view without a copy, and any
    other choice as a column-major copy.  A row-major array gives a
    row-major copy.
    """
    if not numbers.flags.f_contiguous:
        return numbers[:, columns]
    first = columns[0]
    if columns == list(range(first, first + len(columns))):
        return numbers[:, first : first + len(columns)]
    # Selecting rows of the transpose copies each column as one contiguous run.
    return numbers.T[columns].T


def delimiter_hint(delimiter: str) -> str:
    """Return the advice for a file read as one column, which usually means another delimiter."""
    return (
        f"; if its columns are separated by a character other than {delimiter!r}, pass that character "
        f"(delimiter=..., --delimiter on the command line)"
    )


def describe_columns(columns: list[str]) -> str:
    """List column names for an error message: at most MAX_LISTED_COLUMNS, each shortened like a cell."""
    listed = ", ".join(repr(shorten_cell(name)) for name in columns[:MAX_LISTED_COLUMNS])
    if len(columns) > MAX_LISTED_COLUMNS:
        listed += f" and {len(columns) - MAX_LISTED_COLUMNS} more"
    return listed


def shorten_cell(cell: str) -> str:
    """Return the cell text for an error message: at most MAX_CELL_CHARS characters, cut with "..." at the end."""
    if len(cell) <= MAX_CELL_CHARS:
        return cell
    return cell[: MAX_CELL_CHARS - 3] + "..."


def raise_bad_cell(table: RawTable, j: int, row: int, rows: np.ndarray | None, target: int | None = None) -> None:
    """Raise a CSVFormatError for the invalid cell of column ``j``, whose text the message explains.

    ``target`` is the index of the target column, or None when no target is among the columns.
    """
    file_row = row if rows is None else int(rows[row])
    cell = table.cells[j][file_row]
    line = int(table.line_numbers[file_row])
    column = table.columns[j]
    reason = describe_bad_cell(cell, table.delimiter)
    column_cells = table.cells[j] if rows is None else [table.cells[j][i] for i in rows]
    generic = reason.startswith("the cell is not a number")
    if generic and j == target and not any(parse_number(c) is not None for c in column_cells):
        reason = (
            f"the target column {column!r} contains text, not numbers; to use its values as class "
            f"labels, train a classifier (task='classification', --task classification on the command line)"
        )
    elif generic and not any(parse_number(c) is not None for c in column_cells):
        reason = (
            f"column {column!r} contains text, not numbers; leave it out of the features "
            f"(features=[...], --features on the command line) or remove it"
        )
    raise CSVFormatError(
        f"{table.path}, line {line}, column {column!r}: invalid cell {shorten_cell(cell)!r}: {reason}",
        table.path,
        line=line,
        column=column,
        cell=cell,
    )


# -- reading ----------------------------------------------------------------


def read_csv(
    path: str | os.PathLike[str],
    header: bool = True,
    delimiter: str = ",",
    drop_missing: bool = False,
) -> RawTable:
    """Read and split a CSV file, checking its structure but not its cells.

    Parameters
    ----------
    path : str or path-like
    header : bool, default True
        Read the first non-blank line as column names.  Without a header the
        columns are named "0", "1", ... by 0-based position.
    delimiter : str, default ","
        One character.
    drop_missing : bool, default False
        Recorded for :func:`select`, which drops rows with an empty cell in
        a used column.

    Returns
    -------
    RawTable

    Raises
    ------
    CSVFormatError
        If the file is missing, empty, not UTF-8, has no data rows, a ragged
        row, malformed quoting, or empty or duplicate column names.
    """
    path = os.fspath(path)
    _check_delimiter(delimiter)
    table = _read_fast(path, header, delimiter)
    if table is None:
        table = _read_exact(path, _read_text(path), header, delimiter)
    table.drop_missing = drop_missing
    table.delimiter = delimiter
    logger.debug("read %s: %d rows, %d columns, fast path %s", path, table.n_rows, len(table.columns),
                 table.numbers is not None)
    return table


def _check_delimiter(delimiter: str) -> None:
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n' or delimiter.isalnum():
        raise InvalidParameterError(
            f"delimiter must be one character other than a letter, digit, quote or newline, got {delimiter!r}"
        )


def _read_text(path: str) -> str:
    """Read a whole file as UTF-8 text without its byte order mark."""
    data = _read_bytes(path)
    if data.startswith(_BYTE_ORDER_MARK):
        data = data[len(_BYTE_ORDER_MARK) :]
    if not data:
        raise CSVFormatError(f"{path}: the file is empty; it needs a header line and data rows", path)
    return _decode(path, data)


def _read_bytes(path: str) -> bytes:
    if os.path.isdir(path):
        raise CSVFormatError(f"{path}: is a directory, not a CSV file; pass the path of a CSV file inside it", path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        where = "" if os.path.isabs(path) else f", which is relative to the current directory {os.getcwd()!r}"
        raise CSVFormatError(f"{path}: file not found; check the path{where}", path) from exc
    except OSError as exc:
        raise CSVFormatError(f"{path}: cannot read the file: {exc.strerror}", path) from exc


def _decode(path: str, data: bytes) -> str:
    if data.startswith(_GZIP_MAGIC):
        raise CSVFormatError(
            f"{path}: the file is gzip-compressed, and mlpnet reads plain CSV text only; decompress it first "
            f"(gunzip -k {os.path.basename(path)})",
            path,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        raise CSVFormatError(
            f"{path}, line {line}: invalid UTF-8 (byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
            f"of the file); re-save the file as UTF-8",
            path,
            line=line,
        ) from exc


def _split_first_line(data: bytes) -> tuple[bytes, int]:
    """Return the first line without its ending and the offset where the next line starts."""
    end = len(data)
    for terminator in (b"\n", b"\r"):
        position = data.find(terminator, 0, end)
        if position != -1:
            end = position
    if end == len(data):
        return data, end
    next_start = end + 2 if data[end : end + 2] == b"\r\n" else end + 1
    return data[:end], next_start


def _read_fast(path: str, header: bool, delimiter: str) -> RawTable | None:
    """Parse an all-numeric file with a C parser; None when the exact path must decide.

    The file is scanned block by block (see :func:`_scan_file`) and then
    parsed again from its path, which is about twice as fast with pandas as
    parsing bytes in memory.  A file without a header that starts with a
    byte order mark is parsed from the bytes of the scan instead.  Only
    regular files take the fast path, because a pipe cannot be read twice.
    """
    delimiter_byte = delimiter.encode("utf-8")
    if len(delimiter_byte) != 1 or delimiter_byte in _FAST_PATH_BYTES:
        return None
    try:
        # Checked before opening, because opening a pipe and closing it
        # again can discard what its writer sent.
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            scan = _scan_file(handle, header, _FAST_PATH_BYTES + delimiter_byte)
    except OSError as exc:
        # The exact path opens the file again and reports the error.
        logger.debug("fast CSV path declined: %s", exc)
        return None
    if scan is None:
        return None

    columns: list[str] = []
    if header:
        try:
            header_text = scan.first_line.decode("utf-8")
        except UnicodeDecodeError:
            return None
        columns = [name.strip(_CELL_SPACE) for name in next(csv.reader([header_text], delimiter=delimiter))]
        if any(not name for name in columns) or len(set(columns)) != len(columns):
            return None
    # An absolute path, so pandas cannot read the name as "~" (the home
    # directory) or as a URL and open a different file from the one scanned.
    source = os.path.abspath(path) if scan.content is None else scan.content
    numbers = _parse_numeric(source, skip_lines=1 if header else 0, delimiter=delimiter)
    if numbers is None or numbers.shape[0] == 0 or not np.isfinite(numbers).all():
        return None
    # NOTE: when the parser reads the file again by path, a change to the file
    # in between that keeps it all-numeric is not detected.
    if header and numbers.shape[1] != len(columns):
        return None
    if not header:
        columns = [str(j) for j in range(numbers.shape[1])]
    return RawTable(path, columns, None, numbers=numbers, header=header)


@dataclass
class _ScannedFile:
    """The first line of a file that the fast path scanned, and its content when kept.

    Attributes
    ----------
    first_line : bytes
        The first line without its line ending and byte order mark.
    content : bytes or None
        The whole file without its byte order mark, kept only for a file
        without a header that starts with one; None otherwise.
    """

    first_line: bytes
    content: bytes | None


def _scan_file(handle: io.BufferedReader, header: bool, allowed: bytes) -> _ScannedFile | None:
    """Read a file block by block and check that its data rows suit the fast path.

    Returns None for an empty first line, or when the data rows (every line
    after the first, or every line without a header) contain a byte outside
    ``allowed`` or a layout that :class:`_LayoutCheck` rejects.
    """
    blocks = [handle.read(_SCAN_BLOCK_BYTES)]
    while blocks[-1] and b"\n" not in blocks[-1] and b"\r" not in blocks[-1]:
        blocks.append(handle.read(_SCAN_BLOCK_BYTES))
    prefix = b"".join(blocks)
    has_bom = prefix.startswith(_BYTE_ORDER_MARK)
    if has_bom:
        prefix = prefix[len(_BYTE_ORDER_MARK) :]
    first_line, body_start = _split_first_line(prefix)
    if not first_line.strip(b" \t"):
        return None

    keep_content = has_bom and not header
    content_blocks: list[bytes] = []
    check = _LayoutCheck(allowed)
    # The rest of the prefix may be empty while the file goes on.
    rest = prefix[body_start:] if header else prefix
    for block in itertools.chain([rest], iter(functools.partial(handle.read, _SCAN_BLOCK_BYTES), b"")):
        if not check.accepts(block):
            return None
        if keep_content:
            content_blocks.append(block)
    if not check.line_endings_are_simple():
        return None
    return _ScannedFile(first_line, b"".join(content_blocks) if keep_content else None)


class _LayoutCheck:
    """Check consecutive blocks of a file for what the fast path must leave to the exact path.

    A data row may contain only the bytes in ``allowed``, because the pandas
    tokenizer accepts cells such as ``"\\f1"`` that the strict rule rejects.
    No exponent marker may be followed by a space or tab (see
    ``_EXPONENT_SPACES``).  Every carriage return must start a CRLF line
    ending, so files with CR-only or mixed line endings go to the exact
    path.  A sequence that straddles two blocks is found as well.
    """

    def __init__(self, allowed: bytes):
        self.allowed = allowed
        # The last bytes of the previous block, as many as an exponent-space
        # sequence has bytes before its space.
        self.tail = b""
        self.carriage_returns = 0
        self.crlf_endings = 0

    def accepts(self, block: bytes) -> bool:
        """Count the carriage returns of the next block; return False for a disallowed byte or exponent space."""
        if block.translate(None, self.allowed):
            return False
        if self.tail.endswith(b"\r") and block.startswith(b"\n"):
            self.crlf_endings += 1
        if b"\r" in block:
            self.carriage_returns += block.count(b"\r")
            self.crlf_endings += block.count(b"\r\n")
        if b" " in block or b"\t" in block:
            window = self.tail + block
            if any(sequence in window for sequence in _EXPONENT_SPACES):
                return False
        self.tail = (self.tail + block[-2:])[-2:]
        return True

    def line_endings_are_simple(self) -> bool:
        """Return True when every carriage return seen so far starts a CRLF line ending."""
        return self.carriage_returns == self.crlf_endings


def _parse_numeric(source: str | bytes, skip_lines: int, delimiter: str) -> np.ndarray | None:
    """Parse a file (by path) or its bytes as float64 rows; None on any failure."""
    try:
        import pandas
    except ImportError:
        pandas = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if pandas is not None:
                options = {}
                if int(pandas.__version__.split(".")[0]) < 3:
                    # Before pandas 3 the default float parser may differ from
                    # float() in the last bit; "round_trip" matches it exactly.
                    options["float_precision"] = "round_trip"
                frame = pandas.read_csv(
                    source if isinstance(source, str) else io.BytesIO(source),
                    sep=delimiter,
                    header=None,
                    skiprows=skip_lines,
                    dtype=np.float64,
                    na_filter=False,
                    engine="c",
                    skip_blank_lines=True,
                    # The scan has already rejected compressed bytes, so a
                    # name ending in .gz must not switch on decompression.
                    compression=None,
                    **options,
                )
                numbers = frame.to_numpy(dtype=np.float64, copy=False)
                if not numbers.flags.writeable:
                    # pandas 3 may return a read-only view of the frame's memory
                    # (copy-on-write).  No other reference to the frame exists,
                    # so the view is made writeable instead of copied.
                    try:
                        numbers.flags.writeable = True
                    except ValueError:
                        numbers = numbers.copy(order="K")
                return numbers
            if isinstance(source, str):
                with open(source, "rb") as handle:
                    source = handle.read().removeprefix(b"\xef\xbb\xbf")
            text = io.StringIO(source.decode("ascii"), newline=None)
            return np.loadtxt(text, delimiter=delimiter, skiprows=skip_lines, ndmin=2, dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - any failure hands the file to the exact path
            logger.debug("fast CSV path declined: %s", exc)
            return None


def _read_exact(path: str, text: str, header: bool, delimiter: str) -> RawTable:
    """Split the file with the csv module, keeping the true line of every row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, skipinitialspace=True, strict=True)
    columns: list[str] | None = None
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    previous_line = 0
    try:
        for record in reader:
            start_line = previous_line + 1
            previous_line = reader.line_num
            cells = [cell.strip(_CELL_SPACE) for cell in record]
            if not any(cells) and len(cells) <= 1:
                continue  # a blank line, possibly of spaces only
            if columns is None:
                if header:
                    columns = _check_header(path, cells, start_line)
                    continue
                columns = [str(j) for j in range(len(cells))]
            if len(cells) != len(columns):
                reference = "the header has" if header else "the first row has"
                raise CSVFormatError(
                    f"{path}, line {start_line}: the row has {len(cells)} fields but {reference} "
                    f"{len(columns)}; every row needs one field per column (quote a field that "
                    f"contains the delimiter {delimiter!r})",
                    path,
                    line=start_line,
                )
            rows.append(cells)
            line_numbers.append(start_line)
    except csv.Error as exc:
        line = reader.line_num
        raise CSVFormatError(f"{path}, line {line}: malformed CSV quoting: {exc}", path, line=line) from exc

    if columns is None or not rows:
        what = "only blank lines" if columns is None else "only a header line"
        raise CSVFormatError(f"{path}: no data rows; the file has {what}", path)
    cell_columns = list(zip(*rows))
    return RawTable(path, columns, np.asarray(line_numbers, dtype=np.int64), cells=cell_columns, header=header)


def _check_header(path: str, names: list[str], line: int) -> list[str]:
    for position, name in enumerate(names):
        if not name:
            raise CSVFormatError(
                f"{path}, line {line}: column {position} (0-based) has an empty name in the header; "
                f"name every column, or pass header=False (--no-header) if the file has no header",
                path,
                line=line,
            )
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            raise CSVFormatError(
                f"{path}, line {line}: duplicate column name {name!r} at positions {seen[name]} and {position} "
                f"(0-based); rename one of them",
                path,
                line=line,
                column=name,
            )
        seen[name] = position
    return names


# -- choosing features and target -------------------------------------------


def select(
    raw: RawTable,
    target: str | int | None = None,
    features: list[str | int] | None = None,
    task: Task = "auto",
) -> Dataset:
    """Pick the target and feature columns of a table and convert them.

    Parameters
    ----------
    raw : RawTable
    target : str, int or None
        Column name or 0-based position; None takes the last column.
    features : list of str or int, or None
        Feature columns in the order wanted; None takes every column but the target.
    task : {"auto", "regression", "classification"}
        "auto" treats a target whose cells are all numbers as regression and
        one whose cells are all text as classification.

    Returns
    -------
    Dataset
        ``X`` and a numeric ``y`` may be views of ``raw.numbers``, so
        writing into them changes ``raw``.  They never overlap each other.

    Raises
    ------
    CSVFormatError
        For a missing column, no feature columns, an invalid feature or
        regression target cell, or a target that mixes numbers and text
        under task="auto".
    InvalidParameterError
        For an invalid ``task`` or a column chosen both as target and feature.
    """
    if task not in ("auto", "regression", "classification"):
        raise InvalidParameterError(f"task must be 'auto', 'regression' or 'classification', got {task!r}")
    target_index = len(raw.columns) - 1 if target is None else raw.column_index(target, "target")
    feature_indices = _feature_indices(raw, target_index, features)

    rows = _rows_to_keep(raw, feature_indices + [target_index])
    n_dropped = 0 if rows is None else raw.n_rows - len(rows)
    if n_dropped:
        logger.info("%s: dropped %d rows with empty cells", raw.path, n_dropped)

    resolved_task = _resolve_task(raw, target_index, rows, task)
    if resolved_task == "regression":
        X, y = _regression_columns(raw, feature_indices, target_index, rows)
    else:
        X = numeric_columns(raw, feature_indices, rows)
        y = _class_labels(raw, target_index, rows)
    return Dataset(
        X=X,
        y=y,
        feature_names=[raw.columns[j] for j in feature_indices],
        target_name=raw.columns[target_index],
        task=resolved_task,
        n_dropped=n_dropped,
        path=raw.path,
    )


def _regression_columns(
    raw: RawTable, feature_indices: list[int], target_index: int, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Convert the features and a numeric target, raising for the first bad cell of either in file order."""
    if raw.numbers is not None:
        return numeric_columns(raw, feature_indices, rows), numeric_columns(raw, [target_index], rows)[:, 0]
    values = numeric_columns(raw, feature_indices + [target_index], rows, target=target_index)
    return np.ascontiguousarray(values[:, :-1]), values[:, -1].copy()


def _feature_indices(raw: RawTable, target_index: int, features: list[str | int] | None) -> list[int]:
    if features is None:
        indices = [j for j in range(len(raw.columns)) if j != target_index]
    else:
        if isinstance(features, (str, int)):
            raise InvalidParameterError(f"features must be a list of column names, got {features!r}")
        indices = [raw.column_index(spec, "feature") for spec in features]
        for position, j in enumerate(indices):
            if j == target_index:
                raise InvalidParameterError(
                    f"column {raw.columns[j]!r} is chosen as the target and as a feature; remove it from the features"
                )
            if j in indices[:position]:
                raise InvalidParameterError(f"feature column {raw.columns[j]!r} is listed twice")
    if not indices:
        raise CSVFormatError(
            f"{raw.path}: no feature columns: the file has only the target column "
            f"{shorten_cell(raw.columns[target_index])!r}{delimiter_hint(raw.delimiter)}"
            if len(raw.columns) == 1
            else f"{raw.path}: no feature columns were chosen",
            raw.path,
        )
    return indices


def _rows_to_keep(raw: RawTable, used: list[int]) -> np.ndarray | None:
    """Rows without an empty cell in a used column, when ``drop_missing`` is set; None keeps all."""
    if not raw.drop_missing or raw.cells is None:
        return None
    empty = np.zeros(raw.n_rows, dtype=bool)
    for j in used:
        empty |= np.fromiter((cell == "" for cell in raw.cells[j]), dtype=bool, count=raw.n_rows)
    if empty.all():
        raise CSVFormatError(
            f"{raw.path}: every one of the {raw.n_rows} data rows has an empty cell in a used column, "
            f"so dropping them leaves no data",
            raw.path,
        )
    if not empty.any():
        return None
    return np.flatnonzero(~empty)


def _target_cells(raw: RawTable, j: int, rows: np.ndarray | None) -> list[str]:
    cells = raw.cell_text(j)
    return list(cells) if rows is None else [cells[i] for i in rows]


def _resolve_task(raw: RawTable, j: int, rows: np.ndarray | None, task: Task) -> str:
    if task != "auto":
        return task
    if raw.numbers is not None:
        return "regression"
    cells = _target_cells(raw, j, rows)
    numeric = [looks_numeric(cell) for cell in cells]
    if all(numeric[i] or cells[i] == "" for i in range(len(cells))):
        return "regression"
    if not any(numeric):
        return "classification"
    first_text = next(i for i, cell in enumerate(cells) if cell and not numeric[i])
    file_row = first_text if rows is None else int(rows[first_text])
    line = int(raw.line_numbers[file_row])
    column = raw.columns[j]
    raise CSVFormatError(
        f"{raw.path}, line {line}, column {column!r}: the target mixes numbers and text "
        f"(cell {shorten_cell(cells[first_text])!r}); fix the cell, or set the task to classification "
        f"(task='classification', --task classification on the command line) to use every value as a class label",
        raw.path,
        line=line,
        column=column,
        cell=cells[first_text],
    )


def _class_labels(raw: RawTable, j: int, rows: np.ndarray | None) -> np.ndarray:
    cells = _target_cells(raw, j, rows)
    for i, cell in enumerate(cells):
        if cell == "":
            file_row = i if rows is None else int(rows[i])
            line = int(raw.line_numbers[file_row])
            raise CSVFormatError(
                f"{raw.path}, line {line}, column {raw.columns[j]!r}: the class label is empty; fill it in, "
                f"or drop rows with empty cells (drop_missing=True, or --drop-missing of mlpnet train)",
                raw.path,
                line=line,
                column=raw.columns[j],
                cell=cell,
            )
    numbers = [parse_number(cell) for cell in cells]
    if all(number is not None for number in numbers):
        values = np.asarray(numbers, dtype=np.float64)
        if all(number.is_integer() and abs(number) < _MAX_EXACT_INTEGER for number in numbers):
            return values.astype(np.int64)
        return values
    return np.asarray(cells, dtype=object)


# -- the functions the command line calls ----------------------------------


def load_training_data(
    path: str | os.PathLike[str],
    target: str | int | None = None,
    features: list[str | int] | None = None,
    header: bool = True,
    delimiter: str = ",",
    drop_missing: bool = False,
    task: Task = "auto",
) -> Dataset:
    """Read a CSV file of training data.

    Parameters
    ----------
    path : str or path-like
    target : str, int or None
        The target column's name or 0-based position; None takes the last column.
    features : list of str or int, optional
        Feature columns; None takes every column but the target.
    header : bool, default True
        Whether the first non-blank line contains the column names.
    delimiter : str, default ","
    drop_missing : bool, default False
        Drop rows with an empty cell in a used column instead of raising;
        ``Dataset.n_dropped`` counts them.
    task : {"auto", "regression", "classification"}

    Returns
    -------
    Dataset
        ``X`` is float64 (m, n), row-major or column-major (see
        :class:`Dataset`); ``y`` is (m,).

    Raises
    ------
    CSVFormatError
        Naming the file, line, column and cell of the first problem.
    """
    raw = read_csv(path, header=header, delimiter=delimiter, drop_missing=drop_missing)
    return select(raw, target=target, features=features, task=task)


def load_features(
    path: str | os.PathLike[str],
    feature_names: list[str],
    header: bool = True,
    delimiter: str = ",",
    target: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read the feature columns a saved model needs, and optionally its target column.

    Parameters
    ----------
    path : str or path-like
    feature_names : list of str
        Columns to read, in this order; other columns in the file are ignored.
        Without a header, columns are named "0", "1", ... by position.
    header : bool, default True
    delimiter : str, default ","
    target : str, optional
        A target column to return as text if the file has it.

    Returns
    -------
    X : ndarray of float64, shape (m, len(feature_names))
        Row-major or column-major, as ``Dataset.X`` of :func:`load_training_data`.
    target_column : ndarray of object (str), shape (m,), or None
        None when ``target`` is None or not in the file.  A numeric cell is
        written by :func:`format_number` ("3" for 3.0), so it equals
        ``str(label)`` of the class labels of :func:`load_training_data`;
        other cells are returned with surrounding spaces removed.

    Raises
    ------
    CSVFormatError
        For a missing feature column or an invalid feature cell.
    """
    raw = read_csv(path, header=header, delimiter=delimiter)
    indices = [raw.column_index(name, "feature") for name in feature_names]
    X = numeric_columns(raw, indices, None)
    if target is None or not _has_column(raw, target):
        return X, None
    cells = raw.cell_text(raw.column_index(target, "target"))
    canonical = []
    for cell in cells:
        number = parse_number(cell)
        canonical.append(cell if number is None else format_number(number))
    return X, np.asarray(canonical, dtype=object)


def _has_column(raw: RawTable, spec: str | int) -> bool:
    try:
        raw.column_index(spec)
    except CSVFormatError:
        return False
    return True
