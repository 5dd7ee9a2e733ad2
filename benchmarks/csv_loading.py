"""Time mlpnet's CSV loading against ``pandas.read_csv`` on the same generated file.

The file has 20 feature columns and a target column ``y`` of numbers written
with up to 10 significant digits, about 100 MB (10 MB with ``--quick``).
The two readers alternate (mlpnet, pandas, mlpnet, pandas, ...) and the
median of each is quoted.  Before timing, each reader loads a small file
once (so imports and first-call setup are not timed) and the big file is
read once, so both readers find it in the page cache.  The run also checks
that both readers return the same numbers.

Usage: python benchmarks/csv_loading.py --result FILE [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np

from contention import CpuContention, wait_for_idle

N_FEATURES = 20
BYTES_PER_ROW = 21 * 11.5
"""An estimate of one row's size, used to pick the row count for a file size."""


def write_csv(path: str, megabytes: float) -> tuple[int, int]:
    """Write a numeric CSV of about ``megabytes`` MB; return its row and column counts."""
    rows = int(megabytes * 1e6 / BYTES_PER_ROW)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((rows, N_FEATURES)) * 100.0
    y = X[:, :3].sum(axis=1) + rng.standard_normal(rows)
    header = ",".join([f"x{j}" for j in range(N_FEATURES)] + ["y"])
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.10g", header=header, comments="")
    return rows, N_FEATURES + 1


def read_with_mlpnet(path: str) -> np.ndarray:
    from mlpnet.io.csv_reader import load_training_data

    return load_training_data(path, target="y").X


def read_with_pandas(path: str) -> np.ndarray:
    import pandas as pd

    return pd.read_csv(path).to_numpy()[:, :N_FEATURES]


def run(quick: bool, repeats: int) -> dict:
    megabytes = 10.0 if quick else 100.0
    with tempfile.TemporaryDirectory(prefix="mlpnet-csv-bench-") as directory:
        path = os.path.join(directory, "data.csv")
        rows, columns = write_csv(path, megabytes)
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            file.read()

        readers = {"mlpnet": read_with_mlpnet, "pandas": read_with_pandas}
        warmup_path = os.path.join(directory, "warmup.csv")
        write_csv(warmup_path, 0.05)
        for reader in readers.values():
            reader(warmup_path)

        times: dict[str, list[float]] = {"mlpnet": [], "pandas": []}
        busy: list[float] = []
        outputs = {}
        for _ in range(repeats):
            for name, reader in readers.items():
                wait_for_idle()
                with CpuContention() as contention:
                    start = time.perf_counter()
                    outputs[name] = reader(path)
                    times[name].append(time.perf_counter() - start)
                busy.append(contention.other_cores)
        max_difference = float(np.max(np.abs(outputs["mlpnet"] - outputs["pandas"])))

    return {
        "megabytes": size / 1e6,
        "rows": rows,
        "columns": columns,
        "mlpnet_seconds": statistics.median(times["mlpnet"]),
        "pandas_seconds": statistics.median(times["pandas"]),
        "mlpnet_runs": times["mlpnet"],
        "pandas_runs": times["pandas"],
        "max_other_cores_busy": max(busy),
        "max_abs_difference": max_difference,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result", required=True, help="JSON file to write the timings to")
    parser.add_argument("--quick", action="store_true", help="use a 10 MB file")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each reader (default: 3)")
    args = parser.parse_args(argv)
    with open(args.result, "w") as file:
        json.dump(run(args.quick, args.repeats), file)


if __name__ == "__main__":
    main()
