"""A client for an existing Dask scheduler, or a cluster on this machine."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import Any

from ..errors import InvalidParameterError
from ..signal_handlers import replaced_handler
from ..validation import check_positive_float
from .dependency import require_distributed
from .errors import SchedulerConnectionError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
"""Seconds to wait for a connection to the scheduler before raising an error."""

LOOPBACK = "127.0.0.1"


def connect(address: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Connect to a running Dask scheduler and make the client the default one.

    Parameters
    ----------
    address : str
        The scheduler address, such as ``tcp://10.0.0.5:8786``.
    timeout : float > 0, default 10
        Seconds to wait for the scheduler.

    Returns
    -------
    distributed.Client
        Close it when done (``client.close()``, or use it in a ``with`` block).

    Raises
    ------
    SchedulerConnectionError
        When no connection to a scheduler at the address succeeds within ``timeout`` seconds.
    InvalidParameterError
        For an address Dask cannot parse or a timeout that is not a positive number.
    """
    distributed = require_distributed()
    timeout = check_positive_float(timeout, "timeout")
    if not isinstance(address, str) or not address.strip():
        raise InvalidParameterError(f"the scheduler address must be text such as 'tcp://HOST:8786', got {address!r}")
    logger.info("connecting to the Dask scheduler at %s (timeout %g s)", address, timeout)
    try:
        # A client made with set_as_default=True registers itself as the
        # default and sets Dask's scheduler setting before it connects, and
        # distributed 2026.8 undoes neither when the connection fails.  So a
        # probe client that changes no global state connects first.
        distributed.Client(address, timeout=timeout, set_as_default=False).close()
        return distributed.Client(address, timeout=timeout, set_as_default=True)
    except OSError as exc:
        raise SchedulerConnectionError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}); check that the "
            f"scheduler is running ('dask scheduler' prints its address) and that this machine can reach "
            f"that host and port, or allow more time",
            address=address,
            timeout=timeout,
        ) from exc
    except ValueError as exc:
        raise InvalidParameterError(
            f"invalid Dask scheduler address {address!r} ({exc}); use the form tcp://HOST:PORT"
        ) from exc


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process while the block runs, so that processes started in it ignore it too.

    A process inherits an ignored signal, and Python then installs no
    KeyboardInterrupt handler of its own.  Outside the main thread, where no
    handler can be set, nothing changes.
    """
    with replaced_handler(signal.SIGINT, signal.SIG_IGN):
        yield


@contextlib.contextmanager
def local_cluster(
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    processes: bool = True,
    **cluster_options: Any,
) -> Iterator[Any]:
    """Start a Dask cluster on this machine and yield its client; close both on exit.

    The scheduler, the workers and the dashboard listen on 127.0.0.1 only
    (the dashboard on a free port), over TCP also for thread workers, so
    nothing is reachable from other machines.  Worker processes ignore
    SIGINT, so Ctrl-C reaches only this process.  A worker that the nanny
    restarts later does not ignore it.

    Parameters
    ----------
    n_workers, threads_per_worker : int, optional
        Dask's defaults split this machine's cores between worker processes.
    processes : bool, default True
        Run the workers as separate processes; False runs them as threads here.
    **cluster_options
        Passed on to ``distributed.LocalCluster``.

    Yields
    ------
    distributed.Client
        The default client while the block runs.
    """
    distributed = require_distributed()
    # TCP even for thread workers, whose default in-process transport takes no host.
    options = {"host": LOOPBACK, "protocol": "tcp://", "dashboard_address": f"{LOOPBACK}:0", **cluster_options}
    # Ctrl-C in a terminal sends SIGINT to every process of the foreground
    # group.  Worker processes that received it would shut down for good, and
    # the client would wait for them forever, so they are started ignoring it:
    # only this process gets the signal, and it can stop training cleanly.
    with sigint_ignored():
        cluster = distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes, **options
        )
    with cluster:
        logger.info("started a local Dask cluster at %s", cluster.scheduler_address)
        with distributed.Client(cluster, set_as_default=True) as client:
            yield client
        logger.info("stopped the local Dask cluster at %s", cluster.scheduler_address)
