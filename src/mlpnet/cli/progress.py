"""Training progress on stderr, drawn from the training loop's per-epoch callback hook."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ..training.callbacks import Callback


def progress_mode(quiet: bool, verbose: bool, stream: TextIO) -> str:
    """Choose "none" (--quiet), "lines" (--verbose, or stderr is not a terminal) or "bar"."""
    if quiet:
        return "none"
    if verbose or not stream.isatty():
        return "lines"
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return "lines"
    return "bar"


def format_records(logs: dict[str, float]) -> str:
    """Write an epoch's records as ``loss 0.123 val_loss 0.145``, learning rate last."""
    keys = [key for key in logs if key != "learning_rate"] + ["learning_rate"]
    return "  ".join(f"{key} {logs[key]:.6g}" for key in keys if key in logs)


class EpochProgress(Callback):
    """Report each epoch: a tqdm progress bar, one plain line per epoch, or nothing.

    Parameters
    ----------
    mode : {"bar", "lines", "none"}
    total_epochs : int
        The number of epochs requested, for the bar's length and "epoch k/N".
    stream : text file, default sys.stderr
    """

    def __init__(self, mode: str, total_epochs: int, stream: TextIO | None = None):
        self.mode = mode
        self.total_epochs = total_epochs
        self.stream = stream if stream is not None else sys.stderr
        self.bar = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if self.mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(total=self.total_epochs, unit="epoch", desc="training", file=self.stream)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.mode == "lines":
            width = len(str(self.total_epochs))
            print(f"epoch {epoch + 1:{width}d}/{self.total_epochs}  {format_records(logs)}", file=self.stream)
        elif self.bar is not None:
            losses = {key: f"{value:.4g}" for key, value in logs.items() if key in ("loss", "val_loss")}
            self.bar.set_postfix(losses, refresh=False)
            self.bar.update(1)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.close()

    def close(self) -> None:
        """Close the progress bar; safe to call more than once, and after a failed fit."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
