"""Time the parts of one mlpnet training step, and single NumPy calls at the workload's shapes.

cProfile (see :mod:`profiling`) adds a few microseconds to every Python
call, which distorts workloads made of many small calls.  This script
instead times each part of the step with ``time.perf_counter`` around it,
on the workload's first batch, repeated many times without a profiler:

* forward: the products, bias additions and hidden activations;
* loss: the output activation, the loss and its gradient delta_N;
* backward: the weight and bias gradients and the deltas of hidden layers;
* gradient finish: the gradient norm (and penalty and clipping, unused here);
* update: the copy kept for rolling back, the optimizer, and the check that
  the parameters are finite.

The second table times single NumPy calls on arrays of the first hidden
layer's shape (units x batch rows), the floor that each element-wise
operation of the step costs on this machine.

Usage: python benchmarks/step_parts.py WORKLOAD [--steps N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit

import numpy as np

import machine
from workloads import get_workload, initial_parameters, make_data

PARTS = ("forward", "loss", "backward", "gradient finish", "update")


def time_step_parts(workload_name: str, steps: int) -> dict[str, float]:
    """Return the median seconds of each part of a training step over ``steps`` steps on one batch."""
    import mlpnet
    from mlpnet import backprop
    from mlpnet.losses import get_loss
    from mlpnet.training.optimizers import make_optimizer
    from mlpnet.training.step import TrainingStep

    workload = get_workload(workload_name)
    data = make_data(workload)
    weights, biases = initial_parameters(workload)
    net = mlpnet.Network(
        list(workload.layer_sizes),
        activation=workload.activation,
        output_activation=workload.output_activation,
        dtype=workload.dtype,
        weights=weights,
        biases=biases,
    )
    step = TrainingStep(net, get_loss(workload.loss), l2=0.0, clip_norm=None)
    optimizer = make_optimizer("gd" if workload.optimizer in ("gd", "sgd") else workload.optimizer)
    optimizer.prepare(net.parameters, step.mask)

    m = workload.batch_size or workload.rows
    X = np.asarray(data.X[:m], dtype=workload.dtype)
    Y = np.asarray(data.Y[:m], dtype=workload.dtype)
    scale = 1.0 / m
    buffers = step.workspace.buffers(m)
    output = net._activations[-1]
    # A learning rate this small leaves the parameters nearly unchanged, so every timed step does the same work.
    learning_rate = 1e-12

    samples: dict[str, list[float]] = {part: [] for part in PARTS}
    with np.errstate(all="ignore"):
        for _ in range(steps):
            t0 = time.perf_counter()
            Z_N = backprop.forward_columns(net._weights, step.workspace.bias_columns, net._activations, X, buffers)
            t1 = time.perf_counter()
            Z = Z_N.T
            A = output.forward(Z)
            L, delta_N = backprop.loss_and_output_delta(step.loss, output, Z, A, Y, scale, buffers.output_gradient.T)
            t2 = time.perf_counter()
            backprop.backward_columns(
                net._weights, net._activations, X, buffers, delta_N.T, step.gradient_weights, step.gradient_biases
            )
            t3 = time.perf_counter()
            step.finish_gradient(L)
            t4 = time.perf_counter()
            step.update(optimizer, learning_rate)
            t5 = time.perf_counter()
            for part, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                samples[part].append(seconds)
    return {part: statistics.median(values) for part, values in samples.items()}


def time_numpy_calls(workload_name: str) -> dict[str, float]:
    """Return the fastest seconds per call of element-wise NumPy calls at the first hidden layer's shape."""
    workload = get_workload(workload_name)
    dtype = np.dtype(workload.dtype)
    rng = np.random.default_rng(0)
    n_inputs, n_hidden = workload.layer_sizes[0], workload.layer_sizes[1]
    m = workload.batch_size or workload.rows
    Z = rng.standard_normal((n_hidden, m)).astype(dtype)
    out = np.empty_like(Z)
    bias = rng.standard_normal((n_hidden, 1)).astype(dtype)
    W = rng.standard_normal((n_hidden, n_inputs)).astype(dtype)
    X = rng.standard_normal((m, n_inputs)).astype(dtype)
    calls = {
        "np.multiply(Z, Z, out=out)": lambda: np.multiply(Z, Z, out=out),
        "np.add(Z, bias_column, out=out)": lambda: np.add(Z, bias, out=out),
        "np.divide(1.0, Z, out=out)": lambda: np.divide(1.0, Z, out=out),
        "np.exp(Z, out=out)": lambda: np.exp(Z, out=out),
        "np.tanh(Z, out=out)": lambda: np.tanh(Z, out=out),
        "np.add.reduce(Z, axis=1)": lambda: np.add.reduce(Z, axis=1),
        "np.matmul(W, X.T, out=out)": lambda: np.matmul(W, X.T, out=out),
    }
    timings = {}
    for name, call in calls.items():
        number = max(1, int(2e4 // max(1, Z.size // 1000)))
        timings[name] = min(timeit.repeat(call, number=number, repeat=5)) / number
    return timings


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1e6:10.2f} µs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="workload name, such as lecture or small")
    parser.add_argument("--steps", type=int, default=2000, help="steps to time (default: 2000)")
    args = parser.parse_args(argv)

    workload = get_workload(args.workload)
    blas = machine.numpy_blas()
    m = workload.batch_size or workload.rows
    print(
        f"mlpnet on {workload.name}, one batch of {m} rows, median of {args.steps} steps, "
        f"{blas.get('internal_api')} {blas.get('architecture')} with {blas.get('num_threads')} threads"
    )
    parts = time_step_parts(args.workload, args.steps)
    for part, seconds in parts.items():
        print(f"{format_seconds(seconds)}  {part}")
    print(f"{format_seconds(sum(parts.values()))}  sum of the medians")

    n_hidden = workload.layer_sizes[1]
    print(f"\nsingle NumPy calls on ({n_hidden}, {m}) arrays of {workload.dtype}, fastest of 5 runs:")
    for name, seconds in time_numpy_calls(args.workload).items():
        print(f"{format_seconds(seconds)}  {name}")


if __name__ == "__main__":
    main()
