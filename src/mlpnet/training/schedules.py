"""Learning-rate schedules, stepped once after every epoch.

Each schedule is a :class:`~mlpnet.training.callbacks.Callback`: training
reads ``schedule.learning_rate`` at the start of an epoch, and the
schedule's ``on_epoch_end`` computes the rate of the next epoch.  With
lr0 the base learning rate (``fit``'s ``learning_rate``) and e the number of
epochs completed, the rules equal ``torch.optim.lr_scheduler``'s (PyTorch
2.x) when it is stepped once per epoch:

=============== =========================================================
constant        lr0
step            lr0 gamma^floor(e / step_size)                (StepLR)
exponential     lr0 gamma^e                                   (ExponentialLR)
cosine          eta_min + (lr0 - eta_min) (1 + cos(pi e / t_max)) / 2
                                                              (CosineAnnealingLR)
plateau         lr times factor once the monitored record has not improved
                for more than ``patience`` epochs             (ReduceLROnPlateau)
=============== =========================================================

As in PyTorch, the cosine schedule keeps following the cosine after
``t_max`` epochs, so the rate rises again towards lr0.

A schedule's state (epochs completed, current rate, plateau counters) is
plain numbers: :meth:`Schedule.state_dict` and :meth:`Schedule.load_state_dict`
exchange it, and :meth:`Schedule.config` names the rule and its settings.
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

from ..errors import InvalidParameterError
from ..validation import check_positive_float, check_positive_int
from .callbacks import Callback, improves_upward

logger = logging.getLogger(__name__)


class Schedule(Callback):
    """Base class of learning-rate schedules; the base class keeps the rate constant.

    Attributes
    ----------
    base_learning_rate : float or None
        lr0, set by :meth:`start` on the schedule's first fit call.
    learning_rate : float or None
        The rate of the next epoch.
    epoch : int
        The number of epochs this schedule has been stepped (PyTorch's
        ``last_epoch``).
    """

    name: ClassVar[str] = "constant"

    def __init__(self) -> None:
        self.base_learning_rate: float | None = None
        self.learning_rate: float | None = None
        self.epoch = 0

    @property
    def started(self) -> bool:
        return self.base_learning_rate is not None

    def start(self, base_learning_rate: float) -> None:
        """Set lr0, unless the schedule already runs (then it continues where it stopped)."""
        if not self.started:
            self.base_learning_rate = float(base_learning_rate)
            self.learning_rate = float(base_learning_rate)
            self.epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch += 1
        self.learning_rate = self.next_learning_rate(logs)
        return None

    def next_learning_rate(self, logs: dict[str, float]) -> float:
        """Compute the rate of the epoch after ``self.epoch`` completed epochs."""
        return self.base_learning_rate

    def config(self) -> dict[str, Any]:
        """Return the rule's name and settings as plain numbers and strings."""
        return {"name": self.name}

    def state_dict(self) -> dict[str, Any]:
        """Return the state as plain numbers."""
        return {
            "base_learning_rate": self.base_learning_rate,
            "learning_rate": self.learning_rate,
            "epoch": self.epoch,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the state written by :meth:`state_dict`."""
        self.base_learning_rate = state["base_learning_rate"]
        self.learning_rate = state["learning_rate"]
        self.epoch = int(state["epoch"])

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in self.config().items() if key != "name")
        return f"{type(self).__name__}({settings})"


class ConstantSchedule(Schedule):
    """Keep lr0 for every epoch."""


class StepSchedule(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs (``StepLR``).

    Parameters
    ----------
    step_size : int >= 1
    gamma : float > 0, default 0.1
    """

    name = "step"

    def __init__(self, step_size: int, gamma: float = 0.1):
        super().__init__()
        self.step_size = check_positive_int(step_size, "step_size")
        self.gamma = check_positive_float(gamma, "gamma")

    def next_learning_rate(self, logs: dict[str, float]) -> float:
        return self.base_learning_rate * self.gamma ** (self.epoch // self.step_size)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "step_size": self.step_size, "gamma": self.gamma}


class ExponentialSchedule(Schedule):
    """Multiply the rate by ``gamma`` after every epoch (``ExponentialLR``).

    Parameters
    ----------
    gamma : float > 0
    """

    name = "exponential"

    def __init__(self, gamma: float):
        super().__init__()
        self.gamma = check_positive_float(gamma, "gamma")

    def next_learning_rate(self, logs: dict[str, float]) -> float:
        return self.base_learning_rate * self.gamma**self.epoch

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "gamma": self.gamma}


class CosineSchedule(Schedule):
    """Anneal the rate from lr0 to ``eta_min`` along a half cosine of ``t_max`` epochs (``CosineAnnealingLR``).

    Parameters
    ----------
    t_max : int >= 1
        The number of epochs from lr0 down to ``eta_min``.
    eta_min : float >= 0, default 0.0
    """

    name = "cosine"

    def __init__(self, t_max: int, eta_min: float = 0.0):
        super().__init__()
        self.t_max = check_positive_int(t_max, "t_max")
        self.eta_min = check_positive_float(eta_min, "eta_min", allow_zero=True)

    def next_learning_rate(self, logs: dict[str, float]) -> float:
        cosine = math.cos(math.pi * self.epoch / self.t_max)
        return self.eta_min + (self.base_learning_rate - self.eta_min) * (1.0 + cosine) / 2.0

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "t_max": self.t_max, "eta_min": self.eta_min}


class PlateauSchedule(Schedule):
    """Multiply the rate by ``factor`` when a record stops improving (``ReduceLROnPlateau``).

    An epoch improves on the best value when the record falls below
    best (1 - threshold) (or rises above best (1 + threshold) for accuracy
    and r2).  After more than ``patience`` epochs in a row without
    improvement the rate becomes max(lr factor, min_lr), unless that
    changes it by no more than 1e-8, and the next ``cooldown`` epochs do not
    count as bad epochs.  Only the relative threshold of PyTorch is
    implemented.

    Parameters
    ----------
    monitor : str or None, default None
        The epoch record to watch; None watches ``val_loss`` when there is
        validation data, else ``loss``.
    factor : float in (0, 1), default 0.1
    patience : int >= 0, default 10
    threshold : float >= 0, default 1e-4
    cooldown : int >= 0, default 0
    min_lr : float >= 0, default 0.0
    """

    name = "plateau"
    MIN_CHANGE = 1e-8
    """A reduction smaller than this is skipped (PyTorch's ``eps``)."""

    def __init__(
        self,
        monitor: str | None = None,
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__()
        if monitor is not None and (not isinstance(monitor, str) or not monitor):
            raise InvalidParameterError(
                f"monitor must name an epoch record such as 'loss' or 'val_loss', got {monitor!r}"
            )
        self.monitor = monitor
        self.factor = check_positive_float(factor, "factor")
        if self.factor >= 1.0:
            raise InvalidParameterError(f"factor must be a number in (0, 1), got {factor!r}")
        self.patience = check_positive_int(patience, "patience", minimum=0)
        self.threshold = check_positive_float(threshold, "threshold", allow_zero=True)
        self.cooldown = check_positive_int(cooldown, "cooldown", minimum=0)
        self.min_lr = check_positive_float(min_lr, "min_lr", allow_zero=True)
        self.reset_counters()

    def reset_counters(self) -> None:
        self.best = -math.inf if self.maximize else math.inf
        self.bad_epochs = 0
        self.cooldown_left = 0

    @property
    def maximize(self) -> bool:
        return self.monitor is not None and improves_upward(self.monitor)

    def start(self, base_learning_rate: float) -> None:
        if not self.started:
            self.reset_counters()
        super().start(base_learning_rate)

    def is_improvement(self, value: float) -> bool:
        if self.maximize:
            return value > self.best * (1.0 + self.threshold)
        return value < self.best * (1.0 - self.threshold)

    def next_learning_rate(self, logs: dict[str, float]) -> float:
        monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
        if monitor not in logs:
            raise InvalidParameterError(
                f"the plateau schedule monitors {monitor!r}, but the epoch records are "
                f"{sorted(logs)}; monitor one of those"
            )
        value = logs[monitor]

        if self.is_improvement(value):
            self.best = value
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1

        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0

        learning_rate = self.learning_rate
        if self.bad_epochs > self.patience:
            reduced = max(learning_rate * self.factor, self.min_lr)
            if learning_rate - reduced > self.MIN_CHANGE:
                logger.info(
                    "epoch %d: %s did not improve for %d epochs; learning rate %g -> %g",
                    self.epoch - 1, monitor, self.bad_epochs, learning_rate, reduced,
                )
                learning_rate = reduced
            self.cooldown_left = self.cooldown
            self.bad_epochs = 0
        return learning_rate

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "cooldown": self.cooldown,
            "min_lr": self.min_lr,
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "cooldown_left": self.cooldown_left,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.best = state["best"]
        self.bad_epochs = int(state["bad_epochs"])
        self.cooldown_left = int(state["cooldown_left"])


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": ConstantSchedule,
    "step": StepSchedule,
    "exponential": ExponentialSchedule,
    "cosine": CosineSchedule,
    "plateau": PlateauSchedule,
}
"""The schedule names that :func:`make_schedule` accepts, with their classes."""


def make_schedule(name: str, **options: Any) -> Schedule:
    """Build a schedule from its name and settings, such as ``make_schedule("step", step_size=10)``.

    Raises
    ------
    InvalidParameterError
        If the name is unknown, an option is unknown or missing, or a value is invalid.
    """
    if not isinstance(name, str) or name not in SCHEDULES:
        valid = ", ".join(map(repr, SCHEDULES))
        raise InvalidParameterError(f"schedule must be one of {valid} or a Schedule instance, got {name!r}")
    schedule_class = SCHEDULES[name]
    try:
        return schedule_class(**options)
    except TypeError as exc:
        raise InvalidParameterError(
            f"invalid schedule_options {options!r} for schedule={name!r} ({exc}); "
            f"see help(mlpnet.training.schedules.{schedule_class.__name__}) for its options"
        ) from exc
