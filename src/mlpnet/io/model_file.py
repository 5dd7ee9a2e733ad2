"""Model files: a network's weights and biases plus JSON metadata in one ``.npz`` archive.

The layout is documented in docs/model-format.md.  Loading never unpickles:
every entry is read with NumPy's ``.npy`` header functions after checking the
declared shape and dtype, and every problem raises :class:`ModelFormatError`.

Training checkpoints (:mod:`mlpnet.io.checkpoint_file`) use the same archive
layout with another ``format`` name, so :func:`write_archive` and
:func:`read_archive` serve both, and an :class:`ArchiveKind` names the expected kind.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from ..activations import get_activation
from ..errors import InvalidParameterError, MlpnetError, ModelFormatError
from .atomic import atomic_write

logger = logging.getLogger(__name__)

FORMAT_NAME = "mlpnet-model"
FORMAT_VERSION = 1

# Limits checked before anything is allocated.  A network of this size would
# not fit the use of this library; a declared size above them means a damaged
# or hostile file.
MAX_ARRAY_ELEMENTS = 2**28
MAX_METADATA_BYTES = 16 * 2**20

METADATA_ENTRY = "metadata"
_NPY_SUFFIX = ".npy"
_EXTRA_ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats
_REQUIRED_FIELDS = {
    "format": str,
    "format_version": int,
    "mlpnet_version": str,
    "layer_sizes": list,
    "activations": list,
    "dtype": str,
    "arrays": dict,
    "metadata": dict,
}
# Low-level exceptions that a damaged file can raise while it is read.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    OverflowError,
)


@dataclass(frozen=True)
class ArchiveKind:
    """One kind of mlpnet archive: the ``format`` name it declares and how messages call it.

    Attributes
    ----------
    format_name : str
        The value of the metadata field ``format``.
    format_version : int
        The newest format version this mlpnet reads and writes.
    noun : str
        The name of the file kind in error messages, such as "model file".
    object_fields : tuple of str
        Top-level metadata fields, besides the common ones, that must be JSON objects.
    """

    format_name: str
    format_version: int
    noun: str
    object_fields: tuple[str, ...] = ()


MODEL_KIND = ArchiveKind(FORMAT_NAME, FORMAT_VERSION, "model file")

# Hints for a user who passes one kind of mlpnet archive where another is expected.
_OTHER_KIND_HINTS = {
    "mlpnet-checkpoint": (
        "it is a training checkpoint, not a model; resume training from it with "
        "fit(..., resume=PATH) or 'mlpnet train ... --resume PATH'"
    ),
    FORMAT_NAME: (
        "it is a model file, not a training checkpoint; checkpoints are written by "
        "fit(..., checkpoint=PATH) and 'mlpnet train ... --checkpoint PATH'"
    ),
}


@dataclass(frozen=True)
class _Source:
    """The file being read and the kind of archive it must be, for checks and messages."""

    path: str
    kind: ArchiveKind


@dataclass
class ModelFile:
    """The contents of a model file.

    Attributes
    ----------
    network : Network
    metadata : dict
        The caller's free-form metadata given to :func:`save_network`.
    arrays : dict of str to ndarray
        The extra arrays given to :func:`save_network` (not the weights and biases).
    format_version : int
    """

    network: Any
    metadata: dict[str, Any]
    arrays: dict[str, np.ndarray]
    format_version: int


# -- saving -----------------------------------------------------------------


def weight_name(layer: int) -> str:
    return f"weights_{layer}"


def bias_name(layer: int) -> str:
    return f"biases_{layer}"


ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""The date written on every zip entry, so equal models give byte-identical files."""


def write_npz(handle: IO[bytes], entries: dict[str, np.ndarray]) -> None:
    """Write arrays as an uncompressed ``.npz`` that ``numpy.load`` reads, with fixed entry dates.

    ``numpy.savez`` stamps each entry with the current time, so saving the
    same model twice would give different bytes.
    """
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in entries.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=ZIP_TIMESTAMP)
            with archive.open(info, mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def save_network(
    path: str | os.PathLike[str],
    net: Any,
    metadata: dict[str, Any] | None = None,
    arrays: dict[str, np.ndarray] | None = None,
) -> None:
    """Write a network, extra arrays and metadata to a model file atomically.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file to create or replace.  A file already there is
        replaced only once the new one is completely written.
    net : Network
    metadata : dict, optional
        JSON-serializable facts to keep with the model (loss, feature names,
        class labels, training settings); returned by :func:`load_model_file`.
    arrays : dict of str to ndarray, optional
        Extra numeric arrays, for example ``input_mean`` and ``input_scale``.

    Raises
    ------
    InvalidParameterError
        If a weight or extra array is NaN or infinite, an extra array has a
        reserved name or a non-numeric dtype, or the metadata is not JSON.
    """
    write_archive(path, net, MODEL_KIND, metadata, arrays)
    logger.info("saved model %s (layer sizes %s)", os.fspath(path), net.layer_sizes)


def write_archive(
    path: str | os.PathLike[str],
    net: Any,
    kind: ArchiveKind,
    metadata: dict[str, Any] | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    fields: dict[str, Any] | None = None,
) -> None:
    """Write a network, extra arrays, metadata and ``kind``'s extra header fields atomically.

    ``fields`` supplies the JSON objects named in ``kind.object_fields``; the
    rest is as in :func:`save_network`.  Nothing is written when a check fails.
    """
    path = os.fspath(path)
    entries = _network_arrays(net)
    entries.update(_check_extra_arrays(arrays or {}, entries))
    header = {
        "format": kind.format_name,
        "format_version": kind.format_version,
        "mlpnet_version": _mlpnet_version(),
        "layer_sizes": list(net.layer_sizes),
        "activations": list(net.activations),
        "dtype": net.dtype.name,
        "arrays": {name: {"shape": list(a.shape), "dtype": a.dtype.name} for name, a in entries.items()},
        "metadata": {} if metadata is None else metadata,
    }
    if not isinstance(header["metadata"], dict):
        raise InvalidParameterError(f"metadata must be a dict, got {type(metadata).__name__}")
    for name in kind.object_fields:
        value = (fields or {}).get(name)
        if not isinstance(value, dict):
            raise InvalidParameterError(f"a {kind.noun} needs a dict {name!r}, got {type(value).__name__}")
        header[name] = value
    try:
        text = json.dumps(header, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"metadata must contain only JSON values (dict, list, str, int, finite float, bool, None): {exc}"
        ) from exc
    entries[METADATA_ENTRY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    atomic_write(path, lambda handle: write_npz(handle, entries))


def _network_arrays(net: Any) -> dict[str, np.ndarray]:
    entries: dict[str, np.ndarray] = {}
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        for name, value in ((weight_name(layer), W), (bias_name(layer), b)):
            bad = np.argwhere(~np.isfinite(value))
            if bad.size:
                raise InvalidParameterError(
                    f"cannot save the network: {name} has a NaN or infinite entry at index "
                    f"{tuple(int(i) for i in bad[0])}; a model file never contains non-finite weights, "
                    f"so retrain (for example with a smaller learning rate) before saving"
                )
            entries[name] = np.ascontiguousarray(value)
    return entries


def _check_extra_arrays(arrays: dict[str, Any], reserved: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidParameterError(f"extra array names must be identifiers such as 'input_mean', got {name!r}")
        if name in reserved or name == METADATA_ENTRY or name.startswith(("weights_", "biases_")):
            raise InvalidParameterError(
                f"extra array name {name!r} is reserved for the network; choose another name"
            )
        array = np.ascontiguousarray(value)
        if array.dtype.kind not in _EXTRA_ARRAY_KINDS:
            raise InvalidParameterError(
                f"extra array {name!r} has dtype {array.dtype}; only bool, integer and float arrays can be saved"
            )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise InvalidParameterError(f"extra array {name!r} contains NaN or infinity; it cannot be saved")
        checked[name] = array
    return checked


def _mlpnet_version() -> str:
    from .. import __version__

    return __version__


# -- loading ----------------------------------------------------------------


def load_network(path: str | os.PathLike[str]) -> Any:
    """Read the network from a model file written by :func:`save_network`.

    Raises
    ------
    ModelFormatError
        If the file is missing, damaged, not an mlpnet model, or of a newer format version.
    """
    return load_model_file(path).network


def load_model_file(path: str | os.PathLike[str]) -> ModelFile:
    """Read and check a model file.

    The zip directory is checked first, then the JSON metadata, then each
    array's ``.npy`` header against the declared shape and dtype before its
    data is read, and finally the data for NaN and infinity.  Nothing is
    unpickled.

    Returns
    -------
    ModelFile

    Raises
    ------
    ModelFormatError
        For every kind of damaged, incomplete or unsupported file; the message
        names the file and the problem, and the low-level error is chained.
    """
    header, network, extras = read_archive(path, MODEL_KIND)
    return ModelFile(network, header["metadata"], extras, header["format_version"])


def read_archive(path: str | os.PathLike[str], kind: ArchiveKind) -> tuple[dict[str, Any], Any, dict[str, np.ndarray]]:
    """Read and check an archive of ``kind``; return its header, its network and its extra arrays.

    Raises
    ------
    ModelFormatError
        As :func:`load_model_file`, with ``kind.noun`` in the message.
    """
    source = _Source(os.fspath(path), kind)
    _check_is_file(source)
    try:
        with zipfile.ZipFile(source.path) as archive:
            members = _check_members(source, archive)
            _check_has_metadata(source, members)
            _check_storage(source, members)
            header = _read_metadata(source, archive, members)
            layer_sizes, activations, dtype = _check_header(source, header)
            declared = _check_declared_arrays(source, header, layer_sizes, dtype, set(members) - {METADATA_ENTRY})
            arrays = {
                name: _read_array(source, archive, members[name], name, spec, layer_sizes)
                for name, spec in declared.items()
            }
    except ModelFormatError:
        raise
    except zipfile.BadZipFile as exc:
        raise _fail(source, f"the file is not a valid zip archive: it is truncated, damaged or not a {kind.noun} ({exc})") from exc
    except zlib.error as exc:
        raise _fail(source, f"the file is damaged: a compressed entry cannot be decompressed ({exc})") from exc
    except _READ_ERRORS as exc:
        raise _fail(source, f"the file is damaged and could not be read ({type(exc).__name__}: {exc})") from exc

    network = _build_network(source, layer_sizes, activations, dtype, arrays)
    extras = {name: value for name, value in arrays.items() if not name.startswith(("weights_", "biases_"))}
    return header, network, extras


def _fail(source: _Source, problem: str) -> ModelFormatError:
    """Build the error for ``source``; callers raise it, chaining the low-level cause."""
    return ModelFormatError(f"cannot load {source.kind.noun} {source.path!r}: {problem}")


def _check_is_file(source: _Source) -> None:
    if os.path.isdir(source.path):
        raise _fail(source, f"it is a folder, not a {source.kind.noun}")
    if not os.path.exists(source.path):
        raise _fail(source, "file not found")
    if os.path.getsize(source.path) == 0:
        raise _fail(source, "the file is empty (0 bytes); it was probably cut short while being written")


def _check_members(source: _Source, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Map entry names (without ".npy") to zip members, checking names and declared sizes."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if not info.filename.endswith(_NPY_SUFFIX):
            raise _fail(source, f"unexpected entry {info.filename!r}; a {source.kind.noun} contains only .npy arrays")
        name = info.filename[: -len(_NPY_SUFFIX)]
        if name in members:
            raise _fail(source, f"the entry {info.filename!r} appears twice")
        limit = MAX_METADATA_BYTES if name == METADATA_ENTRY else MAX_ARRAY_ELEMENTS * 16
        if info.file_size > limit + 4096:
            raise _fail(source, f"entry {name!r} declares {info.file_size} bytes, more than the limit of {limit}")
        members[name] = info
    return members


def _check_storage(source: _Source, members: dict[str, zipfile.ZipInfo]) -> None:
    """Check that every entry is stored uncompressed and lies inside the file.

    ``numpy.savez`` stores entries uncompressed.  Requiring that bounds every
    later read by the size of the file on disk, so a damaged or hostile zip
    directory cannot make loading allocate more memory than the file occupies.
    """
    file_size = os.path.getsize(source.path)
    for name, info in members.items():
        if info.compress_type != zipfile.ZIP_STORED:
            raise _fail(
                source,
                f"entry {name!r} is compressed (zip method {info.compress_type}); mlpnet writes and reads "
                f"only uncompressed entries, as numpy.savez stores them",
            )
        if info.compress_size != info.file_size or info.header_offset + info.compress_size > file_size:
            raise _fail(
                source,
                f"entry {name!r} declares {info.file_size} bytes, which do not fit in the file of "
                f"{file_size} bytes; the file is truncated or damaged",
            )


def _check_has_metadata(source: _Source, members: dict[str, zipfile.ZipInfo]) -> None:
    if METADATA_ENTRY not in members:
        found = ", ".join(sorted(members)) or "no arrays"
        raise _fail(
            source,
            f"not an mlpnet {source.kind.noun}: it has no {METADATA_ENTRY!r} entry (it contains {found})",
        )


def _read_npy_header(handle: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(handle)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(handle)
    raise ValueError(f"unsupported .npy format version {version}")


def _read_member_data(source: _Source, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                      expected_shape: tuple[int, ...] | None, expected_dtype: np.dtype | None,
                      context: str = "") -> np.ndarray:
    """Read one .npy member, checking its header before its data and its CRC-32 after.

    The zip module compares the CRC-32 checksum once the entry has been read
    to its end, which the final one-byte read guarantees, so a flipped byte
    anywhere in the entry raises here.
    """
    try:
        with archive.open(info) as handle:
            try:
                shape, fortran_order, dtype = _read_npy_header(handle)
            except ValueError as exc:
                raise _fail(source, f"the header of array {name!r} is damaged ({exc})") from exc
            if dtype.hasobject:
                raise _fail(source, f"array {name!r} contains Python objects, which mlpnet never loads because that needs unpickling")
            if expected_dtype is not None and dtype != expected_dtype:
                raise _fail(source, f"array {name!r} has dtype {dtype.name}, but the metadata declares {expected_dtype.name}")
            if expected_shape is not None and tuple(shape) != expected_shape:
                raise _fail(
                    source, f"array {name!r} has shape {tuple(shape)}, but the metadata declares {expected_shape}{context}"
                )
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            n_bytes = count * dtype.itemsize
            if count > MAX_ARRAY_ELEMENTS or n_bytes > info.file_size:
                raise _fail(
                    source,
                    f"array {name!r} declares shape {tuple(shape)} ({count} elements), more than the entry's "
                    f"{info.file_size} bytes can hold or the limit of {MAX_ARRAY_ELEMENTS} elements",
                )
            data = handle.read(n_bytes)
            if len(data) != n_bytes:
                raise _fail(source, f"array {name!r} is truncated: {len(data)} of {n_bytes} bytes")
            if handle.read(1):
                raise _fail(source, f"array {name!r} has more data than its shape {tuple(shape)} declares")
    except zipfile.BadZipFile as exc:
        raise _fail(source, f"the entry {info.filename!r} is damaged: {exc}") from exc
    order = "F" if fortran_order else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()


def _read_metadata(source: _Source, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    raw = _read_member_data(source, archive, members[METADATA_ENTRY], METADATA_ENTRY, None, np.dtype(np.uint8))
    if raw.ndim != 1:
        raise _fail(source, f"the metadata entry must be 1-D bytes, got shape {raw.shape}")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(source, f"the metadata is not valid UTF-8 JSON ({exc})") from exc
    except RecursionError as exc:
        raise _fail(source, "the metadata JSON is nested too deeply to be an mlpnet header") from exc
    if not isinstance(header, dict):
        raise _fail(source, f"the metadata must be a JSON object, got {type(header).__name__}")
    return header


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in the metadata")


def _check_header(source: _Source, header: dict[str, Any]) -> tuple[list[int], list[str], np.dtype]:
    kind = source.kind
    if header.get("format") != kind.format_name:
        problem = (
            f"not an mlpnet {kind.noun}: the metadata 'format' is {header.get('format')!r}, "
            f"expected {kind.format_name!r}"
        )
        hint = _OTHER_KIND_HINTS.get(header.get("format")) if isinstance(header.get("format"), str) else None
        raise _fail(source, problem + (f"; {hint}" if hint else ""))
    version = header.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > kind.format_version:
        raise _fail(
            source,
            f"the file has format version {version}, but this mlpnet ({_mlpnet_version()}) reads "
            f"format version {kind.format_version} and older; upgrade mlpnet to load it",
        )
    required = {**_REQUIRED_FIELDS, **{name: dict for name in kind.object_fields}}
    for field, field_type in required.items():
        if field not in header:
            raise _fail(source, f"the metadata has no {field!r} field")
        value = header[field]
        if not isinstance(value, field_type) or (field_type is int and isinstance(value, bool)):
            raise _fail(source, f"the metadata field {field!r} must be a JSON {_json_type(field_type)}, "
                                f"got {value!r}")
    if version < 1:
        raise _fail(source, f"the metadata 'format_version' must be 1 or more, got {version}")

    layer_sizes = header["layer_sizes"]
    if len(layer_sizes) < 2 or any(
        isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_ARRAY_ELEMENTS
        for size in layer_sizes
    ):
        raise _fail(source, f"'layer_sizes' must list at least two positive integers, got {layer_sizes!r}")

    activations = header["activations"]
    if len(activations) != len(layer_sizes) - 1 or not all(isinstance(name, str) for name in activations):
        raise _fail(source, f"'activations' must list {len(layer_sizes) - 1} names (one per layer), "
                            f"got {activations!r}")
    for name in activations:
        try:
            get_activation(name)
        except InvalidParameterError as exc:
            raise _fail(source, f"unknown activation {name!r} (valid names: {_known_activations()})") from exc

    if header["dtype"] not in ("float32", "float64"):
        raise _fail(source, f"'dtype' must be 'float32' or 'float64', got {header['dtype']!r}")
    return layer_sizes, activations, np.dtype(header["dtype"])


def _json_type(kind: type) -> str:
    return {str: "string", int: "integer", list: "array", dict: "object"}[kind]


def _known_activations() -> str:
    from ..activations import ACTIVATIONS

    return ", ".join(sorted(ACTIVATIONS))


def _check_declared_arrays(
    source: _Source, header: dict[str, Any], layer_sizes: list[int], dtype: np.dtype, present: set[str]
) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Check the 'arrays' table against the layer sizes and the archive's entries."""
    declared: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    for name, spec in header["arrays"].items():
        shape = spec.get("shape") if isinstance(spec, dict) else None
        kind = spec.get("dtype") if isinstance(spec, dict) else None
        if (
            not isinstance(shape, list)
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in shape)
            or not isinstance(kind, str)
        ):
            raise _fail(source, f"'arrays' entry {name!r} must be {{\"shape\": [int, ...], \"dtype\": str}}, got {spec!r}")
        try:
            array_dtype = np.dtype(kind)
        except TypeError as exc:
            raise _fail(source, f"array {name!r} declares an unknown dtype {kind!r}") from exc
        if array_dtype.kind not in _EXTRA_ARRAY_KINDS:
            raise _fail(source, f"array {name!r} declares dtype {kind!r}; only bool, integer and float arrays are allowed")
        count = 1
        for n in shape:
            count *= n
        if count > MAX_ARRAY_ELEMENTS:
            raise _fail(source, f"array {name!r} declares shape {tuple(shape)}, more than the limit of "
                                f"{MAX_ARRAY_ELEMENTS} elements")
        declared[name] = (tuple(shape), array_dtype)

    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        for name, shape in ((weight_name(layer), (n_out, n_in)), (bias_name(layer), (n_out,))):
            if name not in declared:
                raise _fail(source, f"the metadata does not declare the array {name!r}")
            if declared[name] != (shape, dtype):
                got_shape, got_dtype = declared[name]
                raise _fail(source, f"array {name!r} is declared with shape {got_shape} and dtype {got_dtype.name}, "
                                    f"but layer sizes {layer_sizes} and dtype {dtype.name} need shape {shape}")
    n_layers = len(layer_sizes) - 1
    for name in declared:
        for prefix in ("weights_", "biases_"):
            if name.startswith(prefix) and not (name[len(prefix):].isdigit() and int(name[len(prefix):]) < n_layers):
                raise _fail(source, f"array {name!r} does not belong to a network with {n_layers} layers")

    missing = sorted(set(declared) - present)
    if missing:
        raise _fail(source, f"missing array {missing[0]!r} (declared in the metadata but not in the file)")
    unknown = sorted(present - set(declared))
    if unknown:
        raise _fail(source, f"unknown array {unknown[0]!r} (in the file but not declared in the metadata)")
    return declared


def _read_array(source: _Source, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                spec: tuple[tuple[int, ...], np.dtype], layer_sizes: list[int]) -> np.ndarray:
    shape, dtype = spec
    context = f" for layer sizes {layer_sizes}" if name.startswith(("weights_", "biases_")) else ""
    array = _read_member_data(source, archive, info, name, shape, dtype, context)
    if dtype.kind == "f" and not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise _fail(source, f"array {name!r} has a non-finite value (NaN or infinity) at index {index}")
    return array


def _build_network(source: _Source, layer_sizes: list[int], activations: list[str], dtype: np.dtype,
                   arrays: dict[str, np.ndarray]) -> Any:
    from ..network import Network

    n_layers = len(layer_sizes) - 1
    try:
        return Network(
            layer_sizes,
            activation=activations[:-1],
            output_activation=activations[-1],
            dtype=dtype,
            weights=[arrays[weight_name(layer)] for layer in range(n_layers)],
            biases=[arrays[bias_name(layer)] for layer in range(n_layers)],
        )
    except MlpnetError as exc:
        raise _fail(source, f"the stored network is invalid: {exc}") from exc
