"""``mlpnet train --dask``: the train command with its data in Dask chunks.

The flow is that of :func:`mlpnet.cli.train.run`, with each step that
touches rows done chunk by chunk: reading the part files
(:func:`~mlpnet.distributed.reading.read_csv`), the validation split, the
standardization statistics, training, and the final metrics.  The split
uses the same seeded permutation as the in-memory command, so both train on
the same rows and write the same model up to floating-point summation order.

Training takes full-batch steps only: without ``--batch-size`` the batch is
the full training set, and ``--batch-size`` with a number is an error.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from .. import metrics
from ..cli.data import TaskSetup, requested_task, set_up_task, split_rows
from ..cli.errors import CommandLineError
from ..cli.model import TrainedModel
from ..cli.train import (
    check_outputs,
    check_same_options,
    data_source,
    finish_run,
    fit_with_progress,
    make_checkpointer,
    new_model,
    read_resumed_checkpoint,
    run_options,
)
from ..preprocessing import Standardization, class_probabilities, encode_labels, standardize, unstandardize
from ..training.checkpoint import Checkpointer
from .chunk_steps import NetworkSpec, OutputPartials, unpack
from .cli_options import LOCAL
from .cluster import connect, local_cluster
from .dependency import require_dask
from .epoch_metrics import combine_partials, metric_values
from .executor import current_executor
from .moments import column_moments, combine_moments
from .reading import DistributedDataset, class_targets, read_csv
from .stats import fit_standardization

logger = logging.getLogger(__name__)


# -- options ------------------------------------------------------------------------


def batch_size_given(args) -> bool:
    """Return True when the command line set --batch-size (argparse also accepts a prefix such as --batch)."""
    for argument in getattr(args, "argv", None) or sys.argv[1:]:
        name = argument.partition("=")[0]
        if len(name) > 2 and name.startswith("--") and "--batch-size".startswith(name):
            return True
    return False


def check_dask_options(args) -> None:
    """Reject options that do not apply with --dask; make the full batch the default batch size."""
    if args.dataset is not None:
        raise CommandLineError(
            f"--dask trains on CSV files, not on the bundled dataset {args.dataset!r}",
            help="leave out --dask to train on a bundled dataset",
        )
    if args.data is None:
        raise CommandLineError(
            "no training data: give CSV files, such as mlpnet train 'data/part-*.csv' --target COLUMN --dask local"
        )
    if args.dask_workers is not None and args.dask != LOCAL:
        raise CommandLineError(
            f"--dask-workers applies only with --dask local, not with --dask {args.dask}",
            help="start the workers of a running cluster with 'dask worker ADDRESS'",
        )
    if batch_size_given(args):
        if args.batch_size is not None:
            raise CommandLineError(
                f"--batch-size {args.batch_size} is not supported with --dask: distributed training takes "
                f"full-batch steps only",
                help="use --batch-size full, or leave out --dask for mini-batches",
            )
    else:
        args.batch_size = None


@contextlib.contextmanager
def open_client(args) -> Iterator[Any]:
    """Start the cluster of --dask local, or connect to the scheduler of --dask ADDRESS; close it after."""
    if args.dask == LOCAL:
        with local_cluster(n_workers=args.dask_workers) as client:
            yield client
        return
    client = connect(args.dask, timeout=args.dask_timeout)
    try:
        yield client
    finally:
        client.close()


# -- data -----------------------------------------------------------------------------


def load_dask_data(args) -> DistributedDataset:
    return read_csv(
        args.data,
        target=args.target,
        features=args.features,
        header=args.header,
        delimiter=args.delimiter,
        drop_missing=args.drop_missing,
        task=requested_task(args.task, args.loss),
    )


def set_up_dask_task(data: DistributedDataset, loss: str | None, output_activation: str | None) -> TaskSetup:
    """Choose the loss, output layer and classes as the in-memory command does.

    :func:`mlpnet.cli.data.set_up_task` needs only the distinct labels, so
    it gets them in place of the target column.  The ``targets`` of the
    returned setup are therefore not the rows' targets.
    """
    labels = data.labels if data.task == "classification" else np.empty(0)
    return set_up_task(SimpleNamespace(task=data.task, y=labels, target_name=data.target_name), loss, output_activation)


def select_block(block: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return block[mask]


def take_rows(array, positions: np.ndarray):
    """Keep the rows at sorted ``positions`` of a Dask array, chunk by chunk, with known chunk sizes."""
    dask, da = require_dask()
    keep = np.zeros(array.shape[0], dtype=bool)
    keep[positions] = True
    offsets = np.cumsum((0,) + array.chunks[0])
    blocks = array.to_delayed().ravel()
    select = dask.delayed(select_block, pure=True)
    parts = []
    for index, block in enumerate(blocks):
        mask = keep[offsets[index] : offsets[index + 1]]
        shape = (int(mask.sum()),) + array.shape[1:]
        parts.append(da.from_delayed(select(block, mask), shape, array.dtype))
    return da.concatenate(parts) if parts else array[:0]


# -- model and training -----------------------------------------------------------------


def standardize_block(block: np.ndarray, scaling: Standardization) -> np.ndarray:
    return standardize(block, scaling)


def build_dask_model(args, data: DistributedDataset, setup: TaskSetup, X_train, y_train) -> TrainedModel:
    """Create the network and the standardization fitted on the training rows, chunk by chunk."""
    input_scaling = target_scaling = None
    if args.standardize:
        input_scaling = fit_standardization(X_train)
        if setup.task == "regression":
            target_scaling = fit_standardization(y_train.reshape(-1, 1))
    return new_model(args, setup, data.feature_names, data.target_name, input_scaling, target_scaling)


def network_inputs(model: TrainedModel, X):
    if model.input_scaling is None:
        return X
    return X.map_blocks(standardize_block, scaling=model.input_scaling, dtype=np.float64)


def network_targets(model: TrainedModel, y):
    """Turn a target column into the network's targets, as :meth:`TrainedModel.network_targets` does."""
    if model.task == "classification":
        return class_targets(y, model.classes, model.network.n_outputs)
    Y = y.reshape(-1, 1).astype(np.float64)
    if model.target_scaling is None:
        return Y
    return Y.map_blocks(standardize_block, scaling=model.target_scaling, dtype=np.float64)


def fit_dask_network(args, model: TrainedModel, setup: TaskSetup, rows: dict[str, Any], checkpointer: Checkpointer):
    """Run Network.fit on the Dask arrays, full batch, as the in-memory command runs it."""
    X_train, y_train = rows["training"]
    validation_data = None
    if rows["validation"] is not None:
        X_val, y_val = rows["validation"]
        validation_data = (network_inputs(model, X_val), network_targets(model, y_val))
    return fit_with_progress(
        args,
        model,
        setup,
        network_inputs(model, X_train),
        network_targets(model, y_train),
        validation_data,
        checkpointer,
        batch_size=None,
    )


# -- final metrics ------------------------------------------------------------------------


def model_outputs(X_block: np.ndarray, parameters: np.ndarray, spec: NetworkSpec, input_scaling) -> np.ndarray:
    X = X_block if input_scaling is None else standardize(X_block, input_scaling)
    weights, biases, activations, _ = unpack(parameters, spec)
    from ..backprop import predict

    return predict(weights, biases, activations, np.asarray(X, dtype=spec.dtype))


def regression_sums(X_block, y_block, parameters, spec, input_scaling, target_scaling):
    """Return a chunk's error sums and target moments on the original target scale."""
    outputs = model_outputs(X_block, parameters, spec, input_scaling).astype(np.float64)
    if target_scaling is not None:
        outputs = unstandardize(outputs, target_scaling)
    y = np.asarray(y_block, dtype=np.float64).reshape(-1, 1)
    error = y - outputs
    partials = OutputPartials(y.shape[0], bool(np.isfinite(outputs).all()), (error * error).sum(axis=0), np.abs(error).sum(axis=0))
    return partials, column_moments(y)


def classification_sums(X_block, y_block, parameters, spec, input_scaling, classes):
    """Return a chunk's row count, log-loss sum and confusion matrix."""
    if len(y_block) == 0:
        return 0, 0.0, np.zeros((len(classes), len(classes)), dtype=np.int64)
    probabilities = class_probabilities(model_outputs(X_block, parameters, spec, input_scaling))
    true = encode_labels(y_block, classes)
    predicted = probabilities.argmax(axis=1)
    confusion = metrics.confusion_matrix(true, predicted, labels=np.arange(len(classes)))
    return true.shape[0], metrics.log_loss(true, probabilities) * true.shape[0], confusion


def evaluate_dask_rows(model: TrainedModel, X, y) -> dict[str, Any] | None:
    """Compute the in-memory command's metrics of some rows chunk by chunk; None when there are none."""
    if X is None or X.shape[0] == 0:
        return None
    dask, _ = require_dask()
    net = model.network
    spec = NetworkSpec.of(net, model.loss)
    parameters = net.parameters.copy()
    pairs = [(xb, yb) for xb, yb in zip(X.to_delayed().ravel(), y.to_delayed().ravel())]
    executor = current_executor()
    if model.task == "regression":
        task = dask.delayed(regression_sums, pure=False)
        results = executor.compute(
            [task(xb, yb, parameters, spec, model.input_scaling, model.target_scaling) for xb, yb in pairs]
        )
        results = [(partials, moments) for partials, moments in results if partials.n_rows]
        partials = combine_partials([partials for partials, _ in results])
        moments = combine_moments([moments for _, moments in results])
        return metric_values(("mse", "rmse", "mae", "r2"), partials, moments)

    task = dask.delayed(classification_sums, pure=False)
    results = executor.compute([task(xb, yb, parameters, spec, model.input_scaling, model.classes) for xb, yb in pairs])
    results = [result for result in results if result[0]]
    n_rows = sum(count for count, _, _ in results)
    confusion = sum(matrix for _, _, matrix in results)
    return {
        "accuracy": float(np.trace(confusion) / n_rows),
        "log_loss": float(sum(total for _, total, _ in results) / n_rows),
        "confusion_matrix": confusion.tolist(),
    }


# -- the command ----------------------------------------------------------------------------


def run_train(args) -> int:
    """Run ``mlpnet train`` with --dask; return the exit code."""
    check_dask_options(args)
    check_outputs(args)
    resumed = read_resumed_checkpoint(args)
    with open_client(args):
        return train_on_cluster(args, resumed)


def train_on_cluster(args, resumed) -> int:
    data = load_dask_data(args)
    setup = set_up_dask_task(data, args.loss, args.output_activation)
    options = run_options(args, setup, data)
    if resumed is not None:
        check_same_options(resumed, options)

    train_rows, validation_rows = split_rows(data.n_rows, args.validation_fraction, args.seed)
    rows = {"training": (take_rows(data.X, train_rows), take_rows(data.y, train_rows)), "validation": None}
    if validation_rows.size:
        rows["validation"] = (take_rows(data.X, validation_rows), take_rows(data.y, validation_rows))
    model = build_dask_model(args, data, setup, *rows["training"])
    checkpointer = make_checkpointer(args, options)

    history = fit_dask_network(args, model, setup, rows, checkpointer)
    results = {
        "training": evaluate_dask_rows(model, *rows["training"]),
        "validation": evaluate_dask_rows(model, *rows["validation"]) if rows["validation"] else None,
    }
    return finish_run(
        args, model, setup, history, checkpointer, results,
        source={**data_source(args, data), "files": len(data.paths)},
        row_counts=(train_rows, validation_rows, data.n_dropped),
        target_name=data.target_name,
    )
