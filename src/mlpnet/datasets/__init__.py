"""Small real datasets bundled with mlpnet, stored as CSV files in this package.

The licence, source and changes of each file are listed in the NOTICE file
beside them.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from importlib import resources

from ..errors import InvalidParameterError
from ..io.csv_reader import Dataset, Task, load_training_data


@dataclass(frozen=True)
class DatasetInfo:
    """Facts about one bundled dataset.

    Attributes
    ----------
    name : str
        The name that :func:`load_dataset` and ``mlpnet train --dataset`` take.
    filename : str
        The CSV file inside this package.
    rows : int
        Data rows (the header not counted).
    columns : int
        Columns, the target included.
    default_target : str
    task : {"regression", "classification"}
        The task of the default target.
    licence : str
    source : str
    description : str
    """

    name: str
    filename: str
    rows: int
    columns: int
    default_target: str
    task: str
    licence: str
    source: str
    description: str


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="penguins",
            filename="penguins.csv",
            rows=342,
            columns=5,
            default_target="species",
            task="classification",
            licence="CC0 1.0",
            source="Palmer Station Antarctica LTER, via the palmerpenguins package (Horst, Hill and Gorman)",
            description="Bill length and depth (mm), flipper length (mm) and body mass (g) of 342 penguins "
            "of three species (Adelie, Chinstrap, Gentoo)",
        ),
        DatasetInfo(
            name="stackloss",
            filename="stackloss.csv",
            rows=21,
            columns=4,
            default_target="STACKLOSS",
            task="regression",
            licence="public domain",
            source="Brownlee (1965), Statistical Theory and Methodology in Science and Engineering, "
            "via statsmodels",
            description="21 days of an ammonia oxidation plant: air flow, cooling water temperature and "
            "acid concentration, and the stack loss (ammonia lost, times 10)",
        ),
        DatasetInfo(
            name="breast_cancer",
            filename="breast_cancer.csv",
            rows=569,
            columns=31,
            default_target="diagnosis",
            task="classification",
            licence="CC BY 4.0",
            source="Breast Cancer Wisconsin (Diagnostic), UCI Machine Learning Repository "
            "(Wolberg, Street, Mangasarian), via scikit-learn",
            description="30 measurements of cell nuclei in 569 breast mass images, diagnosed malignant or benign",
        ),
    )
}


def list_datasets() -> list[DatasetInfo]:
    """Return the bundled datasets, sorted by name."""
    return [DATASETS[name] for name in sorted(DATASETS)]


def dataset_path(name: str) -> pathlib.Path:
    """Return the path of a bundled dataset's CSV file.

    Raises
    ------
    InvalidParameterError
        If ``name`` is not a bundled dataset; the message lists the valid names.
    """
    if name not in DATASETS:
        valid = ", ".join(sorted(DATASETS))
        raise InvalidParameterError(f"unknown dataset {name!r}; use one of: {valid}")
    resource = resources.files(__name__).joinpath(DATASETS[name].filename)
    # NOTE: assumes an installed package on disk (a normal or editable
    # install); a package imported from inside a zip archive has no file path.
    return pathlib.Path(str(resource))


def load_dataset(
    name: str,
    target: str | int | None = None,
    features: list[str | int] | None = None,
    task: Task = "auto",
) -> Dataset:
    """Load a bundled dataset like a CSV file given to :func:`mlpnet.io.load_training_data`.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    target : str, int or None
        None takes the dataset's default target.
    features : list of str or int, optional
        None takes every column but the target.
    task : {"auto", "regression", "classification"}

    Returns
    -------
    Dataset
    """
    path = dataset_path(name)
    if target is None:
        target = DATASETS[name].default_target
    return load_training_data(path, target, features=features, task=task)
