"""``--plot``: the training and validation loss curves as a PNG file."""

from __future__ import annotations

from ..io.atomic import atomic_write
from .errors import CommandLineError

INSTALL_HINT = "pip install 'mlpnet[plot]'"


def check_plotting_available() -> None:
    """Raise CommandLineError if matplotlib cannot be imported; run before training starts."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise CommandLineError(
            f"--plot needs matplotlib, which is not installed ({exc})",
            help=f"install it with: {INSTALL_HINT}, or leave out --plot",
        ) from exc


def write_loss_plot(path: str, loss: list[float], val_loss: list[float], title: str) -> None:
    """Draw loss per epoch (and validation loss, if any) and write the PNG atomically.

    Uses matplotlib's object interface with the Agg canvas, so no display and
    no global pyplot state are involved.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = range(1, len(loss) + 1)
    axes.plot(epochs, loss, label="training loss")
    if val_loss:
        axes.plot(range(1, len(val_loss) + 1), val_loss, label="validation loss")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    if loss and min(loss + val_loss) > 0:
        axes.set_yscale("log")
    axes.set_title(title)
    axes.legend()
    axes.grid(True, alpha=0.3)
    figure.tight_layout()

    atomic_write(path, lambda handle: figure.savefig(handle, format="png"))
