"""``mlpnet describe``: print what a model file contains and how it was trained."""

from __future__ import annotations

from typing import Any

from .model import TrainedModel, load_trained_model
from .report import metrics_report


def layer_lines(model: TrainedModel) -> list[str]:
    """Write one line per layer: units, activation and parameter count."""
    net = model.network
    lines = [f"  input    {net.layer_sizes[0]:>5} units"]
    for l, (n_in, n_out) in enumerate(zip(net.layer_sizes[:-1], net.layer_sizes[1:]), start=1):
        kind = "output" if l == len(net.layer_sizes) - 1 else f"hidden {l}"
        parameters = n_out * (n_in + 1)
        lines.append(
            f"  {kind:<8} {n_out:>5} units  {net.activations[l - 1]:<10} "
            f"W{l} ({n_out} x {n_in}) + b{l} ({n_out}): {parameters} parameters"
        )
    return lines


def describe_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) if value else "none"
    if value is None:
        return "off"
    return str(value)


def describe_lines(path: str, model: TrainedModel) -> list[str]:
    net = model.network
    lines = [f"Model file: {path}", ""]
    lines.append(f"Network: {'-'.join(map(str, net.layer_sizes))}, {net.n_parameters} parameters, {net.dtype.name}")
    lines.extend(layer_lines(model))
    lines.append(f"Task: {model.task}, loss {model.loss}")
    lines.append("")

    scaled = "standardized with the training rows' mean and standard deviation"
    lines.append(f"Input columns ({len(model.feature_names)}): {', '.join(model.feature_names)}")
    lines.append(f"  {scaled if model.input_scaling is not None else 'used as they are (not standardized)'}")
    if model.target_name is not None:
        lines.append(f"Target column: {model.target_name}")
    if model.task == "regression" and model.target_scaling is not None:
        lines.append(f"  {scaled}; predictions are mapped back to the original scale")
    if model.classes is not None:
        lines.append(f"Classes ({len(model.classes)}): {', '.join(model.classes)}")
    lines.append(
        f"CSV: {'with' if model.header else 'without'} a header line, delimiter {model.delimiter!r}"
    )

    training = model.training
    if training:
        lines.append("")
        lines.append("Training:")
        source = training.get("data", {})
        if "dataset" in source:
            lines.append(f"  data: the bundled dataset {source['dataset']}")
        elif "file" in source:
            lines.append(f"  data: {source['file']}")
        rows = training.get("rows", {})
        if rows:
            lines.append(
                f"  rows: {rows.get('training')} training, {rows.get('validation')} validation, "
                f"{rows.get('dropped', 0)} dropped"
            )
        if "epochs_run" in training:
            lines.append(f"  epochs run: {training['epochs_run']} ({training.get('stop_reason', 'completed')})")
        for key, value in training.get("settings", {}).items():
            lines.append(f"  {key}: {describe_value(value)}")

    if model.metrics:
        lines.append("")
        lines.append("Final metrics:")
        try:
            report = metrics_report(model.metrics, model.task, model.classes)
        except (KeyError, TypeError, ValueError):
            report = ["(the stored metrics are malformed)"]
        lines.extend("  " + line if line else "" for line in report)
    return lines


def run(args) -> int:
    model = load_trained_model(args.model)
    print("\n".join(describe_lines(args.model, model)))
    return 0
