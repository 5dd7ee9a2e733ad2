"""Time one full-batch training step of mlpnet on Dask against rows and workers.

Each mode trains a 10-32-1 network (tanh hidden layer, squared error, plain
gradient descent, float64) on m rows of 10 features:

* ``memory``: ``Network.fit`` on NumPy arrays, the single-machine reference,
  with NumPy's BLAS threads as configured (all cores by default);
* ``memory-1``: the same with one BLAS thread (threadpoolctl), which is what
  each single-threaded Dask worker process uses;
* ``synchronous`` and ``threads``: Dask arrays on Dask's local schedulers;
* ``cluster-1`` and ``cluster-2``: a ``LocalCluster`` on 127.0.0.1 with one or
  two single-threaded worker processes, the data generated on the workers.

Every fit call validates and persists its data before the first step.  So
a callback records when each epoch ends, a step's time is taken between the
ends of consecutive epochs after the first, and the preparation is the
first epoch's time minus one step.  A line a + b m fitted to the fastest
step times of each mode gives the fixed cost per step (a) and the cost per
row (b).  The break-even row count of a Dask mode is where its line crosses
the in-memory one.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/distributed.py
    python benchmarks/distributed.py --quick          # small sizes, one repeat

Before each fit the script waits up to 15 s for the machine to be idle.
Options: --rows (comma-separated row counts), --modes, --steps k, --repeats,
--chunks (row chunks per array), --out FILE (JSON; the markdown table is
written next to it with the suffix .md), --result FILE (the JSON only, for
the suite's runner), --summarize FILE (recompute the table of a JSON file).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# This file is named like the package distributed, which Python would import
# from here because a script's folder comes first on sys.path.  Drop that
# folder and load the suite's helper modules by path instead.
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != HERE]


def load_helper(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


machine = load_helper("machine")
wait_for_idle = load_helper("contention").wait_for_idle

MODES = ("memory", "memory-1", "synchronous", "threads", "cluster-1", "cluster-2")
LAYER_SIZES = (10, 32, 1)
FULL_ROWS = (100_000, 300_000, 1_000_000, 3_000_000, 10_000_000)
QUICK_ROWS = (10_000, 30_000, 100_000)
DEFAULT_OUT = os.path.join(HERE, "results", "distributed.json")


# -- data ------------------------------------------------------------------------------


def teacher_targets(X: np.ndarray) -> np.ndarray:
    """Compute targets as a fixed smooth function of the features, so any chunk computes its own."""
    weights = np.linspace(-1.0, 1.0, X.shape[1])
    return np.tanh(X @ weights).reshape(-1, 1)


def numpy_data(n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).standard_normal((n_rows, LAYER_SIZES[0]))
    return X, teacher_targets(X)


def dask_data(n_rows: int, n_chunks: int):
    """Generate X and Y where the chunks are computed (on the workers of a cluster)."""
    import dask.array as da

    rows = -(-n_rows // n_chunks)
    X = da.random.default_rng(0).standard_normal((n_rows, LAYER_SIZES[0]), chunks=(rows, LAYER_SIZES[0]))
    Y = X.map_blocks(teacher_targets, chunks=(X.chunks[0], (1,)), dtype=np.float64)
    return X, Y


# -- timing ------------------------------------------------------------------------------


class StepTimer:
    """A training callback that records the wall-clock time at the end of every epoch."""

    def __init__(self) -> None:
        self.ends: list[float] = []

    def __call__(self, epoch: int, logs: dict) -> None:
        self.ends.append(time.perf_counter())


def timed_fit(X, Y, epochs: int) -> tuple[float, list[float]]:
    """Fit a fresh network; return the seconds until the first epoch ended and the later epochs' seconds."""
    from mlpnet import Network

    net = Network(list(LAYER_SIZES), activation="tanh", seed=0)
    timer = StepTimer()
    started = time.perf_counter()
    net.fit(X, Y, optimizer="gd", learning_rate=0.1, epochs=epochs, callbacks=[timer])
    return timer.ends[0] - started, list(np.diff(timer.ends))


def measure(X, Y, steps: int, repeats: int) -> dict:
    """Time ``steps`` steps after the first in each of ``repeats`` fits.

    The first epoch of a fit also validates and persists the data, so it is
    reported apart, as the preparation: its time minus the median step.
    """
    step_times, first_epochs, busy = [], [], []
    for _ in range(repeats):
        busy.append(wait_for_idle(timeout_s=15.0))
        first, steps_s = timed_fit(X, Y, 1 + steps)
        first_epochs.append(first)
        step_times.extend(steps_s)
    step = statistics.median(step_times)
    return {
        "step_s": step,
        "step_s_min": min(step_times),
        "step_s_all": step_times,
        "preparation_s": statistics.median(first_epochs) - step,
        "busy_cores_before": busy,
    }


def run_point(mode: str, n_rows: int, steps: int, repeats: int, n_chunks: int) -> dict:
    """Measure one mode at one row count; a cluster mode starts its own cluster."""
    import dask

    if mode == "memory":
        result = measure(*numpy_data(n_rows), steps, repeats)
    elif mode == "memory-1":
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            result = measure(*numpy_data(n_rows), steps, repeats)
    elif mode in ("synchronous", "threads"):
        import dask.array as da

        X, Y = numpy_data(n_rows)
        chunk = -(-n_rows // n_chunks)
        with dask.config.set(scheduler=mode):
            result = measure(da.from_array(X, chunks=(chunk, X.shape[1])), da.from_array(Y, chunks=(chunk, 1)),
                             steps, repeats)
    else:
        from mlpnet.distributed import local_cluster

        n_workers = int(mode.split("-")[1])
        with local_cluster(n_workers=n_workers, threads_per_worker=1, processes=True) as client:
            client.wait_for_workers(n_workers)
            result = measure(*dask_data(n_rows, n_chunks), steps, repeats)
    result.update(mode=mode, rows=n_rows)
    print(f"{mode:12s} {n_rows:>10d} rows: {result['step_s'] * 1e3:9.2f} ms per step "
          f"(min {result['step_s_min'] * 1e3:.2f}), {result['preparation_s']:.2f} s preparation", flush=True)
    return result


# -- analysis -------------------------------------------------------------------------------


def fit_line(rows: list[int], seconds: list[float]) -> tuple[float, float]:
    """Fit seconds = a + b rows minimizing the relative error, so small sizes count as much as large ones."""
    m = np.asarray(rows, dtype=np.float64)
    t = np.asarray(seconds, dtype=np.float64)
    A = np.column_stack([np.ones_like(m), m]) / t[:, None]
    (a, b), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
    return float(a), float(b)


def break_even(line: tuple[float, float], reference: tuple[float, float]) -> float | None:
    """Return the row count above which ``line`` is faster than ``reference``, or None if it never is."""
    (a, b), (a_ref, b_ref) = line, reference
    if b >= b_ref:
        return None
    return max((a - a_ref) / (b_ref - b), 0.0)


def message_bytes() -> dict:
    """Return the pickled sizes of what one step sends to and receives from each chunk."""
    from mlpnet import Network
    from mlpnet.distributed.chunk_steps import ChunkResult, NetworkSpec, OutputPartials

    net = Network(list(LAYER_SIZES), seed=0)
    spec = NetworkSpec.of(net, "mse")
    result = ChunkResult(0.5, np.zeros(net.n_parameters), None)
    with_metrics = ChunkResult(0.5, np.zeros(net.n_parameters), OutputPartials(10, True, np.zeros(1), None, None))
    return {
        "n_parameters": net.n_parameters,
        "parameter_vector": len(pickle.dumps(net.parameters, protocol=5)),
        "network_spec": len(pickle.dumps(spec, protocol=5)),
        "chunk_result": len(pickle.dumps(result, protocol=5)),
        "chunk_result_with_mse": len(pickle.dumps(with_metrics, protocol=5)),
    }


def summarize(results: list[dict]) -> dict:
    """Fit a + b m to each mode's fastest step times.

    The minimum over all timed steps of a point estimates the step time
    without other processes' load, which on a small shared machine comes
    and goes during a run and inflates medians.
    """
    lines = {}
    for mode in MODES:
        points = [r for r in results if r["mode"] == mode]
        if len(points) >= 2:
            lines[mode] = fit_line([p["rows"] for p in points], [p["step_s_min"] for p in points])
    summary = {"lines": {mode: {"fixed_s": a, "per_row_s": b} for mode, (a, b) in lines.items()}}
    if "memory" in lines:
        summary["break_even_rows"] = {
            mode: break_even(line, lines["memory"]) for mode, line in lines.items() if mode != "memory"
        }
    return summary


def markdown(results: list[dict], summary: dict) -> str:
    rows = sorted({r["rows"] for r in results})
    modes = [mode for mode in MODES if any(r["mode"] == mode for r in results)]
    table = {(r["mode"], r["rows"]): r for r in results}
    lines = ["Milliseconds per full-batch step (median; minimum in brackets), then preparation seconds.", ""]
    lines.append("| rows | " + " | ".join(modes) + " |")
    lines.append("| ---: | " + " | ".join("---:" for _ in modes) + " |")
    for n_rows in rows:
        cells = []
        for mode in modes:
            entry = table.get((mode, n_rows))
            cells.append(
                "" if entry is None
                else f"{entry['step_s'] * 1e3:.1f} ({entry['step_s_min'] * 1e3:.1f}); {entry['preparation_s']:.2f} s"
            )
        lines.append(f"| {n_rows:,} | " + " | ".join(cells) + " |")
    lines += ["", "Fitted to the minimum step times: a + b m.", "",
              "| mode | fixed cost per step a (ms) | b per million rows (ms) | break-even rows vs memory |",
              "| --- | ---: | ---: | ---: |"]
    for mode, line in summary["lines"].items():
        even = summary.get("break_even_rows", {}).get(mode)
        if mode == "memory":
            even_text = "-"
        elif even is None:
            even_text = "never"
        else:
            even_text = f"{even:,.0f}"
        lines.append(f"| {mode} | {line['fixed_s'] * 1e3:.2f} | {line['per_row_s'] * 1e9:.1f} | {even_text} |")
    return "\n".join(lines) + "\n"


def resummarize(path: str) -> int:
    """Recompute the fit and the table of a results file written by an earlier run."""
    with open(path) as file:
        document = json.load(file)
    document["summary"] = summarize(document["results"])
    text = markdown(document["results"], document["summary"])
    print(text)
    with open(path, "w") as file:
        json.dump(document, file, indent=2)
    with open(os.path.splitext(path)[0] + ".md", "w") as file:
        file.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--rows", help="comma-separated row counts (default: 1e5 to 1e7)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {', '.join(MODES)}")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per fit after the first (default: 5)")
    parser.add_argument("--repeats", type=int, default=3, help="pairs of fits per point (default: 3)")
    parser.add_argument("--chunks", type=int, default=8, help="row chunks per array (default: 8)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="JSON results; the table goes next to it as .md")
    parser.add_argument("--result", help="write the JSON here only (for the suite's runner)")
    parser.add_argument("--summarize", metavar="JSON", help="only rewrite the table and fit of an earlier --out file")
    args = parser.parse_args(argv)
    if args.summarize:
        return resummarize(args.summarize)

    if args.rows:
        rows = [int(float(value)) for value in args.rows.split(",")]
    else:
        rows = list(QUICK_ROWS if args.quick else FULL_ROWS)
    repeats = 1 if args.quick else args.repeats
    modes = [mode.strip() for mode in args.modes.split(",")]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"unknown modes {unknown}; choose from {', '.join(MODES)}")

    # Recorded first: starting a LocalCluster sets OMP_NUM_THREADS and friends
    # in this process's environment for its worker processes.
    machine_record = machine.describe_machine()
    results = []
    # Modes take turns at each size, so a period of contention from other
    # processes spreads over all of them instead of hitting one.
    for n_rows in rows:
        for mode in modes:
            results.append(run_point(mode, n_rows, args.steps, repeats, args.chunks))
    summary = summarize(results)
    document = {
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "machine": machine_record,
        "layer_sizes": list(LAYER_SIZES),
        "chunks": args.chunks,
        "steps": args.steps,
        "repeats": repeats,
        "message_bytes": message_bytes(),
        "results": results,
        "summary": summary,
    }
    text = markdown(results, summary)
    print(text)
    if args.result:
        with open(args.result, "w") as file:
            json.dump(document, file, indent=2)
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(document, file, indent=2)
    with open(os.path.splitext(args.out)[0] + ".md", "w") as file:
        file.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
