"""The error class of the command line's own checks."""

from __future__ import annotations

from ..errors import InvalidParameterError


class CommandLineError(InvalidParameterError):
    """An invalid command line: a bad option value, a missing argument or a conflict.

    Attributes
    ----------
    help : str or None
        A hint printed on a second line after the error, such as which option to use.
    """

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.help = help
