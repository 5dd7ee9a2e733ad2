"""Temporary signal handlers that are restored when a block ends."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

Handler = Callable[[int, Any], Any] | int | signal.Handlers
"""A handler function, or ``signal.SIG_IGN`` or ``signal.SIG_DFL``."""


@contextlib.contextmanager
def replaced_handler(signal_number: int, handler: Handler) -> Iterator[bool]:
    """Install ``handler`` for ``signal_number`` while the block runs, then restore the previous handler.

    Yields True when the handler was installed.  Python can install handlers
    only in the main thread, so elsewhere nothing changes and it yields False.
    """
    try:
        previous = signal.signal(signal_number, handler)
    except ValueError:
        yield False
        return
    try:
        yield True
    finally:
        signal.signal(signal_number, previous)
