"""Errors of distributed training."""

from __future__ import annotations

from ..errors import MlpnetError


class DaskNotInstalledError(MlpnetError, ImportError):
    """Dask input or a distributed function was used, but Dask or distributed is not installed."""


class SchedulerConnectionError(MlpnetError, ConnectionError):
    """The Dask scheduler could not be reached within the connection timeout.

    Attributes
    ----------
    address : str
        The scheduler address that was tried, such as ``tcp://10.0.0.5:8786``.
    timeout : float
        The connection timeout in seconds.
    """

    def __init__(self, message: str, address: str = "", timeout: float = 0.0):
        super().__init__(message)
        self.address = address
        self.timeout = timeout

    def __reduce__(self):
        return type(self), (str(self), self.address, self.timeout)
