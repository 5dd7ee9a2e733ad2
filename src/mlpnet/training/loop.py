"""The training loop: epochs of mini-batch steps, records and callbacks."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backprop import row_scale
from ..distributed.detect import data_parallel_backend
from ..errors import DivergenceError
from .batching import batch_slices, epoch_order
from .callbacks import Callback
from .checkpoint import Checkpointer, open_session
from .evaluation import compute_metrics, validation_records
from .history import History
from .optimizers import Optimizer
from .options import DataSet, FitSettings, resolve_settings
from .schedules import Schedule
from .step import NonFiniteValue, TrainingStep

if TYPE_CHECKING:
    from ..network import Network

logger = logging.getLogger(__name__)


def fit(
    net: Network,
    X: Any,
    Y: Any,
    loss: str = "mse",
    optimizer: str | Optimizer = "gd",
    learning_rate: float = 0.1,
    epochs: int = 1000,
    batch_size: int | None = None,
    shuffle: bool = True,
    *,
    momentum: float | None = None,
    nesterov: bool | None = None,
    beta1: float | None = None,
    beta2: float | None = None,
    epsilon: float | None = None,
    weight_decay: float | None = None,
    rho: float | None = None,
    l2: float = 0.0,
    clip_norm: float | None = None,
    schedule: str | Schedule = "constant",
    schedule_options: dict[str, Any] | None = None,
    validation_data: tuple | None = None,
    validation_fraction: float | None = None,
    validation_seed: int | None = None,
    metrics: list[str] | tuple[str, ...] = (),
    early_stopping: bool | Callback = False,
    monitor: str | None = None,
    patience: int | None = None,
    min_delta: float | None = None,
    restore_best_weights: bool | None = None,
    callbacks: list[Any] | None = None,
    sample_weight: Any = None,
    checkpoint: str | os.PathLike[str] | Checkpointer | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike[str] | None = None,
) -> History:
    """Train ``net`` in place and return the per-epoch record.

    The defaults are plain gradient descent: every epoch is one step
    P <- P - learning_rate * dL/dP on the full batch, for every weight and
    bias.  A later call continues from the current parameters, optimizer
    state, schedule and epoch count, so ``fit(epochs=5)`` twice gives the same
    parameters, bit for bit, as ``fit(epochs=10)`` once.

    Parameters
    ----------
    net : Network
    X : array-like of shape (m, n_inputs)
        A Dask array (or DataFrame) trains data-parallel on its chunks with
        full-batch steps; see :mod:`mlpnet.distributed`.
    Y : array-like of shape (m, n_outputs), or (m,) for one output
    loss : str, default "mse"
        "mse", "mae", "huber", "binary_crossentropy" (sigmoid output) or
        "crossentropy" (softmax output, one-hot Y).
    optimizer : str or Optimizer, default "gd"
        "gd", "sgd" (the same rule), "momentum", "adam", "adamw", "rmsprop",
        or an instance from :mod:`mlpnet.training.optimizers`.  A name
        continues the stored optimizer state when the settings are the same
        as in the previous call; otherwise its state starts at zero.
    learning_rate : float > 0, default 0.1
        The base learning rate lr0 of the schedule.
    epochs : int >= 1, default 1000
        The number of epochs in this call.
    batch_size : int >= 1 or None, default None
        Rows per mini-batch; None, or a size of at least m, is the full batch.
        The last batch of an epoch contains the remaining rows and its loss is
        averaged over those rows.
    shuffle : bool, default True
        Visit the rows in a new order each epoch, a permutation drawn from
        ``net.rng``.  Ignored for the full batch.
    momentum, nesterov : float in [0, 1) and bool, defaults 0.9 and False
        For optimizer="momentum".
    beta1, beta2, epsilon : float, defaults 0.9, 0.999 and 1e-8
        For "adam" and "adamw"; ``epsilon`` also for "rmsprop".
    weight_decay : float >= 0, default 0.01
        For "adamw": decoupled decay of the weights (not the biases).
    rho : float in [0, 1), default 0.99
        For "rmsprop": the decay of the squared-gradient average.
    l2 : float >= 0, default 0.0
        Adds (l2 / 2) * sum_l ||W_l||^2 over the weights (not the biases) to
        the training loss, so each weight gradient gains l2 * W_l.
        ``history.loss`` includes the penalty; ``history.val_loss`` does not.
    clip_norm : float > 0 or None, default None
        Clip the gradient (penalty included) to this global L2 norm, as
        ``torch.nn.utils.clip_grad_norm_``.
    schedule : str or Schedule, default "constant"
        "constant", "step", "exponential", "cosine" or "plateau", or an
        instance from :mod:`mlpnet.training.schedules`; stepped after every epoch.
    schedule_options : dict, optional
        The schedule's settings, such as ``{"step_size": 10, "gamma": 0.5}``.
    validation_data : tuple (X_val, Y_val) or (X_val, Y_val, sample_weight_val), optional
    validation_fraction : float in (0, 1), optional
        Hold out ceil(fraction * m) rows, chosen by a generator seeded with
        ``validation_seed``, so every call on the same data holds out the
        same rows.
    validation_seed : int >= 0, optional
        Defaults to the network's integer seed; without one, a seed is drawn
        once and kept in ``net.training_state``.
    metrics : list of str, default ()
        Any of "mse", "rmse", "mae", "r2" and "accuracy" (output >= 0.5 for
        one output, the argmax otherwise), recorded on the training batches'
        predictions and, as ``val_<name>``, on the validation data.
    early_stopping : bool or EarlyStopping, default False
        Stop when ``monitor`` has not improved by more than ``min_delta`` for
        ``patience`` epochs (see :class:`~mlpnet.training.callbacks.EarlyStopping`).
    monitor : str, optional
        Defaults to "val_loss" with validation data, else "loss".
    patience : int >= 1, default 10
    min_delta : float >= 0, default 0.0
    restore_best_weights : bool, default False
    callbacks : list of Callback or callable, optional
        Called after every epoch with ``(epoch, logs)``; a true return value stops training.
    sample_weight : array-like of shape (m,), optional
        Each batch's loss becomes sum_i w_i l_i / sum_i w_i over its rows.
        A batch whose weights sum to 0 is skipped.
    checkpoint : str, path-like or Checkpointer, optional
        Write a checkpoint (parameters, optimizer and schedule state, random
        generator, epoch count, history; see :mod:`mlpnet.training.checkpoint`)
        to this file after every ``checkpoint_every`` epochs and when
        training ends.  Each write replaces the file atomically.
    checkpoint_every : int >= 1, default 1
        Epochs between checkpoints.
    resume : str or path-like, optional
        Continue the fit call that wrote this checkpoint: the network takes
        its parameters, generator, seed and training state, and the epochs
        that call had left run.  Pass the same data and settings (``epochs``
        included) as that call; a different value raises, naming both.  The
        returned History then holds the whole run's epochs, so it equals the
        History of an uninterrupted call, and checkpoints keep going to this
        file unless ``checkpoint`` names another.

    Returns
    -------
    History

    Raises
    ------
    InvalidParameterError, InvalidDataError
        Before any arithmetic, leaving the network unchanged.
    ModelFormatError
        If the checkpoint to resume cannot be read, leaving the network unchanged.
    DivergenceError
        When a loss or gradient becomes NaN or infinite.  The parameters are
        rolled back to their values before the last update, and the optimizer
        state is reset.
    """
    # Dask input trains data-parallel where its chunks live (mlpnet.distributed);
    # the backend is None for in-memory input.
    backend = data_parallel_backend(X, Y, validation_data, sample_weight)
    session = open_session(net, checkpoint, checkpoint_every, resume)
    settings = resolve_settings(
        net if session is None or session.resolving_network is None else session.resolving_network,
        X,
        Y,
        loss=loss,
        optimizer=optimizer,
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        optimizer_options={
            "momentum": momentum,
            "nesterov": nesterov,
            "beta1": beta1,
            "beta2": beta2,
            "epsilon": epsilon,
            "weight_decay": weight_decay,
            "rho": rho,
        },
        l2=l2,
        clip_norm=clip_norm,
        schedule=schedule,
        schedule_options=schedule_options,
        validation_data=validation_data,
        validation_fraction=validation_fraction,
        validation_seed=validation_seed,
        metrics=metrics,
        early_stopping=early_stopping,
        early_stopping_options={
            "monitor": monitor,
            "patience": patience,
            "min_delta": min_delta,
            "restore_best_weights": restore_best_weights,
        },
        callbacks=callbacks,
        sample_weight=sample_weight,
        backend=backend,
    )
    if session is not None:
        return session.train(net, settings)
    return train(net, settings)


def train(net: Network, settings: FitSettings, history: History | None = None) -> History:
    """Run the epochs of a validated fit call, appending to ``history`` when one is given."""
    state = net.training_state
    optimizer, schedule = settings.optimizer, settings.schedule
    backend = settings.backend
    if backend is None:
        step = TrainingStep(net, settings.loss, settings.l2, settings.clip_norm)
        epoch_runner = run_epoch
    else:
        step = backend.make_step(net, settings)
        epoch_runner = backend.run_epoch
    optimizer.prepare(net.parameters, step.mask)
    schedule.start(settings.learning_rate)
    state["optimizer"], state["schedule"] = optimizer, schedule
    state.setdefault("epoch", 0)
    if settings.validation_seed is not None:
        state["validation_seed"] = settings.validation_seed

    callbacks = [schedule, *([settings.early_stopping] if settings.early_stopping else []), *settings.callbacks]
    for callback in callbacks:
        callback.set_network(net)
        callback.on_train_begin({"initial_epoch": state["epoch"], "epochs": settings.epochs})

    history = History() if history is None else history
    logs: dict[str, float] = {}
    logger.debug("training %r for %d epochs with %r", net, settings.epochs, optimizer)

    for _ in range(settings.epochs):
        epoch = state["epoch"]
        learning_rate = schedule.learning_rate
        try:
            logs = epoch_runner(net, settings, step, learning_rate)
        except NonFiniteValue as exc:
            raise diverged(net, step, history, epoch, learning_rate, exc) from None

        state["epoch"] = epoch + 1
        history.record(epoch, logs)
        reason = notify(callbacks, epoch, logs)
        if reason:
            history.stopped_epoch = epoch
            history.stop_reason = reason
            break

    for callback in callbacks:
        callback.on_train_end(logs)
    return history


def run_epoch(net: Network, settings: FitSettings, step: TrainingStep, learning_rate: float) -> dict[str, float]:
    """Run one epoch of updates and return its records, without calling callbacks.

    Raises
    ------
    NonFiniteValue
        When a batch's loss or gradient is NaN or infinite.
    """
    data = settings.train
    order = epoch_order(data.n_samples, settings.batch_size, settings.shuffle, net.rng)
    if order is not None:
        data = data.rows(order)
    X, Y, optimizer = data.X, data.Y, settings.optimizer
    outputs = np.empty_like(Y) if settings.metrics else None

    loss_sum = 0.0
    rows_seen = 0
    # Overflow shows up as an infinite loss or gradient norm, which the step checks,
    # so the arithmetic itself runs without floating-point warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for rows in batch_slices(X.shape[0], settings.batch_size):
            scale = batch_scale(data, rows, net.dtype)
            if scale is None:
                continue
            L, Y_hat = step.loss_and_gradient(X[rows], Y[rows], scale)
            step.update(optimizer, learning_rate)

            n_rows = rows.stop - rows.start
            loss_sum += L * n_rows
            rows_seen += n_rows
            if outputs is not None:
                outputs[rows] = Y_hat

        logs = {"loss": loss_sum / rows_seen if rows_seen else float("nan")}
        if outputs is not None:
            logs.update(compute_metrics(settings.metrics, data.Y, outputs))
        if settings.validation is not None:
            validation = settings.validation
            scale = row_scale(validation.n_samples, validation.sample_weight, net.dtype)
            logs.update(validation_records(net, settings.loss, validation.X, validation.Y, scale, settings.metrics))
    logs["learning_rate"] = learning_rate
    return logs


def batch_scale(data: DataSet, rows: slice, dtype: np.dtype) -> np.ndarray | float | None:
    """Return each row's share of the batch loss, or None for a batch whose weights sum to 0."""
    n_rows = rows.stop - rows.start
    if data.sample_weight is None:
        return row_scale(n_rows, None, dtype)
    weights = data.sample_weight[rows]
    if weights.sum() <= 0:
        logger.debug("skipping rows %d:%d, whose sample weights sum to 0", rows.start, rows.stop)
        return None
    return row_scale(n_rows, weights, dtype)


def notify(callbacks: list[Callback], epoch: int, logs: dict[str, float]) -> str | None:
    """Call every callback for this epoch; return the stop reason if any of them asked to stop."""
    reason = None
    for callback in callbacks:
        result = callback.on_epoch_end(epoch, dict(logs))
        if result and reason is None:
            reason = result if isinstance(result, str) else f"stopped by callback {callback!r}"
    return reason


def diverged(
    net: Network, step: TrainingStep, history: History, epoch: int, learning_rate: float, exc: NonFiniteValue
) -> DivergenceError:
    """Roll back to the last finite parameters, reset the optimizer, and build the error."""
    step.roll_back()
    last_finite_loss = step.last_finite_loss
    optimizer = net.training_state.pop("optimizer", None)
    if optimizer is not None:
        optimizer.reset()

    message = (
        f"training diverged in epoch {epoch} (0-based): {exc}"
        + (f" after a last finite loss of {last_finite_loss!r}" if last_finite_loss is not None else "")
        + f"; the parameters were restored to their values before the last update. "
        f"Use a smaller learning_rate (got {learning_rate!r}) or standardize X and Y "
        f"(zero mean, unit variance)"
    )
    history.stopped_epoch = epoch
    history.stop_reason = message
    logger.debug("%s", message)
    error = DivergenceError(message, epoch=epoch, last_finite_loss=last_finite_loss)
    error.history = history
    return error
