"""Run mlpnet's benchmark suite against scikit-learn and PyTorch, and write its tables.

Every workload in :mod:`workloads` trains once per library per repeat, each
run in a fresh worker process (see :mod:`worker`), interleaved as mlpnet,
scikit-learn, PyTorch, NumPy @, mlpnet, ...  The median of the repeats is
quoted.  Before each run the runner waits for the machine to go idle, and
it repeats a run during which other processes kept more than a tenth of a
core busy, up to ``--retries`` times, keeping the least disturbed one.

OpenBLAS reads OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE when it loads, and
both can select a slower kernel.  Unset them for the benchmark only:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py

Options: --quick (small workloads, one repeat, a minute or two on 2 cores),
--only NAME (a workload, "scaling", "csv" or "distributed"; repeatable),
--out FILE (the JSON results; the markdown tables go next to it with the
suffix .md), --plot FILE (the scaling plot, default next to --out).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import machine
import report
from contention import CONTENDED_CORES, wait_for_idle
from libraries import LIBRARIES
from workloads import WORKLOADS, flops_per_epoch, get_workload

logger = logging.getLogger("benchmarks")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "latest.json")
PARTICIPANTS = (*LIBRARIES, "numpy")
EXTRA_PARTS = ("scaling", "csv", "distributed")

DISTRIBUTED_ROWS = (30_000, 100_000, 300_000, 1_000_000)
"""Row counts of the distributed part.

distributed.py alone goes up to 1e7 rows, which takes far longer.  Up to
1e6 rows, ``run.py --only distributed`` took 105 s with 3 repeats on a
2-core AMD EPYC machine.  With --quick the part uses distributed.py's own
--quick sizes (1e4 to 1e5 rows, one repeat, about 20 s there) instead.
"""

PROFILE_SECONDS = 20.0
"""A profile covers as many epochs as mlpnet trains in about this many seconds (at least one)."""


def run_script(script: str, arguments: list[str]) -> dict:
    """Run a benchmark script in a fresh Python process and return the JSON it writes to --result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as file:
        result_path = file.name
    command = [sys.executable, os.path.join(HERE, script), *arguments, "--result", result_path]
    try:
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            raise RuntimeError(f"{shlex.join(command)} failed with exit code {completed.returncode}:\n{completed.stderr}")
        with open(result_path) as file:
            return json.load(file)
    finally:
        os.unlink(result_path)


def measure(workload_name: str, library: str, quick: bool, retries: int, idle_timeout: float) -> dict:
    """Run one worker, repeating it while other processes disturb it; return the least disturbed run."""
    arguments = ["--workload", workload_name, "--library", library] + (["--quick"] if quick else [])
    best = None
    for attempt in range(retries + 1):
        wait_for_idle(timeout_s=idle_timeout)
        result = run_script("worker.py", arguments)
        result["attempts"] = attempt + 1
        if best is None or result["other_cores_busy"] < best["other_cores_busy"]:
            best = result
        if result["other_cores_busy"] <= CONTENDED_CORES:
            break
        logger.info(
            "  %s on %s: other processes kept %.2f cores busy, repeating", library, workload_name, result["other_cores_busy"]
        )
    return best


def run_workload(name: str, quick: bool, repeats: int, retries: int, idle_timeout: float, run_info: dict) -> dict:
    """Measure every participant ``repeats`` times, interleaved, and summarize."""
    workload = get_workload(name, quick=quick)
    record = {"run": run_info, "workload": {**dataclasses.asdict(workload), "updates": workload.updates}}
    record["workload"]["flops_per_epoch"] = flops_per_epoch(workload)
    samples: dict[str, list[dict]] = {participant: [] for participant in PARTICIPANTS}
    for repeat in range(repeats):
        for participant in PARTICIPANTS:
            result = measure(name, participant, quick, retries, idle_timeout)
            samples[participant].append(result)
            logger.info(
                "%s repeat %d %s: %s per epoch, loss %s",
                name,
                repeat + 1,
                participant,
                report.format_seconds(result["seconds_per_epoch"]),
                result.get("final_loss", "-"),
            )
    record["samples"] = samples
    record["summary"] = report.summarize(record["workload"], samples)
    return record


def run_scaling(quick: bool, repeats: int, idle_timeout: float) -> dict:
    """Run the scaling series for every participant, interleaved, and keep each point's median."""
    runs: dict[str, list[dict]] = {participant: [] for participant in PARTICIPANTS}
    for repeat in range(repeats):
        for participant in PARTICIPANTS:
            wait_for_idle(timeout_s=idle_timeout)
            runs[participant].append(run_script("scaling.py", ["--library", participant] + (["--quick"] if quick else [])))
            logger.info("scaling repeat %d %s done", repeat + 1, participant)

    medians: dict[str, dict[str, list[dict]]] = {}
    for participant, library_runs in runs.items():
        medians[participant] = {}
        for series_name, points in library_runs[0].items():
            merged = []
            for index, point in enumerate(points):
                timings = [run[series_name][index]["seconds_per_epoch"] for run in library_runs]
                busy = [run[series_name][index]["other_cores_busy"] for run in library_runs]
                merged.append(
                    {"x": point["x"], "seconds_per_epoch": statistics.median(timings), "runs": timings, "max_other_cores_busy": max(busy)}
                )
            medians[participant][series_name] = merged
    return medians


def profile_missed(results: dict, quick: bool) -> dict[str, str]:
    """Profile mlpnet on every workload where it missed a target."""
    profiles = {}
    for name, record in results["workloads"].items():
        if all(target["met"] for target in record["summary"]["targets"]):
            continue
        seconds_per_epoch = record["summary"]["libraries"]["mlpnet"]["seconds_per_epoch"]
        epochs = max(1, min(record["workload"]["epochs"], int(PROFILE_SECONDS / seconds_per_epoch)))
        arguments = [os.path.join(HERE, "profiling.py"), name, "--epochs", str(epochs)] + (["--quick"] if quick else [])
        wait_for_idle()
        completed = subprocess.run([sys.executable, *arguments], capture_output=True, text=True)
        if completed.returncode != 0:
            # A failed profile should not lose the measurements, so it is recorded instead.
            logger.error("profiling mlpnet on %s failed with exit code %d:\n%s", name, completed.returncode, completed.stderr)
            profiles[name] = f"profiling failed with exit code {completed.returncode}:\n{completed.stderr}"
            continue
        profiles[name] = completed.stdout
        logger.info("profiled mlpnet on %s (%d epochs)", name, epochs)
    return profiles


def run_distributed(quick: bool, repeats: int, idle_timeout: float) -> dict:
    """Time a full-batch step of mlpnet in memory and on Dask with distributed.py.

    Returns its JSON document: step times per mode and row count, and the
    line a + b m fitted to each mode (fixed cost per step, cost per row,
    break-even rows against the in-memory fit).  A failure, for example
    when dask or distributed is not installed, is returned as
    ``{"error": message}`` so that it does not lose the other parts.
    """
    wait_for_idle(timeout_s=idle_timeout)
    if quick:
        arguments = ["--quick"]
    else:
        arguments = ["--rows", ",".join(str(rows) for rows in DISTRIBUTED_ROWS), "--repeats", str(repeats)]
    try:
        return run_script("distributed.py", arguments)
    except RuntimeError as exc:
        logger.error("the distributed part failed: %s", exc)
        return {"error": str(exc)}


def merge_results(path: str, new: dict) -> dict:
    """Return the results in ``path`` with the parts measured in ``new`` replaced or added.

    Each workload record, the scaling series, the CSV result and the
    distributed result keep the ``run`` (start time, command, mlpnet source
    digest) that measured them.
    The machine description is the newest one.
    """
    with open(path) as file:
        merged = json.load(file)
    if merged.get("quick") != new["quick"]:
        kind, other = ("quick", "full") if new["quick"] else ("full", "quick")
        raise SystemExit(f"--update cannot merge a {kind} run into {path}, which contains a {other} run; choose another --out file")
    merged.setdefault("workloads", {}).update(new["workloads"])
    merged.setdefault("profiles", {})
    for name in new["workloads"]:
        merged["profiles"].pop(name, None)
    merged["profiles"].update(new.get("profiles", {}))
    for key in ("scaling", "scaling_run", "scaling_plot", "csv", "distributed"):
        if key in new:
            merged[key] = new[key]
    merged["workloads"] = {name: merged["workloads"][name] for name in WORKLOADS if name in merged["workloads"]}
    merged["machine"] = new["machine"]
    merged["command"] = new["command"]
    merged["started"] = new["started"]
    return merged


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])

    parser.add_argument("--quick", action="store_true", help="shrunk workloads and one repeat: a smoke test, not numbers to quote")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*WORKLOADS, *EXTRA_PARTS],
        help="run only this part; repeat the option for several (default: every workload, scaling, csv and distributed)",
    )

    parser.add_argument("--repeats", type=int, help="runs of each library per workload (default: 3, or 1 with --quick)")
    parser.add_argument("--retries", type=int, default=2, help="extra runs of a measurement disturbed by other processes (default: 2)")
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for other processes to go idle before each run (default: 120)",
    )

    parser.add_argument("--out", default=DEFAULT_OUT, help=f"JSON results file; the tables go to the same name with .md (default: {DEFAULT_OUT})")
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the parts of an existing --out file that this run does not measure, and replace the others",
    )
    parser.add_argument("--plot", help="PNG file for the scaling plot (default: the --out name with -scaling.png)")
    parser.add_argument("--no-profile", action="store_true", help="skip profiling mlpnet where it misses a target")
    args = parser.parse_args(argv)

    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1 or args.retries < 0:
        parser.error(f"--repeats must be at least 1 and --retries at least 0, got {args.repeats} and {args.retries}")
    return args


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args = parse_arguments(argv)
    parts = args.only or [*WORKLOADS, *EXTRA_PARTS]
    base = os.path.splitext(args.out)[0]
    plot_path = args.plot or base + "-scaling.png"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)

    started = time.perf_counter()
    results = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": shlex.join(["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "quick": args.quick,
        "repeats": args.repeats,
        "machine": machine.describe_machine(),
        "workloads": {},
    }
    run_info = {
        "started": results["started"],
        "command": results["command"],
        "mlpnet_source_digest": results["machine"]["mlpnet_source_digest"],
    }
    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(variable) is not None:
            logger.warning("%s=%s is set and may select a slower BLAS kernel; see this script's docstring", variable, os.environ[variable])

    for name in parts:
        if name in WORKLOADS:
            results["workloads"][name] = run_workload(name, args.quick, args.repeats, args.retries, args.idle_timeout, run_info)
    if results["workloads"] and not args.no_profile:
        results["profiles"] = profile_missed(results, args.quick)
    if "scaling" in parts:
        results["scaling"] = run_scaling(args.quick, args.repeats, args.idle_timeout)
        results["scaling_run"] = run_info
        import scaling

        scaling.plot(results["scaling"], plot_path, scaling.plot_title(results))
        results["scaling_plot"] = os.path.relpath(plot_path)
    if "csv" in parts:
        wait_for_idle(timeout_s=args.idle_timeout)
        results["csv"] = run_script("csv_loading.py", ["--repeats", str(args.repeats)] + (["--quick"] if args.quick else []))
        results["csv"]["run"] = run_info
    if "distributed" in parts:
        results["distributed"] = run_distributed(args.quick, args.repeats, args.idle_timeout)
        results["distributed"]["run"] = run_info
    elapsed = time.perf_counter() - started
    if args.update and os.path.exists(args.out):
        results = merge_results(args.out, results)

    with open(args.out, "w") as file:
        json.dump(results, file, indent=1)
    text = report.markdown(results)
    with open(base + ".md", "w") as file:
        file.write(text)
    print(text)
    logger.info("wrote %s and %s after %.0f s", args.out, base + ".md", elapsed)


if __name__ == "__main__":
    main()
