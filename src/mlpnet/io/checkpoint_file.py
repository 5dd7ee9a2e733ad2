"""Checkpoint files: a network and its training state in the model-file archive layout.

A checkpoint is a zip of ``.npy`` entries exactly like a model file (see
docs/model-format.md), with ``format`` set to ``"mlpnet-checkpoint"`` and one
more metadata field, ``checkpoint``: a JSON object holding the training
state.  Its fields are listed in docs/reliability.md.  Loading applies every
check of a model file (sizes before allocation, shapes, dtypes, checksums,
finite values) and then :class:`FieldReader` checks the ``checkpoint``
object field by field, so every problem raises :class:`ModelFormatError`.

JSON has no NaN, no infinity and, in many readers, no integers beyond 2**53,
so the checkpoint object writes NaN and infinity as the strings ``"nan"``,
``"inf"`` and ``"-inf"``, and large integers (generator state, seeds) as
decimal strings.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, ModelFormatError
from .model_file import ArchiveKind, read_archive, write_archive

CHECKPOINT_FORMAT = "mlpnet-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_FIELD = "checkpoint"
CHECKPOINT_KIND = ArchiveKind(CHECKPOINT_FORMAT, CHECKPOINT_VERSION, "checkpoint file", (CHECKPOINT_FIELD,))

NON_FINITE_NAMES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

# NumPy bit generators whose state is two 128-bit integers and a buffered
# 32-bit value; numpy.random.default_rng, and so every Network, uses PCG64.
SUPPORTED_BIT_GENERATORS = ("PCG64", "PCG64DXSM")
_DECIMAL = re.compile(r"-?[0-9]{1,60}")


@dataclass
class CheckpointFile:
    """The contents of a checkpoint file, before the training objects are rebuilt.

    Attributes
    ----------
    network : Network
        The network with the saved weights and biases.
    checkpoint : dict
        The ``checkpoint`` JSON object, not yet checked field by field.
    arrays : dict of str to ndarray
        The arrays besides the weights and biases (optimizer state and more).
    metadata : dict
        The caller's free-form metadata.
    format_version : int
    """

    network: Any
    checkpoint: dict[str, Any]
    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any]
    format_version: int


def save_checkpoint_file(
    path: str | os.PathLike[str],
    net: Any,
    checkpoint: dict[str, Any],
    arrays: dict[str, np.ndarray] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write a checkpoint atomically; NaN or infinite weights or state arrays raise instead.

    Raises
    ------
    InvalidParameterError
        If a weight, bias or state array is NaN or infinite, or the
        checkpoint object or metadata is not plain JSON.
    """
    write_archive(path, net, CHECKPOINT_KIND, metadata, arrays, {CHECKPOINT_FIELD: checkpoint})


def load_checkpoint_file(path: str | os.PathLike[str]) -> CheckpointFile:
    """Read a checkpoint file with every check of a model file.

    Raises
    ------
    ModelFormatError
        If the file is missing, damaged, not a checkpoint, or of a newer format version.
    """
    header, network, arrays = read_archive(path, CHECKPOINT_KIND)
    return CheckpointFile(network, header[CHECKPOINT_FIELD], arrays, header["metadata"], header["format_version"])


# -- JSON values -------------------------------------------------------------------


def float_to_json(value: float | None) -> float | str | None:
    """Return a float for JSON: finite values as numbers, NaN and infinity as "nan", "inf", "-inf"."""
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def int_to_json(value: int | None) -> str | None:
    """Return an integer of any size as a decimal string, which every JSON reader keeps exactly."""
    return None if value is None else str(int(value))


def rng_state_to_json(generator: np.random.Generator) -> dict[str, Any]:
    """Return the state of ``generator``'s bit generator with its 128-bit integers as decimal strings.

    Raises
    ------
    InvalidParameterError
        If the bit generator is not one of :data:`SUPPORTED_BIT_GENERATORS`.
    """
    state = generator.bit_generator.state
    name = state.get("bit_generator")
    if name not in SUPPORTED_BIT_GENERATORS:
        raise InvalidParameterError(
            f"cannot checkpoint the network's random generator: its bit generator is {name!r}, but "
            f"checkpoints store only {', '.join(SUPPORTED_BIT_GENERATORS)}; use numpy.random.default_rng"
        )
    return {
        "bit_generator": name,
        "state": int_to_json(state["state"]["state"]),
        "inc": int_to_json(state["state"]["inc"]),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


class FieldReader:
    """Typed access to the ``checkpoint`` object, raising :class:`ModelFormatError` on a bad field.

    Every message names the file and the field path, such as
    ``checkpoint.optimizer.step_count``.
    """

    def __init__(self, path: str | os.PathLike[str], values: dict[str, Any], prefix: str = CHECKPOINT_FIELD):
        self.path = os.fspath(path)
        self.values = values
        self.prefix = prefix

    def fail(self, problem: str) -> ModelFormatError:
        return ModelFormatError(f"cannot load checkpoint file {self.path!r}: {problem}")

    def invalid(self, key: str, expected: str) -> ModelFormatError:
        value = self.values.get(key, "<missing>")
        text = repr(value)
        if len(text) > 80:
            text = text[:77] + "..."
        return self.fail(f"the field {self.prefix}.{key} must be {expected}, got {text}")

    def child(self, key: str, optional: bool = False) -> FieldReader | None:
        """Return a reader of the JSON object under ``key``; None when optional and null."""
        value = self.values.get(key)
        if value is None and optional and key in self.values:
            return None
        if not isinstance(value, dict):
            raise self.invalid(key, "a JSON object" + (" or null" if optional else ""))
        return FieldReader(self.path, value, f"{self.prefix}.{key}")

    def integer(self, key: str, minimum: int | None = 0, optional: bool = False) -> int | None:
        value = self.values.get(key)
        if value is None and optional and key in self.values:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
            bound = f" >= {minimum}" if minimum is not None else ""
            raise self.invalid(key, f"an integer{bound}" + (" or null" if optional else ""))
        return value

    def big_integer(self, key: str, optional: bool = False) -> int | None:
        """Read an integer written as a decimal string by :func:`int_to_json`."""
        value = self.values.get(key)
        if value is None and optional and key in self.values:
            return None
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            raise self.invalid(key, "a decimal integer in a string" + (" or null" if optional else ""))
        return int(value)

    def number(self, key: str, optional: bool = False) -> float | None:
        """Read a float written by :func:`float_to_json`."""
        value = self.values.get(key)
        if value is None and optional and key in self.values:
            return None
        return self.as_number(key, value, optional)

    def as_number(self, key: str, value: Any, optional: bool = False) -> float:
        if isinstance(value, str) and value in NON_FINITE_NAMES:
            return NON_FINITE_NAMES[value]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.invalid(key, "a number, 'nan', 'inf' or '-inf'" + (" or null" if optional else ""))
        return float(value)

    def numbers(self, key: str) -> list[float]:
        value = self.values.get(key)
        if not isinstance(value, list):
            raise self.invalid(key, "a list of numbers")
        return [self.as_number(key, item) for item in value]

    def integers(self, key: str) -> list[int]:
        value = self.values.get(key)
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value):
            raise self.invalid(key, "a list of integers >= 0")
        return list(value)

    def text(self, key: str) -> str:
        value = self.values.get(key)
        if not isinstance(value, str):
            raise self.invalid(key, "a string")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.values.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.invalid(key, "a list of strings")
        return list(value)

    def boolean(self, key: str) -> bool:
        value = self.values.get(key)
        if not isinstance(value, bool):
            raise self.invalid(key, "true or false")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.values.get(key)
        if not isinstance(value, dict):
            raise self.invalid(key, "a JSON object")
        return value

    def rng_state(self, key: str) -> dict[str, Any]:
        """Read a state written by :func:`rng_state_to_json` as NumPy's ``bit_generator.state`` dict."""
        fields = self.child(key)
        name = fields.text("bit_generator")
        if name not in SUPPORTED_BIT_GENERATORS:
            raise fields.invalid("bit_generator", " or ".join(map(repr, SUPPORTED_BIT_GENERATORS)))
        state, increment = fields.big_integer("state"), fields.big_integer("inc")
        for field, value in (("state", state), ("inc", increment)):
            if not 0 <= value < 2**128:
                raise fields.invalid(field, "an unsigned 128-bit integer")
        has_uint32 = fields.integer("has_uint32")
        if has_uint32 not in (0, 1):
            raise fields.invalid("has_uint32", "0 or 1")
        uinteger = fields.integer("uinteger")
        if uinteger >= 2**32:
            raise fields.invalid("uinteger", "an unsigned 32-bit integer")
        return {
            "bit_generator": name,
            "state": {"state": state, "inc": increment},
            "has_uint32": has_uint32,
            "uinteger": uinteger,
        }
