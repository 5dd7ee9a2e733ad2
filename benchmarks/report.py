"""Medians, ratios, targets and the markdown tables of a benchmark run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from libraries import LIBRARIES

PEERS = ("sklearn", "torch")
LABELS = {"mlpnet": "mlpnet", "sklearn": "scikit-learn", "torch": "PyTorch", "numpy": "NumPy @"}


@dataclass(frozen=True)
class Target:
    """One performance target: mlpnet's value divided by a reference's must be at most ``limit``.

    ``quantity`` is "time" (seconds per epoch) or "memory" (peak RSS added
    by training).  ``reference`` is a library, "faster peer" (the faster of
    scikit-learn and PyTorch) or "numpy" (the same matrix products timed
    with NumPy's ``@``).
    """

    quantity: str
    reference: str
    limit: float

    def describe(self) -> str:
        reference = "the faster peer" if self.reference == "faster peer" else LABELS[self.reference]
        quantity_label = "time" if self.quantity == "time" else "training memory"
        return f"{quantity_label} <= {self.limit:g} x {reference}"


WIDE_TARGETS = (
    Target("time", "faster peer", 1.0),
    Target("time", "numpy", 1.15),
    Target("memory", "sklearn", 0.55),
    Target("memory", "torch", 1.0),
)

TARGETS: dict[str, tuple[Target, ...]] = {
    "lecture": (Target("time", "sklearn", 0.25), Target("time", "torch", 0.15)),
    "small": (Target("time", "faster peer", 0.6),),
    "medium": (Target("time", "faster peer", 0.8),),
    "wide": WIDE_TARGETS,
    "wide-float32": WIDE_TARGETS,
    "classifier": (Target("time", "faster peer", 0.6),),
}
"""The targets of each workload, as mlpnet's ratio to a reference."""

MIN_MEMORY_FOR_RATIO = 2**20
"""Memory ratios need a peer that adds at least 1 MiB; below that, page granularity dominates."""

CSV_TARGET = 2.0
"""mlpnet's CSV loading time may be at most this multiple of ``pandas.read_csv``'s."""


# -- summaries ----------------------------------------------------------------


def summarize(workload: dict, samples: dict[str, list[dict]]) -> dict:
    """Reduce the samples of one workload to medians, ratios, throughput and target results.

    Parameters
    ----------
    workload : dict
        The workload's fields plus ``flops_per_epoch``.
    samples : dict
        Library name ("mlpnet", "sklearn", "torch", "numpy") to its list of
        worker results.
    """
    flops = workload["flops_per_epoch"]
    libraries: dict[str, dict] = {}
    for library, runs in samples.items():
        if not runs:
            continue
        seconds = statistics.median(run["seconds_per_epoch"] for run in runs)
        entry = {
            "seconds_per_epoch": seconds,
            "gflops": flops / seconds / 1e9,
            "runs": len(runs),
            "max_other_cores_busy": max(run.get("other_cores_busy", 0.0) for run in runs),
        }
        if library != "numpy":
            entry["final_loss"] = runs[-1]["final_loss"]
            entry["final_losses"] = [run["final_loss"] for run in runs]
            entry["added_memory"] = statistics.median(run["added_memory"] for run in runs)
            entry["memory_method"] = runs[-1]["memory_method"]
            entry["mlpnet_source_digests"] = sorted({run.get("mlpnet_source_digest", "?") for run in runs})
        if library == "torch":
            entry["torch_blas"] = runs[-1].get("torch_blas", "not recorded")
            entry["torch_threads"] = runs[-1].get("torch_threads")
        libraries[library] = entry

    if "numpy" in libraries:
        matmul_rate = libraries["numpy"]["gflops"]
        for entry in libraries.values():
            entry["matmul_fraction"] = entry["gflops"] / matmul_rate

    summary = {"libraries": libraries, "ratios": ratios(libraries)}
    summary["targets"] = check_targets(workload["name"], libraries)
    return summary


def faster_peer(libraries: dict[str, dict]) -> str | None:
    peers = [peer for peer in PEERS if peer in libraries]
    return min(peers, key=lambda peer: libraries[peer]["seconds_per_epoch"]) if peers else None


def ratios(libraries: dict[str, dict]) -> dict[str, float]:
    """Return mlpnet's time per epoch divided by each reference's, and its memory by each peer's."""
    if "mlpnet" not in libraries:
        return {}
    mlpnet = libraries["mlpnet"]
    result = {}
    for reference in (*PEERS, "numpy"):
        if reference in libraries:
            result[f"time/{reference}"] = mlpnet["seconds_per_epoch"] / libraries[reference]["seconds_per_epoch"]
    for peer in PEERS:
        if peer in libraries and libraries[peer]["added_memory"] >= MIN_MEMORY_FOR_RATIO:
            result[f"memory/{peer}"] = mlpnet["added_memory"] / libraries[peer]["added_memory"]
    peer = faster_peer(libraries)
    if peer is not None:
        result["time/faster peer"] = result[f"time/{peer}"]
        result["faster peer"] = peer
    return result


def check_targets(name: str, libraries: dict[str, dict]) -> list[dict]:
    """Evaluate each target of the workload; a target whose reference was not measured is left out."""
    found = ratios(libraries)
    results = []
    for target in TARGETS.get(name, ()):
        key = f"{target.quantity}/{target.reference}"
        if key not in found:
            continue
        value = found[key]
        results.append(
            {
                "target": target.describe(),
                "quantity": target.quantity,
                "reference": found["faster peer"] if target.reference == "faster peer" else target.reference,
                "limit": target.limit,
                "value": value,
                "met": value <= target.limit,
                # How far above the limit, as a fraction of it: 0.3 means 30 % over.
                "excess": value / target.limit - 1.0,
            }
        )
    return results


# -- markdown -----------------------------------------------------------------


def format_seconds(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def format_mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f}"


def cell(libraries: dict, library: str, key: str, formatter) -> str:
    entry = libraries.get(library)
    if entry is None or key not in entry:
        return "–"
    return formatter(entry[key])


def target_marks(targets: list[dict]) -> str:
    if not targets:
        return "–"
    marks = []
    for result in targets:
        verdict = "met" if result["met"] else f"missed by {result['excess'] * 100:.0f} %"
        marks.append(f"{result['target']}: {result['value']:.2f}, {verdict}")
    return "<br>".join(marks)


def workload_tables(workloads: dict[str, dict]) -> str:
    """Format the time, work, throughput, memory and target tables of the workloads."""
    lines = [
        "### Time per epoch (median) and mlpnet's ratio",
        "",
        "| workload | mlpnet | scikit-learn | PyTorch | NumPy @ | mlpnet / scikit-learn | mlpnet / PyTorch "
        "| mlpnet / NumPy @ | other processes (cores) | targets |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    digests = set()
    for name, record in workloads.items():
        libraries, found = record["summary"]["libraries"], record["summary"]["ratios"]
        times = [cell(libraries, library, "seconds_per_epoch", format_seconds) for library in (*LIBRARIES, "numpy")]
        ratio_cells = [f"{found[key]:.2f}" if key in found else "–" for key in ("time/sklearn", "time/torch", "time/numpy")]
        busy = max(entry["max_other_cores_busy"] for entry in libraries.values())
        lines.append(
            f"| {name} | {' | '.join(times)} | {' | '.join(ratio_cells)} | {busy:.2f} "
            f"| {target_marks(record['summary']['targets'])} |"
        )
        digests.update(libraries.get("mlpnet", {}).get("mlpnet_source_digests", []))
    if len(digests) > 1:
        lines += ["", f"NOTE: mlpnet's source changed during this run; the workers saw digests {', '.join(sorted(digests))}."]

    lines += [
        "",
        "### Final loss (mlpnet's convention), the proof of equal work",
        "",
        "| workload | updates | mlpnet | scikit-learn | PyTorch | largest relative difference |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, record in workloads.items():
        libraries = record["summary"]["libraries"]
        losses = [libraries[library]["final_loss"] for library in LIBRARIES if library in libraries]
        spread = (max(losses) - min(losses)) / abs(min(losses)) if losses and min(losses) != 0 else float("nan")
        loss_cells = [cell(libraries, library, "final_loss", lambda value: f"{value:.7g}") for library in LIBRARIES]
        lines.append(f"| {name} | {record['workload']['updates']} | {' | '.join(loss_cells)} | {spread:.1e} |")

    lines += [
        "",
        "### Achieved GFLOP/s and fraction of NumPy's matmul rate at the same shapes",
        "",
        "| workload | GFLOP per epoch | mlpnet | scikit-learn | PyTorch | NumPy @ |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, record in workloads.items():
        libraries = record["summary"]["libraries"]
        throughput = []
        for library in LIBRARIES:
            entry = libraries.get(library)
            if entry is None:
                throughput.append("–")
            else:
                fraction = f" ({entry['matmul_fraction']:.0%})" if "matmul_fraction" in entry else ""
                throughput.append(f"{entry['gflops']:.3g}{fraction}")
        reference = cell(libraries, "numpy", "gflops", lambda value: f"{value:.3g}")
        lines.append(
            f"| {name} | {record['workload']['flops_per_epoch'] / 1e9:.3g} | {' | '.join(throughput)} | {reference} |"
        )

    lines += [
        "",
        "### Peak memory added by training (MiB, median)",
        "",
        "| workload | mlpnet | scikit-learn | PyTorch | mlpnet / scikit-learn | mlpnet / PyTorch |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, record in workloads.items():
        libraries, found = record["summary"]["libraries"], record["summary"]["ratios"]
        memory = [cell(libraries, library, "added_memory", format_mib) for library in LIBRARIES]
        ratio_cells = [f"{found[key]:.2f}" if key in found else "–" for key in ("memory/sklearn", "memory/torch")]
        lines.append(f"| {name} | {' | '.join(memory)} | {' | '.join(ratio_cells)} |")

    lines += [
        "",
        "### Targets",
        "",
        "| workload | target | measured | result |",
        "| --- | --- | --- | --- |",
    ]
    for name, record in workloads.items():
        for result in record["summary"]["targets"]:
            verdict = "met" if result["met"] else f"**missed** by {result['excess'] * 100:.0f} %"
            target = result["target"]
            if "faster peer" in target:
                target += f" ({LABELS[result['reference']]})"
            lines.append(f"| {name} | {target} | {result['value']:.3f} | {verdict} |")
    return "\n".join(lines) + "\n"


def csv_table(csv_result: dict) -> str:
    mlpnet_s, pandas_s = csv_result["mlpnet_seconds"], csv_result["pandas_seconds"]
    ratio = mlpnet_s / pandas_s
    verdict = "met" if ratio <= CSV_TARGET else f"**missed** by {(ratio / CSV_TARGET - 1) * 100:.0f} %"
    return "\n".join(
        [
            "| file | mlpnet `load_training_data` | `pandas.read_csv` | ratio | target <= 2 x pandas |",
            "| --- | --- | --- | --- | --- |",
            f"| {csv_result['megabytes']:.0f} MB, {csv_result['rows']:,} rows x {csv_result['columns']} columns "
            f"| {mlpnet_s:.2f} s | {pandas_s:.2f} s | {ratio:.2f} | {verdict} |",
        ]
    ) + "\n"


def distributed_table(result: dict) -> str:
    """Format the fixed cost per step, cost per row and break-even rows of each mode of distributed.py."""
    if "error" in result:
        return "The distributed part failed:\n\n```\n" + result["error"].rstrip() + "\n```\n"
    rows = sorted({point["rows"] for point in result["results"]})
    lines = [
        f"Full-batch steps of a {'-'.join(map(str, result['layer_sizes']))} network on "
        f"{', '.join(f'{n:,}' for n in rows)} rows in {result['chunks']} chunks; "
        f"a + b m fitted to each mode's fastest step times.",
        "",
        "| mode | fixed cost per step a (ms) | b per million rows (ms) | break-even rows vs memory |",
        "| --- | ---: | ---: | ---: |",
    ]
    break_even = result["summary"].get("break_even_rows", {})
    for mode, line in result["summary"]["lines"].items():
        if mode == "memory":
            even_text = "-"
        elif break_even.get(mode) is None:
            even_text = "never"
        else:
            even_text = f"{break_even[mode]:,.0f}"
        lines.append(f"| {mode} | {line['fixed_s'] * 1e3:.2f} | {line['per_row_s'] * 1e9:.1f} | {even_text} |")
    return "\n".join(lines) + "\n"


def machine_lines(machine: dict, command: str) -> str:
    blas = machine.get("numpy_blas", {})
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    environment = ", ".join(f"{name}={value}" for name, value in machine["environment"].items() if value is not None)
    git = machine.get("git", {})
    changed = len(git.get("changed_under_src", []))
    return "\n".join(
        [
            f"- command: `{command}`",
            f"- mlpnet source: commit {git.get('commit', 'unknown')[:10]} with {changed} uncommitted paths under src/, "
            f"digest {machine.get('mlpnet_source_digest', 'unknown')} (see machine.mlpnet_source_digest)",
            f"- CPU: {machine['cpu']}, {machine['logical_cores']} logical cores, {machine['memory_gib']} GiB",
            f"- NumPy BLAS: {blas.get('internal_api')} {blas.get('version')}, kernel {blas.get('architecture')}, "
            f"{blas.get('num_threads')} threads; PyTorch threads set to the same count",
            f"- BLAS environment: {environment or 'none of ' + ', '.join(machine['environment'])} set",
            f"- versions: Python {machine['python']}, {versions}",
        ]
    ) + "\n"


def run_lines(results: dict) -> str:
    """List the runs behind the parts of the results, which ``run.py --update`` can merge from several runs."""
    runs: dict[tuple, list[str]] = {}
    parts = [(name, record.get("run")) for name, record in results.get("workloads", {}).items()]
    parts += [("scaling", results.get("scaling_run")), ("csv", results.get("csv", {}).get("run"))]
    parts += [("distributed", results.get("distributed", {}).get("run"))]
    for name, run in parts:
        if run:
            key = (run["started"], run["command"], run["mlpnet_source_digest"])
            runs.setdefault(key, []).append(name)
    lines = ["Runs behind these numbers:", ""]
    for (started, command, digest), names in sorted(runs.items()):
        lines.append(f"- {started}, `{command}`, mlpnet source digest {digest}: {', '.join(names)}")
    return "\n".join(lines) + "\n"


def torch_blas_line(results: dict) -> str:
    """Describe the BLAS and thread count that the PyTorch workers reported."""
    for record in results.get("workloads", {}).values():
        torch_entry = record["summary"]["libraries"].get("torch")
        if torch_entry and torch_entry.get("torch_blas", "not recorded") != "not recorded":
            return f"- PyTorch BLAS: {torch_entry['torch_blas']}, {torch_entry['torch_threads']} threads\n"
    return ""


def markdown(results: dict) -> str:
    """Format the results as markdown: machine, runs, tables, CSV loading, profiles."""
    parts = [
        f"## Benchmark results{' (--quick)' if results['quick'] else ''}, last run {results['started']}",
        "",
        machine_lines(results["machine"], results["command"]) + torch_blas_line(results),
        run_lines(results),
    ]
    if results.get("workloads"):
        parts.append(workload_tables(results["workloads"]))
    if results.get("csv"):
        parts += ["### CSV loading (median of interleaved runs)", "", csv_table(results["csv"])]
    if results.get("distributed"):
        parts += ["### Dask: fixed cost per step and break-even rows", "", distributed_table(results["distributed"])]
    if results.get("scaling_plot"):
        parts += [f"Scaling plot: `{results['scaling_plot']}`", ""]
    for name, text in results.get("profiles", {}).items():
        parts += [f"### Profile of mlpnet on {name}", "", "```", text.rstrip(), "```", ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    """Rewrite the markdown tables of a results JSON file, for example after changing this module."""
    import argparse
    import json
    import os

    parser = argparse.ArgumentParser(description="Write the markdown tables of a benchmark results file next to it.")
    parser.add_argument("results", help="a JSON file written by run.py")
    args = parser.parse_args(argv)
    with open(args.results) as file:
        results = json.load(file)
    with open(os.path.splitext(args.results)[0] + ".md", "w") as file:
        file.write(markdown(results))


if __name__ == "__main__":
    main()
