"""Tests of the scikit-learn estimators against scikit-learn itself."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator

from mlpnet import InvalidParameterError, NetworkClassifier, NetworkRegressor
from mlpnet.datasets import load_dataset


NOT_APPLICABLE_CHECKS = {
    # The estimators compute with NumPy only; scikit-learn runs this check
    # only when SCIPY_ARRAY_API=1 and an array API library is installed.
    "check_array_api_input",
    # There is no decision_function: the classifier's outputs are probabilities.
    "check_classifiers_multilabel_output_format_decision_function",
}


def sklearn_checks():
    """Yield (estimator, check) pairs for every scikit-learn estimator check that applies."""
    for estimator in (NetworkRegressor(random_state=0), NetworkClassifier(random_state=0)):
        for checked, check in estimator_checks_generator(estimator, legacy=True):
            name = getattr(check, "func", check).__name__
            if name not in NOT_APPLICABLE_CHECKS:
                yield pytest.param(checked, check, id=f"{type(estimator).__name__}-{name}")


@pytest.mark.parametrize("estimator, check", list(sklearn_checks()))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def regression_data(m=40, n_outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    Y = np.column_stack([np.sin(X[:, 0]) + 0.5 * X[:, 1] * k for k in range(1, n_outputs + 1)])
    return X, (Y[:, 0] if n_outputs == 1 else Y)


def classification_data(m=60, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 4))
    scores = X @ rng.normal(size=(4, n_classes))
    return X, np.argmax(scores, axis=1)


def copy_sklearn_weights(estimator, sk_model):
    """Set the fitted estimator's network to scikit-learn's weights (transposed to (n_out, n_in))."""
    estimator.network_.weights = [W.T for W in sk_model.coefs_]
    estimator.network_.biases = list(sk_model.intercepts_)


SGD_SETTINGS = dict(
    solver="sgd",
    momentum=0.0,
    nesterovs_momentum=False,
    alpha=0.0,
    shuffle=False,
    learning_rate="constant",
    tol=0.0,
    n_iter_no_change=10_000,
)


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
def test_regressor_trajectory_equals_sklearn(hidden):
    """mlpnet's squared error is twice scikit-learn's, so sklearn's rate 2 * lr takes the same step."""
    X, y = regression_data(m=30)
    lr, steps = 0.05, 50

    sk = MLPRegressor(hidden_layer_sizes=hidden, activation="tanh", learning_rate_init=2 * lr, batch_size=len(X),
                      max_iter=1, random_state=0, **SGD_SETTINGS)
    with pytest.warns(ConvergenceWarning):
        sk.fit(X, y)
    ours = NetworkRegressor(hidden, activation="tanh", optimizer="gd", learning_rate=lr, batch_size=None,
                            epochs=steps, tol=0.0, warm_start=True, random_state=0)
    ours.fit(X, y)
    copy_sklearn_weights(ours, sk)

    sk.set_params(max_iter=steps, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        sk.fit(X, y)
    ours.fit(X, y)

    for W, sk_W in zip(ours.network_.weights, sk.coefs_):
        np.testing.assert_allclose(W, sk_W.T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_trajectory_equals_sklearn(n_classes):
    """Cross-entropy has no 1/2 factor in either library, so the learning rates are equal."""
    X, y = classification_data(m=40, n_classes=n_classes)
    lr, steps = 0.1, 50

    sk = MLPClassifier(hidden_layer_sizes=(6,), activation="relu", learning_rate_init=lr, batch_size=len(X),
                       max_iter=1, random_state=0, **SGD_SETTINGS)
    with pytest.warns(ConvergenceWarning):
        sk.fit(X, y)
    ours = NetworkClassifier((6,), activation="relu", optimizer="gd", learning_rate=lr, batch_size=None,
                             epochs=steps, tol=0.0, warm_start=True, random_state=0)
    ours.fit(X, y)
    copy_sklearn_weights(ours, sk)

    sk.set_params(max_iter=steps, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        sk.fit(X, y)
    ours.fit(X, y)

    for W, sk_W in zip(ours.network_.weights, sk.coefs_):
        np.testing.assert_allclose(W, sk_W.T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("Estimator", [NetworkRegressor, NetworkClassifier])
def test_partial_fit_equals_fit(Estimator):
    if Estimator is NetworkRegressor:
        X, y = regression_data(m=50)
        extra = {}
    else:
        X, y = classification_data(m=50)
        extra = {"classes": np.unique(y)}
    settings = dict(hidden_layer_sizes=(7,), batch_size=8, shuffle=True, tol=0.0, random_state=3)

    fitted = Estimator(epochs=6, **settings).fit(X, y)
    incremental = Estimator(**settings)
    for _ in range(6):
        incremental.partial_fit(X, y, **extra)

    np.testing.assert_array_equal(fitted.network_.parameters, incremental.network_.parameters)
    assert incremental.n_iter_ == 6
    assert incremental.loss_curve_ == fitted.loss_curve_


def test_partial_fit_continues_after_pickle():
    X, y = classification_data(m=50)
    classes = np.unique(y)
    reference = NetworkClassifier((5,), batch_size=10, tol=0.0, random_state=1)
    restored = NetworkClassifier((5,), batch_size=10, tol=0.0, random_state=1)
    reference.partial_fit(X, y, classes=classes)
    restored.partial_fit(X, y, classes=classes)

    restored = pickle.loads(pickle.dumps(restored))
    for _ in range(3):
        reference.partial_fit(X, y)
        restored.partial_fit(X, y)

    np.testing.assert_array_equal(reference.network_.parameters, restored.network_.parameters)
    assert restored.n_iter_ == 4


def test_partial_fit_classes_rules():
    X, y = classification_data(m=30, n_classes=2)
    classifier = NetworkClassifier((4,), random_state=0)
    with pytest.raises(InvalidParameterError, match="classes must be given"):
        classifier.partial_fit(X, y)

    classifier.partial_fit(X, y, classes=[0, 1, 2])
    assert list(classifier.classes_) == [0, 1, 2]
    assert classifier.predict_proba(X).shape == (30, 3)

    with pytest.raises(InvalidParameterError, match=r"labels \[5\] that are not among"):
        classifier.partial_fit(X, np.where(y == 0, 5, y))


def test_string_labels_and_probabilities():
    X, y = classification_data(m=60, n_classes=3)
    labels = np.array(["adelie", "chinstrap", "gentoo"])[y]
    classifier = NetworkClassifier((8,), epochs=300, learning_rate=0.01, random_state=0).fit(X, labels)

    assert list(classifier.classes_) == ["adelie", "chinstrap", "gentoo"]
    P = classifier.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(classifier.predict(X), classifier.classes_[P.argmax(axis=1)])
    np.testing.assert_allclose(classifier.predict_log_proba(X), np.log(P))
    assert classifier.score(X, labels) > 0.9


def test_binary_probabilities_are_two_columns():
    X, y = classification_data(m=60, n_classes=2)
    classifier = NetworkClassifier((8,), epochs=200, learning_rate=0.01, random_state=0).fit(X, np.where(y == 1, "yes", "no"))
    P = classifier.predict_proba(X)
    assert P.shape == (60, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(classifier.predict(X), np.where(P[:, 1] >= 0.5, "yes", "no"))


def test_multilabel_indicator_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    classifier = NetworkClassifier((8,), epochs=300, learning_rate=0.01, random_state=0).fit(X, Y)
    assert classifier.predict(X).shape == (80, 2)
    assert classifier.predict_proba(X).shape == (80, 2)
    assert (classifier.predict(X) == Y).mean() > 0.9


def test_regressor_output_shapes():
    X, y = regression_data(m=30)
    regressor = NetworkRegressor((4,), epochs=5, tol=0.0, random_state=0)
    assert regressor.fit(X, y).predict(X).shape == (30,)
    assert regressor.fit(X, y.reshape(-1, 1)).predict(X).shape == (30,)

    X, Y = regression_data(m=30, n_outputs=2)
    assert regressor.fit(X, Y).predict(X).shape == (30, 2)
    assert regressor.n_outputs_ == 2


def test_sample_weight_equals_repeated_rows():
    """Full-batch gradient descent with weight 2 on a row takes the step of that row listed twice."""
    X, y = regression_data(m=12)
    weights = np.ones(12)
    weights[:4] = 2.0
    repeated_X = np.vstack([X, X[:4]])
    repeated_y = np.concatenate([y, y[:4]])
    settings = dict(hidden_layer_sizes=(5,), optimizer="gd", learning_rate=0.1, batch_size=None,
                    epochs=20, tol=0.0, random_state=0)

    weighted = NetworkRegressor(**settings).fit(X, y, sample_weight=weights)
    repeated = NetworkRegressor(**settings).fit(repeated_X, repeated_y)

    np.testing.assert_allclose(weighted.network_.parameters, repeated.network_.parameters, rtol=1e-12)


def test_float32_input_stays_float32():
    X, y = regression_data(m=30)
    regressor = NetworkRegressor((4,), epochs=3, tol=0.0, random_state=0).fit(X.astype(np.float32), y)
    assert regressor.network_.dtype == np.float32
    assert regressor.predict(X.astype(np.float32)).dtype == np.float32


def test_dataframe_feature_names():
    pandas = pytest.importorskip("pandas")
    X, y = regression_data(m=20)
    frame = pandas.DataFrame(X, columns=["a", "b", "c"])
    regressor = NetworkRegressor((3,), epochs=3, tol=0.0, random_state=0).fit(frame, y)
    assert list(regressor.feature_names_in_) == ["a", "b", "c"]
    assert regressor.n_features_in_ == 3


def test_pipeline_grid_search_and_cross_validation():
    X, y = classification_data(m=90, n_classes=3)
    pipeline = make_pipeline(StandardScaler(), NetworkClassifier((6,), epochs=50, learning_rate=0.05, random_state=0))
    search = GridSearchCV(pipeline, {"networkclassifier__learning_rate": [0.0001, 0.05]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["networkclassifier__learning_rate"] == 0.05

    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.6

    cloned = clone(pipeline)
    assert cloned.get_params()["networkclassifier__epochs"] == 50
    assert not hasattr(cloned[-1], "network_")


def test_invalid_parameters_raise_in_fit():
    X, y = regression_data(m=10)
    cases = [
        (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
        (dict(optimizer="lbfgs"), "optimizer must be one of"),
        (dict(epochs=0), "epochs must be an integer"),
        (dict(batch_size=-1), "batch_size must be"),
        (dict(loss="crossentropy"), "loss must be 'mse', 'mae' or 'huber'"),
        (dict(early_stopping=True, validation_fraction=1.5), "validation_fraction"),
        (dict(dtype="int8"), "dtype must be"),
    ]
    for params, message in cases:
        with pytest.raises(InvalidParameterError, match=message):
            NetworkRegressor(**params).fit(X, y)


def test_early_stopping_records_validation_scores():
    X, y = classification_data(m=100, n_classes=2)
    classifier = NetworkClassifier((6,), early_stopping=True, patience=3, epochs=300, random_state=0)
    classifier.fit(X, y)
    assert len(classifier.validation_scores_) == classifier.n_iter_
    assert classifier.best_validation_score_ == max(classifier.validation_scores_)
    assert classifier.best_loss_ is None


@pytest.mark.parametrize("name", ["penguins", "breast_cancer"])
def test_classifier_quality_matches_sklearn(name):
    data = load_dataset(name)
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=0.3, random_state=0)
    ours = make_pipeline(StandardScaler(), NetworkClassifier(random_state=0))
    theirs = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours_score = ours.fit(X_train, y_train).score(X_test, y_test)
        theirs_score = theirs.fit(X_train, y_train).score(X_test, y_test)
    assert ours_score >= theirs_score - 0.02


def test_regressor_quality_matches_sklearn():
    data = load_dataset("stackloss")
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=0.3, random_state=0)
    ours = make_pipeline(StandardScaler(), NetworkRegressor(random_state=0))
    theirs = make_pipeline(StandardScaler(), MLPRegressor(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours_score = ours.fit(X_train, y_train).score(X_test, y_test)
        theirs_score = theirs.fit(X_train, y_train).score(X_test, y_test)
    assert ours_score >= theirs_score - 0.02
