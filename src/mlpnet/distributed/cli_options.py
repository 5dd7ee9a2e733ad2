"""The options of ``mlpnet train --dask``, kept apart so that parsing the command line imports no Dask."""

from __future__ import annotations

from ..cli.errors import CommandLineError
from .cluster import DEFAULT_TIMEOUT

LOCAL = "local"


def dask_address(text: str) -> str:
    """Check the value of --dask: "local" or a scheduler address such as tcp://HOST:8786."""
    value = text.strip()
    if value == LOCAL or "://" in value:
        return value
    raise CommandLineError(
        f"--dask must be 'local' or a scheduler address such as tcp://10.0.0.5:8786, got {text!r}",
        help="start a scheduler with 'dask scheduler', which prints its address",
    )


def add_dask_options(parser) -> None:
    """Add --dask, --dask-workers and --dask-timeout to the parser of ``mlpnet train``."""
    from ..cli.parser import option_type, positive_float, positive_int

    group = parser.add_argument_group(
        "Dask",
        description="Train data-parallel on a Dask cluster: DATA.csv may then be a glob such as "
        "'data/part-*.csv' (quote it), each file is read where a worker runs, and every step is "
        "a full-batch step. Needs pip install 'mlpnet[dask]'.",
    )
    group.add_argument(
        "--dask", type=option_type(dask_address), metavar="local|tcp://HOST:PORT",
        help="'local' starts a cluster on this machine, listening on 127.0.0.1 only; an address "
        "connects to a running scheduler whose workers can read DATA.csv at the same path "
        "(default: train in this process without Dask)",
    )
    group.add_argument(
        "--dask-workers", type=positive_int, metavar="N",
        help="worker processes of --dask local (default: Dask's choice for this machine's cores)",
    )
    group.add_argument(
        "--dask-timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"seconds to wait for the scheduler of --dask ADDRESS (default: {DEFAULT_TIMEOUT:g})",
    )
