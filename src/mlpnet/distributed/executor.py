"""Executors that run chunk functions on a ``distributed`` cluster or on Dask's local scheduler.

Both executors offer the same operations on a list of chunk handles:

* :meth:`persist`: compute a list of delayed chunks and keep them where they
  were computed, returning one handle per chunk;
* :meth:`map`: call a function once per chunk and return the results, in
  chunk order, to the client;
* :meth:`derive`: call a function once per chunk and keep the results as new
  chunks;
* :meth:`compute`: compute a list of delayed objects and return the results.

On a cluster a handle is a ``distributed.Future``: the chunk stays in worker
memory, and the scheduler keeps the graph that produced it, so a chunk lost
with a worker is recomputed.  On the local scheduler a handle is the chunk
itself, in this process, and each call runs through ``dask.compute`` on
delayed calls, by default on Dask's thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .chunk_steps import release_worker_steps
from .dependency import require_dask

logger = logging.getLogger(__name__)

LOCAL_SCHEDULERS = frozenset(
    {"sync", "synchronous", "single-threaded", "threads", "threading", "processes", "multiprocessing"}
)
"""Values of the Dask setting ``scheduler`` that select a scheduler in this process."""

SCATTER_BYTES = 1 << 20
"""Array arguments of at least this size (1 MiB) are sent to each worker once per call,
instead of once per chunk inside each task."""


class LocalExecutor:
    """Run chunk functions with ``dask.compute`` in this process; chunks are kept in memory here."""

    description = "Dask's local scheduler"

    def persist(self, tasks: Sequence[Any]) -> list[Any]:
        return self.compute(tasks)

    def compute(self, tasks: Sequence[Any]) -> list[Any]:
        dask, _ = require_dask()
        return list(dask.compute(*tasks))

    def map(self, function: Callable, handles: Sequence[Any], **arguments: Any) -> list[Any]:
        dask, _ = require_dask()
        calls = [dask.delayed(function, pure=False)(handle, **arguments) for handle in handles]
        return list(dask.compute(*calls))

    def derive(self, function: Callable, handles: Sequence[Any], extras: Sequence[Any]) -> list[Any]:
        dask, _ = require_dask()
        calls = [dask.delayed(function, pure=False)(handle, extra) for handle, extra in zip(handles, extras)]
        return list(dask.compute(*calls))


    def release_worker_steps(self) -> None:
        release_worker_steps()


class ClusterExecutor:
    """Run chunk functions on the workers of a ``distributed.Client``; chunks stay in worker memory."""

    def __init__(self, client: Any):
        self.client = client

    @property
    def description(self) -> str:
        return f"the Dask cluster at {self.client.scheduler.address}"

    def persist(self, tasks: Sequence[Any]) -> list[Any]:
        return list(self.client.compute(list(tasks)))

    def compute(self, tasks: Sequence[Any]) -> list[Any]:
        return self.client.gather(self.client.compute(list(tasks)))

    def map(self, function: Callable, handles: Sequence[Any], **arguments: Any) -> list[Any]:
        arguments = self.scatter_large(arguments)
        # One map call sends every task to the scheduler in one message.
        futures = self.client.map(function, list(handles), pure=False, **arguments)
        return self.client.gather(futures)

    def derive(self, function: Callable, handles: Sequence[Any], extras: Sequence[Any]) -> list[Any]:
        return self.client.map(function, list(handles), list(extras), pure=False)

    def release_worker_steps(self) -> None:
        try:
            self.client.run(release_worker_steps)
        except Exception as exc:  # noqa: BLE001 - freeing buffers is best effort; training already ended
            logger.warning("could not free the step buffers of the workers at %s: %s", self.client.scheduler.address, exc)

    def scatter_large(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Replace large array arguments with futures of copies already on every worker."""
        scattered = dict(arguments)
        for key, value in arguments.items():
            if isinstance(value, np.ndarray) and value.nbytes >= SCATTER_BYTES:
                scattered[key] = self.client.scatter(value, broadcast=True, hash=False)
        return scattered


def active_client() -> Any | None:
    """Return the default ``distributed.Client``, or None when there is none or distributed is not installed."""
    try:
        import distributed
    except ImportError:
        return None
    try:
        return distributed.default_client()
    except ValueError:
        return None


def current_executor() -> LocalExecutor | ClusterExecutor:
    """Choose where chunk functions run, as ``dask.compute`` would.

    A local scheduler set in Dask's configuration (such as
    ``dask.config.set(scheduler="synchronous")``) wins; otherwise the active
    ``distributed.Client`` is used when there is one, else the local scheduler.
    """
    dask, _ = require_dask()
    scheduler = dask.config.get("scheduler", None)
    if isinstance(scheduler, str) and scheduler in LOCAL_SCHEDULERS:
        executor: LocalExecutor | ClusterExecutor = LocalExecutor()
    else:
        client = active_client()
        executor = LocalExecutor() if client is None else ClusterExecutor(client)
    logger.debug("running chunk functions on %s", executor.description)
    return executor
