"""Training of a :class:`~mlpnet.network.Network`: :func:`fit` and its parts.

``fit(net, X, Y)`` with its defaults is plain full-batch gradient descent,
P <- P - learning_rate * dL/dP.  The parts live in small modules:

* :mod:`~mlpnet.training.optimizers`: update rules on the flat parameter vector;
* :mod:`~mlpnet.training.schedules`: learning-rate schedules;
* :mod:`~mlpnet.training.callbacks`: the per-epoch hook and early stopping;
* :mod:`~mlpnet.training.history`: the per-epoch record;
* :mod:`~mlpnet.training.options`: validation of every fit argument;
* :mod:`~mlpnet.training.step`, :mod:`~mlpnet.training.batching` and
  :mod:`~mlpnet.training.loop`: one step, the batch order, and the loop.
"""

from __future__ import annotations

from . import optimizers, schedules
from .callbacks import Callback, EarlyStopping, FunctionCallback
from .checkpoint import Checkpointer, load_checkpoint, save_checkpoint, stop_on_signals
from .history import History
from .loop import fit
from .optimizers import (
    Adam,
    AdamW,
    GradientDescent,
    Momentum,
    Optimizer,
    RMSprop,
    make_optimizer,
)
from .schedules import (
    ConstantSchedule,
    CosineSchedule,
    ExponentialSchedule,
    PlateauSchedule,
    Schedule,
    StepSchedule,
    make_schedule,
)

__all__ = [
    "fit",
    "History",
    "Callback",
    "FunctionCallback",
    "EarlyStopping",
    "Checkpointer",
    "load_checkpoint",
    "save_checkpoint",
    "stop_on_signals",
    "optimizers",
    "schedules",
    "Optimizer",
    "GradientDescent",
    "Momentum",
    "Adam",
    "AdamW",
    "RMSprop",
    "make_optimizer",
    "Schedule",
    "ConstantSchedule",
    "StepSchedule",
    "ExponentialSchedule",
    "CosineSchedule",
    "PlateauSchedule",
    "make_schedule",
]
