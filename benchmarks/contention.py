"""How much CPU other processes took while a measurement ran.

On a machine with few cores, one other busy process is enough to stall the
thread pools of BLAS and OpenMP, whose threads wait for each other at every
parallel region, and a run can take many times longer.  The runner waits for
an idle machine before each measurement and repeats a measurement during
which other processes kept a noticeable share of a core busy.
"""

from __future__ import annotations

import time

import psutil

CONTENDED_CORES = 0.1
"""A measurement is contended when other processes kept more than this many cores busy on average."""


def busy_seconds() -> float:
    """Return the CPU seconds, summed over cores, that the whole machine has spent busy (steal included)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0) - getattr(
        times, "guest_nice", 0.0
    )


def own_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class CpuContention:
    """Context manager: the average number of cores other processes kept busy during its block.

    ``/proc/stat`` counts in ticks of 10 ms, so a block shorter than about
    a second reads with an error of a few hundredths of a core.

    Attributes
    ----------
    other_cores : float
        The CPU seconds of the machine minus those of this process, divided
        by the wall-clock seconds of the block.
    """

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.other_cores = 0.0

    def __enter__(self) -> CpuContention:
        self._machine = busy_seconds()
        self._own = own_seconds(self.process)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        wall = time.perf_counter() - self._start
        machine = busy_seconds() - self._machine
        own = own_seconds(self.process) - self._own
        self.other_cores = max(0.0, machine - own) / wall if wall > 0 else 0.0


def wait_for_idle(threshold_cores: float = CONTENDED_CORES, window_s: float = 0.5, timeout_s: float = 60.0) -> float:
    """Wait until the machine's busy cores over ``window_s`` stay below ``threshold_cores``.

    Returns the busy cores of the last window.  After ``timeout_s`` it
    stops waiting and returns the last reading, so a busy machine slows the
    suite down but never stops it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        before = busy_seconds()
        time.sleep(window_s)
        busy = (busy_seconds() - before) / window_s
        if busy < threshold_cores or time.monotonic() >= deadline:
            return busy
