"""Time one library on one workload in this fresh process, and measure its training memory.

The runner starts one worker per (workload, library, repeat), so every
measurement starts from the same state and the peak RSS belongs to that
library alone.  The steps:

1. generate the data and the shared initial weights;
2. warm up: train the library for 2 epochs on a copy of the model and at
   most 128 rows plus one row per class, so one-time costs (the autograd
   engine, lazy imports, thread pools) fall outside the timing;
3. build the model for the real run (setup, not timed);
4. record the RSS, train once under the timer and the peak-memory monitor.

With ``--library numpy`` the worker instead times the workload's matrix
products with NumPy's ``@`` (see :func:`libraries.prepare_matmul`).

Usage: python benchmarks/worker.py --workload NAME --library LIB --result FILE [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import time

import machine
from libraries import PREPARERS, prepare_matmul
from memory import PeakMemory
from workloads import flops_per_epoch, get_workload, initial_parameters, make_data, warmup_subset
from contention import CpuContention

MATMUL_MIN_SECONDS = 2.0
"""The matrix-product reference runs epochs until this much time has passed, or all epochs."""

MATMUL_WARMUP_MAX_FLOPS = 5e9
"""The reference warms up with one untimed epoch only when an epoch costs at most this many FLOPs."""


def time_training(workload, library: str) -> dict:
    """Warm up, then train ``library`` once on ``workload``; return time, loss and memory."""
    threads = machine.blas_threads()
    if library == "torch":
        import torch

        torch.set_num_threads(threads)

    data = make_data(workload)
    weights, biases = initial_parameters(workload)
    prepare = PREPARERS[library]

    warmup_workload, warmup_data = warmup_subset(workload, data)
    prepare(warmup_workload, warmup_data, weights, biases)()

    train = prepare(workload, data, weights, biases)
    gc.collect()
    with CpuContention() as contention, PeakMemory() as memory:
        start = time.perf_counter()
        final_loss = train()
        seconds = time.perf_counter() - start

    result = {
        "seconds": seconds,
        "seconds_per_epoch": seconds / workload.epochs,
        "final_loss": final_loss,
        "rss_before": memory.rss_before,
        "peak_rss": memory.peak_rss,
        "added_memory": memory.added,
        "memory_method": memory.method,
        "blas_threads": threads,
        "other_cores_busy": contention.other_cores,
        "mlpnet_source_digest": machine.mlpnet_source_digest(),
    }
    if library == "torch":
        result["torch_threads"] = torch.get_num_threads()
        result["torch_blas"] = torch_blas(torch)
    return result


def torch_blas(torch) -> str:
    """Return the BLAS line of PyTorch's build description, such as its MKL version."""
    for line in torch.__config__.show().splitlines():
        if "Math Kernel Library" in line or "OpenBLAS" in line:
            return line.strip(" -")
    return "unknown"


def time_matmul(workload) -> dict:
    """Time one epoch of the workload's matrix products, averaged over as many epochs as fit in a few seconds."""
    run_epoch = prepare_matmul(workload)
    if flops_per_epoch(workload) <= MATMUL_WARMUP_MAX_FLOPS:
        run_epoch()

    epochs_run = 0
    elapsed = 0.0
    with CpuContention() as contention:
        start = time.perf_counter()
        while epochs_run < workload.epochs and (epochs_run == 0 or elapsed < MATMUL_MIN_SECONDS):
            run_epoch()
            epochs_run += 1
            elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "seconds_per_epoch": elapsed / epochs_run,
        "epochs_timed": epochs_run,
        "blas_threads": machine.blas_threads(),
        "other_cores_busy": contention.other_cores,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, help="workload name, such as medium or wide-float32")
    parser.add_argument("--library", required=True, choices=[*PREPARERS, "numpy"])
    parser.add_argument("--result", required=True, help="JSON file to write the measurement to")
    parser.add_argument("--quick", action="store_true", help="use the shrunk workload of --quick runs")
    args = parser.parse_args(argv)

    workload = get_workload(args.workload, quick=args.quick)
    if args.library == "numpy":
        result = time_matmul(workload)
    else:
        result = time_training(workload, args.library)
    result.update({"workload": args.workload, "library": args.library})

    with open(args.result, "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main()
