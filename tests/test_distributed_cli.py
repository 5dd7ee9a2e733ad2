"""``mlpnet train --dask``: the same model as the in-memory command, and clear errors.

Each equality test trains twice on the same rows: once in memory from one
CSV file with full-batch steps, once with ``--dask local`` from the same
rows split into part files.  The in-memory command is the reference; the
two models differ only by floating-point summation order.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

from mlpnet.cli.main import main
from mlpnet.cli.model import load_trained_model

PART_ROWS = ((0, 70), (70, 160), (160, 200))


def write_table(folder: Path, header: str, rows: list[str]) -> tuple[Path, str]:
    """Write all rows to all.csv and the same rows to three part files; return all.csv and the glob."""
    (folder / "all.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    for number, (start, stop) in enumerate(PART_ROWS):
        (folder / f"part-{number}.csv").write_text("\n".join([header, *rows[start:stop]]) + "\n", encoding="utf-8")
    return folder / "all.csv", str(folder / "part-*.csv")


def regression_rows(seed=0) -> list[str]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=200)
    return [",".join(repr(float(v)) for v in (*X[i], y[i])) for i in range(200)]


def classification_rows(seed=1) -> list[str]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 2))
    names = np.array(["low", "mid", "high"])[(X[:, 0] > -0.5).astype(int) + (X[:, 0] + X[:, 1] > 1.0)]
    return [f"{float(X[i, 0])!r},{float(X[i, 1])!r},{names[i]}" for i in range(200)]


def assert_same_models(path, reference_path):
    model, reference = load_trained_model(str(path)), load_trained_model(str(reference_path))
    np.testing.assert_allclose(model.network.parameters, reference.network.parameters, rtol=1e-10, atol=1e-13)
    assert model.classes == reference.classes
    assert model.feature_names == reference.feature_names
    for name in ("input_scaling", "target_scaling"):
        ours, theirs = getattr(model, name), getattr(reference, name)
        assert (ours is None) == (theirs is None), name
        if ours is not None:
            np.testing.assert_allclose(ours.mean, theirs.mean, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(ours.scale, theirs.scale, rtol=1e-12)
    assert model.training["rows"] == reference.training["rows"]
    assert model.training["epochs_run"] == reference.training["epochs_run"]
    np.testing.assert_allclose(model.training["history"]["loss"], reference.training["history"]["loss"], rtol=1e-10)
    np.testing.assert_allclose(
        model.training["history"]["val_loss"], reference.training["history"]["val_loss"], rtol=1e-10
    )
    for rows in ("training", "validation"):
        for key, value in reference.metrics[rows].items():
            np.testing.assert_allclose(model.metrics[rows][key], value, rtol=1e-9, atol=1e-12, err_msg=f"{rows} {key}")


def test_regression_equals_in_memory(tmp_path, capsys):
    single, pattern = write_table(tmp_path, "a,b,c,y", regression_rows())
    common = ["--target", "y", "--epochs", "15", "--seed", "3", "--quiet"]
    assert main(["train", str(single), "--out", str(tmp_path / "memory.npz"), "--batch-size", "full", *common]) == 0
    assert main(["train", pattern, "--out", str(tmp_path / "dask.npz"), "--dask", "local", "--dask-workers", "2",
                 *common]) == 0
    assert capsys.readouterr().err == ""
    assert_same_models(tmp_path / "dask.npz", tmp_path / "memory.npz")
    assert load_trained_model(str(tmp_path / "dask.npz")).training["data"]["files"] == 3


def test_classification_equals_in_memory(tmp_path):
    single, pattern = write_table(tmp_path, "x1,x2,kind", classification_rows())
    common = ["--target", "kind", "--epochs", "15", "--optimizer", "momentum", "--learning-rate", "0.1",
              "--hidden", "5", "--patience", "3", "--quiet"]
    assert main(["train", str(single), "--out", str(tmp_path / "memory.npz"), "--batch-size", "full", *common]) == 0
    assert main(["train", pattern, "--out", str(tmp_path / "dask.npz"), "--dask", "local", "--dask-workers", "1",
                 "--batch-size", "full", *common]) == 0
    assert_same_models(tmp_path / "dask.npz", tmp_path / "memory.npz")
    assert load_trained_model(str(tmp_path / "dask.npz")).classes == ["high", "low", "mid"]


def test_bad_cell_exits_2(tmp_path, capsys):
    rows = regression_rows()
    cells = rows[100].split(",")
    cells[1] = "?"
    rows[100] = ",".join(cells)
    _, pattern = write_table(tmp_path, "a,b,c,y", rows)
    out = tmp_path / "model.npz"
    assert main(["train", pattern, "--target", "y", "--out", str(out), "--dask", "local", "--dask-workers", "1"]) == 2
    error = capsys.readouterr().err
    # Row 100 is the 31st data row of part-1.csv (rows 70-159), so line 32 counting the header.
    assert f"{tmp_path / 'part-1.csv'}, line 32, column 'b': invalid cell '?'" in error
    assert "Traceback" not in error
    assert not out.exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_divergence_counts_epochs_from_one(tmp_path, capsys):
    _, pattern = write_table(tmp_path, "a,b,c,y", regression_rows())
    out = tmp_path / "model.npz"
    options = ["--no-standardize", "--hidden", "3", "--activation", "identity", "--optimizer", "gd",
               "--learning-rate", "50", "--epochs", "100", "--verbose"]

    code = main(["train", pattern, "--target", "y", "--out", str(out), "--dask", "local", "--dask-workers", "1",
                 *options])

    error = capsys.readouterr().err
    progress = [line for line in error.splitlines() if line.startswith("epoch ")]
    last_finite = int(progress[-1].split()[1].split("/")[0])
    assert code == 1
    assert f"training diverged in epoch {last_finite + 1}:" in error
    assert "help: no model was written; use a smaller --learning-rate than 50 or drop --no-standardize" in error
    assert not out.exists()


def test_unreachable_scheduler_exits_2(tmp_path, capsys):
    _, pattern = write_table(tmp_path, "a,b,c,y", regression_rows())
    address = f"tcp://127.0.0.1:{free_port()}"
    out = tmp_path / "model.npz"
    code = main(["train", pattern, "--target", "y", "--out", str(out), "--dask", address, "--dask-timeout", "1"])
    assert code == 2
    error = capsys.readouterr().err
    assert f"mlpnet: error: cannot reach the Dask scheduler at {address} within 1 s" in error
    assert not out.exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--dask", "local", "--batch-size", "32"], "--batch-size 32 is not supported with --dask"),
        (["--dask", "local", "--batch=8"], "--batch-size 8 is not supported with --dask"),
        (["--dask", "nowhere"], "--dask must be 'local' or a scheduler address"),
        (["--dask", "tcp://127.0.0.1:1", "--dask-workers", "2"], "--dask-workers applies only with --dask local"),
    ],
)
def test_invalid_dask_options_exit_2(tmp_path, capsys, options, message):
    out = tmp_path / "model.npz"
    code = main(["train", str(tmp_path / "part-*.csv"), "--target", "y", "--out", str(out), *options])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bundled_dataset_rejected(tmp_path, capsys):
    code = main(["train", "--dataset", "stackloss", "--out", str(tmp_path / "m.npz"), "--dask", "local"])
    assert code == 2
    assert "--dask trains on CSV files, not on the bundled dataset 'stackloss'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_ctrl_c_stops_local_cluster_run(tmp_path):
    """SIGINT to the whole process group, as Ctrl-C in a terminal sends it, stops after an epoch."""
    import signal
    import subprocess
    import sys

    import psutil

    _, pattern = write_table(tmp_path, "a,b,c,y", regression_rows())
    out = tmp_path / "model.npz"
    command = [sys.executable, "-m", "mlpnet", "train", pattern, "--target", "y", "--out", str(out),
               "--dask", "local", "--dask-workers", "2", "--epochs", "100000", "--verbose"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    messages = []
    try:
        epochs = 0
        for line in process.stderr:
            if line.startswith("epoch"):
                epochs += 1
                if epochs == 3:
                    os.killpg(process.pid, signal.SIGINT)
            else:
                messages.append(line)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert code == 130
    assert any("interrupted by SIGINT after epoch" in message for message in messages), messages
    assert (tmp_path / "model.interrupted.npz").exists()
    assert (tmp_path / "model.checkpoint.npz").exists()
    assert not out.exists()
    # The worker processes end with the cluster; allow them a few seconds to exit.
    _, alive = psutil.wait_procs(processes_in_group(process.pid), timeout=10)
    assert [(p.pid, p.name(), p.status()) for p in alive] == []


def processes_in_group(group: int) -> list:
    import psutil

    members = []
    for candidate in psutil.process_iter():
        try:
            if os.getpgid(candidate.pid) == group and candidate.status() != psutil.STATUS_ZOMBIE:
                members.append(candidate)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return members
