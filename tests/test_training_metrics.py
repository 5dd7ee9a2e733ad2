"""mlpnet.metrics against sklearn.metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from mlpnet import metrics
from mlpnet.errors import InvalidDataError

rng = np.random.default_rng(0)
Y_ONE = rng.normal(size=40)
P_ONE = Y_ONE + 0.3 * rng.normal(size=40)
Y_MANY = rng.normal(size=(40, 3)) * [1.0, 5.0, 0.1]
P_MANY = Y_MANY + rng.normal(size=(40, 3))
WEIGHTS = rng.uniform(0.0, 2.0, size=40)

REGRESSION = [
    (metrics.mean_squared_error, sk.mean_squared_error),
    (metrics.root_mean_squared_error, sk.root_mean_squared_error),
    (metrics.mean_absolute_error, sk.mean_absolute_error),
    (metrics.r2_score, sk.r2_score),
]


@pytest.mark.parametrize("ours, theirs", REGRESSION, ids=[f.__name__ for f, _ in REGRESSION])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("outputs", ["one", "column", "three"])
def test_regression_metric_matches_sklearn(ours, theirs, weighted, outputs):
    y_true, y_pred = {
        "one": (Y_ONE, P_ONE),
        "column": (Y_ONE.reshape(-1, 1), P_ONE.reshape(-1, 1)),
        "three": (Y_MANY, P_MANY),
    }[outputs]
    weights = WEIGHTS if weighted else None

    assert ours(y_true, y_pred, sample_weight=weights) == pytest.approx(
        theirs(y_true, y_pred, sample_weight=weights), rel=1e-12
    )


def test_r2_of_constant_targets_matches_sklearn():
    y_true = np.column_stack([np.full(5, 2.0), np.arange(5.0), np.full(5, 1.0)])
    y_pred = np.column_stack([np.full(5, 2.0), np.arange(5.0) + 0.5, np.arange(5.0)])

    assert metrics.r2_score(y_true, y_pred) == pytest.approx(sk.r2_score(y_true, y_pred), rel=1e-12)


def test_regression_metrics_of_huge_targets():
    # Targets near 1e200: the squares overflow.  RMSE and MAE scale with the
    # data and R2 does not, so scikit-learn's values on the unscaled numbers,
    # times 1e200 where they scale, are the reference.
    y = np.array([1.0, 2.0, 4.0, 7.0])
    y_hat = np.array([1.5, 1.0, 4.5, 6.0])
    scale = 1e200

    with np.errstate(all="raise"):
        rmse = metrics.root_mean_squared_error(y * scale, y_hat * scale)
        mae = metrics.mean_absolute_error(y * scale, y_hat * scale)
        r2 = metrics.r2_score(y * scale, y_hat * scale)
        mse = metrics.mean_squared_error(y * scale, y_hat * scale)

    np.testing.assert_allclose(rmse, scale * np.sqrt(sk.mean_squared_error(y, y_hat)), rtol=1e-14)
    np.testing.assert_allclose(mae, scale * sk.mean_absolute_error(y, y_hat), rtol=1e-14)
    np.testing.assert_allclose(r2, sk.r2_score(y, y_hat), rtol=1e-14)
    assert mse == np.inf


def test_accuracy_matches_sklearn():
    y_true = rng.integers(0, 4, size=50)
    y_pred = np.where(rng.uniform(size=50) < 0.7, y_true, rng.integers(0, 4, size=50))

    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    weights = rng.uniform(size=50)
    assert metrics.accuracy(y_true, y_pred, sample_weight=weights) == pytest.approx(
        sk.accuracy_score(y_true, y_pred, sample_weight=weights), rel=1e-12
    )
    assert metrics.accuracy(["a", "b", "b"], ["a", "b", "a"]) == pytest.approx(2 / 3)


def test_binary_log_loss_matches_sklearn_at_saturation():
    y_true = np.array([1, 0, 0, 1, 1, 0])
    p = np.array([1.0, 0.0, 1.0, 0.62, 0.0, 4e-18])

    ours = metrics.log_loss(y_true, p)

    assert np.isfinite(ours)
    assert ours == pytest.approx(sk.log_loss(y_true, p, labels=[0, 1]), rel=1e-12)
    assert metrics.log_loss(y_true, p.reshape(-1, 1)) == pytest.approx(ours, rel=1e-15)


def test_multiclass_log_loss_matches_sklearn():
    labels = rng.integers(0, 3, size=30)
    logits = rng.normal(size=(30, 3)) * 3
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    weights = rng.uniform(size=30)

    expected = sk.log_loss(labels, proba, labels=[0, 1, 2], sample_weight=weights)

    assert metrics.log_loss(labels, proba, sample_weight=weights) == pytest.approx(expected, rel=1e-12)
    assert metrics.log_loss(np.eye(3)[labels], proba, sample_weight=weights) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("labels", [None, [2, 0, 1], [0, 1]])
def test_confusion_matrix_matches_sklearn(labels):
    y_true = rng.integers(0, 3, size=60)
    y_pred = rng.integers(0, 3, size=60)

    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred, labels=labels), sk.confusion_matrix(y_true, y_pred, labels=labels)
    )


def test_confusion_matrix_of_string_labels_matches_sklearn():
    y_true = ["cat", "dog", "dog", "bird", "cat"]
    y_pred = ["dog", "dog", "cat", "bird", "cat"]

    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred), sk.confusion_matrix(y_true, y_pred))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.mean_squared_error([1.0, 2.0], [1.0]), r"y_true has shape \(2, 1\) but y_pred has shape \(1, 1\)"),
        (lambda: metrics.mean_absolute_error([1.0, np.nan], [1.0, 2.0]), r"y_true contains NaN at row 1"),
        (lambda: metrics.r2_score([], []), r"y_true is empty"),
        (lambda: metrics.accuracy([1, 2], [1, 2, 3]), r"y_true has 2 labels but y_pred has 3"),
        (lambda: metrics.log_loss([0, 1], [0.5, 1.5]), r"y_proba must hold probabilities in \[0, 1\]"),
        (lambda: metrics.log_loss([0, 3], [[0.5, 0.5], [0.2, 0.8]]), r"integer labels 0..1 for 2 classes"),
        (lambda: metrics.confusion_matrix([0, 1], [0, 1], labels=[1, 1]), r"labels must not repeat"),
    ],
    ids=["shape", "nan", "empty", "label_count", "probability_range", "label_range", "repeated_labels"],
)
def test_invalid_metric_input_is_rejected(call, message):
    with pytest.raises(InvalidDataError, match=message):
        call()
