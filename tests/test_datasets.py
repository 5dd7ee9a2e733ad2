"""Tests of the bundled datasets against the copies in the packages they come from."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

from mlpnet.datasets import DATASETS, dataset_path, list_datasets, load_dataset
from mlpnet.errors import InvalidParameterError

SITE_PACKAGES = pathlib.Path(pd.__file__).resolve().parents[1]


def test_list_datasets_names():
    assert [info.name for info in list_datasets()] == ["breast_cancer", "penguins", "stackloss"]
    assert set(DATASETS) == {"breast_cancer", "penguins", "stackloss"}


@pytest.mark.parametrize("info", list_datasets(), ids=lambda info: info.name)
def test_documented_shape_and_task(info):
    data = load_dataset(info.name)
    assert data.X.shape == (info.rows, info.columns - 1)
    assert data.y.shape == (info.rows,)
    assert data.target_name == info.default_target
    assert data.task == info.task
    assert data.X.dtype == np.float64
    assert np.isfinite(data.X).all()
    assert data.n_dropped == 0
    assert dataset_path(info.name).name == info.filename


def test_penguins_matches_palmerpenguins():
    source = pd.read_csv(SITE_PACKAGES / "palmerpenguins" / "data" / "penguins.csv")
    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    expected = source.dropna(subset=columns + ["species"])
    data = load_dataset("penguins")
    assert data.feature_names == columns
    np.testing.assert_array_equal(data.X, expected[columns].to_numpy(dtype=np.float64))
    assert data.y.tolist() == expected["species"].tolist()
    assert sorted(set(data.y)) == ["Adelie", "Chinstrap", "Gentoo"]


def test_stackloss_matches_statsmodels():
    source = pd.read_csv(SITE_PACKAGES / "statsmodels" / "datasets" / "stackloss" / "stackloss.csv")
    data = load_dataset("stackloss")
    assert data.feature_names == ["AIRFLOW", "WATERTEMP", "ACIDCONC"]
    np.testing.assert_array_equal(data.X, source[["AIRFLOW", "WATERTEMP", "ACIDCONC"]].to_numpy(dtype=np.float64))
    np.testing.assert_array_equal(data.y, source["STACKLOSS"].to_numpy(dtype=np.float64))
    # Brownlee's first day: air flow 80, water temperature 27, acid 89, stack loss 42.
    assert data.X[0].tolist() == [80.0, 27.0, 89.0]
    assert data.y[0] == 42.0


def test_breast_cancer_matches_scikit_learn():
    from sklearn.datasets import load_breast_cancer

    reference = load_breast_cancer()
    data = load_dataset("breast_cancer")
    assert data.feature_names == list(reference.feature_names)
    np.testing.assert_array_equal(data.X, reference.data)
    assert data.y.tolist() == [str(reference.target_names[t]) for t in reference.target]
    assert int((data.y == "malignant").sum()) == 212
    assert int((data.y == "benign").sum()) == 357


def test_other_target_and_features():
    data = load_dataset("penguins", target="body_mass_g", features=["flipper_length_mm"])
    assert data.task == "regression"
    assert data.X.shape == (342, 1)
    assert data.y[0] == 3750.0


def test_unknown_dataset_lists_names():
    with pytest.raises(InvalidParameterError, match="breast_cancer, penguins, stackloss"):
        dataset_path("iris")
    with pytest.raises(InvalidParameterError, match="unknown dataset 'iris'"):
        load_dataset("iris")


def test_notice_lists_every_dataset():
    notice = (dataset_path("penguins").parent / "NOTICE").read_text(encoding="utf-8")
    for info in list_datasets():
        assert info.filename in notice
        assert info.licence.split()[0] in notice
    for citation in ("Gorman KB", "Brownlee", "Wolberg"):
        assert citation in notice


def test_csv_files_have_no_missing_values():
    for info in list_datasets():
        text = dataset_path(info.name).read_text(encoding="utf-8")
        lines = text.splitlines()
        assert len(lines) == info.rows + 1
        assert all(",," not in line and not line.endswith(",") and "NA" not in line.split(",") for line in lines)
