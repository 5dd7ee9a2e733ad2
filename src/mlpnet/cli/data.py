"""Training data for ``mlpnet train``: reading it, choosing the task, and the validation split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io.csv_reader import Dataset, load_training_data
from ..losses import default_output_activation, get_loss
from ..preprocessing import encode_labels, find_classes
from .errors import CommandLineError


def loss_task(loss: str) -> str:
    """Return "classification" for a cross-entropy loss, else "regression"."""
    return "classification" if get_loss(loss).output_activation is not None else "regression"


def requested_task(task_option: str, loss: str | None) -> str:
    """Combine --task and --loss into the task passed to the CSV reader ("auto" lets it decide)."""
    if loss is None:
        return task_option
    implied = loss_task(loss)
    if task_option not in ("auto", implied):
        raise CommandLineError(
            f"--loss {loss} is a {implied} loss, but --task is {task_option}",
            help=f"drop --task, or choose a {task_option} loss",
        )
    return implied


def load_data(args) -> Dataset:
    """Read DATA.csv or the bundled dataset named by --dataset, with --target and --features."""
    task = requested_task(args.task, args.loss)
    if args.data is not None and args.dataset is not None:
        raise CommandLineError(
            f"give either DATA.csv ({args.data!r}) or --dataset ({args.dataset!r}), not both"
        )
    if args.dataset is not None:
        if not args.header or args.delimiter != ",":
            raise CommandLineError(
                "--no-header and --delimiter apply to DATA.csv only; bundled datasets have a header "
                "and use commas",
                help="leave them out with --dataset",
            )
        from ..datasets import load_dataset

        return load_dataset(args.dataset, target=args.target, features=args.features, task=task)
    if args.data is None:
        raise CommandLineError(
            "no training data: give a CSV file (mlpnet train DATA.csv --target COLUMN) or a bundled "
            "dataset (--dataset NAME)",
            help="run 'mlpnet datasets' to list the bundled datasets",
        )
    return load_training_data(
        args.data,
        target=args.target,
        features=args.features,
        header=args.header,
        delimiter=args.delimiter,
        drop_missing=args.drop_missing,
        task=task,
    )


@dataclass
class TaskSetup:
    """The loss, output layer, class labels and network targets that follow from the task.

    Attributes
    ----------
    task : {"regression", "classification"}
    loss : str
    output_activation : str
    n_outputs : int
    classes : list of str or None
    targets : ndarray of shape (m,)
        Raw float targets for a regression, class indices for a classifier.
    """

    task: str
    loss: str
    output_activation: str
    n_outputs: int
    classes: list[str] | None
    targets: np.ndarray


def set_up_task(data: Dataset, loss: str | None, output_activation: str | None) -> TaskSetup:
    """Choose the loss and output layer from the task and the number of classes.

    Regression: mse and an identity output unless given.  Two classes: one
    sigmoid output with binary cross-entropy.  More classes: one softmax
    output per class with cross-entropy.  An explicit --loss crossentropy
    with two classes gives two softmax outputs.
    """
    if data.task == "regression":
        loss = loss or "mse"
        output_activation = output_activation or default_output_activation(loss)
        targets = np.asarray(data.y, dtype=np.float64)
        return TaskSetup("regression", loss, output_activation, 1, None, targets)

    classes = find_classes(data.y)
    if len(classes) < 2:
        raise CommandLineError(
            f"the target column {data.target_name!r} contains only one class, {classes[0]!r}; "
            "a classifier needs at least two",
            help="check --target, or use --task regression",
        )
    if loss is None:
        loss = "binary_crossentropy" if len(classes) == 2 else "crossentropy"
    if loss == "binary_crossentropy" and len(classes) > 2:
        raise CommandLineError(
            f"--loss binary_crossentropy needs two classes, but {data.target_name!r} has "
            f"{len(classes)}: {', '.join(classes)}",
            help="use --loss crossentropy, or leave out --loss",
        )
    n_outputs = 1 if loss == "binary_crossentropy" else len(classes)
    output_activation = output_activation or default_output_activation(loss)
    targets = encode_labels(data.y, classes)
    return TaskSetup("classification", loss, output_activation, n_outputs, classes, targets)


def split_rows(n_rows: int, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into training and validation rows with a seeded permutation.

    The validation set has floor(validation_fraction * n_rows) rows, but at
    least one row is always left for training.  Both index arrays are sorted,
    so rows keep their file order.
    """
    # The small offset keeps 0.29 * 100 = 28.999999999999996 from rounding down to 28.
    n_validation = min(int(validation_fraction * n_rows + 1e-9), n_rows - 1)
    if n_validation <= 0:
        return np.arange(n_rows), np.arange(0)
    permutation = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(permutation[n_validation:]), np.sort(permutation[:n_validation])
