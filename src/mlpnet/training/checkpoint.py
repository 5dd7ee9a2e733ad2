"""Checkpoints of a training run, resuming them bit for bit, and stopping cleanly on a signal.

A checkpoint contains everything that decides the rest of a fit call: the
parameters, the optimizer's settings and state arrays, the learning-rate
schedule's state, the state of the network's random generator (which draws
each epoch's mini-batch order), the epoch counter, the validation split
seed, the early-stopping counters and the history so far.  It also records
the call's settings and a SHA-256 digest of its training and validation
rows, so that a resumed call can check that it continues the same run.

``fit(..., checkpoint=PATH)`` writes one after every ``checkpoint_every``
epochs and when training ends.  ``fit(..., resume=PATH)`` loads one into the
network and runs the epochs that remain.  Because every epoch starts from
exactly the saved state, a run interrupted after any epoch and resumed gives
the same parameters, optimizer state and history, bit for bit, as a run
that was never interrupted.

A :class:`Checkpointer` also stops training at the next epoch boundary when
:meth:`Checkpointer.request_stop` is called, which :func:`stop_on_signals`
does from a SIGINT or SIGTERM handler.  Training is then never left with a
half-updated parameter vector, and the final checkpoint is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import numbers
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidParameterError
from ..io.atomic import check_writable
from ..io.checkpoint_file import (
    FieldReader,
    float_to_json,
    int_to_json,
    load_checkpoint_file,
    rng_state_to_json,
    save_checkpoint_file,
)
from ..validation import check_positive_int
from .callbacks import Callback, EarlyStopping
from .history import History
from .optimizers import OPTIMIZERS, Optimizer, make_optimizer
from .options import DataSet, FitSettings
from .schedules import SCHEDULES, Schedule, make_schedule

if TYPE_CHECKING:
    from ..network import Network

logger = logging.getLogger(__name__)

OPTIMIZER_ARRAY_PREFIX = "optimizer_"
BEST_PARAMETERS_ARRAY = "early_stopping_best_parameters"


@dataclass
class RunRecord:
    """The fit call a checkpoint belongs to.

    Attributes
    ----------
    initial_epoch : int
        The network's epoch count when the call started.
    epochs : int
        The number of epochs the call requested.
    settings : dict
        The call's settings as plain JSON values (see :func:`settings_record`).
    data : dict
        ``{"train": hex digest, "validation": hex digest or None}``: SHA-256
        digests of the training and validation rows (see :func:`data_digest`).
    """

    initial_epoch: int
    epochs: int
    settings: dict[str, Any]
    data: dict[str, str | None]

    @property
    def final_epoch(self) -> int:
        return self.initial_epoch + self.epochs


@dataclass
class Checkpoint:
    """The training state read from a checkpoint file, besides the network itself.

    Attributes
    ----------
    path : str
    epoch : int
        The number of epochs the network had completed.
    history : History
        The records of the checkpointed fit call's completed epochs.
    run : RunRecord or None
        The fit call that wrote the checkpoint; None for one written by
        :func:`save_checkpoint` outside of fit.
    early_stopping : dict or None
        ``{"config": ..., "state": ..., "best_parameters": ndarray or None}``
        when the run used early stopping.
    metadata : dict
        The caller's free-form metadata.
    """

    path: str
    epoch: int
    history: History
    run: RunRecord | None
    early_stopping: dict[str, Any] | None
    metadata: dict[str, Any]

    @property
    def stopped_early(self) -> bool:
        return self.early_stopping is not None and self.early_stopping["state"]["stopped_epoch"] is not None

    @property
    def remaining_epochs(self) -> int:
        """The epochs the checkpointed run has left: 0 once it completed or stopped early."""
        if self.run is None or self.stopped_early:
            return 0
        return max(self.run.final_epoch - self.epoch, 0)


# -- what a checkpoint records ---------------------------------------------------------


def early_stopping_config(callback: EarlyStopping) -> dict[str, Any]:
    return {
        "monitor": callback.monitor,
        "patience": callback.patience,
        "min_delta": callback.min_delta,
        "restore_best_weights": callback.restore_best_weights,
    }


def settings_record(settings: FitSettings) -> dict[str, Any]:
    """Return the fit settings that decide the training trajectory, as plain JSON values.

    Callbacks other than early stopping are not recorded: a resumed call
    must pass them again.
    """
    return {
        "loss": settings.loss.name,
        "optimizer": settings.optimizer.config(),
        "learning_rate": settings.learning_rate,
        "schedule": settings.schedule.config(),
        "batch_size": settings.batch_size,
        "shuffle": settings.shuffle,
        "l2": settings.l2,
        "clip_norm": settings.clip_norm,
        "metrics": list(settings.metrics),
        "validation_seed": int_to_json(settings.validation_seed),
        "early_stopping": None if settings.early_stopping is None else early_stopping_config(settings.early_stopping),
    }


def data_digest(data: DataSet | None) -> str | None:
    """Return the SHA-256 hex digest of rows X, Y and their sample weights (with dtypes and shapes).

    Returns None without rows, and for rows that are not in-memory NumPy
    arrays.
    """
    if not isinstance(data, DataSet):
        return None
    arrays = (data.X, data.Y, data.sample_weight)
    if not all(array is None or isinstance(array, np.ndarray) for array in arrays):
        # NOTE: rows held elsewhere (such as Dask chunks) are not digested, so a
        # resumed call cannot check that it trains on the same data.
        return None
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none;")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.data)
    return digest.hexdigest()


def history_to_json(history: History) -> dict[str, Any]:
    return {
        "epochs": list(history.epochs),
        "loss": [float_to_json(v) for v in history.loss],
        "val_loss": [float_to_json(v) for v in history.val_loss],
        "learning_rate": [float_to_json(v) for v in history.learning_rate],
        "metrics": {name: [float_to_json(v) for v in values] for name, values in history.metrics.items()},
        "stopped_epoch": history.stopped_epoch,
        "stop_reason": history.stop_reason,
    }


def check_checkpointable(net: Network, optimizer: Optimizer | None, schedule: Schedule | None) -> None:
    """Raise before training if the network's state could not be written to a checkpoint."""
    rng_state_to_json(net.rng)
    if optimizer is not None and type(optimizer) is not OPTIMIZERS.get(optimizer.name):
        raise InvalidParameterError(
            f"checkpoints store the built-in optimizers only ({', '.join(OPTIMIZERS)}), got {optimizer!r}"
        )
    if schedule is not None and type(schedule) is not SCHEDULES.get(schedule.name):
        raise InvalidParameterError(
            f"checkpoints store the built-in schedules only ({', '.join(SCHEDULES)}), got {schedule!r}"
        )


def capture_state(
    net: Network,
    history: History | None,
    run: RunRecord | None,
    early_stopping: EarlyStopping | None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return the ``checkpoint`` JSON object and the state arrays of ``net`` and its training."""
    state = net.training_state
    optimizer, schedule = state.get("optimizer"), state.get("schedule")
    check_checkpointable(net, optimizer, schedule)
    arrays: dict[str, np.ndarray] = {}

    optimizer_json = None
    if optimizer is not None:
        names = list(optimizer.state)
        optimizer_json = {"config": optimizer.config(), "step_count": optimizer.step_count, "arrays": names}
        arrays.update({OPTIMIZER_ARRAY_PREFIX + name: optimizer.state[name] for name in names})

    schedule_json = None
    if schedule is not None:
        schedule_state = {
            key: float_to_json(value) if isinstance(value, float) else value
            for key, value in schedule.state_dict().items()
        }
        schedule_json = {"config": schedule.config(), "state": schedule_state}

    early_stopping_json = None
    if early_stopping is not None:
        early_stopping_json = {
            "config": early_stopping_config(early_stopping),
            "state": {
                "best": float_to_json(early_stopping.best),
                "best_epoch": early_stopping.best_epoch,
                "wait": early_stopping.wait,
                "stopped_epoch": early_stopping.stopped_epoch,
            },
            "has_best_parameters": early_stopping.best_parameters is not None,
        }
        if early_stopping.best_parameters is not None:
            arrays[BEST_PARAMETERS_ARRAY] = early_stopping.best_parameters

    seed = net.seed if isinstance(net.seed, numbers.Integral) and not isinstance(net.seed, bool) else None
    checkpoint = {
        "epoch": int(state.get("epoch", 0)),
        "seed": int_to_json(seed),
        "rng": rng_state_to_json(net.rng),
        "validation_seed": int_to_json(state.get("validation_seed")),
        "optimizer": optimizer_json,
        "schedule": schedule_json,
        "early_stopping": early_stopping_json,
        "run": None if run is None else {
            "initial_epoch": run.initial_epoch,
            "epochs": run.epochs,
            "settings": run.settings,
            "data": run.data,
        },
        "history": history_to_json(history if history is not None else History()),
    }
    return checkpoint, arrays


def save_checkpoint(
    path: str | os.PathLike[str],
    net: Network,
    history: History | None = None,
    metadata: dict[str, Any] | None = None,
    *,
    run: RunRecord | None = None,
    early_stopping: EarlyStopping | None = None,
) -> None:
    """Write ``net`` and its training state (``net.training_state``, generator, seed) to a checkpoint atomically.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace; the previous file stays until the new
        one is complete.
    net : Network
    history : History, optional
        The records to keep with the checkpoint.
    metadata : dict, optional
        Free-form JSON facts, returned as ``Checkpoint.metadata``.
    run, early_stopping : optional
        The fit call and its early-stopping callback, which fit passes so
        that ``fit(..., resume=path)`` can continue the call.

    Raises
    ------
    InvalidParameterError
        If a parameter or state array is NaN or infinite (nothing is
        written), or the optimizer, schedule or random generator is not one
        that checkpoints support.
    """
    checkpoint, arrays = capture_state(net, history, run, early_stopping)
    save_checkpoint_file(path, net, checkpoint, arrays, metadata)
    logger.debug("wrote checkpoint %s after epoch %d", os.fspath(path), checkpoint["epoch"])


# -- reading a checkpoint --------------------------------------------------------------


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[Network, Checkpoint]:
    """Read a checkpoint: a network with its training state restored, and the run's records.

    The network has the saved parameters, seed, random generator state and
    ``training_state`` (optimizer, schedule, epoch count, validation seed),
    so ``net.fit(X, Y, ...)`` with the same optimizer and schedule settings
    continues where the checkpoint left off, like a second fit call.

    Returns
    -------
    net : Network
    checkpoint : Checkpoint

    Raises
    ------
    ModelFormatError
        If the file is missing, damaged, not a checkpoint, or contains an
        invalid training state; the message names the file and the field.
    """
    contents = load_checkpoint_file(path)
    reader = FieldReader(path, contents.checkpoint)
    net = contents.network
    arrays = dict(contents.arrays)

    training_state: dict[str, Any] = {"epoch": reader.integer("epoch")}
    validation_seed = reader.big_integer("validation_seed", optional=True)
    if validation_seed is not None:
        training_state["validation_seed"] = validation_seed

    optimizer_fields = reader.child("optimizer", optional=True)
    if optimizer_fields is not None:
        training_state["optimizer"] = read_optimizer(optimizer_fields, arrays, net)
    schedule_fields = reader.child("schedule", optional=True)
    if schedule_fields is not None:
        training_state["schedule"] = read_schedule(schedule_fields)
    early_stopping_fields = reader.child("early_stopping", optional=True)
    early_stopping = None if early_stopping_fields is None else read_early_stopping(early_stopping_fields, arrays, net)
    run_fields = reader.child("run", optional=True)
    run = None if run_fields is None else read_run(run_fields)
    history = read_history(reader.child("history"))

    if arrays:
        raise reader.fail(f"unexpected array {sorted(arrays)[0]!r}: no field of the checkpoint uses it")

    net.seed = reader.big_integer("seed", optional=True)
    net.rng = read_generator(reader)
    net.training_state = training_state
    checkpoint = Checkpoint(os.fspath(path), training_state["epoch"], history, run, early_stopping, contents.metadata)
    return net, checkpoint


def read_generator(reader: FieldReader) -> np.random.Generator:
    state = reader.rng_state("rng")
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = state
    except (TypeError, ValueError) as exc:
        raise reader.invalid("rng", f"a valid {state['bit_generator']} state ({exc})") from exc
    return np.random.Generator(bit_generator)


def take_array(reader: FieldReader, arrays: dict[str, np.ndarray], name: str, net: Network) -> np.ndarray:
    """Remove and return the state array ``name``, which must be shaped and typed like the parameters."""
    if name not in arrays:
        raise reader.fail(f"the array {name!r} is missing")
    array = arrays.pop(name)
    if array.shape != net.parameters.shape or array.dtype != net.dtype:
        raise reader.fail(
            f"the array {name!r} has shape {array.shape} and dtype {array.dtype}, but the network's "
            f"parameters have shape {net.parameters.shape} and dtype {net.dtype}"
        )
    return array


def split_config(reader: FieldReader) -> tuple[str, dict[str, Any]]:
    config = dict(reader.mapping("config"))
    name = config.pop("name", None)
    if not isinstance(name, str):
        raise reader.invalid("config", "an object with a string 'name'")
    return name, config


def read_optimizer(reader: FieldReader, arrays: dict[str, np.ndarray], net: Network) -> Optimizer:
    name, options = split_config(reader)
    try:
        optimizer = make_optimizer(name, **options)
    except InvalidParameterError as exc:
        raise reader.invalid("config", f"the settings of a built-in optimizer ({exc})") from exc
    names = reader.texts("arrays")
    if names and sorted(names) != sorted(optimizer.state_names):
        raise reader.invalid("arrays", f"the {name} optimizer's state names {list(optimizer.state_names)}")
    step_count = reader.integer("step_count")
    if names:
        state = {key: take_array(reader, arrays, OPTIMIZER_ARRAY_PREFIX + key, net) for key in names}
        optimizer.load_state_dict({"step_count": step_count, **state})
        return optimizer
    if optimizer.state_names and step_count:
        raise reader.invalid("arrays", f"the {name} optimizer's state names {list(optimizer.state_names)} "
                                       f"after {step_count} steps")
    optimizer.step_count = step_count
    return optimizer


def read_schedule(reader: FieldReader) -> Schedule:
    name, options = split_config(reader)
    try:
        schedule = make_schedule(name, **options)
    except InvalidParameterError as exc:
        raise reader.invalid("config", f"the settings of a built-in schedule ({exc})") from exc
    fields = reader.child("state")
    fresh = schedule.state_dict()
    if sorted(fields.values) != sorted(fresh):
        raise reader.invalid("state", f"an object with the fields {sorted(fresh)}")
    state = {
        key: fields.integer(key) if isinstance(value, int) else fields.number(key, optional=True)
        for key, value in fresh.items()
    }
    schedule.load_state_dict(state)
    learning_rate = schedule.learning_rate
    if learning_rate is not None and not (np.isfinite(learning_rate) and learning_rate > 0):
        raise fields.invalid("learning_rate", "a finite number > 0")
    return schedule


def read_early_stopping(reader: FieldReader, arrays: dict[str, np.ndarray], net: Network) -> dict[str, Any]:
    config = reader.mapping("config")
    try:
        EarlyStopping(**config)
    except (InvalidParameterError, TypeError) as exc:
        raise reader.invalid("config", f"early-stopping settings ({exc})") from exc
    fields = reader.child("state")
    state = {
        "best": fields.number("best"),
        "best_epoch": fields.integer("best_epoch", optional=True),
        "wait": fields.integer("wait"),
        "stopped_epoch": fields.integer("stopped_epoch", optional=True),
    }
    best_parameters = None
    if reader.boolean("has_best_parameters"):
        best_parameters = take_array(reader, arrays, BEST_PARAMETERS_ARRAY, net)
    return {"config": dict(config), "state": state, "best_parameters": best_parameters}


def read_run(reader: FieldReader) -> RunRecord:
    data = reader.child("data")
    digests = {}
    for key in ("train", "validation"):
        value = data.values.get(key)
        # null means the rows were not digested: no validation data, or rows held
        # elsewhere such as Dask chunks.
        if value is not None and (not isinstance(value, str) or len(value) != 64):
            raise data.invalid(key, "a SHA-256 hex digest or null")
        digests[key] = value
    return RunRecord(
        initial_epoch=reader.integer("initial_epoch"),
        epochs=reader.integer("epochs", minimum=1),
        settings=reader.mapping("settings"),
        data=digests,
    )


def read_history(reader: FieldReader) -> History:
    history = History()
    history.epochs = reader.integers("epochs")
    history.loss = reader.numbers("loss")
    history.learning_rate = reader.numbers("learning_rate")
    history.val_loss = reader.numbers("val_loss")
    n_epochs = len(history.epochs)
    for key, values in (("loss", history.loss), ("learning_rate", history.learning_rate)):
        if len(values) != n_epochs:
            raise reader.invalid(key, f"a list of {n_epochs} numbers, one per recorded epoch")
    if len(history.val_loss) not in (0, n_epochs):
        raise reader.invalid("val_loss", f"an empty list or a list of {n_epochs} numbers")
    metrics = reader.child("metrics")
    for name in metrics.values:
        values = metrics.numbers(name)
        if len(values) != n_epochs:
            raise metrics.invalid(name, f"a list of {n_epochs} numbers, one per recorded epoch")
        history.metrics[name] = values
    history.stopped_epoch = reader.integer("stopped_epoch", optional=True)
    history.stop_reason = reader.text("stop_reason")
    return history


# -- writing checkpoints during fit ----------------------------------------------------


class Checkpointer(Callback):
    """Write checkpoints during fit, and stop training at an epoch boundary on request.

    Pass one as ``fit(..., checkpoint=Checkpointer(path))``, or pass a path,
    which makes one.  It writes the checkpoint after every ``every``
    completed epochs and once more when training ends, unless the last
    epoch's checkpoint is already written.  With ``every=None`` it writes
    only when training ends after :meth:`request_stop`.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, replaced atomically at each write.
    every : int >= 1 or None, default 1
    metadata : dict, optional
        Free-form JSON facts stored in every checkpoint.

    Attributes
    ----------
    stop_reason : str or None
        Set by :meth:`request_stop`; training stops after the current epoch.
    stop_signal : int or None
        The signal number given to :meth:`request_stop`, if any.
    written_epoch : int or None
        The epoch count of the last checkpoint written in this fit call.
    """

    def __init__(self, path: str | os.PathLike[str], every: int | None = 1, metadata: dict[str, Any] | None = None):
        self.path = os.fspath(path)
        check_writable(self.path)
        self.every = None if every is None else check_positive_int(every, "checkpoint_every")
        self.metadata = metadata
        self.stop_reason: str | None = None
        self.stop_signal: int | None = None
        self.written_epoch: int | None = None
        self.history: History | None = None
        self.run: RunRecord | None = None
        self.early_stopping: EarlyStopping | None = None
        self.restore: dict[str, Any] | None = None

    def request_stop(self, reason: str, signal_number: int | None = None) -> None:
        """Ask training to stop after the current epoch; safe to call from a signal handler."""
        self.stop_signal = signal_number
        self.stop_reason = reason

    def attach(
        self,
        history: History,
        run: RunRecord,
        early_stopping: EarlyStopping | None,
        restore: dict[str, Any] | None = None,
    ) -> None:
        """Bind the checkpointer to one fit call, before training starts."""
        self.history = history
        self.run = run
        self.early_stopping = early_stopping
        self.restore = restore
        self.written_epoch = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        # Early stopping resets its counters in its own on_train_begin, which
        # runs before this one, so a resumed call restores them here.
        if self.restore is not None and self.early_stopping is not None:
            state = self.restore["state"]
            self.early_stopping.best = state["best"]
            self.early_stopping.best_epoch = state["best_epoch"]
            self.early_stopping.wait = state["wait"]
            self.early_stopping.stopped_epoch = state["stopped_epoch"]
            best = self.restore["best_parameters"]
            self.early_stopping.best_parameters = None if best is None else best.copy()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> str | None:
        if self.every is not None and (epoch + 1) % self.every == 0:
            self.write()
        return self.stop_reason

    def on_train_end(self, logs: dict[str, Any]) -> None:
        stopped_here = self.stop_reason is not None and self.history is not None and (
            self.history.stop_reason == self.stop_reason
        )
        if self.every is None and not stopped_here:
            return
        if self.network is not None and self.written_epoch != self.network.training_state.get("epoch"):
            self.write()

    def write(self) -> None:
        """Write the checkpoint of the current epoch now."""
        if self.network is None:
            raise InvalidParameterError("the checkpointer has no network yet; pass it to fit(checkpoint=...)")
        save_checkpoint(
            self.path, self.network, self.history, self.metadata,
            run=self.run, early_stopping=self.early_stopping,
        )
        self.written_epoch = self.network.training_state.get("epoch")

    def __repr__(self) -> str:
        return f"Checkpointer({self.path!r}, every={self.every!r})"


@contextlib.contextmanager
def stop_on_signals(
    checkpointer: Checkpointer, signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)
) -> Iterator[Checkpointer]:
    """Make the first of ``signals`` stop training at the next epoch boundary; restore the handlers after.

    The handler only sets a flag through :meth:`Checkpointer.request_stop`,
    so an epoch in progress finishes and the checkpoint is written.  A second
    signal goes to the handler installed before, or raises KeyboardInterrupt
    when that handler is not a function, for a user who does not want to
    wait for the epoch to end.  Nothing is saved then, and files already
    written stay intact because every write is atomic.  Outside the main
    thread, where Python cannot install handlers, nothing is installed.
    """

    def handle(signal_number: int, frame: Any) -> None:
        if checkpointer.stop_reason is None:
            checkpointer.request_stop(f"interrupted by {signal.Signals(signal_number).name}", signal_number)
            return
        # The second signal gets the handling it had before, which for
        # SIGINT is Python's KeyboardInterrupt.
        handler = previous.get(signal_number)
        if callable(handler):
            handler(signal_number, frame)
        raise KeyboardInterrupt

    previous: dict[int, Any] = {}
    try:
        for signal_number in signals:
            previous[signal_number] = signal.signal(signal_number, handle)
    except ValueError as exc:
        logger.debug("cannot install signal handlers outside the main thread: %s", exc)
    try:
        yield checkpointer
    finally:
        for signal_number, handler in previous.items():
            signal.signal(signal_number, handler)


# -- checkpoint and resume arguments of fit -----------------------------------------------


class CheckpointSession:
    """The ``checkpoint`` and ``resume`` arguments of one fit call.

    :func:`open_session` reads the checkpoint to resume into a separate
    network, whose training state fit's settings are resolved against.  Only
    after :meth:`train` has checked those settings against the checkpoint
    does it copy the restored state into the caller's network, so a call
    that fails any check leaves the network unchanged.
    """

    def __init__(self, checkpointer: Checkpointer, restored: tuple[Network, Checkpoint] | None):
        self.checkpointer = checkpointer
        self.restored = restored

    @property
    def resolving_network(self) -> Network | None:
        """The network to resolve settings against: the restored one when resuming, else None."""
        return None if self.restored is None else self.restored[0]

    def train(self, net: Network, settings: FitSettings) -> History:
        from .loop import train

        check_checkpointable(net, settings.optimizer, settings.schedule)
        record = settings_record(settings)
        digests = {"train": data_digest(settings.train), "validation": data_digest(settings.validation)}

        restore = None
        if self.restored is None:
            history = History()
            run = RunRecord(net.training_state.get("epoch", 0), settings.epochs, record, digests)
        else:
            restored_net, checkpoint = self.restored
            run = checkpoint.run
            check_same_run(checkpoint, settings, record, digests)
            adopt_restored_state(net, restored_net, settings)
            history = checkpoint.history
            restore = checkpoint.early_stopping
            if checkpoint.remaining_epochs == 0:
                logger.info("checkpoint %s: the run already ended after epoch %d", checkpoint.path, checkpoint.epoch)
                return history
            history.stopped_epoch, history.stop_reason = None, "completed"
            settings.epochs = checkpoint.remaining_epochs

        self.checkpointer.attach(history, run, settings.early_stopping, restore)
        settings.callbacks.append(self.checkpointer)
        return train(net, settings, history)


def open_session(
    net: Network,
    checkpoint: str | os.PathLike[str] | Checkpointer | None,
    checkpoint_every: int | None,
    resume: str | os.PathLike[str] | None,
) -> CheckpointSession | None:
    """Check fit's checkpoint arguments and read the checkpoint to resume; None when both are absent.

    Without ``checkpoint``, a resumed call keeps writing to the file it resumed from.

    Raises
    ------
    InvalidParameterError
        For an invalid argument, or a checkpoint of a network with other
        layer sizes, activations or dtype.
    ModelFormatError
        If the checkpoint to resume cannot be read.
    """
    if checkpoint is None and resume is None:
        if checkpoint_every is not None:
            raise InvalidParameterError(
                f"checkpoint_every={checkpoint_every!r} applies only with checkpoint=PATH; remove it or add checkpoint"
            )
        return None

    if isinstance(checkpoint, Checkpointer):
        if checkpoint_every is not None:
            raise InvalidParameterError(
                "checkpoint_every cannot be combined with a Checkpointer instance; set its every= instead"
            )
        checkpointer = checkpoint
    else:
        target = resume if checkpoint is None else checkpoint
        if not isinstance(target, (str, os.PathLike)):
            raise InvalidParameterError(f"checkpoint must be a file path or a Checkpointer, got {target!r}")
        checkpointer = Checkpointer(target, every=1 if checkpoint_every is None else checkpoint_every)

    restored = None
    if resume is not None:
        if not isinstance(resume, (str, os.PathLike)):
            raise InvalidParameterError(f"resume must be the path of a checkpoint file, got {resume!r}")
        restored = load_checkpoint(resume)
        check_same_network(net, restored[0], os.fspath(resume))
        if restored[1].run is None:
            raise InvalidParameterError(
                f"checkpoint {os.fspath(resume)!r} was not written by fit, so it records no run to resume; "
                f"load it with mlpnet.training.checkpoint.load_checkpoint and call fit on the network"
            )
    return CheckpointSession(checkpointer, restored)


def check_same_network(net: Network, restored: Network, path: str) -> None:
    for name in ("layer_sizes", "activations", "dtype"):
        ours, theirs = getattr(net, name), getattr(restored, name)
        if ours != theirs:
            raise InvalidParameterError(
                f"cannot resume from checkpoint {path!r}: the network has {name} {ours!s}, but the checkpoint's "
                f"network has {theirs!s}; create the network with the same {name}"
            )


def check_same_run(
    checkpoint: Checkpoint, settings: FitSettings, record: dict[str, Any], digests: dict[str, str | None]
) -> None:
    """Raise unless this fit call's settings and data are those of the checkpointed run."""
    run = checkpoint.run
    conflicts = [("epochs", settings.epochs, run.epochs)]
    keys = sorted(set(record) | set(run.settings))
    conflicts += [(key, record.get(key), run.settings.get(key)) for key in keys]
    for name, ours, theirs in conflicts:
        if ours != theirs:
            raise InvalidParameterError(
                f"cannot resume from checkpoint {checkpoint.path!r}: {name} is {ours!r} in this call but "
                f"{theirs!r} in the checkpointed run; pass the same settings as the run that wrote the checkpoint"
            )
    for part in ("train", "validation"):
        if digests[part] != run.data.get(part):
            raise InvalidParameterError(
                f"cannot resume from checkpoint {checkpoint.path!r}: the {part} data differ from the checkpointed "
                f"run's (SHA-256 {str(digests[part])[:12]}... instead of {str(run.data.get(part))[:12]}...); "
                f"pass the same X, Y, sample weights and validation settings"
            )


def adopt_restored_state(net: Network, restored: Network, settings: FitSettings) -> None:
    """Copy the restored parameters, generator, seed and training state into ``net``."""
    state = restored.training_state
    for key, chosen in (("optimizer", settings.optimizer), ("schedule", settings.schedule)):
        # An instance passed to fit with the checkpoint's settings takes over the saved state.
        saved = state.get(key)
        if saved is not None and chosen is not saved:
            chosen.load_state_dict(saved.state_dict())
            state[key] = chosen
    np.copyto(net.parameters, restored.parameters)
    net.rng = restored.rng
    net.seed = restored.seed
    net.training_state = state
