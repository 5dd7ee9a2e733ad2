"""``mlpnet train``: read data, standardize, train, report metrics and save the model."""

from __future__ import annotations

import logging
import os
import shlex
import sys
from typing import Any

import numpy as np

from ..errors import DivergenceError
from ..io.atomic import check_writable
from ..network import Network
from ..preprocessing import Standardization, fit_standardization
from ..training.callbacks import EarlyStopping
from ..training.checkpoint import Checkpoint, Checkpointer, load_checkpoint, stop_on_signals
from .data import TaskSetup, load_data, set_up_task, split_rows
from .errors import CommandLineError
from .model import TrainedModel
from .plotting import check_plotting_available, write_loss_plot
from .progress import EpochProgress, progress_mode
from .report import classification_metrics, metrics_report, regression_metrics

logger = logging.getLogger(__name__)


def check_outputs(args) -> None:
    """Check --out, --plot and the checkpoint options before any work, so a bad path fails at once."""
    check_writable(args.out)
    check_checkpoint_options(args)
    if args.plot is not None:
        check_plotting_available()
        check_writable(args.plot)
        if os.path.abspath(args.plot) == os.path.abspath(args.out):
            raise CommandLineError(
                f"--plot and --out are the same file {args.out!r}", help="give the plot its own name"
            )


def build_model(args, data, setup: TaskSetup, train_rows: np.ndarray) -> TrainedModel:
    """Create the network and the standardization fitted on the training rows only."""
    input_scaling = target_scaling = None
    if args.standardize:
        input_scaling = fit_standardization(data.X[train_rows])
        if setup.task == "regression":
            target_scaling = fit_standardization(setup.targets[train_rows].reshape(-1, 1))
    return new_model(args, setup, data.feature_names, data.target_name, input_scaling, target_scaling)


def new_model(
    args,
    setup: TaskSetup,
    feature_names: list[str],
    target_name: str,
    input_scaling: Standardization | None,
    target_scaling: Standardization | None,
) -> TrainedModel:
    """Create an untrained network with the command's layers and wrap it with the data description."""
    network = Network(
        [len(feature_names), *args.hidden, setup.n_outputs],
        activation=args.activation,
        output_activation=setup.output_activation,
        seed=args.seed,
        dtype=args.dtype,
    )
    return TrainedModel(
        network=network,
        task=setup.task,
        loss=setup.loss,
        feature_names=list(feature_names),
        target_name=target_name,
        classes=setup.classes,
        input_scaling=input_scaling,
        target_scaling=target_scaling,
        header=args.header,
        delimiter=args.delimiter,
    )


def evaluate_rows(model: TrainedModel, X: np.ndarray, targets: np.ndarray) -> dict[str, Any] | None:
    """Compute the metrics on some rows, on the original target scale; None when there are no rows."""
    if X.shape[0] == 0:
        return None
    if model.task == "regression":
        return regression_metrics(targets, model.predict_values(X))
    return classification_metrics(targets, model.predict_probabilities(X))


def training_settings(args, setup: TaskSetup) -> dict[str, Any]:
    return {
        "task": setup.task,
        "hidden": list(args.hidden),
        "activation": args.activation,
        "output_activation": setup.output_activation,
        "loss": setup.loss,
        "optimizer": args.optimizer,
        "learning_rate": args.learning_rate,
        "epochs": args.epochs,
        "batch_size": "full" if args.batch_size is None else args.batch_size,
        "l2": args.l2,
        "seed": args.seed,
        "dtype": args.dtype,
        "validation_fraction": args.validation_fraction,
        "patience": args.patience,
        "standardize": args.standardize,
    }


def data_source(args, data) -> dict[str, Any]:
    if args.dataset is not None:
        return {"dataset": args.dataset}
    return {"file": os.path.basename(args.data), "header": args.header, "delimiter": args.delimiter}


def fit_network(args, model: TrainedModel, setup: TaskSetup, data, train_rows, validation_rows,
                checkpointer: Checkpointer):
    """Run Network.fit on the in-memory rows with progress reporting, checkpoints and optional early stopping.

    Returns the History.  SIGINT and SIGTERM stop training after the current
    epoch (see :func:`~mlpnet.training.checkpoint.stop_on_signals`).
    """
    X_train = model.network_inputs(data.X[train_rows])
    Y_train = model.network_targets(setup.targets[train_rows])
    validation_data = None
    if validation_rows.size:
        validation_data = (
            model.network_inputs(data.X[validation_rows]),
            model.network_targets(setup.targets[validation_rows]),
        )
    return fit_with_progress(args, model, setup, X_train, Y_train, validation_data, checkpointer, args.batch_size)


def fit_with_progress(args, model: TrainedModel, setup: TaskSetup, X_train, Y_train, validation_data,
                      checkpointer: Checkpointer, batch_size: int | None):
    """Run Network.fit on network inputs and targets (NumPy or Dask arrays) with the command's settings.

    A DivergenceError is re-raised with the command line's message and hints.
    """
    progress = EpochProgress(progress_mode(args.quiet, args.verbose, sys.stderr), args.epochs)
    callbacks: list[Any] = [progress]
    # Passed as early_stopping rather than as a callback, so that checkpoints keep its counters.
    early_stopping: EarlyStopping | bool = False
    if args.patience is not None:
        monitor = "val_loss" if validation_data is not None else "loss"
        early_stopping = EarlyStopping(monitor=monitor, patience=args.patience, restore_best_weights=True)

    try:
        with stop_on_signals(checkpointer):
            return model.network.fit(
                X_train,
                Y_train,
                loss=setup.loss,
                optimizer=args.optimizer,
                learning_rate=args.learning_rate,
                epochs=args.epochs,
                batch_size=batch_size,
                l2=args.l2,
                validation_data=validation_data,
                early_stopping=early_stopping,
                callbacks=callbacks,
                checkpoint=checkpointer,
                resume=args.resume,
            )
    except DivergenceError as exc:
        # The library counts epochs from 0; the progress lines count from 1.
        last = "" if exc.last_finite_loss is None else f" after a last finite loss of {exc.last_finite_loss:.6g}"
        exc.cli_message = (
            f"training diverged in epoch {exc.epoch + 1}: the loss or gradient became NaN or infinite{last}, "
            f"so the learning rate {args.learning_rate:g} is too large for this data"
        )
        hints = [f"use a smaller --learning-rate than {args.learning_rate:g}"]
        if not args.standardize:
            hints.append("drop --no-standardize")
        exc.help = "no model was written; " + " or ".join(hints)
        raise
    finally:
        progress.close()


def run(args) -> int:
    if getattr(args, "dask", None) is not None:
        # Data-parallel training on a Dask cluster: the same steps, chunk by chunk.
        from ..distributed.cli_support import run_train

        return run_train(args)
    check_outputs(args)
    resumed = read_resumed_checkpoint(args)

    data = load_data(args)
    setup = set_up_task(data, args.loss, args.output_activation)
    options = run_options(args, setup, data)
    if resumed is not None:
        check_same_options(resumed, options)
    train_rows, validation_rows = split_rows(data.X.shape[0], args.validation_fraction, args.seed)
    model = build_model(args, data, setup, train_rows)
    checkpointer = make_checkpointer(args, options)

    history = fit_network(args, model, setup, data, train_rows, validation_rows, checkpointer)
    results = {
        "training": evaluate_rows(model, data.X[train_rows], setup.targets[train_rows]),
        "validation": evaluate_rows(model, data.X[validation_rows], setup.targets[validation_rows]),
    }
    return finish_run(
        args, model, setup, history, checkpointer, results,
        source=data_source(args, data),
        row_counts=(train_rows, validation_rows, data.n_dropped),
        target_name=data.target_name,
    )


def finish_run(args, model, setup, history, checkpointer, results, source, row_counts, target_name) -> int:
    """Record how the model was trained, save it (beside --out when interrupted), plot and report.

    In-memory and Dask training both end here.  ``row_counts`` is (training
    row indices, validation row indices, number of dropped rows).
    """
    train_rows, validation_rows, n_dropped = row_counts
    model.training = {
        "data": source,
        "settings": training_settings(args, setup),
        "rows": {
            "training": int(train_rows.size),
            "validation": int(validation_rows.size),
            "dropped": int(n_dropped),
        },
        "epochs_run": len(history.loss),
        "stop_reason": history.stop_reason,
        "history": {"loss": [float(v) for v in history.loss], "val_loss": [float(v) for v in history.val_loss]},
    }
    model.metrics = results

    interrupted = checkpointer.stop_reason is not None and history.stop_reason == checkpointer.stop_reason
    if interrupted:
        out = interrupted_model_path(args.out)
        model.save(out)
        return report_interruption(args, history, checkpointer, out)
    model.save(args.out)

    if args.plot is not None:
        title = f"{target_name}: {'-'.join(map(str, model.network.layer_sizes))} network"
        write_loss_plot(args.plot, history.loss, history.val_loss, title)

    if not args.quiet:
        print_summary(args, model, history, train_rows, validation_rows, n_dropped, results)
    return 0


def print_summary(args, model, history, train_rows, validation_rows, n_dropped, results) -> None:
    net = model.network
    sizes = "-".join(str(n) for n in net.layer_sizes)
    validated = f", validated on {validation_rows.size}" if validation_rows.size else ", no validation rows"
    lines = [
        f"Trained a {sizes} network ({', '.join(net.activations)}; loss {model.loss}) for "
        f"{len(history.loss)} of {args.epochs} epochs on {train_rows.size} rows{validated}.",
    ]
    if n_dropped:
        lines.append(f"Dropped {n_dropped} rows with an empty cell (--drop-missing).")
    if history.stop_reason != "completed":
        lines.append(f"Stopped early: {history.stop_reason}.")
    lines.append(f"Wrote the model to {args.out}" + (f" and the loss curves to {args.plot}." if args.plot else "."))
    lines.append("")
    lines.extend(metrics_report(results, model.task, model.classes))
    print("\n".join(lines))


# -- checkpoints and interruption --------------------------------------------------

# The option that sets each entry of run_options(), for messages about a resumed run.
OPTION_NAMES = {
    "task": "--task",
    "hidden": "--hidden",
    "activation": "--activation",
    "output_activation": "--output-activation",
    "loss": "--loss",
    "optimizer": "--optimizer",
    "learning_rate": "--learning-rate",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "l2": "--l2",
    "seed": "--seed",
    "dtype": "--dtype",
    "validation_fraction": "--validation-fraction",
    "patience": "--patience",
    "standardize": "--no-standardize",
    "dataset": "--dataset",
    "file": "DATA.csv",
    "header": "--no-header",
    "delimiter": "--delimiter",
    "target": "--target",
    "features": "--features",
    "drop_missing": "--drop-missing",
}


def sibling_path(out: str, label: str) -> str:
    """Return MODEL.LABEL.npz beside MODEL.npz (the extension of --out is kept)."""
    root, extension = os.path.splitext(out)
    return f"{root}.{label}{extension or '.npz'}"


def interrupted_model_path(out: str) -> str:
    return sibling_path(out, "interrupted")


def checkpoint_path(args) -> str:
    """Return the checkpoint file: --checkpoint, else --resume, else MODEL.checkpoint.npz."""
    return args.checkpoint or args.resume or sibling_path(args.out, "checkpoint")


def check_checkpoint_options(args) -> None:
    if args.checkpoint_every is not None and args.checkpoint is None and args.resume is None:
        raise CommandLineError(
            f"--checkpoint-every {args.checkpoint_every} applies only with --checkpoint or --resume",
            help="add --checkpoint CHECKPOINT.npz, or leave out --checkpoint-every",
        )
    paths = {
        "--out": args.out,
        "the checkpoint": checkpoint_path(args),
        "the model of an interrupted run": interrupted_model_path(args.out),
    }
    if args.plot is not None:
        paths["--plot"] = args.plot
    seen: dict[str, str] = {}
    for role, path in paths.items():
        key = os.path.abspath(path)
        if key in seen:
            raise CommandLineError(
                f"{seen[key]} and {role} are the same file {path!r}", help="give each output its own file name"
            )
        seen[key] = role
    check_writable(paths["the checkpoint"])


def run_options(args, setup: TaskSetup, data) -> dict[str, Any]:
    """Return every option that decides the run, as plain JSON values, to keep in checkpoints."""
    return {
        **training_settings(args, setup),
        **data_source(args, data),
        "target": data.target_name,
        "features": list(data.feature_names),
        "drop_missing": args.drop_missing,
    }


def read_resumed_checkpoint(args) -> Checkpoint | None:
    """Read the --resume checkpoint first, so a missing or damaged file fails before the data is read."""
    if args.resume is None:
        return None
    _, checkpoint = load_checkpoint(args.resume)
    if not isinstance(checkpoint.metadata.get("command_line"), dict):
        raise CommandLineError(
            f"checkpoint {args.resume!r} was not written by 'mlpnet train', so it records no options to resume with",
            help="resume it from Python with Network.fit(..., resume=PATH)",
        )
    return checkpoint


def check_same_options(checkpoint: Checkpoint, options: dict[str, Any]) -> None:
    """Raise unless this command repeats the options of the run that wrote the checkpoint."""
    stored = checkpoint.metadata["command_line"]
    for key in sorted(set(options) | set(stored)):
        ours, theirs = options.get(key), stored.get(key)
        if ours != theirs:
            option = OPTION_NAMES.get(key, key)
            raise CommandLineError(
                f"cannot resume from {checkpoint.path!r}: {option} is {ours!r} in this command but "
                f"{theirs!r} in the run that wrote the checkpoint",
                help="repeat the data and options of that run, or leave out --resume to start a new run",
            )


def make_checkpointer(args, options: dict[str, Any]) -> Checkpointer:
    """Write checkpoints every --checkpoint-every epochs with --checkpoint or --resume, else only when interrupted."""
    every = None
    if args.checkpoint is not None or args.resume is not None:
        every = args.checkpoint_every or 1
    return Checkpointer(checkpoint_path(args), every=every, metadata={"command_line": options})


def resume_command(args, checkpoint: str) -> str:
    """Return the command line that continues this run from ``checkpoint``."""
    arguments = getattr(args, "argv", None) or sys.argv[1:]
    remaining_arguments: list[str] = []
    skip_value = False
    for argument in arguments:
        if skip_value:
            skip_value = False
            continue
        name, has_value, _ = argument.partition("=")
        # argparse also accepts an unambiguous prefix such as --res.
        if len(name) > 2 and name.startswith("--") and "--resume".startswith(name):
            skip_value = not has_value
            continue
        remaining_arguments.append(argument)
    return shlex.join(["mlpnet", *remaining_arguments, "--resume", checkpoint])


def report_interruption(args, history, checkpointer: Checkpointer, out: str) -> int:
    """Print where the interrupted run was saved and how to resume it; return 128 + the signal number."""
    from .main import EXIT_INTERRUPTED, print_error

    epoch = len(history)
    print_error(
        f"{checkpointer.stop_reason} after epoch {epoch} of {args.epochs}; saved the model of epoch {epoch} "
        f"to {out!r} and a checkpoint to {checkpointer.path!r}",
        f"resume with: {resume_command(args, checkpointer.path)}",
    )
    if checkpointer.stop_signal is None:
        return EXIT_INTERRUPTED
    return 128 + checkpointer.stop_signal
