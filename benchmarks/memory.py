"""Peak resident memory of this process during a block of code.

On Linux, writing "5" to ``/proc/self/clear_refs`` resets the kernel's
high-water mark of the resident set (``VmHWM`` in ``/proc/self/status``),
so the mark read after the block is the exact peak during it.  Where that
reset is not allowed, a thread polls the resident set size with psutil
every few milliseconds instead, which can miss a peak shorter than the
interval.
"""

from __future__ import annotations

import threading
import time

import psutil

POLL_INTERVAL_S = 0.002


def read_status_kib(field: str) -> int | None:
    """Return a ``/proc/self/status`` field such as VmHWM in KiB, or None where it does not exist."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_high_water_mark() -> bool:
    """Reset the kernel's peak-RSS mark of this process; return whether that worked."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return read_status_kib("VmHWM") is not None


class PeakMemory:
    """Context manager that measures the peak RSS of this process inside its block.

    Attributes
    ----------
    rss_before : int
        Resident set size in bytes just before the block.
    peak_rss : int
        The largest resident set size in bytes during the block.
    method : str
        "VmHWM" (the kernel's exact mark) or "polling".
    """

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.rss_before = 0
        self.peak_rss = 0
        self.method = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def added(self) -> int:
        """The peak during the block minus the RSS just before it, in bytes."""
        return self.peak_rss - self.rss_before

    def __enter__(self) -> PeakMemory:
        self.rss_before = self.process.memory_info().rss
        self.peak_rss = self.rss_before
        if reset_high_water_mark():
            self.method = "VmHWM"
        else:
            self.method = "polling"
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        else:
            self.peak_rss = max(self.peak_rss, read_status_kib("VmHWM") * 1024)
        self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            time.sleep(POLL_INTERVAL_S)
