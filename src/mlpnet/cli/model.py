"""A trained model as the command line keeps it: the network plus what surrounds it.

The command line stores, beside the network's weights, everything needed to
apply it to a CSV file: the feature and target column names, the class
labels, the CSV settings and the standardization.  The model file stores them
in the free ``metadata`` dictionary and as extra arrays:

* ``input_mean``, ``input_scale`` (n_inputs,): the inputs' standardization;
* ``target_mean``, ``target_scale`` (1,): a regression target's standardization.

The metadata keys are listed in :data:`METADATA_KEYS`.  A model saved by the
library (``Network.save``) has none of them and still loads: its features are
then named by position, it is a regression unless its output is a softmax,
and its inputs are used unscaled.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ModelFormatError
from ..io.model_file import load_model_file, save_network
from ..network import Network
from ..preprocessing import (
    Standardization,
    class_probabilities,
    class_targets,
    standardize,
    unstandardize,
)

METADATA_KEYS = (
    "task",            # "regression" or "classification"
    "loss",            # the loss name, such as "mse"
    "feature_names",   # the input columns, in the network's input order
    "target_name",     # the target column, or None
    "classes",         # the class labels as text, in output order, or None
    "csv",             # {"header": bool, "delimiter": str} of the training file
    "training",        # settings, data source, epochs run, row counts
    "metrics",         # {"training": {...}, "validation": {...} or None}
)

INPUT_ARRAYS = ("input_mean", "input_scale")
TARGET_ARRAYS = ("target_mean", "target_scale")


def finite_or_none(value: Any) -> Any:
    """Replace every NaN or infinite float in nested dicts and lists with None, which JSON can store.

    A metric on the original target scale can overflow float64, such as the
    mean squared error of targets near 1e200.
    """
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class TrainedModel:
    """A network with its column names, class labels and standardization.

    Attributes
    ----------
    network : Network
    task : {"regression", "classification"}
    loss : str
    feature_names : list of str
        The input columns, in the order of the network's inputs.
    target_name : str or None
    classes : list of str or None
        The class labels; output j (or, with one sigmoid output, the
        probability of ``classes[1]``) belongs to ``classes[j]``.
    input_scaling, target_scaling : Standardization or None
        None means the values are used as they are.
    header : bool
        Whether the training file had a header line.
    delimiter : str
    training : dict
        How the model was trained (settings, data source, epochs run).
    metrics : dict
        The final metrics on the training and validation rows.
    """

    network: Network
    task: str
    loss: str
    feature_names: list[str]
    target_name: str | None = None
    classes: list[str] | None = None
    input_scaling: Standardization | None = None
    target_scaling: Standardization | None = None
    header: bool = True
    delimiter: str = ","
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    # -- applying the model ------------------------------------------------

    def network_inputs(self, X: np.ndarray) -> np.ndarray:
        """Scale raw feature rows (m, n_inputs) the way the network was trained."""
        if self.input_scaling is None:
            return np.asarray(X, dtype=np.float64)
        return standardize(X, self.input_scaling)

    def network_targets(self, targets: np.ndarray) -> np.ndarray:
        """Turn targets into the network's target array.

        ``targets`` contains raw values (m,) for a regression and class indices
        (m,) for a classifier.
        """
        if self.task == "classification":
            return class_targets(targets, self.network.n_outputs)
        Y = np.asarray(targets, dtype=np.float64).reshape(-1, 1)
        if self.target_scaling is None:
            return Y
        return standardize(Y, self.target_scaling)

    def predict_values(self, X: np.ndarray) -> np.ndarray:
        """Predict a regression target on its original scale, (m, n_inputs) -> (m,)."""
        outputs = self.network.predict(self.network_inputs(X)).astype(np.float64)
        if self.target_scaling is not None:
            outputs = unstandardize(outputs, self.target_scaling)
        return outputs[:, 0]

    def predict_probabilities(self, X: np.ndarray) -> np.ndarray:
        """Predict class probabilities, (m, n_inputs) -> (m, n_classes)."""
        outputs = self.network.predict(self.network_inputs(X))
        return class_probabilities(outputs)

    # -- files -------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "loss": self.loss,
            "feature_names": list(self.feature_names),
            "target_name": self.target_name,
            "classes": None if self.classes is None else list(self.classes),
            "csv": {"header": self.header, "delimiter": self.delimiter},
            "training": self.training,
            "metrics": finite_or_none(self.metrics),
        }

    def arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        if self.input_scaling is not None:
            arrays["input_mean"] = self.input_scaling.mean
            arrays["input_scale"] = self.input_scaling.scale
        if self.target_scaling is not None:
            arrays["target_mean"] = self.target_scaling.mean
            arrays["target_scale"] = self.target_scaling.scale
        return arrays

    def save(self, path: str) -> None:
        """Write the model file atomically: an existing file is replaced only by a complete one."""
        save_network(path, self.network, metadata=self.metadata(), arrays=self.arrays())


def load_trained_model(path: str) -> TrainedModel:
    """Read a model file written by ``mlpnet train`` (or by ``Network.save``).

    Raises
    ------
    ModelFormatError
        If the file is missing or damaged, or its command-line metadata or
        scaling arrays are malformed; the message names the file.
    """
    model_file = load_model_file(path)
    network = model_file.network
    metadata = model_file.metadata or {}
    if not isinstance(metadata, dict):
        raise ModelFormatError(f"model file {path!r}: its metadata is not a JSON object")
    reader = MetadataReader(path, metadata)

    default_task = "classification" if network.output_activation == "softmax" else "regression"
    task = reader.choice("task", ("regression", "classification"), default_task)
    default_loss = {"softmax": "crossentropy"}.get(network.output_activation, "mse")
    loss = reader.text("loss", default_loss)
    feature_names = reader.text_list("feature_names", [str(i) for i in range(network.n_inputs)])
    if len(feature_names) != network.n_inputs:
        raise ModelFormatError(
            f"model file {path!r}: it lists {len(feature_names)} feature names, but the network "
            f"has {network.n_inputs} inputs"
        )
    target_name = reader.optional_text("target_name")

    classes = reader.optional_text_list("classes")
    if task == "classification":
        if classes is None:
            classes = [str(j) for j in range(max(network.n_outputs, 2))]
        n_expected = 1 if len(classes) == 2 else len(classes)
        if network.n_outputs not in (n_expected, len(classes)):
            raise ModelFormatError(
                f"model file {path!r}: it lists {len(classes)} classes, but the network has "
                f"{network.n_outputs} outputs"
            )

    csv_settings = reader.mapping("csv")
    header = csv_settings.get("header", True)
    delimiter = csv_settings.get("delimiter", ",")
    if not isinstance(header, bool) or not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ModelFormatError(
            f"model file {path!r}: metadata 'csv' must hold a boolean 'header' and a "
            f"one-character 'delimiter', got {csv_settings!r}"
        )

    arrays = model_file.arrays or {}
    input_scaling = read_scaling(path, arrays, INPUT_ARRAYS, network.n_inputs)
    target_scaling = read_scaling(path, arrays, TARGET_ARRAYS, 1)

    return TrainedModel(
        network=network,
        task=task,
        loss=loss,
        feature_names=feature_names,
        target_name=target_name,
        classes=classes,
        input_scaling=input_scaling,
        target_scaling=target_scaling,
        header=header,
        delimiter=delimiter,
        training=reader.mapping("training"),
        metrics=reader.mapping("metrics"),
    )


def read_scaling(path: str, arrays: dict[str, np.ndarray], names: tuple[str, str], size: int):
    """Return the Standardization stored under ``names`` (mean, scale), or None if absent."""
    mean_name, scale_name = names
    present = [name in arrays for name in names]
    if not any(present):
        return None
    if not all(present):
        missing = mean_name if not present[0] else scale_name
        raise ModelFormatError(f"model file {path!r}: the array {missing!r} is missing")

    mean = np.asarray(arrays[mean_name], dtype=np.float64)
    scale = np.asarray(arrays[scale_name], dtype=np.float64)
    for name, values in ((mean_name, mean), (scale_name, scale)):
        if values.shape != (size,):
            raise ModelFormatError(
                f"model file {path!r}: the array {name!r} has shape {values.shape}, expected ({size},)"
            )
        if not np.all(np.isfinite(values)):
            raise ModelFormatError(f"model file {path!r}: the array {name!r} contains NaN or infinity")
    if np.any(scale <= 0):
        raise ModelFormatError(f"model file {path!r}: the array {scale_name!r} has an entry <= 0")
    return Standardization(mean=mean, scale=scale)


class MetadataReader:
    """Read typed fields of a model file's metadata, raising ModelFormatError on a wrong type."""

    def __init__(self, path: str, metadata: dict[str, Any]):
        self.path = path
        self.metadata = metadata

    def invalid(self, key: str, expected: str) -> ModelFormatError:
        value = self.metadata.get(key)
        return ModelFormatError(
            f"model file {self.path!r}: metadata {key!r} must be {expected}, got {value!r}"
        )

    def text(self, key: str, default: str) -> str:
        value = self.metadata.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.invalid(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.metadata.get(key)
        if value is not None and not isinstance(value, str):
            raise self.invalid(key, "a string or null")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.invalid(key, "one of " + ", ".join(repr(c) for c in choices))
        return value

    def text_list(self, key: str, default: list[str]) -> list[str]:
        value = self.optional_text_list(key)
        return default if value is None else value

    def optional_text_list(self, key: str) -> list[str] | None:
        value = self.metadata.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.invalid(key, "a list of strings")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.metadata.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.invalid(key, "a JSON object")
        return value
