"""Interrupting `mlpnet train` with real signals, and resuming it from the checkpoint.

Each test starts `python -m mlpnet train` as a subprocess, waits until it has
printed a few epoch lines, and sends SIGINT, SIGTERM or SIGKILL.  The resumed
run must write the same model as a run that was never interrupted: the same
weights bit for bit, the same metadata (history included) and the same
scaling arrays.  The zip container also records file times, so the files
are compared entry by entry, not byte for byte.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import mlpnet
from mlpnet.io.model_file import load_model_file
from mlpnet.training.checkpoint import Checkpointer, load_checkpoint, stop_on_signals

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")

# Adam on shuffled mini-batches of 4 rows with a validation split.  An epoch
# takes about 4 ms, so the signal, sent after a few epoch lines, arrives long
# before the last epoch.  A resumed run writes a checkpoint after every epoch,
# which costs an fsync each, so the run is kept short.
EPOCHS = 250
TRAIN = ["train", "--dataset", "penguins", "--hidden", "32", "--batch-size", "4", "--epochs", str(EPOCHS),
         "--seed", "0"]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MLPNET_TRACEBACK"}


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlpnet", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=environment(),
    )


def start_cli(*args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mlpnet", *map(str, args)],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(),
    )


def wait_for_epoch_lines(process: subprocess.Popen, count: int) -> list[str]:
    lines = []
    while len(lines) < count:
        line = process.stderr.readline()
        assert line.startswith("epoch "), f"expected an epoch line, got {line!r}"
        lines.append(line)
    return lines


def assert_same_model(path: Path, reference: Path) -> None:
    ours, theirs = load_model_file(path), load_model_file(reference)
    assert ours.network.layer_sizes == theirs.network.layer_sizes
    assert ours.network.parameters.tobytes() == theirs.network.parameters.tobytes()
    assert ours.metadata == theirs.metadata
    assert sorted(ours.arrays) == sorted(theirs.arrays)
    for name in theirs.arrays:
        assert ours.arrays[name].tobytes() == theirs.arrays[name].tobytes(), name


@pytest.fixture(scope="module")
def straight_model(tmp_path_factory) -> Path:
    """The model of the same run without interruption."""
    folder = tmp_path_factory.mktemp("straight")
    result = run_cli(*TRAIN, "--quiet", "--out", "model.npz", cwd=folder)
    assert result.returncode == 0, result.stderr
    model = load_model_file(folder / "model.npz")
    assert model.metadata["training"]["epochs_run"] == EPOCHS
    return folder / "model.npz"


@pytest.mark.parametrize(("signal_number", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_model_and_checkpoint(tmp_path, straight_model, signal_number, exit_code):
    name = signal.Signals(signal_number).name
    model = tmp_path / "model.npz"
    model.write_bytes(b"the previous model")
    process = start_cli(*TRAIN, "--verbose", "--out", model.name, cwd=tmp_path)
    wait_for_epoch_lines(process, 3)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    error, help_line = lines[-2], lines[-1]
    assert error.startswith(f"mlpnet: error: interrupted by {name} after epoch ")
    epochs_done = int(error.split(" after epoch ")[1].split(" ")[0])
    assert 3 <= epochs_done < EPOCHS
    assert f"saved the model of epoch {epochs_done} to 'model.interrupted.npz'" in error
    assert "a checkpoint to 'model.checkpoint.npz'" in error
    expected_command = shlex.join(["mlpnet", *TRAIN, "--verbose", "--out", "model.npz",
                                   "--resume", "model.checkpoint.npz"])
    assert help_line == f"help: resume with: {expected_command}"

    # The existing model is untouched; the interrupted model and the checkpoint hold the last epoch.
    assert model.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.checkpoint.npz", "model.interrupted.npz", "model.npz"]
    interrupted = load_model_file(tmp_path / "model.interrupted.npz")
    assert interrupted.metadata["training"]["epochs_run"] == epochs_done
    assert interrupted.metadata["training"]["stop_reason"] == f"interrupted by {name}"
    restored, checkpoint = load_checkpoint(tmp_path / "model.checkpoint.npz")
    assert checkpoint.epoch == epochs_done
    assert restored.parameters.tobytes() == interrupted.network.parameters.tobytes()

    # The printed command, run as it is, finishes the run.
    command = shlex.split(help_line.removeprefix("help: resume with: "))
    assert command[0] == "mlpnet"
    resumed = run_cli(*command[1:], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_model(model, straight_model)


def test_sigkill_then_resume_from_periodic_checkpoint(tmp_path, straight_model):
    process = start_cli(*TRAIN, "--verbose", "--checkpoint", "run.ckpt.npz", "--out", "model.npz", cwd=tmp_path)
    wait_for_epoch_lines(process, 4)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL

    # The kill may land while a checkpoint is being written: the file is then the previous one.
    _, checkpoint = load_checkpoint(tmp_path / "run.ckpt.npz")
    assert 3 <= checkpoint.epoch < EPOCHS
    assert not (tmp_path / "model.npz").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "run.ckpt.npz"]
    assert all(name.startswith(".run.ckpt.npz.tmp") for name in leftovers), leftovers

    resumed = run_cli(*TRAIN, "--checkpoint", "run.ckpt.npz", "--resume", "run.ckpt.npz", "--quiet",
                      "--out", "model.npz", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_model(tmp_path / "model.npz", straight_model)
    assert load_checkpoint(tmp_path / "run.ckpt.npz")[1].epoch == EPOCHS


def test_second_signal_stops_at_once(tmp_path):
    # A full-batch epoch of a 2048-2048 network takes about half a second, so
    # both signals land in the same epoch.
    model = tmp_path / "model.npz"
    model.write_bytes(b"the previous model")
    process = start_cli("train", "--dataset", "penguins", "--hidden", "2048,2048", "--batch-size", "full",
                        "--epochs", "50", "--verbose", "--out", model.name, cwd=tmp_path)
    wait_for_epoch_lines(process, 1)
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "mlpnet: error: interrupted by SIGINT; the command stopped before saving its results"
    assert model.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


@pytest.mark.parametrize(("signal_number", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_while_reading_data_exits_at_once(tmp_path, signal_number, exit_code):
    # The data comes from a FIFO that this test opens for writing and never
    # writes to, so the command is certainly blocked reading it, before
    # training, when the signal arrives.
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    process = start_cli("train", fifo.name, "--target", "y", "--out", "model.npz", cwd=tmp_path)
    writer = None
    deadline = time.monotonic() + 60
    while writer is None:
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            # ENXIO: the command has not opened the FIFO for reading yet.
            assert time.monotonic() < deadline, "the command never opened its data file"
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
    try:
        time.sleep(0.2)
        process.send_signal(signal_number)
        _, stderr = process.communicate(timeout=60)
    finally:
        os.close(writer)

    name = signal.Signals(signal_number).name
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines() == [f"mlpnet: error: interrupted by {name}; the command stopped before saving its results"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


# -- invalid checkpoint options -------------------------------------------------------------


def error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[0]


@pytest.fixture(scope="module")
def short_checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("short")
    result = run_cli("train", "--dataset", "stackloss", "--epochs", "6", "--quiet", "--checkpoint", "run.npz",
                     "--out", "model.npz", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "run.npz"


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--learning-rate", "0.05", ["--learning-rate is 0.05", "but 0.01"]),
        ("--epochs", "7", ["--epochs is 7", "but 6"]),
        ("--hidden", "8", ["--hidden is [8]", "but [16]"]),
        ("--seed", "1", ["--seed is 1", "but 0"]),
        ("--optimizer", "rmsprop", ["--optimizer is 'rmsprop'", "but 'adam'"]),
        ("--no-standardize", None, ["--no-standardize is False", "but True"]),
        ("--features", "AIRFLOW,WATERTEMP", ["--features is ['AIRFLOW', 'WATERTEMP']"]),
    ],
)
def test_resume_with_other_option_exits_2(tmp_path, short_checkpoint, option, value, words):
    arguments = ["train", "--dataset", "stackloss", "--epochs", "6", "--quiet", "--out", "model.npz",
                 "--resume", short_checkpoint]
    if option == "--epochs":
        arguments[4] = value
    else:
        arguments += [option] if value is None else [option, value]
    result = run_cli(*arguments, cwd=tmp_path)

    line = error_line(result)
    assert f"cannot resume from {str(short_checkpoint)!r}" in line
    for word in words:
        assert word in line
    assert not (tmp_path / "model.npz").exists()


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--checkpoint-every", "2"], ["--checkpoint-every 2 applies only with --checkpoint or --resume"]),
        (["--checkpoint", "model.npz"], ["--out and the checkpoint are the same file"]),
        (["--checkpoint", "model.interrupted.npz"], ["the checkpoint and the model of an interrupted run"]),
        (["--checkpoint", "missing/run.npz"], ["does not exist"]),
        (["--resume", "absent.npz"], ["cannot load checkpoint file 'absent.npz': file not found"]),
        (["--checkpoint-every", "0", "--checkpoint", "run.npz"], ["--checkpoint-every"]),
    ],
)
def test_invalid_checkpoint_options_exit_2(tmp_path, arguments, words):
    result = run_cli("train", "--dataset", "stackloss", "--epochs", "3", "--quiet", "--out", "model.npz",
                     *arguments, cwd=tmp_path)
    line = error_line(result)
    for word in words:
        assert word in line
    assert list(tmp_path.iterdir()) == []


def test_resume_from_model_file_exits_2(tmp_path):
    assert run_cli("train", "--dataset", "stackloss", "--epochs", "2", "--quiet", "--out", "model.npz",
                   cwd=tmp_path).returncode == 0
    result = run_cli("train", "--dataset", "stackloss", "--epochs", "2", "--quiet", "--out", "other.npz",
                     "--resume", "model.npz", cwd=tmp_path)
    assert "it is a model file, not a training checkpoint" in error_line(result)


def test_checkpoint_is_refused_by_predict(tmp_path, short_checkpoint):
    data = Path(__file__).resolve().parents[1] / "src" / "mlpnet" / "datasets" / "stackloss.csv"
    result = run_cli("predict", short_checkpoint, data, cwd=tmp_path)
    assert "it is a training checkpoint, not a model" in error_line(result)


def test_stop_on_signals_in_library(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    path = tmp_path / "run.npz"
    checkpointer = Checkpointer(path, every=None)
    previous = signal.getsignal(signal.SIGINT)

    def press_ctrl_c(epoch, logs):
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    net = mlpnet.Network([3, 4, 1], seed=0)
    with stop_on_signals(checkpointer):
        history = net.fit(X, y, epochs=10, batch_size=8, callbacks=[press_ctrl_c], checkpoint=checkpointer)

    assert history.stop_reason == "interrupted by SIGINT"
    assert len(history) == 3
    assert checkpointer.stop_signal == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is previous
    restored, checkpoint = load_checkpoint(path)
    assert checkpoint.epoch == 3
    assert restored.parameters.tobytes() == net.parameters.tobytes()
