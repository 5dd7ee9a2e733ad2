"""Invalid options, missing optional dependencies, divergence and interruption, through `python -m mlpnet`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mlpnet.cli.main import main


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "MLPNET_TRACEBACK"}
    return subprocess.run(
        [sys.executable, "-m", "mlpnet", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=environment,
    )


def error_lines(result: subprocess.CompletedProcess, code: int) -> list[str]:
    """Check the exit code and the one-line error format; return the stderr lines."""
    assert result.returncode == code, f"exit {result.returncode}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("mlpnet: error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("help: ")), result.stderr
    return lines


BAD_OPTIONS = {
    "unknown_dataset": (["--dataset", "iris"], ["unknown dataset 'iris'", "penguins"]),
    "hidden_not_a_number": (["--dataset", "stackloss", "--hidden", "16,x"], ["--hidden", "'16,x'", "'x'"]),
    "hidden_zero": (["--dataset", "stackloss", "--hidden", "0"], ["--hidden", "'0'"]),
    "negative_learning_rate": (["--dataset", "stackloss", "--learning-rate", "-0.1"], ["--learning-rate", "'-0.1'", "> 0"]),
    "learning_rate_nan": (["--dataset", "stackloss", "--learning-rate", "nan"], ["--learning-rate", "finite"]),
    "unknown_activation": (["--dataset", "stackloss", "--activation", "swish"], ["unknown activation 'swish'", "relu"]),
    "softmax_hidden": (["--dataset", "stackloss", "--activation", "softmax"], ["softmax", "output layer"]),
    "unknown_loss": (["--dataset", "stackloss", "--loss", "hinge"], ["unknown loss 'hinge'"]),
    "unknown_optimizer": (["--dataset", "stackloss", "--optimizer", "lbfgs"], ["--optimizer", "'lbfgs'"]),
    "zero_epochs": (["--dataset", "stackloss", "--epochs", "0"], ["--epochs", "'0'"]),
    "validation_fraction_one": (["--dataset", "stackloss", "--validation-fraction", "1"], ["--validation-fraction", "[0, 1)"]),
    "loss_conflicts_with_task": (["--dataset", "stackloss", "--loss", "mse", "--task", "classification"],
                                 ["--loss mse", "regression"]),
    "binary_loss_three_classes": (["--dataset", "penguins", "--loss", "binary_crossentropy"],
                                  ["binary_crossentropy needs two classes", "3"]),
    "loss_output_mismatch": (["--dataset", "penguins", "--output-activation", "sigmoid"], ["softmax", "sigmoid"]),
    "unknown_target": (["--dataset", "stackloss", "--target", "YIELD"], ["'YIELD'", "STACKLOSS"]),
    "no_data": ([], ["no training data"]),
    "data_and_dataset": (["data.csv", "--dataset", "stackloss"], ["not both"]),
    "missing_data_file": (["missing.csv"], ["missing.csv"]),
    "verbose_and_quiet": (["--dataset", "stackloss", "--verbose", "--quiet"], ["--quiet", "--verbose"]),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_train_option_exits_2(tmp_path, case):
    arguments, fragments = BAD_OPTIONS[case]
    # A later option wins in argparse, so the case's own --epochs overrides this one.
    result = run_cli("train", "--epochs", "2", "--out", "model.npz", *arguments, cwd=tmp_path)
    first = error_lines(result, 2)[0]
    for fragment in fragments:
        assert fragment in first, f"{fragment!r} not in {first!r}"
    assert not (tmp_path / "model.npz").exists()


def test_out_in_missing_folder_fails_before_training(tmp_path):
    result = run_cli("train", "--dataset", "stackloss", "--verbose", "--out", tmp_path / "nowhere" / "m.npz",
                     cwd=tmp_path)
    first = error_lines(result, 2)[0]
    assert "nowhere" in first
    assert "does not exist" in first
    assert "epoch" not in result.stderr


def test_plot_in_missing_folder_fails_before_training(tmp_path):
    result = run_cli("train", "--dataset", "stackloss", "--verbose", "--out", "m.npz",
                     "--plot", tmp_path / "nowhere" / "loss.png", cwd=tmp_path)
    assert "nowhere" in error_lines(result, 2)[0]
    assert "epoch" not in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_plot_without_matplotlib_names_the_extra(tmp_path):
    # Setting sys.modules["matplotlib"] to None makes every import of it raise ImportError.
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "from mlpnet.cli.main import main; "
        "sys.exit(main(['train', '--dataset', 'stackloss', '--verbose', '--out', 'm.npz', '--plot', 'loss.png']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    lines = error_lines(result, 2)
    assert "matplotlib" in lines[0]
    assert "pip install 'mlpnet[plot]'" in result.stderr
    assert "epoch" not in result.stderr
    assert not (tmp_path / "m.npz").exists()
    assert not (tmp_path / "loss.png").exists()


DIVERGING = ["--dataset", "stackloss", "--no-standardize", "--hidden", "3", "--activation", "identity",
             "--optimizer", "gd", "--learning-rate", "5", "--batch-size", "full", "--epochs", "100", "--quiet"]


def test_divergence_exits_1_and_keeps_existing_model(tmp_path):
    model = tmp_path / "model.npz"
    model.write_bytes(b"the previous model")

    result = run_cli("train", *DIVERGING, "--out", model, cwd=tmp_path)

    lines = error_lines(result, 1)
    assert "diverged in epoch" in lines[0]
    assert "learning" in lines[0]
    assert lines[1] == "help: no model was written; use a smaller --learning-rate than 5 or drop --no-standardize"
    assert model.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_divergence_names_epoch_as_progress_counts(tmp_path):
    options = [option for option in DIVERGING if option != "--quiet"]
    result = run_cli("train", *options, "--verbose", "--out", "model.npz", cwd=tmp_path)

    progress = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    last_finite = int(progress[-1].split()[1].split("/")[0])
    message = [line for line in result.stderr.splitlines() if line.startswith("mlpnet: error:")]
    assert result.returncode == 1
    assert len(message) == 1
    assert f"training diverged in epoch {last_finite + 1}:" in message[0]


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT, which Windows processes do not receive")
def test_interrupt_exits_130_and_keeps_existing_model(tmp_path):
    model = tmp_path / "model.npz"
    model.write_bytes(b"the previous model")
    environment = {k: v for k, v in os.environ.items() if k != "MLPNET_TRACEBACK"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpnet", "train", "--dataset", "penguins", "--epochs", "1000000",
         "--verbose", "--out", str(model)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )
    # Wait until training runs, then press Ctrl-C.
    first_line = process.stderr.readline()
    assert first_line.startswith("epoch "), first_line
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "mlpnet: error: interrupted" in stderr
    assert model.read_bytes() == b"the previous model"
    # The last completed epoch goes to siblings of the output, never over it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.checkpoint.npz",
        "model.interrupted.npz",
        "model.npz",
    ]


def test_main_returns_exit_code_in_process(capsys):
    assert main(["train", "--hidden", "16,x", "--out", "m.npz"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("mlpnet: error: argument --hidden")
    assert main(["--version"]) == 0


def test_predict_out_into_missing_folder_exits_2(tmp_path):
    result = run_cli("predict", "model.npz", "data.csv", "--out", tmp_path / "nowhere" / "p.csv", cwd=tmp_path)
    assert "nowhere" in error_lines(result, 2)[0]


def test_explain_rejects_model_without_data(tmp_path):
    result = run_cli("explain", "--model", "model.npz", cwd=tmp_path)
    assert "--model and --data go together" in error_lines(result, 2)[0]
