"""Epoch metrics of the whole data set from the chunks' sums.

The formulas are those of :mod:`mlpnet.metrics` (scikit-learn's, averaged
over outputs with equal weights), written in terms of per-output sums over
all m rows: SSE_j = sum_i (y_ij - yhat_ij)^2, SAE_j = sum_i |y_ij - yhat_ij|,
and SST_j = sum_i (y_ij - mean_j)^2, which is M2 of the target column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .chunk_steps import OutputPartials
from .moments import Moments


def combine_partials(parts: Sequence[OutputPartials]) -> OutputPartials:
    """Add the sums of several chunks, in chunk order; a missing part (None) makes the total not finite."""
    total = OutputPartials(0, True)
    for part in parts:
        if part is None:
            total.finite = False
            continue
        total.n_rows += part.n_rows
        total.finite = total.finite and part.finite
        for name in ("squared_error", "absolute_error", "correct"):
            value = getattr(part, name)
            if value is not None:
                current = getattr(total, name)
                setattr(total, name, value if current is None else current + value)
    return total


def r2_from_sums(residual_sum: np.ndarray, total_sum: np.ndarray) -> float:
    """R^2 = 1 - SSE/SST averaged over outputs; an output with SST = 0 scores 1 if SSE = 0, else 0."""
    scores = np.ones(residual_sum.shape[0])
    defined = total_sum != 0
    scores[defined] = 1.0 - residual_sum[defined] / total_sum[defined]
    scores[~defined & (residual_sum != 0)] = 0.0
    return float(scores.mean())


def metric_values(
    names: Sequence[str], partials: OutputPartials, target_moments: Moments, prefix: str = ""
) -> dict[str, float]:
    """Compute each named metric of the whole data set; NaN for every metric when a prediction is not finite."""
    if not partials.finite:
        return {prefix + name: float("nan") for name in names}
    m = partials.n_rows
    values: dict[str, float] = {}
    for name in names:
        if name == "mse":
            value = float((partials.squared_error / m).mean())
        elif name == "rmse":
            value = float(np.sqrt(partials.squared_error / m).mean())
        elif name == "mae":
            value = float((partials.absolute_error / m).mean())
        elif name == "r2":
            value = r2_from_sums(partials.squared_error, target_moments.m2)
        else:
            value = partials.correct / m
        values[prefix + name] = value
    return values
