"""Entry point of the ``mlpnet`` command: parse, dispatch, and turn errors into exit codes.

Exit codes:

* 0: success.
* 2: invalid usage or input.  These are the :class:`~mlpnet.errors.MlpnetError`
  errors other than divergence: bad options, unreadable CSV cells, damaged
  model files and missing input files.  The output is one line
  ``mlpnet: error: MESSAGE``, optionally followed by a ``help: ...`` line.
* 1: any other failure, training divergence included, in the same format.
* 130: interrupted by Ctrl-C (SIGINT); 143: terminated by SIGTERM.  During
  ``mlpnet train`` the first signal stops training after the current epoch
  and saves the model and a checkpoint to resume from (see
  docs/reliability.md).  Anywhere else, or on a second signal, the command
  stops at once.  Files are written atomically, so an existing file is
  either replaced completely or left unchanged.

No traceback is printed unless the environment variable MLPNET_TRACEBACK is
set to 1.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence

from ..errors import DivergenceError, MlpnetError
from ..signal_handlers import replaced_handler
from .parser import build_parser

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class TerminationRequest(KeyboardInterrupt):
    """Raised by the SIGTERM handler, so a terminated command unwinds like one stopped by Ctrl-C."""

    exit_code = EXIT_TERMINATED
    signal_name = "SIGTERM"

TRACEBACK_VARIABLE = "MLPNET_TRACEBACK"


def print_error(message: str, help: str | None = None) -> None:
    """Print ``mlpnet: error: MESSAGE`` (one line) and an optional ``help:`` line to stderr."""
    one_line = str(message).replace("\r", " ").replace("\n", " ")
    print(f"mlpnet: error: {one_line}", file=sys.stderr)
    if help:
        print(f"help: {help}", file=sys.stderr)


def configure_logging(args) -> None:
    """Send the library's log records to stderr: warnings by default, info with --verbose."""
    level = logging.WARNING
    if getattr(args, "verbose", False):
        level = logging.INFO
    if getattr(args, "quiet", False):
        level = logging.ERROR

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mlpnet: %(levelname)s: %(message)s"))
    logger = logging.getLogger("mlpnet")
    logger.handlers = [handler]
    logger.setLevel(level)
    logger.propagate = False


def raise_termination_request(signal_number: int, frame) -> None:
    raise TerminationRequest


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into :class:`TerminationRequest` while the command runs, then restore the handler.

    Python's default for SIGTERM ends the process at once, skipping the
    removal of temporary files and the exit code of 143 that callers
    expect.  Outside the main thread no handler can be installed, and
    nothing changes.
    """
    with replaced_handler(signal.SIGTERM, raise_termination_request):
        yield


def run_command(args) -> int:
    module_name, function_name = args.handler.split(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    return getattr(module, function_name)(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlpnet`` with the given arguments (default: sys.argv[1:]) and return the exit code."""
    show_traceback = os.environ.get(TRACEBACK_VARIABLE) == "1"
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(arguments)
        args.argv = arguments
        configure_logging(args)
        with sigterm_unwinds():
            return run_command(args)

    except SystemExit as exc:
        # argparse exits this way after --help and --version.
        return exc.code if isinstance(exc.code, int) else EXIT_OK

    except DivergenceError as exc:
        if show_traceback:
            raise
        print_error(getattr(exc, "cli_message", str(exc)), getattr(exc, "help", None))
        return EXIT_FAILURE

    except MlpnetError as exc:
        if show_traceback:
            raise
        print_error(str(exc), getattr(exc, "help", None))
        return EXIT_USAGE

    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        if show_traceback:
            raise
        path = exc.filename if exc.filename is not None else ""
        print_error(f"cannot open {path!s}: {exc.strerror}", "check the path and its permissions")
        return EXIT_USAGE

    except KeyboardInterrupt as exc:
        name = getattr(exc, "signal_name", "SIGINT")
        print_error(f"interrupted by {name}; the command stopped before saving its results")
        return getattr(exc, "exit_code", EXIT_INTERRUPTED)

    except BrokenPipeError:
        # The reader of stdout went away (as in `mlpnet predict ... | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE

    except Exception as exc:  # noqa: BLE001 - the command's last line of defense
        if show_traceback:
            raise
        print_error(
            f"unexpected failure: {type(exc).__name__}: {exc}",
            f"set {TRACEBACK_VARIABLE}=1 to see the traceback, and report it as a bug",
        )
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
