"""Standardization and label encoding, against scikit-learn's StandardScaler and hand-worked values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from mlpnet.errors import InvalidDataError
from mlpnet.preprocessing import (
    class_probabilities,
    class_targets,
    encode_labels,
    find_classes,
    fit_standardization,
    standardize,
    unstandardize,
)


def test_standardization_matches_sklearn():
    rng = np.random.default_rng(1)
    X = rng.normal(loc=[3.0, -20.0, 0.5], scale=[2.0, 15.0, 0.01], size=(40, 3))

    scaling = fit_standardization(X)
    reference = StandardScaler().fit(X)

    np.testing.assert_allclose(scaling.mean, reference.mean_, rtol=1e-14)
    np.testing.assert_allclose(scaling.scale, reference.scale_, rtol=1e-14)
    np.testing.assert_allclose(standardize(X, scaling), reference.transform(X), rtol=1e-12, atol=1e-14)


def test_standardization_of_huge_columns():
    # Column 0 is 1e200 times [1, 3, 2], whose squares overflow.  Column 1
    # contains +-1.7e308 and 0, whose sum overflows.  By hand, both columns have
    # population standard deviation c sqrt(2 / 3) for c = 1e200 and 1.7e308,
    # and means 2e200 and 0, so they standardize to -+sqrt(1.5) and 0.
    X = np.array([[1e200, 1.7e308], [3e200, -1.7e308], [2e200, 0.0]])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaling = fit_standardization(X)
        standardized = standardize(X, scaling)

    np.testing.assert_allclose(scaling.mean, [2e200, 0.0], rtol=1e-15, atol=1e293)
    np.testing.assert_allclose(scaling.scale, [np.sqrt(2 / 3) * 1e200, 1.7e308 * np.sqrt(2 / 3)], rtol=1e-15)
    expected = np.array([[-np.sqrt(1.5), np.sqrt(1.5)], [np.sqrt(1.5), -np.sqrt(1.5)], [0.0, 0.0]])
    np.testing.assert_allclose(standardized, expected, rtol=1e-14, atol=1e-14)


def test_unstandardize_inverts_standardize():
    X = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    scaling = fit_standardization(X)
    np.testing.assert_allclose(unstandardize(standardize(X, scaling), scaling), X, rtol=1e-15)


def test_constant_column_gives_zeros_without_warning():
    # 0.1 * 3 / 3 is not exactly 0.1 in float64, so a plain std would be ~1e-17, not 0.
    X = np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            scaling = fit_standardization(X)
            Z = standardize(X, scaling)

    assert scaling.scale[0] == 1.0
    assert np.all(Z[:, 0] == 0.0)
    # Column 2: mean 2, population std sqrt(2/3).
    np.testing.assert_allclose(Z[:, 1], np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0 / 3.0), rtol=1e-15)


def test_single_row_standardizes_to_zeros():
    X = np.array([[0.5, -1.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = standardize(X, fit_standardization(X))
    assert Z.shape == (1, 3)
    assert np.all(Z == 0.0)


def test_standardization_rejects_empty_input():
    with pytest.raises(InvalidDataError, match=r"at least one row, got shape \(0, 2\)"):
        fit_standardization(np.zeros((0, 2)))


def test_classes_sort_numbers_by_value():
    assert find_classes(np.array([10, 2, 2, 1])) == ["1", "2", "10"]
    assert find_classes(np.array([1.0, 0.0])) == ["0", "1"]
    assert find_classes(np.array(["b", "a", "c", "a"], dtype=object)) == ["a", "b", "c"]


def test_encode_labels_matches_text_and_number():
    classes = ["0", "1", "2"]
    np.testing.assert_array_equal(encode_labels(np.array([2, 0, 1]), classes), [2, 0, 1])
    np.testing.assert_array_equal(encode_labels(["1.0", " 2 ", "0"], classes), [1, 2, 0])


def test_encode_labels_rejects_unknown_label():
    with pytest.raises(InvalidDataError, match=r"unknown class label 'Emperor' in row 1 .*'Adelie', 'Gentoo'"):
        encode_labels(["Adelie", "Emperor"], ["Adelie", "Gentoo"])


def test_class_targets_binary_and_one_hot():
    indices = np.array([1, 0, 2])
    np.testing.assert_array_equal(class_targets(np.array([1, 0]), 1), [[1.0], [0.0]])
    np.testing.assert_array_equal(class_targets(indices, 3), [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


def test_class_probabilities_of_one_sigmoid_output():
    np.testing.assert_allclose(class_probabilities(np.array([[0.25], [1.0]])), [[0.75, 0.25], [0.0, 1.0]])
    softmax = np.array([[0.2, 0.5, 0.3]])
    np.testing.assert_array_equal(class_probabilities(softmax), softmax)
