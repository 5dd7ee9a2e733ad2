"""The per-epoch hook of the training loop, and early stopping built on it.

After every epoch, training calls each callback's ``on_epoch_end(epoch,
logs)`` with the global 0-based epoch index and that epoch's records:
``loss``, ``learning_rate``, ``val_loss`` when there is validation data, and
one entry per metric (``mae``, ``val_mae``, ...).  A return value that is
true stops training after this epoch; a string return value also becomes
``History.stop_reason``.  Plain functions ``f(epoch, logs)`` work the same
way.  Learning-rate schedules and :class:`EarlyStopping` are callbacks.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidParameterError
from ..validation import check_positive_float, check_positive_int

if TYPE_CHECKING:
    from ..network import Network

logger = logging.getLogger(__name__)

MAXIMIZED_RECORDS = ("accuracy", "r2")
"""Records that improve as they grow; every other record improves as it shrinks."""


def improves_upward(record: str) -> bool:
    """Return True for records such as ``val_accuracy`` that are better when larger."""
    base = record[4:] if record.startswith("val_") else record
    return base in MAXIMIZED_RECORDS


class Callback:
    """Base class of objects that training calls after every epoch.

    Training sets ``network`` to the network being trained before calling
    :meth:`on_train_begin`.  Override any of the three methods.
    """

    network: Network | None = None

    def set_network(self, network: Network) -> None:
        self.network = network

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Start of a fit call; ``logs`` contains ``initial_epoch`` and ``epochs`` (this call's count)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | str | None:
        """End of epoch ``epoch`` (global, 0-based); return a true value to stop training."""
        return None

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """End of a fit call; ``logs`` contains the last epoch's records (empty when none ran)."""


class FunctionCallback(Callback):
    """Adapt a plain function ``f(epoch, logs) -> truthy to stop`` to :class:`Callback`."""

    def __init__(self, function: Callable[[int, dict[str, float]], Any]):
        self.function = function

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | str | None:
        return self.function(epoch, logs)

    def __repr__(self) -> str:
        return f"FunctionCallback({getattr(self.function, '__name__', self.function)!r})"


def as_callback(item: Any) -> Callback:
    """Return ``item`` when it is a Callback, wrap a callable, and reject anything else."""
    if isinstance(item, Callback):
        return item
    if callable(item):
        return FunctionCallback(item)
    raise InvalidParameterError(
        f"callbacks must be Callback instances or functions f(epoch, logs), got {item!r}"
    )


class EarlyStopping(Callback):
    """Stop training when a record stops improving, as Keras's ``EarlyStopping``.

    After each epoch the monitored value counts as an improvement when it
    beats the best so far by more than ``min_delta`` (smaller for losses and
    errors, larger for ``accuracy`` and ``r2``).  Training stops once
    ``patience`` epochs in a row bring no improvement.  The first epoch
    always improves on the starting best of +-infinity.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs: ``loss``, ``val_loss``, a metric name or
        ``val_`` and a metric name.
    patience : int >= 1, default 10
    min_delta : float >= 0, default 0.0
    restore_best_weights : bool, default False
        When training stops early, copy back the parameters of the best
        epoch, as Keras does.  When all epochs run, the last parameters stay.

    Attributes
    ----------
    best : float
        The best monitored value seen in the current fit call.
    best_epoch : int or None
        The global epoch index of ``best``.
    stopped_epoch : int or None
        The epoch after which this callback stopped training, or None.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ):
        if not isinstance(monitor, str) or not monitor:
            raise InvalidParameterError(
                f"monitor must name an epoch record such as 'loss' or 'val_loss', got {monitor!r}"
            )
        self.monitor = monitor
        self.patience = check_positive_int(patience, "patience")
        self.min_delta = check_positive_float(min_delta, "min_delta", allow_zero=True)
        if not isinstance(restore_best_weights, (bool, np.bool_)):
            raise InvalidParameterError(
                f"restore_best_weights must be True or False, got {restore_best_weights!r}"
            )
        self.restore_best_weights = bool(restore_best_weights)
        self.maximize = improves_upward(monitor)
        self.reset()

    def reset(self) -> None:
        self.best = -math.inf if self.maximize else math.inf
        self.best_epoch: int | None = None
        self.best_parameters: np.ndarray | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def is_improvement(self, value: float) -> bool:
        if self.maximize:
            return value - self.min_delta > self.best
        return value + self.min_delta < self.best

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | str | None:
        if self.monitor not in logs:
            raise InvalidParameterError(
                f"early stopping monitors {self.monitor!r}, but the epoch records are "
                f"{sorted(logs)}; monitor one of those"
            )
        value = logs[self.monitor]

        self.wait += 1
        if self.is_improvement(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights and self.network is not None:
                self.best_parameters = self.network.parameters.copy()
            return None

        if self.wait < self.patience:
            return None

        self.stopped_epoch = epoch
        reason = (
            f"early stopping: {self.monitor} did not improve on {self.best!r} (epoch {self.best_epoch}) "
            f"by more than min_delta={self.min_delta} for {self.patience} epochs"
        )
        if self.best_parameters is not None and self.network is not None:
            self.network.parameters[...] = self.best_parameters
            reason += f"; restored the parameters of epoch {self.best_epoch}"
        logger.info("%s", reason)
        return reason

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, restore_best_weights={self.restore_best_weights})"
        )
