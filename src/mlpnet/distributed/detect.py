"""Recognize Dask input without importing Dask.

The training loop calls :func:`data_parallel_backend` on every fit call, so
this module imports nothing from Dask: a Dask collection can only exist when
the caller has imported Dask already.
"""

from __future__ import annotations

import sys
from typing import Any


def is_dask_collection(value: Any) -> bool:
    """Return True for a Dask array, DataFrame, Series or other Dask collection."""
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection as dask_check

    return bool(dask_check(value))


def has_dask_input(X: Any, Y: Any, validation_data: Any = None, sample_weight: Any = None) -> bool:
    """Return True when the training data, its weights or the validation data contain a Dask collection."""
    values = [X, Y, sample_weight]
    if isinstance(validation_data, (tuple, list)):
        values.extend(validation_data)
    return any(is_dask_collection(value) for value in values)


def data_parallel_backend(X: Any, Y: Any, validation_data: Any = None, sample_weight: Any = None):
    """Return the backend that trains on Dask input, or None for in-memory input.

    The backend (:class:`mlpnet.distributed.training.DaskBackend`) runs on the
    active ``distributed.Client`` when there is one, else on Dask's local
    scheduler.
    """
    if not has_dask_input(X, Y, validation_data, sample_weight):
        return None
    from .training import DaskBackend

    return DaskBackend.for_current_scheduler()
