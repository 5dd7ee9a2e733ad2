"""The per-epoch record of one fit call."""

from __future__ import annotations

import math
from typing import Any


class History:
    """The records of one call of :func:`mlpnet.training.fit`, one entry per epoch.

    Attributes
    ----------
    loss : list of float
        The mean, over the epoch's mini-batches weighted by their number of
        rows, of each batch's training loss before its update.  With the full
        batch, ``loss[k]`` is the loss of the parameters before step k.  It
        includes the L2 penalty (l2 / 2) sum_l ||W_l||^2 when ``l2`` is set.
    val_loss : list of float
        The loss on the validation data after the epoch's updates, without
        the L2 penalty; empty without validation data.
    learning_rate : list of float
        The learning rate used in each epoch.
    metrics : dict of str to list of float
        Each requested metric on the training data (from the same
        predictions as ``loss``) and, as ``val_<name>``, on the validation data.
    epochs : list of int
        The global 0-based index of each recorded epoch.  A second fit call
        continues the count, so its first entry is the number of epochs
        trained before it.
    stopped_epoch : int or None
        The epoch after which a callback or early stopping ended training,
        or None when all requested epochs ran.
    stop_reason : str
        Why training ended: "completed", the callback's reason, or the
        divergence message.
    """

    def __init__(self) -> None:
        self.loss: list[float] = []
        self.val_loss: list[float] = []
        self.learning_rate: list[float] = []
        self.metrics: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.stopped_epoch: int | None = None
        self.stop_reason = "completed"

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        """Append one epoch's records, as passed to the callbacks."""
        self.epochs.append(epoch)
        self.loss.append(logs["loss"])
        self.learning_rate.append(logs["learning_rate"])
        if "val_loss" in logs:
            self.val_loss.append(logs["val_loss"])
        for key, value in logs.items():
            if key not in ("loss", "val_loss", "learning_rate"):
                self.metrics.setdefault(key, []).append(value)

    def __len__(self) -> int:
        return len(self.epochs)

    def to_dict(self) -> dict[str, Any]:
        """Return the records as plain lists, numbers and strings; NaN and infinity become None."""
        return {
            "epochs": list(self.epochs),
            "loss": [finite_or_none(v) for v in self.loss],
            "val_loss": [finite_or_none(v) for v in self.val_loss],
            "learning_rate": [finite_or_none(v) for v in self.learning_rate],
            "metrics": {name: [finite_or_none(v) for v in values] for name, values in self.metrics.items()},
            "stopped_epoch": self.stopped_epoch,
            "stop_reason": self.stop_reason,
        }

    def __repr__(self) -> str:
        last = f", last loss {self.loss[-1]:.6g}" if self.loss else ""
        return f"History({len(self)} epochs{last}, stop_reason={self.stop_reason!r})"


def finite_or_none(value: float) -> float | None:
    """Return ``value`` as a float, or None for NaN and infinity, which JSON cannot hold."""
    number = float(value)
    return number if math.isfinite(number) else None
