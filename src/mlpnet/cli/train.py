"""``mlpnet train``: read data, standardize, train, report metrics and save the model."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import numpy as np

from ..errors import DivergenceError
from ..io.atomic import check_writable
from ..network import Network
from ..preprocessing import fit_standardization
from ..training.callbacks import EarlyStopping
from .data import TaskSetup, load_data, set_up_task, split_rows
from .errors import CommandLineError
from .model import TrainedModel
from .plotting import check_plotting_available, write_loss_plot
from .progress import EpochProgress, progress_mode
from .report import classification_metrics, metrics_report, regression_metrics

logger = logging.getLogger(__name__)


def check_outputs(args) -> None:
    """Check --out and --plot before any work, so a bad path fails at once."""
    check_writable(args.out)
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

    layer_sizes = [data.X.shape[1], *args.hidden, setup.n_outputs]
    network = Network(
        layer_sizes,
        activation=args.activation,
        output_activation=setup.output_activation,
        seed=args.seed,
        dtype=args.dtype,
    )
    return TrainedModel(
        network=network,
        task=setup.task,
        loss=setup.loss,
        feature_names=list(data.feature_names),
        target_name=data.target_name,
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


def fit_network(args, model: TrainedModel, setup: TaskSetup, data, train_rows, validation_rows):
    """Run Network.fit with progress reporting and optional early stopping; return the History."""
    X_train = model.network_inputs(data.X[train_rows])
    Y_train = model.network_targets(setup.targets[train_rows])
    validation_data = None
    if validation_rows.size:
        validation_data = (
            model.network_inputs(data.X[validation_rows]),
            model.network_targets(setup.targets[validation_rows]),
        )

    progress = EpochProgress(progress_mode(args.quiet, args.verbose, sys.stderr), args.epochs)
    callbacks: list[Any] = [progress]
    if args.patience is not None:
        monitor = "val_loss" if validation_data is not None else "loss"
        callbacks.append(EarlyStopping(monitor=monitor, patience=args.patience, restore_best_weights=True))

    try:
        return model.network.fit(
            X_train,
            Y_train,
            loss=setup.loss,
            optimizer=args.optimizer,
            learning_rate=args.learning_rate,
            epochs=args.epochs,
            batch_size=args.batch_size,
            l2=args.l2,
            validation_data=validation_data,
            callbacks=callbacks,
        )
    except DivergenceError as exc:
        hints = [f"use a smaller --learning-rate than {args.learning_rate:g}"]
        if not args.standardize:
            hints.append("drop --no-standardize")
        exc.help = "no model was written; " + " or ".join(hints)
        raise
    finally:
        progress.close()


def run(args) -> int:
    check_outputs(args)

    data = load_data(args)
    setup = set_up_task(data, args.loss, args.output_activation)
    train_rows, validation_rows = split_rows(data.X.shape[0], args.validation_fraction, args.seed)
    model = build_model(args, data, setup, train_rows)

    history = fit_network(args, model, setup, data, train_rows, validation_rows)

    results = {
        "training": evaluate_rows(model, data.X[train_rows], setup.targets[train_rows]),
        "validation": evaluate_rows(model, data.X[validation_rows], setup.targets[validation_rows]),
    }
    model.training = {
        "data": data_source(args, data),
        "settings": training_settings(args, setup),
        "rows": {
            "training": int(train_rows.size),
            "validation": int(validation_rows.size),
            "dropped": int(data.n_dropped),
        },
        "epochs_run": len(history.loss),
        "stop_reason": history.stop_reason,
        "history": {"loss": [float(v) for v in history.loss], "val_loss": [float(v) for v in history.val_loss]},
    }
    model.metrics = results
    model.save(args.out)

    if args.plot is not None:
        title = f"{data.target_name}: {'-'.join(map(str, model.network.layer_sizes))} network"
        write_loss_plot(args.plot, history.loss, history.val_loss, title)

    if not args.quiet:
        print_summary(args, model, history, train_rows, validation_rows, data.n_dropped, results)
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
