"""Profile mlpnet's training on one workload with cProfile and print where the time goes.

cProfile records Python functions and the C functions called by name (such
as ``numpy.ndarray.sum``), but not operators.  The time of ``A @ W.T`` or
``a * b`` counts as the own time (tottime) of the Python function whose
line contains it.  So a large tottime in ``backprop.forward`` is mostly its
matrix product, and in ``optimizers.Adam.update`` its element-wise
arithmetic.  Profiling adds a few microseconds per call, which inflates
workloads made of many small calls.

Usage: python benchmarks/profiling.py WORKLOAD [--quick] [--epochs N] [--top N]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

import machine
from libraries import prepare_mlpnet
from workloads import get_workload, initial_parameters, make_data, warmup_subset


def short_location(filename: str, line: int, function: str) -> str:
    """Name a profiled function as ``package/module.py:line(function)``, or its built-in name."""
    if filename == "~":
        return function
    parts = filename.split(os.sep)
    for anchor in ("mlpnet", "numpy", "site-packages"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            start = index + 1 if anchor == "site-packages" else index
            filename = "/".join(parts[start:])
            break
    else:
        filename = os.path.basename(filename)
    return f"{filename}:{line}({function})"


def format_profile(stats: pstats.Stats, wall_seconds: float, top: int) -> str:
    """Return the ``top`` functions by own time, then mlpnet's functions by cumulative time."""
    rows = []
    for (filename, line, function), (_, n_calls, own, cumulative, _) in stats.stats.items():
        rows.append((own, cumulative, n_calls, short_location(filename, line, function)))

    header = f"{'own s':>8} {'own %':>6} {'cum s':>8} {'calls':>8}  function"
    lines = [f"wall time under the profiler: {wall_seconds:.3f} s", "", "by own time (tottime):", header]
    for own, cumulative, n_calls, name in sorted(rows, reverse=True)[:top]:
        lines.append(f"{own:8.3f} {own / wall_seconds:6.1%} {cumulative:8.3f} {n_calls:8d}  {name}")

    lines += ["", "mlpnet functions by cumulative time (cumtime):", header]
    mlpnet_rows = [row for row in rows if row[3].startswith("mlpnet/")]
    for own, cumulative, n_calls, name in sorted(mlpnet_rows, key=lambda row: row[1], reverse=True)[:top]:
        lines.append(f"{own:8.3f} {own / wall_seconds:6.1%} {cumulative:8.3f} {n_calls:8d}  {name}")
    return "\n".join(lines) + "\n"


def profile_workload(name: str, quick: bool = False, epochs: int | None = None, top: int = 18) -> str:
    """Train mlpnet on the workload under cProfile, after the same warm-up as a timed run."""
    workload = get_workload(name, quick=quick)
    if epochs is not None:
        workload = workload.replace(epochs=min(epochs, workload.epochs))
    data = make_data(workload)
    weights, biases = initial_parameters(workload)
    warmup_workload, warmup_data = warmup_subset(workload, data)
    prepare_mlpnet(warmup_workload, warmup_data, weights, biases)()

    train = prepare_mlpnet(workload, data, weights, biases)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(train)
    wall = time.perf_counter() - start

    blas = machine.numpy_blas()
    title = (
        f"mlpnet on {workload.name}: {workload.epochs} epochs, {workload.updates} updates, "
        f"{blas.get('internal_api')} {blas.get('architecture')} with {blas.get('num_threads')} threads\n"
    )
    return title + format_profile(pstats.Stats(profiler), wall, top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="workload name, such as lecture or wide-float32")
    parser.add_argument("--quick", action="store_true", help="profile the shrunk workload of --quick runs")
    parser.add_argument("--epochs", type=int, help="profile at most this many epochs (default: all)")
    parser.add_argument("--top", type=int, default=18, help="functions to list in each table (default: 18)")
    parser.add_argument("--out", help="also write the profile to this text file")
    args = parser.parse_args(argv)

    text = profile_workload(args.workload, args.quick, args.epochs, args.top)
    print(text, end="")
    if args.out:
        with open(args.out, "w") as file:
            file.write(text)


if __name__ == "__main__":
    main()
