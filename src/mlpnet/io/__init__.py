"""Reading data files and reading and writing model files."""

from .atomic import atomic_write, check_writable
from .csv_reader import CSVFormatError, Dataset, RawTable, load_features, load_training_data, read_csv, select

__all__ = [
    "CSVFormatError",
    "Dataset",
    "RawTable",
    "atomic_write",
    "check_writable",
    "load_features",
    "load_training_data",
    "read_csv",
    "select",
]
