"""``mlpnet predict`` and ``mlpnet evaluate``: apply a saved model to the rows of a CSV file."""

from __future__ import annotations

import csv
import io
import os
import sys

import numpy as np

from ..io.atomic import atomic_write, check_writable
from ..io.csv_reader import load_features, load_training_data
from ..errors import InvalidDataError
from ..preprocessing import UnknownLabelError, encode_labels
from .errors import CommandLineError
from .model import TrainedModel, load_trained_model
from .report import classification_metrics, metrics_report, regression_metrics


def csv_settings(model: TrainedModel, args) -> tuple[bool, str]:
    """Return (header, delimiter): the options if given, else those of the training file."""
    header = model.header if args.header is None else args.header
    delimiter = model.delimiter if args.delimiter is None else args.delimiter
    return header, delimiter


def format_float(value: float) -> str:
    """Write a float with repr, the shortest text that reads back as the same float64."""
    return repr(float(value))


def prediction_table(model: TrainedModel, X: np.ndarray) -> tuple[list[str], list[list[str]]]:
    """Build the prediction columns: the value, or the label and one probability per class."""
    if model.task == "regression":
        values = model.predict_values(X)
        return [model.target_name or "prediction"], [[format_float(v)] for v in values]

    probabilities = model.predict_probabilities(X)
    labels = [model.classes[j] for j in probabilities.argmax(axis=1)]
    names = [model.target_name or "label"] + [f"probability_{label}" for label in model.classes]
    rows = [[label, *map(format_float, p)] for label, p in zip(labels, probabilities)]
    return names, rows


def run_predict(args) -> int:
    if args.out is not None:
        check_writable(args.out)
    model = load_trained_model(args.model)
    header, delimiter = csv_settings(model, args)
    X, _ = load_features(args.data, model.feature_names, header=header, delimiter=delimiter)

    names, rows = prediction_table(model, X)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(rows)
    text = buffer.getvalue()

    if args.out is None:
        sys.stdout.write(text)
    else:
        atomic_write(args.out, lambda handle: handle.write(text.encode("utf-8")))
        print(f"Wrote {len(rows)} predictions to {args.out}.", file=sys.stderr)
    return 0


def encode_true_labels(data, classes: list[str]) -> np.ndarray:
    """Map the file's labels to class indices; an unknown label names the file and its data row."""
    try:
        return encode_labels(data.y, classes)
    except UnknownLabelError as exc:
        known = ", ".join(repr(c) for c in classes)
        raise InvalidDataError(
            f"{data.path}: column {data.target_name!r}, data row {exc.row + 1} (header not counted): "
            f"unknown class label {exc.label!r}; the model knows only the classes {known}"
        ) from exc


def run_evaluate(args) -> int:
    model = load_trained_model(args.model)
    target = args.target or model.target_name
    if target is None:
        raise CommandLineError(
            f"model file {args.model!r} does not name its target column", help="pass --target COLUMN"
        )
    header, delimiter = csv_settings(model, args)
    data = load_training_data(
        args.data,
        target=target,
        features=model.feature_names,
        header=header,
        delimiter=delimiter,
        task=model.task,
    )

    if model.task == "regression":
        results = regression_metrics(np.asarray(data.y, dtype=np.float64), model.predict_values(data.X))
    else:
        true_indices = encode_true_labels(data, model.classes)
        results = classification_metrics(true_indices, model.predict_probabilities(data.X))

    title = os.path.basename(args.data)
    print(f"Metrics of {args.model} on the {data.X.shape[0]} rows of {args.data} (target {data.target_name}):")
    print()
    print("\n".join(metrics_report({title: results}, model.task, model.classes)))
    return 0
