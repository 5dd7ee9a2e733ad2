"""Exception and warning classes raised by mlpnet.

Every error a user can cause by passing bad input derives from
:class:`MlpnetError`; the command line turns those into a one-line message
and exit code 2.
"""

from __future__ import annotations


class MlpnetError(Exception):
    """Base class of every error that bad user input can cause."""


class InvalidParameterError(MlpnetError, ValueError):
    """A parameter such as a layer size, an activation name or a learning rate is invalid."""


class InvalidDataError(MlpnetError, ValueError):
    """Input data has the wrong shape, a wrong type, or NaN or infinite entries."""


class ModelFormatError(MlpnetError, ValueError):
    """A model file is damaged, incomplete, or of an unsupported format version."""


class DivergenceError(MlpnetError, ArithmeticError):
    """Training produced a non-finite loss or gradient and was stopped.

    Attributes
    ----------
    epoch : int
        The 0-based epoch in which the first non-finite value appeared.
    last_finite_loss : float or None
        The last finite training loss recorded before divergence, or None
        when the very first loss was already non-finite.
    history : History or None
        The records of the epochs completed before divergence, when raised
        by :func:`mlpnet.training.fit`.
    """

    def __init__(self, message: str, epoch: int, last_finite_loss: float | None):
        super().__init__(message)
        self.epoch = epoch
        self.last_finite_loss = last_finite_loss
        self.history = None
