"""Import Dask on first use, with an error that names the install command when it is missing."""

from __future__ import annotations

from types import ModuleType

from .errors import DaskNotInstalledError

INSTALL_HINT = "install it with: pip install 'mlpnet[dask]'"


def require_dask() -> tuple[ModuleType, ModuleType]:
    """Return the modules ``dask`` and ``dask.array``.

    Raises
    ------
    DaskNotInstalledError
        If Dask or its array module cannot be imported.
    """
    try:
        import dask
        import dask.array
    except ImportError as exc:
        raise DaskNotInstalledError(
            f"distributed training needs Dask ({exc}); {INSTALL_HINT}"
        ) from exc
    return dask, dask.array


def require_distributed() -> ModuleType:
    """Return the module ``distributed``, the Dask cluster scheduler.

    Raises
    ------
    DaskNotInstalledError
        If ``distributed`` cannot be imported.
    """
    try:
        import distributed
    except ImportError as exc:
        raise DaskNotInstalledError(
            f"running on a Dask cluster needs the package distributed ({exc}); {INSTALL_HINT}"
        ) from exc
    return distributed
