"""Validation of every fit argument, in one place, before any arithmetic.

:func:`resolve_settings` checks the data with the core's checks and each
option with the same kind of message (what is invalid, the value received,
what to do), and returns a :class:`FitSettings`.  It changes nothing on the
network, so a call that fails here leaves the network as it was.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidParameterError
from ..losses import Loss, check_loss_matches_output, get_loss
from ..validation import (
    check_features,
    check_positive_float,
    check_positive_int,
    check_sample_weight,
    check_targets,
)
from .batching import validation_split
from .callbacks import Callback, EarlyStopping, as_callback
from .evaluation import METRIC_NAMES
from .optimizers import Optimizer, make_optimizer
from .schedules import PlateauSchedule, Schedule, make_schedule

if TYPE_CHECKING:
    from ..network import Network

logger = logging.getLogger(__name__)


@dataclass
class DataSet:
    """Validated rows: X (m, n_inputs), Y (m, n_outputs), optional weights (m,)."""

    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    def rows(self, index: np.ndarray) -> DataSet:
        weights = None if self.sample_weight is None else self.sample_weight[index]
        return DataSet(self.X[index], self.Y[index], weights)


@dataclass
class FitSettings:
    """Every fit option, validated and resolved to objects."""

    loss: Loss
    train: DataSet
    validation: DataSet | None
    optimizer: Optimizer
    schedule: Schedule
    learning_rate: float
    epochs: int
    batch_size: int
    shuffle: bool
    l2: float
    clip_norm: float | None
    metrics: tuple[str, ...]
    early_stopping: EarlyStopping | None
    callbacks: list[Callback] = field(default_factory=list)
    validation_seed: int | None = None
    # The data-parallel backend of Dask input (mlpnet.distributed), or None.
    backend: Any = None


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_seed(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InvalidParameterError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


# -- data ---------------------------------------------------------------------


def check_training_data(net: Network, X: Any, Y: Any, sample_weight: Any) -> DataSet:
    X = check_features(X, net.n_inputs, net.dtype)
    Y = check_targets(Y, X.shape[0], net.n_outputs, net.dtype)
    weights = check_sample_weight(sample_weight, X.shape[0], net.dtype)
    return DataSet(X, Y, weights)


def check_validation_data(net: Network, validation_data: Any) -> DataSet:
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise InvalidParameterError(
            f"validation_data must be a tuple (X_val, Y_val) or (X_val, Y_val, sample_weight_val), "
            f"got {type(validation_data).__name__}"
            + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
        )
    X_val = check_features(validation_data[0], net.n_inputs, net.dtype, name="X_val")
    Y_val = check_targets(validation_data[1], X_val.shape[0], net.n_outputs, net.dtype, name="Y_val")
    weights = None
    if len(validation_data) == 3:
        weights = check_sample_weight(validation_data[2], X_val.shape[0], net.dtype)
    return DataSet(X_val, Y_val, weights)


def resolve_validation_seed(net: Network, validation_seed: Any) -> int | None:
    """Return the split seed: the argument, else the network's integer seed, else None.

    None means "use the seed stored in ``net.training_state``", which the
    loop draws once and keeps, so later fit calls split the same way.
    """
    if validation_seed is not None:
        return check_seed(validation_seed, "validation_seed")
    if isinstance(net.seed, numbers.Integral) and not isinstance(net.seed, bool) and net.seed >= 0:
        return int(net.seed)
    return net.training_state.get("validation_seed")


def split_data(
    net: Network, data: DataSet, validation_data: Any, validation_fraction: Any, validation_seed: Any
) -> tuple[DataSet, DataSet | None, int | None]:
    """Return the training rows, the validation rows (or None) and the split seed used."""
    if validation_data is not None and validation_fraction is not None:
        raise InvalidParameterError(
            "validation_data and validation_fraction were both given; pass only one of them"
        )
    if validation_data is not None:
        return data, check_validation_data(net, validation_data), None
    if validation_fraction is None:
        if validation_seed is not None:
            raise InvalidParameterError(
                f"validation_seed={validation_seed!r} applies only with validation_fraction; "
                f"remove it or set validation_fraction"
            )
        return data, None, None

    fraction = check_positive_float(validation_fraction, "validation_fraction")
    if fraction >= 1.0:
        raise InvalidParameterError(f"validation_fraction must be a number in (0, 1), got {validation_fraction!r}")
    m = data.n_samples
    seed = resolve_validation_seed(net, validation_seed)
    split_seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    train_rows, validation_rows = validation_split(m, fraction, split_seed)
    if train_rows.size == 0:
        raise InvalidParameterError(
            f"validation_fraction={validation_fraction!r} of {m} rows leaves no training rows; "
            f"use a smaller fraction or more data"
        )
    return data.rows(train_rows), data.rows(validation_rows), split_seed


# -- optimizer, schedule, callbacks --------------------------------------------


def resolve_optimizer(net: Network, optimizer: Any, options: dict[str, Any]) -> Optimizer:
    """Return the optimizer to use; a stored one with the same settings continues its state."""
    set_options = {key: value for key, value in options.items() if value is not None}
    if isinstance(optimizer, Optimizer):
        if set_options:
            raise InvalidParameterError(
                f"{', '.join(set_options)} cannot be combined with an Optimizer instance; "
                f"set them on the instance instead"
            )
        optimizer.check_size(net.n_parameters)
        return optimizer

    candidate = make_optimizer(optimizer, **set_options)
    stored = net.training_state.get("optimizer")
    if stored is not None and stored.config() == candidate.config():
        return stored
    if stored is not None:
        logger.info("optimizer settings changed from %s to %s; starting with fresh optimizer state", stored, candidate)
    return candidate


def resolve_schedule(net: Network, schedule: Any, schedule_options: Any, learning_rate: float) -> Schedule:
    """Return the schedule to use; a stored one with the same settings and lr0 continues."""
    if isinstance(schedule, Schedule):
        if schedule_options:
            raise InvalidParameterError(
                "schedule_options cannot be combined with a Schedule instance; "
                "set them on the instance instead"
            )
        return schedule
    if schedule_options is None:
        schedule_options = {}
    if not isinstance(schedule_options, dict):
        raise InvalidParameterError(
            f"schedule_options must be a dict such as {{'step_size': 10}}, got {schedule_options!r}"
        )

    candidate = make_schedule(schedule, **schedule_options)
    stored = net.training_state.get("schedule")
    if (
        stored is not None
        and stored.config() == candidate.config()
        and stored.base_learning_rate == learning_rate
    ):
        return stored
    return candidate


def check_metrics(metrics: Any) -> tuple[str, ...]:
    names = (metrics,) if isinstance(metrics, str) else metrics
    try:
        names = tuple(names)
    except TypeError as exc:
        raise InvalidParameterError(f"metrics must be a list of names such as ['mae'], got {metrics!r}") from exc
    for name in names:
        if name not in METRIC_NAMES:
            raise InvalidParameterError(
                f"unknown metric {name!r} in metrics; use any of {', '.join(map(repr, METRIC_NAMES))}"
            )
    return tuple(dict.fromkeys(names))


def record_names(metrics: Sequence[str], has_validation: bool) -> list[str]:
    """List the keys the epoch logs will have."""
    names = ["loss", "learning_rate", *metrics]
    if has_validation:
        names += ["val_loss", *("val_" + name for name in metrics)]
    return names


def check_monitor(monitor: str, owner: str, names: list[str]) -> None:
    if monitor not in names:
        hint = "; val_ records need validation_data or validation_fraction" if monitor.startswith("val_") else ""
        raise InvalidParameterError(
            f"{owner} monitors {monitor!r}, which is not recorded; monitor one of {names}{hint}"
        )


def resolve_early_stopping(
    early_stopping: Any, options: dict[str, Any], has_validation: bool
) -> EarlyStopping | None:
    set_options = {key: value for key, value in options.items() if value is not None}
    if isinstance(early_stopping, EarlyStopping):
        if set_options:
            raise InvalidParameterError(
                f"{', '.join(set_options)} cannot be combined with an EarlyStopping instance; "
                f"set them on the instance instead"
            )
        return early_stopping
    if not check_bool(early_stopping, "early_stopping"):
        if set_options:
            raise InvalidParameterError(
                f"{', '.join(set_options)} applies only with early stopping; "
                f"pass early_stopping=True or remove {', '.join(set_options)}"
            )
        return None
    set_options.setdefault("monitor", "val_loss" if has_validation else "loss")
    return EarlyStopping(**set_options)


def check_callbacks(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or callable(callbacks):
        callbacks = [callbacks]
    try:
        items = list(callbacks)
    except TypeError as exc:
        raise InvalidParameterError(
            f"callbacks must be a list of Callback instances or functions f(epoch, logs), got {callbacks!r}"
        ) from exc
    return [as_callback(item) for item in items]


# -- everything ----------------------------------------------------------------


def resolve_settings(
    net: Network,
    X: Any,
    Y: Any,
    *,
    loss: Any,
    optimizer: Any,
    learning_rate: Any,
    epochs: Any,
    batch_size: Any,
    shuffle: Any,
    optimizer_options: dict[str, Any],
    l2: Any,
    clip_norm: Any,
    schedule: Any,
    schedule_options: Any,
    validation_data: Any,
    validation_fraction: Any,
    validation_seed: Any,
    metrics: Any,
    early_stopping: Any,
    early_stopping_options: dict[str, Any],
    callbacks: Any,
    sample_weight: Any,
    backend: Any = None,
) -> FitSettings:
    """Validate every fit argument and resolve names to objects; change nothing on ``net``.

    Raises
    ------
    InvalidParameterError
        For an invalid option.
    InvalidDataError
        For invalid X, Y, sample weights or validation data.
    """
    loss_fn = get_loss(loss)
    check_loss_matches_output(loss_fn, net.output_activation)
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    epochs = check_positive_int(epochs, "epochs")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    shuffle = check_bool(shuffle, "shuffle")
    l2 = check_positive_float(l2, "l2", allow_zero=True)
    if clip_norm is not None:
        clip_norm = check_positive_float(clip_norm, "clip_norm")
    metric_names = check_metrics(metrics)
    optimizer = resolve_optimizer(net, optimizer, optimizer_options)
    schedule = resolve_schedule(net, schedule, schedule_options, learning_rate)
    user_callbacks = check_callbacks(callbacks)

    if backend is None:
        data = check_training_data(net, X, Y, sample_weight)
        train, validation, split_seed = split_data(net, data, validation_data, validation_fraction, validation_seed)
    else:
        train, validation, split_seed = backend.resolve_data(
            net, X, Y, sample_weight, validation_data, validation_fraction, validation_seed, batch_size
        )

    stopping = resolve_early_stopping(early_stopping, early_stopping_options, validation is not None)
    names = record_names(metric_names, validation is not None)
    if stopping is not None:
        check_monitor(stopping.monitor, "early stopping", names)
    if isinstance(schedule, PlateauSchedule) and schedule.monitor is not None:
        check_monitor(schedule.monitor, "the plateau schedule", names)

    if batch_size is None or batch_size > train.n_samples:
        batch_size = train.n_samples

    return FitSettings(
        loss=loss_fn,
        train=train,
        validation=validation,
        optimizer=optimizer,
        schedule=schedule,
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        l2=l2,
        clip_norm=clip_norm,
        metrics=metric_names,
        early_stopping=stopping,
        callbacks=user_callbacks,
        validation_seed=split_seed,
        backend=backend,
    )
