"""Data-parallel training of mlpnet networks on Dask arrays.

``Network.fit(X, Y)`` with X and Y as Dask arrays chunked by rows trains
with full-batch steps.  Each step sends the parameter vector to every
chunk, computes each chunk's share of the loss and gradient where the chunk
lives, and adds the shares on the client, where the usual optimizer
updates the parameters.  It runs on the active ``distributed.Client``, or
on Dask's local scheduler when there is none.  See docs/distributed.md.

The names below are imported on first use, so ``import mlpnet`` never
imports Dask:

* :func:`read_csv`: CSV part files as Dask arrays, with the strict reader's checks;
* :func:`column_stats` and :func:`fit_standardization`: per-column statistics;
* :func:`class_targets`: network targets from class labels, chunk by chunk;
* :func:`predict`: predictions of a network as a Dask array;
* :func:`connect` and :func:`local_cluster`: a client for a scheduler address
  or a cluster on this machine;
* :class:`SchedulerConnectionError` and :class:`DaskNotInstalledError`.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "read_csv": "reading",
    "DistributedDataset": "reading",
    "class_targets": "reading",
    "column_stats": "stats",
    "fit_standardization": "stats",
    "predict": "stats",
    "connect": "cluster",
    "local_cluster": "cluster",
    "SchedulerConnectionError": "errors",
    "DaskNotInstalledError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'mlpnet.distributed' has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, name)
