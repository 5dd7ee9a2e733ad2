"""The training progress display: mode choice, per-epoch lines and the tqdm bar, with real tqdm."""

from __future__ import annotations

import io

from mlpnet.cli.progress import EpochProgress, format_records, progress_mode


class TerminalStream(io.StringIO):
    """A text buffer that reports itself as a terminal."""

    def isatty(self) -> bool:
        return True


def test_mode_follows_options_and_terminal():
    assert progress_mode(quiet=False, verbose=False, stream=TerminalStream()) == "bar"
    assert progress_mode(quiet=False, verbose=False, stream=io.StringIO()) == "lines"
    assert progress_mode(quiet=False, verbose=True, stream=TerminalStream()) == "lines"
    assert progress_mode(quiet=True, verbose=False, stream=TerminalStream()) == "none"


def test_lines_mode_prints_each_epoch():
    stream = io.StringIO()
    progress = EpochProgress("lines", total_epochs=12, stream=stream)
    progress.on_train_begin({})
    progress.on_epoch_end(0, {"loss": 0.5, "learning_rate": 0.01, "val_loss": 0.25})
    progress.on_epoch_end(11, {"loss": 0.125, "learning_rate": 0.01})
    progress.on_train_end({})
    assert stream.getvalue().splitlines() == [
        "epoch  1/12  loss 0.5  val_loss 0.25  learning_rate 0.01",
        "epoch 12/12  loss 0.125  learning_rate 0.01",
    ]


def test_bar_mode_draws_tqdm_bar():
    stream = TerminalStream()
    progress = EpochProgress("bar", total_epochs=3, stream=stream)
    progress.on_train_begin({})
    for epoch in range(3):
        progress.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "learning_rate": 0.1})
    progress.close()
    progress.close()
    output = stream.getvalue()
    assert "training" in output
    assert "3/3" in output
    assert "loss=0.3333" in output


def test_none_mode_prints_nothing():
    stream = TerminalStream()
    progress = EpochProgress("none", total_epochs=2, stream=stream)
    progress.on_train_begin({})
    progress.on_epoch_end(0, {"loss": 1.0, "learning_rate": 0.1})
    progress.on_train_end({})
    assert stream.getvalue() == ""


def test_records_put_learning_rate_last():
    assert format_records({"learning_rate": 0.1, "loss": 2.0, "val_mae": 0.5}) == "loss 2  val_mae 0.5  learning_rate 0.1"
