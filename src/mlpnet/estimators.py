"""scikit-learn estimators built on :class:`~mlpnet.network.Network`.

:class:`NetworkRegressor` and :class:`NetworkClassifier` follow scikit-learn's
estimator contract (constructor parameters stored unchanged and validated in
``fit``, fitted attributes ending in ``_``, ``partial_fit``, cloning and
pickling), so they work in ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``.  They need the ``sklearn`` extra.

The defaults are scikit-learn's MLP defaults: 100 ReLU units, Adam with
learning rate 0.001, 200 epochs and mini-batches of min(200, m).  They
differ from the plain full-batch gradient descent of :meth:`Network.fit`
because gradient descent needs a learning rate tuned to each data set,
while Adam trains every bundled data set well with one setting.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .errors import InvalidParameterError
from .network import Network
from .training import EarlyStopping

OPTIMIZERS = ("gd", "sgd", "momentum", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")


class BaseNetworkEstimator(BaseEstimator):
    """Parameters and training shared by the regressor and the classifier."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss=None,
        optimizer="adam",
        learning_rate=0.001,
        epochs=200,
        batch_size="auto",
        shuffle=True,
        l2=0.0,
        momentum=0.9,
        nesterov=False,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        schedule="constant",
        schedule_options=None,
        early_stopping=False,
        validation_fraction=0.1,
        patience=10,
        tol=1e-4,
        init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        dtype=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.l2 = l2
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule = schedule
        self.schedule_options = schedule_options
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.init = init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    # -- parameter checks --------------------------------------------------

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = [sizes]
        try:
            sizes = list(sizes)
        except TypeError as exc:
            raise InvalidParameterError(
                f"hidden_layer_sizes must be a tuple of positive integers such as (16, 16), got {sizes!r}"
            ) from exc
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
                raise InvalidParameterError(
                    f"hidden_layer_sizes must hold positive integers, got {self.hidden_layer_sizes!r}"
                )
        return [int(size) for size in sizes]

    def _check_parameters(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise InvalidParameterError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.schedule not in SCHEDULES:
            raise InvalidParameterError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        for name in ("epochs", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise InvalidParameterError(f"{name} must be an integer >= 1, got {value!r}")
        batch_size = self.batch_size
        if batch_size not in ("auto", None) and (
            isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
        ):
            raise InvalidParameterError(
                f"batch_size must be 'auto', None (the full batch) or an integer >= 1, got {batch_size!r}"
            )
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
            raise InvalidParameterError(f"tol must be a number >= 0, got {tol!r}")
        fraction = self.validation_fraction
        if self.early_stopping and (
            not isinstance(fraction, numbers.Real) or not 0.0 < fraction < 1.0
        ):
            raise InvalidParameterError(
                f"validation_fraction must be a number in (0, 1) when early_stopping is on, got {fraction!r}"
            )
        if self.dtype not in (None, "float32", "float64", np.float32, np.float64):
            raise InvalidParameterError(
                f"dtype must be None (float32 input stays float32, anything else becomes float64), "
                f"'float32' or 'float64', got {self.dtype!r}"
            )

    def _network_dtype(self, X: np.ndarray) -> np.dtype:
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)

    def _seed(self) -> int | None:
        """Turn random_state into the integer seed that a Network takes."""
        state = self.random_state
        if state is None or (isinstance(state, numbers.Integral) and not isinstance(state, bool)):
            return None if state is None else int(state)
        if isinstance(state, np.random.RandomState):
            return int(state.randint(np.iinfo(np.int32).max))
        if isinstance(state, np.random.Generator):
            return int(state.integers(np.iinfo(np.int32).max))
        raise InvalidParameterError(
            f"random_state must be None, an int, a numpy RandomState or Generator, got {state!r}"
        )

    # -- training ----------------------------------------------------------

    def _build_network(self, n_features: int, n_outputs: int, dtype: np.dtype) -> Network:
        return Network(
            [n_features, *self._hidden_sizes(), n_outputs],
            activation=self.activation,
            output_activation=self._output_activation(),
            seed=self._seed(),
            dtype=dtype,
            init=self.init,
        )

    def _fit_options(self, n_samples: int, epochs: int, incremental: bool) -> dict[str, Any]:
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = min(200, n_samples)
        options: dict[str, Any] = {
            "loss": self._loss_name(),
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "epochs": epochs,
            "batch_size": batch_size,
            "shuffle": self.shuffle,
            "l2": self.l2,
            "schedule": self.schedule,
            "schedule_options": self.schedule_options,
        }
        if self.optimizer == "momentum":
            options.update(momentum=self.momentum, nesterov=self.nesterov)
        if self.optimizer in ("adam", "adamw"):
            options.update(beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon)
        if self.optimizer == "rmsprop":
            options.update(epsilon=self.epsilon)
        if incremental:
            return options

        if self.early_stopping:
            options.update(validation_fraction=self.validation_fraction)
            options.update(
                early_stopping=EarlyStopping(
                    monitor="val_loss", patience=self.patience, min_delta=self.tol, restore_best_weights=True
                ),
                metrics=[self._score_metric()],
            )
        elif self.tol > 0:
            options.update(
                early_stopping=EarlyStopping(monitor="loss", patience=self.patience, min_delta=self.tol)
            )
        return options

    def _train(self, X, Y, sample_weight, epochs: int, incremental: bool, accumulate: bool):
        options = self._fit_options(X.shape[0], epochs, incremental)
        history = self.network_.fit(X, Y, sample_weight=sample_weight, **options)

        if not accumulate:
            self.loss_curve_, self.n_iter_ = [], 0
            self.validation_scores_ = self.best_validation_score_ = None
        self.loss_curve_ = self.loss_curve_ + list(history.loss)
        self.n_iter_ += len(history.loss)
        self.best_loss_ = float(np.min(self.loss_curve_))

        score_name = "val_" + self._score_metric()
        if score_name in history.metrics:
            self.validation_scores_ = list(history.metrics[score_name])
            self.best_validation_score_ = float(np.max(self.validation_scores_))
            self.best_loss_ = None

        if not incremental and history.stopped_epoch is None and self.tol > 0:
            warnings.warn(
                f"{type(self).__name__} ran all {epochs} epochs without the training loss settling "
                f"(improving by less than tol={self.tol} for {self.patience} epochs); "
                f"raise epochs or the learning rate",
                ConvergenceWarning,
                stacklevel=3,
            )
        return history

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        self._check_parameters()
        first_call = not (incremental or self.warm_start) or not hasattr(self, "network_")
        X, y = validate_data(
            self,
            X,
            y,
            reset=first_call,
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=not isinstance(self, ClassifierMixin),
        )
        Y = self._encode_targets(y, first_call, classes, incremental)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)

        if first_call:
            self.network_ = self._build_network(X.shape[1], Y.shape[1], self._network_dtype(X))
        epochs = 1 if incremental else self.epochs
        self._train(X, Y, sample_weight, epochs, incremental, accumulate=not first_call)
        return self

    def _predict_raw(self, X) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


class NetworkRegressor(RegressorMixin, BaseNetworkEstimator):
    """A multi-layer perceptron regressor.

    The loss is mlpnet's squared error by default: the mean over samples of
    the sum over outputs of (yhat - y)^2, with no 1/2 factor.  scikit-learn's
    MLPRegressor minimizes half of that, so its learning rate 2 * lr takes
    the same plain-SGD step as lr here.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
    activation : str or list of str, default "relu"
        The hidden activation: identity, sigmoid (or logistic), tanh, relu,
        leaky_relu, elu or softplus.
    loss : {"mse", "mae", "huber"} or None, default None (mse)
    optimizer : {"gd", "sgd", "momentum", "adam", "adamw", "rmsprop"}, default "adam"
    learning_rate : float, default 0.001
    epochs : int, default 200
        The number of passes over the training data (``max_iter`` in scikit-learn).
    batch_size : int, "auto" or None, default "auto"
        Rows per mini-batch; "auto" is min(200, m) and None the full batch.
    shuffle : bool, default True
    l2 : float, default 0.0
        Adds (l2 / 2) * sum ||W||^2 over the weights to the loss.
    momentum, nesterov : float and bool, default 0.9 and False
        For optimizer="momentum".
    beta1, beta2, epsilon : float, default 0.9, 0.999, 1e-8
        For Adam and AdamW; epsilon also for RMSprop.
    schedule : {"constant", "step", "exponential", "cosine", "plateau"}, default "constant"
    schedule_options : dict or None
        The schedule's settings, as :func:`mlpnet.training.fit` takes them.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the rows and stop when their loss
        has not improved by ``tol`` for ``patience`` epochs, restoring the best weights.
    validation_fraction : float, default 0.1
    patience : int, default 10
        Epochs without improvement by more than ``tol`` before stopping
        (``n_iter_no_change`` in scikit-learn).
    tol : float, default 1e-4
        The improvement of the training loss (or of the validation loss with
        early stopping) that counts; 0 turns stopping off.
    init : str or None, default None
        The initialization scheme; see :mod:`mlpnet.initializers`.
    random_state : int, RandomState, Generator or None, default None
        Seeds the network's generator (initial weights and batch order).
    warm_start : bool, default False
        Continue from the previous fit's weights and optimizer state.
    verbose : int, default 0
        Unused; mlpnet logs through the ``logging`` module.
    dtype : {None, "float32", "float64"}, default None
        None keeps float32 input in float32 and uses float64 otherwise.

    Attributes
    ----------
    network_ : Network
        The trained network.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.
    n_outputs_ : int
    loss_curve_ : list of float
        The training loss per epoch.
    validation_scores_ : list of float or None
        R2 on the held-out rows per epoch, with early stopping.
    best_loss_ : float or None
        The lowest training loss, without early stopping.
    n_iter_ : int
        Epochs run.
    """

    def _loss_name(self) -> str:
        loss = self.loss or "mse"
        if loss not in ("mse", "mae", "huber"):
            raise InvalidParameterError(
                f"loss must be 'mse', 'mae' or 'huber' for NetworkRegressor, got {self.loss!r}"
            )
        return loss

    def _output_activation(self) -> str:
        return "identity"

    def _score_metric(self) -> str:
        return "r2"

    def _encode_targets(self, y, first_call: bool, classes, incremental: bool) -> np.ndarray:
        y = np.asarray(y)
        if first_call:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            self._predict_1d = y.ndim == 1 or y.shape[1] == 1
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape[1] != self.n_outputs_:
            raise InvalidParameterError(
                f"y has {Y.shape[1]} outputs but the model was fitted with {self.n_outputs_}; "
                f"pass y with {self.n_outputs_} columns or refit with warm_start=False"
            )
        return Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Train the network on X (m, n_features) and y (m,) or (m, n_outputs)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch, continuing from the current weights and optimizer state."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predict targets: shape (m,) for one output, else (m, n_outputs)."""
        Y_hat = self._predict_raw(X)
        return Y_hat[:, 0] if self._predict_1d else Y_hat


class NetworkClassifier(ClassifierMixin, BaseNetworkEstimator):
    """A multi-layer perceptron classifier.

    Two classes use one sigmoid output with binary cross-entropy, more
    classes a softmax output with categorical cross-entropy, and a
    multi-label indicator matrix one sigmoid output per label.  The
    cross-entropy has no 1/2 factor, so scikit-learn's MLPClassifier takes
    the same plain-SGD step with the same learning rate.

    Parameters
    ----------
    See :class:`NetworkRegressor`; ``loss`` is chosen from the targets and
    may only be None, "binary_crossentropy" or "crossentropy" to match them.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,), or list of such arrays for multi-label
    network_, n_features_in_, feature_names_in_, loss_curve_,
    validation_scores_, best_loss_, n_iter_ :
        As in :class:`NetworkRegressor`; validation_scores_ hold accuracy.
    """

    def _loss_name(self) -> str:
        expected = "crossentropy" if self._output_activation() == "softmax" else "binary_crossentropy"
        if self.loss not in (None, expected):
            raise InvalidParameterError(
                f"loss must be None or {expected!r} for these targets, got {self.loss!r}"
            )
        return expected

    def _output_activation(self) -> str:
        return "softmax" if self._label_kind == "multiclass" else "sigmoid"

    def _score_metric(self) -> str:
        return "accuracy"

    def _encode_targets(self, y, first_call: bool, classes, incremental: bool) -> np.ndarray:
        y = np.asarray(y)
        if first_call:
            if incremental and classes is None:
                raise InvalidParameterError(
                    "classes must be given on the first call of partial_fit, "
                    "for example classes=np.unique(y_all)"
                )
            target_type = type_of_target(y, input_name="y", raise_unknown=True)
            if target_type not in ("binary", "multiclass", "multilabel-indicator"):
                raise InvalidParameterError(
                    f"NetworkClassifier needs class labels, got targets of type {target_type!r}; "
                    f"use NetworkRegressor for continuous targets"
                )
            if target_type == "multilabel-indicator":
                self._label_kind = "multilabel"
                self.classes_ = np.arange(y.shape[1])
                self._binarizer = None
            else:
                labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
                self.classes_ = labels
                self._label_kind = "binary" if len(labels) <= 2 else "multiclass"
                self._binarizer = LabelBinarizer().fit(labels)
        elif incremental and classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise InvalidParameterError(
                f"classes={np.unique(classes).tolist()} differs from the classes of the first partial_fit "
                f"call, {self.classes_.tolist()}"
            )

        if self._label_kind == "multilabel":
            return y.astype(np.float64)

        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise InvalidParameterError(
                f"y contains labels {unknown.tolist()} that are not among the declared classes "
                f"{self.classes_.tolist()}; pass every label in classes= on the first partial_fit call"
            )
        if len(self.classes_) == 1:
            return np.ones((y.shape[0], 1))
        return self._binarizer.transform(y).astype(np.float64)

    def fit(self, X, y, sample_weight=None):
        """Train the network on X (m, n_features) and class labels y (m,) or an indicator matrix."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch; the first call needs ``classes``, every label that can occur."""
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Predict class probabilities, (m, n_classes), columns in the order of ``classes_``."""
        P = self._predict_raw(X)
        if self._label_kind == "binary":
            if len(self.classes_) == 1:
                return np.ones((P.shape[0], 1), dtype=P.dtype)
            return np.hstack([1.0 - P, P])
        return P

    def predict_log_proba(self, X) -> np.ndarray:
        """Predict the logarithm of the class probabilities, (m, n_classes)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Predict class labels, (m,), or an indicator matrix for multi-label targets."""
        P = self._predict_raw(X)
        if self._label_kind == "multilabel":
            return (P >= 0.5).astype(int)
        if self._label_kind == "binary":
            if len(self.classes_) == 1:
                return np.full(P.shape[0], self.classes_[0])
            return self.classes_[(P[:, 0] >= 0.5).astype(int)]
        return self.classes_[np.argmax(P, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
